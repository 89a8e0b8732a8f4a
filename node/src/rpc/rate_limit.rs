//! Per-client request rate limit on the RPC: a token bucket per client IP address, `rpc.requests_per_sec`
//! tokens a second up to `rpc.requests_burst`. A client over its rate gets 429 `rate_limited` with a
//! Retry-After header, and costs the node nothing more than a map lookup.

use super::ApiError;
use crate::config::RpcConfig;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Clients whose buckets are tracked at once. When the map is full, buckets that have refilled (clients
/// that went quiet) are forgotten; if none has, a new client is refused until one does.
pub const CLIENTS_TRACKED_MAX: usize = 10_000;

pub struct RateLimiter {
    per_sec: f64,
    burst: f64,
    buckets: Mutex<HashMap<IpAddr, Bucket>>,
}

#[derive(Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

impl RateLimiter {
    pub fn new(config: &RpcConfig) -> RateLimiter {
        RateLimiter {
            per_sec: config.requests_per_sec as f64,
            burst: config.requests_burst as f64,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one token from `client`'s bucket, or says how long until one is there.
    fn take(&self, client: IpAddr, now: Instant) -> Result<(), Duration> {
        let mut buckets = self.buckets.lock().expect("rate limiter lock poisoned");
        if buckets.len() >= CLIENTS_TRACKED_MAX && !buckets.contains_key(&client) {
            buckets.retain(|_, b| self.refilled(*b, now) < self.burst);
            if buckets.len() >= CLIENTS_TRACKED_MAX {
                return Err(Duration::from_secs(1));
            }
        }
        let bucket = buckets.entry(client).or_insert(Bucket { tokens: self.burst, at: now });
        bucket.tokens = self.refilled(*bucket, now);
        bucket.at = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - bucket.tokens) / self.per_sec))
        }
    }

    fn refilled(&self, bucket: Bucket, now: Instant) -> f64 {
        let elapsed = now.saturating_duration_since(bucket.at).as_secs_f64();
        (bucket.tokens + elapsed * self.per_sec).min(self.burst)
    }
}

/// The middleware. Requests without a peer address (only in-process callers) share one bucket.
pub async fn limit(State(limiter): State<Arc<RateLimiter>>, request: Request, next: Next) -> Response {
    let client = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |ConnectInfo(addr)| addr.ip());
    match limiter.take(client, Instant::now()) {
        Ok(()) => next.run(request).await,
        Err(wait) => {
            let secs = wait.as_secs_f64().ceil().max(1.0) as u64;
            let message = format!(
                "more than {} requests per second from {client}; retry after {secs} s (rpc.requests_per_sec)",
                limiter.per_sec
            );
            let mut response = ApiError::new(StatusCode::TOO_MANY_REQUESTS, "rate_limited", message).into_response();
            response.headers_mut().insert(header::RETRY_AFTER, secs.into());
            response
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limiter(per_sec: u32, burst: u32) -> RateLimiter {
        RateLimiter::new(&RpcConfig { requests_per_sec: per_sec, requests_burst: burst, ..RpcConfig::default() })
    }

    #[test]
    fn a_burst_then_the_rate_per_client() {
        let l = limiter(10, 5);
        let (a, b) = (IpAddr::from([10, 0, 0, 1]), IpAddr::from([10, 0, 0, 2]));
        let t0 = Instant::now();
        for _ in 0..5 {
            assert!(l.take(a, t0).is_ok());
        }
        let wait = l.take(a, t0).unwrap_err();
        assert!(wait > Duration::from_millis(90) && wait <= Duration::from_millis(100), "{wait:?}");
        assert!(l.take(b, t0).is_ok(), "another client has its own bucket");
        assert!(l.take(a, t0 + Duration::from_millis(100)).is_ok(), "one token back after 1/10 s");
        assert!(l.take(a, t0 + Duration::from_millis(100)).is_err());
        for _ in 0..5 {
            assert!(l.take(a, t0 + Duration::from_secs(60)).is_ok(), "refills to the burst, no further");
        }
        assert!(l.take(a, t0 + Duration::from_secs(60)).is_err());
    }

    #[test]
    fn the_client_map_stays_bounded_and_forgets_quiet_clients_first() {
        let l = limiter(1, 2);
        let t0 = Instant::now();
        let client = |i: usize| IpAddr::from((i as u32 + 1).to_be_bytes());
        for i in 0..CLIENTS_TRACKED_MAX {
            assert!(l.take(client(i), t0).is_ok());
        }
        // Every tracked client is still below its burst: a newcomer must wait.
        assert!(l.take(client(CLIENTS_TRACKED_MAX), t0).is_err());
        assert_eq!(l.buckets.lock().unwrap().len(), CLIENTS_TRACKED_MAX);
        // A second later they have all refilled, so they are forgotten and the newcomer gets in.
        assert!(l.take(client(CLIENTS_TRACKED_MAX), t0 + Duration::from_secs(1)).is_ok());
        assert_eq!(l.buckets.lock().unwrap().len(), 1);
    }
}

//! JSON message in, borsh result out: the one path every entry point takes, in wasm and in the mock alike.

use crate::abi::{CallResult, EncodedResponse};
use crate::context::Context;
use crate::{Ctx, Host, QueryCtx, Response};
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::fmt::Display;

/// A mutating entry point as the mock host calls it: (host, context, message JSON) → borsh result.
pub type MutEntry = fn(&mut dyn Host, Context, &[u8]) -> Vec<u8>;
/// A query entry point as the mock host calls it.
pub type QueryEntry = fn(&dyn Host, Context, &[u8]) -> Vec<u8>;

/// A contract's entry points, built by [`crate::entry_points!`].
#[derive(Clone, Copy)]
pub struct ContractFns {
    pub instantiate: MutEntry,
    pub execute: MutEntry,
    pub query: QueryEntry,
    pub migrate: Option<MutEntry>,
}

/// Writing borsh into a `Vec` cannot fail; an empty result would reach the host as a bad result.
fn encode<T: borsh::BorshSerialize>(result: Result<T, String>) -> Vec<u8> {
    borsh::to_vec(&CallResult::from(result)).unwrap_or_default()
}

fn parse<M: DeserializeOwned>(msg: &[u8]) -> Result<M, String> {
    serde_json::from_slice(msg).map_err(|e| format!("invalid message: {e}"))
}

/// Runs instantiate, execute or migrate: parses the message, calls `f`, encodes its result.
pub fn run_mut<M, E, F>(host: &mut dyn Host, context: Context, msg: &[u8], f: F) -> Vec<u8>
where
    M: DeserializeOwned,
    E: Display,
    F: FnOnce(&mut Ctx, M) -> Result<Response, E>,
{
    let Some(info) = context.info else {
        return encode::<EncodedResponse>(Err("the host gave no caller info to a mutating call".into()));
    };
    let result = parse(msg).and_then(|m| {
        let mut ctx = Ctx { env: context.env, info, host };
        f(&mut ctx, m).map_err(|e| e.to_string())
    });
    encode(result.map(EncodedResponse::from))
}

/// Runs a query: parses the message, calls `f`, encodes its answer as JSON text.
pub fn run_query<M, T, E, F>(host: &dyn Host, context: Context, msg: &[u8], f: F) -> Vec<u8>
where
    M: DeserializeOwned,
    T: Serialize,
    E: Display,
    F: FnOnce(&QueryCtx, M) -> Result<T, E>,
{
    let result = parse(msg).and_then(|m| {
        let ctx = QueryCtx { env: context.env, host };
        f(&ctx, m).map_err(|e| e.to_string())
    });
    encode(
        result
            .and_then(|answer| serde_json::to_string(&answer).map_err(|e| format!("cannot serialize the answer: {e}"))),
    )
}

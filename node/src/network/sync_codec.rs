//! Wire codec of the block-sync protocol: a u32 length prefix, then borsh, both ways, with size limits.

use async_trait::async_trait;
use consort_sdk::encoding::{decode, encode};
use consort_sdk::{SyncRequest, SyncResponse};
use futures::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use std::io;

pub const SYNC_PROTOCOL: &str = "/consort/sync/1";
const SYNC_REQUEST_BYTES_MAX: usize = 1024;
/// Largest sync response accepted; a serving node stops adding blocks before reaching it.
pub const SYNC_RESPONSE_BYTES_MAX: usize = 32 * 1024 * 1024;

#[derive(Clone, Default)]
pub struct SyncCodec;

async fn read_framed<T: AsyncRead + Unpin + Send>(io: &mut T, limit: usize) -> io::Result<Vec<u8>> {
    let mut len = [0u8; 4];
    io.read_exact(&mut len).await?;
    let len = u32::from_be_bytes(len) as usize;
    if len > limit {
        return Err(io::Error::new(io::ErrorKind::InvalidData, format!("sync frame of {len} bytes over {limit}")));
    }
    let mut buf = vec![0u8; len];
    io.read_exact(&mut buf).await?;
    Ok(buf)
}

async fn write_framed<T: AsyncWrite + Unpin + Send>(io: &mut T, bytes: &[u8]) -> io::Result<()> {
    io.write_all(&(bytes.len() as u32).to_be_bytes()).await?;
    io.write_all(bytes).await?;
    io.close().await
}

fn invalid(e: impl std::fmt::Display) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, e.to_string())
}

#[async_trait]
impl libp2p::request_response::Codec for SyncCodec {
    type Protocol = libp2p::StreamProtocol;
    type Request = SyncRequest;
    type Response = SyncResponse;

    async fn read_request<T>(&mut self, _: &Self::Protocol, io: &mut T) -> io::Result<SyncRequest>
    where
        T: AsyncRead + Unpin + Send,
    {
        let bytes = read_framed(io, SYNC_REQUEST_BYTES_MAX).await?;
        decode(&bytes, SYNC_REQUEST_BYTES_MAX).map_err(invalid)
    }

    async fn read_response<T>(&mut self, _: &Self::Protocol, io: &mut T) -> io::Result<SyncResponse>
    where
        T: AsyncRead + Unpin + Send,
    {
        let bytes = read_framed(io, SYNC_RESPONSE_BYTES_MAX).await?;
        decode(&bytes, SYNC_RESPONSE_BYTES_MAX).map_err(invalid)
    }

    async fn write_request<T>(&mut self, _: &Self::Protocol, io: &mut T, req: SyncRequest) -> io::Result<()>
    where
        T: AsyncWrite + Unpin + Send,
    {
        write_framed(io, &encode(&req)).await
    }

    async fn write_response<T>(&mut self, _: &Self::Protocol, io: &mut T, res: SyncResponse) -> io::Result<()>
    where
        T: AsyncWrite + Unpin + Send,
    {
        write_framed(io, &encode(&res)).await
    }
}

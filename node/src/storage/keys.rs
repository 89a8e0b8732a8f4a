//! Keys of the `meta` column and height keys. Heights are big-endian so RocksDB iterates them in order.

pub const GENESIS_HASH: &[u8] = b"genesis_hash";
pub const HEAD: &[u8] = b"head";
const APP_HASH_PREFIX: &[u8] = b"app_hash/";

pub fn height(h: u64) -> [u8; 8] {
    h.to_be_bytes()
}

pub fn app_hash_at(h: u64) -> Vec<u8> {
    let mut k = APP_HASH_PREFIX.to_vec();
    k.extend_from_slice(&height(h));
    k
}

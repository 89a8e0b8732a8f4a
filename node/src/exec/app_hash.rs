use consort_sdk::encoding::encode;
use consort_sdk::{Hash, Receipt};

const APP_HASH_DOMAIN: &[u8] = b"consort/app/v1";

/// The app hash after a block: a commitment chained over every block's state writes, so two nodes agree
/// on it exactly when they agree on the whole history of state. (A Merkle tree with proofs replaces this
/// later; the chaining stays.) It also covers the receipts, so nodes that disagree on any outcome, event
/// or gas figure disagree on the app hash.
pub fn app_hash(
    prev: &Hash,
    height: u64,
    block_hash: &Hash,
    writes: &[(Vec<u8>, Option<Vec<u8>>)],
    receipts: &[Receipt],
) -> Hash {
    let mut hasher = AppHasher::new(prev, height, block_hash);
    for (key, value) in writes {
        hasher.write(key, value.as_deref());
    }
    hasher.finish(receipts)
}

/// [`app_hash`] fed one write at a time, in key order, for writes too many to hold at once (a genesis of
/// a million accounts).
pub struct AppHasher(blake3::Hasher);

impl AppHasher {
    pub fn new(prev: &Hash, height: u64, block_hash: &Hash) -> AppHasher {
        let mut h = blake3::Hasher::new();
        h.update(APP_HASH_DOMAIN);
        h.update(prev.as_bytes());
        h.update(&height.to_be_bytes());
        h.update(block_hash.as_bytes());
        AppHasher(h)
    }

    /// The next write; `None` deletes the key.
    pub fn write(&mut self, key: &[u8], value: Option<&[u8]>) {
        let h = &mut self.0;
        h.update(&(key.len() as u64).to_le_bytes());
        h.update(key);
        match value {
            Some(v) => {
                h.update(&[1]);
                h.update(&(v.len() as u64).to_le_bytes());
                h.update(v);
            }
            None => {
                h.update(&[0]);
            }
        }
    }

    pub fn finish(mut self, receipts: &[Receipt]) -> Hash {
        let h = &mut self.0;
        h.update(&(receipts.len() as u64).to_le_bytes());
        for receipt in receipts {
            let bytes = encode(receipt);
            h.update(&(bytes.len() as u64).to_le_bytes());
            h.update(&bytes);
        }
        Hash(*h.finalize().as_bytes())
    }
}

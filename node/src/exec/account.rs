use borsh::{BorshDeserialize, BorshSerialize};
use consort_sdk::Address;

/// State namespace of native accounts: `acct/` + 20-byte address → borsh(Account).
const ACCOUNT_PREFIX: &[u8] = b"acct/";

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct Account {
    pub balance: u128,
    /// Number of txs this account has had executed; the next tx must carry exactly this nonce.
    pub nonce: u64,
}

pub fn account_key(address: &Address) -> Vec<u8> {
    let mut k = ACCOUNT_PREFIX.to_vec();
    k.extend_from_slice(&address.0);
    k
}

/// Whether `key` is a native account's state key.
pub fn is_account_key(key: &[u8]) -> bool {
    key.len() == ACCOUNT_PREFIX.len() + 20 && key.starts_with(ACCOUNT_PREFIX)
}

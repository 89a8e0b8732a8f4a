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

/// The account and the nonce its next tx must carry, if `(key, value)` is a state write of a native
/// account's record.
pub fn written_nonce((key, value): &(Vec<u8>, Option<Vec<u8>>)) -> Option<(Address, u64)> {
    if !is_account_key(key) {
        return None;
    }
    let account: Account = consort_sdk::encoding::decode(value.as_deref()?, ACCOUNT_BYTES).ok()?;
    Some((Address(key[ACCOUNT_PREFIX.len()..].try_into().ok()?), account.nonce))
}

/// Encoded size of an `Account`: a u128 and a u64.
const ACCOUNT_BYTES: usize = 24;

#[cfg(test)]
mod tests {
    use super::*;
    use consort_sdk::encoding::encode;

    #[test]
    fn written_nonce_reads_account_records_only() {
        let who = Address([7; 20]);
        let record = Some(encode(&Account { balance: 5, nonce: 9 }));
        assert_eq!(written_nonce(&(account_key(&who), record.clone())), Some((who, 9)));
        assert_eq!(written_nonce(&(account_key(&who), None)), None, "a deleted record");
        assert_eq!(written_nonce(&(b"acct/short".to_vec(), record)), None, "not an account key");
        assert_eq!(written_nonce(&(account_key(&who), Some(vec![1, 2]))), None, "not an account record");
    }
}

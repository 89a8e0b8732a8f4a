use super::{u128_string, Address, Hash, PublicKey, Signature};
use borsh::{BorshDeserialize, BorshSerialize};
use serde::{Deserialize, Serialize};

/// Longest chain id accepted anywhere (genesis, txs, votes).
pub const CHAIN_ID_BYTES_MAX: usize = 64;

/// What a transaction does. New kinds are appended, never reordered: the borsh tag is the position.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Move `amount` of the native unit from the signer to `to`.
    Transfer {
        to: Address,
        #[serde(with = "u128_string")]
        amount: u128,
    },
}

/// The signed body of a transaction.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct Tx {
    pub chain_id: String,
    pub signer: PublicKey,
    /// Must equal the signer account's nonce when executed; each executed tx raises it by one.
    pub nonce: u64,
    pub gas_limit: u64,
    pub action: Action,
}

/// A transaction with its ed25519 signature over `b"consort/tx/v1" || borsh(tx)`.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct SignedTx {
    pub tx: Tx,
    pub signature: Signature,
}

impl Tx {
    pub fn sender(&self) -> Address {
        Address::from_public_key(&self.signer)
    }
}

impl SignedTx {
    /// The transaction id: blake3 of its canonical bytes, signature included.
    pub fn hash(&self) -> Hash {
        Hash::digest(&crate::encoding::encode(self))
    }

    pub fn sender(&self) -> Address {
        self.tx.sender()
    }
}

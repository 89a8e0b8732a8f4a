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
    /// Upload a wasm module; it is addressed by the blake3 hash of its bytes. Needs the deploy role.
    StoreCode {
        #[serde(with = "super::hex_bytes")]
        code: Vec<u8>,
    },
    /// Create a contract from stored code, running its `instantiate` entry point with `msg` (JSON text).
    /// `funds` move from the signer to the new contract first. Only `admin` may later migrate it.
    Instantiate {
        code_hash: Hash,
        admin: Option<Address>,
        label: String,
        msg: String,
        #[serde(with = "u128_string")]
        funds: u128,
    },
    /// Run a contract's `execute` entry point with `msg` (JSON text), sending it `funds` first.
    Execute {
        contract: Address,
        msg: String,
        #[serde(with = "u128_string")]
        funds: u128,
    },
    /// Admin only: switch the contract to `code_hash` and run the new code's `migrate` entry point.
    Migrate { contract: Address, code_hash: Hash, msg: String },
    /// Admin only: hand the admin role to another account, or give it up for good with `None`.
    UpdateAdmin { contract: Address, admin: Option<Address> },
    /// Membership and governance: proposals and approvals by member organisations.
    Govern(super::GovAction),
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

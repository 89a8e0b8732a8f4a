use super::{Address, Event, Hash};
use borsh::{BorshDeserialize, BorshSerialize};
use serde::{Deserialize, Serialize};

/// How a committed transaction ended.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum TxOutcome {
    Success,
    /// The tx was included but had no effect besides raising the nonce; `code` is machine-readable.
    Failed {
        code: String,
        message: String,
    },
}

/// The result of executing one transaction in a committed block.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct Receipt {
    pub tx_hash: Hash,
    pub height: u64,
    pub index: u32,
    #[serde(flatten)]
    pub outcome: TxOutcome,
    pub gas_used: u64,
    /// What happened, in order: native events (`instantiate`, …) and the contract's own.
    pub events: Vec<Event>,
    /// A contract call's JSON answer, if it gave one.
    pub data: Option<String>,
}

impl Receipt {
    pub fn is_success(&self) -> bool {
        matches!(self.outcome, TxOutcome::Success)
    }

    /// The address of the contract this tx instantiated, if it did.
    pub fn instantiated_contract(&self) -> Option<Address> {
        self.event("instantiate")?.get("contract")?.parse().ok()
    }

    /// The first event of `kind`.
    pub fn event(&self, kind: &str) -> Option<&Event> {
        self.events.iter().find(|e| e.kind == kind)
    }
}

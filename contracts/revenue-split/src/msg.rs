use consort_contract::agreement::AgreementQuery;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartyShare {
    pub address: String,
    pub share: u64,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct InstantiateMsg {
    pub title: String,
    pub parties: Vec<PartyShare>,
}

/// A change every current party must approve.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Change {
    /// New shares from now on.
    Terms { parties: Vec<PartyShare> },
    /// Pay everything out (remainders included) and accept no more payments.
    Close {},
}

impl Change {
    pub fn describe(&self) -> String {
        match self {
            Change::Terms { parties } => {
                let shares: Vec<String> = parties.iter().map(|p| format!("{}:{}", p.address, p.share)).collect();
                format!("terms {}", shares.join(","))
            }
            Change::Close {} => "close".into(),
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExecuteMsg {
    /// Pay in the funds sent with this message.
    Pay {},
    /// Withdraw what the sender is owed.
    Withdraw {},
    /// Send every party what it is owed.
    Distribute {},
    Propose {
        change: Change,
    },
    Approve {
        id: u64,
    },
    /// Hand the sender's whole position to a new address.
    TransferPosition {
        to: String,
    },
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QueryMsg {
    Terms {},
    Party { address: String },
    Totals {},
    Proposals {},
    Agreement(AgreementQuery),
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Config {
    pub title: String,
    pub closed: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Proposal {
    pub id: u64,
    pub change: Change,
    pub approvals: Vec<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TermsView {
    pub title: String,
    pub closed: bool,
    pub parties: Vec<PartyShare>,
    pub total_shares: u64,
}

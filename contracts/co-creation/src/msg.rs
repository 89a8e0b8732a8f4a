use consort_contract::agreement::AgreementQuery;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct InstantiateMsg {
    pub title: String,
    /// Royalty on reported sales of an approved idea, in basis points.
    pub royalty_bps: u64,
    /// Who weighs contributions and approves ideas; a majority decides.
    pub jury: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Weight {
    pub address: String,
    pub weight: u64,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExecuteMsg {
    /// A customer proposes an idea; they become its originator.
    Propose {
        title: String,
        summary: String,
    },
    /// Someone improves a proposed idea.
    Contribute {
        idea: u64,
        summary: String,
    },
    /// A jury member sets the contribution weights (originator and contributors); earlier approvals lapse.
    SetWeights {
        idea: u64,
        weights: Vec<Weight>,
    },
    /// A jury member approves the idea for sale with the current weights.
    Approve {
        idea: u64,
    },
    Reject {
        idea: u64,
    },
    /// The retailer reports sales of an approved idea and sends exactly the royalty due.
    ReportSales {
        idea: u64,
        #[serde(with = "consort_contract::u128_string")]
        sales: u128,
    },
    /// Withdraws what the sender is owed across all ideas.
    Withdraw {},
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QueryMsg {
    Program {},
    Idea { id: u64 },
    Ideas { after: Option<u64>, limit: Option<u32> },
    Owed { address: String },
    Agreement(AgreementQuery),
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Program {
    pub title: String,
    pub retailer: String,
    pub royalty_bps: u64,
    pub jury: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Proposed,
    Approved,
    Rejected,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contribution {
    pub contributor: String,
    pub summary: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Idea {
    pub id: u64,
    pub title: String,
    pub summary: String,
    pub originator: String,
    pub contributions: Vec<Contribution>,
    pub status: Status,
    pub weights: Vec<Weight>,
    pub approvals: Vec<String>,
    pub rejections: Vec<String>,
    #[serde(with = "consort_contract::u128_string")]
    pub sales: u128,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Totals {
    pub ideas: u64,
    pub parties: u64,
    #[serde(with = "consort_contract::u128_string")]
    pub royalties: u128,
    #[serde(with = "consort_contract::u128_string")]
    pub paid_out: u128,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct OwedView {
    pub address: String,
    #[serde(with = "consort_contract::u128_string")]
    pub owed: u128,
    #[serde(with = "consort_contract::u128_string")]
    pub withdrawn: u128,
    pub ideas: Vec<u64>,
}

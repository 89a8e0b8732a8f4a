use consort_contract::agreement::AgreementQuery;
use serde::{Deserialize, Serialize};

/// The brand's program terms.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstantiateMsg {
    /// The brand's name, for people.
    pub brand: String,
    /// Wearers' part of every dataset sale, in basis points (10,000 = all).
    pub wearer_share_bps: u64,
    /// Data categories on offer, for example steps, pace, route, heart_rate, glucose.
    pub categories: Vec<String>,
    /// Loyalty share units credited per activated pair.
    pub units_per_pair: u64,
    /// Extra units for syncing another wearable.
    pub sync_bonus_units: u64,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExecuteMsg {
    /// The sender activates a shoe and consents to `consent`; `device_key` may commit data for them.
    Activate {
        shoe_id: String,
        consent: Vec<String>,
        device_key: Option<String>,
    },
    /// Adds a wearable (heart monitor, glucose meter…) and consent to its categories.
    SyncWearable {
        device_id: String,
        kind: String,
        categories: Vec<String>,
        device_key: Option<String>,
    },
    GrantConsent {
        categories: Vec<String>,
    },
    /// Future sales exclude the wearer's data in these categories.
    RevokeConsent {
        categories: Vec<String>,
    },
    /// Commits a blake3 hash of off-chain data. By the wearer, or a device key the wearer authorised
    /// (then `wearer` names whom the data belongs to).
    Commit {
        wearer: Option<String>,
        category: String,
        hash: String,
        from_ms: u64,
        to_ms: u64,
        records: u64,
    },
    /// Buys the dataset of `category` committed within [from_ms, to_ms], paying the funds sent.
    Purchase {
        category: String,
        from_ms: u64,
        to_ms: u64,
    },
    /// The brand or a wearer withdraws what it earned.
    Withdraw {},
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QueryMsg {
    Program {},
    Wearer {
        address: String,
    },
    /// A wearer's commitments, oldest first, `limit` (at most 100) after sequence number `after`.
    Export {
        wearer: String,
        after: Option<u64>,
        limit: Option<u32>,
    },
    Purchase {
        id: u64,
    },
    Agreement(AgreementQuery),
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Program {
    pub brand: String,
    pub brand_address: String,
    pub wearer_share_bps: u64,
    pub categories: Vec<String>,
    pub units_per_pair: u64,
    pub sync_bonus_units: u64,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Wearer {
    pub consent: Vec<String>,
    pub shoes: Vec<String>,
    pub devices: Vec<String>,
    pub units: u64,
    pub records: u64,
    #[serde(with = "consort_contract::u128_string")]
    pub earned: u128,
    #[serde(with = "consort_contract::u128_string")]
    pub withdrawn: u128,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Device {
    pub wearer: String,
    pub kind: String,
    pub categories: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Commitment {
    pub seq: u64,
    pub wearer: String,
    pub category: String,
    pub hash: String,
    pub from_ms: u64,
    pub to_ms: u64,
    pub records: u64,
    pub committed_by: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Totals {
    pub pairs: u64,
    pub wearers: u64,
    pub units_granted: u64,
    pub purchases: u64,
    #[serde(with = "consort_contract::u128_string")]
    pub revenue: u128,
    #[serde(with = "consort_contract::u128_string")]
    pub brand_earned: u128,
    #[serde(with = "consort_contract::u128_string")]
    pub brand_withdrawn: u128,
    #[serde(with = "consort_contract::u128_string")]
    pub wearers_earned: u128,
    #[serde(with = "consort_contract::u128_string")]
    pub paid_out: u128,
    /// Wearers' rounding remainder, added to the wearers' part of the next sale.
    #[serde(with = "consort_contract::u128_string")]
    pub carry: u128,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Purchase {
    pub id: u64,
    pub buyer: String,
    pub category: String,
    pub from_ms: u64,
    pub to_ms: u64,
    #[serde(with = "consort_contract::u128_string")]
    pub amount: u128,
    pub records: u64,
    pub wearers: u64,
    /// blake3 hashes of the data sold, for fetching it off-chain.
    pub hashes: Vec<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct WearerView {
    pub address: String,
    #[serde(flatten)]
    pub wearer: Wearer,
    #[serde(with = "consort_contract::u128_string")]
    pub owed: u128,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ProgramView {
    pub program: Program,
    pub totals: Totals,
}

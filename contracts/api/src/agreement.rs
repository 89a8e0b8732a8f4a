//! The standard every agreement contract follows, so the node, the SDK and the CLI can list any party's
//! agreements and what it is owed, whatever the contract:
//! - it answers the query `{"agreement": {"party": "<address>"?}}` with an [`AgreementView`];
//! - it emits a [`PARTY_EVENT`] (see [`party_event`]) whenever an address becomes a party, which the node
//!   indexes as "agreements of this address".

use crate::Event;
use serde::{Deserialize, Serialize};

/// Event kind the node indexes: attributes `address` and `role`.
pub const PARTY_EVENT: &str = "agreement_party";
/// Most parties listed in one view; a party-specific query always shows that party.
pub const VIEW_PARTIES_MAX: usize = 100;

/// Tells the node (and anyone reading receipts) that `address` is a party with `role`.
pub fn party_event(address: &str, role: &str) -> Event {
    Event::new(PARTY_EVENT).attr("address", address).attr("role", role)
}

/// The standard query's message body: `{"agreement": {}}` or `{"agreement": {"party": "consort1…"}}`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgreementQuery {
    #[serde(default)]
    pub party: Option<String>,
}

/// Money in and out of an agreement, in the smallest native unit.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgreementTotals {
    #[serde(with = "crate::u128_string")]
    pub received: u128,
    #[serde(with = "crate::u128_string")]
    pub paid_out: u128,
    /// Held by the contract: owed to parties, or rounding remainder waiting for later payments.
    #[serde(with = "crate::u128_string")]
    pub held: u128,
}

/// One party's place in an agreement.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartyView {
    pub address: String,
    /// What the party is in this agreement: `party`, `brand`, `wearer`, `originator`, `jury`, …
    pub role: String,
    /// Its share in words, for example "3 of 10" or "25.00% of data revenue".
    pub share: String,
    #[serde(with = "crate::u128_string")]
    pub owed: u128,
    #[serde(with = "crate::u128_string")]
    pub withdrawn: u128,
}

/// The answer to `{"agreement": {…}}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgreementView {
    /// `revenue_split`, `shoe_data`, `co_creation`, …
    pub kind: String,
    pub title: String,
    /// `open`, `closed`, …
    pub status: String,
    /// The contract's terms, in its own shape.
    pub terms: serde_json::Value,
    pub totals: AgreementTotals,
    /// The parties (at most [`VIEW_PARTIES_MAX`]), or only the one asked about.
    pub parties: Vec<PartyView>,
    pub parties_total: u64,
}

//! JSON bodies of the node's HTTP API under `/v1`, shared by the node (server) and the client.

use crate::types::{u128_string, Address, BlockHeader, Commit, Hash, Receipt, SignedTx};
use serde::{Deserialize, Serialize};

/// `POST /v1/txs`: a signed tx as hex of its canonical (borsh) bytes.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SubmitTxRequest {
    pub tx: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SubmitTxResponse {
    pub hash: Hash,
}

/// `GET /v1/txs/{hash}`: a committed tx with its receipt.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TxResponse {
    pub hash: Hash,
    pub tx: SignedTx,
    pub receipt: Receipt,
}

/// `GET /v1/blocks/{height}` and `/v1/blocks/latest`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct BlockResponse {
    pub hash: Hash,
    pub header: BlockHeader,
    pub tx_hashes: Vec<Hash>,
    pub commit: Commit,
    /// App hash after executing this block.
    pub app_hash: Hash,
}

/// `GET /v1/accounts/{address}`. An address never seen has balance 0 and nonce 0.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct AccountResponse {
    pub address: Address,
    #[serde(with = "u128_string")]
    pub balance: u128,
    pub nonce: u64,
}

/// `GET /v1/status`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct StatusResponse {
    pub chain_id: String,
    pub height: u64,
    pub app_hash: Hash,
    pub latest_block_hash: Hash,
    pub latest_block_time_ms: u64,
    pub peers: u32,
    pub mempool_txs: u64,
    pub validator: Address,
}

/// Every 4xx/5xx answer: a stable machine-readable `code` and a sentence for people.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ErrorResponse {
    pub error: ErrorBody,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ErrorBody {
    pub code: String,
    pub message: String,
}

/// One event on `GET /v1/events` (server-sent events, event name `block`): a block was committed.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct BlockEvent {
    pub height: u64,
    pub hash: Hash,
    pub app_hash: Hash,
    pub tx_hashes: Vec<Hash>,
}

/// `GET /v1/codes/{hash}`: stored contract code.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CodeInfoResponse {
    pub code_hash: Hash,
    pub size: u32,
    pub creator: Address,
    pub stored_height: u64,
}

/// `GET /v1/contracts/{address}`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ContractInfoResponse {
    pub address: Address,
    pub code_hash: Hash,
    /// Who may migrate the contract; `None` once the admin role was given up.
    pub admin: Option<Address>,
    pub label: String,
    pub creator: Address,
    pub created_height: u64,
    #[serde(with = "u128_string")]
    pub balance: u128,
}

/// `POST /v1/contracts/{address}/query` with the query message as the body: the contract's answer.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct QueryResponse {
    pub data: serde_json::Value,
    pub gas_used: u64,
}

pub use consort_contract::agreement::{AgreementTotals, AgreementView, PartyView};

/// One agreement as `GET /v1/agreements…` lists it: the contract and its standard view (or why the
/// contract did not give one).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct AgreementEntry {
    pub contract: Address,
    pub label: String,
    /// The party's role, when listed for a party.
    pub role: Option<String>,
    pub view: Option<AgreementView>,
    pub error: Option<String>,
}

/// `GET /v1/agreements?party=ADDR&after=CONTRACT` (or without `party`: every agreement).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct AgreementsResponse {
    pub agreements: Vec<AgreementEntry>,
    /// Pass as `after` to get the next page; absent on the last page.
    pub next: Option<Address>,
}

/// A member organisation, as `GET /v1/members` shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberView {
    pub name: String,
    pub admins: Vec<Address>,
    pub peer_ids: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ValidatorView {
    pub member: String,
    pub public_key: crate::types::PublicKey,
    pub address: Address,
    pub power: u64,
}

/// `GET /v1/members`: who is in, and the rules for changing that.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct MembersResponse {
    pub members: Vec<MemberView>,
    /// The validator set for the next height.
    pub validators: Vec<ValidatorView>,
    /// Accounts holding the deploy role.
    pub deployers: Vec<Address>,
    pub threshold_num: u64,
    pub threshold_den: u64,
    /// Approvals a proposal needs with the current members.
    pub approvals_needed: u64,
    pub voting_period_blocks: u64,
    /// The governed limits, by name.
    pub limits: serde_json::Value,
}

/// A governance proposal: `GET /v1/gov/proposals[/{id}]`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProposalView {
    pub id: u64,
    pub kind: crate::types::ProposalKind,
    pub proposer: Address,
    pub created_height: u64,
    pub deadline_height: u64,
    pub approvals: Vec<String>,
    /// `open`, `expired` (open past its deadline), `executed` or `failed`.
    pub status: String,
    /// Why an executed-on-approval proposal could not be carried out.
    pub reason: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ProposalsResponse {
    /// Newest first.
    pub proposals: Vec<ProposalView>,
}

/// `POST /v1/txs/batch`: up to `TX_BATCH_MAX` signed txs, each hex of its canonical bytes.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SubmitBatchRequest {
    pub txs: Vec<String>,
}

/// Most txs in one batch submission.
pub const TX_BATCH_MAX: usize = 1_000;

/// One result per submitted tx, in order: its hash once in the mempool, or why it was refused.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SubmitBatchResponse {
    pub results: Vec<BatchResult>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BatchResult {
    Accepted { hash: Hash },
    Refused { code: String, message: String },
}

/// `GET /v1/evidence?from=HEIGHT`: validator faults this node saw and verified, in height order, at most
/// `EVIDENCE_PAGE_MAX` at a time.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct EvidenceResponse {
    pub evidence: Vec<crate::types::Evidence>,
}

/// Most evidence records in one answer; ask again `from` the last height for more.
pub const EVIDENCE_PAGE_MAX: usize = 100;

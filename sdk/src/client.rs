//! Async HTTP client for a consort node, and a `Wallet` that signs with a key and tracks its nonce.

use crate::api::*;
use crate::encoding::encode;
use crate::signing::Keypair;
use crate::types::{Action, Address, GovAction, Hash, ProposalKind, Receipt, SignedTx, Tx};
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::time::{Duration, Instant};

/// Gas limit a `Wallet` puts on native transfers.
pub const TRANSFER_GAS_LIMIT: u64 = 100_000;
/// Gas limit a `Wallet` puts on governance actions.
pub const GOVERN_GAS_LIMIT: u64 = 100_000;
/// Gas limit a `Wallet` puts on contract actions (storing a 512 KiB module needs about 10.5 million).
pub const CONTRACT_GAS_LIMIT: u64 = 50_000_000;
/// How long one HTTP request may take before the client gives up on it.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Poll interval while waiting for a tx to become final.
/// Times one request refused with 429 `rate_limited` is sent again, each after the server's Retry-After.
pub const RATE_LIMIT_RETRIES: u32 = 5;
/// Longest wait before such a retry, whatever Retry-After says.
pub const RETRY_WAIT_MAX: Duration = Duration::from_secs(10);
const FINALITY_POLL: Duration = Duration::from_millis(50);

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("cannot reach the node at {url}: {source}; is it running? (set --node or CONSORT_NODE)")]
    Unreachable { url: String, source: reqwest::Error },
    #[error("the node answered {status} {code}: {message}")]
    Api { status: u16, code: String, message: String },
    #[error("unexpected answer from the node: {0}")]
    Decode(String),
    #[error("contract message cannot be encoded as JSON: {0}")]
    InvalidMessage(String),
    #[error("tx {hash} was not final after {waited:?}; it may still commit: check with `consort tx {hash}`")]
    Timeout { hash: Hash, waited: Duration },
}

impl ClientError {
    /// The machine-readable code of an API error (`bad_nonce`, `not_found`, …), if this is one.
    pub fn code(&self) -> Option<&str> {
        match self {
            ClientError::Api { code, .. } => Some(code),
            _ => None,
        }
    }
}

#[derive(Clone, Debug)]
pub struct Client {
    base: String,
    http: reqwest::Client,
}

impl Client {
    /// `url` is the node's RPC root, for example `http://127.0.0.1:26657`.
    pub fn new(url: &str) -> Client {
        let http =
            reqwest::Client::builder().timeout(REQUEST_TIMEOUT).build().expect("a plain HTTP client always builds");
        Client { base: url.trim_end_matches('/').to_owned(), http }
    }

    pub fn url(&self) -> &str {
        &self.base
    }

    async fn answer<T: serde::de::DeserializeOwned>(&self, resp: reqwest::Response) -> Result<T, ClientError> {
        let status = resp.status();
        let body = resp.bytes().await.map_err(|source| ClientError::Unreachable { url: self.base.clone(), source })?;
        if status.is_success() {
            return serde_json::from_slice(&body).map_err(|e| ClientError::Decode(e.to_string()));
        }
        match serde_json::from_slice::<ErrorResponse>(&body) {
            Ok(e) => Err(ClientError::Api { status: status.as_u16(), code: e.error.code, message: e.error.message }),
            Err(_) => Err(ClientError::Api {
                status: status.as_u16(),
                code: "http_error".into(),
                message: String::from_utf8_lossy(&body[..body.len().min(300)]).into_owned(),
            }),
        }
    }

    /// Sends `request`; a 429 `rate_limited` answer is retried after the server's Retry-After (at most
    /// `RETRY_WAIT_MAX`), up to `RATE_LIMIT_RETRIES` times.
    async fn send(&self, mut request: reqwest::RequestBuilder) -> Result<reqwest::Response, ClientError> {
        let mut retries = 0;
        loop {
            let again = request.try_clone();
            let resp =
                request.send().await.map_err(|source| ClientError::Unreachable { url: self.base.clone(), source })?;
            match again {
                Some(next)
                    if resp.status() == reqwest::StatusCode::TOO_MANY_REQUESTS && retries < RATE_LIMIT_RETRIES =>
                {
                    let wait = resp
                        .headers()
                        .get(reqwest::header::RETRY_AFTER)
                        .and_then(|v| v.to_str().ok()?.parse().ok())
                        .map_or(Duration::from_secs(1), Duration::from_secs);
                    tokio::time::sleep(wait.min(RETRY_WAIT_MAX)).await;
                    request = next;
                    retries += 1;
                }
                _ => return Ok(resp),
            }
        }
    }

    async fn get<T: serde::de::DeserializeOwned>(&self, path: &str) -> Result<T, ClientError> {
        let url = format!("{}{path}", self.base);
        let resp = self.send(self.http.get(&url)).await?;
        self.answer(resp).await
    }

    pub async fn status(&self) -> Result<StatusResponse, ClientError> {
        self.get("/v1/status").await
    }

    pub async fn account(&self, address: &Address) -> Result<AccountResponse, ClientError> {
        self.get(&format!("/v1/accounts/{address}")).await
    }

    pub async fn balance(&self, address: &Address) -> Result<u128, ClientError> {
        Ok(self.account(address).await?.balance)
    }

    /// A block by height, or the latest with `None`.
    pub async fn block(&self, height: Option<u64>) -> Result<BlockResponse, ClientError> {
        match height {
            Some(h) => self.get(&format!("/v1/blocks/{h}")).await,
            None => self.get("/v1/blocks/latest").await,
        }
    }

    /// A committed tx and its receipt; `Ok(None)` while it is not (yet) committed.
    pub async fn tx(&self, hash: &Hash) -> Result<Option<TxResponse>, ClientError> {
        match self.get(&format!("/v1/txs/{hash}")).await {
            Err(ClientError::Api { status: 404, .. }) => Ok(None),
            other => other.map(Some),
        }
    }

    /// Stored contract code by hash.
    pub async fn code_info(&self, code_hash: &Hash) -> Result<CodeInfoResponse, ClientError> {
        self.get(&format!("/v1/codes/{code_hash}")).await
    }

    pub async fn contract_info(&self, contract: &Address) -> Result<ContractInfoResponse, ClientError> {
        self.get(&format!("/v1/contracts/{contract}")).await
    }

    /// Runs a read-only query; the answer as JSON, with the gas it used.
    pub async fn query_raw(&self, contract: &Address, msg: &impl Serialize) -> Result<QueryResponse, ClientError> {
        let resp = self.send(self.http.post(format!("{}/v1/contracts/{contract}/query", self.base)).json(msg)).await?;
        self.answer(resp).await
    }

    /// Runs a read-only query and decodes the answer.
    pub async fn query<T: DeserializeOwned>(&self, contract: &Address, msg: &impl Serialize) -> Result<T, ClientError> {
        let answer = self.query_raw(contract, msg).await?;
        serde_json::from_value(answer.data).map_err(|e| ClientError::Decode(format!("query answer: {e}")))
    }

    /// The agreements `party` is party to, with its position in each (first page; see `agreements_page`).
    pub async fn agreements_of(&self, party: &Address) -> Result<Vec<AgreementEntry>, ClientError> {
        Ok(self.agreements_page(Some(party), None).await?.agreements)
    }

    /// One page of agreements: of `party`, or all; continuing after the contract `after`.
    pub async fn agreements_page(
        &self,
        party: Option<&Address>,
        after: Option<&Address>,
    ) -> Result<AgreementsResponse, ClientError> {
        let mut params = Vec::new();
        if let Some(p) = party {
            params.push(format!("party={p}"));
        }
        if let Some(a) = after {
            params.push(format!("after={a}"));
        }
        self.get(&format!("/v1/agreements?{}", params.join("&"))).await
    }

    /// An agreement's standard view with every party (up to the view's cap).
    pub async fn agreement(&self, contract: &Address) -> Result<AgreementEntry, ClientError> {
        self.get(&format!("/v1/agreements/{contract}")).await
    }

    /// Member organisations, validators, deployers and the governance rules.
    pub async fn members(&self) -> Result<MembersResponse, ClientError> {
        self.get("/v1/members").await
    }

    /// Governance proposals, newest first.
    pub async fn proposals(&self) -> Result<Vec<ProposalView>, ClientError> {
        Ok(self.get::<ProposalsResponse>("/v1/gov/proposals").await?.proposals)
    }

    pub async fn proposal(&self, id: u64) -> Result<ProposalView, ClientError> {
        self.get(&format!("/v1/gov/proposals/{id}")).await
    }

    /// Validator faults (double votes, double proposals) this node saw, from height `from` on, in height
    /// order, at most `api::EVIDENCE_PAGE_MAX`.
    pub async fn evidence(&self, from: u64) -> Result<Vec<crate::types::Evidence>, ClientError> {
        Ok(self.get::<crate::api::EvidenceResponse>(&format!("/v1/evidence?from={from}")).await?.evidence)
    }

    /// Hands a signed tx to the node's mempool; returns its hash once accepted (not yet final).
    pub async fn submit(&self, tx: &SignedTx) -> Result<Hash, ClientError> {
        let body = SubmitTxRequest { tx: hex::encode(encode(tx)) };
        let resp = self.send(self.http.post(format!("{}/v1/txs", self.base)).json(&body)).await?;
        let accepted: SubmitTxResponse = self.answer(resp).await?;
        Ok(accepted.hash)
    }

    /// Hands up to `TX_BATCH_MAX` signed txs to the node at once; one result per tx, in order.
    pub async fn submit_batch(&self, txs: &[SignedTx]) -> Result<Vec<BatchResult>, ClientError> {
        let body = SubmitBatchRequest { txs: txs.iter().map(|t| hex::encode(encode(t))).collect() };
        let resp = self.send(self.http.post(format!("{}/v1/txs/batch", self.base)).json(&body)).await?;
        Ok(self.answer::<SubmitBatchResponse>(resp).await?.results)
    }

    /// Submits and waits until the tx is committed, returning its receipt (which may report failure).
    pub async fn submit_and_wait(&self, tx: &SignedTx, timeout: Duration) -> Result<Receipt, ClientError> {
        let hash = self.submit(tx).await?;
        self.wait_for(&hash, timeout).await
    }

    /// Waits until the tx `hash` is committed and returns its receipt.
    pub async fn wait_for(&self, hash: &Hash, timeout: Duration) -> Result<Receipt, ClientError> {
        let start = Instant::now();
        loop {
            if let Some(found) = self.tx(hash).await? {
                return Ok(found.receipt);
            }
            if start.elapsed() >= timeout {
                return Err(ClientError::Timeout { hash: *hash, waited: timeout });
            }
            tokio::time::sleep(FINALITY_POLL).await;
        }
    }
}

/// A signing key bound to a chain, with the next nonce to use.
#[derive(Debug)]
pub struct Wallet {
    key: Keypair,
    chain_id: String,
    next_nonce: u64,
}

impl Wallet {
    /// A wallet whose nonce is read from the node.
    pub async fn connect(key: Keypair, client: &Client) -> Result<Wallet, ClientError> {
        let chain_id = client.status().await?.chain_id;
        let next_nonce = client.account(&key.address()).await?.nonce;
        Ok(Wallet { key, chain_id, next_nonce })
    }

    /// A wallet for offline signing, with an explicit chain id and nonce.
    pub fn offline(key: Keypair, chain_id: &str, next_nonce: u64) -> Wallet {
        Wallet { key, chain_id: chain_id.to_owned(), next_nonce }
    }

    pub fn address(&self) -> Address {
        self.key.address()
    }

    pub fn next_nonce(&self) -> u64 {
        self.next_nonce
    }

    /// Re-reads the nonce from the node, for example after a tx of ours was refused.
    pub async fn resync(&mut self, client: &Client) -> Result<(), ClientError> {
        self.next_nonce = client.account(&self.address()).await?.nonce;
        Ok(())
    }

    /// Signs `action` with the next nonce and advances it.
    pub fn sign(&mut self, action: Action, gas_limit: u64) -> SignedTx {
        let tx = Tx {
            chain_id: self.chain_id.clone(),
            signer: self.key.public(),
            nonce: self.next_nonce,
            gas_limit,
            action,
        };
        self.next_nonce += 1;
        self.key.sign_tx(tx)
    }

    pub fn transfer(&mut self, to: Address, amount: u128) -> SignedTx {
        self.sign(Action::Transfer { to, amount }, TRANSFER_GAS_LIMIT)
    }

    /// Uploads a wasm module (needs the deploy role); its code hash is `Hash::digest(&code)`.
    pub fn store_code(&mut self, code: Vec<u8>) -> SignedTx {
        self.sign(Action::StoreCode { code }, CONTRACT_GAS_LIMIT)
    }

    /// Creates a contract; the receipt's `instantiate` event names its address.
    pub fn instantiate(
        &mut self,
        code_hash: Hash,
        admin: Option<Address>,
        label: &str,
        msg: &impl Serialize,
        funds: u128,
    ) -> Result<SignedTx, ClientError> {
        let msg = json(msg)?;
        Ok(self.sign(Action::Instantiate { code_hash, admin, label: label.into(), msg, funds }, CONTRACT_GAS_LIMIT))
    }

    pub fn execute(&mut self, contract: Address, msg: &impl Serialize, funds: u128) -> Result<SignedTx, ClientError> {
        let msg = json(msg)?;
        Ok(self.sign(Action::Execute { contract, msg, funds }, CONTRACT_GAS_LIMIT))
    }

    /// Admin only: moves the contract to `code_hash` and runs its `migrate` entry point.
    pub fn migrate(
        &mut self,
        contract: Address,
        code_hash: Hash,
        msg: &impl Serialize,
    ) -> Result<SignedTx, ClientError> {
        let msg = json(msg)?;
        Ok(self.sign(Action::Migrate { contract, code_hash, msg }, CONTRACT_GAS_LIMIT))
    }

    /// A member admin opens a governance proposal (its organisation approves it at once).
    pub fn propose(&mut self, kind: ProposalKind) -> SignedTx {
        self.sign(Action::Govern(GovAction::Propose { kind }), GOVERN_GAS_LIMIT)
    }

    /// A member admin approves proposal `id` for its organisation.
    pub fn approve(&mut self, id: u64) -> SignedTx {
        self.sign(Action::Govern(GovAction::Approve { id }), GOVERN_GAS_LIMIT)
    }

    /// Admin only: hands the admin role over, or gives it up with `None`.
    pub fn update_admin(&mut self, contract: Address, admin: Option<Address>) -> SignedTx {
        self.sign(Action::UpdateAdmin { contract, admin }, CONTRACT_GAS_LIMIT)
    }
}

fn json(msg: &impl Serialize) -> Result<String, ClientError> {
    serde_json::to_string(msg).map_err(|e| ClientError::InvalidMessage(e.to_string()))
}

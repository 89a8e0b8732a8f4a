//! Domain-separated ed25519 signing. Each signed kind has its own tag so a signature over one kind can
//! never be replayed as another.

use crate::encoding::encode;
use crate::types::{Address, Proposal, PublicKey, Signature, SignedProposal, SignedTx, SignedVote, Tx, Vote};
use borsh::BorshSerialize;
use ed25519_dalek::{Signer, SigningKey, VerifyingKey};

pub const TX_DOMAIN: &[u8] = b"consort/tx/v1";
pub const VOTE_DOMAIN: &[u8] = b"consort/vote/v1";
pub const PROPOSAL_DOMAIN: &[u8] = b"consort/proposal/v1";

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SignatureError {
    #[error("the public key is not a valid ed25519 point")]
    BadPublicKey,
    #[error("the signature does not verify against the signer's public key")]
    Invalid,
}

/// The exact bytes signed for `value` under `domain`.
pub fn signing_bytes<T: BorshSerialize>(domain: &[u8], value: &T) -> Vec<u8> {
    let mut out = domain.to_vec();
    out.extend_from_slice(&encode(value));
    out
}

pub fn verify<T: BorshSerialize>(
    domain: &[u8],
    value: &T,
    key: &PublicKey,
    signature: &Signature,
) -> Result<(), SignatureError> {
    let key = VerifyingKey::from_bytes(&key.0).map_err(|_| SignatureError::BadPublicKey)?;
    let sig = ed25519_dalek::Signature::from_bytes(&signature.0);
    // verify_strict rejects small-order keys and non-canonical signatures: no malleable tx hashes.
    key.verify_strict(&signing_bytes(domain, value), &sig).map_err(|_| SignatureError::Invalid)
}

/// An ed25519 key pair.
#[derive(Clone)]
pub struct Keypair(SigningKey);

impl Keypair {
    pub fn generate() -> Keypair {
        Keypair(SigningKey::generate(&mut rand_core::OsRng))
    }

    pub fn from_secret(secret: [u8; 32]) -> Keypair {
        Keypair(SigningKey::from_bytes(&secret))
    }

    /// Key number `index` of a deterministic family named by `seed`: for load tests and benchmarks, where
    /// the chain's genesis and the load generator must agree on many accounts without sharing files.
    /// Anyone who knows the seed has the keys: never use them for real funds.
    pub fn derived(seed: u64, index: u64) -> Keypair {
        let mut h = blake3::Hasher::new();
        h.update(b"consort/derived-key/v1");
        h.update(&seed.to_le_bytes());
        h.update(&index.to_le_bytes());
        Keypair::from_secret(*h.finalize().as_bytes())
    }

    pub fn secret_bytes(&self) -> [u8; 32] {
        self.0.to_bytes()
    }

    pub fn public(&self) -> PublicKey {
        PublicKey(self.0.verifying_key().to_bytes())
    }

    pub fn address(&self) -> Address {
        Address::from_public_key(&self.public())
    }

    pub fn sign<T: BorshSerialize>(&self, domain: &[u8], value: &T) -> Signature {
        Signature(self.0.sign(&signing_bytes(domain, value)).to_bytes())
    }

    /// Signs `tx`, which must name this key as its signer.
    pub fn sign_tx(&self, tx: Tx) -> SignedTx {
        debug_assert_eq!(tx.signer, self.public(), "signing a tx that names another signer");
        let signature = self.sign(TX_DOMAIN, &tx);
        SignedTx { tx, signature }
    }

    pub fn sign_vote(&self, vote: &Vote) -> Signature {
        self.sign(VOTE_DOMAIN, vote)
    }

    pub fn sign_vote_full(&self, vote: Vote) -> SignedVote {
        let signature = self.sign_vote(&vote);
        SignedVote { vote, validator: self.public(), signature }
    }

    pub fn sign_proposal(&self, proposal: Proposal) -> SignedProposal {
        let signature = self.sign(PROPOSAL_DOMAIN, &proposal);
        SignedProposal { proposal, proposer: self.public(), signature }
    }
}

impl std::fmt::Debug for Keypair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Keypair({})", self.address())
    }
}

impl Vote {
    pub fn verify_signature(&self, key: &PublicKey, signature: &Signature) -> Result<(), SignatureError> {
        verify(VOTE_DOMAIN, self, key, signature)
    }
}

impl SignedVote {
    pub fn verify_signature(&self) -> Result<(), SignatureError> {
        self.vote.verify_signature(&self.validator, &self.signature)
    }
}

impl SignedProposal {
    pub fn verify_signature(&self) -> Result<(), SignatureError> {
        verify(PROPOSAL_DOMAIN, &self.proposal, &self.proposer, &self.signature)
    }
}

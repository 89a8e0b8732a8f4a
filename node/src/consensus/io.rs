//! What goes into the consensus core and what comes out.

use borsh::{BorshDeserialize, BorshSerialize};
use consort_sdk::{Commit, Hash, Proposal, PublicKey, SignedProposal, SignedVote, Vote};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Step {
    Propose,
    Prevote,
    Precommit,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, BorshSerialize, BorshDeserialize)]
pub enum TimeoutKind {
    Propose,
    Prevote,
    Precommit,
}

/// Round timeouts: `base + round × delta` milliseconds, so rounds grow longer until the network keeps up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TimeoutParams {
    pub propose_ms: u64,
    pub prevote_ms: u64,
    pub precommit_ms: u64,
    pub delta_ms: u64,
}

impl Default for TimeoutParams {
    fn default() -> Self {
        TimeoutParams { propose_ms: 3_000, prevote_ms: 1_000, precommit_ms: 1_000, delta_ms: 500 }
    }
}

impl TimeoutParams {
    pub fn duration_ms(&self, kind: TimeoutKind, round: u32) -> u64 {
        let base = match kind {
            TimeoutKind::Propose => self.propose_ms,
            TimeoutKind::Prevote => self.prevote_ms,
            TimeoutKind::Precommit => self.precommit_ms,
        };
        base.saturating_add(self.delta_ms.saturating_mul(round as u64))
    }
}

/// An input to the core. The host has already checked signatures and that messages are for this height.
/// Inputs are journaled (borsh) in the consensus WAL so a restarted node replays its height exactly.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub enum Input {
    /// Begin the height at round 0.
    Start,
    /// A proposal, with the host's verdict on whether its block is valid on top of our state.
    Proposal {
        proposal: SignedProposal,
        valid: bool,
    },
    Vote(SignedVote),
    Timeout {
        round: u32,
        kind: TimeoutKind,
    },
    /// The block the host built after `Effect::RequestValue`.
    ValueReady {
        round: u32,
        block_hash: Hash,
    },
    /// A decision learnt from a peer by block sync: a commit certificate the host verified.
    Decided(Commit),
}

impl Input {
    /// Who signed this input, if it is a signed message (a proposal or a vote).
    pub fn signer(&self) -> Option<&PublicKey> {
        match self {
            Input::Proposal { proposal, .. } => Some(&proposal.proposer),
            Input::Vote(v) => Some(&v.validator),
            _ => None,
        }
    }
}

/// What the core asks the host to do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Effect {
    /// Build a block for this round and answer with `Input::ValueReady`.
    RequestValue {
        round: u32,
    },
    /// Persist, sign and broadcast this proposal, then feed it back as an input.
    Propose(Proposal),
    /// Persist the step, sign and broadcast this vote, then feed it back as an input.
    Vote(Vote),
    ScheduleTimeout {
        round: u32,
        kind: TimeoutKind,
        duration_ms: u64,
    },
    /// The height is decided: commit the block with this certificate.
    Decide(Commit),
    /// A validator signed two different votes for one round and step.
    Equivocation {
        first: Box<SignedVote>,
        second: Box<SignedVote>,
    },
    /// A proposer signed two different proposals for one round.
    ProposalEquivocation {
        first: Box<SignedProposal>,
        second: Box<SignedProposal>,
    },
}

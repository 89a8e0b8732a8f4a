//! Consensus: a pure Tendermint core (inputs in, effects out), its proposer schedule and vote keeping,
//! and the validator set with commit-certificate verification. The node's host loop drives the core;
//! the simulation tests drive many cores over a faulty in-memory network.

mod core;
mod io;
mod proposer;
mod validator_set;
mod vote_keeper;

pub use self::core::Core;
pub use io::{Effect, Input, Step, TimeoutKind, TimeoutParams};
pub use proposer::ProposerSchedule;
pub use validator_set::{commit_names, CommitError, Validator, ValidatorSet};
pub use vote_keeper::FUTURE_ROUNDS_PER_VALIDATOR_MAX;

//! Consensus: the validator set and commit certificates. The dev chain's single validator decides each
//! block with its own precommit; the multi-validator Tendermint core (issue #3) decides through the same
//! `Commit` and the same verification.

mod validator_set;

pub use validator_set::{CommitError, Validator, ValidatorSet};

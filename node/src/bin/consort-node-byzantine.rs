//! `consort-node` built with the `byzantine` feature: a validator that double-votes and double-proposes,
//! for the fault suite only (see `host/byzantine.rs`).
include!("../main.rs");

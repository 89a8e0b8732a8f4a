//! consort-node: a permissioned ledger validator.

pub mod admission;
pub mod block_check;
pub mod clock;
pub mod config;
pub mod consensus;
pub mod contracts;
pub mod dev_chain;
pub mod exec;
pub mod fast_map;
pub mod genesis;
pub mod governance;
pub mod hashed_block;
pub mod home;
pub mod host;
pub mod malloc_arenas;
pub mod mempool;
pub mod metrics;
pub mod network;
pub mod node;
pub mod rpc;
pub mod service;
pub mod storage;
pub mod testnet;

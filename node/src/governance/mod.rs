//! Membership and governance (issue #6): member organisations, roles, the validator set and limits are
//! state, changed by proposals that member admins approve. Changes executed in block H apply from
//! height H+1 (see README, "Membership and governance").

mod execute;
pub mod limits;
pub mod records;

pub use execute::{govern, limits as governed_limits, members, params, validators, MEMBER_KEYS_MAX};

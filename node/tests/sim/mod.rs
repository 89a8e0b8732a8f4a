//! A seeded, deterministic simulation of n validators' consensus cores over a faulty in-memory network.

mod faults;
mod rng;
mod world;

pub use world::World;

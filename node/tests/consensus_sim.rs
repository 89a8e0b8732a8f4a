//! The consensus core under thousands of seeded fault schedules: message loss, delay, duplication and
//! reordering, partitions, crash and restart from the WAL, and equivocating validators (f < n/3).
//! Checked on every seed: safety (no two honest decisions differ), no double-signing, liveness after GST,
//! and determinism (same seed, same trace). `CONSORT_SIM_SEEDS` raises the seed count; a failing seed is
//! printed and `CONSORT_SIM_SEED=<seed>` replays just that one.

mod sim;

use sim::World;

fn seeds(default: u64) -> Vec<u64> {
    if let Ok(one) = std::env::var("CONSORT_SIM_SEED") {
        return vec![one.parse().expect("CONSORT_SIM_SEED is a number")];
    }
    let count = std::env::var("CONSORT_SIM_SEEDS").ok().and_then(|s| s.parse().ok()).unwrap_or(default);
    (0..count).collect()
}

fn run_seeds(n: usize, byzantine_max: usize, default_seeds: u64, salt: u64) {
    run_worlds(n, byzantine_max, default_seeds, salt, World::new);
}

fn run_worlds(n: usize, byzantine_max: usize, default_seeds: u64, salt: u64, world: fn(u64, usize, usize) -> World) {
    for seed in seeds(default_seeds) {
        let seed = seed ^ salt;
        let result = std::panic::catch_unwind(|| world(seed, n, byzantine_max).run(6));
        if let Err(panic) = result {
            let faults = world(seed, n, byzantine_max).faults().clone();
            eprintln!("FAILED: n={n} seed={seed} faults={faults:?}\nreplay with CONSORT_SIM_SEED={}", seed ^ salt);
            std::panic::resume_unwind(panic);
        }
    }
}

#[test]
fn four_validators_stay_safe_and_live_under_faults() {
    run_seeds(4, 1, 1_000, 0);
}

#[test]
fn seven_validators_with_two_byzantine_stay_safe_and_live() {
    run_seeds(7, 2, 100, 0x7777);
}

/// Validator-set changes as governance makes them: every two heights one of five nodes leaves the set and
/// follows, another returns, and a validator's power changes; under the same faults, with one byzantine.
#[test]
fn validator_set_changes_under_faults_stay_safe_and_live() {
    run_worlds(5, 1, 300, 0x5e7, World::with_rotating_set);
}

#[test]
fn the_same_seed_gives_the_same_trace() {
    for seed in 0..20 {
        let a = World::new(seed, 4, 1).run(3);
        let b = World::new(seed, 4, 1).run(3);
        assert_eq!(a.trace, b.trace, "seed {seed} is not deterministic");
        assert_eq!(a.heights, b.heights);
    }
}

#[test]
fn equivocation_is_detected_and_reported() {
    let seen: usize = (0..50u64)
        .map(|seed| World::new(seed, 4, 1))
        .filter(|w| !w.faults().byzantine.is_empty())
        .map(|w| w.run(3).equivocations_seen)
        .sum();
    assert!(seen > 0, "byzantine validators equivocated but no core reported it");
}

#[test]
fn a_single_validator_decides_alone() {
    let outcome = World::new(1, 1, 0).run(5);
    assert!(outcome.heights[0] > 5);
}

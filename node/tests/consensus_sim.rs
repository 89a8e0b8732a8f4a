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

#[test]
fn a_proposers_second_different_proposal_is_reported_with_both() {
    use consort_node::consensus::{Core, Effect, Input, TimeoutParams, Validator, ValidatorSet};
    use consort_sdk::{Hash, Keypair, Proposal};
    let keys: Vec<Keypair> = (0..4).map(|i| Keypair::derived(3, i)).collect();
    let validators = keys
        .iter()
        .enumerate()
        .map(|(i, k)| Validator { name: format!("v{i}"), public_key: k.public(), address: k.address(), power: 1 })
        .collect();
    let mut core = Core::new("c", 1, ValidatorSet::new(validators), None, TimeoutParams::default());
    core.step_input(Input::Start);
    let proposer = &keys[core.proposer(0)];
    let proposal = |value: &[u8]| {
        proposer.sign_proposal(Proposal {
            chain_id: "c".into(),
            height: 1,
            round: 0,
            pol_round: None,
            block_hash: Hash::digest(value),
        })
    };
    let (first, second) = (proposal(b"a"), proposal(b"b"));
    let effects = core.step_input(Input::Proposal { proposal: first.clone(), valid: true });
    assert!(!effects.iter().any(|e| matches!(e, Effect::ProposalEquivocation { .. })));
    let again = core.step_input(Input::Proposal { proposal: first.clone(), valid: true });
    assert!(!again.iter().any(|e| matches!(e, Effect::ProposalEquivocation { .. })), "a resent copy is no fault");
    let effects = core.step_input(Input::Proposal { proposal: second.clone(), valid: true });
    let reported = effects.iter().find_map(|e| match e {
        Effect::ProposalEquivocation { first, second } => Some((first.as_ref().clone(), second.as_ref().clone())),
        _ => None,
    });
    assert_eq!(reported, Some((first, second)));
}

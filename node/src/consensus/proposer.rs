//! Weighted round-robin proposer selection, "smooth" like nginx's and CometBFT's: over one cycle each
//! validator proposes in proportion to its power, and the turns of a heavy validator are spread out
//! rather than bunched.

use super::ValidatorSet;

/// Longest proposer cycle kept; powers are scaled down (each keeping at least one slot) to fit.
const CYCLE_SLOTS_MAX: u64 = 4096;

/// The proposer order of one validator set, computed once.
#[derive(Clone, Debug)]
pub struct ProposerSchedule {
    cycle: Vec<usize>,
}

impl ProposerSchedule {
    pub fn new(set: &ValidatorSet) -> ProposerSchedule {
        let total = set.total_power().max(1);
        let weights: Vec<i128> = (0..set.len())
            .map(|i| {
                let p = set.by_index(i).power;
                let scaled = if total > CYCLE_SLOTS_MAX {
                    (p as u128 * CYCLE_SLOTS_MAX as u128 / total as u128) as u64
                } else {
                    p
                };
                scaled.max(1) as i128
            })
            .collect();
        let sum: i128 = weights.iter().sum();
        let mut priority = vec![0i128; weights.len()];
        let mut cycle = Vec::with_capacity(sum as usize);
        for _ in 0..sum {
            for (p, w) in priority.iter_mut().zip(&weights) {
                *p += w;
            }
            // Highest priority wins; ties go to the lower index, so the order is fully determined.
            let best = (0..priority.len()).max_by_key(|&i| (priority[i], std::cmp::Reverse(i))).expect("non-empty set");
            priority[best] -= sum;
            cycle.push(best);
        }
        ProposerSchedule { cycle }
    }

    /// Index of the proposer of (`height`, `round`). Consecutive rounds move to the next slot, so a
    /// crashed proposer is skipped in the very next round.
    pub fn proposer(&self, height: u64, round: u32) -> usize {
        let slot = (height as u128 + round as u128) % self.cycle.len() as u128;
        self.cycle[slot as usize]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::consensus::Validator;
    use consort_sdk::{Address, PublicKey};

    fn set(powers: &[u64]) -> ValidatorSet {
        ValidatorSet::new(
            powers
                .iter()
                .enumerate()
                .map(|(i, &power)| Validator {
                    name: format!("v{i}"),
                    public_key: PublicKey([i as u8; 32]),
                    address: Address([i as u8; 20]),
                    power,
                })
                .collect(),
        )
    }

    #[test]
    fn each_validator_proposes_in_proportion_to_power_and_spread_out() {
        let s = ProposerSchedule::new(&set(&[3, 1, 1]));
        let order: Vec<usize> = (0..5).map(|h| s.proposer(h, 0)).collect();
        assert_eq!(order.iter().filter(|&&i| i == 0).count(), 3);
        assert!(order.windows(3).all(|w| w.iter().any(|&i| i != 0)), "heavy validator's turns are spread: {order:?}");
        assert_ne!(s.proposer(7, 0), s.proposer(7, 1), "a new round has a new proposer when possible");
    }

    #[test]
    fn huge_powers_are_scaled_but_nobody_loses_their_turn() {
        let s = ProposerSchedule::new(&set(&[u64::MAX / 16, 1]));
        assert!(s.cycle.len() as u64 <= CYCLE_SLOTS_MAX + 1);
        assert!(s.cycle.contains(&1));
    }
}

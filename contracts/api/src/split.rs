//! Cumulative (PaymentSplitter-style) accounting, the rule every agreement follows (DESIGN §8): a party is
//! owed its share of everything received minus what it already withdrew. Payouts are pulled. Rounding
//! remainders stay in the pot and flow out with later payments: never lost, never invented.
//!
//! Terms can change: the amounts received so far are first settled under the old shares (each party's
//! accrual moves to `settled`), and the rounding remainder is carried into the new terms.

use crate::math::share_of;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SplitError {
    #[error("{0} is not a party to this agreement")]
    NotAParty(String),
    #[error("{0} is listed twice")]
    Duplicate(String),
    #[error("{0} has a zero share; leave it out instead")]
    ZeroShare(String),
    #[error("the shares add up to more than {}", u64::MAX)]
    SharesTooLarge,
    #[error("at least {0} parties are needed")]
    TooFewParties(usize),
    #[error("{0} is already a party; a position can only move to a new address")]
    AlreadyAParty(String),
    #[error("amounts overflow")]
    Overflow,
    #[error(transparent)]
    Storage(#[from] crate::StdError),
}

/// One party's standing.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Position {
    /// Weight under the current terms (0 once the terms no longer include the party).
    pub share: u64,
    /// Owed from earlier terms and not yet withdrawn.
    #[serde(with = "crate::u128_string")]
    pub settled: u128,
    /// Already released out of this party's accrual under the current terms.
    #[serde(with = "crate::u128_string")]
    pub released: u128,
    /// Everything this party ever withdrew.
    #[serde(with = "crate::u128_string")]
    pub withdrawn: u128,
}

/// The ledger apart from its parties: what a payment touches.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pot {
    total_shares: u64,
    /// Received under the current terms, with the remainder carried over from earlier terms.
    #[serde(with = "crate::u128_string")]
    epoch_received: u128,
    #[serde(with = "crate::u128_string")]
    total_received: u128,
    #[serde(with = "crate::u128_string")]
    total_withdrawn: u128,
}

impl Pot {
    /// What the contract holds for this ledger: received and not withdrawn.
    pub fn held(&self) -> u128 {
        self.total_received - self.total_withdrawn
    }

    fn accrued(&self, position: &Position) -> u128 {
        share_of(self.epoch_received, position.share, self.total_shares).unwrap_or(0)
    }

    /// What the holder of `position` may withdraw now.
    pub fn owed(&self, position: &Position) -> u128 {
        position.settled + self.accrued(position) - position.released
    }

    pub fn receive(&mut self, amount: u128) -> Result<(), SplitError> {
        self.total_received = self.total_received.checked_add(amount).ok_or(SplitError::Overflow)?;
        self.epoch_received = self.epoch_received.checked_add(amount).ok_or(SplitError::Overflow)?;
        Ok(())
    }

    /// Marks everything `position` is owed as paid and returns the amount, which the caller sends.
    pub fn withdraw(&mut self, position: &mut Position) -> u128 {
        let amount = self.owed(position);
        position.settled = 0;
        position.released = self.accrued(position);
        position.withdrawn += amount;
        self.total_withdrawn += amount;
        amount
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ledger {
    positions: BTreeMap<String, Position>,
    pot: Pot,
}

/// Checks a list of (party, share): no duplicates, no zero share, a total that fits in u64.
pub fn check_shares(shares: &[(String, u64)], min_parties: usize) -> Result<u64, SplitError> {
    if shares.len() < min_parties {
        return Err(SplitError::TooFewParties(min_parties));
    }
    let mut total: u64 = 0;
    let mut seen = std::collections::BTreeSet::new();
    for (party, share) in shares {
        if !seen.insert(party) {
            return Err(SplitError::Duplicate(party.clone()));
        }
        if *share == 0 {
            return Err(SplitError::ZeroShare(party.clone()));
        }
        total = total.checked_add(*share).ok_or(SplitError::SharesTooLarge)?;
    }
    Ok(total)
}

impl Ledger {
    /// A ledger over `shares`, which must name at least `min_parties` parties.
    pub fn new(shares: &[(String, u64)], min_parties: usize) -> Result<Ledger, SplitError> {
        let total_shares = check_shares(shares, min_parties)?;
        let positions =
            shares.iter().map(|(p, s)| (p.clone(), Position { share: *s, ..Position::default() })).collect();
        Ok(Ledger { positions, pot: Pot { total_shares, ..Pot::default() } })
    }

    /// A ledger from its stored parts (see [`crate::split_store::StoredLedger`]).
    pub fn from_parts(pot: Pot, positions: BTreeMap<String, Position>) -> Ledger {
        Ledger { positions, pot }
    }

    pub fn positions(&self) -> &BTreeMap<String, Position> {
        &self.positions
    }

    pub fn position(&self, party: &str) -> Option<&Position> {
        self.positions.get(party)
    }

    pub fn pot(&self) -> &Pot {
        &self.pot
    }

    pub fn total_shares(&self) -> u64 {
        self.pot.total_shares
    }

    pub fn total_received(&self) -> u128 {
        self.pot.total_received
    }

    pub fn total_withdrawn(&self) -> u128 {
        self.pot.total_withdrawn
    }

    /// What the contract holds for this ledger: received and not withdrawn.
    pub fn held(&self) -> u128 {
        self.pot.held()
    }

    /// The current shares, party by party (parties with zero share left out).
    pub fn shares(&self) -> Vec<(String, u64)> {
        self.positions.iter().filter(|(_, p)| p.share > 0).map(|(a, p)| (a.clone(), p.share)).collect()
    }

    /// What `party` may withdraw now.
    pub fn owed(&self, party: &str) -> u128 {
        self.positions.get(party).map_or(0, |p| self.pot.owed(p))
    }

    /// Held but owed to nobody yet: the rounding remainder waiting for later payments.
    pub fn unallocated(&self) -> u128 {
        self.held() - self.positions.keys().map(|p| self.owed(p)).sum::<u128>()
    }

    pub fn receive(&mut self, amount: u128) -> Result<(), SplitError> {
        self.pot.receive(amount)
    }

    /// Marks everything `party` is owed as paid and returns the amount, which the caller sends.
    pub fn withdraw(&mut self, party: &str) -> Result<u128, SplitError> {
        let position = self.positions.get_mut(party).ok_or_else(|| SplitError::NotAParty(party.into()))?;
        Ok(self.pot.withdraw(position))
    }

    /// Closes the current terms: every accrual becomes `settled`, the remainder carries on.
    fn settle_epoch(&mut self) {
        let mut allocated = 0u128;
        for p in self.positions.values_mut() {
            let accrued = self.pot.accrued(p);
            p.settled = p.settled + accrued - p.released;
            p.released = 0;
            allocated += accrued;
        }
        self.pot.epoch_received -= allocated;
    }

    /// New terms from now on; what was received before is settled under the old ones.
    pub fn amend(&mut self, shares: &[(String, u64)], min_parties: usize) -> Result<(), SplitError> {
        let total = check_shares(shares, min_parties)?;
        self.settle_epoch();
        for p in self.positions.values_mut() {
            p.share = 0;
        }
        for (party, share) in shares {
            self.positions.entry(party.clone()).or_default().share = *share;
        }
        self.pot.total_shares = total;
        Ok(())
    }

    /// Hands `from`'s whole position (share, amounts owed, history) to the new party `to`.
    pub fn transfer(&mut self, from: &str, to: &str) -> Result<(), SplitError> {
        if self.positions.contains_key(to) {
            return Err(SplitError::AlreadyAParty(to.into()));
        }
        let position = self.positions.remove(from).ok_or_else(|| SplitError::NotAParty(from.into()))?;
        self.positions.insert(to.into(), position);
        Ok(())
    }

    /// Final settlement: allocates the rounding remainder too, one unit each to the parties with the
    /// largest fractional claims (ties by address), so that everything held is owed to someone.
    pub fn settle_all(&mut self) {
        let whole = u128::from(self.pot.total_shares.max(1));
        let remainder_base = self.pot.epoch_received % whole;
        let mut claims: Vec<(u128, String)> = self
            .positions
            .iter()
            .filter(|(_, p)| p.share > 0)
            .map(|(a, p)| ((remainder_base * u128::from(p.share)) % whole, a.clone()))
            .collect();
        self.settle_epoch();
        claims.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
        // Each floor loses less than one unit, so the remainder is below the number of parties.
        let mut dust = self.pot.epoch_received;
        for (_, party) in &claims {
            if dust == 0 {
                break;
            }
            if let Some(p) = self.positions.get_mut(party) {
                p.settled += 1;
                dust -= 1;
            }
        }
        self.pot.epoch_received = dust;
    }
}

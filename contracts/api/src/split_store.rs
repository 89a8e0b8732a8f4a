//! A split ledger kept in contract storage as its pot plus one record per party, so that a payment reads
//! and writes only the pot and a withdrawal only the pot and one position. Changes to the whole ledger
//! (new terms, closing, distributing to everyone) load it whole and save it back.

use crate::split::{Ledger, Position, Pot, SplitError};
use crate::{Host, Item, Map};

pub struct StoredLedger {
    pot: Item<Pot>,
    positions: Map<Position>,
}

impl StoredLedger {
    /// A ledger whose pot lives under `pot_key` and whose positions under the map `positions_namespace`.
    pub const fn new(pot_key: &'static str, positions_namespace: &'static str) -> StoredLedger {
        StoredLedger { pot: Item::new(pot_key), positions: Map::new(positions_namespace) }
    }

    /// Writes the pot and every position of `ledger` (positions only ever gain parties in a ledger, except by
    /// [`StoredLedger::transfer`], which removes the old record itself).
    pub fn save(&self, host: &mut dyn Host, ledger: &Ledger) -> Result<(), SplitError> {
        self.pot.save(host, ledger.pot())?;
        for (party, position) in ledger.positions() {
            self.positions.save(host, party, position)?;
        }
        Ok(())
    }

    /// The whole ledger: one storage read per party.
    pub fn load(&self, host: &dyn Host) -> Result<Ledger, SplitError> {
        let pot = self.pot.load(host)?;
        let positions = self.positions.iter(host).collect::<Result<_, _>>()?;
        Ok(Ledger::from_parts(pot, positions))
    }

    pub fn position(&self, host: &dyn Host, party: &str) -> Result<Option<Position>, SplitError> {
        Ok(self.positions.may_load(host, party)?)
    }

    pub fn receive(&self, host: &mut dyn Host, amount: u128) -> Result<(), SplitError> {
        let mut pot = self.pot.load(host)?;
        pot.receive(amount)?;
        Ok(self.pot.save(host, &pot)?)
    }

    /// Marks everything `party` is owed as paid and returns the amount, which the caller sends. Nothing owed
    /// returns 0 and writes nothing.
    pub fn withdraw(&self, host: &mut dyn Host, party: &str) -> Result<u128, SplitError> {
        let mut position = self.position(host, party)?.ok_or_else(|| SplitError::NotAParty(party.into()))?;
        let mut pot = self.pot.load(host)?;
        if pot.owed(&position) == 0 {
            return Ok(0);
        }
        let amount = pot.withdraw(&mut position);
        self.pot.save(host, &pot)?;
        self.positions.save(host, party, &position)?;
        Ok(amount)
    }

    /// Hands `from`'s whole position to the new party `to`.
    pub fn transfer(&self, host: &mut dyn Host, from: &str, to: &str) -> Result<(), SplitError> {
        if self.positions.has(host, to) {
            return Err(SplitError::AlreadyAParty(to.into()));
        }
        let position = self.position(host, from)?.ok_or_else(|| SplitError::NotAParty(from.into()))?;
        self.positions.remove(host, from);
        Ok(self.positions.save(host, to, &position)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::StdError;
    use std::collections::BTreeMap;

    /// Storage only: ledgers never touch balances.
    #[derive(Default)]
    struct MockStorage(BTreeMap<Vec<u8>, Vec<u8>>);

    impl Host for MockStorage {
        fn get(&self, key: &[u8]) -> Option<Vec<u8>> {
            self.0.get(key).cloned()
        }
        fn set(&mut self, key: &[u8], value: &[u8]) {
            self.0.insert(key.to_vec(), value.to_vec());
        }
        fn remove(&mut self, key: &[u8]) {
            self.0.remove(key);
        }
        fn next(&self, prefix: &[u8], after: Option<&[u8]>) -> Option<(Vec<u8>, Vec<u8>)> {
            let from =
                after.map_or(std::ops::Bound::Included(prefix.to_vec()), |a| std::ops::Bound::Excluded(a.to_vec()));
            let (k, v) = self.0.range((from, std::ops::Bound::Unbounded)).next()?;
            k.starts_with(prefix).then(|| (k.clone(), v.clone()))
        }
        fn balance(&self, _address: &str) -> u128 {
            0
        }
        fn send(&mut self, _to: &str, _amount: u128) -> Result<(), StdError> {
            Err(StdError::msg("no funds here"))
        }
    }

    fn shares() -> Vec<(String, u64)> {
        vec![("a".into(), 1), ("b".into(), 2), ("c".into(), 4)]
    }

    /// The stored ledger and the in-memory one agree after every step.
    #[test]
    fn stored_and_in_memory_ledgers_agree() {
        let stored = StoredLedger::new("pot", "pos");
        let mut host = MockStorage::default();
        let mut memory = Ledger::new(&shares(), 2).unwrap();
        stored.save(&mut host, &memory).unwrap();
        for (i, amount) in [100u128, 7, 1, 333, 10_000].into_iter().enumerate() {
            stored.receive(&mut host, amount).unwrap();
            memory.receive(amount).unwrap();
            let party = ["a", "b", "c"][i % 3];
            assert_eq!(stored.withdraw(&mut host, party).unwrap(), memory.withdraw(party).unwrap());
            assert_eq!(stored.load(&host).unwrap(), memory);
        }
        assert_eq!(stored.withdraw(&mut host, "a").unwrap(), memory.withdraw("a").unwrap());
        assert_eq!(stored.withdraw(&mut host, "a").unwrap(), 0, "nothing owed twice");
        assert!(matches!(stored.withdraw(&mut host, "z"), Err(SplitError::NotAParty(_))));
        stored.transfer(&mut host, "b", "d").unwrap();
        memory.transfer("b", "d").unwrap();
        assert_eq!(stored.load(&host).unwrap(), memory);
        assert!(matches!(stored.transfer(&mut host, "a", "c"), Err(SplitError::AlreadyAParty(_))));
        assert!(matches!(stored.transfer(&mut host, "b", "e"), Err(SplitError::NotAParty(_))));
    }
}

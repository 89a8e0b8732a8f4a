use consort_sdk::{Address, Commit, PublicKey};
use std::collections::BTreeSet;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Validator {
    pub name: String,
    pub public_key: PublicKey,
    pub address: Address,
    pub power: u64,
}

/// The validators of a height and their voting power. Total power is bounded at genesis so that
/// `3 × power` never overflows.
#[derive(Clone, Debug)]
pub struct ValidatorSet {
    validators: Vec<Validator>,
    total_power: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CommitError {
    #[error("commit is for height {got}, expected {expected}")]
    WrongHeight { expected: u64, got: u64 },
    #[error("commit is for block {got}, expected {expected}")]
    WrongBlock { expected: String, got: String },
    #[error("commit carries a signature from {0}, which is not a validator")]
    UnknownValidator(PublicKey),
    #[error("commit carries two signatures from validator {0}")]
    DuplicateSigner(PublicKey),
    #[error("commit signature of validator {0} does not verify")]
    BadSignature(PublicKey),
    #[error("commit has {signed} of {total} voting power; more than two thirds is required")]
    NoQuorum { signed: u64, total: u64 },
}

impl ValidatorSet {
    pub fn new(validators: Vec<Validator>) -> ValidatorSet {
        let total_power = validators.iter().map(|v| v.power).sum();
        ValidatorSet { validators, total_power }
    }

    pub fn total_power(&self) -> u64 {
        self.total_power
    }

    pub fn len(&self) -> usize {
        self.validators.len()
    }

    pub fn is_empty(&self) -> bool {
        self.validators.is_empty()
    }

    pub fn get(&self, key: &PublicKey) -> Option<&Validator> {
        self.validators.iter().find(|v| v.public_key == *key)
    }

    pub fn index_of(&self, key: &PublicKey) -> Option<usize> {
        self.validators.iter().position(|v| v.public_key == *key)
    }

    pub fn by_index(&self, index: usize) -> &Validator {
        &self.validators[index]
    }

    /// More than two thirds of the voting power: enough to decide.
    pub fn is_quorum(&self, power: u64) -> bool {
        power * 3 > self.total_power * 2
    }

    /// More than one third: at least one honest validator is among them.
    pub fn is_one_third(&self, power: u64) -> bool {
        power * 3 > self.total_power
    }

    pub fn contains_address(&self, address: &Address) -> bool {
        self.validators.iter().any(|v| v.address == *address)
    }

    /// Checks that `commit` certifies `block_hash` at `height` with more than 2/3 of the voting power.
    pub fn verify_commit(
        &self,
        chain_id: &str,
        height: u64,
        block_hash: &consort_sdk::Hash,
        commit: &Commit,
    ) -> Result<(), CommitError> {
        commit_names(height, block_hash, commit)?;
        let vote = commit.vote(chain_id);
        let mut seen = BTreeSet::new();
        let mut signed: u64 = 0;
        for sig in &commit.signatures {
            let validator = self.get(&sig.validator).ok_or(CommitError::UnknownValidator(sig.validator))?;
            if !seen.insert(sig.validator) {
                return Err(CommitError::DuplicateSigner(sig.validator));
            }
            vote.verify_signature(&sig.validator, &sig.signature)
                .map_err(|_| CommitError::BadSignature(sig.validator))?;
            signed += validator.power;
        }
        if !self.is_quorum(signed) {
            return Err(CommitError::NoQuorum { signed, total: self.total_power });
        }
        Ok(())
    }
}

/// Checks that `commit` is for `block_hash` at `height`. This is the part of `verify_commit` that does not
/// look at signatures.
pub fn commit_names(height: u64, block_hash: &consort_sdk::Hash, commit: &Commit) -> Result<(), CommitError> {
    if commit.height != height {
        return Err(CommitError::WrongHeight { expected: height, got: commit.height });
    }
    if commit.block_hash != *block_hash {
        return Err(CommitError::WrongBlock { expected: block_hash.to_string(), got: commit.block_hash.to_string() });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use consort_sdk::{CommitSig, Hash, Keypair};

    fn set_of(keys: &[Keypair]) -> ValidatorSet {
        ValidatorSet::new(
            keys.iter()
                .enumerate()
                .map(|(i, k)| Validator {
                    name: format!("v{i}"),
                    public_key: k.public(),
                    address: k.address(),
                    power: 1,
                })
                .collect(),
        )
    }

    fn commit_by(keys: &[&Keypair], hash: Hash) -> Commit {
        let mut c = Commit { height: 5, round: 0, block_hash: hash, signatures: vec![] };
        let vote = c.vote("c");
        c.signatures =
            keys.iter().map(|k| CommitSig { validator: k.public(), signature: k.sign_vote(&vote) }).collect();
        c
    }

    #[test]
    fn needs_more_than_two_thirds_of_valid_distinct_signatures() {
        let keys: Vec<Keypair> = (0..4).map(|_| Keypair::generate()).collect();
        let set = set_of(&keys);
        let h = Hash([1; 32]);
        assert!(set.verify_commit("c", 5, &h, &commit_by(&[&keys[0], &keys[1], &keys[2]], h)).is_ok());
        assert!(matches!(
            set.verify_commit("c", 5, &h, &commit_by(&[&keys[0], &keys[1]], h)),
            Err(CommitError::NoQuorum { signed: 2, total: 4 })
        ));
        assert!(matches!(
            set.verify_commit("c", 5, &h, &commit_by(&[&keys[0], &keys[0], &keys[1]], h)),
            Err(CommitError::DuplicateSigner(_))
        ));
        let outsider = Keypair::generate();
        assert!(matches!(
            set.verify_commit("c", 5, &h, &commit_by(&[&keys[0], &keys[1], &outsider], h)),
            Err(CommitError::UnknownValidator(_))
        ));
        let mut forged = commit_by(&[&keys[0], &keys[1], &keys[2]], h);
        forged.signatures[2].signature.0[5] ^= 1;
        assert!(matches!(set.verify_commit("c", 5, &h, &forged), Err(CommitError::BadSignature(_))));
        assert!(matches!(
            set.verify_commit("other-chain", 5, &h, &commit_by(&[&keys[0], &keys[1], &keys[2]], h)),
            Err(CommitError::BadSignature(_))
        ));
        assert!(matches!(
            set.verify_commit("c", 6, &h, &commit_by(&keys.iter().collect::<Vec<_>>(), h)),
            Err(CommitError::WrongHeight { .. })
        ));
    }
}

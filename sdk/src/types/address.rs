use super::PublicKey;
use bech32::{Bech32, Hrp};
use borsh::{BorshDeserialize, BorshSerialize};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::str::FromStr;

/// Human-readable prefix of every consort address.
pub const ADDRESS_HRP: &str = "consort";

/// An account address: blake3(ed25519 public key) truncated to 20 bytes, shown as bech32 `consort1…`.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, BorshSerialize, BorshDeserialize)]
pub struct Address(pub [u8; 20]);

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum AddressError {
    #[error("{0:?} is not a bech32 address: {1}")]
    Bech32(String, String),
    #[error("address {0:?} has prefix {1:?}; consort addresses start with \"consort1\"")]
    WrongPrefix(String, String),
    #[error("address {0:?} holds {1} bytes; consort addresses hold 20")]
    WrongLength(String, usize),
}

impl Address {
    pub fn from_public_key(key: &PublicKey) -> Address {
        let digest = blake3::hash(&key.0);
        let mut out = [0u8; 20];
        out.copy_from_slice(&digest.as_bytes()[..20]);
        Address(out)
    }
}

/// Built once at compile time: addresses are shown in every receipt, event and contract call.
/// `Hrp::parse` would validate it, and a test checks that it passes.
const HRP: Hrp = Hrp::parse_unchecked(ADDRESS_HRP);

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        bech32::encode_lower_to_fmt::<Bech32, _>(f, HRP, &self.0).map_err(|_| fmt::Error)
    }
}

impl fmt::Debug for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Address({self})")
    }
}

impl FromStr for Address {
    type Err = AddressError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let shown: String = s.chars().take(100).collect();
        let (prefix, data) = bech32::decode(s).map_err(|e| AddressError::Bech32(shown.clone(), e.to_string()))?;
        if prefix != HRP {
            return Err(AddressError::WrongPrefix(shown, prefix.to_string()));
        }
        let bytes: [u8; 20] = data.as_slice().try_into().map_err(|_| AddressError::WrongLength(shown, data.len()))?;
        Ok(Address(bytes))
    }
}

impl Serialize for Address {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Address {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        <String as Deserialize>::deserialize(d)?.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_prefix_is_a_valid_hrp_and_shows_as_plain_bech32() {
        assert_eq!(Hrp::parse(ADDRESS_HRP).unwrap(), HRP);
        let plain = bech32::encode::<Bech32>(Hrp::parse(ADDRESS_HRP).unwrap(), &[7; 20]).unwrap();
        assert_eq!(Address([7; 20]).to_string(), plain);
    }

    #[test]
    fn round_trips_through_bech32() {
        let a = Address([7; 20]);
        let s = a.to_string();
        assert!(s.starts_with("consort1"), "{s}");
        assert_eq!(s.parse::<Address>().unwrap(), a);
    }

    #[test]
    fn rejects_wrong_prefix_length_and_checksum() {
        let other = bech32::encode::<Bech32>(Hrp::parse("cosmos").unwrap(), &[1; 20]).unwrap();
        assert!(matches!(other.parse::<Address>(), Err(AddressError::WrongPrefix(..))));
        let short = bech32::encode::<Bech32>(HRP, &[1; 19]).unwrap();
        assert!(matches!(short.parse::<Address>(), Err(AddressError::WrongLength(_, 19))));
        let mut bad = Address([1; 20]).to_string();
        bad.pop();
        bad.push(if bad.ends_with('q') { 'p' } else { 'q' });
        assert!(matches!(bad.parse::<Address>(), Err(AddressError::Bech32(..))));
    }

    #[test]
    fn derives_from_public_key_by_blake3() {
        let key = PublicKey([9; 32]);
        let a = Address::from_public_key(&key);
        assert_eq!(&a.0[..], &blake3::hash(&[9; 32]).as_bytes()[..20]);
    }
}

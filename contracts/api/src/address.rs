//! Checking addresses inside a contract: `consort1…` bech32 with a 20-byte payload, checksum included
//! (BIP-173), so a mistyped party address is refused when the terms are set, not when money is sent.

use crate::StdError;

const HRP: &str = "consort";
const CHARSET: &[u8; 32] = b"qpzry9x8gf2tvdw0s3jn54khce6mua7l";
const GENERATOR: [u32; 5] = [0x3b6a_57b2, 0x2650_8e6d, 0x1ea1_19fa, 0x3d42_33dd, 0x2a14_62b3];
/// `consort1` + 32 data characters (20 bytes) + 6 checksum characters.
const ADDRESS_LEN: usize = 46;

fn polymod(values: impl Iterator<Item = u8>) -> u32 {
    let mut chk: u32 = 1;
    for v in values {
        let top = chk >> 25;
        chk = ((chk & 0x01ff_ffff) << 5) ^ u32::from(v);
        for (i, g) in GENERATOR.iter().enumerate() {
            if (top >> i) & 1 == 1 {
                chk ^= g;
            }
        }
    }
    chk
}

fn hrp_expanded() -> impl Iterator<Item = u8> {
    HRP.bytes().map(|b| b >> 5).chain(std::iter::once(0)).chain(HRP.bytes().map(|b| b & 31))
}

/// Is `s` a well-formed consort address?
pub fn validate_address(s: &str) -> Result<(), StdError> {
    let bad = || StdError::InvalidAddress(s.into());
    if s.len() != ADDRESS_LEN || !s.starts_with("consort1") {
        return Err(bad());
    }
    let data: Option<Vec<u8>> =
        s[HRP.len() + 1..].bytes().map(|c| CHARSET.iter().position(|&x| x == c).map(|p| p as u8)).collect();
    let data = data.ok_or_else(bad)?;
    match polymod(hrp_expanded().chain(data.iter().copied())) == 1 {
        true => Ok(()),
        false => Err(bad()),
    }
}

/// Encodes 20 bytes as a consort address (used by the mock chain to make valid test addresses).
pub fn encode_address(bytes: &[u8; 20]) -> String {
    let mut data = Vec::with_capacity(38);
    let (mut acc, mut bits) = (0u32, 0u32);
    for b in bytes {
        acc = (acc << 8) | u32::from(*b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            data.push(((acc >> bits) & 31) as u8);
        }
    }
    let checksum = polymod(hrp_expanded().chain(data.iter().copied()).chain([0u8; 6])) ^ 1;
    data.extend((0..6).map(|i| ((checksum >> (5 * (5 - i))) & 31) as u8));
    let mut out = String::from("consort1");
    out.extend(data.iter().map(|&d| CHARSET[d as usize] as char));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_catches_typos() {
        let a = encode_address(&[7; 20]);
        assert_eq!(a.len(), ADDRESS_LEN);
        validate_address(&a).unwrap();
        let mut typo = a.clone().into_bytes();
        typo[20] = if typo[20] == b'q' { b'p' } else { b'q' };
        assert!(validate_address(std::str::from_utf8(&typo).unwrap()).is_err());
        assert!(validate_address("alice").is_err());
        assert!(validate_address(&a.replace("consort1", "cosmos11")).is_err());
    }
}

//! Where contracts live in state, and the records kept about them.

use borsh::{BorshDeserialize, BorshSerialize};
use consort_sdk::{Address, Hash};

/// `code/` + code hash → the wasm bytes.
const CODE_PREFIX: &[u8] = b"code/";
/// `codeinfo/` + code hash → borsh(CodeInfo).
const CODE_INFO_PREFIX: &[u8] = b"codeinfo/";
/// `contract/` + address → borsh(ContractInfo).
const CONTRACT_PREFIX: &[u8] = b"contract/";
/// `cstore/` + address + key → value: a contract's private storage. The host adds this prefix to every
/// key a contract names, so no contract can address another's storage.
const STORAGE_PREFIX: &[u8] = b"cstore/";
/// `role/deploy/` + address → empty: accounts that may store code.
const DEPLOYER_PREFIX: &[u8] = b"role/deploy/";

/// `agr/` + party + contract → role: the agreements an address is party to (from agreement_party events).
const AGREEMENT_PARTY_PREFIX: &[u8] = b"agr/";
/// `agrc/` + contract → empty: every contract that declared agreement parties.
const AGREEMENT_PREFIX: &[u8] = b"agrc/";

const CONTRACT_ADDRESS_DOMAIN: &[u8] = b"consort/contract/v1";

#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct CodeInfo {
    pub creator: Address,
    pub size: u32,
    pub stored_height: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct ContractInfo {
    pub code_hash: Hash,
    pub admin: Option<Address>,
    pub label: String,
    pub creator: Address,
    pub created_height: u64,
}

fn key(prefix: &[u8], id: &[u8]) -> Vec<u8> {
    [prefix, id].concat()
}

pub fn code_key(hash: &Hash) -> Vec<u8> {
    key(CODE_PREFIX, hash.as_bytes())
}

pub fn code_info_key(hash: &Hash) -> Vec<u8> {
    key(CODE_INFO_PREFIX, hash.as_bytes())
}

pub fn contract_key(address: &Address) -> Vec<u8> {
    key(CONTRACT_PREFIX, &address.0)
}

pub fn storage_prefix(address: &Address) -> Vec<u8> {
    key(STORAGE_PREFIX, &address.0)
}

pub fn deployer_prefix() -> &'static [u8] {
    DEPLOYER_PREFIX
}

pub fn deployer_key(address: &Address) -> Vec<u8> {
    key(DEPLOYER_PREFIX, &address.0)
}

pub fn agreement_party_prefix(party: &Address) -> Vec<u8> {
    key(AGREEMENT_PARTY_PREFIX, &party.0)
}

pub fn agreement_party_key(party: &Address, contract: &Address) -> Vec<u8> {
    [agreement_party_prefix(party), contract.0.to_vec()].concat()
}

pub fn agreement_prefix() -> &'static [u8] {
    AGREEMENT_PREFIX
}

pub fn agreement_key(contract: &Address) -> Vec<u8> {
    key(AGREEMENT_PREFIX, &contract.0)
}

/// The address at the end of an index key (the last 20 bytes).
pub fn trailing_address(key: &[u8]) -> Option<Address> {
    let tail: [u8; 20] = key.get(key.len().checked_sub(20)?..)?.try_into().ok()?;
    Some(Address(tail))
}

/// A new contract's address: derived from its creator and the nonce of the creating tx, so it is known
/// before the tx runs and never repeats.
pub fn contract_address(creator: &Address, nonce: u64) -> Address {
    let mut h = blake3::Hasher::new();
    h.update(CONTRACT_ADDRESS_DOMAIN);
    h.update(&creator.0);
    h.update(&nonce.to_le_bytes());
    let mut out = [0u8; 20];
    out.copy_from_slice(&h.finalize().as_bytes()[..20]);
    Address(out)
}

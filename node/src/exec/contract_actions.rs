//! StoreCode, Instantiate, Execute, Migrate and UpdateAdmin. Each runs inside a checkpoint of the block
//! overlay: when it fails, every write it made (funds moved, storage, records) is undone, while the gas it
//! used is still reported.

use super::tx_rules::TxRejection;
use super::Overlay;
use crate::contracts::records::{
    agreement_key, agreement_party_key, code_info_key, code_key, contract_address, contract_key, deployer_key,
    CodeInfo, ContractInfo,
};
use crate::contracts::{run_mut, CallRequest, CallSuccess, ContractEngine};
use crate::storage::StoreError;
use consort_contract::abi;
use consort_contract::agreement::PARTY_EVENT;
use consort_contract::{Env, Info};
use consort_sdk::encoding::encode;
use consort_sdk::{Address, Event, Hash};

/// The block a tx runs in, and the runtime.
pub struct BlockEnv<'a> {
    pub chain_id: &'a str,
    pub height: u64,
    pub time_ms: u64,
    pub engine: &'a ContractEngine,
    /// The contract limits in force for this block.
    pub limits: crate::contracts::ContractLimits,
}

/// What a successful action leaves in its receipt.
#[derive(Debug, Default)]
pub struct Effects {
    pub events: Vec<Event>,
    pub data: Option<String>,
}

/// An action's verdict plus the gas its contract code used (on top of the action's static cost).
pub type ActionResult = Result<(Result<Effects, TxRejection>, u64), StoreError>;

pub fn is_deployer(overlay: &Overlay, address: &Address) -> Result<bool, StoreError> {
    Ok(overlay.get(&deployer_key(address))?.is_some())
}

pub fn store_code(overlay: &mut Overlay, env: &BlockEnv<'_>, sender: &Address, code: &[u8]) -> ActionResult {
    if !is_deployer(overlay, sender)? {
        return Ok((Err(TxRejection::NotDeployer(sender.to_string())), 0));
    }
    let hash = Hash::digest(code);
    if let Err(e) = env.engine.prepare(&hash, code) {
        return Ok((Err(e.into()), 0));
    }
    let event = Event::new("store_code", &[("code_hash", hash.to_string()), ("size", code.len().to_string())]);
    if overlay.get(&code_info_key(&hash))?.is_none() {
        let info = CodeInfo { creator: *sender, size: code.len() as u32, stored_height: env.height };
        overlay.set(code_key(&hash), code.to_vec());
        overlay.set(code_info_key(&hash), encode(&info));
    }
    Ok((Ok(Effects { events: vec![event], data: Some(format!("\"{hash}\"")) }), 0))
}

/// Moves `amount` from `from` to `to`, or says why it cannot.
pub fn move_funds(
    overlay: &mut Overlay,
    from: &Address,
    to: &Address,
    amount: u128,
) -> Result<Result<(), TxRejection>, StoreError> {
    let mut source = overlay.account(from)?.unwrap_or_default();
    let Some(debited) = source.balance.checked_sub(amount) else {
        return Ok(Err(TxRejection::InsufficientFunds { balance: source.balance, pending: 0, amount }));
    };
    if from == to || amount == 0 {
        return Ok(Ok(()));
    }
    let mut dest = overlay.account(to)?.unwrap_or_default();
    let Some(credited) = dest.balance.checked_add(amount) else {
        return Ok(Err(TxRejection::BalanceOverflow));
    };
    source.balance = debited;
    dest.balance = credited;
    overlay.set_account(from, &source);
    overlay.set_account(to, &dest);
    Ok(Ok(()))
}

fn contract_env(env: &BlockEnv<'_>, contract: &Address) -> Env {
    Env { chain_id: env.chain_id.into(), height: env.height, time_ms: env.time_ms, contract: contract.to_string() }
}

/// Sends funds, then runs a mutating entry point.
#[allow(clippy::too_many_arguments)]
fn call(
    overlay: &mut Overlay,
    env: &BlockEnv<'_>,
    entry: &'static str,
    code_hash: &Hash,
    contract: &Address,
    sender: &Address,
    msg: &str,
    funds: u128,
    gas_limit: u64,
) -> ActionResult {
    if let Err(r) = move_funds(overlay, sender, contract, funds)? {
        return Ok((Err(r), 0));
    }
    let module = env.engine.load(code_hash, overlay)?;
    let req = CallRequest {
        entry,
        contract: *contract,
        env: contract_env(env, contract),
        info: Some(Info { sender: sender.to_string(), funds }),
        msg: msg.as_bytes(),
        gas_limit,
    };
    let outcome = run_mut(env.engine, &module, overlay, &req);
    let result = match outcome.result {
        Ok(CallSuccess { data, events }) => {
            index_agreement_parties(overlay, contract, &events);
            Ok(Effects { events, data })
        }
        Err(crate::contracts::CallError::Storage(m)) => return Err(StoreError::Corrupt(m)),
        Err(e) => Err(e.into()),
    };
    Ok((result, outcome.gas_used))
}

/// Records who is party to which agreement, from the contract's `agreement_party` events (DESIGN §7), so
/// "agreements of X" is a prefix scan. An address that does not parse is the contract's problem: skipped.
fn index_agreement_parties(overlay: &mut Overlay, contract: &Address, events: &[Event]) {
    for event in events.iter().filter(|e| e.kind == PARTY_EVENT) {
        let Some(party) = event.get("address").and_then(|a| a.parse::<Address>().ok()) else { continue };
        let role = event.get("role").unwrap_or("party").as_bytes().to_vec();
        overlay.set(agreement_party_key(&party, contract), role);
        overlay.set(agreement_key(contract), Vec::new());
    }
}

#[allow(clippy::too_many_arguments)]
pub fn instantiate(
    overlay: &mut Overlay,
    env: &BlockEnv<'_>,
    sender: &Address,
    nonce: u64,
    code_hash: &Hash,
    admin: Option<Address>,
    label: &str,
    msg: &str,
    funds: u128,
    gas_limit: u64,
) -> ActionResult {
    if overlay.get(&code_info_key(code_hash))?.is_none() {
        return Ok((Err(TxRejection::UnknownCode(*code_hash)), 0));
    }
    let contract = contract_address(sender, nonce);
    let info = ContractInfo {
        code_hash: *code_hash,
        admin,
        label: label.into(),
        creator: *sender,
        created_height: env.height,
    };
    overlay.set(contract_key(&contract), encode(&info));
    let (result, gas) =
        call(overlay, env, abi::ENTRY_INSTANTIATE, code_hash, &contract, sender, msg, funds, gas_limit)?;
    let result = result.map(|mut effects| {
        let admin = admin.map_or_else(String::new, |a| a.to_string());
        let event = Event::new(
            "instantiate",
            &[("contract", contract.to_string()), ("code_hash", code_hash.to_string()), ("admin", admin)],
        );
        effects.events.insert(0, event);
        effects
    });
    Ok((result, gas))
}

fn contract_info(overlay: &Overlay, contract: &Address) -> Result<Result<ContractInfo, TxRejection>, StoreError> {
    Ok(overlay.record(&contract_key(contract))?.ok_or(TxRejection::UnknownContract(*contract)))
}

/// The contract's record, if `sender` is its admin.
fn admin_only(
    overlay: &Overlay,
    sender: &Address,
    contract: &Address,
) -> Result<Result<ContractInfo, TxRejection>, StoreError> {
    Ok(contract_info(overlay, contract)?.and_then(|info| match info.admin == Some(*sender) {
        true => Ok(info),
        false => Err(TxRejection::NotAdmin(*contract)),
    }))
}

pub fn execute(
    overlay: &mut Overlay,
    env: &BlockEnv<'_>,
    sender: &Address,
    contract: &Address,
    msg: &str,
    funds: u128,
    gas_limit: u64,
) -> ActionResult {
    let info = match contract_info(overlay, contract)? {
        Ok(info) => info,
        Err(r) => return Ok((Err(r), 0)),
    };
    call(overlay, env, abi::ENTRY_EXECUTE, &info.code_hash, contract, sender, msg, funds, gas_limit)
}

pub fn migrate(
    overlay: &mut Overlay,
    env: &BlockEnv<'_>,
    sender: &Address,
    contract: &Address,
    code_hash: &Hash,
    msg: &str,
    gas_limit: u64,
) -> ActionResult {
    let mut info = match admin_only(overlay, sender, contract)? {
        Ok(info) => info,
        Err(r) => return Ok((Err(r), 0)),
    };
    if overlay.get(&code_info_key(code_hash))?.is_none() {
        return Ok((Err(TxRejection::UnknownCode(*code_hash)), 0));
    }
    let from = info.code_hash;
    info.code_hash = *code_hash;
    overlay.set(contract_key(contract), encode(&info));
    let (result, gas) = call(overlay, env, abi::ENTRY_MIGRATE, code_hash, contract, sender, msg, 0, gas_limit)?;
    let result = result.map(|mut effects| {
        let event = Event::new(
            "migrate",
            &[("contract", contract.to_string()), ("from_code", from.to_string()), ("to_code", code_hash.to_string())],
        );
        effects.events.insert(0, event);
        effects
    });
    Ok((result, gas))
}

pub fn update_admin(
    overlay: &mut Overlay,
    sender: &Address,
    contract: &Address,
    admin: Option<Address>,
) -> ActionResult {
    let mut info = match admin_only(overlay, sender, contract)? {
        Ok(info) => info,
        Err(r) => return Ok((Err(r), 0)),
    };
    info.admin = admin;
    overlay.set(contract_key(contract), encode(&info));
    let admin = admin.map_or_else(String::new, |a| a.to_string());
    let event = Event::new("update_admin", &[("contract", contract.to_string()), ("admin", admin)]);
    Ok((Ok(Effects { events: vec![event], data: None }), 0))
}

use super::contract_actions::{self, move_funds, BlockEnv, Effects};
use super::tx_rules::{check_authorised, check_well_formed, gas_cost, TxRejection};
use super::{app_hash, Overlay, SharedState, StateWrites, TxVerifier};
use crate::contracts::ContractEngine;
use crate::hashed_block::HashedBlock;
use crate::storage::StoreError;
use consort_sdk::{Action, Hash, Receipt, SignedTx, TxOutcome};

/// The result of executing one block on top of committed state.
#[derive(Debug)]
pub struct Executed {
    pub receipts: Vec<Receipt>,
    pub state_writes: StateWrites,
    pub app_hash: Hash,
}

/// Executes `block`'s txs in order over `state`. A tx that breaks a rule gets a failed receipt; whether it
/// still consumes its nonce depends on whether it was validly authorised (see `apply_tx`).
pub fn execute_block(
    engine: &ContractEngine,
    verifier: &TxVerifier,
    state: SharedState,
    hashed: &HashedBlock,
    chain_id: &str,
    prev_app_hash: &Hash,
) -> Result<Executed, StoreError> {
    let (block, hashes) = (&hashed.block, &hashed.tx_hashes);
    let mut overlay = Overlay::new(state);
    let env = BlockEnv {
        chain_id,
        height: block.header.height,
        time_ms: block.header.time_ms,
        engine,
        limits: engine.limits(),
    };
    let txs: Vec<&SignedTx> = block.txs.iter().collect();
    let receipts = verifier.verify_while(&txs, hashes, |signature_ok| {
        let mut receipts = Vec::with_capacity(block.txs.len());
        for (index, (tx, tx_hash)) in block.txs.iter().zip(hashes).enumerate() {
            let (result, gas_used) = apply_tx(&mut overlay, &env, tx, signature_ok(index))?;
            let (outcome, effects) = match result {
                Ok(effects) => (TxOutcome::Success, effects),
                Err(r) => (TxOutcome::Failed { code: r.code().to_owned(), message: r.to_string() }, Effects::default()),
            };
            receipts.push(Receipt {
                tx_hash: *tx_hash,
                height: block.header.height,
                index: index as u32,
                outcome,
                gas_used,
                events: effects.events,
                data: effects.data,
            });
        }
        Ok::<_, StoreError>(receipts)
    })?;
    let state_writes = overlay.into_writes();
    let app_hash = app_hash(prev_app_hash, block.header.height, &block.hash(), &state_writes, &receipts);
    Ok(Executed { receipts, state_writes, app_hash })
}

/// Applies one tx and reports the gas it used. Unauthorised txs (wrong chain, bad signature, wrong nonce,
/// unknown sender) change nothing; authorised txs that fail (insufficient funds, a contract error…) still
/// consume their nonce so they cannot be replayed, as in every account-based chain, and everything else
/// they wrote is rolled back.
fn apply_tx(
    state: &mut Overlay,
    env: &BlockEnv<'_>,
    tx: &SignedTx,
    signature_ok: bool,
) -> Result<(Result<Effects, TxRejection>, u64), StoreError> {
    let base_gas = gas_cost(&tx.tx.action);
    let sender = tx.sender();
    let Some(mut from) = state.account(&sender)? else {
        return Ok((Err(TxRejection::UnknownAccount(sender.to_string())), base_gas));
    };
    if tx.tx.nonce != from.nonce {
        return Ok((Err(TxRejection::NonceMismatch { expected: from.nonce, got: tx.tx.nonce }), base_gas));
    }
    if let Err(rejection) = check_authorised(tx, env.chain_id, signature_ok) {
        return Ok((Err(rejection), base_gas));
    }
    from.nonce += 1;
    state.set_account(&sender, &from);
    if let Err(rejection) = check_well_formed(tx, &env.limits) {
        return Ok((Err(rejection), base_gas));
    }
    let checkpoint = state.checkpoint();
    // Contract code may burn what the limit leaves after the action's fixed cost.
    let call_gas = tx.tx.gas_limit - base_gas;
    let (result, code_gas) = match &tx.tx.action {
        Action::Transfer { to, amount } => (move_funds(state, &sender, to, *amount)?.map(|()| Effects::default()), 0),
        Action::StoreCode { code } => contract_actions::store_code(state, env, &sender, code)?,
        Action::Instantiate { code_hash, admin, label, msg, funds } => contract_actions::instantiate(
            state,
            env,
            &sender,
            tx.tx.nonce,
            code_hash,
            *admin,
            label,
            msg,
            *funds,
            call_gas,
        )?,
        Action::Execute { contract, msg, funds } => {
            contract_actions::execute(state, env, &sender, contract, msg, *funds, call_gas)?
        }
        Action::Migrate { contract, code_hash, msg } => {
            contract_actions::migrate(state, env, &sender, contract, code_hash, msg, call_gas)?
        }
        Action::UpdateAdmin { contract, admin } => contract_actions::update_admin(state, &sender, contract, *admin)?,
        Action::Govern(action) => (
            crate::governance::govern(state, env.height, &sender, action)?.map(|events| Effects { events, data: None }),
            0,
        ),
    };
    match result {
        Ok(_) => state.commit(checkpoint),
        Err(_) => state.rollback(checkpoint),
    }
    Ok((result, base_gas + code_gas))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exec::{account_key, Account};
    use consort_sdk::encoding::{decode, encode};
    use consort_sdk::{Address, Block, BlockHeader, Keypair, Tx};
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    use std::sync::{Arc, OnceLock};

    const CHAIN: &str = "test-chain";

    fn test_engine() -> &'static ContractEngine {
        static ENGINE: OnceLock<ContractEngine> = OnceLock::new();
        ENGINE.get_or_init(|| {
            let limits = crate::contracts::ContractLimits::default();
            ContractEngine::new(&limits, limits.stack_bytes_max, 4).unwrap()
        })
    }

    fn state_with(accounts: &[(Address, u128)]) -> BTreeMap<Vec<u8>, Vec<u8>> {
        accounts.iter().map(|(a, b)| (account_key(a), encode(&Account { balance: *b, nonce: 0 }))).collect()
    }

    fn block_of(txs: Vec<SignedTx>) -> HashedBlock {
        HashedBlock::new(Block {
            header: BlockHeader {
                chain_id: CHAIN.into(),
                height: 1,
                time_ms: 1,
                prev_block_hash: Hash::ZERO,
                txs_hash: Block::txs_hash_of(&txs),
                last_app_hash: Hash::ZERO,
                proposer: Address([0; 20]),
            },
            txs,
        })
    }

    fn transfer_tx(key: &Keypair, nonce: u64, to: Address, amount: u128) -> SignedTx {
        key.sign_tx(Tx {
            chain_id: CHAIN.into(),
            signer: key.public(),
            nonce,
            gas_limit: TRANSFER_GAS_FOR_TESTS,
            action: Action::Transfer { to, amount },
        })
    }
    const TRANSFER_GAS_FOR_TESTS: u64 = 10_000;

    fn apply(state: &mut BTreeMap<Vec<u8>, Vec<u8>>, executed: &Executed) {
        for (k, v) in &executed.state_writes {
            match v {
                Some(v) => state.insert(k.clone(), v.clone()),
                None => state.remove(k),
            };
        }
    }

    fn total_supply(state: &BTreeMap<Vec<u8>, Vec<u8>>) -> u128 {
        state.values().map(|v| decode::<Account>(v, 64).unwrap().balance).sum()
    }

    fn code_of(r: &Receipt) -> Option<&str> {
        match &r.outcome {
            TxOutcome::Success => None,
            TxOutcome::Failed { code, .. } => Some(code),
        }
    }

    #[test]
    fn each_rule_gives_its_own_receipt() {
        let alice = Keypair::generate();
        let bob = Keypair::generate().address();
        let state = state_with(&[(alice.address(), 100)]);
        let mut wrong_chain = transfer_tx(&alice, 2, bob, 1);
        wrong_chain.tx.chain_id = "other".into();
        wrong_chain = alice.sign_tx(wrong_chain.tx);
        let mut forged = transfer_tx(&alice, 2, bob, 1);
        forged.signature.0[0] ^= 1;
        let mut forged_zero = transfer_tx(&alice, 2, bob, 0);
        forged_zero.signature.0[0] ^= 1;
        let stranger = Keypair::generate();
        let txs = vec![
            transfer_tx(&alice, 0, bob, 60),   // ok
            transfer_tx(&alice, 1, bob, 60),   // insufficient funds, nonce consumed
            transfer_tx(&alice, 1, bob, 1),    // replay of nonce 1
            wrong_chain,                       // right nonce, wrong chain: no effect
            forged,                            // right nonce, forged signature: no effect
            forged_zero,                       // forged and malformed: still no effect
            transfer_tx(&stranger, 0, bob, 1), // unknown sender
            transfer_tx(&alice, 2, bob, 0),    // zero amount, nonce consumed
        ];
        let executed = execute_block(
            test_engine(),
            &TxVerifier::default(),
            Arc::new(state.clone()),
            &block_of(txs),
            CHAIN,
            &Hash::ZERO,
        )
        .unwrap();
        let codes: Vec<_> = executed.receipts.iter().map(code_of).collect();
        assert_eq!(
            codes,
            vec![
                None,
                Some("insufficient_funds"),
                Some("nonce_mismatch"),
                Some("wrong_chain_id"),
                Some("bad_signature"),
                Some("bad_signature"),
                Some("unknown_account"),
                Some("zero_amount"),
            ]
        );
        let mut after = state.clone();
        apply(&mut after, &executed);
        let read = |a: &Address| decode::<Account>(&after[&account_key(a)], 64).unwrap();
        assert_eq!(read(&alice.address()), Account { balance: 40, nonce: 3 });
        assert_eq!(read(&bob), Account { balance: 60, nonce: 0 });
    }

    #[test]
    fn same_input_same_app_hash() {
        let alice = Keypair::generate();
        let state = state_with(&[(alice.address(), 100)]);
        let block = block_of(vec![transfer_tx(&alice, 0, Address([1; 20]), 5)]);
        let a =
            execute_block(test_engine(), &TxVerifier::default(), Arc::new(state.clone()), &block, CHAIN, &Hash::ZERO)
                .unwrap();
        let b =
            execute_block(test_engine(), &TxVerifier::default(), Arc::new(state.clone()), &block, CHAIN, &Hash::ZERO)
                .unwrap();
        assert_eq!(a.app_hash, b.app_hash);
        let c = execute_block(
            test_engine(),
            &TxVerifier::default(),
            Arc::new(state.clone()),
            &block,
            CHAIN,
            &Hash([1; 32]),
        )
        .unwrap();
        assert_ne!(a.app_hash, c.app_hash, "the app hash chains over the previous one");
    }

    proptest! {
        /// Whatever mix of valid and invalid transfers runs, total supply never changes.
        #[test]
        fn transfers_conserve_total_supply(
            balances in prop::collection::vec(0u128..=u128::MAX / 8, 2..6),
            ops in prop::collection::vec((0usize..6, 0usize..8, any::<u128>(), 0u64..3, any::<bool>()), 0..40),
        ) {
            let keys: Vec<Keypair> = balances.iter().map(|_| Keypair::generate()).collect();
            let accounts: Vec<(Address, u128)> = keys.iter().map(|k| k.address()).zip(balances.iter().copied()).collect();
            let mut state = state_with(&accounts);
            let before = total_supply(&state);
            let mut nonces = vec![0u64; keys.len()];
            for (from, to, amount, nonce_skew, small) in ops {
                let from = from % keys.len();
                let to = if to < keys.len() { keys[to].address() } else { Address([to as u8; 20]) };
                let amount = if small { amount % 1000 } else { amount };
                let tx = transfer_tx(&keys[from], nonces[from] + nonce_skew / 2, to, amount);
                let executed = execute_block(test_engine(), &TxVerifier::default(), Arc::new(state.clone()), &block_of(vec![tx]), CHAIN, &Hash::ZERO).unwrap();
                apply(&mut state, &executed);
                nonces[from] = decode::<Account>(&state[&account_key(&keys[from].address())], 64).unwrap().nonce;
                prop_assert_eq!(total_supply(&state), before);
            }
        }
    }
}

//! Governance through the real executor: who may propose, the threshold, the deadline, and what each kind
//! of proposal does to state.

mod contract_chain;

use consort_node::genesis::{Genesis, GenesisAccount, GenesisValidator};
use consort_node::governance::records::{
    member_key, proposal_key, ChainLimits, GovParams, Member, Proposal, ProposalStatus, ValidatorRecord, LIMITS_KEY,
    VALIDATORS_KEY,
};
use consort_sdk::encoding::decode;
use consort_sdk::{Action, Address, GovAction, Keypair, ProposalKind, PublicKey, Receipt};
use contract_chain::*;

const PEER: &str = "12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA";

struct Consortium {
    chain: Chain,
    admins: Vec<Keypair>,
}

fn consortium() -> Consortium {
    let admins: Vec<Keypair> = (0..3).map(|_| Keypair::generate()).collect();
    let names = ["alpha", "beta", "gamma"];
    let genesis = Genesis {
        chain_id: CHAIN.into(),
        genesis_time_ms: 0,
        validators: names
            .iter()
            .map(|n| GenesisValidator {
                name: (*n).into(),
                public_key: Keypair::generate().public(),
                power: 10,
                peer_id: PEER.into(),
            })
            .collect(),
        accounts: admins.iter().map(|k| GenesisAccount { address: k.address(), balance: FUNDS }).collect(),
        deployers: vec![],
        contracts: Default::default(),
        members: names
            .iter()
            .zip(&admins)
            .map(|(n, k)| Member { name: (*n).into(), admins: vec![k.address()], peer_ids: vec![PEER.into()] })
            .collect(),
        governance: GovParams { threshold_num: 2, threshold_den: 3, voting_period_blocks: 5 },
        blocks: Default::default(),
    };
    genesis.validate().unwrap();
    Consortium { chain: Chain::from_genesis(&genesis), admins }
}

impl Consortium {
    fn propose(&mut self, who: usize, kind: ProposalKind) -> Receipt {
        let key = self.admins[who].clone();
        self.chain.run(&key, Action::Govern(GovAction::Propose { kind }), GAS)
    }

    fn approve(&mut self, who: usize, id: u64) -> Receipt {
        let key = self.admins[who].clone();
        self.chain.run(&key, Action::Govern(GovAction::Approve { id }), GAS)
    }

    fn proposal(&self, id: u64) -> Proposal {
        decode(&self.chain.state[&proposal_key(id)], 1 << 20).unwrap()
    }

    fn validators(&self) -> Vec<ValidatorRecord> {
        decode(&self.chain.state[VALIDATORS_KEY], 1 << 20).unwrap()
    }
}

fn id_of(r: &Receipt) -> u64 {
    assert_ok(r);
    r.event("proposal_created").and_then(|e| e.get("id")).unwrap().parse().unwrap()
}

#[test]
fn a_proposal_executes_when_two_thirds_of_members_approve() {
    let mut c = consortium();
    let new_admin = Keypair::generate().address();
    let add = ProposalKind::AddMember { name: "delta".into(), admins: vec![new_admin], peer_ids: vec![PEER.into()] };
    let id = id_of(&c.propose(0, add));
    assert_eq!(c.proposal(id).status, ProposalStatus::Open, "one of three is not enough");
    assert!(!c.chain.state.contains_key(&member_key("delta")));
    assert_eq!(failure(&c.approve(0, id)).0, "already_approved");
    let r = c.approve(1, id);
    assert_ok(&r);
    assert!(r.event("proposal_executed").is_some() && r.event("member_added").is_some());
    assert_eq!(c.proposal(id).status, ProposalStatus::Executed);
    assert!(c.chain.state.contains_key(&member_key("delta")));
    assert_eq!(failure(&c.approve(2, id)).0, "proposal_closed");

    // With four members, three approvals are needed; the new member's admin may take part.
    let key = Keypair::generate();
    let set = ProposalKind::SetValidator { member: "delta".into(), public_key: key.public(), power: 5 };
    let id = id_of(&c.propose(0, set));
    assert_ok(&c.approve(1, id));
    assert_eq!(c.proposal(id).status, ProposalStatus::Open);
    assert_ok(&c.approve(2, id));
    assert!(c.validators().iter().any(|v| v.public_key == key.public() && v.member == "delta"));
}

#[test]
fn non_members_cannot_propose_and_bad_proposals_are_refused() {
    let mut c = consortium();
    let outsider = Keypair::generate();
    c.chain.state.insert(
        consort_node::exec::account_key(&outsider.address()),
        consort_sdk::encoding::encode(&consort_node::exec::Account { balance: FUNDS, nonce: 0 }),
    );
    let mint = ProposalKind::Mint { to: outsider.address(), amount: 1 };
    let r = c.chain.run(&outsider, Action::Govern(GovAction::Propose { kind: mint }), GAS);
    assert_eq!(failure(&r).0, "not_member");
    for kind in [
        ProposalKind::AddMember { name: "alpha".into(), admins: vec![Address([1; 20])], peer_ids: vec![] },
        ProposalKind::AddMember { name: "Bad Name".into(), admins: vec![Address([1; 20])], peer_ids: vec![] },
        ProposalKind::AddMember { name: "x".into(), admins: vec![c.admins[1].address()], peer_ids: vec![] },
        ProposalKind::AddMember { name: "y".into(), admins: vec![Address([2; 20])], peer_ids: vec!["nope".into()] },
        ProposalKind::RemoveMember { name: "nobody".into() },
        ProposalKind::SetValidator { member: "alpha".into(), public_key: PublicKey([7; 32]), power: 0 },
        ProposalKind::SetLimit { name: "no_such_limit".into(), value: 1 },
        ProposalKind::SetLimit { name: "stack_bytes_max".into(), value: 1 },
        ProposalKind::SetLimit { name: "block_txs_max".into(), value: 0 },
        ProposalKind::Mint { to: Address([1; 20]), amount: 0 },
        ProposalKind::RevokeDeployer { address: Address([1; 20]) },
    ] {
        let r = c.propose(0, kind.clone());
        assert_eq!(failure(&r).0, "bad_proposal", "{kind:?}");
    }
}

#[test]
fn a_proposal_short_of_the_threshold_expires_and_does_nothing() {
    let mut c = consortium();
    let lucky = Keypair::generate().address();
    let id = id_of(&c.propose(0, ProposalKind::Mint { to: lucky, amount: 1_000 }));
    for _ in 0..6 {
        c.chain.block(vec![]);
    }
    let (code, message) = failure(&c.approve(1, id));
    assert_eq!(code, "proposal_expired", "{message}");
    assert_eq!(c.chain.balance(&lucky), 0);
    assert_eq!(c.proposal(id).status, ProposalStatus::Open);
}

#[test]
fn removing_a_member_takes_its_validators_and_mint_grows_supply_exactly() {
    let mut c = consortium();
    let id = id_of(&c.propose(0, ProposalKind::RemoveMember { name: "gamma".into() }));
    assert_ok(&c.approve(1, id));
    assert!(!c.chain.state.contains_key(&member_key("gamma")));
    assert_eq!(c.validators().iter().map(|v| v.member.as_str()).collect::<Vec<_>>(), vec!["alpha", "beta"]);
    // gamma's admin no longer speaks for anyone.
    let mint = ProposalKind::Mint { to: Address([9; 20]), amount: 77 };
    assert_eq!(failure(&c.propose(2, mint.clone())).0, "not_member");
    // Two members now: both must approve (2/3 of 2, rounded up).
    let id = id_of(&c.propose(0, mint));
    assert_eq!(c.chain.balance(&Address([9; 20])), 0);
    let r = c.approve(1, id);
    assert_eq!(r.event("minted").and_then(|e| e.get("amount")), Some("77"));
    assert_eq!(c.chain.balance(&Address([9; 20])), 77);
}

#[test]
fn limits_change_by_name() {
    let mut c = consortium();
    let id = id_of(&c.propose(0, ProposalKind::SetLimit { name: "gas_per_tx_max".into(), value: 5_000_000 }));
    assert_ok(&c.approve(2, id));
    let limits: ChainLimits = decode(&c.chain.state[LIMITS_KEY], 1 << 20).unwrap();
    assert_eq!(limits.contracts.gas_per_tx_max, 5_000_000);
    let old = c.validators()[0].public_key;
    let new = Keypair::generate().public();
    let rotate = ProposalKind::RotateValidatorKey { member: "alpha".into(), old_key: old, new_key: new };
    let id = id_of(&c.propose(0, rotate));
    assert_ok(&c.approve(1, id));
    assert_eq!((c.validators()[0].public_key, c.validators()[0].power), (new, 10));
    let id = id_of(&c.propose(1, ProposalKind::GrantDeployer { address: Address([3; 20]) }));
    let r = c.approve(0, id);
    assert!(r.event("deployer_granted").is_some());
}

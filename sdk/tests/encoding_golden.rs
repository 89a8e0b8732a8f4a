//! Golden bytes pin the wire format: if one of these changes, every signature and hash on every chain
//! changes with it. Update them only together with a new domain tag version.

use consort_sdk::encoding::{decode, encode, DecodeError};
use consort_sdk::signing::{signing_bytes, TX_DOMAIN, VOTE_DOMAIN};
use consort_sdk::*;

fn sample_tx() -> Tx {
    Tx {
        chain_id: "c".into(),
        signer: PublicKey([1; 32]),
        nonce: 2,
        gas_limit: 3,
        action: Action::Transfer { to: Address([4; 20]), amount: 5 },
    }
}

#[test]
fn tx_bytes_are_pinned() {
    let expected = concat!(
        "01000000",
        "63",                                                               // chain_id: len u32 LE, "c"
        "0101010101010101010101010101010101010101010101010101010101010101", // signer
        "0200000000000000",                                                 // nonce u64 LE
        "0300000000000000",                                                 // gas_limit u64 LE
        "00",                                                               // Action::Transfer
        "0404040404040404040404040404040404040404",                         // to
        "05000000000000000000000000000000",                                 // amount u128 LE
    );
    assert_eq!(hex::encode(encode(&sample_tx())), expected);
    assert_eq!(
        hex::encode(signing_bytes(TX_DOMAIN, &sample_tx())),
        format!("{}{expected}", hex::encode(b"consort/tx/v1"))
    );
}

#[test]
fn vote_bytes_are_pinned() {
    let vote =
        Vote { chain_id: "c".into(), height: 7, round: 1, kind: VoteKind::Precommit, block_hash: Some(Hash([9; 32])) };
    let expected = concat!(
        "01000000",
        "63",
        "0700000000000000",
        "01000000",
        "01",
        "01",
        "0909090909090909090909090909090909090909090909090909090909090909",
    );
    assert_eq!(hex::encode(encode(&vote)), expected);
    let nil = Vote { block_hash: None, ..vote };
    assert!(hex::encode(encode(&nil)).ends_with("0100"), "nil vote: kind 01 then None 00");
}

#[test]
fn tx_hash_is_blake3_of_signed_bytes() {
    let key = Keypair::from_secret([42; 32]);
    let tx = key.sign_tx(Tx { signer: key.public(), ..sample_tx() });
    assert_eq!(tx.hash(), Hash::digest(&encode(&tx)));
    // ed25519 is deterministic: the same key and tx always give the same signature and hash.
    assert_eq!(tx.hash(), key.sign_tx(tx.tx.clone()).hash());
}

#[test]
fn decoding_refuses_oversize_truncated_and_trailing_input() {
    let key = Keypair::generate();
    let tx = key.sign_tx(Tx { signer: key.public(), ..sample_tx() });
    let bytes = encode(&tx);
    assert_eq!(decode::<SignedTx>(&bytes, bytes.len()).unwrap(), tx);
    assert!(matches!(decode::<SignedTx>(&bytes, bytes.len() - 1), Err(DecodeError::TooLarge { .. })));
    assert!(matches!(decode::<SignedTx>(&bytes[..bytes.len() - 1], 1 << 20), Err(DecodeError::Malformed(_))));
    let mut trailing = bytes.clone();
    trailing.push(0);
    assert_eq!(decode::<SignedTx>(&trailing, 1 << 20), Err(DecodeError::TrailingBytes(1)));
    // A length prefix claiming 4 GiB of chain id must fail cleanly, not allocate.
    let mut hostile = vec![0xff, 0xff, 0xff, 0xff];
    hostile.extend_from_slice(&[0u8; 64]);
    assert!(decode::<SignedTx>(&hostile, 1 << 20).is_err());
    // An unknown action tag is refused.
    let mut unknown_action = encode(&tx);
    unknown_action[4 + 1 + 32 + 8 + 8] = 9;
    assert!(decode::<SignedTx>(&unknown_action, 1 << 20).is_err());
}

#[test]
fn signatures_verify_and_reject_tampering_and_cross_domain_replay() {
    let key = Keypair::generate();
    let tx = key.sign_tx(Tx { signer: key.public(), ..sample_tx() });
    assert_eq!(tx.verify_signature(), Ok(()));

    let mut changed_amount = tx.clone();
    changed_amount.tx.action = Action::Transfer { to: Address([4; 20]), amount: 6 };
    assert_eq!(changed_amount.verify_signature(), Err(SignatureError::Invalid));

    let mut other_signer = tx.clone();
    other_signer.tx.signer = Keypair::generate().public();
    assert_eq!(other_signer.verify_signature(), Err(SignatureError::Invalid));

    let mut flipped = tx.clone();
    flipped.signature.0[63] ^= 0x10;
    assert!(flipped.verify_signature().is_err());

    // The same bytes signed under the vote domain do not verify as a tx.
    let cross = SignedTx { tx: tx.tx.clone(), signature: key.sign(VOTE_DOMAIN, &tx.tx) };
    assert_eq!(cross.verify_signature(), Err(SignatureError::Invalid));
}

#[test]
fn json_views_keep_u128_exact_and_addresses_readable() {
    let tx = Tx { action: Action::Transfer { to: Address([4; 20]), amount: u128::MAX }, ..sample_tx() };
    let json = serde_json::to_value(&tx).unwrap();
    assert_eq!(json["action"]["transfer"]["amount"], u128::MAX.to_string());
    assert!(json["action"]["transfer"]["to"].as_str().unwrap().starts_with("consort1"));
    assert_eq!(serde_json::from_value::<Tx>(json).unwrap(), tx);
}

use borsh::{BorshDeserialize, BorshSerialize};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct Attribute {
    pub key: String,
    pub value: String,
}

/// Something a tx did, recorded in its receipt: native events such as `instantiate`, and the events a
/// contract emits (each carries a `contract` attribute naming its emitter).
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct Event {
    pub kind: String,
    pub attributes: Vec<Attribute>,
}

impl Event {
    pub fn new(kind: &str, attributes: &[(&str, String)]) -> Event {
        let attributes =
            attributes.iter().map(|(key, value)| Attribute { key: (*key).to_owned(), value: value.clone() }).collect();
        Event { kind: kind.to_owned(), attributes }
    }

    /// The value of the first attribute named `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.attributes.iter().find(|a| a.key == key).map(|a| a.value.as_str())
    }
}

use borsh::{BorshDeserialize, BorshSerialize};
use serde::{Deserialize, Serialize};

/// A key/value pair of an event.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, BorshSerialize, BorshDeserialize)]
pub struct Attribute {
    pub key: String,
    pub value: String,
}

/// Something that happened, for indexers and wallets; it lands in the tx receipt.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, BorshSerialize, BorshDeserialize)]
pub struct Event {
    pub kind: String,
    pub attributes: Vec<Attribute>,
}

impl Event {
    pub fn new(kind: impl Into<String>) -> Event {
        Event { kind: kind.into(), attributes: Vec::new() }
    }

    pub fn attr(mut self, key: impl Into<String>, value: impl ToString) -> Event {
        self.attributes.push(Attribute { key: key.into(), value: value.to_string() });
        self
    }

    /// The value of the first attribute named `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.attributes.iter().find(|a| a.key == key).map(|a| a.value.as_str())
    }
}

/// The result of a successful instantiate, execute or migrate.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Response {
    /// Optional JSON answer for the caller (shown in the receipt).
    pub data: Option<serde_json::Value>,
    pub events: Vec<Event>,
}

impl Response {
    pub fn new() -> Response {
        Response::default()
    }

    pub fn add_event(mut self, event: Event) -> Response {
        self.events.push(event);
        self
    }

    pub fn set_data(mut self, data: impl Serialize) -> Response {
        self.data = serde_json::to_value(data).ok();
        self
    }
}

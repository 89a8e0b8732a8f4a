use borsh::{BorshDeserialize, BorshSerialize};
use serde::{Deserialize, Serialize};

/// Contract limits every node must apply identically, so they live in genesis (`"contracts": {…}`; any
/// field left out takes its default).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, BorshSerialize, BorshDeserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ContractLimits {
    /// Largest wasm module StoreCode accepts.
    pub code_bytes_max: u32,
    /// Linear memory a call may use, initial pages included.
    pub memory_bytes_max: u32,
    /// Elements of the module's function table.
    pub table_elements_max: u32,
    /// Native stack a call may use: deep recursion traps here instead of crashing the node.
    pub stack_bytes_max: u32,
    /// Most gas (wasm fuel plus priced host calls) one tx may ask for.
    pub gas_per_tx_max: u64,
    pub key_bytes_max: u32,
    pub value_bytes_max: u32,
    /// Messages (instantiate/execute/migrate/query JSON) and a call's JSON result.
    pub msg_bytes_max: u32,
    pub result_bytes_max: u32,
    pub events_max: u32,
    /// One event, as JSON.
    pub event_bytes_max: u32,
    pub label_bytes_max: u32,
}

impl Default for ContractLimits {
    fn default() -> Self {
        ContractLimits {
            code_bytes_max: 512 * 1024,
            memory_bytes_max: 16 * 1024 * 1024,
            table_elements_max: 4096,
            stack_bytes_max: 256 * 1024,
            gas_per_tx_max: 100_000_000,
            key_bytes_max: 256,
            value_bytes_max: 64 * 1024,
            msg_bytes_max: 64 * 1024,
            result_bytes_max: 256 * 1024,
            events_max: 64,
            event_bytes_max: 4096,
            label_bytes_max: 128,
        }
    }
}

impl ContractLimits {
    pub fn validate(&self) -> Result<(), String> {
        let positive = [
            ("code_bytes_max", self.code_bytes_max),
            ("memory_bytes_max", self.memory_bytes_max),
            ("stack_bytes_max", self.stack_bytes_max),
            ("key_bytes_max", self.key_bytes_max),
            ("value_bytes_max", self.value_bytes_max),
            ("msg_bytes_max", self.msg_bytes_max),
            ("result_bytes_max", self.result_bytes_max),
            ("event_bytes_max", self.event_bytes_max),
            ("label_bytes_max", self.label_bytes_max),
        ];
        if let Some((name, _)) = positive.iter().find(|(_, v)| *v == 0) {
            return Err(format!("contracts.{name} must be greater than zero"));
        }
        if self.memory_bytes_max < 64 * 1024 {
            return Err("contracts.memory_bytes_max must allow at least one 64 KiB wasm page".into());
        }
        if self.table_elements_max > super::TABLE_ELEMENTS_CAP {
            return Err(format!(
                "contracts.table_elements_max is {}, over this node's cap of {}",
                self.table_elements_max,
                super::TABLE_ELEMENTS_CAP
            ));
        }
        if self.gas_per_tx_max < super::gas::CALL_BASE_GAS {
            return Err(format!("contracts.gas_per_tx_max must be at least {}", super::gas::CALL_BASE_GAS));
        }
        Ok(())
    }
}

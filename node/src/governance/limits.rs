//! The limits governance may change, by name.

use super::records::ChainLimits;

/// Every governed limit's name, as `SetLimit` takes it.
pub const NAMES: [&str; 13] = [
    "block_txs_max",
    "block_bytes_max",
    "code_bytes_max",
    "memory_bytes_max",
    "table_elements_max",
    "gas_per_tx_max",
    "key_bytes_max",
    "value_bytes_max",
    "msg_bytes_max",
    "result_bytes_max",
    "events_max",
    "event_bytes_max",
    "label_bytes_max",
];

/// Sets limit `name` to `value`, refusing unknown names and values the chain cannot run with.
pub fn set_named(limits: &mut ChainLimits, name: &str, value: u64) -> Result<(), String> {
    let narrow = |v: u64| u32::try_from(v).map_err(|_| format!("{name} must fit in 32 bits"));
    let c = &mut limits.contracts;
    match name {
        "block_txs_max" => limits.block_txs_max = value,
        "block_bytes_max" => limits.block_bytes_max = value,
        "code_bytes_max" => c.code_bytes_max = narrow(value)?,
        "memory_bytes_max" => c.memory_bytes_max = narrow(value)?,
        "table_elements_max" => c.table_elements_max = narrow(value)?,
        "gas_per_tx_max" => c.gas_per_tx_max = value,
        "key_bytes_max" => c.key_bytes_max = narrow(value)?,
        "value_bytes_max" => c.value_bytes_max = narrow(value)?,
        "msg_bytes_max" => c.msg_bytes_max = narrow(value)?,
        "result_bytes_max" => c.result_bytes_max = narrow(value)?,
        "events_max" => c.events_max = narrow(value)?,
        "event_bytes_max" => c.event_bytes_max = narrow(value)?,
        "label_bytes_max" => c.label_bytes_max = narrow(value)?,
        "stack_bytes_max" => {
            return Err("stack_bytes_max is fixed by the engine at start; it is set in genesis only".into())
        }
        _ => return Err(format!("unknown limit {name:?}; governed limits are: {}", NAMES.join(", "))),
    }
    if limits.block_txs_max == 0 || limits.block_bytes_max == 0 {
        return Err("block limits must be greater than zero".into());
    }
    limits.contracts.validate()
}

use crate::StdError;

/// What a contract can ask of the chain. The node provides it to wasm modules; [`crate::mock::MockChain`]
/// provides it natively. Storage is private to the contract: keys are scoped by the host.
pub trait Host {
    fn get(&self, key: &[u8]) -> Option<Vec<u8>>;
    fn set(&mut self, key: &[u8], value: &[u8]);
    fn remove(&mut self, key: &[u8]);
    /// The first entry whose key starts with `prefix` and sorts strictly after `after` (or the first
    /// with the prefix when `after` is `None`), in byte order.
    fn next(&self, prefix: &[u8], after: Option<&[u8]>) -> Option<(Vec<u8>, Vec<u8>)>;
    /// Native balance of any address.
    fn balance(&self, address: &str) -> u128;
    /// Sends native funds from the contract's own balance.
    fn send(&mut self, to: &str, amount: u128) -> Result<(), StdError>;
}

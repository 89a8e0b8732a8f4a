/// The column families of the node database (DESIGN §6).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Column {
    /// height (u64 big-endian) → borsh(Block)
    Blocks,
    /// height → borsh(Commit)
    Commits,
    /// tx hash → borsh(Receipt); the receipt holds the tx's height and index, so it also locates the tx
    Receipts,
    /// namespaced state key → value (see exec::ledger for the namespaces)
    State,
    /// chain head, genesis hash, app hash per height
    Meta,
    /// consensus write-ahead log (last signed step, inputs of the current height)
    Wal,
    /// (height, validator, round, step) → borsh(Evidence): verified validator faults this node saw
    Evidence,
}

impl Column {
    pub const ALL: [Column; 7] =
        [Column::Blocks, Column::Commits, Column::Receipts, Column::State, Column::Meta, Column::Wal, Column::Evidence];

    pub fn name(self) -> &'static str {
        match self {
            Column::Blocks => "blocks",
            Column::Commits => "commits",
            Column::Receipts => "receipts",
            Column::State => "state",
            Column::Meta => "meta",
            Column::Wal => "wal",
            Column::Evidence => "evidence",
        }
    }
}

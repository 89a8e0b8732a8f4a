//! Admission to the engine's instance pool. wasmtime's pooling allocator has a fixed number of slots and
//! fails any instantiation beyond them. A block's outcome must never depend on how many RPC queries were
//! running, so every call takes a slot here first, and queries may never take the last few.

use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// Live instances per engine: the pool reserves address space (not memory) for each one.
pub const INSTANCE_SLOTS_MAX: u32 = 16;
/// Slots queries may not take, so block execution never waits on them.
pub const SLOTS_RESERVED_FOR_BLOCKS: u32 = 2;
/// How long a query waits for a free slot before the node answers "busy".
pub const QUERY_SLOT_WAIT: Duration = Duration::from_secs(2);

#[derive(Default)]
struct InUse {
    all: u32,
    queries: u32,
    /// Calls blocked in `freed.wait`: a freed slot wakes them only if there are any, since a notify is a
    /// futex syscall even when nobody waits (one per contract call otherwise).
    waiting: u32,
}

pub struct InstanceSlots {
    in_use: Mutex<InUse>,
    freed: Condvar,
    total: u32,
    queries_max: u32,
}

/// A taken slot; dropping it frees the slot. Drop it only after the instance's store is gone.
pub struct Slot<'a> {
    slots: &'a InstanceSlots,
    query: bool,
}

impl InstanceSlots {
    /// `reserved_for_blocks` must leave at least one slot to queries.
    pub fn new(total: u32, reserved_for_blocks: u32) -> InstanceSlots {
        assert!(reserved_for_blocks < total, "instance slots: {reserved_for_blocks} reserved of {total}");
        InstanceSlots {
            in_use: Mutex::new(InUse::default()),
            freed: Condvar::new(),
            total,
            queries_max: total - reserved_for_blocks,
        }
    }

    fn lock(&self) -> MutexGuard<'_, InUse> {
        self.in_use.lock().expect("instance slot lock poisoned")
    }

    /// A slot for a mutating call. It waits only on other mutating calls: queries leave it the reserve.
    pub fn for_block(&self) -> Slot<'_> {
        let mut in_use = self.lock();
        while in_use.all >= self.total {
            in_use.waiting += 1;
            in_use = self.freed.wait(in_use).expect("instance slot lock poisoned");
            in_use.waiting -= 1;
        }
        in_use.all += 1;
        Slot { slots: self, query: false }
    }

    /// A slot for a query, or `None` when none freed up within `wait`.
    pub fn for_query(&self, wait: Duration) -> Option<Slot<'_>> {
        let deadline = Instant::now() + wait;
        let mut in_use = self.lock();
        while in_use.all >= self.total || in_use.queries >= self.queries_max {
            let left = deadline.checked_duration_since(Instant::now()).filter(|d| !d.is_zero())?;
            in_use.waiting += 1;
            in_use = self.freed.wait_timeout(in_use, left).expect("instance slot lock poisoned").0;
            in_use.waiting -= 1;
        }
        in_use.all += 1;
        in_use.queries += 1;
        Some(Slot { slots: self, query: true })
    }
}

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        let mut in_use = self.slots.lock();
        in_use.all -= 1;
        if self.query {
            in_use.queries -= 1;
        }
        let anyone_waiting = in_use.waiting > 0;
        drop(in_use);
        if anyone_waiting {
            self.slots.freed.notify_all();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_leave_the_reserve_to_blocks() {
        let slots = InstanceSlots::new(3, 1);
        let q1 = slots.for_query(Duration::ZERO).expect("first query slot");
        let _q2 = slots.for_query(Duration::ZERO).expect("second query slot");
        assert!(slots.for_query(Duration::from_millis(10)).is_none(), "the reserved slot went to a query");
        let _block = slots.for_block();
        drop(q1);
        assert!(slots.for_query(Duration::ZERO).is_some(), "a freed query slot was not handed out again");
    }

    #[test]
    fn a_waiting_block_gets_the_next_freed_slot() {
        let slots = std::sync::Arc::new(InstanceSlots::new(2, 1));
        let held = slots.for_block();
        let _other = slots.for_block();
        let waiter = {
            let slots = slots.clone();
            std::thread::spawn(move || {
                let _slot = slots.for_block();
            })
        };
        drop(held);
        waiter.join().expect("the waiting block call never got a slot");
        assert!(slots.for_query(Duration::ZERO).is_some(), "the waiter's slot was not freed");
    }

    /// A freed slot wakes a waiting query (wakes are skipped only when nobody waits): without the wake it
    /// would time out and get nothing.
    #[test]
    fn a_waiting_query_gets_the_next_freed_slot() {
        let slots = std::sync::Arc::new(InstanceSlots::new(2, 1));
        let held = slots.for_query(Duration::ZERO).expect("the one query slot");
        let waiter = {
            let slots = slots.clone();
            std::thread::spawn(move || slots.for_query(Duration::from_secs(120)).is_some())
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        while slots.lock().waiting == 0 {
            assert!(Instant::now() < deadline, "the query never started waiting");
            std::thread::yield_now();
        }
        drop(held);
        assert!(waiter.join().expect("the waiting query panicked"), "the waiting query was never woken");
    }
}

//! Tuning of glibc's allocator: fewer arenas, and freed heap handed back after genesis.
//!
//! glibc's allocator keeps one arena per thread, up to eight per core, and each arena keeps what its
//! threads freed. The node's short-lived signature-verification threads spread allocations over all of
//! them: peak RSS per node after `scripts/bench-tps.sh` was 203–257 MiB with glibc's default and 156–184 MiB
//! with two arenas, at the same throughput.

/// Arenas the node's allocator uses, unless `MALLOC_ARENA_MAX` in the environment says otherwise.
pub const MALLOC_ARENAS_MAX: i32 = 2;

/// Caps glibc's malloc arenas at `MALLOC_ARENAS_MAX`; call first thing in `main`, before other threads.
pub fn limit() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    if std::env::var_os("MALLOC_ARENA_MAX").is_none() {
        // SAFETY: mallopt only sets an allocator parameter; it is called before any other thread exists.
        unsafe {
            libc::mallopt(libc::M_ARENA_MAX, MALLOC_ARENAS_MAX);
        }
    }
}

/// Hands the heap memory freed so far back to the kernel. glibc returns it only from the top of the heap,
/// so after a burst of small allocations (importing genesis) most of it would stay resident unused.
pub fn release_freed() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only releases free memory of the allocator; it is safe to call at any time.
    unsafe {
        libc::malloc_trim(0);
    }
}

//! mmant: long-term action anticipation (m&m-Ant and FUTR) with a video viewer.
//!
//! Data flows one way: video → frames → features → model → predictions → timeline/CSV.
//! This crate's modules follow that flow; `data` and `eval` are the foundation the others use.

pub mod annotation;
pub mod bench;
pub mod channel;
pub mod cli;
pub mod custom_op;
pub mod data;
pub mod demo;
pub mod eval;
pub mod features;
pub mod fsutil;
pub mod model;
pub mod predict;
pub mod text;
pub mod train;
pub mod video;
pub mod viewer;

/// candle allocates a fresh buffer for every tensor op; glibc hands large ones back to the kernel
/// at once, so each new one is page-faulted and zeroed again (over 10 % of training time). Keep
/// freed memory in the heap instead. Call first thing in `main`, before any other thread starts.
pub fn tune_allocator() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets allocator parameters; called before any other thread starts.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 30);
        libc::mallopt(libc::M_TRIM_THRESHOLD, i32::MAX);
        libc::mallopt(libc::M_TOP_PAD, 256 << 20);
    }
}

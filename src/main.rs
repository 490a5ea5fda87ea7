//! The `mmant` binary: parses arguments and hands over to the library (see `cli`).

use std::process::ExitCode;

/// candle allocates a fresh buffer for every tensor op; glibc hands large ones back to the kernel
/// at once, so each new one is page-faulted and zeroed again (over 10 % of training time). Keep
/// freed memory in the heap instead.
fn tune_allocator() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets allocator parameters; called before any other thread starts.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 30);
        libc::mallopt(libc::M_TRIM_THRESHOLD, i32::MAX);
        libc::mallopt(libc::M_TOP_PAD, 256 << 20);
    }
}

fn main() -> ExitCode {
    tune_allocator();
    match mmant::cli::run(std::env::args_os()) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(2)
        }
    }
}

use clap::Parser;

fn main() {
    keep_freed_memory_for_reuse();
    let cli = talhorn::cli::Cli::parse();
    std::process::exit(talhorn::cli::run(cli));
}

/// glibc's malloc hands memory back to the system as soon as 128 KiB are free at the top of a
/// heap, and grows a heap 128 KiB at a time. A lint reads a folder in pieces and frees each
/// piece before the next, so it gave back and took again the same few megabytes all run long:
/// about 260 `mprotect` calls and as many freshly zeroed pages at 2,000 files, some 3 % of the
/// lint's CPU (docs/performance.md, the tenth pass). Keeping up to 64 MiB of freed memory for
/// the next piece, and growing 4 MiB at a time (address space only: a page counts towards the
/// resident set once it is touched), takes that away; the peak stays the peak.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn keep_freed_memory_for_reuse() {
    // SAFETY: `mallopt` only sets two of malloc's tuning parameters; it is called first thing
    // in `main`, before any other thread exists.
    unsafe {
        libc::mallopt(libc::M_TRIM_THRESHOLD, 64 << 20);
        libc::mallopt(libc::M_TOP_PAD, 4 << 20);
    }
}

/// Other allocators (musl, macOS) are left as they are.
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn keep_freed_memory_for_reuse() {}

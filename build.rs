//! Links `talhorn` as a position-dependent executable on Linux with glibc.
//!
//! A position-independent executable is relocated by the dynamic loader each time it starts:
//! about 16,000 pointers in the release binary, written one by one into pages that are then
//! private to the process. That was a fifth of a one-file lint's start (0.4–0.6 ms of about
//! 2; docs/performance.md, "Lint: the eleventh pass"). Linked at a fixed address, the
//! executable has no such relocations; the libraries, stack and heap are still placed at
//! random. Building with `TALHORN_PIE=1` in the environment keeps the executable
//! position-independent.
fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=TALHORN_PIE");
    if std::env::var_os("TALHORN_PIE").is_some() {
        return;
    }
    let target_os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    let target_env = std::env::var("CARGO_CFG_TARGET_ENV").unwrap_or_default();
    if target_os == "linux" && target_env == "gnu" {
        println!("cargo:rustc-link-arg-bins=-no-pie");
    }
}

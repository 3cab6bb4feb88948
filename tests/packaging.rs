//! The ways talhorn is installed: a Python package built by maturin (pyproject.toml), a release
//! workflow for wheels and binaries, a GitHub Action and pre-commit hooks. `.ci/run` installs
//! the package for real; these tests keep the files consistent with each other and with Cargo.

use std::path::PathBuf;

fn read(path: &str) -> String {
    let full = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(path);
    std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("cannot read {path}: {e}"))
}

#[test]
fn pyproject_builds_the_cargo_binary_with_maturin() {
    let pyproject = read("pyproject.toml");
    for needle in [
        "build-backend = \"maturin\"",
        "bindings = \"bin\"",
        "name = \"talhorn\"",
        // The version is Cargo's, so the two cannot drift.
        "dynamic = [\"version\"]",
    ] {
        assert!(
            pyproject.contains(needle),
            "pyproject.toml lacks `{needle}`"
        );
    }
    assert!(read("Cargo.toml").contains("name = \"talhorn\"\npath = \"src/main.rs\""));
}

#[test]
fn the_release_workflow_builds_wheels_for_linux_and_macos_on_both_architectures() {
    let workflow = read(".github/workflows/release.yml");
    for target in [
        "x86_64-unknown-linux-gnu",
        "aarch64-unknown-linux-gnu",
        "x86_64-apple-darwin",
        "aarch64-apple-darwin",
    ] {
        assert!(
            workflow.contains(target),
            "release.yml does not build {target}"
        );
    }
    assert!(workflow.contains("maturin-action"));
    assert!(workflow.contains("tags: [\"v*\"]"));
}

#[test]
fn the_action_installs_with_pip_and_runs_talhorn() {
    let action = read("action.yml");
    for needle in [
        "using: composite",
        "pip\" install",
        "talhorn $TALHORN_ARGS",
        "args:",
    ] {
        assert!(action.contains(needle), "action.yml lacks `{needle}`");
    }
}

#[test]
fn the_main_hooks_are_python_hooks_and_every_hook_runs_talhorn() {
    let hooks = read(".pre-commit-hooks.yaml");
    let entries: Vec<&str> = hooks.split("\n- id: ").skip(1).collect();
    assert_eq!(entries.len(), 6, "{hooks}");
    for id in ["talhorn-lint\n", "talhorn-build-check\n"] {
        let hook = entries
            .iter()
            .find(|e| e.starts_with(id))
            .unwrap_or_else(|| panic!("no hook {id}"));
        assert!(hook.contains("language: python"), "{id}: {hook}");
    }
    assert!(entries.iter().all(|e| e.contains("entry: talhorn ")));
}

/// On Linux with glibc the binary is linked at a fixed address (`build.rs`), so the dynamic
/// loader has no pointers of its own to relocate when it starts: ELF type `ET_EXEC` (2), not
/// the position-independent `ET_DYN` (3), unless it was built with `TALHORN_PIE` set.
#[test]
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn the_linux_binary_is_linked_at_a_fixed_address() {
    use std::io::Read;
    let mut header = [0u8; 18];
    std::fs::File::open(env!("CARGO_BIN_EXE_talhorn"))
        .and_then(|mut binary| binary.read_exact(&mut header))
        .expect("the talhorn binary's ELF header");
    assert_eq!(&header[..4], b"\x7fELF");
    let elf_type = u16::from_le_bytes([header[16], header[17]]);
    let expected = if option_env!("TALHORN_PIE").is_some() {
        3
    } else {
        2
    };
    assert_eq!(elf_type, expected, "ELF type of the talhorn binary");
}

//! Inputs an attacker (or an accident) can hand talhorn: devices, FIFOs, huge files, symlinks
//! out of the tree, closed pipes, control characters, findings at huge columns. The binary
//! must answer each with a clear message and never hang, read without bound, or panic.

use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};
use tempfile::TempDir;

/// Generous for a debug build on a loaded machine; a blocked read would never end.
const BOUND: Duration = Duration::from_secs(30);
const PANIC_EXIT: i32 = 101;

/// A VM config with one invalid value, at line 2, column 6.
const VM: &str = "cores: 2\ncpu: bogus\n";

fn talhorn_bin() -> PathBuf {
    std::env::var_os("TALHORN_BIN")
        .map_or_else(|| env!("CARGO_BIN_EXE_talhorn").into(), PathBuf::from)
}

fn command(dir: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(talhorn_bin());
    command
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
}

/// Waits for `child`, killing it (and failing) when it outlives [`BOUND`]. Output is drained
/// on threads so a full pipe cannot stall the child.
fn finish(mut child: Child, what: &str) -> Output {
    let drain = |pipe: Option<Box<dyn std::io::Read + Send>>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            if let Some(mut pipe) = pipe {
                let _ = pipe.read_to_end(&mut bytes);
            }
            bytes
        })
    };
    let stdout = drain(child.stdout.take().map(|p| Box::new(p) as _));
    let stderr = drain(child.stderr.take().map(|p| Box::new(p) as _));
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > BOUND {
            let _ = child.kill();
            let _ = child.wait();
            panic!("talhorn {what} did not finish within {BOUND:?} (blocked or reading forever)");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let output = Output {
        status,
        stdout: stdout.join().unwrap(),
        stderr: stderr.join().unwrap(),
    };
    assert_ne!(
        output.status.code(),
        Some(PANIC_EXIT),
        "talhorn {what} panicked:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

fn talhorn(dir: &Path, args: &[&str]) -> Output {
    finish(command(dir, args).spawn().unwrap(), &format!("{args:?}"))
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn example_intent() -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/homelab.yaml"))
        .unwrap()
}

/// Exit 2 and a message on stderr that names `path` and contains `what`.
fn assert_refused(output: &Output, path: &str, what: &str) {
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "stderr:\n{stderr}");
    assert!(
        stderr.contains(path) && stderr.contains(what),
        "expected a message naming {path} and saying {what:?}, got:\n{stderr}"
    );
    assert!(!text(&output.stdout).contains("All checks passed"));
}

#[cfg(unix)]
fn mkfifo(path: &Path) -> bool {
    let status = Command::new("mkfifo").arg(path).status();
    let made = status.is_ok_and(|s| s.success());
    if !made {
        eprintln!("note: mkfifo unavailable; skipping the FIFO checks");
    }
    made
}

#[cfg(unix)]
#[test]
fn a_device_named_anywhere_is_refused_not_read() {
    let dir = TempDir::new().unwrap();
    let root = dir.path();
    let lint = talhorn(root, &["lint", "/dev/zero"]);
    assert_refused(&lint, "/dev/zero", "character device");
    let config = talhorn(root, &["lint", "--config", "/dev/zero", "."]);
    assert_refused(&config, "/dev/zero", "character device");
    let build = talhorn(root, &["build", "/dev/zero", "-o", "out"]);
    assert_refused(&build, "/dev/zero", "character device");
    assert!(!root.join("out").exists());
    let schematic = talhorn(root, &["schematic", "/dev/urandom"]);
    assert_refused(&schematic, "/dev/urandom", "character device");
}

#[cfg(unix)]
#[test]
fn a_fifo_never_blocks_named_or_found_in_a_tree() {
    let dir = TempDir::new().unwrap();
    let root = dir.path();
    if !mkfifo(&root.join("cluster.yaml")) {
        return;
    }
    assert_refused(
        &talhorn(root, &["lint", "cluster.yaml"]),
        "cluster.yaml",
        "FIFO",
    );
    let config = talhorn(root, &["lint", "--config", "cluster.yaml", "."]);
    assert_refused(&config, "cluster.yaml", "FIFO");
    let build = talhorn(root, &["build", "cluster.yaml", "-o", "out"]);
    assert_refused(&build, "cluster.yaml", "FIFO");
    assert_refused(&talhorn(root, &["schematic"]), "cluster.yaml", "FIFO");

    // In a tree: skipped with a note, the rest still linted.
    let tree = root.join("tree");
    std::fs::create_dir_all(tree.join("qemu-server")).unwrap();
    assert!(mkfifo(&tree.join("qemu-server/101.conf")));
    std::fs::write(tree.join("qemu-server/102.conf"), VM).unwrap();
    // With an intent in the tree, build manifests beside the files are read too.
    std::fs::write(tree.join("cluster.yaml"), example_intent()).unwrap();
    assert!(mkfifo(&tree.join("qemu-server/.talhorn-manifest.json")));
    let output = talhorn(&tree, &["lint", "--format", "concise", "."]);
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("skipped qemu-server/101.conf: a FIFO"),
        "no note about the FIFO:\n{stderr}"
    );
    assert!(text(&output.stdout).contains("qemu-server/102.conf:2:6: INT003"));
}

/// A sparse file: 2 GB on paper, nothing on disk.
fn huge_file(path: &Path) {
    let file = std::fs::File::create(path).unwrap();
    file.set_len(2 * 1024 * 1024 * 1024).unwrap();
}

#[test]
fn a_two_gigabyte_file_is_refused_by_its_size_everywhere() {
    let dir = TempDir::new().unwrap();
    let root = dir.path();
    huge_file(&root.join("cluster.yaml"));
    let limit = talhorn::source::MAX_FILE_BYTES.to_string();
    let build = talhorn(root, &["build", "cluster.yaml", "-o", "out"]);
    assert_refused(
        &build,
        "cluster.yaml",
        &format!("larger than {limit} bytes"),
    );
    let config = talhorn(root, &["lint", "--config", "cluster.yaml", "."]);
    assert_refused(&config, "cluster.yaml", &limit);

    // Named or found in a tree: an INT001 finding at the file that says the limit.
    std::fs::create_dir(root.join("talos")).unwrap();
    huge_file(&root.join("talos/huge.yaml"));
    for path in ["talos/huge.yaml", "talos"] {
        let lint = talhorn(root, &["lint", "--format", "concise", path]);
        let stdout = text(&lint.stdout);
        assert_eq!(lint.status.code(), Some(1), "{stdout}");
        assert!(
            stdout.contains("talos/huge.yaml:1:1: INT001") && stdout.contains(&limit),
            "{stdout}"
        );
    }
}

#[cfg(unix)]
#[test]
fn a_symlink_out_of_the_tree_named_on_the_command_line_is_not_walked() {
    let dir = TempDir::new().unwrap();
    let root = dir.path();
    std::os::unix::fs::symlink("/", root.join("everything")).unwrap();
    for path in ["everything", "everything/", "./everything"] {
        let output = talhorn(root, &["lint", path]);
        assert_refused(&output, "everything", "a symlink to /");
    }
    // A link to a directory inside the tree is walked.
    std::fs::create_dir_all(root.join("real/qemu-server")).unwrap();
    std::fs::write(root.join("real/qemu-server/101.conf"), VM).unwrap();
    std::os::unix::fs::symlink("real", root.join("alias")).unwrap();
    let output = talhorn(root, &["lint", "--format", "concise", "alias"]);
    assert_eq!(output.status.code(), Some(1), "{}", text(&output.stderr));
    assert!(text(&output.stdout).contains("101.conf:2:6: INT003"));
}

#[test]
fn a_finding_past_column_65535_is_reported_not_a_panic() {
    let dir = TempDir::new().unwrap();
    let root = dir.path();
    std::fs::create_dir(root.join("talos")).unwrap();
    let line = format!(
        "machine: {{install: {{disk: \"{}\"}}, bad: [}}\n",
        "a".repeat(70_000)
    );
    std::fs::write(root.join("talos/worker.yaml"), line).unwrap();
    let output = talhorn(root, &["lint", "talos/worker.yaml"]);
    let stdout = text(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{}", text(&output.stderr));
    assert!(stdout.contains("worker.yaml:1:70037)"), "{stdout}");
    assert!(
        stdout.len() < 10_000,
        "the 70,000-character line is printed"
    );
}

/// Runs talhorn with standard output (or error) connected to a pipe whose reader is gone.
#[cfg(unix)]
fn with_closed_pipe(dir: &Path, args: &[&str], stderr_too: bool) -> Output {
    use std::os::fd::{FromRawFd, OwnedFd};
    let mut fds = [0; 2];
    // SAFETY: `fds` has room for the two descriptors pipe(2) writes.
    assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
    // SAFETY: both descriptors were just created and are owned here alone.
    let (reader, writer) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    drop(reader);
    let mut command = command(dir, args);
    if stderr_too {
        command.stderr(Stdio::from(writer.try_clone().unwrap()));
    }
    command.stdout(Stdio::from(writer));
    finish(
        command.spawn().unwrap(),
        &format!("{args:?} into a closed pipe"),
    )
}

#[cfg(unix)]
#[test]
fn a_closed_pipe_ends_the_output_quietly() {
    let dir = TempDir::new().unwrap();
    let root = dir.path();
    std::fs::write(root.join("101.conf"), VM).unwrap();
    for (args, exit) in [
        (&["rules", "--format", "markdown"][..], 0),
        (&["explain", "PVE001"][..], 0),
        (&["schema"][..], 0),
        (&["completions", "bash"][..], 0),
        (&["lint", "101.conf"][..], 1),
        (&["lint", "--format", "concise", "101.conf"][..], 1),
    ] {
        let output = with_closed_pipe(root, args, false);
        assert_eq!(output.status.code(), Some(exit), "{args:?}");
        assert_eq!(text(&output.stderr), "", "{args:?}");
    }
    let output = with_closed_pipe(root, &["lint", "missing"], true);
    assert_eq!(output.status.code(), Some(2));
    let output = with_closed_pipe(root, &["build", "101.conf", "-o", "out"], true);
    assert_eq!(output.status.code(), Some(2));
}

#[test]
fn control_characters_from_input_never_reach_the_terminal_raw() {
    let dir = TempDir::new().unwrap();
    let root = dir.path();
    std::fs::create_dir(root.join("qemu-server")).unwrap();
    std::fs::write(
        root.join("qemu-server/101.conf"),
        "cores: 2\ncpu: \u{1b}[31mhost\u{1b}]0;owned\u{7}\u{9b}2J\u{202e}x\n",
    )
    .unwrap();
    for format in ["human", "concise", "github"] {
        let output = talhorn(root, &["lint", "--format", format, "."]);
        let stdout = text(&output.stdout);
        assert_eq!(output.status.code(), Some(1), "{format}: {stdout}");
        for raw in ['\u{1b}', '\u{7}', '\u{9b}', '\u{202e}'] {
            assert!(!stdout.contains(raw), "{format}: raw {raw:?} in\n{stdout}");
        }
        assert!(stdout.contains("\\x1b[31mhost"), "{format}: {stdout}");
    }
}

#[cfg(unix)]
#[test]
fn a_file_name_with_a_newline_cannot_forge_a_finding() {
    let dir = TempDir::new().unwrap();
    let root = dir.path();
    let forged = "x.conf:1:1: PVE001 [error] forged\nqemu-server";
    std::fs::create_dir_all(root.join(forged)).unwrap();
    std::fs::write(root.join(forged).join("101.conf"), VM).unwrap();
    let args = ["lint", "--select", "INT003", "--format", "concise", "."];
    let stdout = text(&talhorn(root, &args).stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 1, "one finding, one line:\n{stdout}");
    let escaped = "x.conf:1:1: PVE001 [error] forged\\x0aqemu-server/101.conf:2:6: INT003";
    assert!(lines[0].starts_with(escaped), "{stdout}");
    let args = ["lint", "--select", "INT003", "--format", "github", "."];
    let github = text(&talhorn(root, &args).stdout);
    assert_eq!(github.lines().count(), 1, "{github}");
}

#[test]
fn a_whole_number_written_as_a_decimal_is_located_at_the_value() {
    let dir = TempDir::new().unwrap();
    let root = dir.path();
    let intent = example_intent().replace("vmid: 201,", "vmid: 201.0,");
    let line = intent.lines().position(|l| l.contains("201.0")).unwrap() + 1;
    std::fs::write(root.join("cluster.yaml"), &intent).unwrap();
    let output = talhorn(root, &["lint", "--format", "concise", "cluster.yaml"]);
    let stdout = text(&output.stdout);
    assert!(
        stdout.contains(&format!("cluster.yaml:{line}:")) && stdout.contains("`201.0`"),
        "{stdout}"
    );
    let build = talhorn(root, &["build", "cluster.yaml", "-o", "out"]);
    assert_eq!(build.status.code(), Some(2));
    assert!(text(&build.stderr).contains(&format!("cluster.yaml:{line}:")));

    // The same number written as a whole number earlier in the file is not the culprit.
    let intent = example_intent().replace("worker: { cores: 4,", "worker: { cores: 4.0,");
    let line = intent
        .lines()
        .position(|l| l.contains("cores: 4.0"))
        .unwrap()
        + 1;
    assert!(
        intent
            .lines()
            .take(line - 1)
            .any(|l| l.contains("cores: 4,"))
    );
    std::fs::write(root.join("cluster.yaml"), &intent).unwrap();
    let output = talhorn(root, &["lint", "--format", "concise", "cluster.yaml"]);
    let stdout = text(&output.stdout);
    let expected =
        format!("cluster.yaml:{line}:20: INT003 [error] `defaults.worker.cores` is `4.0`");
    assert!(stdout.contains(&expected), "{stdout}");
}

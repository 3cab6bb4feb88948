//! Issue 11, "the first hour": what a new user trips over, through the binary. Configuration per
//! file, every independent problem in one run, sizes that cannot be carried, CLI conventions.

mod build_support;

use build_support::repo;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn bin() -> PathBuf {
    std::env::var_os("TALHORN_BIN")
        .map_or_else(|| env!("CARGO_BIN_EXE_talhorn").into(), PathBuf::from)
}

fn talhorn_with(dir: &Path, args: &[&str], env: &[(&str, &str)], stdin: Option<&str>) -> Run {
    let mut command = Command::new(bin());
    command
        .args(args)
        .current_dir(dir)
        .env_remove("NO_COLOR")
        .env_remove("FORCE_COLOR")
        .env_remove("CLICOLOR_FORCE")
        .env_remove("TERM")
        .env_remove("COLUMNS")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (key, value) in env {
        command.env(key, value);
    }
    let mut child = command
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run talhorn: {e}"));
    if let Some(mut pipe) = child.stdin.take() {
        use std::io::Write;
        let _ = pipe.write_all(stdin.unwrap_or_default().as_bytes());
    }
    let output = child.wait_with_output().unwrap_or_else(|e| panic!("{e}"));
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

fn talhorn(dir: &Path, args: &[&str]) -> Run {
    talhorn_with(dir, args, &[], None)
}

fn write(path: &Path, text: &str) {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).unwrap_or_else(|e| panic!("{e}"));
    }
    std::fs::write(path, text).unwrap_or_else(|e| panic!("{e}"));
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// A repository (it has `.git`) holding the README example as `cluster.yaml`, edited.
fn repo_with_intent(edit: impl FnOnce(String) -> String) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    std::fs::create_dir(dir.path().join(".git")).unwrap_or_else(|e| panic!("{e}"));
    let example = read(&repo().join("examples/homelab.yaml"));
    write(&dir.path().join("cluster.yaml"), &edit(example));
    dir
}

fn replace_once(text: &str, from: &str, to: &str) -> String {
    assert_eq!(text.matches(from).count(), 1, "`{from}` must occur once");
    text.replacen(from, to, 1)
}

fn kvm64_vm() -> String {
    read(&repo().join("fixtures/cli/kvm64/proxmox/101-cp-1.conf"))
}

// ---- item 1: .talhorn.yaml from each file's folder upwards ----

const PVE001_WARNING: &str = "lint:\n  severity:\n    PVE001: warning\n";

#[test]
fn a_file_named_on_the_command_line_uses_the_configuration_above_it() {
    let dir = repo_with_intent(|t| t);
    write(&dir.path().join(".talhorn.yaml"), PVE001_WARNING);
    write(&dir.path().join("proxmox/101-cp-1.conf"), &kvm64_vm());
    for (cwd, path) in [
        (dir.path().to_path_buf(), "proxmox/101-cp-1.conf"),
        (dir.path().join("proxmox"), "101-cp-1.conf"),
    ] {
        let run = talhorn(&cwd, &["lint", "--format", "concise", path]);
        assert!(
            run.stdout.contains("PVE001 [warning]"),
            "{path}: {}",
            run.stdout
        );
        assert_eq!(run.code, 0, "{path}: {}{}", run.stdout, run.stderr);
    }
}

#[test]
fn each_file_uses_its_nearest_configuration() {
    let dir = repo_with_intent(|t| t);
    write(&dir.path().join("a/101-cp-1.conf"), &kvm64_vm());
    write(
        &dir.path().join("b/102-cp-2.conf"),
        &kvm64_vm().replace("cp-1", "cp-2"),
    );
    write(
        &dir.path().join("b/.talhorn.yaml"),
        "lint:\n  ignore: [PVE001]\n",
    );
    let run = talhorn(dir.path(), &["lint", "--format", "concise", "a", "b"]);
    assert!(
        run.stdout.contains("a/101-cp-1.conf") && run.stdout.contains("PVE001"),
        "{}",
        run.stdout
    );
    assert!(
        !run.stdout.contains("b/102-cp-2.conf:6:6: PVE001"),
        "b's configuration ignores PVE001:\n{}",
        run.stdout
    );
    // The same files named one by one, as pre-commit passes them.
    let named = talhorn(
        dir.path(),
        &[
            "lint",
            "--format",
            "concise",
            "b/102-cp-2.conf",
            "a/101-cp-1.conf",
        ],
    );
    assert!(
        named.stdout.contains("a/101-cp-1.conf:6:6: PVE001"),
        "{}",
        named.stdout
    );
    assert!(
        !named.stdout.contains("b/102-cp-2.conf:6:6: PVE001"),
        "{}",
        named.stdout
    );
}

#[test]
fn build_uses_the_configuration_beside_the_intent() {
    let dir = repo_with_intent(|t| {
        replace_once(
            &t,
            "worker: { cores: 4, memory: 8GiB, cpu: host",
            "worker: { cores: 4, memory: 8GiB, cpu: kvm64",
        )
    });
    let refused = talhorn(dir.path(), &["build", "cluster.yaml", "-o", "out"]);
    assert_eq!(refused.code, 1, "{}", refused.stderr);
    write(&dir.path().join(".talhorn.yaml"), PVE001_WARNING);
    let run = talhorn(dir.path(), &["build", "cluster.yaml", "-o", "out"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr.contains("PVE001"),
        "the finding is still shown: {}",
        run.stderr
    );
}

// ---- item 3: every independent problem in one run ----

#[test]
fn a_duplicate_address_does_not_hide_the_other_findings() {
    let dir = repo_with_intent(|t| {
        let t = replace_once(&t, "ip: 10.20.0.22,", "ip: 10.20.0.21,");
        let t = replace_once(
            &t,
            "worker: { cores: 4, memory: 8GiB, cpu: host",
            "worker: { cores: 4, memory: 0GiB, cpu: kvm64",
        );
        let t = replace_once(&t, "ip: 10.20.0.13,", "ip: 10.30.0.13,");
        replace_once(
            &t,
            "dataDisk: { size: 200G, storage: local-lvm }",
            "dataDisk: { size: 200G, storage: local-lmv }",
        )
    });
    for args in [
        &["lint", "--format", "concise", "cluster.yaml"][..],
        &["build", "cluster.yaml", "-o", "out"][..],
    ] {
        let run = talhorn(dir.path(), args);
        let text = format!("{}{}", run.stdout, run.stderr);
        for expected in [
            "NET004",
            "PVE001",
            "`0GiB` is less than 1 MiB",
            "outside the cluster subnet",
            "storage `local-lmv` is not declared",
        ] {
            assert!(
                text.contains(expected),
                "{args:?}: `{expected}` missing in one run:\n{text}"
            );
        }
        assert_ne!(run.code, 0);
    }
    assert!(
        !dir.path().join("out").exists(),
        "build wrote despite errors"
    );
}

#[test]
fn schema_errors_are_all_reported_with_duplicate_keys() {
    let dir = repo_with_intent(|t| {
        let t = replace_once(&t, "  replicas: 3\n", "  replicas: three\n  replica: 3\n");
        let t = replace_once(&t, "  engine: v1\n", "  engine: v1\n  engine: v2\n");
        replace_once(&t, "  speedGbps: 10\n", "  speedGbps: fast\n")
    });
    let run = talhorn(dir.path(), &["lint", "--format", "concise", "cluster.yaml"]);
    for expected in [
        "duplicate key `engine`",
        "unknown key `replica`",
        "longhorn.replicas",
        "network.speedGbps",
    ] {
        assert!(
            run.stdout.contains(expected),
            "`{expected}` missing:\n{}",
            run.stdout
        );
    }
}

// ---- item 4: sizes the schema cannot carry ----

#[test]
fn sizes_proxmox_cannot_carry_are_located_errors_not_defaults() {
    for (size, reason) in [
        ("0GiB", "less than 1 MiB"),
        ("512KiB", "less than 1 MiB"),
        ("1.5MiB", "whole number of MiB"),
    ] {
        let dir =
            repo_with_intent(|t| replace_once(&t, "memory: 8GiB", &format!("memory: {size}")));
        let run = talhorn(dir.path(), &["build", "cluster.yaml", "-o", "out"]);
        assert_eq!(run.code, 2, "{size}: {}", run.stderr);
        assert!(
            run.stderr.contains("cluster.yaml:41:"),
            "{size}: not located:\n{}",
            run.stderr
        );
        assert!(run.stderr.contains(reason), "{size}: {}", run.stderr);
        assert!(
            !dir.path().join("out").exists(),
            "{size}: a VM was written with a default"
        );
    }
}

#[test]
fn a_retired_intent_key_is_refused_by_name_not_ignored() {
    let dir = repo_with_intent(|t| {
        replace_once(
            &t,
            "  bridge: vmbr0\n",
            "  bridge: vmbr0\n  interface: eth0\n",
        )
    });
    let run = talhorn(dir.path(), &["build", "cluster.yaml", "-o", "out"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("`network.interface` is no longer read")
            && run.stderr.contains("nodes[].mac"),
        "{}",
        run.stderr
    );
    assert!(!dir.path().join("out").exists());
}

// ---- item 8: fingerprints that survive a line inserted above ----

fn fingerprints(dir: &Path, format: &str) -> Vec<String> {
    let run = talhorn(dir, &["lint", "--format", format, "--exit-zero", "."]);
    let json: serde_json::Value =
        serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}: {}", run.stdout));
    match format {
        "gitlab" => json
            .as_array()
            .into_iter()
            .flatten()
            .map(|i| i["fingerprint"].to_string())
            .collect(),
        _ => json["runs"][0]["results"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|r| r["partialFingerprints"]["talhorn/v1"].to_string())
            .collect(),
    }
}

#[test]
fn fingerprints_do_not_change_when_a_line_is_inserted_above() {
    let dir = repo_with_intent(|t| {
        let t = replace_once(
            &t,
            "worker: { cores: 4, memory: 8GiB, cpu: host",
            "worker: { cores: 1, memory: 1GiB, cpu: kvm64",
        );
        replace_once(&t, "  mtu: 9000\n", "  mtu: 1500\n")
    });
    write(&dir.path().join("proxmox/101-cp-1.conf"), &kvm64_vm());
    for format in ["gitlab", "sarif"] {
        let before = fingerprints(dir.path(), format);
        assert!(before.len() >= 4, "{format}: {before:?}");
        assert!(before.iter().all(|f| f.len() == 66), "{format}: {before:?}");
        let intent = read(&dir.path().join("cluster.yaml"));
        let conf = kvm64_vm();
        write(
            &dir.path().join("cluster.yaml"),
            &format!("# a comment\n{intent}"),
        );
        write(
            &dir.path().join("proxmox/101-cp-1.conf"),
            &format!("# a comment\n{conf}"),
        );
        let after = fingerprints(dir.path(), format);
        assert_eq!(before, after, "{format}: fingerprints moved with the lines");
        write(&dir.path().join("cluster.yaml"), &intent);
        write(&dir.path().join("proxmox/101-cp-1.conf"), &conf);
    }
}

#[test]
fn sarif_does_not_carry_the_absolute_path_of_the_machine() {
    let dir = repo_with_intent(|t| t);
    write(&dir.path().join("proxmox/101-cp-1.conf"), &kvm64_vm());
    let run = talhorn(
        dir.path(),
        &["lint", "--format", "sarif", "--exit-zero", "."],
    );
    let root = std::fs::canonicalize(dir.path()).unwrap_or_else(|e| panic!("{e}"));
    assert!(run.stdout.contains("partialFingerprints"), "{}", run.stdout);
    assert!(
        !run.stdout.contains(&*root.to_string_lossy()),
        "{}",
        run.stdout
    );
    assert!(!run.stdout.contains("file://"), "{}", run.stdout);
}

// ---- item 2: fix hints on the intent name the intent key ----

/// Lints the README example with `edits` applied; the help of each finding of `code`.
fn intent_help(edits: &[(&str, &str)], code: &str) -> Vec<String> {
    let dir = repo_with_intent(|t| {
        edits
            .iter()
            .fold(t, |t, (from, to)| replace_once(&t, from, to))
    });
    let run = talhorn(
        dir.path(),
        &["lint", "--format", "json", "--exit-zero", "cluster.yaml"],
    );
    let json: serde_json::Value =
        serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}: {}", run.stdout));
    let helps: Vec<String> = json["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|f| f["code"] == code)
        .map(|f| f["help"].as_str().unwrap_or_default().to_string())
        .collect();
    assert!(!helps.is_empty(), "{code} did not fire:\n{}", run.stdout);
    helps
}

const WORKER: &str =
    "worker: { cores: 4, memory: 8GiB, cpu: host, disk: { size: 32G, storage: local-lvm } }";
const DATA_DISK: &str = "dataDisk: { size: 200G, storage: local-lvm }";

/// Words of the generated files that must not appear in a hint on the intent.
const FOREIGN: &[&str] = &[
    "customization.",
    "officialExtensions",
    "defaultBackupStore",
    "defaultSettings",
    "mtu=",
    "format=",
    "scsi1",
    "scsi0",
    "machine.",
    "persistence.",
    "qm ",
    "`memory: 8192`",
];

/// A rule code, the edits to the README example that make it fire, what its hint must say.
type HintCase = (
    &'static str,
    &'static [(&'static str, &'static str)],
    &'static str,
);

#[test]
fn every_hint_on_the_intent_names_the_intent_key() {
    let cases: &[HintCase] = &[
        (
            "PVE001",
            &[(
                WORKER,
                "worker: { cores: 4, memory: 8GiB, cpu: kvm64, disk: { size: 32G, storage: local-lvm } }",
            )],
            "`defaults.worker.cpu: host`",
        ),
        (
            "PVE003",
            &[(
                WORKER,
                "worker: { cores: 4, memory: 8GiB, cpu: host, disk: { size: 32G, storage: local, format: qcow2 } }",
            )],
            "`defaults.worker.disk.format: raw`",
        ),
        (
            "PVE005",
            &[(
                WORKER,
                "worker: { cores: 4, memory: 1GiB, cpu: host, disk: { size: 32G, storage: local-lvm } }",
            )],
            "`defaults.worker.memory: 8GiB`",
        ),
        (
            "PVE006",
            &[(
                "name: w-1, role: worker,",
                "name: w-1, role: worker, cores: 1,",
            )],
            "`nodes[3].cores: 4`",
        ),
        (
            "PVE010",
            &[(
                DATA_DISK,
                "dataDisk: { size: 200G, storage: local, format: qcow2 }",
            )],
            "`longhorn.dataDisk.format: raw`",
        ),
        (
            "PVE016",
            &[(
                DATA_DISK,
                "dataDisk: { size: 200G, storage: local-lvm, format: qcow2 }",
            )],
            "`longhorn.dataDisk.format: raw`",
        ),
        ("PVE019", &[("vmid: 102", "vmid: 101")], "`nodes[1].vmid`"),
        (
            "NET001",
            &[("  mtu: 9000\n", "  mtu: 1500\n")],
            "`network.mtu`",
        ),
        (
            "NET002",
            &[(
                "cni: { name: cilium, mtu: 8950,",
                "cni: { name: cilium, mtu: 9000,",
            )],
            "`network.cni.mtu` to 8950",
        ),
        (
            "NET003",
            &[("speedGbps: 10", "speedGbps: 1")],
            "`network.speedGbps`",
        ),
        (
            "NET004",
            &[("ip: 10.20.0.12,", "ip: 10.20.0.11,")],
            "`nodes[1].ip`",
        ),
        (
            "TAL001",
            &[("[siderolabs/iscsi-tools, ", "[")],
            "to `talos.extensions`",
        ),
        (
            "TAL002",
            &[("siderolabs/util-linux-tools, ", "")],
            "to `talos.extensions`",
        ),
        (
            "LHN002",
            &[("replicas: 3", "replicas: 5")],
            "`longhorn.replicas: 3` or fewer",
        ),
        (
            "LHN004",
            &[("storageNodes: workers", "storageNodes: labeled")],
            "`labels` of each storage node",
        ),
        (
            "LHN007",
            &[(
                "  backup: { target: \"s3://backups@us-east-1/longhorn/\", credentialSecret: s3-creds }\n",
                "",
            )],
            "`longhorn.backup",
        ),
        (
            "LHN009",
            &[("engine: v1", "engine: v2")],
            "`longhorn.engine: v1`",
        ),
        (
            "LHN011",
            &[("replicas: 3", "replicas: 1")],
            "`longhorn.replicas: 3`",
        ),
    ];
    let mut tested: Vec<&str> = Vec::new();
    for (code, edits, expected) in cases {
        for help in intent_help(edits, code) {
            assert!(
                help.contains(expected),
                "{code}: `{expected}` not in `{help}`"
            );
            for word in FOREIGN {
                assert!(
                    !help.contains(word),
                    "{code}: `{word}` is not intent language: `{help}`"
                );
            }
        }
        tested.push(code);
    }
    let mut hinted: Vec<&str> = talhorn::rules::intent_help::codes().collect();
    hinted.sort_unstable();
    tested.sort_unstable();
    assert_eq!(hinted, tested, "every intent hint has a case here");
}

// ---- item 7: command-line conventions ----

fn clean_repo() -> tempfile::TempDir {
    let dir = repo_with_intent(|t| t);
    write(
        &dir.path().join("proxmox/101-cp-1.conf"),
        &read(&repo().join("fixtures/cli/clean/proxmox/101-cp-1.conf")),
    );
    dir
}

#[test]
fn quiet_build_and_lint_print_nothing_when_all_is_well() {
    let dir = repo_with_intent(|t| t);
    let loud = talhorn(dir.path(), &["build", "cluster.yaml", "-o", "out"]);
    assert_eq!(loud.code, 0, "{}", loud.stderr);
    assert!(!loud.stderr.is_empty(), "build says what it wrote");
    let quiet = talhorn(dir.path(), &["build", "-q", "cluster.yaml", "-o", "out2"]);
    assert_eq!(quiet.code, 0, "{}", quiet.stderr);
    assert_eq!(quiet.stderr, "", "-q build printed something");
    assert!(dir.path().join("out2").is_dir());
    let check = talhorn(
        dir.path(),
        &["--quiet", "build", "--check", "cluster.yaml", "-o", "out"],
    );
    assert_eq!((check.code, check.stderr.as_str()), (0, ""));
    let clean = clean_repo();
    let lint = talhorn(clean.path(), &["lint", "-q", "proxmox"]);
    assert_eq!(
        (lint.code, lint.stdout.as_str(), lint.stderr.as_str()),
        (0, "", "")
    );
    // Findings are still printed.
    write(&clean.path().join("proxmox/101-cp-1.conf"), &kvm64_vm());
    let found = talhorn(clean.path(), &["lint", "-q", "proxmox"]);
    assert!(found.stdout.contains("PVE001"), "{}", found.stdout);
}

#[test]
fn color_flag_and_environment() {
    let dir = clean_repo();
    write(&dir.path().join("proxmox/101-cp-1.conf"), &kvm64_vm());
    let escapes = |args: &[&str], env: &[(&str, &str)]| {
        talhorn_with(dir.path(), args, env, None)
            .stdout
            .contains('\u{1b}')
    };
    assert!(escapes(&["lint", "--color", "always", "proxmox"], &[]));
    assert!(escapes(&["lint", "proxmox"], &[("FORCE_COLOR", "1")]));
    assert!(!escapes(&["lint", "proxmox"], &[]), "a pipe gets no colour");
    assert!(!escapes(
        &["lint", "--color", "never", "proxmox"],
        &[("FORCE_COLOR", "1")]
    ));
    assert!(!escapes(
        &["lint", "proxmox"],
        &[("FORCE_COLOR", "1"), ("NO_COLOR", "1")]
    ));
    assert!(!escapes(
        &["lint", "--color", "always", "--format", "json", "proxmox"],
        &[]
    ));
}

#[test]
fn explain_takes_a_rule_name_and_suggests_one() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let by_name = talhorn(dir.path(), &["explain", "cpu-lacks-x86-64-v2"]);
    assert_eq!(by_name.code, 0, "{}", by_name.stderr);
    assert!(
        by_name.stdout.starts_with("# PVE001 cpu-lacks-x86-64-v2"),
        "{}",
        by_name.stdout
    );
    let by_code = talhorn(dir.path(), &["explain", "pve001"]);
    assert_eq!(by_code.stdout, by_name.stdout);
    let typo = talhorn(dir.path(), &["explain", "cpu-lack-x86-64-v2"]);
    assert_eq!(typo.code, 2);
    assert!(
        typo.stderr.contains("did you mean `cpu-lacks-x86-64-v2`?"),
        "{}",
        typo.stderr
    );
}

#[test]
fn completions_offer_rule_codes_and_names() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    // The shells whose generated scripts complete argument values (clap_complete's fish script
    // leaves out values hidden from `--help`, where the list of every code would be too long).
    for shell in ["bash", "zsh"] {
        let run = talhorn(dir.path(), &["completions", shell]);
        assert!(run.stdout.contains("PVE001"), "{shell}");
        assert!(run.stdout.contains("cpu-lacks-x86-64-v2"), "{shell}");
    }
}

#[test]
fn manpage_documents_every_command() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let run = talhorn(dir.path(), &["manpage"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains(".TH talhorn 1"), "{}", run.stdout);
    for command in ["init", "build", "lint", "explain", "completions"] {
        assert!(run.stdout.contains(command), "{command} missing");
    }
}

#[test]
fn output_file_creates_its_folders() {
    let dir = clean_repo();
    let run = talhorn(
        dir.path(),
        &[
            "lint",
            "--format",
            "sarif",
            "--output-file",
            "reports/ci/talhorn.sarif",
            "proxmox",
        ],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(read(&dir.path().join("reports/ci/talhorn.sarif")).contains("\"2.1.0\""));
}

#[test]
fn lint_reads_standard_input_under_the_name_given() {
    let dir = repo_with_intent(|t| t);
    write(&dir.path().join("proxmox/.talhorn.yaml"), PVE001_WARNING);
    let run = talhorn_with(
        dir.path(),
        &[
            "lint",
            "--format",
            "concise",
            "-",
            "--stdin-filename",
            "proxmox/101-cp-1.conf",
        ],
        &[],
        Some(&kvm64_vm()),
    );
    assert!(
        run.stdout
            .contains("proxmox/101-cp-1.conf:6:6: PVE001 [warning]"),
        "{}{}",
        run.stdout,
        run.stderr
    );
    assert_eq!(run.code, 0, "the configuration of the named folder applies");
    let unnamed = talhorn_with(dir.path(), &["lint", "-"], &[], Some(&kvm64_vm()));
    assert_eq!(unnamed.code, 2);
    assert!(
        unnamed.stderr.contains("--stdin-filename"),
        "{}",
        unnamed.stderr
    );
}

#[test]
fn init_creates_folders_and_refreshes_only_its_own_schema() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let run = talhorn(dir.path(), &["init", "clusters/lab/cluster.yaml"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let schema = dir.path().join("clusters/lab/intent.schema.json");
    assert_eq!(
        read(&schema),
        read(&repo().join("schemas/intent.schema.json"))
    );
    // An older copy of our schema is refreshed ...
    let stale = read(&schema).replacen("\"title\"", "\"comment\": \"old\", \"title\"", 1);
    write(&schema, &stale);
    let again = talhorn(
        dir.path(),
        &["init", "--force", "clusters/lab/cluster.yaml"],
    );
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert_eq!(
        read(&schema),
        read(&repo().join("schemas/intent.schema.json"))
    );
    // ... a foreign file of that name is not.
    write(
        &dir.path().join("other/intent.schema.json"),
        "{\"mine\": true}",
    );
    let foreign = talhorn(dir.path(), &["init", "other/cluster.yaml"]);
    assert_eq!(foreign.code, 0, "{}", foreign.stderr);
    assert_eq!(
        read(&dir.path().join("other/intent.schema.json")),
        "{\"mine\": true}"
    );
    assert!(
        foreign.stderr.contains("not talhorn's intent schema"),
        "{}",
        foreign.stderr
    );
}

#[test]
fn enum_values_get_did_you_mean_and_a_missing_key_is_marked_on_its_parent() {
    let dir = repo_with_intent(|t| {
        let t = replace_once(&t, "gitops: flux", "gitops: fluxcd");
        replace_once(&t, "  node: pve1\n", "")
    });
    let run = talhorn(dir.path(), &["lint", "--format", "json", "cluster.yaml"]);
    let json: serde_json::Value =
        serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}: {}", run.stdout));
    let findings = json["findings"].as_array().cloned().unwrap_or_default();
    let gitops = findings.iter().find(|f| {
        f["message"]
            .as_str()
            .is_some_and(|m| m.contains("longhorn.gitops"))
    });
    assert_eq!(
        gitops.map(|f| f["help"].clone()),
        Some("did you mean `flux`?".into()),
        "{findings:?}"
    );
    let missing = findings.iter().find(|f| {
        f["message"]
            .as_str()
            .is_some_and(|m| m.contains("required key `node`"))
    });
    let missing = missing.unwrap_or_else(|| panic!("{findings:?}"));
    // `proxmox:` is line 11; its first child `version:` is line 12.
    assert_eq!(
        (missing["line"].clone(), missing["column"].clone()),
        (11.into(), 1.into()),
        "{missing}"
    );
}

#[test]
fn human_output_wraps_at_the_terminal_width() {
    let dir = clean_repo();
    write(&dir.path().join("proxmox/101-cp-1.conf"), &kvm64_vm());
    let widest = |env: &[(&str, &str)]| {
        let run = talhorn_with(dir.path(), &["lint", "proxmox"], env, None);
        run.stdout
            .lines()
            .map(|l| l.chars().count())
            .max()
            .unwrap_or_default()
    };
    assert!(widest(&[]) > 60, "the fixed width is wider than 60");
    assert!(
        widest(&[("COLUMNS", "60")]) <= 60,
        "COLUMNS=60 not respected"
    );
}

//! Properties of the whole tool, checked on generated inputs:
//! - hostile strings in an intent are rejected with a located error (exit 2) or encoded so that
//!   no `qm.conf` line, shell word, YAML structure or output path changes;
//! - random valid intents across the version matrix build, lint clean and build byte-identically;
//! - random bytes never panic the `qm.conf` parser, the YAML reader, the intent loader or lint.
//!
//! Case counts are modest so `cargo test` stays fast on two cores.

use proptest::prelude::*;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use talhorn::yaml::{Node, Value};
use tempfile::TempDir;

/// The binary under test. `TALHORN_BIN` overrides it: a target directory shared between
/// branches may hold another branch's build at `CARGO_BIN_EXE_talhorn`.
fn talhorn_bin() -> PathBuf {
    std::env::var_os("TALHORN_BIN")
        .map_or_else(|| env!("CARGO_BIN_EXE_talhorn").into(), PathBuf::from)
}

fn talhorn(dir: &Path, args: &[&str]) -> Output {
    let output = Command::new(talhorn_bin())
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .output()
        .expect("the talhorn binary runs");
    assert_ne!(
        output.status.code(),
        Some(101),
        "talhorn {args:?} panicked:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

// ---------------------------------------------------------------------------------------------
// A small intent, written as YAML text so that hostile strings go through the real loader.

#[derive(Clone, Debug)]
struct IntentSpec {
    talos: String,
    kubernetes: Option<&'static str>,
    longhorn: Option<&'static str>,
    pve: u8,
    controlplanes: usize,
    workers: usize,
    gitops: &'static str,
    mtu: u32,
    platform: &'static str,
    bus: Option<&'static str>,
    with_backup: bool,
    /// `network.cni`: (name, kubeProxy).
    cni: Option<(&'static str, Option<bool>)>,
    /// Replaces one field with a hostile string: (field, value).
    hostile: Option<(Field, String)>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Field {
    NodeName,
    Tag,
    StorageName,
    Iso,
    Extension,
    BackupUrl,
    LabelKey,
    LabelValue,
    Cpu,
    ClusterName,
    CredentialSecret,
}

const FIELDS: &[Field] = &[
    Field::NodeName,
    Field::Tag,
    Field::StorageName,
    Field::Iso,
    Field::Extension,
    Field::BackupUrl,
    Field::LabelKey,
    Field::LabelValue,
    Field::Cpu,
    Field::ClusterName,
    Field::CredentialSecret,
];

/// A YAML double-quoted scalar holding exactly `s`.
fn quoted(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_default()
}

impl IntentSpec {
    fn value(&self, field: Field, normal: &str) -> String {
        match &self.hostile {
            Some((f, v)) if *f == field => quoted(v),
            _ => quoted(normal),
        }
    }

    fn yaml(&self) -> String {
        let storage = self.value(Field::StorageName, "local-lvm");
        let storage_ref = storage.clone();
        let mut y = String::new();
        y.push_str("cluster:\n");
        y.push_str(&format!(
            "  name: {}\n",
            self.value(Field::ClusterName, "lab")
        ));
        y.push_str("  endpoint: https://10.20.0.10:6443\n");
        // NET005: something must answer on the endpoint.
        y.push_str("  vip: 10.20.0.10\n");
        y.push_str(&format!("  talos: {}\n", self.talos));
        if let Some(k) = self.kubernetes {
            y.push_str(&format!("  kubernetes: {k}\n"));
        }
        y.push_str(&format!("  platform: {}\n", self.platform));
        y.push_str(&format!(
            "proxmox:\n  version: {}\n  node: pve1\n",
            self.pve
        ));
        y.push_str(&format!("  storage:\n    {storage}: {{ type: lvmthin }}\n"));
        y.push_str(&format!(
            "  bridges:\n    vmbr0: {{ mtu: {} }}\n  iso: {}\n",
            self.mtu,
            self.value(Field::Iso, "local:iso/talos.iso")
        ));
        y.push_str(&format!(
            "network:\n  bridge: vmbr0\n  mtu: {}\n  cidr: 10.20.0.0/24\n  gateway: 10.20.0.1\n  nameservers: [10.20.0.1]\n",
            self.mtu
        ));
        if let Some((name, kube_proxy)) = self.cni {
            let proxy = kube_proxy
                .map(|p| format!(", kubeProxy: {p}"))
                .unwrap_or_default();
            y.push_str(&format!("  cni: {{ name: {name}{proxy} }}\n"));
        }
        y.push_str(&format!(
            "talos:\n  extensions: [siderolabs/iscsi-tools, siderolabs/util-linux-tools, {}]\n",
            self.value(Field::Extension, "siderolabs/qemu-guest-agent")
        ));
        if let Some(version) = self.longhorn {
            y.push_str(&format!(
                "longhorn:\n  version: {version}\n  replicas: {}\n  dataDisk: {{ size: 50G, storage: {storage_ref} }}\n  gitops: {}\n",
                self.workers.clamp(1, 3),
                self.gitops
            ));
            if self.with_backup {
                y.push_str(&format!(
                    "  backup: {{ target: {}, credentialSecret: {} }}\n",
                    self.value(Field::BackupUrl, "s3://backups@us-east-1/longhorn/"),
                    self.value(Field::CredentialSecret, "s3-creds")
                ));
            }
        }
        let bus = self.bus.map(|b| format!(", bus: {b}")).unwrap_or_default();
        y.push_str(&format!(
            "defaults:\n  controlplane: {{ cores: 2, memory: 4GiB, cpu: {}, disk: {{ size: 32G, storage: {storage_ref}{bus} }} }}\n",
            self.value(Field::Cpu, "host")
        ));
        y.push_str(&format!(
            "  worker: {{ cores: 4, memory: 8GiB, cpu: host, tags: [{}], disk: {{ size: 32G, storage: {storage_ref}{bus} }} }}\n",
            self.value(Field::Tag, "storage")
        ));
        y.push_str("nodes:\n");
        for i in 0..self.controlplanes {
            let name = if i == 0 {
                self.value(Field::NodeName, "cp-1")
            } else {
                quoted(&format!("cp-{}", i + 1))
            };
            y.push_str(&format!(
                "  - {{ name: {name}, role: controlplane, vmid: {}, ip: 10.20.0.{} }}\n",
                101 + i,
                11 + i
            ));
        }
        for i in 0..self.workers {
            y.push_str(&format!(
                "  - {{ name: w-{}, role: worker, vmid: {}, ip: 10.20.0.{}, labels: {{ {}: {} }} }}\n",
                i + 1,
                201 + i,
                21 + i,
                self.value(Field::LabelKey, "zone"),
                self.value(Field::LabelValue, "a")
            ));
        }
        y
    }
}

fn talos_version() -> impl Strategy<Value = String> {
    prop_oneof![
        (9u32..=13, 0u32..=6).prop_map(|(minor, patch)| format!("v1.{minor}.{patch}")),
        Just("v1.14.0".to_string()),
    ]
}

fn valid_intent() -> impl Strategy<Value = IntentSpec> {
    (
        talos_version(),
        prop::option::of(prop::sample::select(vec!["1.32.3", "1.33.1", "1.34.1"])),
        prop::option::of(prop::sample::select(vec!["1.8.2", "1.9.1", "1.10.2"])),
        prop::sample::select(vec![8u8, 9]),
        1usize..=3,
        0usize..=3,
        prop::sample::select(vec!["none", "flux", "argocd"]),
        prop::sample::select(vec![1500u32, 9000]),
        prop::sample::select(vec!["nocloud", "metal"]),
        prop::option::of(prop::sample::select(vec!["scsi", "virtio"])),
        any::<bool>(),
        prop::option::of((
            prop::sample::select(vec!["flannel", "cilium", "calico", "none"]),
            prop::option::of(any::<bool>()),
        )),
    )
        .prop_map(
            |(
                talos,
                kubernetes,
                longhorn,
                pve,
                cps,
                workers,
                gitops,
                mtu,
                platform,
                bus,
                backup,
                cni,
            )| {
                IntentSpec {
                    talos,
                    kubernetes,
                    // Longhorn needs a storage node to hold its replicas.
                    longhorn: longhorn.filter(|_| workers > 0),
                    pve,
                    controlplanes: cps,
                    workers,
                    gitops,
                    mtu,
                    platform,
                    bus,
                    with_backup: backup,
                    cni,
                    hostile: None,
                }
            },
        )
}

/// Strings built from the pieces that break line formats, shells, YAML and paths.
fn hostile_string() -> impl Strategy<Value = String> {
    let pieces = prop::sample::select(vec![
        "\n",
        "\r\n",
        "#",
        " #",
        ":",
        ",",
        "=",
        "\"",
        "'",
        "$(reboot)",
        "`id`",
        "../",
        "/",
        ";",
        " ",
        "\t",
        "{",
        "}",
        "[",
        "]",
        "&a",
        "*a",
        "- ",
        "---",
        "\\",
        "|",
        ">",
        "%",
        "!",
        "\u{0}",
        "\u{2028}",
        "é",
        "a",
        "b",
        "1",
        "-",
        ".",
    ]);
    prop::collection::vec(pieces, 1..6).prop_map(|p| p.concat())
}

fn hostile_intent() -> impl Strategy<Value = IntentSpec> {
    (
        valid_intent(),
        prop::sample::select(FIELDS.to_vec()),
        hostile_string(),
    )
        .prop_map(|(mut spec, field, value)| {
            spec.longhorn = Some("1.10.2");
            spec.workers = spec.workers.max(1);
            spec.with_backup = true;
            spec.hostile = Some((field, value));
            spec
        })
}

// ---------------------------------------------------------------------------------------------
// Checking what build wrote.

struct Built {
    _dir: TempDir,
    out: PathBuf,
    output: Output,
}

fn build(intent_yaml: &str) -> Built {
    build_named(intent_yaml, "cluster.yaml")
}

/// Builds an intent saved under `file_name` (the name is copied into generated headers).
fn build_named(intent_yaml: &str, file_name: &str) -> Built {
    let dir = TempDir::new().unwrap();
    std::fs::write(dir.path().join(file_name), intent_yaml).unwrap();
    let output = talhorn(dir.path(), &["build", file_name, "-o", "out"]);
    let out = dir.path().join("out");
    Built {
        _dir: dir,
        out,
        output,
    }
}

/// Every file under `dir`, relative, with its content.
fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, files: &mut BTreeMap<String, Vec<u8>>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(root, &path, files);
            } else {
                let rel = path
                    .strip_prefix(root)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned();
                files.insert(rel, std::fs::read(&path).unwrap());
            }
        }
    }
    let mut found = BTreeMap::new();
    walk(dir, dir, &mut found);
    found
}

/// A mapping key the intent chose (a label key), and the key it stands for in the baseline.
type KeyRename<'a> = Option<(&'a str, &'a str)>;

/// The YAML tree's shape: every mapping key path, with the type of the value at it.
fn shape(node: &Node, prefix: &str, rename: KeyRename<'_>, out: &mut Vec<String>) {
    match &node.value {
        Value::Map(entries) => {
            for (k, v) in entries {
                let text = k.scalar_text().unwrap_or_default();
                let text = match rename {
                    Some((chosen, baseline)) if text == chosen => baseline.to_string(),
                    _ => text,
                };
                shape(v, &format!("{prefix}/{text}"), rename, out);
            }
        }
        Value::Seq(items) => {
            for item in items {
                shape(item, &format!("{prefix}/-"), rename, out);
            }
        }
        other => out.push(format!(
            "{prefix}={}",
            Node::new(other.clone(), node.span).type_name()
        )),
    }
}

/// Splits a shell line into words, honouring single and double quotes and backslashes; returns
/// `None` for an unterminated quote. Unquoted `$(`, backticks and `;` are returned as errors.
fn shell_words(line: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(ch) => word.push(ch),
                        None => return Err(format!("unterminated ' in {line:?}")),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('$' | '`') => {
                            return Err(format!("expansion inside \"\" in {line:?}"));
                        }
                        Some(ch) => word.push(ch),
                        None => return Err(format!("unterminated \" in {line:?}")),
                    }
                }
            }
            '`' => return Err(format!("unquoted backtick in {line:?}")),
            '$' if chars.peek() == Some(&'(') => return Err(format!("unquoted $( in {line:?}")),
            ';' => return Err(format!("unquoted ; in {line:?}")),
            '#' if !in_word => break,
            c if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            c => {
                in_word = true;
                word.push(c);
            }
        }
    }
    if in_word {
        words.push(word);
    }
    Ok(words)
}

/// Checks one successful build's output for injections.
fn check_output_is_safe(
    out: &Path,
    baseline: Option<&Path>,
    rename: KeyRename<'_>,
) -> Result<(), String> {
    let written = files(out);
    let manifest: serde_json::Value = written
        .get(".talhorn-manifest.json")
        .and_then(|m| serde_json::from_slice(m).ok())
        .ok_or("no readable manifest")?;
    let listed: Vec<&String> = manifest["files"]
        .as_object()
        .ok_or("the manifest has no `files` object")?
        .keys()
        .collect();
    let on_disk: Vec<&String> = written
        .keys()
        .filter(|p| *p != ".talhorn-manifest.json")
        .collect();
    if listed != on_disk {
        return Err(format!(
            "manifest lists {listed:?}, the directory holds {on_disk:?}"
        ));
    }
    for path in &listed {
        let p = Path::new(path);
        if p.is_absolute()
            || p.components()
                .any(|c| !matches!(c, std::path::Component::Normal(_)))
        {
            return Err(format!(
                "manifest path {path:?} leaves the output directory"
            ));
        }
    }
    for (path, content) in &written {
        let text = std::str::from_utf8(content).map_err(|_| format!("{path} is not UTF-8"))?;
        if path.ends_with(".conf") {
            let parsed = talhorn::load::qmconf::parse(text);
            if !parsed.problems.is_empty() {
                return Err(format!("{path}: {:?}", parsed.problems));
            }
            if parsed.sections.len() != 1 {
                return Err(format!("{path}: more than the main section"));
            }
            let keys: Vec<&str> = parsed
                .main()
                .map(|m| m.options.iter().map(|o| o.key.as_str()).collect())
                .unwrap_or_default();
            if let Some(base) = baseline {
                let base_text = std::fs::read_to_string(base.join(path)).unwrap_or_default();
                let base_parsed = talhorn::load::qmconf::parse(&base_text);
                let base_keys: Vec<&str> = base_parsed
                    .main()
                    .map(|m| m.options.iter().map(|o| o.key.as_str()).collect())
                    .unwrap_or_default();
                if !base_text.is_empty() && keys != base_keys {
                    return Err(format!("{path}: keys {keys:?}, intended {base_keys:?}"));
                }
            }
        } else if path.ends_with(".sh") {
            // The lines that carry intent values are commands; the template's own `if ...; then`
            // lines hold only the quoted VM id.
            for line in text.lines().map(str::trim) {
                if line.starts_with("qm ") || line.starts_with("echo ") {
                    let words = shell_words(line)?;
                    if line.starts_with("qm ") && words.first().map(String::as_str) != Some("qm") {
                        return Err(format!("{path}: {line:?} does not run qm"));
                    }
                }
            }
            if let Some(base) = baseline {
                let base_text = std::fs::read_to_string(base.join(path)).unwrap_or_default();
                let first_words = |t: &str| -> Vec<String> {
                    t.lines()
                        .map(|l| l.split_whitespace().next().unwrap_or_default().to_string())
                        .collect()
                };
                if first_words(text) != first_words(&base_text) {
                    return Err(format!("{path}: the script's lines changed:\n{text}"));
                }
            }
            let status = Command::new("bash")
                .arg("-n")
                .arg(out.join(path))
                .status()
                .map_err(|e| format!("bash -n: {e}"))?;
            if !status.success() {
                return Err(format!("{path}: bash -n fails"));
            }
        } else if path.ends_with(".yaml") {
            let docs = talhorn::yaml::parse_documents(text)
                .map_err(|e| format!("{path} does not re-parse: {}", e.message))?;
            if let Some(base) = baseline {
                let base_text = std::fs::read_to_string(base.join(path)).unwrap_or_default();
                if !base_text.is_empty() {
                    let base_docs = talhorn::yaml::parse_documents(&base_text).unwrap_or_default();
                    let (mut a, mut b) = (Vec::new(), Vec::new());
                    docs.iter().for_each(|d| shape(d, "", rename, &mut a));
                    base_docs.iter().for_each(|d| shape(d, "", None, &mut b));
                    if a != b {
                        return Err(format!("{path}: YAML structure changed:\n{a:?}\nvs\n{b:?}"));
                    }
                }
            }
        }
    }
    Ok(())
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// A located error names the intent with a line and column (`cluster.yaml:12:5`).
fn has_location(text: &str) -> bool {
    text.match_indices("cluster.yaml:").any(|(i, m)| {
        text[i + m.len()..]
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_digit())
    })
}

proptest! {
    #![proptest_config(config(48))]

    #[test]
    fn hostile_strings_are_rejected_with_a_location_or_encoded_safely(spec in hostile_intent()) {
        let yaml = spec.yaml();
        let built = build(&yaml);
        let code = built.output.status.code();
        match code {
            Some(0) => {
                // Encoded: compare with the same intent without the hostile value.
                let baseline = build(&IntentSpec { hostile: None, ..spec.clone() }.yaml());
                prop_assert_eq!(baseline.output.status.code(), Some(0), "{}", stderr(&baseline.output));
                let rename = match &spec.hostile {
                    Some((Field::LabelKey, key)) => Some((key.as_str(), "zone")),
                    _ => None,
                };
                let result = check_output_is_safe(&built.out, Some(&baseline.out), rename);
                prop_assert!(result.is_ok(), "{:?} = {:?}: {:?}", spec.hostile, yaml, result);
                // A hostile node name is also in file names (`proxmox/101-<name>.conf`).
                let node = match &spec.hostile {
                    Some((Field::NodeName, name)) => Some((name.as_str(), "cp-1")),
                    _ => None,
                };
                let lines = same_lines(&built.out, &baseline.out, false, node);
                prop_assert!(lines.is_ok(), "{:?}: {:?}", spec.hostile, lines);
            }
            Some(2) => {
                prop_assert!(has_location(&stderr(&built.output)),
                    "rejected without a location: {}", stderr(&built.output));
                prop_assert!(!built.out.exists(), "a rejected intent wrote output");
            }
            Some(1) => {
                // A lint error (e.g. an unknown extension): located, and nothing written.
                prop_assert!(has_location(&stderr(&built.output)), "{}", stderr(&built.output));
                prop_assert!(!built.out.exists(), "a refused build wrote output");
            }
            other => prop_assert!(false, "exit {:?}: {}", other, stderr(&built.output)),
        }
    }
}

/// Every generated line-format file (and with `yaml`, every YAML file too) has as many lines as
/// in `baseline`: nothing an input string carries can add a line or a command. (A YAML value
/// may legitimately become a multi-line scalar; its structure is checked separately.)
/// `node` maps a hostile node name back to the baseline's in file names.
fn same_lines(
    out: &Path,
    baseline: &Path,
    yaml: bool,
    node: Option<(&str, &str)>,
) -> Result<(), String> {
    let (ours, theirs) = (files(out), files(baseline));
    for (path, content) in &ours {
        if path == ".talhorn-manifest.json" || (!yaml && path.ends_with(".yaml")) {
            continue;
        }
        let base_path = match node {
            Some((hostile, name)) if !theirs.contains_key(path) => {
                path.replacen(&format!("-{hostile}."), &format!("-{name}."), 1)
            }
            _ => path.clone(),
        };
        let base = theirs.get(&base_path).ok_or(format!("{path} is new"))?;
        let lines = |b: &[u8]| String::from_utf8_lossy(b).lines().count();
        if lines(content) != lines(base) {
            return Err(format!(
                "{path}: {} lines, intended {}:\n{}",
                lines(content),
                lines(base),
                String::from_utf8_lossy(content)
            ));
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(config(16))]

    /// The intent's file name reaches every generated header; it goes through the same escaping
    /// as every other input string.
    #[test]
    fn hostile_intent_file_names_never_add_lines(name in hostile_string(), spec in valid_intent()) {
        let name = format!("x{}.yaml", name.replace(['/', '\0'], "_"));
        let yaml = spec.yaml();
        let built = build_named(&yaml, &name);
        prop_assert_eq!(built.output.status.code(), Some(0), "{}", stderr(&built.output));
        let baseline = build(&yaml);
        let safe = check_output_is_safe(&built.out, Some(&baseline.out), None);
        prop_assert!(safe.is_ok(), "{:?}: {:?}", name, safe);
        let lines = same_lines(&built.out, &baseline.out, true, None);
        prop_assert!(lines.is_ok(), "{:?}: {:?}", name, lines);
    }
}

proptest! {
    #![proptest_config(config(24))]

    #[test]
    fn valid_intents_build_lint_clean_and_reproducibly(spec in valid_intent()) {
        let yaml = spec.yaml();
        let first = build(&yaml);
        prop_assert_eq!(first.output.status.code(), Some(0), "{}\n{}", yaml, stderr(&first.output));
        let second = build(&yaml);
        prop_assert_eq!(second.output.status.code(), Some(0));
        prop_assert_eq!(files(&first.out), files(&second.out), "two builds differ");
        let safe = check_output_is_safe(&first.out, None, None);
        prop_assert!(safe.is_ok(), "{:?}", safe);
        // The generated repository lints without errors.
        let lint = talhorn(&first.out, &["lint", "--format", "concise", "."]);
        prop_assert_eq!(lint.status.code(), Some(0), "{}\n{}", yaml,
            String::from_utf8_lossy(&lint.stdout));
    }
}

// ---------------------------------------------------------------------------------------------
// Random bytes, in process: a panic fails the test directly.

fn text_like() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        prop::collection::vec(
            prop::sample::select(vec![
                "cores: 2\n",
                "[PENDING]\n",
                "[special:cloudinit]\n",
                "[snap1]\n",
                "#note\n",
                "scsi0: local-lvm:vm-1-disk-0,discard=on,size=32G\n",
                ": \n",
                ",,=\n",
                "machine:\n",
                "  install:\n",
                "    disk: /dev/sda\n",
                "---\n",
                "- a\n",
                "&a [*a]\n",
                "kind: UserVolumeConfig\n",
                "apiVersion: v1alpha1\n",
                "{",
                "[",
                "\"",
                "'",
                "\t",
                "\r\n",
                "é",
                "\u{feff}",
                "cluster: {}\nnodes: []\nproxmox: {}\n",
                "x: *b\n",
            ]),
            0..24,
        )
        .prop_map(|p| p.concat()),
    ]
}

proptest! {
    #![proptest_config(config(64))]

    #[test]
    fn qmconf_parse_never_panics_and_spans_stay_in_the_text(text in text_like()) {
        let parsed = talhorn::load::qmconf::parse(&text);
        for section in &parsed.sections {
            for option in &section.options {
                prop_assert!(text.get(option.line.start..option.line.end).is_some());
                prop_assert!(text.get(option.value_span.start..option.value_span.end).is_some());
                let _ = option.properties();
            }
        }
        for problem in &parsed.problems {
            prop_assert!(problem.span.end <= text.len());
        }
    }

    #[test]
    fn yaml_parse_never_panics_and_errors_point_into_the_text(text in text_like()) {
        match talhorn::yaml::parse_documents(&text) {
            Ok(docs) => for doc in &docs {
                prop_assert!(doc.span.end <= text.len());
            },
            Err(e) => prop_assert!(e.span.start <= text.len()),
        }
    }

    #[test]
    fn intent_load_never_panics(text in text_like()) {
        let _ = talhorn::intent::load(talhorn::source::FileId(0), &text);
    }

    #[test]
    fn lint_never_panics_on_random_files(bytes in prop::collection::vec(any::<u8>(), 0..512), text in text_like()) {
        let dir = TempDir::new().unwrap();
        let root = dir.path();
        for (rel, content) in [
            ("talos/worker.yaml", text.as_bytes()),
            ("qemu-server/101.conf", text.as_bytes()),
            ("storage.cfg", &bytes[..]),
            ("longhorn/values.yaml", &bytes[..]),
            ("cluster.yaml", text.as_bytes()),
        ] {
            let path = root.join(rel);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, content).unwrap();
        }
        let config = talhorn::rules::LintConfig { root: root.to_path_buf(), ..Default::default() };
        let outcome = talhorn::lint::lint_paths(&[root.to_path_buf()], &config);
        prop_assert!(outcome.is_ok());
    }
}

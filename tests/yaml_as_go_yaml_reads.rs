//! YAML that Flux, Helm, Talos and talhelper read (they use go-yaml) is linted, not called
//! invalid: an alias used as a key against its colon (`*app:`, the bjw-s app-template pattern)
//! and a number too large for a float (a disk serial such as `2244E6801787`). Findings in such
//! a file are located where the user wrote what they point at.

mod common;

use std::path::Path;
use std::process::{Command, Output, Stdio};
use tempfile::TempDir;

fn write(root: &Path, rel: &str, text: &str) {
    let path = root.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

fn lint(root: &Path) -> (Output, String) {
    let output = Command::new(common::talhorn_bin())
        .args(["lint", "--format", "concise", "."])
        .current_dir(root)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    (output, stdout)
}

/// `line:column` (1-based) of the first `needle` on the first line of `text` holding `line`.
fn position(text: &str, line: &str, needle: &str) -> String {
    let (index, content) = text
        .lines()
        .enumerate()
        .find(|(_, l)| l.contains(line))
        .unwrap();
    format!("{}:{}", index + 1, content.find(needle).unwrap() + 1)
}

const APP_TEMPLATE: &str = "\
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: &app actual
spec:
  chartRef:
    kind: OCIRepository
    name: *app
  values:
    controllers:
      *app:
        strategy: Recreate
    service:
      *app: {controller: *app, ports: {http: {port: 5006}}}
";

#[test]
fn an_app_template_release_with_alias_keys_lints_clean() {
    let dir = TempDir::new().unwrap();
    write(dir.path(), "apps/actual/helmrelease.yaml", APP_TEMPLATE);
    let (output, stdout) = lint(dir.path());
    assert!(!stdout.contains("INT001"), "{stdout}");
    assert_eq!(output.status.code(), Some(0), "{stdout}");
}

#[test]
fn a_disk_serial_too_large_for_a_float_lints_clean() {
    let dir = TempDir::new().unwrap();
    let node = "version: v1alpha1\nmachine:\n  type: worker\n  install:\n    diskSelector:\n      \
                serial: 2244E6801787\n    image: factory.talos.dev/installer/abc:v1.8.3\n\
                cluster:\n  clusterName: demo\n";
    write(dir.path(), "talos/node.yaml", node);
    let (output, stdout) = lint(dir.path());
    assert!(!stdout.contains("INT001"), "{stdout}");
    assert_eq!(output.status.code(), Some(0), "{stdout}");
}

/// Values keys the Longhorn chart does not have (INT002) and a key it moved (LHN005), after
/// the places read as go-yaml reads them (each one byte or two longer in the text parsed):
/// located at their line and column in the file as written.
#[test]
fn findings_after_alias_keys_and_large_numbers_are_located_as_written() {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/rules/LHN005/fires-backup-target-in-default-settings");
    let dir = TempDir::new().unwrap();
    for rel in [
        "kubernetes/longhorn/namespace.yaml",
        "talos/controlplane.yaml",
        "talos/schematic.yaml",
        "talos/worker.yaml",
    ] {
        write(
            dir.path(),
            rel,
            &std::fs::read_to_string(fixture.join(rel)).unwrap(),
        );
    }
    let release = "\
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: &app longhorn
  namespace: longhorn-system
spec:
  interval: 1h
  chart:
    spec:
      chart: *app
      version: 1.10.2
      sourceRef:
        kind: HelmRepository
        name: longhorn
  values:
    annotations:
      *app: 1e999
    defaultSettings:
      *app: 2244E6801787
      defaultDataPath: /var/mnt/longhorn
      backupTarget: s3://backups@us-east-1/longhorn/
    persistence: {*app: 9e999, defaultClas: true}
";
    write(dir.path(), "kubernetes/longhorn/helmrelease.yaml", release);
    let (_, stdout) = lint(dir.path());
    assert!(!stdout.contains("INT001"), "{stdout}");
    let file = "kubernetes/longhorn/helmrelease.yaml";
    for (code, at) in [
        ("INT002", position(release, "*app: 2244E6801787", "*app")),
        ("LHN005", position(release, "backupTarget", "backupTarget")),
        ("INT002", position(release, "persistence", "*app")),
        ("INT002", position(release, "persistence", "defaultClas")),
    ] {
        let expected = format!("{file}:{at}: {code} ");
        assert!(stdout.contains(&expected), "{expected:?} in:\n{stdout}");
    }
}

#![cfg(unix)]
//! The output writer: manifest, no clobbering, all-or-nothing, check and diff modes.

use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;
use talhorn::write::{
    Action, Artifact, Blocker, MANIFEST_NAME, Mode, WriteError, WriteOptions, apply, plan, run,
    unified_diff,
};
use tempfile::TempDir;

fn artifact(path: &str, content: &str) -> Artifact {
    Artifact {
        path: path.to_owned(),
        content: content.as_bytes().to_vec(),
    }
}

fn write(out: &Path, artifacts: &[Artifact]) -> Result<talhorn::write::Summary, WriteError> {
    write_with(out, artifacts, &WriteOptions::default())
}

fn write_with(
    out: &Path,
    artifacts: &[Artifact],
    opts: &WriteOptions,
) -> Result<talhorn::write::Summary, WriteError> {
    apply(&plan(out, artifacts, opts)?)
}

fn forced() -> WriteOptions {
    WriteOptions {
        force: true,
        ..WriteOptions::default()
    }
}

fn out_dir() -> (TempDir, std::path::PathBuf) {
    let tmp = TempDir::new().unwrap();
    let out = tmp.path().join("out");
    (tmp, out)
}

/// Every file and directory under `dir`: path → (content or None for a directory, inode, mtime).
type Snapshot = BTreeMap<String, (Option<Vec<u8>>, u64, i64, i64)>;

fn snapshot(dir: &Path) -> Snapshot {
    let mut entries = Snapshot::new();
    collect(dir, dir, &mut entries);
    entries
}

fn collect(root: &Path, dir: &Path, entries: &mut Snapshot) {
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let meta = fs::symlink_metadata(&path).unwrap();
        let rel = path
            .strip_prefix(root)
            .unwrap()
            .to_string_lossy()
            .into_owned();
        let content = meta.is_file().then(|| fs::read(&path).unwrap());
        entries.insert(rel, (content, meta.ino(), meta.mtime(), meta.mtime_nsec()));
        if meta.is_dir() {
            collect(root, &path, entries);
        }
    }
}

fn manifest(out: &Path) -> serde_json::Value {
    serde_json::from_slice(&fs::read(out.join(MANIFEST_NAME)).unwrap()).unwrap()
}

fn sha256(content: &str) -> String {
    Sha256::digest(content.as_bytes())
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

fn generated() -> Vec<Artifact> {
    vec![
        artifact("RUNBOOK.md", "# Runbook\n"),
        artifact("talos/worker.yaml", "machine:\n  type: worker\n"),
        artifact(
            "talos/nodes/w-1.yaml",
            "machine:\n  network:\n    hostname: w-1\n",
        ),
    ]
}

#[test]
fn first_write_creates_every_file_and_a_manifest_of_their_hashes() {
    let (_tmp, out) = out_dir();
    let summary = write(&out, &generated()).unwrap();
    assert_eq!(summary.created, 3);
    for file in generated() {
        assert_eq!(fs::read(out.join(&file.path)).unwrap(), file.content);
    }
    let text = fs::read_to_string(out.join(MANIFEST_NAME)).unwrap();
    assert!(text.ends_with("}\n") && !text.contains('\r'), "{text:?}");
    assert_eq!(
        manifest(&out),
        serde_json::json!({
            "version": 1,
            "files": {
                "RUNBOOK.md": sha256("# Runbook\n"),
                "talos/nodes/w-1.yaml": sha256("machine:\n  network:\n    hostname: w-1\n"),
                "talos/worker.yaml": sha256("machine:\n  type: worker\n"),
            }
        })
    );
    let no_temps = snapshot(&out)
        .keys()
        .all(|path| !path.ends_with(".talhorn-tmp"));
    assert!(no_temps);
}

#[test]
fn manifest_keys_are_sorted() {
    let (_tmp, out) = out_dir();
    write(&out, &generated()).unwrap();
    let text = fs::read_to_string(out.join(MANIFEST_NAME)).unwrap();
    let positions: Vec<usize> = [
        "\"files\"",
        "\"RUNBOOK.md\"",
        "\"talos/nodes/w-1.yaml\"",
        "\"talos/worker.yaml\"",
        "\"version\"",
    ]
    .iter()
    .map(|key| text.find(key).unwrap())
    .collect();
    assert!(positions.is_sorted(), "{text}");
}

#[test]
fn writing_the_same_artifacts_again_touches_nothing() {
    let (_tmp, out) = out_dir();
    write(&out, &generated()).unwrap();
    let before = snapshot(&out);
    let plan = plan(&out, &generated(), &WriteOptions::default()).unwrap();
    assert!(!plan.has_drift(), "{plan}");
    let summary = apply(&plan).unwrap();
    assert_eq!(
        (summary.unchanged, summary.created, summary.updated),
        (3, 0, 0)
    );
    assert_eq!(snapshot(&out), before, "a file was rewritten");
}

#[test]
fn a_changed_artifact_is_updated_and_the_others_are_left_alone() {
    let (_tmp, out) = out_dir();
    write(&out, &generated()).unwrap();
    let before = snapshot(&out);
    let mut artifacts = generated();
    artifacts[1] = artifact(
        "talos/worker.yaml",
        "machine:\n  type: worker\n  kubelet: {}\n",
    );
    let summary = write(&out, &artifacts).unwrap();
    assert_eq!((summary.updated, summary.unchanged), (1, 2));
    assert_eq!(
        fs::read_to_string(out.join("talos/worker.yaml")).unwrap(),
        "machine:\n  type: worker\n  kubelet: {}\n"
    );
    assert_eq!(
        manifest(&out)["files"]["talos/worker.yaml"],
        sha256("machine:\n  type: worker\n  kubelet: {}\n")
    );
    let after = snapshot(&out);
    assert_eq!(after["RUNBOOK.md"], before["RUNBOOK.md"]);
    assert_eq!(
        after["talos/nodes/w-1.yaml"],
        before["talos/nodes/w-1.yaml"]
    );
}

#[test]
fn an_update_keeps_the_file_mode() {
    let (_tmp, out) = out_dir();
    write(&out, &[artifact("create-vms.sh", "#!/bin/sh\n")]).unwrap();
    fs::set_permissions(out.join("create-vms.sh"), fs::Permissions::from_mode(0o750)).unwrap();
    write(&out, &[artifact("create-vms.sh", "#!/bin/sh\nset -eu\n")]).unwrap();
    let mode = fs::metadata(out.join("create-vms.sh"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o750);
}

#[test]
fn a_removed_artifact_is_deleted_with_the_directory_it_leaves_empty() {
    let (_tmp, out) = out_dir();
    write(&out, &generated()).unwrap();
    let summary = write(&out, &generated()[..2]).unwrap();
    assert_eq!(summary.deleted, 1);
    assert!(!out.join("talos/nodes").exists());
    assert!(out.join("talos/worker.yaml").exists());
    assert!(
        manifest(&out)["files"]
            .get("talos/nodes/w-1.yaml")
            .is_none()
    );
}

#[test]
fn a_hand_edited_file_blocks_the_write_until_forced() {
    let (_tmp, out) = out_dir();
    write(&out, &generated()).unwrap();
    fs::write(
        out.join("talos/worker.yaml"),
        "machine:\n  type: worker # mine\n",
    )
    .unwrap();
    let before = snapshot(&out);
    let mut artifacts = generated();
    artifacts[1] = artifact("talos/worker.yaml", "machine:\n  type: worker\n  v: 2\n");
    artifacts[0] = artifact("RUNBOOK.md", "# Runbook v2\n");

    let err = write(&out, &artifacts).unwrap_err();
    assert!(matches!(err, WriteError::Blocked { .. }), "{err:?}");
    let message = err.to_string();
    assert!(message.contains("talos/worker.yaml"), "{message}");
    assert!(message.contains("edited by hand"), "{message}");
    assert!(message.contains("--force"), "{message}");
    assert!(
        !message.contains("RUNBOOK.md"),
        "an unblocked file is named: {message}"
    );
    assert_eq!(snapshot(&out), before, "a blocked write changed the output");

    write_with(&out, &artifacts, &forced()).unwrap();
    assert_eq!(
        fs::read_to_string(out.join("talos/worker.yaml")).unwrap(),
        "machine:\n  type: worker\n  v: 2\n"
    );
}

#[test]
fn a_hand_edited_stale_file_is_not_deleted_until_forced() {
    let (_tmp, out) = out_dir();
    write(&out, &generated()).unwrap();
    fs::write(out.join("talos/nodes/w-1.yaml"), "edited\n").unwrap();
    let err = write(&out, &generated()[..2]).unwrap_err();
    assert!(err.to_string().contains("talos/nodes/w-1.yaml"), "{err}");
    assert_eq!(
        fs::read_to_string(out.join("talos/nodes/w-1.yaml")).unwrap(),
        "edited\n"
    );
    write_with(&out, &generated()[..2], &forced()).unwrap();
    assert!(!out.join("talos/nodes/w-1.yaml").exists());
}

#[test]
fn a_file_talhorn_did_not_write_is_never_clobbered_or_deleted() {
    let (_tmp, out) = out_dir();
    fs::create_dir_all(out.join("talos")).unwrap();
    fs::write(out.join("talos/worker.yaml"), "mine\n").unwrap();
    fs::write(out.join("talos/notes.txt"), "also mine\n").unwrap();

    let err = write(&out, &generated()).unwrap_err();
    let message = err.to_string();
    assert!(message.contains("talos/worker.yaml"), "{message}");
    assert!(message.contains("not written by talhorn"), "{message}");
    assert_eq!(
        fs::read_to_string(out.join("talos/worker.yaml")).unwrap(),
        "mine\n"
    );
    assert!(!out.join(MANIFEST_NAME).exists());

    // Forced, the colliding file is overwritten; the unrelated one survives every run.
    write_with(&out, &generated(), &forced()).unwrap();
    write_with(&out, &[], &forced()).unwrap();
    assert_eq!(
        fs::read_to_string(out.join("talos/notes.txt")).unwrap(),
        "also mine\n"
    );
}

#[test]
fn a_foreign_file_identical_to_the_artifact_is_adopted_without_a_write() {
    let (_tmp, out) = out_dir();
    fs::create_dir_all(&out).unwrap();
    fs::write(out.join("RUNBOOK.md"), "# Runbook\n").unwrap();
    let inode = fs::metadata(out.join("RUNBOOK.md")).unwrap().ino();
    let summary = write(&out, &generated()[..1]).unwrap();
    assert_eq!(summary.unchanged, 1);
    assert_eq!(fs::metadata(out.join("RUNBOOK.md")).unwrap().ino(), inode);
    assert_eq!(manifest(&out)["files"]["RUNBOOK.md"], sha256("# Runbook\n"));
}

#[test]
fn paths_that_could_escape_the_output_directory_are_rejected() {
    let (tmp, out) = out_dir();
    for bad in [
        "../escape.txt",
        "/tmp/abs.txt",
        "a//b",
        "a/./b",
        "a\\b",
        "a\0b",
        "",
    ] {
        let artifacts = vec![artifact("ok.txt", "ok\n"), artifact(bad, "x\n")];
        let err = write(&out, &artifacts).unwrap_err();
        assert!(
            matches!(err, WriteError::InvalidPath { .. }),
            "{bad:?}: {err:?}"
        );
        assert!(err.to_string().contains(&format!("{bad:?}")), "{err}");
    }
    assert!(!out.exists(), "something was written");
    assert!(!tmp.path().join("escape.txt").exists());
}

#[test]
fn duplicate_and_file_directory_colliding_paths_are_rejected() {
    let (_tmp, out) = out_dir();
    let duplicate = [artifact("a.yaml", "1\n"), artifact("a.yaml", "2\n")];
    assert!(matches!(
        write(&out, &duplicate).unwrap_err(),
        WriteError::DuplicatePath { .. }
    ));
    let collision = [
        artifact("talos", "1\n"),
        artifact("talos/worker.yaml", "2\n"),
    ];
    assert!(matches!(
        write(&out, &collision).unwrap_err(),
        WriteError::PathCollision { .. }
    ));
    assert!(!out.exists());
}

#[test]
fn a_manifest_listing_a_path_outside_the_output_is_refused() {
    let (tmp, out) = out_dir();
    fs::create_dir_all(&out).unwrap();
    fs::write(tmp.path().join("victim.txt"), "keep\n").unwrap();
    let hash = sha256("keep\n");
    fs::write(
        out.join(MANIFEST_NAME),
        format!(r#"{{"version":1,"files":{{"../victim.txt":"{hash}"}}}}"#),
    )
    .unwrap();
    let err = write(&out, &generated()).unwrap_err();
    assert!(matches!(err, WriteError::BadManifest { .. }), "{err:?}");
    assert!(err.to_string().contains(MANIFEST_NAME), "{err}");
    assert!(tmp.path().join("victim.txt").exists());
}

#[test]
fn check_mode_reports_drift_and_hand_edits_and_writes_nothing() {
    let (_tmp, out) = out_dir();
    write(&out, &generated()).unwrap();
    fs::write(out.join("RUNBOOK.md"), "# edited\n").unwrap();
    let before = snapshot(&out);
    let mut artifacts = generated();
    artifacts.remove(2);
    artifacts.push(artifact(
        "kubernetes/longhorn/values.yaml",
        "persistence: {}\n",
    ));
    let opts = WriteOptions {
        mode: Mode::Check,
        ..WriteOptions::default()
    };
    let outcome = run(&out, &artifacts, &opts).unwrap();
    assert!(outcome.plan.has_drift());
    assert!(outcome.summary.is_none() && outcome.diff.is_none());
    assert_eq!(
        outcome.plan.to_string(),
        "update  RUNBOOK.md (edited by hand since talhorn wrote it; needs --force)\n\
         create  kubernetes/longhorn/values.yaml\n\
         delete  talos/nodes/w-1.yaml\n\
         update  .talhorn-manifest.json\n"
    );
    let blocked: Vec<_> = outcome
        .plan
        .blocked()
        .map(|c| (c.path.as_str(), c.blocked_by))
        .collect();
    assert_eq!(blocked, [("RUNBOOK.md", Some(Blocker::HandEdited))]);
    assert_eq!(snapshot(&out), before, "check mode wrote something");
}

#[test]
fn check_mode_on_an_up_to_date_output_finds_no_drift() {
    let (_tmp, out) = out_dir();
    write(&out, &generated()).unwrap();
    let opts = WriteOptions {
        mode: Mode::Check,
        ..WriteOptions::default()
    };
    let outcome = run(&out, &generated(), &opts).unwrap();
    assert!(!outcome.plan.has_drift(), "{}", outcome.plan);
    assert_eq!(outcome.plan.to_string(), "");
}

#[test]
fn only_paths_in_scope_can_become_stale() {
    let (_tmp, out) = out_dir();
    write(&out, &generated()).unwrap();
    // `--only talos`: the runbook was not generated this time, so it is not stale.
    let talos_only: Vec<Artifact> = generated().into_iter().skip(1).collect();
    let opts = WriteOptions {
        scope: Some(vec!["talos/".to_owned()]),
        ..WriteOptions::default()
    };
    let summary = write_with(&out, &talos_only, &opts).unwrap();
    assert_eq!(summary.deleted, 0);
    assert!(out.join("RUNBOOK.md").exists());
    assert_eq!(manifest(&out)["files"]["RUNBOOK.md"], sha256("# Runbook\n"));

    // Within the scope, a file no longer generated is stale as usual.
    write_with(&out, &talos_only[..1], &opts).unwrap();
    assert!(!out.join("talos/nodes/w-1.yaml").exists());
    assert!(out.join("RUNBOOK.md").exists());
}

#[test]
fn a_failure_while_staging_leaves_the_previous_output_byte_identical() {
    let (_tmp, out) = out_dir();
    write(
        &out,
        &[artifact("a.txt", "a1\n"), artifact("z/old.txt", "z1\n")],
    )
    .unwrap();
    // A directory where the temporary file for z/old.txt must go makes staging fail after
    // a.txt and m/fresh.txt (with its new directory) are already staged.
    fs::create_dir(out.join("z/.old.txt.talhorn-tmp")).unwrap();
    let before = snapshot(&out);
    let artifacts = [
        artifact("a.txt", "a2\n"),
        artifact("m/fresh.txt", "new\n"),
        artifact("z/old.txt", "z2\n"),
    ];
    let err = write(&out, &artifacts).unwrap_err();
    assert!(matches!(err, WriteError::Stage { .. }), "{err:?}");
    let message = err.to_string();
    assert!(message.contains("z/.old.txt.talhorn-tmp"), "{message}");
    assert!(
        message.contains("nothing in the output directory was changed"),
        "{message}"
    );
    assert_eq!(snapshot(&out), before, "the failed write left traces");
}

#[test]
fn a_file_where_a_directory_must_be_fails_before_anything_changes() {
    let (_tmp, out) = out_dir();
    write(&out, &generated()[..1]).unwrap();
    fs::write(out.join("talos"), "a file, not a directory\n").unwrap();
    let before = snapshot(&out);
    let err = write(&out, &generated()).unwrap_err();
    assert!(matches!(err, WriteError::NotADirectory { .. }), "{err:?}");
    assert!(
        err.to_string()
            .contains(&out.join("talos").display().to_string()),
        "{err}"
    );
    assert_eq!(snapshot(&out), before);
}

#[test]
fn a_read_only_directory_fails_the_write_and_leaves_the_output_untouched() {
    let (_tmp, out) = out_dir();
    write(
        &out,
        &[artifact("a.txt", "a1\n"), artifact("sub/b.txt", "b1\n")],
    )
    .unwrap();
    let sub = out.join("sub");
    fs::set_permissions(&sub, fs::Permissions::from_mode(0o555)).unwrap();
    if fs::write(sub.join("probe"), "").is_ok() {
        // Running as root: permissions do not apply, so this failure cannot be provoked.
        eprintln!("note: skipping the read-only case, permissions do not apply to this user");
        fs::set_permissions(&sub, fs::Permissions::from_mode(0o755)).unwrap();
        return;
    }
    let before = snapshot(&out);
    let result = write(
        &out,
        &[artifact("a.txt", "a2\n"), artifact("sub/b.txt", "b2\n")],
    );
    let after = snapshot(&out);
    fs::set_permissions(&sub, fs::Permissions::from_mode(0o755)).unwrap();
    let err = result.unwrap_err();
    assert!(
        err.to_string().contains(&sub.display().to_string()),
        "{err}"
    );
    assert!(err.to_string().contains("permissions"), "{err}");
    assert_eq!(after, before);
}

#[test]
fn symlinks_in_the_output_directory_are_never_followed() {
    let (tmp, out) = out_dir();
    let elsewhere = tmp.path().join("elsewhere");
    fs::create_dir_all(&elsewhere).unwrap();
    fs::create_dir_all(&out).unwrap();
    std::os::unix::fs::symlink(&elsewhere, out.join("talos")).unwrap();
    let err = write(&out, &generated()).unwrap_err();
    assert!(matches!(err, WriteError::Symlink { .. }), "{err:?}");
    assert!(err.to_string().contains("talos"), "{err}");
    assert_eq!(fs::read_dir(&elsewhere).unwrap().count(), 0);

    fs::remove_file(out.join("talos")).unwrap();
    std::os::unix::fs::symlink(elsewhere.join("target"), out.join("RUNBOOK.md")).unwrap();
    let err = write(&out, &generated()).unwrap_err();
    assert!(matches!(err, WriteError::Symlink { .. }), "{err:?}");
    assert!(!elsewhere.join("target").exists());
}

#[test]
fn diff_mode_yields_a_git_style_unified_diff() {
    let (_tmp, out) = out_dir();
    write(
        &out,
        &[
            artifact("x.txt", "one\ntwo\nthree\n"),
            artifact("old.txt", "bye\n"),
        ],
    )
    .unwrap();
    let before = snapshot(&out);
    let opts = WriteOptions {
        mode: Mode::Diff,
        ..WriteOptions::default()
    };
    let artifacts = [
        artifact("x.txt", "one\n2\nthree\n"),
        artifact("new.txt", "hi\n"),
    ];
    let outcome = run(&out, &artifacts, &opts).unwrap();
    let expected = "\
--- /dev/null
+++ b/new.txt
@@ -0,0 +1 @@
+hi
--- a/old.txt
+++ /dev/null
@@ -1 +0,0 @@
-bye
--- a/x.txt
+++ b/x.txt
@@ -1,3 +1,3 @@
 one
-two
+2
 three
";
    assert_eq!(outcome.diff.as_deref(), Some(expected));
    assert_eq!(unified_diff(&outcome.plan), expected);
    assert_eq!(snapshot(&out), before, "diff mode wrote something");
}

#[test]
fn plan_lists_each_path_once_with_its_action() {
    let (_tmp, out) = out_dir();
    write(&out, &generated()).unwrap();
    let mut artifacts = generated();
    artifacts[0] = artifact("RUNBOOK.md", "# v2\n");
    artifacts.remove(2);
    let plan = plan(&out, &artifacts, &WriteOptions::default()).unwrap();
    let actions: Vec<(&str, Action)> = plan
        .changes
        .iter()
        .map(|c| (c.path.as_str(), c.action))
        .collect();
    assert_eq!(
        actions,
        [
            ("RUNBOOK.md", Action::Update),
            ("talos/nodes/w-1.yaml", Action::Delete),
            ("talos/worker.yaml", Action::Unchanged),
            (MANIFEST_NAME, Action::Update),
        ]
    );
}

#[test]
fn a_plan_to_write_holds_the_folder_until_it_is_applied() {
    let (_tmp, out) = out_dir();
    let first = plan(&out, &[artifact("a.txt", "1\n")], &WriteOptions::default()).unwrap();
    let (done, finished) = std::sync::mpsc::channel();
    let second_out = out.clone();
    let second = std::thread::spawn(move || {
        let result = run(
            &second_out,
            &[artifact("b.txt", "2\n")],
            &WriteOptions::default(),
        );
        let _ = done.send(());
        result.map(|outcome| outcome.summary)
    });
    assert!(
        finished
            .recv_timeout(std::time::Duration::from_millis(300))
            .is_err(),
        "the second build did not wait for the first"
    );
    assert!(!out.join("b.txt").exists());
    apply(&first).unwrap();
    let summary = second.join().unwrap().unwrap().unwrap();
    // Planned after the first build committed: it saw a.txt in the manifest, so deleted it.
    assert_eq!((summary.created, summary.deleted), (1, 1));
    assert!(out.join("b.txt").is_file() && !out.join("a.txt").exists());
    assert!(!out.join(talhorn::write::LOCK_NAME).exists());
}

#[test]
fn check_waits_for_a_build_in_progress_and_creates_nothing() {
    let (_tmp, out) = out_dir();
    write(&out, &generated()).unwrap();
    let before = snapshot(&out);
    let writing = plan(&out, &generated(), &WriteOptions::default()).unwrap();
    let (done, finished) = std::sync::mpsc::channel();
    let check_out = out.clone();
    let check = std::thread::spawn(move || {
        let opts = WriteOptions {
            mode: Mode::Check,
            ..WriteOptions::default()
        };
        let result = run(&check_out, &generated(), &opts).map(|o| o.plan.has_drift());
        let _ = done.send(());
        result
    });
    assert!(
        finished
            .recv_timeout(std::time::Duration::from_millis(300))
            .is_err(),
        "the check read a folder a build was writing"
    );
    drop(writing);
    assert!(!check.join().unwrap().unwrap());
    assert_eq!(snapshot(&out), before);
}

/// Every file under `dir`, recursively.
fn files_in(dir: &Path) -> Vec<String> {
    snapshot(dir)
        .into_iter()
        .filter(|(_, (content, ..))| content.is_some())
        .map(|(path, _)| path)
        .collect()
}

#[test]
fn a_directory_swapped_for_a_symlink_after_the_plan_cannot_redirect_the_write() {
    let (tmp, out) = out_dir();
    write(&out, &generated()).unwrap();
    let elsewhere = tmp.path().join("elsewhere");
    fs::create_dir_all(elsewhere.join("nodes")).unwrap();
    let mut next = generated();
    next.push(artifact("talos/nodes/w-2.yaml", "machine: {}\n"));
    next[2] = artifact("talos/nodes/w-1.yaml", "machine: { changed: true }\n");
    let planned = plan(&out, &next, &WriteOptions::default()).unwrap();
    // Between the plan and the write, talos/ becomes a symlink to a folder outside.
    fs::rename(out.join("talos"), out.join("talos.moved")).unwrap();
    std::os::unix::fs::symlink(&elsewhere, out.join("talos")).unwrap();
    let _ = apply(&planned);
    assert_eq!(files_in(&elsewhere), Vec::<String>::new());
    assert!(
        !out.join("talos.moved/nodes").read_dir().unwrap().any(|e| e
            .unwrap()
            .file_name()
            .to_string_lossy()
            .ends_with("-tmp"))
    );

    // A directory the plan found absent, created as a symlink before the write.
    let (tmp, out) = out_dir();
    write(&out, &generated()).unwrap();
    let elsewhere = tmp.path().join("elsewhere");
    fs::create_dir_all(&elsewhere).unwrap();
    let mut next = generated();
    next.push(artifact("kubernetes/values.yaml", "a: 1\n"));
    let before = snapshot(&out);
    let planned = plan(&out, &next, &WriteOptions::default()).unwrap();
    std::os::unix::fs::symlink(&elsewhere, out.join("kubernetes")).unwrap();
    let err = apply(&planned).unwrap_err();
    assert!(matches!(err, WriteError::Symlink { .. }), "{err:?}");
    assert_eq!(files_in(&elsewhere), Vec::<String>::new());
    fs::remove_file(out.join("kubernetes")).unwrap();
    assert_eq!(snapshot(&out), before, "the refused write left traces");
}

#[test]
fn a_directory_swapped_for_a_symlink_while_building_never_leaks_a_write() {
    let (tmp, out) = out_dir();
    write(&out, &generated()).unwrap();
    let elsewhere = tmp.path().join("elsewhere");
    fs::create_dir_all(elsewhere.join("nodes")).unwrap();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let swapper = {
        let (out, elsewhere, stop) = (out.clone(), elsewhere.clone(), stop.clone());
        std::thread::spawn(move || {
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let _ = fs::rename(out.join("talos"), out.join("talos.real"));
                let _ = std::os::unix::fs::symlink(&elsewhere, out.join("talos"));
                std::thread::yield_now();
                let _ = fs::remove_file(out.join("talos"));
                let _ = fs::rename(out.join("talos.real"), out.join("talos"));
            }
        })
    };
    for round in 0..40 {
        let mut next = generated();
        next[2] = artifact("talos/nodes/w-1.yaml", &format!("round: {round}\n"));
        // Failing is fine (a symlink or a missing directory is in the way); leaking is not.
        let _ = write_with(&out, &next, &forced());
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    swapper.join().unwrap();
    assert_eq!(files_in(&elsewhere), Vec::<String>::new());
}

/// Files are staged in parallel, but when several cannot be, the error is always the first
/// in the plan's (path) order, and every file staged meanwhile is removed again.
#[test]
fn the_first_file_that_cannot_be_staged_is_the_one_reported() {
    for _ in 0..10 {
        let (_tmp, out) = out_dir();
        write(&out, &generated()).unwrap();
        let mut next = generated();
        // Many files between the two that fail, so that the workers share them.
        next.extend((0..400).map(|i| artifact(&format!("m/{i:03}.yaml"), "a: 1\n")));
        for folder in ["a-first", "z-last"] {
            next.push(artifact(&format!("{folder}/values.yaml"), "a: 1\n"));
            // A directory where the file's temporary file goes: it cannot be staged.
            fs::create_dir_all(out.join(folder).join(".values.yaml.talhorn-tmp")).unwrap();
        }
        let before = snapshot(&out);
        let planned = plan(&out, &next, &WriteOptions::default()).unwrap();
        let err = apply(&planned).unwrap_err();
        let WriteError::Stage { path, .. } = &err else {
            panic!("{err:?}");
        };
        assert_eq!(path, &out.join("a-first/.values.yaml.talhorn-tmp"));
        assert_eq!(snapshot(&out), before, "the refused write left traces");
    }
}

/// The artifacts are compared with the disk in parallel, but when several cannot be, the
/// error is always the first in the artifacts' order.
#[test]
fn the_first_artifact_that_cannot_be_planned_is_the_one_reported() {
    for _ in 0..10 {
        let (_tmp, out) = out_dir();
        write(&out, &generated()).unwrap();
        let mut next = vec![artifact("a-first/values.yaml", "a: 1\n")];
        // Many artifacts between the two that fail, so that the workers share them.
        next.extend((0..400).map(|i| artifact(&format!("m/{i:03}.yaml"), "a: 1\n")));
        next.push(artifact("z-last/values.yaml", "a: 1\n"));
        for folder in ["a-first", "z-last"] {
            // A directory where the file goes: not a file talhorn may replace.
            fs::create_dir_all(out.join(folder).join("values.yaml")).unwrap();
        }
        let err = plan(&out, &next, &WriteOptions::default()).unwrap_err();
        let WriteError::NotAFile { path } = &err else {
            panic!("{err:?}");
        };
        assert_eq!(path, &out.join("a-first/values.yaml"));
    }
}

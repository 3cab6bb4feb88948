//! Putting generated artifacts on disk, safely.
//!
//! `build` produces an in-memory set of [`Artifact`]s; this module decides what each one means
//! for the output directory ([`plan`]), refuses to destroy anything a person wrote or edited,
//! and then writes the whole set all-or-nothing ([`apply`]), crash-safe: a journal records the
//! commit before it starts, so a build killed at any point is finished or undone by the next.
//!
//! The manifest (`.talhorn-manifest.json`) records the sha256 of every file talhorn wrote. A
//! file whose content differs from its recorded hash was edited by hand; a file that is not in
//! the manifest was not written by talhorn. Neither is overwritten without `force`, and only
//! manifest files are ever deleted.
//!
//! Everything inside the output directory is reached through opened directory handles without
//! following symlinks (`handle.rs`), and a lock keeps a second build out until the first is
//! done (`lock.rs`).

#[cfg(not(unix))]
compile_error!(
    "talhorn's writer needs a Unix system: it writes through directory handles (openat) and \
     locks the output folder with flock"
);

mod commit;
mod diff;
mod handle;
mod journal;
mod lock;
mod manifest;
mod paths;

pub use commit::{Recovery, Summary, apply};
pub use diff::unified_diff;
pub use handle::fault::ENV as FAULT_ENV;
pub use journal::JOURNAL_NAME;
pub use lock::LOCK_NAME;
pub use paths::MANIFEST_NAME;

use handle::OutputDir;
use paths::Scope;
use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// One generated file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Artifact {
    /// Relative to the output directory, '/'-separated.
    pub path: String,
    pub content: Vec<u8>,
}

/// What `build` does with the plan.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Mode {
    /// Write the files.
    #[default]
    Write,
    /// Write nothing; report what would change (`--check`).
    Check,
    /// As `Check`, and also produce a unified diff (`--diff`).
    Diff,
}

#[derive(Clone, Debug, Default)]
pub struct WriteOptions {
    /// Overwrite hand-edited and foreign files, and delete hand-edited stale ones.
    pub force: bool,
    pub mode: Mode,
    /// Only these path prefixes were generated (`--only`, `--node`); manifest entries outside
    /// them are kept as they are, never treated as stale. `None`: everything was generated.
    pub scope: Option<Vec<String>>,
}

/// What happens to one path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    Create,
    Update,
    Unchanged,
    /// In the manifest but no longer generated.
    Delete,
}

/// Why a change would destroy work that is not talhorn's, so needs `force`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Blocker {
    /// The file's content no longer matches the hash talhorn recorded when it wrote it.
    HandEdited,
    /// The file exists but talhorn did not write it (it is not in the manifest).
    NotGenerated,
}

/// The plan for one path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Change {
    pub path: String,
    pub action: Action,
    pub blocked_by: Option<Blocker>,
    /// What is on disk now, for `Update` and `Delete`.
    pub before: Option<Vec<u8>>,
    /// What will be written, for `Create` and `Update`.
    pub after: Option<Vec<u8>>,
}

/// Everything [`apply`] will do, decided before anything is touched.
///
/// A plan made to write holds the output directory's lock until it is dropped, so nothing can
/// change the directory between the plan and its [`apply`].
#[derive(Clone, Debug)]
pub struct Plan {
    pub out_dir: PathBuf,
    /// Sorted by path; the manifest's own change, if any, comes last.
    pub changes: Vec<Change>,
    pub force: bool,
    /// What planning to write did first about a commit a killed build had left.
    pub recovered: Option<Recovery>,
    /// `--check` and `--diff` only: a killed build left a commit unfinished, which the next
    /// build will finish or undo (they change nothing, so they leave it).
    pub interrupted: bool,
    /// The opened output directory: `None` when it does not exist (`--check`, `--diff`).
    output: Option<Arc<OutputDir>>,
}

impl Plan {
    /// True when the output directory would change (`build --check` fails on it).
    pub fn has_drift(&self) -> bool {
        self.interrupted
            || self
                .changes
                .iter()
                .any(|change| change.action != Action::Unchanged)
    }

    /// The output directory, locked for writing.
    fn writer(&self) -> Result<&OutputDir, WriteError> {
        match &self.output {
            Some(output) if output.is_writable() => Ok(output),
            _ => Err(WriteError::NotForWriting),
        }
    }

    /// Changes that need `force`.
    pub fn blocked(&self) -> impl Iterator<Item = &Change> {
        self.changes
            .iter()
            .filter(|change| change.blocked_by.is_some())
    }
}

/// One line per path that would change, e.g. `update  talos/worker.yaml (edited by hand …)`.
impl fmt::Display for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.interrupted {
            writeln!(
                f,
                "finish  {JOURNAL_NAME} (a build was interrupted; the next build finishes or \
                 undoes its commit)"
            )?;
        }
        for change in &self.changes {
            let verb = match change.action {
                Action::Create => "create",
                Action::Update => "update",
                Action::Delete => "delete",
                Action::Unchanged => continue,
            };
            write!(f, "{verb}  {}", change.path)?;
            if let Some(blocker) = change.blocked_by {
                write!(
                    f,
                    " ({}; needs --force)",
                    blocker_text(blocker, change.action)
                )?;
            }
            writeln!(f)?;
        }
        Ok(())
    }
}

fn blocker_text(blocker: Blocker, action: Action) -> &'static str {
    match (blocker, action) {
        (Blocker::HandEdited, Action::Delete) => {
            "edited by hand, and no longer generated so it would be deleted"
        }
        (Blocker::HandEdited, _) => "edited by hand since talhorn wrote it",
        (Blocker::NotGenerated, _) => "exists but was not written by talhorn",
    }
}

/// A file the writer refused to touch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlockedFile {
    pub path: String,
    pub blocker: Blocker,
    pub action: Action,
}

#[derive(Debug)]
pub enum WriteError {
    /// An artifact path (or a scope prefix) that may not name a file in the output directory.
    InvalidPath {
        path: String,
        reason: &'static str,
    },
    DuplicatePath {
        path: String,
    },
    /// `file` is generated as a file, but another artifact needs it to be a directory.
    PathCollision {
        file: String,
        inside: String,
    },
    /// Writing would overwrite or delete files that talhorn does not own as they are.
    Blocked {
        out_dir: PathBuf,
        files: Vec<BlockedFile>,
    },
    /// A symlink where the writer needs a real directory or file: it never follows one.
    Symlink {
        path: PathBuf,
    },
    /// A file (or something else that is not a directory) where a directory must be.
    NotADirectory {
        path: PathBuf,
    },
    /// A directory (or something else that is not a regular file) where a file must be.
    NotAFile {
        path: PathBuf,
    },
    /// The manifest exists but cannot be used.
    BadManifest {
        path: PathBuf,
        problem: String,
    },
    /// Reading the current output failed; nothing was written.
    Read {
        path: PathBuf,
        source: io::Error,
    },
    /// Staging new content failed; temporary files were removed, nothing was changed.
    Stage {
        doing: &'static str,
        path: PathBuf,
        source: io::Error,
    },
    /// Committing failed after some files were already replaced; the journal stays, and the
    /// next build finishes the commit.
    Commit {
        doing: &'static str,
        path: PathBuf,
        source: io::Error,
        replaced: usize,
    },
    /// The output directory's lock cannot be taken.
    Lock {
        path: PathBuf,
        source: io::Error,
    },
    /// A killed build's journal cannot be used to finish or undo its commit.
    BadJournal {
        path: PathBuf,
        problem: String,
    },
    /// [`apply`] was given a plan made for `--check` or `--diff`, which holds no lock.
    NotForWriting,
}

impl fmt::Display for WriteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidPath { path, reason } => write!(
                f,
                "refusing to write the output path {path:?}: {reason}. Output paths are built \
                 from names in the intent (cluster and node names); rename the offending one"
            ),
            Self::DuplicatePath { path } => write!(
                f,
                "two generated files have the same path {path:?}; give the nodes or VMs that \
                 produce it distinct names"
            ),
            Self::PathCollision { file, inside } => write!(
                f,
                "{file:?} is generated as a file, but {inside:?} needs it to be a directory; \
                 rename the node or VM that produces one of them"
            ),
            Self::Blocked { out_dir, files } => {
                writeln!(
                    f,
                    "refusing to write {}: it would destroy changes talhorn did not make:",
                    out_dir.display()
                )?;
                for file in files {
                    writeln!(
                        f,
                        "  {}: {}",
                        file.path,
                        blocker_text(file.blocker, file.action)
                    )?;
                }
                write!(
                    f,
                    "Revert those edits or move the files away, or rerun with --force to let \
                     talhorn overwrite (or delete) them"
                )
            }
            Self::Symlink { path } => write!(
                f,
                "{} is a symbolic link; talhorn never writes through symlinks in its output \
                 directory. Replace it with a real directory or file, or choose another \
                 output directory",
                path.display()
            ),
            Self::NotADirectory { path } => write!(
                f,
                "{} is in the way: it is a file, but a directory of generated files must be \
                 there. Move it away and rerun",
                path.display()
            ),
            Self::NotAFile { path } => write!(
                f,
                "{} is in the way: it is a directory or special file, but a generated file \
                 must be there. Move it away and rerun",
                path.display()
            ),
            Self::BadManifest { path, problem } => write!(
                f,
                "cannot use the manifest {}: {problem}. Restore it from version control, or \
                 delete it and rerun (files that differ from the new output will then need \
                 --force, because talhorn can no longer tell they are its own)",
                path.display()
            ),
            Self::Read { path, source } => write!(
                f,
                "cannot read {}: {source}; nothing was written. {}",
                path.display(),
                io_hint(source)
            ),
            Self::Stage {
                doing,
                path,
                source,
            } => write!(
                f,
                "cannot {doing} {}: {source}; nothing in the output directory was changed. {}",
                path.display(),
                io_hint(source)
            ),
            Self::Commit {
                doing,
                path,
                source,
                replaced,
            } => write!(
                f,
                "cannot {doing} {}: {source}, after {replaced} file(s) were already replaced, \
                 so the output is partly updated. {} Then run talhorn build again: it first \
                 finishes this update",
                path.display(),
                io_hint(source)
            ),
            Self::Lock { path, source } => write!(
                f,
                "cannot lock {} (a build holds it so that no other build writes the same \
                 directory at once): {source}. {}",
                path.display(),
                io_hint(source)
            ),
            Self::BadJournal { path, problem } => write!(
                f,
                "cannot finish or undo the interrupted build recorded in {}: {problem}. Delete \
                 that file and the *.talhorn-tmp files beside the generated files, then rerun \
                 (files left half updated will then need --force)",
                path.display()
            ),
            Self::NotForWriting => f.write_str(
                "internal error: a plan made for --check or --diff cannot be written; plan \
                 again to write",
            ),
        }
    }
}

/// What to do about an I/O error, in words.
fn io_hint(err: &io::Error) -> &'static str {
    match err.kind() {
        io::ErrorKind::PermissionDenied => "Check that you may write there (permissions, owner).",
        io::ErrorKind::ReadOnlyFilesystem => {
            "The file system is read-only; remount it or choose \
                                              another output directory."
        }
        io::ErrorKind::StorageFull => "The disk is full; free some space.",
        io::ErrorKind::NotADirectory => "A file is where a directory must be; move it away.",
        io::ErrorKind::IsADirectory | io::ErrorKind::AlreadyExists => {
            "Something is in the way of that file; move it away."
        }
        _ => "Fix the cause and rerun.",
    }
}

impl std::error::Error for WriteError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Read { source, .. }
            | Self::Stage { source, .. }
            | Self::Commit { source, .. }
            | Self::Lock { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// Decides what writing `artifacts` into `out_dir` would do, touching nothing.
///
/// Fails on an invalid artifact path, a symlink or a file in the way, or an unusable manifest.
/// Hand-edited and foreign files are not errors here: they are recorded as blocked changes,
/// so `--check` can report them and [`apply`] can refuse them.
pub fn plan(
    out_dir: &Path,
    artifacts: &[Artifact],
    opts: &WriteOptions,
) -> Result<Plan, WriteError> {
    paths::check_artifact_paths(artifacts.iter().map(|artifact| artifact.path.as_str()))?;
    let scope = Scope::new(opts.scope.as_deref())?;
    let (output, recovered) = match opts.mode {
        Mode::Write => {
            let output = OutputDir::open_for_writing(out_dir)?;
            let recovered = commit::recover(&output)?;
            (Some(output), recovered)
        }
        Mode::Check | Mode::Diff => (OutputDir::open_for_reading(out_dir)?, None),
    };
    let output = output.map(Arc::new);
    let existing = |rel: &str| match &output {
        Some(output) => output.inspect(rel),
        None => Ok(Existing::Absent),
    };
    let manifest_path = out_dir.join(MANIFEST_NAME);
    let manifest_before = match existing(MANIFEST_NAME)? {
        Existing::File(bytes) => Some(bytes),
        Existing::Absent => None,
        Existing::NotAFile => {
            return Err(WriteError::NotAFile {
                path: manifest_path,
            });
        }
        Existing::BehindFile(path) => return Err(WriteError::NotADirectory { path }),
    };
    let recorded = match &manifest_before {
        Some(bytes) => manifest::parse(bytes).map_err(|problem| WriteError::BadManifest {
            path: manifest_path,
            problem,
        })?,
        None => manifest::Hashes::new(),
    };

    // Each artifact is compared with what is on disk on the workers (reading a thousand-node
    // output is most of a `--check`); the first error in the artifacts' order is reported.
    let planned: Vec<Result<(Change, String), WriteError>> = crate::yaml::on_workers(|| {
        use rayon::prelude::*;
        artifacts
            .par_iter()
            .map(|artifact| {
                let change =
                    plan_artifact(out_dir, existing(&artifact.path)?, artifact, &recorded)?;
                Ok((change, manifest::sha256_hex(&artifact.content)))
            })
            .collect()
    });
    let mut changes = Vec::with_capacity(planned.len() + 1);
    let mut hashes = manifest::Hashes::new();
    for (artifact, planned) in artifacts.iter().zip(planned) {
        let (change, hash) = planned?;
        hashes.insert(artifact.path.clone(), hash);
        changes.push(change);
    }
    for (path, hash) in &recorded {
        if hashes.contains_key(path) {
            continue;
        }
        if !scope.covers(path) {
            hashes.insert(path.clone(), hash.clone());
            continue;
        }
        if let Some(change) = plan_stale(existing(path)?, path, hash) {
            changes.push(change);
        }
    }
    changes.sort_by(|a, b| a.path.cmp(&b.path));
    changes.push(manifest_change(manifest_before, manifest::render(&hashes)));
    let interrupted = opts.mode != Mode::Write
        && output
            .as_ref()
            .is_some_and(|output| output.contains(JOURNAL_NAME));
    if opts.mode != Mode::Write
        && let Some(output) = &output
    {
        // Everything is read: a build waiting to write may go on.
        output.unlock();
    }
    Ok(Plan {
        out_dir: out_dir.to_path_buf(),
        changes,
        force: opts.force,
        recovered,
        interrupted,
        output,
    })
}

fn plan_artifact(
    out_dir: &Path,
    existing: Existing,
    artifact: &Artifact,
    recorded: &manifest::Hashes,
) -> Result<Change, WriteError> {
    let recorded = recorded.get(&artifact.path);
    let on_disk = match existing {
        Existing::Absent => None,
        Existing::File(bytes) => Some(bytes),
        Existing::NotAFile => {
            return Err(WriteError::NotAFile {
                path: out_dir.join(&artifact.path),
            });
        }
        Existing::BehindFile(path) => return Err(WriteError::NotADirectory { path }),
    };
    let (action, blocked_by) = match &on_disk {
        None => (Action::Create, None),
        // Already what we would write, whoever wrote it: nothing to lose, nothing to do.
        Some(bytes) if *bytes == artifact.content => (Action::Unchanged, None),
        Some(bytes) => match recorded {
            Some(hash) if *hash == manifest::sha256_hex(bytes) => (Action::Update, None),
            Some(_) => (Action::Update, Some(Blocker::HandEdited)),
            None => (Action::Update, Some(Blocker::NotGenerated)),
        },
    };
    let changes_content = action != Action::Unchanged;
    Ok(Change {
        path: artifact.path.clone(),
        action,
        blocked_by,
        before: on_disk.filter(|_| changes_content),
        after: changes_content.then(|| artifact.content.clone()),
    })
}

/// A manifest file that is no longer generated: delete it if it is still talhorn's.
/// Nothing to do when it is already gone, or is no longer a regular file (never deleted).
fn plan_stale(existing: Existing, path: &str, recorded: &str) -> Option<Change> {
    let Existing::File(bytes) = existing else {
        return None;
    };
    let edited = manifest::sha256_hex(&bytes) != recorded;
    Some(Change {
        path: path.to_owned(),
        action: Action::Delete,
        blocked_by: edited.then_some(Blocker::HandEdited),
        before: Some(bytes),
        after: None,
    })
}

fn manifest_change(before: Option<Vec<u8>>, after: Vec<u8>) -> Change {
    let action = match &before {
        None => Action::Create,
        Some(bytes) if *bytes == after => Action::Unchanged,
        Some(_) => Action::Update,
    };
    let unchanged = action == Action::Unchanged;
    Change {
        path: MANIFEST_NAME.to_owned(),
        action,
        blocked_by: None,
        before: before.filter(|_| !unchanged),
        after: (!unchanged).then_some(after),
    }
}

/// What is at a relative path in the output directory.
#[derive(Debug)]
enum Existing {
    Absent,
    /// A regular file, with its content.
    File(Vec<u8>),
    /// A directory or special file.
    NotAFile,
    /// A file stands where one of the path's directories must be.
    BehindFile(PathBuf),
}

/// What [`run`] did.
#[derive(Clone, Debug)]
pub struct Outcome {
    pub plan: Plan,
    /// For [`Mode::Diff`].
    pub diff: Option<String>,
    /// For [`Mode::Write`].
    pub summary: Option<Summary>,
}

/// Plans, then writes (`Mode::Write`) or only reports (`Check`, `Diff`).
pub fn run(
    out_dir: &Path,
    artifacts: &[Artifact],
    opts: &WriteOptions,
) -> Result<Outcome, WriteError> {
    let plan = plan(out_dir, artifacts, opts)?;
    let (diff, summary) = match opts.mode {
        Mode::Write => (None, Some(apply(&plan)?)),
        Mode::Check => (None, None),
        Mode::Diff => (Some(unified_diff(&plan)), None),
    };
    Ok(Outcome {
        plan,
        diff,
        summary,
    })
}

/// Writes one file atomically (temp file beside it, fsync, rename): for files outside a
/// generated tree, such as the starter intent of `talhorn init`.
pub fn write_file_atomically(path: &Path, content: &[u8]) -> std::io::Result<()> {
    use std::io::Write as _;
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temp = dir.join(format!(".{name}.talhorn-tmp"));
    let result = (|| {
        let mut file = std::fs::File::create(&temp)?;
        file.write_all(content)?;
        file.sync_all()?;
        std::fs::rename(&temp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    result
}

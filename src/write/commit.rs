//! Carrying out a plan: stage everything, then commit; on a staging failure, undo the staging.

use super::paths::{MANIFEST_NAME, TEMP_SUFFIX, parent_dirs};
use super::{Action, BlockedFile, Change, Plan, WriteError};
use std::collections::BTreeSet;
use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// What [`apply`] did, not counting the manifest.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    pub created: usize,
    pub updated: usize,
    pub deleted: usize,
    pub unchanged: usize,
}

impl Summary {
    fn of(plan: &Plan) -> Self {
        let mut summary = Self::default();
        for change in plan.changes.iter().filter(|c| c.path != MANIFEST_NAME) {
            let count = match change.action {
                Action::Create => &mut summary.created,
                Action::Update => &mut summary.updated,
                Action::Delete => &mut summary.deleted,
                Action::Unchanged => &mut summary.unchanged,
            };
            *count += 1;
        }
        summary
    }
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} created, {} updated, {} deleted, {} unchanged",
            self.created, self.updated, self.deleted, self.unchanged
        )
    }
}

/// Writes the plan: all of it, or (when anything fails before the first rename) none of it.
///
/// Refuses a plan with blocked changes unless it was made with `force`.
pub fn apply(plan: &Plan) -> Result<Summary, WriteError> {
    refuse_blocked(plan)?;
    let mut staging = Staging::default();
    for change in &plan.changes {
        if let Some(content) = &change.after
            && let Err(err) = staging.stage(&plan.out_dir, change, content)
        {
            staging.abandon();
            return Err(err);
        }
    }
    staging.commit(plan)?;
    Ok(Summary::of(plan))
}

fn refuse_blocked(plan: &Plan) -> Result<(), WriteError> {
    if plan.force {
        return Ok(());
    }
    let files: Vec<BlockedFile> = plan
        .blocked()
        .filter_map(|change| {
            change.blocked_by.map(|blocker| BlockedFile {
                path: change.path.clone(),
                blocker,
                action: change.action,
            })
        })
        .collect();
    if files.is_empty() {
        return Ok(());
    }
    Err(WriteError::Blocked {
        out_dir: plan.out_dir.clone(),
        files,
    })
}

/// New content waiting in a temporary file beside its target.
struct Staged {
    rel: String,
    temp: PathBuf,
    target: PathBuf,
}

/// What staging has done so far, so it can be undone.
#[derive(Default)]
struct Staging {
    created_dirs: Vec<PathBuf>,
    staged: Vec<Staged>,
}

impl Staging {
    fn stage(&mut self, out_dir: &Path, change: &Change, content: &[u8]) -> Result<(), WriteError> {
        let (dir, name) = match change.path.rsplit_once('/') {
            Some((dir, name)) => (out_dir.join(dir), name),
            None => (out_dir.to_path_buf(), change.path.as_str()),
        };
        self.ensure_dir(&dir)?;
        let temp = dir.join(format!(".{name}{TEMP_SUFFIX}"));
        let target = dir.join(name);
        let file = create_fresh(&temp).map_err(|source| WriteError::Stage {
            doing: "create the temporary file",
            path: temp.clone(),
            source,
        })?;
        self.staged.push(Staged {
            rel: change.path.clone(),
            temp,
            target: target.clone(),
        });
        // An update keeps the file's mode (say, an executable bit the user added).
        let keep_mode_of = (change.action == Action::Update).then_some(target.as_path());
        fill(file, content, keep_mode_of).map_err(|source| WriteError::Stage {
            doing: "write new content for",
            path: target.clone(),
            source,
        })
    }

    /// Creates `dir` and its missing ancestors, remembering each so a rollback can remove it.
    fn ensure_dir(&mut self, dir: &Path) -> Result<(), WriteError> {
        let mut missing = Vec::new();
        let mut current = Some(dir);
        while let Some(path) = current.filter(|path| !path.as_os_str().is_empty()) {
            match fs::symlink_metadata(path) {
                Ok(_) => break,
                Err(err) if err.kind() == io::ErrorKind::NotFound => {
                    missing.push(path.to_path_buf());
                    current = path.parent();
                }
                Err(source) => {
                    return Err(WriteError::Stage {
                        doing: "inspect",
                        path: path.to_path_buf(),
                        source,
                    });
                }
            }
        }
        for path in missing.into_iter().rev() {
            if let Err(source) = fs::create_dir(&path) {
                return Err(WriteError::Stage {
                    doing: "create the directory",
                    path,
                    source,
                });
            }
            self.created_dirs.push(path);
        }
        Ok(())
    }

    /// Removes every temporary file and every directory staging created. Best effort: this
    /// runs after a failure, and the first error is the one worth reporting.
    fn abandon(self) {
        for staged in &self.staged {
            let _ = fs::remove_file(&staged.temp);
        }
        for dir in self.created_dirs.iter().rev() {
            let _ = fs::remove_dir(dir);
        }
    }

    /// Renames the files into place, deletes stale files, then renames the manifest.
    fn commit(self, plan: &Plan) -> Result<(), WriteError> {
        let (manifest, files): (Vec<Staged>, Vec<Staged>) = self
            .staged
            .into_iter()
            .partition(|staged| staged.rel == MANIFEST_NAME);
        let mut touched_dirs = BTreeSet::new();
        for (replaced, staged) in files.iter().enumerate() {
            if let Err(source) = fs::rename(&staged.temp, &staged.target) {
                remove_temps(files.iter().skip(replaced).chain(&manifest));
                return Err(WriteError::Commit {
                    doing: "move the new content into",
                    path: staged.target.clone(),
                    source,
                    replaced,
                });
            }
            touched_dirs.extend(staged.target.parent().map(Path::to_path_buf));
        }
        let replaced = files.len();
        for change in plan.changes.iter().filter(|c| c.action == Action::Delete) {
            if let Err(err) = delete_stale(&plan.out_dir, &change.path) {
                remove_temps(manifest.iter());
                return Err(WriteError::Commit {
                    doing: "delete the stale file",
                    path: plan.out_dir.join(&change.path),
                    source: err,
                    replaced,
                });
            }
        }
        // The manifest must not claim files whose renames a crash could still lose.
        for dir in &touched_dirs {
            sync_dir(dir);
        }
        for staged in &manifest {
            if let Err(source) = fs::rename(&staged.temp, &staged.target) {
                remove_temps(manifest.iter());
                return Err(WriteError::Commit {
                    doing: "move the new manifest into",
                    path: staged.target.clone(),
                    source,
                    replaced,
                });
            }
        }
        sync_dir(&plan.out_dir);
        Ok(())
    }
}

/// Opens a new, empty temporary file. One left over by an interrupted run is replaced (the name
/// is reserved for talhorn); anything else in its place is an error.
fn create_fresh(temp: &Path) -> io::Result<File> {
    let open = || OpenOptions::new().write(true).create_new(true).open(temp);
    match open() {
        Err(err) if err.kind() == io::ErrorKind::AlreadyExists => {
            if fs::symlink_metadata(temp)?.is_dir() {
                return Err(err);
            }
            fs::remove_file(temp)?;
            open()
        }
        other => other,
    }
}

fn fill(mut file: File, content: &[u8], keep_mode_of: Option<&Path>) -> io::Result<()> {
    file.write_all(content)?;
    if let Some(existing) = keep_mode_of {
        file.set_permissions(fs::metadata(existing)?.permissions())?;
    }
    file.sync_all()
}

fn remove_temps<'a>(staged: impl Iterator<Item = &'a Staged>) {
    for staged in staged {
        let _ = fs::remove_file(&staged.temp);
    }
}

/// Deletes a stale generated file, then the directories it leaves empty (a removed node's
/// directory, say). A file already gone is fine.
fn delete_stale(out_dir: &Path, rel: &str) -> io::Result<()> {
    match fs::remove_file(out_dir.join(rel)) {
        Err(err) if err.kind() != io::ErrorKind::NotFound => return Err(err),
        _ => {}
    }
    let dirs: Vec<&str> = parent_dirs(rel).collect();
    for dir in dirs.iter().rev() {
        // Fails on a directory that still holds anything, which then stays, as do its parents.
        if fs::remove_dir(out_dir.join(dir)).is_err() {
            break;
        }
    }
    Ok(())
}

/// Makes renames in `dir` durable. Best effort: not every platform can open a directory.
fn sync_dir(dir: &Path) {
    if let Ok(handle) = File::open(dir) {
        let _ = handle.sync_all();
    }
}

//! Carrying out a plan, crash-safe: journal, stage, make durable, commit point, renames.
//!
//! 1. The journal (`journal.rs`) is saved in the staging state.
//! 2. Every new content is written to a temporary file beside its target, without one `fsync`
//!    per file.
//! 3. Everything is made durable at once (`syncfs`), and the journal is switched to the
//!    committing state, durably: the commit point.
//! 4. The files are renamed into place, stale files deleted, the manifest renamed last; once
//!    that is durable, the journal is deleted.
//!
//! A failure before the commit point undoes the staging; a failure or a kill after it leaves
//! the journal, and the next build finishes the commit before anything else ([`recover`]).

use super::handle::{self, DirAt, OutputDir};
use super::journal::{self, Entry, JOURNAL_NAME, Journal, State};
use super::manifest::sha256_hex;
use super::paths::{MANIFEST_NAME, parent_dirs};
use super::{Action, BlockedFile, Change, Existing, Plan, WriteError};
use std::fmt;

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

/// What the start of a build did about a commit a killed build left unfinished.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Recovery {
    /// It had passed its commit point: its files were moved into place.
    Finished,
    /// It had not: its temporary files were removed, the output is as before it.
    RolledBack,
}

impl fmt::Display for Recovery {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Finished => "finished the commit of a build that was interrupted",
            Self::RolledBack => "rolled back the commit of a build that was interrupted",
        })
    }
}

/// Writes the plan: all of it, or (when anything fails before the commit point) none of it.
///
/// Refuses a plan with blocked changes unless it was made with `force`.
pub fn apply(plan: &Plan) -> Result<Summary, WriteError> {
    let out = plan.writer()?;
    let result = apply_locked(plan, out);
    // The plan is spent: applying it again would write from a stale view of the directory.
    out.unlock();
    result
}

fn apply_locked(plan: &Plan, out: &OutputDir) -> Result<Summary, WriteError> {
    refuse_blocked(plan)?;
    let Some(mut journal) = Journal::of(plan, out)? else {
        return Ok(Summary::of(plan));
    };
    journal.save(out, false)?;
    if let Err(err) = stage(out, plan) {
        // If undoing fails too, the journal stays and the next build finishes the undoing.
        let _ = roll_back(out, &journal);
        return Err(err);
    }
    journal.state = State::Committing;
    if let Err(err) = journal.save(out, true) {
        let _ = roll_back(out, &journal);
        return Err(err);
    }
    finish(out, &journal, false)?;
    Ok(Summary::of(plan))
}

/// Finishes or undoes the commit a killed build left in `out`, if any.
pub fn recover(out: &OutputDir) -> Result<Option<Recovery>, WriteError> {
    let Some(journal) = journal::load(out)? else {
        let leftover = handle::temp_name(JOURNAL_NAME);
        if out.contains(&leftover) {
            journal::remove(out).map_err(|source| WriteError::Stage {
                doing: "remove the leftover",
                path: out.join(&leftover),
                source,
            })?;
        }
        return Ok(None);
    };
    match journal.state {
        State::Staging => {
            roll_back(out, &journal)?;
            Ok(Some(Recovery::RolledBack))
        }
        State::Committing => {
            finish(out, &journal, true)?;
            Ok(Some(Recovery::Finished))
        }
    }
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

/// Writes every new content into its temporary file, on the workers (most of a large build's
/// time is the file system creating files). The first failure in the plan's order is the one
/// reported, whichever worker met it first; the other files staged meanwhile are removed with
/// the rest when the commit is rolled back.
fn stage(out: &OutputDir, plan: &Plan) -> Result<(), WriteError> {
    use rayon::prelude::*;
    let staged: Vec<Result<(), WriteError>> = crate::yaml::on_workers(|| {
        plan.changes
            .par_iter()
            .filter_map(|change| Some(stage_one(out, change, change.after.as_deref()?)))
            .collect()
    });
    staged.into_iter().collect()
}

fn stage_one(out: &OutputDir, change: &Change, content: &[u8]) -> Result<(), WriteError> {
    let (dir_rel, name) = handle::split(&change.path);
    let dir = out.make_dir(dir_rel)?;
    let temp = handle::temp_name(name);
    let file = handle::create_temp(&dir, &temp).map_err(|source| WriteError::Stage {
        doing: "create the temporary file",
        path: out.join(&sibling(dir_rel, &temp)),
        source,
    })?;
    let stage_error = |source| WriteError::Stage {
        doing: "write new content for",
        path: out.join(&change.path),
        source,
    };
    // An update keeps the file's mode (say, an executable bit the user added).
    let mode = match change.action {
        Action::Update => Some(handle::mode_of(&dir, name).map_err(stage_error)?),
        _ => None,
    };
    handle::fill(file, content, mode).map_err(stage_error)
}

/// `name` in the directory `dir_rel`, as a relative path.
fn sibling(dir_rel: &str, name: &str) -> String {
    if dir_rel.is_empty() {
        name.to_owned()
    } else {
        format!("{dir_rel}/{name}")
    }
}

/// Undoes a commit that has not reached its commit point: removes its temporary files and the
/// directories created for them (those still empty), then the journal.
fn roll_back(out: &OutputDir, journal: &Journal) -> Result<(), WriteError> {
    let mut first_error = None;
    for entry in &journal.write {
        let (dir_rel, name) = handle::split(&entry.path);
        let temp = handle::temp_name(name);
        let removed = match out.dir(dir_rel) {
            Ok(DirAt::Open(dir)) => handle::remove_file(&dir, &temp),
            Ok(_) => Ok(()),
            Err(err) => Err(err),
        };
        match removed {
            // A directory under a temporary file's name was never talhorn's: it stays.
            Err(err) if err.kind() == std::io::ErrorKind::IsADirectory => {}
            Err(source) => {
                first_error.get_or_insert(WriteError::Stage {
                    doing: "remove the temporary file",
                    path: out.join(&sibling(dir_rel, &temp)),
                    source,
                });
            }
            Ok(()) => {}
        }
    }
    if let Some(err) = first_error {
        // The journal stays, so the next build tries again.
        return Err(err);
    }
    for dir in journal.created_dirs.iter().rev() {
        // One that now holds anything stays: it is no longer only talhorn's.
        let _ = out.remove_dir(dir);
    }
    journal::remove(out).map_err(|source| WriteError::Stage {
        doing: "remove",
        path: out.join(JOURNAL_NAME),
        source,
    })
}

/// Completes a commit past its commit point: renames the staged files into place, deletes the
/// stale ones, renames the manifest, makes that durable and deletes the journal. `verify`
/// (for a commit a killed build left) checks each staged file's hash first.
fn finish(out: &OutputDir, journal: &Journal, verify: bool) -> Result<(), WriteError> {
    let (manifest, files): (Vec<&Entry>, Vec<&Entry>) = journal
        .write
        .iter()
        .partition(|entry| entry.path == MANIFEST_NAME);
    let mut replaced = 0;
    for entry in files {
        move_into_place(out, entry, verify)
            .map_err(|err| in_commit(err, "move the new content into", replaced))?;
        replaced += 1;
    }
    for entry in &journal.delete {
        delete_stale(out, entry)
            .map_err(|err| in_commit(err, "delete the stale file", replaced))?;
    }
    for entry in manifest {
        move_into_place(out, entry, verify)
            .map_err(|err| in_commit(err, "move the new manifest into", replaced))?;
    }
    let io_error = |doing, source| WriteError::Commit {
        doing,
        path: out.join(""),
        source,
        replaced,
    };
    // The journal may only go once the renames it describes would survive a power loss.
    out.sync_dirs()
        .map_err(|err| io_error("make the new files durable in", err))?;
    journal::remove(out).map_err(|err| io_error("remove the journal from", err))
}

/// An I/O error after the commit point, told as one: the output is partly updated.
fn in_commit(err: WriteError, doing: &'static str, replaced: usize) -> WriteError {
    match err {
        WriteError::Read { path, source } | WriteError::Stage { path, source, .. } => {
            WriteError::Commit {
                doing,
                path,
                source,
                replaced,
            }
        }
        other => other,
    }
}

fn move_into_place(out: &OutputDir, entry: &Entry, verify: bool) -> Result<(), WriteError> {
    let (dir_rel, name) = handle::split(&entry.path);
    let temp = handle::temp_name(name);
    let io_error = |source| WriteError::Read {
        path: out.join(&entry.path),
        source,
    };
    let dir = match out.dir(dir_rel).map_err(io_error)? {
        DirAt::Open(dir) => dir,
        _ => return Err(damaged(out, entry, "its directory is gone")),
    };
    if verify {
        match out.inspect_in(&dir, &temp, &sibling(dir_rel, &temp))? {
            Existing::File(bytes) if sha256_hex(&bytes) == entry.sha256 => {}
            // Moved before the build was killed.
            Existing::Absent if has_hash(out, &entry.path, &entry.sha256)? => return Ok(()),
            _ => {
                return Err(damaged(
                    out,
                    entry,
                    "its staged content is missing or altered",
                ));
            }
        }
    }
    handle::rename(&dir, &temp, name).map_err(io_error)
}

/// True when the file at `rel` has the content hashed `sha256`.
fn has_hash(out: &OutputDir, rel: &str, sha256: &str) -> Result<bool, WriteError> {
    Ok(matches!(out.inspect(rel)?, Existing::File(bytes) if sha256_hex(&bytes) == sha256))
}

fn damaged(out: &OutputDir, entry: &Entry, what: &str) -> WriteError {
    journal::bad(
        out,
        format!("it moves new content into {:?}, but {what}", entry.path),
    )
}

/// Deletes a stale generated file if it still has the content planned for deletion, then the
/// directories it leaves empty (a removed node's directory, say). A file already gone is fine.
fn delete_stale(out: &OutputDir, entry: &Entry) -> Result<(), WriteError> {
    if !has_hash(out, &entry.path, &entry.sha256)? {
        return Ok(());
    }
    let (dir_rel, name) = handle::split(&entry.path);
    let io_error = |source| WriteError::Read {
        path: out.join(&entry.path),
        source,
    };
    if let DirAt::Open(dir) = out.dir(dir_rel).map_err(io_error)? {
        handle::remove_file(&dir, name).map_err(io_error)?;
    }
    for dir in parent_dirs(&entry.path).collect::<Vec<_>>().iter().rev() {
        // Fails on a directory that still holds anything, which then stays, as do its parents.
        if out.remove_dir(dir).is_err() {
            break;
        }
    }
    Ok(())
}

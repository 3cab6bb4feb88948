//! `.talhorn-journal`: what a commit does, on disk before it starts, so that a build killed at
//! any point is finished or undone by the next one.
//!
//! No file system renames many files at once. So a commit first records its changes here, and
//! the next build, before it looks at the output, completes or rolls back whatever a killed one
//! left (`super::commit::recover`). The journal has two states:
//!
//! - `staging`: written before the first temporary file. A crash in this state is rolled
//!   back: the temporary files and the directories created for them are removed; nothing else
//!   was touched yet.
//! - `committing`: replaces the staging journal once every temporary file is durable, and is
//!   itself made durable before the first rename. This is the commit point: a crash after it
//!   is rolled forward (each temporary file still there, if its hash is right, is renamed into
//!   place, stale files are deleted, the manifest renamed last).
//!
//! The journal is deleted when the commit is durable. Both directions are idempotent, so a
//! crash during a recovery is recovered the same way. A journal is always replaced by rename,
//! so one at its name is never half written.

use super::handle::{self, OutputDir};
use super::manifest::is_sha256_hex;
use super::paths::{MANIFEST_NAME, problem_with};
use super::{Action, Plan, WriteError};
use serde::{Deserialize, Serialize};

/// The journal's file name, at the top of the output directory.
pub const JOURNAL_NAME: &str = ".talhorn-journal";

/// The only journal format this writer reads and writes.
const VERSION: u64 = 1;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum State {
    Staging,
    Committing,
}

/// A file and the sha256 of its content.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    pub path: String,
    pub sha256: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Journal {
    version: u64,
    pub state: State,
    /// Files that get new content, each staged in its temporary file, in path order with the
    /// manifest last; the hash is the new content's.
    pub write: Vec<Entry>,
    /// Stale files to delete, with the hash they had when planned (a file edited since is
    /// left alone).
    pub delete: Vec<Entry>,
    /// Directories staging creates, parents first.
    pub created_dirs: Vec<String>,
}

impl Journal {
    /// The journal of `plan`, in the staging state. `None` when the plan changes nothing.
    pub fn of(plan: &Plan, out: &OutputDir) -> Result<Option<Self>, WriteError> {
        let mut write = Vec::new();
        let mut delete = Vec::new();
        for change in &plan.changes {
            if let Some(content) = &change.after {
                write.push(Entry {
                    path: change.path.clone(),
                    sha256: super::manifest::sha256_hex(content),
                });
            } else if change.action == Action::Delete
                && let Some(before) = &change.before
            {
                delete.push(Entry {
                    path: change.path.clone(),
                    sha256: super::manifest::sha256_hex(before),
                });
            }
        }
        if write.is_empty() && delete.is_empty() {
            return Ok(None);
        }
        let created_dirs = missing_dirs(out, &write)?;
        Ok(Some(Self {
            version: VERSION,
            state: State::Staging,
            write,
            delete,
            created_dirs,
        }))
    }

    /// Puts the journal at its name (by rename, so it is whole or absent), durably if asked:
    /// then it, and everything written before it, survives a power loss.
    pub fn save(&self, out: &OutputDir, durably: bool) -> Result<(), WriteError> {
        let error = |doing, source| WriteError::Stage {
            doing,
            path: out.join(JOURNAL_NAME),
            source,
        };
        let temp = handle::temp_name(JOURNAL_NAME);
        let bytes = serde_json::to_vec(self)
            .map_err(|err| error("record the commit in", std::io::Error::other(err)))?;
        let handle::DirAt::Open(root) = out.dir("").map_err(|err| error("open", err))? else {
            return Err(error("open", std::io::ErrorKind::NotFound.into()));
        };
        let file =
            handle::create_temp(&root, &temp).map_err(|err| error("record the commit in", err))?;
        handle::fill(file, &bytes, None).map_err(|err| error("record the commit in", err))?;
        if durably {
            out.make_durable()
                .map_err(|err| error("make the staged files durable before", err))?;
        }
        handle::rename(&root, &temp, JOURNAL_NAME)
            .map_err(|err| error("record the commit in", err))?;
        if durably {
            out.sync_root().map_err(|err| error("make durable", err))?;
        }
        Ok(())
    }
}

/// The directories above the files to write that do not exist yet, parents first.
fn missing_dirs(out: &OutputDir, write: &[Entry]) -> Result<Vec<String>, WriteError> {
    let mut dirs = std::collections::BTreeSet::new();
    for entry in write {
        dirs.extend(super::paths::parent_dirs(&entry.path));
    }
    let mut missing = Vec::new();
    for dir in dirs {
        match out.dir(dir) {
            Ok(handle::DirAt::Absent) => missing.push(dir.to_owned()),
            Ok(_) => {}
            Err(source) => {
                return Err(WriteError::Read {
                    path: out.join(dir),
                    source,
                });
            }
        }
    }
    Ok(missing)
}

/// The journal a killed build left, if any. One that cannot be used is an error: guessing
/// could destroy files.
pub fn load(out: &OutputDir) -> Result<Option<Journal>, WriteError> {
    match out.inspect(JOURNAL_NAME)? {
        super::Existing::File(bytes) => {
            parse(&bytes).map(Some).map_err(|problem| bad(out, problem))
        }
        super::Existing::Absent => Ok(None),
        super::Existing::NotAFile | super::Existing::BehindFile(_) => {
            Err(bad(out, "it is not a regular file".to_owned()))
        }
    }
}

/// Reads a journal, or says what is wrong with it (the caller adds where).
fn parse(bytes: &[u8]) -> Result<Journal, String> {
    let journal: Journal =
        serde_json::from_slice(bytes).map_err(|err| format!("it is not valid: {err}"))?;
    if journal.version != VERSION {
        return Err(format!(
            "it has version {}, but this talhorn reads version {VERSION}",
            journal.version
        ));
    }
    for entry in journal.write.iter().chain(&journal.delete) {
        if entry.path != MANIFEST_NAME
            && let Some(reason) = problem_with(&entry.path)
        {
            return Err(format!("it lists {:?}: {reason}", entry.path));
        }
        if !is_sha256_hex(&entry.sha256) {
            return Err(format!("the hash of {:?} is malformed", entry.path));
        }
    }
    if let Some(dir) = journal
        .created_dirs
        .iter()
        .find(|d| problem_with(d).is_some())
    {
        return Err(format!("it lists the directory {dir:?}"));
    }
    Ok(journal)
}

pub fn bad(out: &OutputDir, problem: String) -> WriteError {
    WriteError::BadJournal {
        path: out.join(JOURNAL_NAME),
        problem,
    }
}

/// Deletes the journal and a leftover temporary one: the commit it described is over.
pub fn remove(out: &OutputDir) -> std::io::Result<()> {
    let handle::DirAt::Open(root) = out.dir("")? else {
        return Ok(());
    };
    handle::remove_file(&root, &handle::temp_name(JOURNAL_NAME))?;
    handle::remove_file(&root, JOURNAL_NAME)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn journal(path: &str, sha256: &str, version: u64) -> Vec<u8> {
        serde_json::to_vec(&Journal {
            version,
            state: State::Committing,
            write: vec![Entry {
                path: path.to_owned(),
                sha256: sha256.to_owned(),
            }],
            delete: Vec::new(),
            created_dirs: vec!["talos".to_owned()],
        })
        .unwrap_or_default()
    }

    #[test]
    fn a_saved_journal_reads_back() {
        let hash = super::super::manifest::sha256_hex(b"x");
        for path in ["talos/worker.yaml", MANIFEST_NAME] {
            let parsed = parse(&journal(path, &hash, VERSION));
            assert!(parsed.is_ok_and(|j| j.state == State::Committing && j.write[0].path == path));
        }
    }

    #[test]
    fn a_journal_that_could_leave_the_output_or_is_not_ours_is_refused() {
        let hash = super::super::manifest::sha256_hex(b"x");
        let bad = [
            journal("../outside", &hash, VERSION),
            journal("/etc/passwd", &hash, VERSION),
            journal("talos/worker.yaml", "XYZ", VERSION),
            journal("talos/worker.yaml", &hash, VERSION + 1),
            b"{\"version\":1,\"state\":\"stag".to_vec(),
        ];
        for bytes in bad {
            assert!(
                parse(&bytes).is_err(),
                "{} was accepted",
                String::from_utf8_lossy(&bytes)
            );
        }
    }
}

//! Which entries of a walked tree its ignore files leave out: `.ignore`, `.gitignore` and
//! `.git/info/exclude`, in the folder of the entry and every folder above it, the way the
//! `ignore` crate's walker (0.4.34, with the options talhorn always used) decides it.
//!
//! The walk lists each folder once and keeps the listing for every later stage; the crate's
//! walker lists it too but keeps the listing to itself, so talhorn walks on its own and asks
//! the same question the crate would. The crate's matchers for one ignore file
//! ([`Gitignore`]) are used as they are; only the precedence between files is here, taken from
//! `Ignore::matched_ignore` in the crate's `dir.rs`:
//! - for each kind of file, the nearest folder whose file matches the path decides, first the
//!   folders of the tree (the walked root and below), then the folders above the root, matched
//!   with the root's absolute path (the crate's "parents");
//! - `.ignore` wins over `.gitignore`, which wins over `.git/info/exclude`;
//! - an entry no file matches is left out when its name starts with `.` (a whitelist line, `!`,
//!   brings a hidden entry back);
//! - no `.git` is required for `.gitignore` to apply, and a repository's root does not stop
//!   the files above it from applying (the crate's `require_git(false)`);
//! - a problem in an ignore file of the tree is not reported (the lines that parse still
//!   apply); one above the root is, once per walked root.
//!
//! The differential test (`walk_vs_ignore.rs` beside this file) walks generated trees with both
//! and compares what each finds.

use crate::source::Listing;
use ignore::Error;
use ignore::gitignore::{Gitignore, GitignoreBuilder};
use std::ffi::OsStr;
use std::fs::FileType;
use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// What the ignore files say of an entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Left out of the walk.
    Ignored,
    /// Walked (no file mentions it, or a whitelist line does).
    Kept,
}

/// The rules of one folder that has at least one ignore file with a rule.
#[derive(Debug)]
struct FolderRules {
    ignore: Gitignore,
    gitignore: Gitignore,
    exclude: Gitignore,
    /// The nearest folder above with rules (inside the tree: folders above the root are kept
    /// apart, see [`TreeRules`]).
    above: Option<Arc<FolderRules>>,
}

/// What the nearest folder whose file of each kind matched said (`true`: leave it out).
#[derive(Default)]
struct Matches {
    ignore: Option<bool>,
    gitignore: Option<bool>,
    exclude: Option<bool>,
}

impl Matches {
    /// Matches `path` in one more folder, farther than those seen so far.
    fn farther(&mut self, rules: &FolderRules, path: &Path, is_dir: bool) {
        let kinds = [
            (&mut self.ignore, &rules.ignore),
            (&mut self.gitignore, &rules.gitignore),
            (&mut self.exclude, &rules.exclude),
        ];
        for (first, file) in kinds {
            if first.is_none() {
                let matched = file.matched(path, is_dir);
                if !matched.is_none() {
                    *first = Some(matched.is_ignore());
                }
            }
        }
    }

    /// `.ignore` over `.gitignore` over `.git/info/exclude`.
    fn decided(self) -> Option<bool> {
        self.ignore.or(self.gitignore).or(self.exclude)
    }
}

impl FolderRules {
    /// The rules of `dir` when any of its ignore files has one. `has` says whether the folder
    /// may hold a name: its listing's answer, or always yes for a folder not listed (every
    /// file is looked for there, as the crate does above the root).
    fn read(dir: &Path, has: impl Fn(&str) -> bool, errors: &mut Vec<Error>) -> Option<Self> {
        let git_type = if has(".git") {
            dir.join(".git").metadata().ok().map(|md| md.file_type())
        } else {
            None
        };
        let from = |name: &str, errors: &mut Vec<Error>| {
            if has(name) {
                one_file(dir, dir, name, errors)
            } else {
                Gitignore::empty()
            }
        };
        let ignore = from(".ignore", errors);
        let gitignore = from(".gitignore", errors);
        let exclude = if has(".git") {
            match git_common_dir(dir, git_type) {
                Ok(git_dir) => one_file(dir, &git_dir, "info/exclude", errors),
                Err(error) => {
                    errors.extend(error);
                    Gitignore::empty()
                }
            }
        } else {
            Gitignore::empty()
        };
        let rules = Self {
            ignore,
            gitignore,
            exclude,
            above: None,
        };
        rules.has_any().then_some(rules)
    }

    fn has_any(&self) -> bool {
        !(self.ignore.is_empty() && self.gitignore.is_empty() && self.exclude.is_empty())
    }
}

/// The rules that apply to one walked root: those above it, and where it is.
#[derive(Debug)]
struct TreeRules {
    /// The root as it was given (the crate strips it from a path to place the path under the
    /// root's absolute path).
    root: PathBuf,
    /// The root's absolute path; `None` when it cannot be resolved (no rules above then).
    absolute: Option<PathBuf>,
    /// The folders above the root that have rules, nearest first.
    above_root: Vec<FolderRules>,
}

/// The rules for the entries of one walked folder: its own and those of every folder above it.
#[derive(Debug, Clone)]
pub struct Rules {
    tree: Arc<TreeRules>,
    /// The nearest folder of the tree with rules, at or above this one.
    nearest: Option<Arc<FolderRules>>,
}

impl Rules {
    /// The rules above `root` (a folder), and the problem with an ignore file up there, if any,
    /// as the crate reports it.
    pub fn above(root: &Path) -> (Self, Option<Error>) {
        let absolute = root.canonicalize().ok();
        let mut above_root = Vec::new();
        let mut problems = Vec::new();
        if let Some(absolute) = &absolute {
            // From `/` down, as the crate reads them: its problems come in that order.
            let folders: Vec<&Path> = absolute.ancestors().skip(1).collect();
            for folder in folders.into_iter().rev() {
                let mut errors = Vec::new();
                let rules = FolderRules::read(folder, |_| true, &mut errors);
                problems.extend(one_error(errors));
                above_root.extend(rules);
            }
            above_root.reverse();
        }
        let rules = Self {
            tree: Arc::new(TreeRules {
                root: root.to_path_buf(),
                absolute,
                above_root,
            }),
            nearest: None,
        };
        (rules, one_error(problems))
    }

    /// The rules for the entries of `dir`, one of the folders these rules are for, listed in
    /// `listing`. A problem with one of its ignore files is not reported, as the crate's walker
    /// does not.
    pub fn below(&self, dir: &Path, listing: &Listing) -> Self {
        let has = |name: &str| listing.holds(name);
        match FolderRules::read(dir, has, &mut Vec::new()) {
            Some(mut rules) => {
                rules.above = self.nearest.clone();
                Self {
                    tree: Arc::clone(&self.tree),
                    nearest: Some(Arc::new(rules)),
                }
            }
            None => self.clone(),
        }
    }

    /// Whether the entry at `path` (a folder when `is_dir`) is walked.
    pub fn verdict(&self, path: &Path, is_dir: bool) -> Verdict {
        // A leading `./` is dropped, as bytes.
        let path = strip_bytes(b"./", path).unwrap_or(path);
        let mut matches = Matches::default();
        let mut folder = self.nearest.as_deref();
        while let Some(rules) = folder {
            matches.farther(rules, path, is_dir);
            folder = rules.above.as_deref();
        }
        let tree = &*self.tree;
        if let (Some(absolute), false) = (&tree.absolute, tree.above_root.is_empty()) {
            // Joined in a buffer kept by the thread: this runs for every entry of the walk.
            ABSOLUTE.with_borrow_mut(|joined| {
                joined.clear();
                joined.push(absolute);
                joined.push(tree.under_root(path));
                for rules in &tree.above_root {
                    matches.farther(rules, joined, is_dir);
                }
            });
        }
        match matches.decided() {
            Some(true) => Verdict::Ignored,
            Some(false) => Verdict::Kept,
            None if is_hidden(path) => Verdict::Ignored,
            None => Verdict::Kept,
        }
    }
}

impl TreeRules {
    /// `path` (inside the tree) relative to the root, as the crate takes it apart: the root's
    /// spelling (without a leading `./`) and then a `/` are stripped as bytes when present,
    /// and nothing is stripped for the root `.`.
    fn under_root<'p>(&self, path: &'p Path) -> &'p Path {
        if self.root == Path::new(".") {
            return path;
        }
        let root = strip_bytes(b"./", &self.root).unwrap_or(&self.root);
        let relative = strip_bytes(root.as_os_str().as_encoded_bytes(), path).unwrap_or(path);
        strip_bytes(b"/", relative).unwrap_or(relative)
    }
}

thread_local! {
    /// An entry's absolute path, for the ignore rules above the walked root ([`Rules::verdict`]).
    static ABSOLUTE: std::cell::RefCell<PathBuf> = std::cell::RefCell::new(PathBuf::new());
}

/// `path` without the bytes `prefix` at its start, when it starts with them.
fn strip_bytes<'p>(prefix: &[u8], path: &'p Path) -> Option<&'p Path> {
    let rest = path.as_os_str().as_encoded_bytes().strip_prefix(prefix)?;
    #[cfg(unix)]
    return Some(Path::new(
        <OsStr as std::os::unix::ffi::OsStrExt>::from_bytes(rest),
    ));
    #[cfg(not(unix))]
    return std::str::from_utf8(rest).ok().map(Path::new);
}

/// Whether the last part of `path` (after its last `/`, as bytes) starts with `.`.
fn is_hidden(path: &Path) -> bool {
    let bytes = path.as_os_str().as_encoded_bytes();
    let name = memchr::memrchr(b'/', bytes).map_or(bytes, |slash| &bytes[slash + 1..]);
    name.starts_with(b".") && name != b"." && name != b".."
}

/// The matcher for one ignore file, `name` in `folder`, whose lines apply below `dir`.
fn one_file(dir: &Path, folder: &Path, name: &str, errors: &mut Vec<Error>) -> Gitignore {
    let mut builder = GitignoreBuilder::new(dir);
    let file = folder.join(name);
    if file.exists()
        && let Some(error) = builder.add(file)
        && !error.is_io()
    {
        errors.push(error);
    }
    builder.build().unwrap_or_else(|error| {
        errors.push(error);
        Gitignore::empty()
    })
}

/// Several problems as one, as the crate gathers them.
fn one_error(mut errors: Vec<Error>) -> Option<Error> {
    match errors.len() {
        0 => None,
        1 => errors.pop(),
        _ => Some(Error::Partial(errors)),
    }
}

/// The folder whose `info/exclude` applies to the repository at `dir`: its `.git`, or for a
/// worktree (`.git` is a file) the common folder its `gitdir:` line leads to. `Err(None)`: no
/// such folder, and nothing to report (the crate's `resolve_git_commondir`).
fn git_common_dir(dir: &Path, git_type: Option<FileType>) -> Result<PathBuf, Option<Error>> {
    let dot_git = dir.join(".git");
    if !git_type.is_some_and(|kind| kind.is_file()) {
        return Ok(dot_git);
    }
    let gitdir_line = match first_line(&dot_git) {
        Ok(line) => line,
        Err(FirstLine::Open(error) | FirstLine::Read(error)) => {
            return Err(Some(with_path(error, &dot_git)));
        }
        Err(FirstLine::Empty) => return Err(None),
    };
    let Some(git_dir) = gitdir_line.strip_prefix("gitdir: ") else {
        return Err(None);
    };
    let git_dir = PathBuf::from(git_dir);
    let commondir = git_dir.join("commondir");
    let line = match first_line(&commondir) {
        Ok(line) => line,
        // A worktree without a `commondir` file is no problem; one that cannot be read is.
        Err(FirstLine::Open(_) | FirstLine::Empty) => return Err(None),
        Err(FirstLine::Read(error)) => return Err(Some(with_path(error, &commondir))),
    };
    Ok(if line.starts_with('.') {
        git_dir.join(line)
    } else {
        PathBuf::from(line)
    })
}

fn with_path(error: std::io::Error, path: &Path) -> Error {
    Error::WithPath {
        path: path.to_path_buf(),
        err: Box::new(Error::Io(error)),
    }
}

/// Why a file's first line could not be had.
enum FirstLine {
    Open(std::io::Error),
    Read(std::io::Error),
    Empty,
}

fn first_line(path: &Path) -> Result<String, FirstLine> {
    let file = std::fs::File::open(path).map_err(FirstLine::Open)?;
    match std::io::BufReader::new(file).lines().next() {
        Some(line) => line.map_err(FirstLine::Read),
        None => Err(FirstLine::Empty),
    }
}

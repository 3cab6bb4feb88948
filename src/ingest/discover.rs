//! Finding the files to read: walk the given paths, respect `.gitignore` and `exclude`, never
//! follow a symlink, and read each candidate as UTF-8 text under a size limit.
//!
//! Symlinks are not followed at all: nothing outside the root is read, nothing is read twice
//! and a symlink loop cannot hang the walk. A symlink that cannot even be resolved (a loop) is
//! reported, because the user probably meant that file to be linted.

use super::IngestError;
use crate::rules::LintConfig;
use globset::GlobMatcher;
use ignore::WalkBuilder;
use std::io::Read;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

/// The largest file talhorn reads (any kind).
pub const MAX_FILE_BYTES: u64 = crate::yaml::MAX_YAML_BYTES as u64;

/// What discovery found: files to read (sorted, unique) and files it could not use.
#[derive(Debug, Default)]
pub struct Discovered {
    pub files: Vec<PathBuf>,
    /// A path and why it cannot be read (reported as INT001 at the file start).
    pub problems: Vec<(PathBuf, String)>,
}

/// Walks every path. A path that does not exist is an error; everything else is reported per
/// file. Only files whose name can be one of ours are returned (see [`is_candidate`]), except
/// files named explicitly, which are always read.
pub fn discover(paths: &[PathBuf], config: &LintConfig) -> Result<Discovered, IngestError> {
    let exclude = Arc::new(Exclude::new(config));
    let mut found = Discovered::default();
    for path in paths {
        let metadata = std::fs::metadata(path).map_err(|e| {
            IngestError(format!(
                "{}: cannot read this path: {e}; check the spelling or pass an existing file or \
                 directory",
                path.display()
            ))
        })?;
        if metadata.is_dir() {
            walk(path, &exclude, &mut found);
        } else {
            found.files.push(path.clone());
        }
    }
    found.files.sort();
    found.files.dedup();
    found.problems.sort();
    found.problems.dedup();
    Ok(found)
}

fn walk(root: &Path, exclude: &Arc<Exclude>, found: &mut Discovered) {
    let filter = Arc::clone(exclude);
    let root_for_filter = root.to_path_buf();
    let walker = WalkBuilder::new(root)
        .follow_links(false)
        .require_git(false)
        .git_global(false)
        .sort_by_file_name(std::cmp::Ord::cmp)
        .filter_entry(move |entry| !filter.excludes(entry.path(), &root_for_filter))
        .build();
    for entry in walker {
        let entry = match entry {
            Ok(entry) => entry,
            Err(error) => {
                let path = error_path(&error).unwrap_or_else(|| root.to_path_buf());
                found.problems.push((path, format!("cannot read: {error}")));
                continue;
            }
        };
        let Some(file_type) = entry.file_type() else {
            continue;
        };
        let path = entry.path();
        if file_type.is_symlink() {
            if let Some(problem) = unresolvable_symlink(path) {
                found.problems.push((path.to_path_buf(), problem));
            }
        } else if file_type.is_file() && is_candidate(path) {
            found.files.push(path.to_path_buf());
        }
    }
}

fn error_path(error: &ignore::Error) -> Option<PathBuf> {
    match error {
        ignore::Error::WithPath { path, .. } => Some(path.clone()),
        ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => {
            error_path(err)
        }
        _ => None,
    }
}

/// A symlink is skipped, but one that cannot be resolved at all other than by being dangling
/// (a loop, a permission problem) is worth telling the user about.
fn unresolvable_symlink(path: &Path) -> Option<String> {
    match std::fs::metadata(path) {
        Ok(_) => None,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => Some(format!(
            "cannot follow this symlink: {e} (a symlink loop?); talhorn never follows symlinks, \
             so point the link at a real file or remove it"
        )),
    }
}

/// Whether a file's name says it may be one of the kinds talhorn reads.
pub fn is_candidate(path: &Path) -> bool {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    let extension = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or_default();
    matches!(extension, "yaml" | "yml" | "conf" | "tf" | "tfvars")
        || name == "storage.cfg"
        || name == "interfaces"
        || in_dir_named(path, "interfaces.d")
}

/// Whether a path has a directory component called `dir`.
pub fn in_dir_named(path: &Path, dir: &str) -> bool {
    path.parent()
        .is_some_and(|parent| parent.components().any(|c| c.as_os_str() == dir))
}

/// `exclude` globs, matched relative to the config's root (or, without one, to the walked root).
struct Exclude {
    globs: Vec<GlobMatcher>,
    root: PathBuf,
    cwd: PathBuf,
}

impl Exclude {
    fn new(config: &LintConfig) -> Self {
        let cwd = std::env::current_dir().unwrap_or_default();
        let root = if config.root.as_os_str().is_empty() {
            PathBuf::new()
        } else {
            normalize(&cwd.join(&config.root))
        };
        Self {
            globs: config.exclude.clone(),
            root,
            cwd,
        }
    }

    fn excludes(&self, path: &Path, walk_root: &Path) -> bool {
        if self.globs.is_empty() {
            return false;
        }
        let absolute = normalize(&self.cwd.join(path));
        let relative = if self.root.as_os_str().is_empty() {
            path.strip_prefix(walk_root).ok().map(Path::to_path_buf)
        } else {
            absolute
                .strip_prefix(&self.root)
                .ok()
                .map(Path::to_path_buf)
        };
        let Some(relative) = relative else {
            return false;
        };
        !relative.as_os_str().is_empty() && self.globs.iter().any(|g| g.is_match(&relative))
    }
}

/// Drops `.` components and resolves `..` lexically (no filesystem access).
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// Reads a file as text: no more than [`MAX_FILE_BYTES`], no NUL byte, valid UTF-8. The error
/// says what is wrong with the file and what to do about it.
pub fn read_text(path: &Path) -> Result<String, String> {
    let file = std::fs::File::open(path).map_err(|e| format!("cannot read this file: {e}"))?;
    read_text_from(file)
}

/// [`read_text`] from any reader (standard input for `talhorn lint -`).
pub fn read_text_from(reader: impl Read) -> Result<String, String> {
    let mut bytes = Vec::new();
    reader
        .take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("cannot read this file: {e}"))?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(format!(
            "file is larger than {MAX_FILE_BYTES} bytes, the most talhorn reads; exclude it in \
             .talhorn.yaml (`exclude:`) if it is not a config file"
        ));
    }
    if let Some(offset) = bytes.iter().position(|&b| b == 0) {
        return Err(format!(
            "binary file (NUL byte at offset {offset}), not a text config; exclude it in \
             .talhorn.yaml (`exclude:`) or rename it"
        ));
    }
    String::from_utf8(bytes).map_err(|e| {
        format!(
            "not valid UTF-8 (invalid byte at offset {}); save the file as UTF-8",
            e.utf8_error().valid_up_to()
        )
    })
}

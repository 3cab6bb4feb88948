//! Finding the files to read: walk the given paths, respect `.gitignore` and `exclude`, never
//! follow a symlink, and read each candidate as UTF-8 text under a size limit.
//!
//! Symlinks are not followed at all: nothing outside the root is read, nothing is read twice
//! and a symlink loop cannot hang the walk. A symlink that cannot even be resolved (a loop) is
//! reported, because the user probably meant that file to be linted. A symlink named on the
//! command line is followed only to a file, or to a directory inside the root (see
//! [`named_symlink`]). Anything that is not a regular file or a directory (a FIFO, a device, a
//! socket) is refused when named and skipped with a note when found in a tree.

use super::IngestError;
use super::group::normalize;
use super::ignore_rules::{Rules, Verdict};
use crate::rules::LintConfig;
use crate::source::{EntryType, Listed, Listing, ListingBuilder, list_entries};
use crate::source::{ReadError, special_kind};
use globset::GlobMatcher;
use rayon::prelude::*;
use std::ffi::OsStr;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub use crate::source::MAX_FILE_BYTES;

/// What discovery found: files to read (sorted, unique) and files it could not use.
#[derive(Debug, Default)]
pub struct Discovered {
    /// Each path made once, in the walk, and shared by every record of the file after it.
    pub files: Vec<Arc<Path>>,
    /// A path and why it cannot be read (reported as INT001 at the file start).
    pub problems: Vec<(PathBuf, String)>,
    /// Special files found in a tree (FIFOs, devices, sockets) and what they are: skipped.
    pub skipped: Vec<(PathBuf, String)>,
    /// The listing of every folder the walk read, as the walk spells the folder.
    pub listed: Vec<(Arc<Path>, Listing)>,
    /// Folders the walk found and left for a walk of their own ([`discover_apart`]).
    pub set_apart: Vec<SetApart>,
}

impl Discovered {
    fn append(&mut self, mut other: Self) {
        self.files.append(&mut other.files);
        self.problems.append(&mut other.problems);
        self.skipped.append(&mut other.skipped);
        self.listed.append(&mut other.listed);
        self.set_apart.append(&mut other.set_apart);
    }

    /// These files with those of the folders below put in at their places (`at`: how many of
    /// these files come before each folder's), and everything else the folders found.
    fn insert_below(mut self, at: impl Iterator<Item = usize>, below: Vec<Self>) -> Self {
        let own = std::mem::take(&mut self.files);
        let mut own = own.into_iter();
        let mut taken = 0;
        for (at, found) in at.zip(below) {
            self.files.extend(own.by_ref().take(at - taken));
            taken = at;
            self.append(found);
        }
        self.files.extend(own);
        self
    }

    /// The walks of several folders, apart from each other, as one walk of them all: the
    /// files in `Path` order, each once, as are the problems and the skipped files. Each
    /// walk's files are in order already, so they are sorted only when the walks' files do
    /// not follow on from each other (`c000-x/` walked before `c000/`).
    pub fn joined(walks: Vec<Self>) -> Self {
        let in_order = follow_on(walks.iter().map(|walk| walk.files.as_slice()));
        let mut all = walks.into_iter().fold(Self::default(), |mut all, one| {
            all.append(one);
            all
        });
        if !in_order {
            sort_unique_paths(&mut all.files);
        }
        all.settled()
    }

    /// Problems and skipped files sorted, each once.
    fn settled(mut self) -> Self {
        self.problems.sort();
        self.problems.dedup();
        self.skipped.sort();
        self.skipped.dedup();
        self
    }

    /// A problem of the walk, at its path (`at` when it names none).
    fn add_problem(&mut self, at: &Path, error: &ignore::Error) {
        let path = error_path(error).unwrap_or_else(|| at.to_path_buf());
        self.problems.push((path, format!("cannot read: {error}")));
    }
}

/// Walks every path. A path that does not exist, is not a regular file or directory, or is a
/// symlink leading out of the root is an error; everything else is reported per file. Only
/// files whose name can be one of ours are returned (see [`is_candidate`]), except files named
/// explicitly, which are always read.
pub fn discover(paths: &[PathBuf], config: &LintConfig) -> Result<Discovered, IngestError> {
    let exclude = Exclude::new(config);
    let mut found = Discovered::default();
    for path in paths {
        let metadata = named_metadata(path, &exclude.root_or_cwd())?;
        if metadata.is_dir() {
            found.append(walk(path, &exclude, &|_, _| false));
        } else if let Some(kind) = special_kind(&metadata) {
            return Err(IngestError(format!(
                "{}: {}",
                path.display(),
                ReadError::NotRegular(kind)
            )));
        } else {
            found.files.push(Arc::from(path.as_path()));
        }
    }
    // One path is walked in order; several may overlap, or come in any order.
    if paths.len() > 1 {
        sort_unique_paths(&mut found.files);
    }
    Ok(found.settled())
}

/// Walks the folder `root` as [`discover`] does, except that a folder below it for which
/// `apart` holds (given its path and listing) is not walked: it is set apart
/// ([`Discovered::set_apart`]), for [`discover_set_apart`] to walk later, alone or with others.
pub fn discover_apart(
    root: &Path,
    config: &LintConfig,
    apart: &(dyn Fn(&Path, &Listing) -> bool + Sync),
) -> Result<Discovered, IngestError> {
    let exclude = Exclude::new(config);
    if !named_metadata(root, &exclude.root_or_cwd())?.is_dir() {
        return Err(IngestError(format!("{}: not a directory", root.display())));
    }
    let mut found = walk(root, &exclude, apart);
    found.set_apart.sort_by(|a, b| a.folder.cmp(&b.folder));
    Ok(found.settled())
}

/// Walks folders that [`discover_apart`] set apart under `root`, finding exactly what its walk
/// would have found in them: the same ignore rules, `exclude` matched as from `root`.
pub fn discover_set_apart(root: &Path, folders: &[SetApart], config: &LintConfig) -> Discovered {
    let exclude = Exclude::new(config);
    let tree = Tree {
        root,
        exclude: &exclude,
        apart: &|_, _| false,
    };
    Discovered::joined(crate::yaml::on_workers(|| {
        folders
            .par_iter()
            .map(|apart| tree.folder(Arc::clone(&apart.folder), apart.depth, &apart.rules))
            .collect()
    }))
}

/// Whether lists of paths, each in order, are in order one after the other: each non-empty
/// list starts after the last path of the lists before it.
fn follow_on<'w>(lists: impl Iterator<Item = &'w [Arc<Path>]>) -> bool {
    let mut last: Option<&Arc<Path>> = None;
    for list in lists {
        let (Some(first), Some(end)) = (list.first(), list.last()) else {
            continue;
        };
        if last.is_some_and(|last| last >= first) {
            return false;
        }
        last = Some(end);
    }
    true
}

/// A folder the walk did not go into ([`discover_apart`]), with what walking it needs.
#[derive(Debug, Clone)]
pub struct SetApart {
    pub folder: Arc<Path>,
    /// How deep it is below the walked root.
    depth: usize,
    /// The ignore rules of the folders above it.
    rules: Rules,
}

/// Sorts paths in `Path` order and keeps one of each path (the first spelling in byte order
/// of a path spelled two ways). A parallel walk finds them in any order, and comparing paths
/// goes component by component, which is slow: each path's order key is made once instead,
/// its components one after the other, so that comparing keys is one `memcmp` (see
/// [`order_key`]).
fn sort_unique_paths(paths: &mut Vec<Arc<Path>>) {
    // On the workers, as the walk was.
    let mut keyed: Vec<(Vec<u8>, Arc<Path>)> = crate::yaml::on_workers(|| {
        let mut keyed: Vec<_> = std::mem::take(paths)
            .into_par_iter()
            .map(|path| (order_key(&path), path))
            .collect();
        keyed.par_sort_unstable_by(|(a_key, a), (b_key, b)| {
            a_key.cmp(b_key).then_with(|| spelling_order(a, b))
        });
        keyed
    });
    keyed.dedup_by(|later, earlier| later.0 == earlier.0);
    paths.extend(keyed.into_iter().map(|(_, path)| path));
}

/// The order of two spellings of one path: by their bytes, the separator below every other.
fn spelling_order(a: &Path, b: &Path) -> std::cmp::Ordering {
    fn bytes(path: &Path) -> impl Iterator<Item = u8> + '_ {
        let bytes = path.as_os_str().as_encoded_bytes().iter();
        bytes.map(|&byte| if byte == b'/' { 0 } else { byte })
    }
    bytes(a).cmp(bytes(b))
}

/// A key whose byte order is `Path` order, and which two paths share when they are equal as
/// `Path`s: each component as a tag in `Component`'s order (root, `.`, `..`, a name) followed
/// by a name's bytes, components separated by 0 (a byte no name holds, so a name sorts before
/// a longer name it starts).
fn order_key(path: &Path) -> Vec<u8> {
    use std::path::Component;
    let mut key = Vec::with_capacity(path.as_os_str().len() + 2);
    for (at, component) in path.components().enumerate() {
        if at > 0 {
            key.push(0);
        }
        match component {
            Component::Prefix(prefix) => {
                key.push(1);
                key.extend_from_slice(prefix.as_os_str().as_encoded_bytes());
            }
            Component::RootDir => key.push(2),
            Component::CurDir => key.push(3),
            Component::ParentDir => key.push(4),
            Component::Normal(name) => {
                key.push(5);
                key.extend_from_slice(name.as_encoded_bytes());
            }
        }
    }
    key
}

/// The metadata of a path named on the command line, after [`named_symlink`]'s check.
fn named_metadata(path: &Path, root: &Path) -> Result<std::fs::Metadata, IngestError> {
    let cannot = |e: std::io::Error| {
        IngestError(format!(
            "{}: cannot read this path: {e}; check the spelling or pass an existing file or \
             directory",
            path.display()
        ))
    };
    // Without its trailing `/`, so that `link/` is seen as the link it is.
    let path_itself: PathBuf = path.components().collect();
    let own = std::fs::symlink_metadata(&path_itself).map_err(cannot)?;
    let metadata = std::fs::metadata(path).map_err(cannot)?;
    if own.file_type().is_symlink() && metadata.is_dir() {
        named_symlink(&path_itself, root)?;
    }
    Ok(metadata)
}

/// A symlink to a directory, named on the command line, is walked only when its target lies
/// inside the root (the `.talhorn.yaml` directory or the working directory) or next to the
/// link: the "never leave the root" rule of the walk. A link to `/` would read the whole
/// filesystem.
fn named_symlink(link: &Path, root: &Path) -> Result<(), IngestError> {
    let target = std::fs::canonicalize(link).map_err(|e| {
        IngestError(format!(
            "{}: cannot follow this symlink: {e}",
            link.display()
        ))
    })?;
    let parent = link.parent().filter(|p| !p.as_os_str().is_empty());
    let beside = std::fs::canonicalize(parent.unwrap_or(Path::new("."))).ok();
    let root = std::fs::canonicalize(root).ok();
    let inside = [beside, root]
        .into_iter()
        .flatten()
        .any(|dir| target.starts_with(&dir));
    if inside {
        return Ok(());
    }
    Err(IngestError(format!(
        "{}: a symlink to {}, outside both the directory it is in and the lint root; talhorn \
         never follows a symlink out of the tree it lints, so name the directory itself if you \
         mean to lint it",
        link.display(),
        target.display()
    )))
}

/// Walks a tree on the worker pool, each folder listed once, and finds its files in `Path`
/// order (see [`Tree::folder`]). Which entries are walked is decided as the `ignore` crate's
/// walker decides it (see [`super::ignore_rules`]), then by `exclude`.
/// A folder for which `apart` holds is not walked: it is set apart
/// ([`Discovered::set_apart`]).
fn walk(
    root: &Path,
    exclude: &Exclude,
    apart: &(dyn Fn(&Path, &Listing) -> bool + Sync),
) -> Discovered {
    let (rules, problem) = Rules::above(root);
    let mut found = walk_with(root, exclude, apart, &rules);
    if let Some(problem) = problem {
        found.add_problem(root, &problem);
    }
    found
}

/// [`walk`] with the rules of the folders above `root` already read.
fn walk_with(
    root: &Path,
    exclude: &Exclude,
    apart: &(dyn Fn(&Path, &Listing) -> bool + Sync),
    rules: &Rules,
) -> Discovered {
    let tree = Tree {
        root,
        exclude,
        apart,
    };
    crate::yaml::on_workers(|| tree.folder(root.into(), 0, rules))
}

/// One walk: where it started, what it leaves out and what it sets apart.
#[derive(Clone, Copy)]
struct Tree<'w> {
    root: &'w Path,
    exclude: &'w Exclude,
    apart: &'w (dyn Fn(&Path, &Listing) -> bool + Sync),
}

impl Tree<'_> {
    /// Lists one folder (at `depth` below the root) and walks its entries, the folders below
    /// on any worker; `rules` are those of the folders above it. Its files come back in
    /// `Path` order: its entries are taken in the order of their names' bytes, and a folder's
    /// files go where the folder's name is (`Path` compares a component's bytes, so `a/z`
    /// comes before `a.yaml` as `a` comes before `a.yaml`).
    fn folder(self, dir: Arc<Path>, depth: usize, rules: &Rules) -> Discovered {
        let mut one = Discovered::default();
        let Some(listing) = list(&dir, depth, &mut one) else {
            return one;
        };
        if depth > 0 && (self.apart)(&dir, &listing) {
            // Listed again when it is walked: what this listing met is met again then.
            let rules = rules.clone();
            return Discovered {
                set_apart: vec![SetApart {
                    folder: dir,
                    depth,
                    rules,
                }],
                ..Discovered::default()
            };
        }
        let rules = rules.below(&dir, &listing);
        // Each folder below, with how many of this folder's files come before its own.
        let mut below = Vec::new();
        for (name, file_type) in listing.entries() {
            let path = joined(&dir, name);
            if rules.verdict(&path, file_type.is_dir()) == Verdict::Ignored
                || self.exclude.excludes(&path, self.root)
            {
                continue;
            }
            if file_type.is_dir() {
                below.push((one.files.len(), Arc::from(path)));
            } else {
                visit(path, file_type, &mut one);
            }
        }
        one.listed.push((dir, listing));
        if below.is_empty() {
            return one;
        }
        let found_below: Vec<Discovered> = below
            .par_iter()
            .map(|(_, folder)| self.folder(Arc::clone(folder), depth + 1, &rules))
            .collect();
        one.insert_below(below.iter().map(|(at, _)| *at), found_below)
    }
}

/// `dir` joined with an entry's `name`, allocated once at its size (`Path::join` grows the
/// copy of `dir` again for the name).
fn joined(dir: &Path, name: &OsStr) -> PathBuf {
    let mut path = PathBuf::with_capacity(dir.as_os_str().len() + 1 + name.len());
    path.push(dir);
    path.push(name);
    path
}

/// The listing of `dir` (at `depth` below the root); what cannot be read of it goes to `found`
/// as the problems the `ignore` crate's walker reported, `None` when it cannot be listed.
fn list(dir: &Path, depth: usize, found: &mut Discovered) -> Option<Listing> {
    let mut listing = ListingBuilder::default();
    let listed = list_entries(dir, |listed| match listed {
        Listed::Entry(name, Ok(entry_type)) => listing.push(name, entry_type),
        Listed::Entry(name, Err(error)) => {
            let path = dir.join(name);
            found.add_problem(&path, &io_error(error, &path, depth + 1));
        }
        Listed::Unreadable(error) => found.add_problem(dir, &io_error(error, dir, depth + 1)),
    });
    if let Err(error) = listed {
        found.add_problem(dir, &io_error(error, dir, depth));
        return None;
    }
    Some(listing.finish())
}

/// An I/O error as the `ignore` crate words it (the path, then the error).
fn io_error(error: std::io::Error, path: &Path, depth: usize) -> ignore::Error {
    ignore::Error::WithDepth {
        depth,
        err: Box::new(ignore::Error::WithPath {
            path: path.to_path_buf(),
            err: Box::new(ignore::Error::Io(error)),
        }),
    }
}

/// One entry of the walk that is not a folder: a candidate file, a special file, or a problem.
fn visit(path: PathBuf, file_type: EntryType, found: &mut Discovered) {
    if file_type.is_symlink() {
        if let Some(problem) = unresolvable_symlink(&path) {
            found.problems.push((path, problem));
        }
    } else if file_type.is_file() {
        if is_candidate(&path) {
            found.files.push(Arc::from(path));
        }
    } else if is_candidate(&path) {
        // A FIFO or a device under a config-like name: never opened.
        let kind = std::fs::symlink_metadata(&path)
            .ok()
            .and_then(|m| special_kind(&m));
        let kind = kind.unwrap_or("a special file");
        found.skipped.push((path, kind.to_string()));
    }
}

/// The path an error of the walk names, if any.
pub(super) fn error_path(error: &ignore::Error) -> Option<PathBuf> {
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
    // Most paths do not even contain the name: no component walk for them (this runs for
    // every file of a lint, several times).
    contains_name(path, dir)
        && path
            .parent()
            .is_some_and(|parent| parent.components().any(|c| c.as_os_str() == dir))
}

/// Whether the text of `path` contains `name` anywhere (a quick test before looking at its
/// components). Each place of the name's first byte is compared: for a path's few dozen bytes
/// that is cheaper than setting up a substring searcher.
pub fn contains_name(path: &Path, name: &str) -> bool {
    let (text, name) = (path.as_os_str().as_encoded_bytes(), name.as_bytes());
    let Some(&first) = name.first() else {
        return true;
    };
    memchr::memchr_iter(first, text).any(|at| text[at..].starts_with(name))
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

    /// The root symlinks must stay in: the config's root, else the working directory.
    fn root_or_cwd(&self) -> PathBuf {
        if self.root.as_os_str().is_empty() {
            self.cwd.clone()
        } else {
            self.root.clone()
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

/// Reads a file as text (see [`crate::source::read_text`]); the error says what is wrong with
/// the file and what to do about it.
pub fn read_text(path: &Path) -> Result<String, String> {
    crate::source::read_text(path).map_err(with_hint)
}

/// [`read_text`] of a file discovery found ([`crate::source::read_checked_text`]: its type
/// was checked by the walk or when it was named).
pub fn read_discovered_text(path: &Path) -> Result<String, String> {
    crate::source::read_checked_text(path).map_err(with_hint)
}

/// [`read_text`] from any reader (standard input for `talhorn lint -`).
pub fn read_text_from(reader: impl Read) -> Result<String, String> {
    crate::source::read_text_from(reader, MAX_FILE_BYTES).map_err(with_hint)
}

/// The problem, and for a file that is not a config at all, how to leave it out.
fn with_hint(error: ReadError) -> String {
    match error {
        ReadError::TooLarge { .. } | ReadError::Binary(_) | ReadError::NotRegular(_) => {
            format!("{error}; exclude it in .talhorn.yaml (`exclude:`) if it is not a config file")
        }
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Paths come out in `Path` order, each path once whatever its spellings, the first
    /// spelling (bytes, separator lowest) kept.
    #[test]
    fn paths_are_sorted_in_path_order_and_unique() {
        let spelled = [
            "a-b/x", "a/b", "a.b/c", "a/b/c", "ab", "a/b-c", "./a/c", "a//d", "a/", "b", "a",
            "a/b/", "A", "z/../a", "a/./b", "a/d", "/r", "../x", ".-", "..", "a/b",
        ];
        let mut paths: Vec<Arc<Path>> = spelled
            .iter()
            .rev()
            .map(|p| Arc::from(Path::new(p)))
            .collect();
        sort_unique_paths(&mut paths);
        assert!(paths.windows(2).all(|pair| pair[0] < pair[1]), "{paths:?}");
        for spelling in spelled.map(Path::new) {
            let kept = paths.iter().find(|kept| ***kept == *spelling);
            let kept = kept.unwrap_or_else(|| panic!("{spelling:?} lost"));
            assert_ne!(spelling_order(kept, spelling), std::cmp::Ordering::Greater);
        }
        let spelled_of_a_b = paths.iter().find(|p| ***p == *Path::new("a/b")).unwrap();
        assert_eq!(spelled_of_a_b.as_os_str(), "a/./b");
    }

    fn walk_of(files: &[&str]) -> Discovered {
        Discovered {
            files: files
                .iter()
                .map(|file| Arc::from(Path::new(file)))
                .collect(),
            ..Discovered::default()
        }
    }

    /// Walks joined keep their files' order when they follow on from each other, and are put
    /// in order when they do not (a walk in the report's order: `c-x/` before `c/`).
    #[test]
    fn joined_walks_are_in_path_order() {
        let joined = |walks: &[&[&str]]| -> Vec<String> {
            let walks = walks.iter().map(|files| walk_of(files)).collect();
            let files = Discovered::joined(walks).files;
            files.iter().map(|f| f.display().to_string()).collect()
        };
        let in_order = joined(&[&["c/a", "c/b"], &[], &["d/a"], &["e/a", "e/b"]]);
        assert_eq!(in_order, ["c/a", "c/b", "d/a", "e/a", "e/b"]);
        let report_order = joined(&[&["c-x/a"], &["c/a", "c/b"], &["d/a"]]);
        assert_eq!(report_order, ["c/a", "c/b", "c-x/a", "d/a"]);
        // One path spelled two ways is kept once (the spelling first in byte order).
        let spelled_twice = joined(&[&["c/a"], &["c//a", "d/a"]]);
        assert_eq!(spelled_twice, ["c//a", "d/a"]);
    }
}

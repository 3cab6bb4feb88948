//! The names in folders, each folder listed once a run.
//!
//! Several stages ask the same folders for a few names: is there a `.talhorn.yaml`, a `.git`,
//! a build manifest, a talhelper config or a layer folder here? Asked one by one, most of
//! those questions are failed `stat`s (a third of a lint's system calls, before this). One
//! listing per folder, shared by every stage, answers them all; a name the listing holds is
//! still looked at on disk when the question is about more than the name (is it a file, does
//! a symlink lead anywhere), so the answers are those the file system would give.

use crate::fast_hash::{FastMap, FastSet};
use rayon::prelude::*;
use std::cmp::Ordering;
use std::ffi::{OsStr, OsString};
use std::fs::FileType;
use std::path::Path;
use std::sync::{Arc, RwLock};

/// The entries of one folder, sorted by name, with their types as the listing gave them (a
/// symlink is a symlink, not what it leads to). The names are kept one after the other in one
/// buffer: a run holds the listing of every folder it walked until its files are grouped, and
/// a name apiece, each in an allocation of its own, was most of that memory.
#[derive(Debug)]
pub struct Listing {
    /// Every name's bytes ([`OsStr::as_encoded_bytes`]) in name order, one after the other.
    names: Box<[u8]>,
    /// Where each name ends in `names`, and its entry's type.
    ends: Box<[(usize, FileType)]>,
}

impl Listing {
    /// Lists `dir` (the empty path is the working folder); `None` when it cannot be listed.
    fn read(dir: &Path) -> Option<Self> {
        let dir = if dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            dir
        };
        let entries = std::fs::read_dir(dir)
            .ok()?
            .flatten()
            .filter_map(|entry| Some((entry.file_name(), entry.file_type().ok()?)))
            .collect();
        Some(Self::of_entries(entries))
    }

    /// The listing of a folder whose entries were read elsewhere (by the walk), in any order.
    pub fn of_entries(mut entries: Vec<(OsString, FileType)>) -> Self {
        // The names of one folder are unique: their order is their byte order.
        entries.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        let mut names = Vec::with_capacity(entries.iter().map(|(name, _)| name.len()).sum());
        let ends = entries
            .into_iter()
            .map(|(name, file_type)| {
                names.extend_from_slice(name.as_encoded_bytes());
                (names.len(), file_type)
            })
            .collect();
        Self {
            names: names.into_boxed_slice(),
            ends,
        }
    }

    /// The name of the entry at `index` (in name order).
    fn name(&self, index: usize) -> &OsStr {
        let start = index.checked_sub(1).map_or(0, |before| self.ends[before].0);
        let bytes = &self.names[start..self.ends[index].0];
        // SAFETY: `bytes` are exactly the bytes `OsStr::as_encoded_bytes` gave for one name,
        // in this process: `of_entries` put them one after the other and `ends` marks where
        // each one ends.
        unsafe { OsStr::from_encoded_bytes_unchecked(bytes) }
    }

    /// The entries, sorted by name.
    pub fn entries(&self) -> impl Iterator<Item = (&OsStr, FileType)> {
        (0..self.ends.len()).map(|index| (self.name(index), self.ends[index].1))
    }

    /// The type of the entry called `name`, when there is one (a binary search of the names).
    pub fn entry(&self, name: &OsStr) -> Option<FileType> {
        let (mut low, mut high) = (0, self.ends.len());
        while low < high {
            let middle = low + (high - low) / 2;
            match self.name(middle).cmp(name) {
                Ordering::Less => low = middle + 1,
                Ordering::Greater => high = middle,
                Ordering::Equal => return Some(self.ends[middle].1),
            }
        }
        None
    }

    /// Whether the folder holds an entry called `name` (of any type).
    pub fn holds(&self, name: &str) -> bool {
        self.entry(OsStr::new(name)).is_some()
    }

    /// The names, in byte order.
    pub fn names(&self) -> impl Iterator<Item = &OsStr> {
        (0..self.ends.len()).map(|index| self.name(index))
    }
}

/// The folders listed so far in a run, by their paths as the run spells them. Shared by the
/// stages of a run, on any thread; a folder asked for before it was listed is listed then.
#[derive(Debug, Default)]
pub struct Listings {
    /// Every folder listed so far.
    known: RwLock<Known>,
}

/// A folder's key ([`key`]) → its listing, `None` when it cannot be listed.
type Known = FastMap<Box<[u8]>, Option<Arc<Listing>>>;

impl Listings {
    /// The listings of `folders` (for a lint, [`folders_and_above`] its files: the folders its
    /// stages ask about): those already `listed` (by the walk) as they are, the others listed
    /// now, in parallel.
    pub fn of_folders(folders: &[&Path], listed: Vec<(Arc<Path>, Listing)>) -> Self {
        let mut known: Known = listed
            .into_iter()
            .map(|(dir, listing)| (Box::from(key(&dir)), Some(Arc::new(listing))))
            .collect();
        let missing: Vec<&Path> = folders
            .iter()
            .copied()
            .filter(|dir| !known.contains_key(key(dir)))
            .collect();
        known.par_extend(
            missing
                .par_iter()
                .map(|&dir| (Box::from(key(dir)), Listing::read(dir).map(Arc::new))),
        );
        Self {
            known: RwLock::new(known),
        }
    }

    /// The listing of `dir` (`None` when it cannot be listed).
    pub fn of(&self, dir: &Path) -> Option<Arc<Listing>> {
        if let Some(known) = self.read_lock().get(key(dir)) {
            return known.clone();
        }
        // Listed outside the lock: another thread may list it too, and both agree.
        let listing = Listing::read(dir).map(Arc::new);
        self.known
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(Box::from(key(dir)), listing.clone());
        listing
    }

    /// Whether `dir` may hold `name`: false only when its listing shows it does not (a folder
    /// that cannot be listed may hold anything). Callers look at a name that may be there.
    pub fn may_hold(&self, dir: &Path, name: &str) -> bool {
        self.of(dir).is_none_or(|listing| listing.holds(name))
    }

    /// Whether `dir` is a folder itself, not a symlink to one, when its parent's listing can
    /// tell (`None`: a path without a parent or a name, or a parent that cannot be listed).
    pub fn is_plain_folder(&self, dir: &Path) -> Option<bool> {
        let name = dir.file_name()?;
        let parent = dir.parent()?;
        let listing = self.of(parent)?;
        Some(listing.entry(name).is_some_and(|kind| kind.is_dir()))
    }

    fn read_lock(&self) -> std::sync::RwLockReadGuard<'_, Known> {
        self.known
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// A folder's key: its bytes, the empty path (a file named without a folder) as `.`.
fn key(dir: &Path) -> &[u8] {
    match dir.as_os_str().as_encoded_bytes() {
        [] => b".",
        bytes => bytes,
    }
}

/// The folder of every file and every folder above it, as they are spelled, each once, in no
/// particular order. Pieces of the files are looked at in parallel (on the caller's pool), then
/// a folder two pieces both found is kept once.
pub fn folders_and_above<P: AsRef<Path> + Sync>(files: &[P]) -> Vec<&Path> {
    let pieces: Vec<Vec<&Path>> = files.par_chunks(FOLDERS_PIECE).map(folders_of).collect();
    let mut seen = FastSet::default();
    pieces
        .into_iter()
        .flatten()
        .filter(|dir| seen.insert(dir.as_os_str().as_encoded_bytes()))
        .collect()
}

/// How many files one worker takes at a time in [`folders_and_above`].
const FOLDERS_PIECE: usize = 1024;

/// [`folders_and_above`] of sorted files, on one thread: most files share the folder of the
/// one before, and once a folder is seen so are those above it.
fn folders_of<P: AsRef<Path>>(files: &[P]) -> Vec<&Path> {
    let mut seen: FastSet<&[u8]> = FastSet::default();
    let mut folders = Vec::new();
    let mut previous = None;
    for folder in files.iter().filter_map(|file| file.as_ref().parent()) {
        // By bytes: one walk spells a folder one way, and comparing paths goes component by
        // component.
        let bytes = folder.as_os_str().as_encoded_bytes();
        if previous == Some(bytes) {
            continue;
        }
        previous = Some(bytes);
        folders.extend(
            folder
                .ancestors()
                .take_while(|&dir| seen.insert(dir.as_os_str().as_encoded_bytes())),
        );
    }
    folders
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;
    use std::path::PathBuf;

    fn tree() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("a/b")).unwrap();
        std::fs::write(dir.path().join("a/.talhorn.yaml"), "").unwrap();
        std::fs::write(dir.path().join("a/b/x.yaml"), "").unwrap();
        dir
    }

    #[test]
    fn a_listing_answers_for_the_names_its_folder_holds() {
        let dir = tree();
        let file = dir.path().join("a/b/x.yaml");
        let folders = folders_and_above(std::slice::from_ref(&file));
        let listings = Listings::of_folders(&folders, Vec::new());
        assert!(listings.may_hold(&dir.path().join("a"), ".talhorn.yaml"));
        assert!(!listings.may_hold(&dir.path().join("a"), ".git"));
        assert!(!listings.may_hold(&dir.path().join("a/b"), ".talhorn.yaml"));
        assert!(listings.may_hold(&dir.path().join("a/b"), "x.yaml"));
        let names: Vec<_> = listings
            .of(&dir.path().join("a"))
            .unwrap()
            .names()
            .map(OsStr::to_owned)
            .collect();
        assert_eq!(names, [".talhorn.yaml", "b"]);
    }

    /// The names packed one after the other come back whole, in byte order, each with its
    /// type, and a name is found only when the folder holds exactly it (not a prefix of it, nor
    /// a name it is a prefix of).
    #[test]
    fn a_listing_keeps_every_name_whole_and_finds_exactly_them() {
        let dir = tempfile::tempdir().unwrap();
        let names = ["ab", "a", "a.yaml", "b", "é.yaml", "a b", "z"];
        for name in names {
            std::fs::write(dir.path().join(name), "").unwrap();
        }
        std::fs::create_dir(dir.path().join("a.d")).unwrap();
        let listing = Listing::read(dir.path()).unwrap();
        let listed: Vec<(String, bool)> = listing
            .entries()
            .map(|(name, kind)| (name.to_string_lossy().into_owned(), kind.is_dir()))
            .collect();
        let mut expected: Vec<(String, bool)> = names
            .iter()
            .map(|name| (name.to_string(), false))
            .chain([("a.d".to_string(), true)])
            .collect();
        expected.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
        assert_eq!(listed, expected);
        for (name, is_dir) in &expected {
            assert_eq!(
                listing.entry(OsStr::new(name)).map(|kind| kind.is_dir()),
                Some(*is_dir)
            );
        }
        for absent in ["", "a.", "a.yam", "abc", "aa", "é", "zz", ".talhorn.yaml"] {
            assert!(!listing.holds(absent), "{absent:?}");
        }
        assert_eq!(Listing::of_entries(Vec::new()).names().count(), 0);
        assert!(!Listing::of_entries(Vec::new()).holds("a"));
    }

    /// A name that is not UTF-8 is kept byte for byte.
    #[cfg(unix)]
    #[test]
    fn a_listing_keeps_names_that_are_not_utf8() {
        use std::os::unix::ffi::OsStrExt;
        let dir = tempfile::tempdir().unwrap();
        let odd = OsStr::from_bytes(b"caf\xe9.yaml");
        if std::fs::write(dir.path().join(odd), "").is_err() {
            eprintln!("note: this file system refuses names that are not UTF-8; skipped");
            return;
        }
        std::fs::write(dir.path().join("b.yaml"), "").unwrap();
        let listing = Listing::read(dir.path()).unwrap();
        let names: Vec<&OsStr> = listing.names().collect();
        assert_eq!(names, [OsStr::new("b.yaml"), odd]);
        assert!(listing.entry(odd).is_some());
    }

    #[test]
    fn a_folder_that_cannot_be_listed_may_hold_anything() {
        let dir = tree();
        let listings = Listings::default();
        let missing = dir.path().join("nowhere");
        assert!(listings.of(&missing).is_none());
        assert!(listings.may_hold(&missing, ".git"));
    }

    #[test]
    fn the_folders_above_every_file_are_listed_once() {
        let files = [
            PathBuf::from("r/a/b/1.yaml"),
            PathBuf::from("r/a/b/2.yaml"),
            PathBuf::from("r/a/c/3.yaml"),
            PathBuf::from("r/d.yaml"),
        ];
        let folders = folders_and_above(&files);
        let spelled: Vec<_> = folders.iter().map(|f| f.to_str().unwrap()).collect();
        assert_eq!(spelled, ["r/a/b", "r/a", "r", "", "r/a/c"]);
    }

    /// Over several pieces, a folder is still found once, and every folder above every file is.
    #[test]
    fn folders_over_several_pieces_are_found_once() {
        let files: Vec<PathBuf> = (0..FOLDERS_PIECE * 3)
            .map(|i| PathBuf::from(format!("r/c{}/d{}/{i}.yaml", i / 700, i / 90)))
            .collect();
        let found = folders_and_above(&files);
        let unique: HashSet<&Path> = found.iter().copied().collect();
        assert_eq!(unique.len(), found.len(), "a folder found twice");
        let expected: HashSet<&Path> = files
            .iter()
            .flat_map(|file| file.ancestors().skip(1))
            .collect();
        assert_eq!(unique, expected);
    }

    #[cfg(unix)]
    #[test]
    fn a_symlink_to_a_folder_is_not_a_plain_folder() {
        let dir = tree();
        std::os::unix::fs::symlink(dir.path().join("a"), dir.path().join("link")).unwrap();
        let listings = Listings::default();
        assert_eq!(listings.is_plain_folder(&dir.path().join("a")), Some(true));
        assert_eq!(
            listings.is_plain_folder(&dir.path().join("link")),
            Some(false)
        );
        assert_eq!(listings.is_plain_folder(Path::new("/")), None);
    }
}

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
use std::ffi::OsStr;
use std::io;
use std::path::Path;
use std::sync::{Arc, RwLock};

/// The type of a folder's entry, as the folder's listing gives it: a symlink is a symlink,
/// not what it leads to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EntryType {
    File,
    Dir,
    Symlink,
    /// A FIFO, a device or a socket.
    Other,
}

impl EntryType {
    pub fn is_file(self) -> bool {
        self == Self::File
    }

    pub fn is_dir(self) -> bool {
        self == Self::Dir
    }

    pub fn is_symlink(self) -> bool {
        self == Self::Symlink
    }
}

impl From<std::fs::FileType> for EntryType {
    fn from(file_type: std::fs::FileType) -> Self {
        if file_type.is_file() {
            Self::File
        } else if file_type.is_dir() {
            Self::Dir
        } else if file_type.is_symlink() {
            Self::Symlink
        } else {
            Self::Other
        }
    }
}

/// What listing a folder meets, entry by entry ([`list_entries`]).
pub enum Listed<'n> {
    /// An entry (never `.` or `..`), with its type or why its type could not be had.
    Entry(&'n OsStr, io::Result<EntryType>),
    /// The folder could be opened but not read to its end: the listing stops here.
    Unreadable(io::Error),
}

/// Lists the folder `dir`: each entry, in the order the system gives them, goes to `each`.
/// `Err` when the folder cannot be opened.
///
/// On Linux the entries are read straight from the kernel's records into a buffer each
/// thread keeps: std's `read_dir` allocates a 32 KiB buffer a folder and two names an entry,
/// and asks for the folder's metadata first (a walk's largest share of allocations, a `stat`
/// for every folder).
pub fn list_entries(dir: &Path, mut each: impl FnMut(Listed<'_>)) -> io::Result<()> {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    {
        use rustix::fs::{AtFlags, CWD, FileType, Mode, OFlags, RawDir};
        use std::os::unix::ffi::OsStrExt;
        let folder = rustix::fs::openat(
            CWD,
            dir,
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        )?;
        let entry_type = |name: &OsStr, file_type: FileType| match file_type {
            // Some file systems do not tell the type in the listing: ask, as std does.
            FileType::Unknown => rustix::fs::statat(&folder, name, AtFlags::SYMLINK_NOFOLLOW)
                .map(|stat| FileType::from_raw_mode(stat.st_mode).into())
                .map_err(io::Error::from),
            known => Ok(known.into()),
        };
        LISTING_BUFFER.with_borrow_mut(|buffer| {
            let mut entries = RawDir::new(&folder, buffer.spare_capacity_mut());
            while let Some(entry) = entries.next() {
                let entry = match entry {
                    Ok(entry) => entry,
                    Err(error) => {
                        each(Listed::Unreadable(error.into()));
                        break;
                    }
                };
                let name = OsStr::from_bytes(entry.file_name().to_bytes());
                if name != "." && name != ".." {
                    each(Listed::Entry(name, entry_type(name, entry.file_type())));
                }
            }
        });
        Ok(())
    }
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    {
        for entry in std::fs::read_dir(dir)? {
            match entry {
                Ok(entry) => {
                    let name = entry.file_name();
                    each(Listed::Entry(&name, entry.file_type().map(EntryType::from)));
                }
                Err(error) => {
                    each(Listed::Unreadable(error));
                    break;
                }
            }
        }
        Ok(())
    }
}

#[cfg(any(target_os = "linux", target_os = "android"))]
impl From<rustix::fs::FileType> for EntryType {
    fn from(file_type: rustix::fs::FileType) -> Self {
        match file_type {
            rustix::fs::FileType::RegularFile => Self::File,
            rustix::fs::FileType::Directory => Self::Dir,
            rustix::fs::FileType::Symlink => Self::Symlink,
            _ => Self::Other,
        }
    }
}

#[cfg(any(target_os = "linux", target_os = "android"))]
thread_local! {
    /// The buffer a thread reads folders' entries into ([`list_entries`]).
    static LISTING_BUFFER: std::cell::RefCell<Vec<u8>> =
        std::cell::RefCell::new(Vec::with_capacity(32 * 1024));
}

/// The entries of one folder, sorted by name, with their types as the listing gave them (a
/// symlink is a symlink, not what it leads to). The names are kept one after the other in one
/// buffer: a run holds the listing of every folder it walked until its files are grouped, and
/// a name apiece, each in an allocation of its own, was most of that memory.
#[derive(Debug)]
pub struct Listing {
    /// Every name's bytes ([`OsStr::as_encoded_bytes`]) in name order, one after the other.
    names: Box<[u8]>,
    /// Where each name ends in `names`, and its entry's type.
    ends: Box<[(usize, EntryType)]>,
}

impl Listing {
    /// Lists `dir` (the empty path is the working folder); `None` when it cannot be listed.
    /// An entry whose type cannot be had is left out, and a folder that cannot be read to its
    /// end keeps the entries read before.
    fn read(dir: &Path) -> Option<Self> {
        let dir = if dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            dir
        };
        let mut entries = ListingBuilder::default();
        list_entries(dir, |listed| {
            if let Listed::Entry(name, Ok(entry_type)) = listed {
                entries.push(name, entry_type);
            }
        })
        .ok()?;
        Some(entries.finish())
    }

    /// The name of the entry at `index` (in name order).
    fn name(&self, index: usize) -> &OsStr {
        let start = index.checked_sub(1).map_or(0, |before| self.ends[before].0);
        let bytes = &self.names[start..self.ends[index].0];
        // SAFETY: `bytes` are exactly the bytes `OsStr::as_encoded_bytes` gave for one name,
        // in this process: `ListingBuilder` put them one after the other and `ends` marks where
        // each one ends.
        unsafe { OsStr::from_encoded_bytes_unchecked(bytes) }
    }

    /// The entries, sorted by name.
    pub fn entries(&self) -> impl Iterator<Item = (&OsStr, EntryType)> {
        (0..self.ends.len()).map(|index| (self.name(index), self.ends[index].1))
    }

    /// The type of the entry called `name`, when there is one (a binary search of the names).
    pub fn entry(&self, name: &OsStr) -> Option<EntryType> {
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

/// A folder's entries gathered in the order they are listed, their names one after the other
/// in one buffer, then sorted into a [`Listing`].
#[derive(Default)]
pub struct ListingBuilder {
    names: Vec<u8>,
    /// Where each name starts and ends in `names`, and its entry's type.
    entries: Vec<(usize, usize, EntryType)>,
}

impl ListingBuilder {
    pub fn push(&mut self, name: &OsStr, entry_type: EntryType) {
        let start = self.names.len();
        self.names.extend_from_slice(name.as_encoded_bytes());
        self.entries.push((start, self.names.len(), entry_type));
    }

    pub fn finish(mut self) -> Listing {
        let names = &self.names;
        // The names of one folder are unique: their order is their byte order.
        self.entries
            .sort_unstable_by(|a, b| names[a.0..a.1].cmp(&names[b.0..b.1]));
        let mut sorted = Vec::with_capacity(names.len());
        let ends = self
            .entries
            .iter()
            .map(|&(start, end, entry_type)| {
                sorted.extend_from_slice(&names[start..end]);
                (sorted.len(), entry_type)
            })
            .collect();
        Listing {
            names: sorted.into_boxed_slice(),
            ends,
        }
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
        let empty = || ListingBuilder::default().finish();
        assert_eq!(empty().names().count(), 0);
        assert!(!empty().holds("a"));
    }

    /// Every entry, with the type std's `read_dir` gives it (a symlink as a symlink, a FIFO
    /// as something else); a folder that is not there cannot be listed.
    #[cfg(unix)]
    #[test]
    fn entries_are_listed_with_the_types_read_dir_gives() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::write(root.join("file.yaml"), "a: 1\n").unwrap();
        std::fs::create_dir(root.join("folder")).unwrap();
        std::os::unix::fs::symlink("file.yaml", root.join("link")).unwrap();
        std::os::unix::fs::symlink("nowhere", root.join("dangling")).unwrap();
        let fifo = std::ffi::CString::new(root.join("fifo").into_os_string().into_encoded_bytes());
        // SAFETY: a NUL-terminated path, made just above.
        let made = unsafe { libc::mkfifo(fifo.unwrap().as_ptr(), 0o600) };
        assert_eq!(made, 0, "mkfifo");
        let mut listed = Vec::new();
        list_entries(root, |entry| match entry {
            Listed::Entry(name, entry_type) => listed.push((name.to_owned(), entry_type.unwrap())),
            Listed::Unreadable(error) => panic!("{error}"),
        })
        .unwrap();
        listed.sort_by(|a, b| a.0.cmp(&b.0));
        let mut expected: Vec<_> = std::fs::read_dir(root)
            .unwrap()
            .map(|entry| {
                let entry = entry.unwrap();
                (
                    entry.file_name(),
                    EntryType::from(entry.file_type().unwrap()),
                )
            })
            .collect();
        expected.sort_by(|a, b| a.0.cmp(&b.0));
        assert_eq!(listed, expected);
        let kinds: Vec<EntryType> = listed.iter().map(|(_, kind)| *kind).collect();
        use EntryType::{Dir, File, Other, Symlink};
        assert_eq!(kinds, [Symlink, Other, File, Dir, Symlink]);
        assert!(list_entries(&root.join("absent"), |_| {}).is_err());
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

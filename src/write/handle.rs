//! The output directory as an opened handle.
//!
//! Every lookup, read, write, rename and removal inside the output directory goes through a
//! directory file descriptor (`openat`, `renameat`, `unlinkat`, …), and every directory below
//! the output directory is opened with `O_NOFOLLOW`. So replacing a directory by a symlink at
//! any moment, even between a check and the write it guards, cannot send an operation
//! outside the output directory: the write fails or lands in the directory that was checked.
//! Only the output directory itself is opened by path, following a symlink there: that one is
//! the user's choice.

use super::lock::{self, Lock};
use super::{Existing, WriteError};
use rustix::fs::{self as sys, AtFlags, FileType, Mode, OFlags};
use rustix::io::Errno;
use std::collections::HashMap;
use std::fs::{self, File};
use std::io::{self, Read};
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

/// An opened directory inside the output directory.
pub type Dir = Arc<OwnedFd>;

/// What stands where a directory of the output is needed.
pub enum DirAt {
    Open(Dir),
    Absent,
    /// A symlink, which is never followed.
    Symlink(PathBuf),
    /// A file or special file.
    NotADir(PathBuf),
}

const DIR_FLAGS: OFlags = OFlags::RDONLY
    .union(OFlags::DIRECTORY)
    .union(OFlags::NOFOLLOW)
    .union(OFlags::CLOEXEC);

#[derive(Debug)]
pub struct OutputDir {
    path: PathBuf,
    root: Dir,
    /// Directories opened so far, by relative path: one `openat` per directory instead of one
    /// per file, and a directory once opened stays the one that was checked.
    opened: Mutex<HashMap<String, Dir>>,
    /// Until [`Self::unlock`].
    lock: Mutex<Option<Lock>>,
    /// Directories on the way to the output directory that this build created, outermost
    /// first: removed again if the build leaves them empty.
    created: Vec<PathBuf>,
}

impl OutputDir {
    /// Opens the output directory to plan `--check` or `--diff` against, waiting for a build
    /// that is writing it. `None` when it does not exist.
    pub fn open_for_reading(path: &Path) -> Result<Option<Self>, WriteError> {
        let Some(out) = Self::open(path)? else {
            return Ok(None);
        };
        *out.lock() = lock::shared(&out.root, path)?;
        Ok(Some(out))
    }

    /// Opens the output directory to write it, creating it if needed, and takes the lock that
    /// keeps any other build out until this one is done (dropped).
    pub fn open_for_writing(path: &Path) -> Result<Self, WriteError> {
        let created = create_missing(path)?;
        let mut out = Self::open(path)?.ok_or_else(|| WriteError::Stage {
            doing: "open the output directory",
            path: path.to_path_buf(),
            source: io::ErrorKind::NotFound.into(),
        })?;
        out.created = created;
        *out.lock() = Some(lock::exclusive(&out.root, path)?);
        Ok(out)
    }

    fn open(path: &Path) -> Result<Option<Self>, WriteError> {
        let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC;
        let root = match sys::open(path, flags, Mode::empty()) {
            Ok(fd) => fd,
            Err(Errno::NOENT) => return Ok(None),
            Err(Errno::NOTDIR) => {
                return Err(WriteError::NotADirectory {
                    path: path.to_path_buf(),
                });
            }
            Err(err) => {
                return Err(WriteError::Read {
                    path: path.to_path_buf(),
                    source: err.into(),
                });
            }
        };
        Ok(Some(Self {
            path: path.to_path_buf(),
            root: Arc::new(root),
            opened: Mutex::default(),
            lock: Mutex::default(),
            created: Vec::new(),
        }))
    }

    /// Where `rel` is, for messages.
    pub fn join(&self, rel: &str) -> PathBuf {
        if rel.is_empty() {
            self.path.clone()
        } else {
            self.path.join(rel)
        }
    }

    /// True when this handle holds the lock for writing.
    pub fn is_writable(&self) -> bool {
        self.lock().as_ref().is_some_and(Lock::is_exclusive)
    }

    /// Lets other builds in: this one is done with the directory.
    pub fn unlock(&self) {
        if let Some(lock) = self.lock().take() {
            lock.release(&self.root);
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Lock>> {
        self.lock.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The directory `rel` (`""` for the output directory), opened without following symlinks.
    pub fn dir(&self, rel: &str) -> io::Result<DirAt> {
        if rel.is_empty() {
            return Ok(DirAt::Open(Arc::clone(&self.root)));
        }
        if let Some(dir) = self.opened().get(rel) {
            return Ok(DirAt::Open(Arc::clone(dir)));
        }
        let (parent_rel, name) = split(rel);
        let parent = match self.dir(parent_rel)? {
            DirAt::Open(parent) => parent,
            other => return Ok(other),
        };
        match sys::openat(&*parent, name, DIR_FLAGS, Mode::empty()) {
            Ok(fd) => {
                // Two workers may open a directory at once: both go on with the first handle
                // kept, so every file in it is reached through the one directory checked.
                let mut opened = self.opened();
                let dir = opened.entry(rel.to_owned()).or_insert_with(|| Arc::new(fd));
                Ok(DirAt::Open(Arc::clone(dir)))
            }
            Err(Errno::NOENT) => Ok(DirAt::Absent),
            Err(Errno::LOOP | Errno::NOTDIR) => Ok(self.not_a_dir(&parent, name, rel)),
            Err(err) => Err(err.into()),
        }
    }

    fn not_a_dir(&self, parent: &OwnedFd, name: &str, rel: &str) -> DirAt {
        match sys::statat(parent, name, AtFlags::SYMLINK_NOFOLLOW) {
            Ok(stat) if FileType::from_raw_mode(stat.st_mode) == FileType::Symlink => {
                DirAt::Symlink(self.join(rel))
            }
            _ => DirAt::NotADir(self.join(rel)),
        }
    }

    /// The directory `rel`, created (with its missing parents) if absent.
    pub fn make_dir(&self, rel: &str) -> Result<Dir, WriteError> {
        let stage_error = |doing, source: io::Error| WriteError::Stage {
            doing,
            path: self.join(rel),
            source,
        };
        match self
            .dir(rel)
            .map_err(|err| stage_error("open the directory", err))?
        {
            DirAt::Open(dir) => return Ok(dir),
            DirAt::Symlink(path) => return Err(WriteError::Symlink { path }),
            DirAt::NotADir(path) => return Err(WriteError::NotADirectory { path }),
            DirAt::Absent => {}
        }
        let (parent_rel, name) = split(rel);
        let parent = self.make_dir(parent_rel)?;
        fault::step();
        match sys::mkdirat(&*parent, name, Mode::from_raw_mode(0o777)) {
            // Created meanwhile by someone else: opened below without following it, like any.
            Ok(()) | Err(Errno::EXIST) => {}
            Err(err) => return Err(stage_error("create the directory", err.into())),
        }
        match self
            .dir(rel)
            .map_err(|err| stage_error("open the directory", err))?
        {
            DirAt::Open(dir) => Ok(dir),
            DirAt::Symlink(path) => Err(WriteError::Symlink { path }),
            DirAt::NotADir(path) => Err(WriteError::NotADirectory { path }),
            DirAt::Absent => Err(stage_error(
                "open the directory",
                io::ErrorKind::NotFound.into(),
            )),
        }
    }

    /// What is at `rel` (a validated relative path). A symlink on the way, or at `rel` itself,
    /// is an error: following it could read outside the output directory.
    pub fn inspect(&self, rel: &str) -> Result<Existing, WriteError> {
        let (dir_rel, name) = split(rel);
        let read_error = |source| WriteError::Read {
            path: self.join(dir_rel),
            source,
        };
        match self.dir(dir_rel).map_err(read_error)? {
            DirAt::Open(dir) => self.inspect_in(&dir, name, rel),
            DirAt::Absent => Ok(Existing::Absent),
            DirAt::Symlink(path) => Err(WriteError::Symlink { path }),
            DirAt::NotADir(path) => Ok(Existing::BehindFile(path)),
        }
    }

    /// What is at `name` in `dir`, which is `rel` in the output directory.
    pub fn inspect_in(&self, dir: &OwnedFd, name: &str, rel: &str) -> Result<Existing, WriteError> {
        let read_error = |source: Errno| WriteError::Read {
            path: self.join(rel),
            source: source.into(),
        };
        match sys::statat(dir, name, AtFlags::SYMLINK_NOFOLLOW) {
            Ok(stat) => match FileType::from_raw_mode(stat.st_mode) {
                FileType::RegularFile => {}
                FileType::Symlink => {
                    return Err(WriteError::Symlink {
                        path: self.join(rel),
                    });
                }
                _ => return Ok(Existing::NotAFile),
            },
            Err(Errno::NOENT) => return Ok(Existing::Absent),
            Err(err) => return Err(read_error(err)),
        }
        // Checked again once open: it may have been replaced since the stat. Non-blocking, so a
        // FIFO swapped in cannot hang the open.
        let flags =
            OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::NOCTTY | OFlags::CLOEXEC;
        let fd = match sys::openat(dir, name, flags, Mode::empty()) {
            Ok(fd) => fd,
            Err(Errno::LOOP) => {
                return Err(WriteError::Symlink {
                    path: self.join(rel),
                });
            }
            Err(err) => return Err(read_error(err)),
        };
        let stat = sys::fstat(&fd).map_err(read_error)?;
        if FileType::from_raw_mode(stat.st_mode) != FileType::RegularFile {
            return Ok(Existing::NotAFile);
        }
        let size = usize::try_from(stat.st_size).unwrap_or(0);
        let bytes = read_sized(File::from(fd), size).map_err(|source| WriteError::Read {
            path: self.join(rel),
            source,
        })?;
        Ok(Existing::File(bytes))
    }

    /// True when something (not followed if a symlink) is at `name` in the output directory.
    pub fn contains(&self, name: &str) -> bool {
        sys::statat(&*self.root, name, AtFlags::SYMLINK_NOFOLLOW).is_ok()
    }

    /// Removes the empty directory `rel`. Fails on one that holds anything.
    pub fn remove_dir(&self, rel: &str) -> io::Result<()> {
        let (parent_rel, name) = split(rel);
        let DirAt::Open(parent) = self.dir(parent_rel)? else {
            return Ok(());
        };
        fault::step();
        sys::unlinkat(&*parent, name, AtFlags::REMOVEDIR)?;
        self.opened()
            .retain(|opened, _| opened != rel && !opened.starts_with(&format!("{rel}/")));
        Ok(())
    }

    /// Makes every file written into the output directory so far durable, content and name.
    ///
    /// One `syncfs` on Linux: one flush of the file system, instead of one `fsync` (and one
    /// journal commit) per file. Elsewhere each file was synced as it was written ([`fill`]),
    /// so the directories remain.
    pub fn make_durable(&self) -> io::Result<()> {
        #[cfg(target_os = "linux")]
        {
            fault::step();
            sys::syncfs(&*self.root)?;
            Ok(())
        }
        #[cfg(not(target_os = "linux"))]
        self.sync_dirs()
    }

    /// Makes the changes to the names in every directory this handle opened (creations,
    /// renames, removals) durable: a few `fsync`s, where a `syncfs` would also wait for every
    /// other program's unwritten data on the same file system.
    pub fn sync_dirs(&self) -> io::Result<()> {
        self.sync_root()?;
        let dirs: Vec<Dir> = self.opened().values().cloned().collect();
        for dir in dirs {
            fault::step();
            sys::fsync(&*dir)?;
        }
        Ok(())
    }

    /// Makes the changes to the names in the output directory itself durable.
    pub fn sync_root(&self) -> io::Result<()> {
        fault::step();
        sys::fsync(&*self.root)?;
        Ok(())
    }

    fn opened(&self) -> std::sync::MutexGuard<'_, HashMap<String, Dir>> {
        self.opened.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Drop for OutputDir {
    fn drop(&mut self) {
        self.unlock();
        // A build that wrote nothing leaves no empty output directory behind.
        for dir in self.created.iter().rev() {
            if fs::remove_dir(dir).is_err() {
                break;
            }
        }
    }
}

/// Creates `path` and its missing parents; returns the ones created, outermost first.
fn create_missing(path: &Path) -> Result<Vec<PathBuf>, WriteError> {
    let mut missing = Vec::new();
    let mut current = Some(path);
    while let Some(dir) = current.filter(|dir| !dir.as_os_str().is_empty()) {
        match fs::symlink_metadata(dir) {
            Ok(_) => break,
            Err(err) if err.kind() == io::ErrorKind::NotFound => {
                missing.push(dir.to_path_buf());
                current = dir.parent();
            }
            Err(source) => {
                return Err(WriteError::Read {
                    path: dir.to_path_buf(),
                    source,
                });
            }
        }
    }
    let mut created = Vec::new();
    for dir in missing.into_iter().rev() {
        match fs::create_dir(&dir) {
            Ok(()) => created.push(dir),
            // Another build created it meanwhile: fine, it is not ours to remove.
            Err(err) if err.kind() == io::ErrorKind::AlreadyExists => {}
            Err(source) => {
                return Err(WriteError::Stage {
                    doing: "create the directory",
                    path: dir,
                    source,
                });
            }
        }
    }
    Ok(created)
}

/// `a/b/c` → (`a/b`, `c`); `c` → (``, `c`).
pub fn split(rel: &str) -> (&str, &str) {
    rel.rsplit_once('/').unwrap_or(("", rel))
}

/// The name new content for `name` is staged under, beside it.
pub fn temp_name(name: &str) -> String {
    format!(".{name}{}", super::paths::TEMP_SUFFIX)
}

/// Creates a new, empty temporary file `name` in `dir`. One left over by an interrupted run is
/// replaced (the name is reserved for talhorn); a directory in its place is an error.
pub fn create_temp(dir: &OwnedFd, name: &str) -> io::Result<File> {
    let flags = OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC;
    let mode = Mode::from_raw_mode(0o666);
    fault::step();
    match sys::openat(dir, name, flags, mode) {
        Ok(fd) => Ok(File::from(fd)),
        Err(Errno::EXIST) => {
            let stat = sys::statat(dir, name, AtFlags::SYMLINK_NOFOLLOW)?;
            if FileType::from_raw_mode(stat.st_mode) == FileType::Directory {
                return Err(Errno::EXIST.into());
            }
            sys::unlinkat(dir, name, AtFlags::empty())?;
            Ok(File::from(sys::openat(dir, name, flags, mode)?))
        }
        Err(err) => Err(err.into()),
    }
}

/// Reads a whole file whose size `fstat` just gave. `read_to_end` would ask for the size again
/// (`statx`, `lseek`) and probe for the end with a small extra read: three system calls more per
/// file, and `build --check` reads every file of the output folder. Reads on while the file
/// grows, so the result is what the file holds, as with `read_to_end`.
fn read_sized(mut file: File, size: usize) -> io::Result<Vec<u8>> {
    // One byte more than the size: the read that would fill it returns 0 at the end instead.
    let mut bytes = vec![0; size + 1];
    let mut len = 0;
    loop {
        if len == bytes.len() {
            bytes.resize(2 * len, 0);
        }
        match file.read(&mut bytes[len..]) {
            Ok(0) => break,
            Ok(n) => len += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    bytes.truncate(len);
    Ok(bytes)
}

/// Writes `content` into a fresh temporary file; `mode`, if given, replaces its permissions.
pub fn fill(mut file: File, content: &[u8], mode: Option<Mode>) -> io::Result<()> {
    use std::io::Write as _;
    fault::step();
    file.write_all(content)?;
    if let Some(mode) = mode {
        sys::fchmod(&file, mode)?;
    }
    // Without syncfs, each file is made durable on its own (see `make_durable`).
    #[cfg(not(target_os = "linux"))]
    file.sync_all()?;
    Ok(())
}

/// The permission bits of the regular file `name` in `dir`.
pub fn mode_of(dir: &OwnedFd, name: &str) -> io::Result<Mode> {
    let stat = sys::statat(dir, name, AtFlags::SYMLINK_NOFOLLOW)?;
    Ok(Mode::from_raw_mode(stat.st_mode) & Mode::from_raw_mode(0o7777))
}

/// Renames `from` to `to`, both in `dir`, replacing `to`.
pub fn rename(dir: &OwnedFd, from: &str, to: &str) -> io::Result<()> {
    fault::step();
    sys::renameat(dir, from, dir, to)?;
    Ok(())
}

/// Removes the file (or symlink, never followed) `name` from `dir`; gone already is fine.
pub fn remove_file(dir: &OwnedFd, name: &str) -> io::Result<()> {
    fault::step();
    match sys::unlinkat(dir, name, AtFlags::empty()) {
        Ok(()) | Err(Errno::NOENT) => Ok(()),
        Err(err) => Err(err.into()),
    }
}

/// A crash on demand, for the tests that prove a killed build is recovered.
///
/// `TALHORN_FAULT_ABORT_AT=N` sends the process SIGKILL (no destructor, no cleanup, no core
/// file: exactly `kill -9`) just before the N-th change the writer makes to the output directory (1-based;
/// creating, writing, renaming or removing a file or directory, or syncing).
pub mod fault {
    use std::sync::OnceLock;
    use std::sync::atomic::{AtomicU64, Ordering};

    static ABORT_AT: OnceLock<Option<u64>> = OnceLock::new();
    static STEPS: AtomicU64 = AtomicU64::new(0);

    /// The environment variable that arms the crash.
    pub const ENV: &str = "TALHORN_FAULT_ABORT_AT";

    pub fn step() {
        let abort_at =
            ABORT_AT.get_or_init(|| std::env::var(ENV).ok().and_then(|value| value.parse().ok()));
        if let Some(at) = abort_at
            && STEPS.fetch_add(1, Ordering::Relaxed) + 1 == *at
        {
            use rustix::process::{Signal, getpid, kill_process};
            let _ = kill_process(getpid(), Signal::KILL);
            std::process::abort();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::read_sized;
    use std::io::{Seek, Write};

    fn file_with(content: &[u8]) -> std::fs::File {
        let mut file = tempfile::tempfile().unwrap();
        file.write_all(content).unwrap();
        file.rewind().unwrap();
        file
    }

    #[test]
    fn reads_the_whole_file_whatever_size_fstat_said() {
        let content = b"talos: v1.11.6\n".repeat(100);
        for stated in [content.len(), 0, 1, content.len() - 1, 10 * content.len()] {
            assert_eq!(read_sized(file_with(&content), stated).unwrap(), content);
        }
        assert!(read_sized(file_with(b""), 0).unwrap().is_empty());
    }
}

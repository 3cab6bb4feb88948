//! One build at a time per output directory.
//!
//! A build holds an exclusive `flock` on `.talhorn-lock` in the output directory from before
//! it reads the directory (and recovers an interrupted commit) until its commit is done, so
//! two builds never interleave their plans and renames: the second waits for the first, then
//! plans against what the first wrote. `--check` and `--diff` hold a shared lock while they
//! read, so they never see a commit half done, and create nothing.
//!
//! The lock file exists only while a build holds it: the holder deletes it before it unlocks.
//! A waiter that then gets the lock on the deleted file notices (the file at the name is no
//! longer its file) and starts over on a fresh one. A lock file left by a killed build (the
//! kernel released its lock) is taken over by the next build, which deletes it in turn.

use super::WriteError;
use rustix::fs::{self as sys, AtFlags, Mode, OFlags};
use rustix::io::Errno;
use std::fs::{File, TryLockError};
use std::os::fd::OwnedFd;
use std::path::Path;

/// The lock file's name, at the top of the output directory.
pub const LOCK_NAME: &str = ".talhorn-lock";

#[derive(Debug)]
pub struct Lock {
    /// Held open for the lock's lifetime: closing it releases the lock.
    _file: File,
    exclusive: bool,
}

impl Lock {
    pub fn is_exclusive(&self) -> bool {
        self.exclusive
    }

    /// Deletes the lock file (an exclusive holder's job), before the file is closed and the
    /// lock with it.
    pub fn release(&self, root: &OwnedFd) {
        if self.exclusive {
            let _ = sys::unlinkat(root, LOCK_NAME, AtFlags::empty());
        }
    }
}

/// Waits for, then takes, the lock for writing `out` (opened as `root`).
pub fn exclusive(root: &OwnedFd, out: &Path) -> Result<Lock, WriteError> {
    // Never `None`: an exclusive lock creates its file.
    acquire(root, out, true)?.ok_or_else(|| WriteError::Lock {
        path: out.join(LOCK_NAME),
        source: std::io::ErrorKind::NotFound.into(),
    })
}

/// Waits while a build writes `out`, then holds it off. `None` when no build was running (there
/// is no lock file, and reading must not create one).
pub fn shared(root: &OwnedFd, out: &Path) -> Result<Option<Lock>, WriteError> {
    acquire(root, out, false)
}

fn acquire(root: &OwnedFd, out: &Path, exclusive: bool) -> Result<Option<Lock>, WriteError> {
    let error = |source: std::io::Error| WriteError::Lock {
        path: out.join(LOCK_NAME),
        source,
    };
    let access = if exclusive {
        OFlags::RDWR | OFlags::CREATE
    } else {
        OFlags::RDONLY
    };
    let flags = access | OFlags::NOFOLLOW | OFlags::CLOEXEC;
    let mut announced = false;
    loop {
        let file = match sys::openat(root, LOCK_NAME, flags, Mode::from_raw_mode(0o644)) {
            Ok(fd) => File::from(fd),
            Err(Errno::NOENT) if !exclusive => return Ok(None),
            Err(err) => return Err(error(err.into())),
        };
        let attempt = if exclusive {
            file.try_lock()
        } else {
            file.try_lock_shared()
        };
        match attempt {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                if !announced {
                    eprintln!(
                        "waiting for another talhorn build into {} to finish (it holds {})",
                        out.display(),
                        out.join(LOCK_NAME).display()
                    );
                    announced = true;
                }
                let waited = if exclusive {
                    file.lock()
                } else {
                    file.lock_shared()
                };
                waited.map_err(error)?;
            }
            Err(TryLockError::Error(err)) => return Err(error(err)),
        }
        if is_current(root, &file).map_err(error)? {
            return Ok(Some(Lock {
                _file: file,
                exclusive,
            }));
        }
        // The previous holder deleted this file as it finished: start over on the current one.
    }
}

/// True when `file` is still the file at [`LOCK_NAME`].
fn is_current(root: &OwnedFd, file: &File) -> std::io::Result<bool> {
    let held = sys::fstat(file)?;
    match sys::statat(root, LOCK_NAME, AtFlags::SYMLINK_NOFOLLOW) {
        Ok(now) => Ok(now.st_dev == held.st_dev && now.st_ino == held.st_ino),
        Err(Errno::NOENT) => Ok(false),
        Err(err) => Err(err.into()),
    }
}

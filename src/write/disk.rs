//! Looking at what is in the output directory now, without following symlinks inside it.

use super::WriteError;
use super::paths::parent_dirs;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// What is at a relative path in the output directory.
#[derive(Debug)]
pub enum Existing {
    Absent,
    /// A regular file, with its content.
    File(Vec<u8>),
    /// A directory or special file.
    NotAFile,
    /// A file stands where one of the path's directories must be.
    BehindFile(PathBuf),
}

/// The output directory itself may be missing (it will be created) or a symlink the user chose,
/// but not a file.
pub fn check_out_dir(out_dir: &Path) -> Result<(), WriteError> {
    match fs::metadata(out_dir) {
        Ok(meta) if meta.is_dir() => Ok(()),
        Ok(_) => Err(WriteError::NotADirectory {
            path: out_dir.to_path_buf(),
        }),
        Err(err) if err.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(source) => Err(WriteError::Read {
            path: out_dir.to_path_buf(),
            source,
        }),
    }
}

/// What is at `rel` (a validated relative path) under `out_dir`. A symlink on the way, or at
/// `rel` itself, is an error: following it could read or write outside the output directory.
pub fn inspect(out_dir: &Path, rel: &str) -> Result<Existing, WriteError> {
    for dir in parent_dirs(rel) {
        let path = out_dir.join(dir);
        match symlink_metadata(&path)? {
            None => return Ok(Existing::Absent),
            Some(meta) if meta.file_type().is_symlink() => {
                return Err(WriteError::Symlink { path });
            }
            Some(meta) if meta.is_dir() => {}
            Some(_) => return Ok(Existing::BehindFile(path)),
        }
    }
    let path = out_dir.join(rel);
    match symlink_metadata(&path)? {
        None => Ok(Existing::Absent),
        Some(meta) if meta.file_type().is_symlink() => Err(WriteError::Symlink { path }),
        Some(meta) if meta.is_file() => match fs::read(&path) {
            Ok(bytes) => Ok(Existing::File(bytes)),
            Err(source) => Err(WriteError::Read { path, source }),
        },
        Some(_) => Ok(Existing::NotAFile),
    }
}

fn symlink_metadata(path: &Path) -> Result<Option<fs::Metadata>, WriteError> {
    match fs::symlink_metadata(path) {
        Ok(meta) => Ok(Some(meta)),
        Err(err) if err.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(WriteError::Read {
            path: path.to_path_buf(),
            source,
        }),
    }
}

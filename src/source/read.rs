//! Reading an input file safely: only regular files, never more than [`MAX_FILE_BYTES`], and
//! never blocking on a FIFO or a device.
//!
//! The type of the file is checked before it is opened (opening some devices has effects), it
//! is opened non-blocking (a FIFO swapped in after the check cannot hang the open), checked
//! again on the open handle, and read through `take(limit + 1)`, so that a file that grows, or
//! lies about its size, is still never read past the limit.

use std::fmt;
use std::fs::{File, Metadata};
use std::io::Read;
use std::path::Path;

/// The largest file talhorn reads (any kind): the YAML parser's budget.
pub const MAX_FILE_BYTES: u64 = crate::yaml::MAX_YAML_BYTES as u64;

/// Why a file could not be read as text. The message does not repeat the path: callers locate
/// it (an INT001 finding at the file, or `path: message` on the command line).
#[derive(Debug)]
pub enum ReadError {
    /// The file could not be opened or read.
    Io(std::io::Error),
    /// A FIFO, a device, a socket or a directory: not something talhorn reads.
    NotRegular(&'static str),
    /// Larger than the limit; `size` is the size the file reported, when it did.
    TooLarge { size: Option<u64>, limit: u64 },
    /// A NUL byte at this offset.
    Binary(usize),
    /// Invalid UTF-8 at this offset.
    NotUtf8(usize),
    /// UTF-16 text (a byte-order mark first): what Windows PowerShell's `>` writes.
    Utf16 { big_endian: bool },
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Io(e) => write!(f, "cannot read this file: {e}"),
            Self::NotRegular(kind) => write!(
                f,
                "this is {kind}, not a regular file; talhorn reads only regular files, so name \
                 the file itself"
            ),
            Self::TooLarge { size, limit } => {
                match size {
                    Some(size) => write!(f, "file is {size} bytes, ")?,
                    None => f.write_str("file is ")?,
                }
                write!(
                    f,
                    "larger than {limit} bytes ({} MiB), the most talhorn reads",
                    limit / (1024 * 1024)
                )
            }
            Self::Binary(offset) => write!(
                f,
                "binary file (NUL byte at offset {offset}), not a text config"
            ),
            Self::NotUtf8(offset) => write!(
                f,
                "not valid UTF-8 (invalid byte at offset {offset}); save the file as UTF-8"
            ),
            Self::Utf16 { big_endian } => write!(
                f,
                "UTF-16 text (byte-order mark `{}`), which talhorn does not read, nor does Flux's \
                 kustomize-controller; save the file as UTF-8",
                if *big_endian { "FE FF" } else { "FF FE" }
            ),
        }
    }
}

/// What kind of file `metadata` describes, when it is not a regular file.
pub fn special_kind(metadata: &Metadata) -> Option<&'static str> {
    let file_type = metadata.file_type();
    if file_type.is_file() {
        return None;
    }
    if file_type.is_dir() {
        return Some("a directory");
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if file_type.is_fifo() {
            return Some("a FIFO (named pipe)");
        }
        if file_type.is_char_device() {
            return Some("a character device");
        }
        if file_type.is_block_device() {
            return Some("a block device");
        }
        if file_type.is_socket() {
            return Some("a socket");
        }
    }
    Some("a special file")
}

/// Reads a regular file as UTF-8 text of at most [`MAX_FILE_BYTES`] without a NUL byte.
/// Symlinks are followed (callers decide which paths may be links).
pub fn read_text(path: &Path) -> Result<String, ReadError> {
    read_text_limited(path, MAX_FILE_BYTES)
}

/// [`read_text`] with another limit.
pub fn read_text_limited(path: &Path, limit: u64) -> Result<String, ReadError> {
    let before = std::fs::metadata(path).map_err(ReadError::Io)?;
    check_regular(&before, limit)?;
    read_opened(path, limit)
}

/// [`read_text`] of a path whose type the caller has just checked: an entry a directory walk
/// listed as a regular file, or a path named on the command line whose metadata was checked.
/// The look before the open is not repeated (one `stat` per file of a lint); the open handle
/// is still checked, so a FIFO or a device swapped in since is never read.
pub fn read_checked_text(path: &Path) -> Result<String, ReadError> {
    read_opened(path, MAX_FILE_BYTES)
}

fn read_opened(path: &Path, limit: u64) -> Result<String, ReadError> {
    let file = open_nonblocking(path).map_err(ReadError::Io)?;
    // The path may have been swapped between the check and the open: the handle decides.
    let metadata = file.metadata().map_err(ReadError::Io)?;
    check_regular(&metadata, limit)?;
    match usize::try_from(metadata.len()) {
        // Pseudo-files (`/proc`) report no size: read to the end, under the limit.
        Ok(0) | Err(_) => read_text_into(Vec::new(), file, limit),
        Ok(size) => text_of(read_size(file, size).map_err(ReadError::Io)?, limit),
    }
}

/// Reads the `size` bytes the handle reported (at most the limit, checked before), and no
/// more: one `read` for most files instead of a second one that finds the end. A file that
/// grows meanwhile is read as it was when it was opened; one that shrinks, as it is.
fn read_size(mut file: File, size: usize) -> std::io::Result<Vec<u8>> {
    let mut bytes = vec![0; size];
    let mut len = 0;
    while len < size {
        match file.read(&mut bytes[len..]) {
            Ok(0) => break,
            Ok(n) => len += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    bytes.truncate(len);
    Ok(bytes)
}

/// Reads text of at most `limit` bytes without a NUL byte from any reader (standard input for
/// `talhorn lint -`), never buffering more than `limit + 1` bytes.
pub fn read_text_from(reader: impl Read, limit: u64) -> Result<String, ReadError> {
    read_text_into(Vec::new(), reader, limit)
}

fn read_text_into(mut bytes: Vec<u8>, reader: impl Read, limit: u64) -> Result<String, ReadError> {
    reader
        .take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(ReadError::Io)?;
    text_of(bytes, limit)
}

/// The bytes as text: at most `limit` of them, no NUL byte, valid UTF-8.
fn text_of(bytes: Vec<u8>, limit: u64) -> Result<String, ReadError> {
    if bytes.len() as u64 > limit {
        return Err(ReadError::TooLarge { size: None, limit });
    }
    // UTF-16 has NUL bytes in every ASCII character: it is text, not a binary file.
    match bytes.get(..2) {
        Some([0xFF, 0xFE]) => return Err(ReadError::Utf16 { big_endian: false }),
        Some([0xFE, 0xFF]) => return Err(ReadError::Utf16 { big_endian: true }),
        _ => {}
    }
    if let Some(offset) = bytes.iter().position(|&b| b == 0) {
        return Err(ReadError::Binary(offset));
    }
    String::from_utf8(bytes).map_err(|e| ReadError::NotUtf8(e.utf8_error().valid_up_to()))
}

fn check_regular(metadata: &Metadata, limit: u64) -> Result<(), ReadError> {
    if let Some(kind) = special_kind(metadata) {
        return Err(ReadError::NotRegular(kind));
    }
    if metadata.len() > limit {
        return Err(ReadError::TooLarge {
            size: Some(metadata.len()),
            limit,
        });
    }
    Ok(())
}

/// Opens for reading without blocking (a FIFO without a writer) and without making a terminal
/// the controlling one.
fn open_nonblocking(path: &Path) -> std::io::Result<File> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY);
    }
    options.open(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_at_the_limit_is_read_and_one_byte_more_is_not() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.yaml");
        std::fs::write(&path, "a".repeat(10)).unwrap();
        assert_eq!(read_text_limited(&path, 10).unwrap().len(), 10);
        let error = read_text_limited(&path, 9).unwrap_err().to_string();
        assert!(
            error.contains("file is 10 bytes, larger than 9 bytes"),
            "{error}"
        );
    }

    #[cfg(unix)]
    #[test]
    fn devices_and_fifos_are_refused_without_reading_or_blocking() {
        let error = read_text(Path::new("/dev/zero")).unwrap_err().to_string();
        assert!(error.contains("a character device"), "{error}");
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("f.yaml");
        let status = std::process::Command::new("mkfifo").arg(&fifo).status();
        if status.is_ok_and(|s| s.success()) {
            let error = read_text(&fifo).unwrap_err().to_string();
            assert!(error.contains("FIFO"), "{error}");
            // Swapped in after a walk saw a regular file: the open handle is checked.
            let error = read_checked_text(&fifo).unwrap_err().to_string();
            assert!(error.contains("FIFO"), "{error}");
        }
    }

    /// The size the file reports sizes the buffer; the limit, not that size, bounds the read.
    #[test]
    fn a_checked_file_is_read_whole_and_within_the_limit() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.yaml");
        std::fs::write(&path, "a: 1\nb: 2\n").unwrap();
        assert_eq!(read_checked_text(&path).unwrap(), "a: 1\nb: 2\n");
        std::fs::write(&path, "").unwrap();
        assert_eq!(read_checked_text(&path).unwrap(), "");
        assert!(matches!(
            read_opened(&path, 0),
            Ok(text) if text.is_empty()
        ));
        std::fs::write(&path, "ab").unwrap();
        assert!(matches!(
            read_opened(&path, 1),
            Err(ReadError::TooLarge {
                size: Some(2),
                limit: 1
            })
        ));
        std::fs::write(&path, "a\0b").unwrap();
        assert!(matches!(
            read_checked_text(&path),
            Err(ReadError::Binary(1))
        ));
        // UTF-16 (as PowerShell's `>` writes it) is text in another encoding, not binary.
        std::fs::write(&path, b"\xFF\xFEa\0p\0i\0").unwrap();
        let error = read_checked_text(&path).unwrap_err();
        assert!(matches!(error, ReadError::Utf16 { big_endian: false }));
        assert!(
            error
                .to_string()
                .starts_with("UTF-16 text (byte-order mark `FF FE`)")
        );
    }

    /// A file that reports no size (`/proc`) is read to its end, not as empty.
    #[cfg(target_os = "linux")]
    #[test]
    fn a_file_that_reports_no_size_is_read_to_its_end() {
        let text = read_checked_text(Path::new("/proc/self/status")).unwrap();
        assert!(text.contains("Name:"), "{text}");
    }
}

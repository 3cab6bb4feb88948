//! Source files and byte spans: every fact a rule can point at keeps where it came from.

mod folders;
mod read;

pub use folders::{
    EntryType, Listed, Listing, ListingBuilder, Listings, folders_and_above, list_entries,
};

pub use read::{
    MAX_FILE_BYTES, ReadError, read_checked_text, read_text, read_text_from, read_text_limited,
    special_kind,
};
use std::path::{Component, Path};
use std::sync::Arc;

/// Index of a file in a [`SourceMap`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct FileId(pub u32);

/// A half-open byte range `start..end` into a file's text.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Span {
    pub start: usize,
    pub end: usize,
}

impl Span {
    pub const fn new(start: usize, end: usize) -> Self {
        Self { start, end }
    }

    /// An empty span at `offset` (for "something is missing here").
    pub const fn at(offset: usize) -> Self {
        Self::new(offset, offset)
    }

    pub const fn len(&self) -> usize {
        self.end.saturating_sub(self.start)
    }

    pub const fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A place in a file: what findings point at.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Location {
    pub file: FileId,
    pub span: Span,
}

impl Location {
    pub const fn new(file: FileId, span: Span) -> Self {
        Self { file, span }
    }

    /// The start of a file: where a finding about something missing from the whole file points.
    pub const fn file_start(file: FileId) -> Self {
        Self::new(file, Span::at(0))
    }
}

/// A value together with where it was written.
#[derive(Clone, Debug, PartialEq)]
pub struct Fact<T> {
    pub value: T,
    pub at: Location,
}

impl<T> Fact<T> {
    pub const fn new(value: T, at: Location) -> Self {
        Self { value, at }
    }

    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Fact<U> {
        Fact::new(f(self.value), self.at)
    }

    pub const fn as_ref(&self) -> Fact<&T> {
        Fact {
            value: &self.value,
            at: self.at,
        }
    }
}

/// One text file as read from disk (or generated in memory).
#[derive(Debug, Clone)]
pub struct SourceFile {
    /// The path as shown to the user (relative to the working directory when possible).
    pub path: Arc<Path>,
    pub text: String,
    line_starts: Vec<usize>,
}

impl SourceFile {
    pub fn new(path: impl AsRef<Path>, text: impl Into<String>) -> Self {
        Self::with_shared_path(Arc::from(path.as_ref()), text)
    }

    /// [`Self::new`] with a path shared with the caller's own records (a lint keeps one copy
    /// of each file's path).
    pub fn with_shared_path(path: Arc<Path>, text: impl Into<String>) -> Self {
        let text = text.into();
        // An empty text needs no list: a lint keeps a place for thousands of files whose text
        // it does not hold ([`Self::starts`]).
        let mut line_starts = Vec::new();
        if !text.is_empty() {
            let breaks = memchr::memchr_iter(b'\n', text.as_bytes());
            line_starts.reserve_exact(memchr::memchr_iter(b'\n', text.as_bytes()).count() + 1);
            line_starts.push(0);
            line_starts.extend(breaks.map(|i| i + 1));
        }
        Self {
            path,
            text,
            line_starts,
        }
    }

    /// Where each line starts (one line, at 0, for an empty text).
    fn starts(&self) -> &[usize] {
        if self.line_starts.is_empty() {
            &[0]
        } else {
            &self.line_starts
        }
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let starts = self.starts();
        let line = starts.partition_point(|&s| s <= offset) - 1;
        let start = starts[line];
        let column = self
            .text
            .get(start..offset)
            .map_or(offset - start, |s| s.chars().count());
        (line + 1, column + 1)
    }

    /// The byte range of 1-based line `line`, without its line break.
    pub fn line_span(&self, line: usize) -> Span {
        let Some(&start) = self.starts().get(line.saturating_sub(1)) else {
            return Span::at(self.text.len());
        };
        let end = self.text[start..]
            .find('\n')
            .map_or(self.text.len(), |i| start + i);
        let end = if self.text[start..end].ends_with('\r') {
            end - 1
        } else {
            end
        };
        Span::new(start, end)
    }

    pub fn line_count(&self) -> usize {
        self.starts().len()
    }
}

/// Every file a run has read, so findings can be rendered with snippets.
///
/// Files are shared, not copied, between clones: every cluster of a repository holds the same
/// map, so a [`FileId`] means the same file in each of them and in the report. A clone costs
/// one reference count, whatever the number of files (a run clones the map once per
/// cluster); adding to a clone copies its list of files first.
///
/// A file can take its place before its text is read (added with an empty text): a lint reads
/// most files only when their cluster is checked, so a cluster's map is the run's with the
/// texts of its own files on top ([`SourceMap::with_texts`]), and the run keeps only the texts
/// its report needs ([`SourceMap::keep_texts`]).
#[derive(Debug, Default, Clone)]
pub struct SourceMap {
    files: Arc<Vec<Arc<SourceFile>>>,
    /// Texts read for one cluster, by id (sorted), in place of the run's empty ones.
    texts: Arc<Vec<(FileId, Arc<SourceFile>)>>,
}

impl SourceMap {
    pub fn add(&mut self, file: SourceFile) -> FileId {
        let id = FileId(u32::try_from(self.files.len()).unwrap_or(u32::MAX));
        Arc::make_mut(&mut self.files).push(Arc::new(file));
        id
    }

    /// This map with the texts of files added without one: `texts` (their ids in any order)
    /// replace what the map holds for those ids.
    pub fn with_texts(&self, mut texts: Vec<(FileId, Arc<SourceFile>)>) -> Self {
        texts.sort_unstable_by_key(|(id, _)| *id);
        texts.dedup_by_key(|(id, _)| *id);
        Self {
            files: Arc::clone(&self.files),
            texts: Arc::new(texts),
        }
    }

    /// The texts [`Self::with_texts`] put on top of the run's map.
    pub fn own_texts(&self) -> &[(FileId, Arc<SourceFile>)] {
        &self.texts
    }

    /// The run's map with `texts` in it for good (what the report of a lint keeps).
    pub fn keep_texts(&mut self, texts: impl IntoIterator<Item = (FileId, Arc<SourceFile>)>) {
        let files = Arc::make_mut(&mut self.files);
        for (id, file) in texts {
            files[id.0 as usize] = file;
        }
    }

    pub fn get(&self, id: FileId) -> &SourceFile {
        if !self.texts.is_empty()
            && let Ok(at) = self.texts.binary_search_by_key(&id, |(id, _)| *id)
        {
            return &self.texts[at].1;
        }
        &self.files[id.0 as usize]
    }

    pub fn path(&self, id: FileId) -> &Path {
        &self.files[id.0 as usize].path
    }

    pub fn iter(&self) -> impl Iterator<Item = (FileId, &SourceFile)> {
        (0..self.files.len()).map(|i| {
            let id = FileId(i as u32);
            (id, self.get(id))
        })
    }

    pub fn find(&self, path: &Path) -> Option<FileId> {
        self.iter()
            .find(|(_, f)| *f.path == *path)
            .map(|(id, _)| id)
    }
}

/// The path relative to `root` with `/` separators; absolute paths outside `root` stay absolute.
pub fn display_path(path: &Path, root: &Path) -> String {
    let relative = if path.is_absolute() {
        path.strip_prefix(root).unwrap_or(path)
    } else {
        path
    };
    match spelled_as_displayed(relative) {
        Some(text) => text.to_owned(),
        None => display_by_components(relative),
    }
}

/// [`display_path`] of a relative path (or one outside the root), component by component.
fn display_by_components(relative: &Path) -> String {
    let parts: Vec<String> = relative
        .components()
        .filter(|component| !matches!(component, Component::CurDir))
        .map(|component| match component {
            Component::RootDir => String::new(),
            other => other.as_os_str().to_string_lossy().into_owned(),
        })
        .collect();
    match parts.as_slice() {
        [] => ".".to_owned(),
        [only] if only.is_empty() => "/".to_owned(),
        _ => parts.join("/"),
    }
}

/// The text of a relative path already spelled as [`display_path`] shows it: UTF-8, `/`
/// between its components, none of them empty or `.`. Most paths a lint reports are, and their
/// display then takes one copy instead of one per component (a report resolves a path for
/// every finding and every related place).
fn spelled_as_displayed(path: &Path) -> Option<&str> {
    let text = path.to_str()?;
    let plain = std::path::MAIN_SEPARATOR == '/'
        && !text.is_empty()
        && text.split('/').all(|part| !part.is_empty() && part != ".");
    plain.then_some(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A path spelled as it is shown is displayed as its text, as its components give it.
    #[test]
    fn a_path_spelled_as_displayed_is_displayed_as_its_components_give_it() {
        let parts = ["a", ".", "..", "", "b.yaml", "ç", "c d", "-x"];
        let mut spellings = vec![String::new(), "/".to_owned()];
        for first in parts {
            for second in parts {
                for third in ["", "c", "."] {
                    let path = format!("{first}/{second}/{third}");
                    spellings.push(path.trim_end_matches('/').to_owned());
                    spellings.push(format!("./{path}"));
                    spellings.push(path);
                }
            }
        }
        let mut plain = 0;
        for spelling in &spellings {
            let path = Path::new(spelling);
            if let Some(text) = spelled_as_displayed(path) {
                assert_eq!(text, display_by_components(path), "{spelling:?}");
                plain += 1;
            }
        }
        assert!(plain > 50, "only {plain} plain spellings");
        assert_eq!(spelled_as_displayed(Path::new("a//b.yaml")), None);
        assert_eq!(spelled_as_displayed(Path::new("./a")), None);
        assert_eq!(spelled_as_displayed(Path::new("a/")), None);
        assert_eq!(
            display_path(Path::new("/repo/a/b.yaml"), Path::new("/repo")),
            "a/b.yaml"
        );
    }

    #[test]
    fn line_col_counts_from_one_and_in_characters() {
        let f = SourceFile::new("a.yaml", "ab\nçd: x\n");
        assert_eq!(f.line_col(0), (1, 1));
        assert_eq!(f.line_col(3), (2, 1));
        // 'ç' is two bytes, one column.
        assert_eq!(f.line_col(5), (2, 2));
        assert_eq!(f.line_span(2), Span::new(3, 9));
    }

    #[test]
    fn line_span_strips_carriage_return() {
        let f = SourceFile::new("a.conf", "cpu: host\r\nmemory: 1\r\n");
        assert_eq!(
            &f.text[f.line_span(1).start..f.line_span(1).end],
            "cpu: host"
        );
    }
}

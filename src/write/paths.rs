//! Which relative paths the writer accepts, and which parts of the output directory it owns.

use super::WriteError;
use std::collections::BTreeSet;
use std::path::{Component, Path};

/// The manifest's file name, at the top of the output directory.
pub const MANIFEST_NAME: &str = ".talhorn-manifest.json";

/// Suffix of the temporary files new content is staged in before the renames.
pub const TEMP_SUFFIX: &str = ".talhorn-tmp";

/// Why `path` may not name a file inside the output directory, if it may not.
///
/// The rules are strict on purpose: output paths are built from names in the intent, and a
/// name that slipped past validation must not be able to leave the output directory or shadow
/// the writer's own bookkeeping files.
pub fn problem_with(path: &str) -> Option<&'static str> {
    if path.is_empty() {
        return Some("the path is empty");
    }
    if path.starts_with('/') || Path::new(path).has_root() {
        return Some("it is absolute; output paths are relative to the output directory");
    }
    if path.contains('\\') {
        return Some("it contains a backslash; only '/' separates directories");
    }
    if path.contains('\0') {
        return Some("it contains a NUL byte");
    }
    if path.chars().any(char::is_control) {
        return Some("it contains a control character (such as a newline)");
    }
    for component in path.split('/') {
        if let Some(problem) = problem_with_component(component) {
            return Some(problem);
        }
    }
    if path == MANIFEST_NAME {
        return Some("talhorn reserves that name for its manifest");
    }
    if path == super::JOURNAL_NAME || path == super::LOCK_NAME {
        return Some("talhorn reserves that name for its commit journal and lock");
    }
    if path.ends_with(TEMP_SUFFIX) {
        return Some("talhorn reserves names ending in .talhorn-tmp for its temporary files");
    }
    None
}

fn problem_with_component(component: &str) -> Option<&'static str> {
    match component {
        "" => Some("it has an empty component (a doubled, leading or trailing '/')"),
        "." => Some("it contains a '.' component"),
        ".." => Some("it contains '..', which would leave the output directory"),
        // Whatever the platform calls a prefix or root (a drive letter on Windows) is refused.
        _ => match Path::new(component).components().next() {
            Some(Component::Normal(_)) => None,
            _ => Some("a component is not a plain file name on this platform"),
        },
    }
}

/// Checks every artifact path: valid, unique, and no path that is a file for one artifact and
/// a directory for another.
pub fn check_artifact_paths<'a>(paths: impl Iterator<Item = &'a str>) -> Result<(), WriteError> {
    let mut seen = BTreeSet::new();
    for path in paths {
        if let Some(reason) = problem_with(path) {
            return Err(WriteError::InvalidPath {
                path: path.to_owned(),
                reason,
            });
        }
        if !seen.insert(path) {
            return Err(WriteError::DuplicatePath {
                path: path.to_owned(),
            });
        }
    }
    for path in &seen {
        if let Some(file) = parent_dirs(path).find(|dir| seen.contains(dir)) {
            return Err(WriteError::PathCollision {
                file: file.to_owned(),
                inside: (*path).to_owned(),
            });
        }
    }
    Ok(())
}

/// The directories above `path`, shortest first: `a/b/c` gives `a`, `a/b`.
pub fn parent_dirs(path: &str) -> impl Iterator<Item = &str> {
    path.match_indices('/').map(move |(at, _)| &path[..at])
}

/// The part of the output that was generated this time (`--only`, `--node`): stale manifest
/// entries outside it belong to parts that were not generated and stay untouched.
#[derive(Clone, Debug)]
pub struct Scope {
    prefixes: Option<Vec<String>>,
}

impl Scope {
    /// `None` means the whole output was generated. A prefix names a file or a directory
    /// (with or without a trailing '/').
    pub fn new(prefixes: Option<&[String]>) -> Result<Self, WriteError> {
        let Some(prefixes) = prefixes else {
            return Ok(Self { prefixes: None });
        };
        let mut normalized = Vec::with_capacity(prefixes.len());
        for prefix in prefixes {
            let trimmed = prefix.strip_suffix('/').unwrap_or(prefix);
            if let Some(reason) = problem_with(trimmed) {
                return Err(WriteError::InvalidPath {
                    path: prefix.clone(),
                    reason,
                });
            }
            normalized.push(trimmed.to_owned());
        }
        Ok(Self {
            prefixes: Some(normalized),
        })
    }

    pub fn covers(&self, path: &str) -> bool {
        let Some(prefixes) = &self.prefixes else {
            return true;
        };
        prefixes.iter().any(|prefix| {
            path.strip_prefix(prefix.as_str())
                .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_plain_relative_paths() {
        for path in [
            "RUNBOOK.md",
            "proxmox/101-cp-1.conf",
            "talos/nodes/w-1.yaml",
            ".hidden",
        ] {
            assert_eq!(problem_with(path), None, "{path}");
        }
    }

    #[test]
    fn rejects_paths_that_could_escape_or_confuse() {
        for path in [
            "",
            "/etc/passwd",
            "../x",
            "a/../../x",
            "a/./b",
            "a//b",
            "a/",
            "a\\b",
            "a\0b",
            "a\nb",
            MANIFEST_NAME,
            super::super::JOURNAL_NAME,
            super::super::LOCK_NAME,
            "talos/.x.yaml.talhorn-tmp",
        ] {
            assert!(problem_with(path).is_some(), "{path:?} was accepted");
        }
    }

    #[test]
    fn parent_dirs_lists_every_ancestor() {
        assert_eq!(parent_dirs("a/b/c").collect::<Vec<_>>(), ["a", "a/b"]);
        assert_eq!(parent_dirs("top").count(), 0);
    }

    #[test]
    fn scope_matches_whole_components_only() {
        let scope = Scope::new(Some(&[
            "talos/".to_owned(),
            "proxmox/101-cp-1.conf".to_owned(),
        ]));
        let Ok(scope) = scope else {
            panic!("valid scope refused");
        };
        assert!(scope.covers("talos/worker.yaml"));
        assert!(scope.covers("proxmox/101-cp-1.conf"));
        assert!(!scope.covers("talos-extra/x.yaml"));
        assert!(!scope.covers("proxmox/201-w-1.conf"));
        assert!(!scope.covers("RUNBOOK.md"));
    }
}

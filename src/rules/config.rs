//! `.talhorn.yaml`: rule selection, severity overrides, per-path ignores and lint context.
//!
//! Found like ruff finds its configuration: for every file, the nearest `.talhorn.yaml` in its
//! folder or above, up to the repository root (the directory that holds `.git`). A file named on
//! the command line (as pre-commit passes them) gets the same configuration as in a directory
//! walk. `--config` names one file for everything instead.

use crate::fast_hash::FastMap;
use crate::finding::Severity;
use crate::source::{FileId, Listings, Location, SourceMap};
use crate::yaml::{self, Node};
use globset::{Glob, GlobBuilder, GlobMatcher};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub const FILE_NAME: &str = ".talhorn.yaml";

/// What the files alone may not say.
#[derive(Debug, Clone, Default)]
pub struct Context {
    pub talos: Option<String>,
    pub longhorn: Option<String>,
    pub proxmox: Option<u8>,
    pub gitops: Option<String>,
}

/// `--select` and `--ignore`: applied on top of every configuration file.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub select: Vec<String>,
    pub ignore: Vec<String>,
}

#[derive(Debug, Clone, Default)]
pub struct LintConfig {
    /// The `.talhorn.yaml` this was read from (canonical), if any.
    pub source: Option<PathBuf>,
    /// The directory paths in globs are relative to.
    pub root: PathBuf,
    pub select: Vec<String>,
    pub ignore: Vec<String>,
    pub severity: HashMap<String, Severity>,
    pub per_path_ignores: Vec<(GlobMatcher, Vec<String>)>,
    pub exclude: Vec<GlobMatcher>,
    /// Folders that are cluster roots (`clusters: ["clusters/*"]`), relative to `root`.
    pub clusters: Vec<GlobMatcher>,
    /// Files above every cluster root that belong to all of them (`shared: ["proxmox/*"]`).
    pub shared: Vec<GlobMatcher>,
    pub context: Context,
    /// The command line's selection, already applied to this configuration.
    pub overrides: Overrides,
    /// Whether files under another `.talhorn.yaml` use that one (false with `--config`).
    pub per_file: bool,
    /// Files whose nearest `.talhorn.yaml` is another one than this: their configuration.
    pub nearest: FastMap<PathBuf, Arc<LintConfig>>,
}

/// Every file's nearest `.talhorn.yaml`, found once for a run: the clusters of a run share its
/// files, and looking again for each cluster would walk up the folders of every file once per
/// cluster (a `stat` per folder and level).
#[derive(Debug, Default)]
pub struct NearestConfigs {
    /// Each `.talhorn.yaml` found (`None`: none up to the repository root), in the order the
    /// files first lead to it, with those files.
    found: Vec<(Option<PathBuf>, Vec<FileId>)>,
    /// The run's files (their paths): the map is shared, so naming files by id copies none.
    sources: SourceMap,
}

impl NearestConfigs {
    /// Finds the nearest `.talhorn.yaml` of every file in `sources` (each folder once, asked of
    /// its listing in `listings`).
    pub fn find(sources: &SourceMap, listings: &Listings) -> Self {
        let mut found: Vec<(Option<PathBuf>, Vec<FileId>)> = Vec::new();
        let mut index: FastMap<Option<PathBuf>, usize> = FastMap::default();
        let mut by_dir: FastMap<&Path, usize> = FastMap::default();
        let mut folders = Folders::new(listings);
        // Files come in path order: most are in the folder of the one before.
        let mut previous: Option<(&Path, usize)> = None;
        for (id, file) in sources.iter() {
            let dir = parent_dir(&file.path);
            let at = match previous {
                Some((folder, at)) if folder == dir => at,
                _ => *by_dir.entry(dir).or_insert_with(|| {
                    let config = folders.nearest(dir);
                    *index.entry(config.clone()).or_insert_with(|| {
                        found.push((config, Vec::new()));
                        found.len() - 1
                    })
                }),
            };
            previous = Some((dir, at));
            found[at].1.push(id);
        }
        Self {
            found,
            sources: sources.clone(),
        }
    }
}

/// The nearest `.talhorn.yaml` at or above each of `folders`, as [`LintConfig::discover`]
/// finds it, each folder asked of its listing in `listings` and looked at once (clusters in
/// one repository share the folders above them).
pub fn nearest_of_folders<'f>(
    folders: impl IntoIterator<Item = &'f Path>,
    listings: &Listings,
) -> Vec<Option<PathBuf>> {
    let mut lookup = Folders::new(listings);
    folders.into_iter().map(|dir| lookup.nearest(dir)).collect()
}

/// The nearest `.talhorn.yaml` of folders, each folder looked at once.
struct Folders<'l> {
    /// The names in folders, shared with the other stages of the run.
    listings: &'l Listings,
    /// Folders as the paths spell them → their answer.
    spelled: FastMap<PathBuf, Option<PathBuf>>,
    /// Canonical folders → their answer ([`LintConfig::discover_with`]).
    canonical: FastMap<PathBuf, Option<PathBuf>>,
}

impl<'l> Folders<'l> {
    fn new(listings: &'l Listings) -> Self {
        Self {
            listings,
            spelled: FastMap::default(),
            canonical: FastMap::default(),
        }
    }

    /// [`LintConfig::discover`] of `dir`. Up the folders as the path spells them while each is
    /// a named folder and not a symlink (then its parent on the path is its parent on disk):
    /// one listing per folder instead of resolving every folder's whole path. From a symlink,
    /// `..`, `.` or the top of a relative path on, the canonical folders are walked.
    fn nearest(&mut self, dir: &Path) -> Option<PathBuf> {
        if let Some(found) = self.spelled.get(dir) {
            return found.clone();
        }
        let parent = dir.parent().filter(|p| !p.as_os_str().is_empty());
        let plain_folder = dir.file_name().is_some()
            && self.listings.is_plain_folder(dir).unwrap_or_else(|| {
                std::fs::symlink_metadata(dir).is_ok_and(|m| m.file_type().is_dir())
            });
        let may_hold = |name| self.listings.may_hold(dir, name);
        let found = match parent {
            Some(parent) if plain_folder => {
                if may_hold(FILE_NAME) && dir.join(FILE_NAME).is_file() {
                    std::fs::canonicalize(dir).ok().map(|d| d.join(FILE_NAME))
                } else if may_hold(".git") && dir.join(".git").exists() {
                    None
                } else {
                    self.nearest(parent)
                }
            }
            _ => LintConfig::discover_with(dir, &mut self.canonical),
        };
        self.spelled.insert(dir.to_path_buf(), found.clone());
        found
    }
}

/// A `.talhorn.yaml` that cannot be used; the message names the file and the position.
#[derive(Debug)]
pub struct ConfigError(pub String);

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

fn matches(pattern: &str, code: &str) -> bool {
    pattern.eq_ignore_ascii_case("ALL") || code.starts_with(&pattern.to_ascii_uppercase())
}

impl LintConfig {
    /// Whether a rule runs: selected (default: all) and not ignored. The longer match wins, so
    /// `select: [PVE001]` with `ignore: [PVE]` runs PVE001 only.
    pub fn enabled(&self, code: &str) -> bool {
        let best = |list: &[String]| {
            list.iter()
                .filter(|p| matches(p, code))
                .map(|p| {
                    if p.eq_ignore_ascii_case("ALL") {
                        0
                    } else {
                        p.len()
                    }
                })
                .max()
        };
        let selected = if self.select.is_empty() {
            Some(0)
        } else {
            best(&self.select)
        };
        match (selected, best(&self.ignore)) {
            (None, _) => false,
            (Some(_), None) => true,
            (Some(s), Some(i)) => s > i,
        }
    }

    /// Applies the command line's `--select` (replaces) and `--ignore` (adds).
    pub fn apply(&mut self, overrides: &Overrides) {
        if !overrides.select.is_empty() {
            self.select.clone_from(&overrides.select);
        }
        self.ignore.extend(overrides.ignore.iter().cloned());
        self.overrides = overrides.clone();
    }

    /// The configuration for a finding in `path` (a path as the source map holds it).
    pub fn for_file(&self, path: &Path) -> &Self {
        self.nearest.get(path).map_or(self, |c| c)
    }

    /// Whether the rule runs for at least one file.
    pub fn enabled_anywhere(&self, code: &str) -> bool {
        self.enabled(code) || self.nearest.values().any(|c| c.enabled(code))
    }

    /// This configuration, with every file's nearest `.talhorn.yaml` found when `per_file`
    /// (`nearest` gives where they are: found once for the run, shared by its clusters).
    pub fn resolve<'n>(
        &self,
        nearest: impl FnOnce() -> &'n NearestConfigs,
    ) -> Result<std::borrow::Cow<'_, Self>, ConfigError> {
        if !self.per_file {
            return Ok(std::borrow::Cow::Borrowed(self));
        }
        let mut config = self.clone();
        config.use_nearest(nearest())?;
        Ok(std::borrow::Cow::Owned(config))
    }

    /// A file under another `.talhorn.yaml` than this configuration's (or under none, when
    /// this one came from a file) gets that one, with the command line's overrides on top.
    fn use_nearest(&mut self, nearest: &NearestConfigs) -> Result<(), ConfigError> {
        for (found, files) in &nearest.found {
            if *found == self.source {
                continue;
            }
            let mut config = match found {
                Some(path) => Self::load(path)?,
                None => Self {
                    root: std::env::current_dir().unwrap_or_default(),
                    ..Self::default()
                },
            };
            config.apply(&self.overrides);
            let config = Arc::new(config);
            for &file in files {
                let path = nearest.sources.path(file).to_path_buf();
                self.nearest.insert(path, Arc::clone(&config));
            }
        }
        Ok(())
    }

    pub fn severity_override(&self, code: &str) -> Option<Severity> {
        self.severity.get(code).copied()
    }

    /// Whether a per-path ignore covers a finding of `code` at `at`.
    pub fn ignored_at(&self, code: &str, sources: &SourceMap, at: Location) -> bool {
        if self.per_path_ignores.is_empty() {
            return false;
        }
        let path = self.relative(sources.path(at.file));
        self.per_path_ignores
            .iter()
            .any(|(glob, codes)| glob.is_match(&path) && codes.iter().any(|c| matches(c, code)))
    }

    pub fn excluded(&self, path: &Path) -> bool {
        let path = self.relative(path);
        self.exclude.iter().any(|g| g.is_match(&path))
    }

    fn relative(&self, path: &Path) -> PathBuf {
        path.strip_prefix(&self.root).unwrap_or(path).to_path_buf()
    }

    /// Finds `.talhorn.yaml` from `start` (a file's folder, or a folder) up to the repository
    /// root.
    pub fn discover(start: &Path) -> Option<PathBuf> {
        Self::discover_with(start, &mut FastMap::default())
    }

    /// [`Self::discover`], remembering the answer for every folder on the way up in `known`
    /// (canonical folder → answer), so that each folder is looked at once for many files.
    pub fn discover_with(
        start: &Path,
        known: &mut FastMap<PathBuf, Option<PathBuf>>,
    ) -> Option<PathBuf> {
        let start = if start.is_dir() {
            start
        } else {
            parent_dir(start)
        };
        let mut dir = std::fs::canonicalize(start).ok()?;
        let mut walked = Vec::new();
        let found = loop {
            if let Some(found) = known.get(&dir) {
                break found.clone();
            }
            walked.push(dir.clone());
            let candidate = dir.join(FILE_NAME);
            if candidate.is_file() {
                break Some(candidate);
            }
            if dir.join(".git").exists() || !dir.pop() {
                break None;
            }
        };
        for dir in walked {
            known.insert(dir, found.clone());
        }
        found
    }

    /// Reads a config file. Unknown keys and bad values are errors (exit 2).
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = crate::source::read_text(path)
            .map_err(|e| ConfigError(format!("{}: {e}", path.display())))?;
        let root_dir = parent_dir(path).to_path_buf();
        let mut config = Self::parse(&text, path, root_dir)?;
        config.source = std::fs::canonicalize(path).ok();
        Ok(config)
    }

    pub fn parse(text: &str, path: &Path, root: PathBuf) -> Result<Self, ConfigError> {
        let doc = yaml::parse_document(text).map_err(|e| {
            let (line, col) = crate::source::SourceFile::new(path, text).line_col(e.span.start);
            ConfigError(format!("{}:{line}:{col}: {}", path.display(), e.message))
        })?;
        let err = |node: &Node, message: String| {
            let (line, col) = crate::source::SourceFile::new(path, text).line_col(node.span.start);
            ConfigError(format!("{}:{line}:{col}: {message}", path.display()))
        };
        let mut config = Self {
            root,
            ..Self::default()
        };
        for (key, value) in doc.as_map().unwrap_or_default() {
            match key.as_str().unwrap_or_default() {
                "context" => config.context = parse_context(value, &err)?,
                "lint" => parse_lint(value, &mut config, &err)?,
                "exclude" => config.exclude = globs(value, &err)?,
                "clusters" => config.clusters = folder_globs(value, &err)?,
                "shared" => config.shared = globs(value, &err)?,
                other => {
                    return Err(err(
                        key,
                        format!(
                            "unknown key `{other}`: expected context, lint, exclude, clusters or shared"
                        ),
                    ));
                }
            }
        }
        Ok(config)
    }
}

/// The folder of a file; `.` for a bare file name (whose `parent()` is empty).
fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    }
}

type ErrFn<'a> = dyn Fn(&Node, String) -> ConfigError + 'a;

fn strings(node: &Node, err: &ErrFn<'_>) -> Result<Vec<String>, ConfigError> {
    node.as_seq()
        .ok_or_else(|| err(node, format!("expected a list, found {}", node.type_name())))?
        .iter()
        .map(|n| {
            n.scalar_text()
                .ok_or_else(|| err(n, "expected a string".into()))
        })
        .collect()
}

fn glob(pattern: &str, node: &Node, err: &ErrFn<'_>) -> Result<GlobMatcher, ConfigError> {
    Glob::new(pattern)
        .map(|g| g.compile_matcher())
        .map_err(|e| err(node, format!("invalid glob `{pattern}`: {e}")))
}

fn globs(node: &Node, err: &ErrFn<'_>) -> Result<Vec<GlobMatcher>, ConfigError> {
    let patterns = strings(node, err)?;
    patterns.iter().map(|p| glob(p, node, err)).collect()
}

/// Globs naming folders: `*` stays within one path segment (`clusters/*` is not
/// `clusters/a/talos`).
fn folder_globs(node: &Node, err: &ErrFn<'_>) -> Result<Vec<GlobMatcher>, ConfigError> {
    let patterns = strings(node, err)?;
    patterns
        .iter()
        .map(|pattern| {
            GlobBuilder::new(pattern)
                .literal_separator(true)
                .build()
                .map(|g| g.compile_matcher())
                .map_err(|e| err(node, format!("invalid glob `{pattern}`: {e}")))
        })
        .collect()
}

fn codes(node: &Node, err: &ErrFn<'_>) -> Result<Vec<String>, ConfigError> {
    let codes = strings(node, err)?;
    for code in &codes {
        let known = code.eq_ignore_ascii_case("ALL")
            || super::all_meta()
                .iter()
                .any(|m| m.code.starts_with(&code.to_ascii_uppercase()));
        if !known {
            return Err(err(
                node,
                format!("`{code}` is not a rule code or prefix (see `talhorn rules`)"),
            ));
        }
    }
    Ok(codes)
}

fn parse_context(node: &Node, err: &ErrFn<'_>) -> Result<Context, ConfigError> {
    let mut context = Context::default();
    for (key, value) in node.as_map().unwrap_or_default() {
        let text = value.scalar_text();
        match key.as_str().unwrap_or_default() {
            "talos" => context.talos = text,
            "longhorn" => context.longhorn = text,
            "proxmox" => {
                context.proxmox = match value.as_i64() {
                    Some(8) => Some(8),
                    Some(9) => Some(9),
                    _ => return Err(err(value, "proxmox must be 8 or 9".into())),
                }
            }
            "gitops" => match text.as_deref() {
                Some("none" | "flux" | "argocd") => context.gitops = text,
                _ => return Err(err(value, "gitops must be none, flux or argocd".into())),
            },
            other => {
                return Err(err(
                    key,
                    format!(
                        "unknown context key `{other}`: expected talos, longhorn, proxmox or gitops"
                    ),
                ));
            }
        }
    }
    Ok(context)
}

fn parse_lint(node: &Node, config: &mut LintConfig, err: &ErrFn<'_>) -> Result<(), ConfigError> {
    for (key, value) in node.as_map().unwrap_or_default() {
        match key.as_str().unwrap_or_default() {
            "select" => config.select = codes(value, err)?,
            "ignore" => config.ignore = codes(value, err)?,
            "severity" => {
                for (code, level) in value.as_map().unwrap_or_default() {
                    let code_text = code.scalar_text().unwrap_or_default().to_ascii_uppercase();
                    if super::meta(&code_text).is_none() {
                        return Err(err(code, format!("`{code_text}` is not a rule code")));
                    }
                    let severity = level.as_str().and_then(Severity::parse).ok_or_else(|| {
                        err(level, "severity must be error, warning or info".into())
                    })?;
                    config.severity.insert(code_text, severity);
                }
            }
            "per-path-ignores" => {
                for (pattern, list) in value.as_map().unwrap_or_default() {
                    let text = pattern.scalar_text().unwrap_or_default();
                    config
                        .per_path_ignores
                        .push((glob(&text, pattern, err)?, codes(list, err)?));
                }
            }
            other => {
                return Err(err(
                    key,
                    format!(
                        "unknown lint key `{other}`: expected select, ignore, severity or per-path-ignores"
                    ),
                ));
            }
        }
    }
    Ok(())
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    /// A folder's listing only tells what is absent: a name it holds is still looked at on
    /// disk. A dangling `.talhorn.yaml` symlink is no configuration, and a `.git` file (a
    /// worktree's) still ends the walk up.
    #[cfg(unix)]
    #[test]
    fn listed_names_are_still_looked_at_on_disk() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("repo/a/b")).unwrap();
        std::fs::write(root.join(FILE_NAME), "").unwrap();
        std::fs::write(root.join("repo/.git"), "gitdir: elsewhere\n").unwrap();
        std::os::unix::fs::symlink(
            root.join("missing.yaml"),
            root.join("repo/a").join(FILE_NAME),
        )
        .unwrap();
        let listings = Listings::default();
        assert!(listings.may_hold(&root.join("repo/a"), FILE_NAME));
        let mut folders = Folders::new(&listings);
        // Not the dangling link in `a/`, and not the configuration above the repository.
        assert_eq!(folders.nearest(&root.join("repo/a/b")), None);
        assert_eq!(LintConfig::discover(&root.join("repo/a/b")), None);
        std::fs::write(root.join("repo").join(FILE_NAME), "").unwrap();
        let listings = Listings::default();
        let found = Folders::new(&listings).nearest(&root.join("repo/a/b"));
        let real = std::fs::canonicalize(root.join("repo")).unwrap();
        assert_eq!(found, Some(real.join(FILE_NAME)));
    }

    /// Going up the folders as the path spells them finds what resolving the whole path
    /// finds, through a symlink too: `a/link/sub` is under `outer/elsewhere/`, so it takes
    /// `outer/`'s configuration, not `a/`'s.
    #[test]
    fn folders_find_the_configuration_of_their_real_parents() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        for folder in [".git", "a/b/c", "outer/elsewhere/sub", "plain/d"] {
            std::fs::create_dir_all(root.join(folder)).unwrap();
        }
        std::fs::write(root.join("a").join(FILE_NAME), "").unwrap();
        std::fs::write(root.join("outer").join(FILE_NAME), "").unwrap();
        std::os::unix::fs::symlink(root.join("outer/elsewhere"), root.join("a/link")).unwrap();
        let real = std::fs::canonicalize(root).unwrap();
        let cases = [
            ("a/link/sub", Some(real.join("outer").join(FILE_NAME))),
            ("a/b/c", Some(real.join("a").join(FILE_NAME))),
            ("a/b/c/../..", Some(real.join("a").join(FILE_NAME))),
            ("plain/d", None),
            ("missing", None),
        ];
        let listings = Listings::default();
        let mut folders = Folders::new(&listings);
        for (folder, expected) in cases {
            let path = root.join(folder);
            assert_eq!(folders.nearest(&path), expected, "{folder}");
            assert_eq!(LintConfig::discover(&path), expected, "{folder}");
        }
        // A repository root stops the walk.
        std::fs::create_dir_all(root.join("a/b/.git")).unwrap();
        let listings = Listings::default();
        assert_eq!(Folders::new(&listings).nearest(&root.join("a/b/c")), None);
    }
}

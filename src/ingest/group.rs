//! Grouping files into clusters, after they are read and before any fact is joined.
//!
//! Every cross-file join (a VM to its Talos node, a patch to the Longhorn values, two VMs with
//! one vmid) happens inside one cluster, so a repository of many clusters is linted as many
//! repositories. A cluster is:
//! - an intent, or an Omni cluster template (with the patch files it names);
//! - the files under a *cluster root*: a folder with its own `.talhorn.yaml`, a talhelper
//!   `talconfig.yaml`, a Terraform root module or an intent (a marker inside a layer folder such
//!   as `talos/`, `terraform/` or `bootstrap/talos/` makes the folder above them the root); a
//!   folder `clusters/<name>/`;
//!   or a folder matching `clusters:` in `.talhorn.yaml`. A file belongs to the nearest root
//!   above it.
//! - the files under no root (the repository's own cluster).
//!
//! Files above every cluster root that `.talhorn.yaml` lists under `shared:` belong to every
//! cluster. Nothing here depends on the walk: a cluster folder linted alone finds the same root
//! and so the same files, and gives the same findings.

use super::classify::{self, Kind};
use crate::fast_hash::FastMap;
use crate::rules::LintConfig;
use crate::source::{Listing, Listings};
use globset::GlobMatcher;
use std::ffi::OsString;
use std::path::{Component, Path, PathBuf};

/// What grouping needs to know about one file: ingest's own records answer it, so grouping
/// does not need a list of its own (one more record per file at the peak of a lint's memory).
pub trait GroupFile {
    fn path(&self) -> &Path;
    fn kind(&self) -> Kind;
    /// Files an Omni template names in its `patches` (relative to the template's folder).
    fn references(&self) -> &[PathBuf];
    /// Terraform text that configures a provider or backend ([`declares_root_module`]), as
    /// the read step found it, so grouping does not read the file again.
    fn declares_root_module(&self) -> bool;
}

/// One cluster: its name, its root folder and its members (indexes into the files).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    pub name: String,
    pub root: PathBuf,
    pub members: Vec<usize>,
    /// The files under no cluster root (the repository's own cluster).
    pub unrooted: bool,
}

/// Where a file belongs.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum Unit {
    /// A folder that is a cluster root.
    Dir(PathBuf),
    /// A file that is a cluster by itself (an intent beside another intent, an Omni template).
    File(usize),
}

/// Groups `files` into clusters. `config` is the configuration of the run (its `clusters:` and
/// `shared:` globs are relative to its root).
pub fn group(files: &[impl GroupFile], config: &LintConfig, listings: &Listings) -> Vec<Group> {
    let mut roots = Roots::new(files, config, listings);
    let mut referenced: FastMap<PathBuf, Vec<usize>> = FastMap::default();
    for (index, file) in files.iter().enumerate() {
        for reference in file.references() {
            referenced
                .entry(normalize(reference))
                .or_default()
                .push(index);
        }
    }
    let mut units = Units::default();
    let mut shared = Vec::new();
    let mut unrooted = Vec::new();
    // Files come in path order: the files of a folder share its nearest root, looked up once.
    let mut folder_unit: Option<(&Path, Option<usize>)> = None;
    for (index, file) in files.iter().enumerate() {
        let templates = (!referenced.is_empty())
            .then(|| referenced.get(&normalize(file.path())))
            .flatten();
        if let Some(templates) = templates {
            for &template in templates {
                units.add(Unit::File(template), index);
            }
            continue;
        }
        if is_own_cluster(file, &roots) {
            units.add(Unit::File(index), index);
            continue;
        }
        if roots.is_shared(file.path()) {
            shared.push(index);
            continue;
        }
        let folder = file.path().parent();
        let unit = match folder_unit {
            Some((known, unit)) if Some(known) == folder => unit,
            _ => {
                let unit = roots
                    .nearest(file.path())
                    .map(|root| units.slot(Unit::Dir(root)));
                folder_unit = folder.map(|folder| (folder, unit));
                unit
            }
        };
        match unit {
            Some(slot) => units.members[slot].1.push(index),
            None => unrooted.push(index),
        }
    }
    // In the order of the units, as before (the groups are sorted by name below).
    let mut units = units.members;
    units.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    let mut groups: Vec<Group> = units
        .into_iter()
        .map(|(unit, members)| match unit {
            Unit::Dir(root) => Group {
                name: display(&root),
                root,
                members,
                unrooted: false,
            },
            Unit::File(index) => Group {
                name: display(files[index].path()),
                root: files[index]
                    .path()
                    .parent()
                    .map(Path::to_path_buf)
                    .unwrap_or_default(),
                members,
                unrooted: false,
            },
        })
        .collect();
    if !unrooted.is_empty() || groups.is_empty() {
        let root = common_folder(unrooted.iter().map(|&i| files[i].path()));
        groups.push(Group {
            name: display(&root),
            root,
            members: unrooted,
            unrooted: true,
        });
    }
    for group in &mut groups {
        group.members.extend(&shared);
        group.members.sort_unstable();
        group.members.dedup();
    }
    groups.retain(|g| !g.members.is_empty());
    groups.sort_by(|a, b| a.name.cmp(&b.name).then(a.members.cmp(&b.members)));
    groups
}

/// Units and their members, each unit in one slot.
#[derive(Default)]
struct Units {
    members: Vec<(Unit, Vec<usize>)>,
    slots: FastMap<Unit, usize>,
}

impl Units {
    fn slot(&mut self, unit: Unit) -> usize {
        *self.slots.entry(unit).or_insert_with_key(|unit| {
            self.members.push((unit.clone(), Vec::new()));
            self.members.len() - 1
        })
    }

    fn add(&mut self, unit: Unit, member: usize) {
        let slot = self.slot(unit);
        self.members[slot].1.push(member);
    }
}

/// An Omni template is always a cluster of its own; an intent is one unless it is the only
/// intent in its folder (then the folder, intent included, is the cluster).
fn is_own_cluster(file: &impl GroupFile, roots: &Roots) -> bool {
    match file.kind() {
        Kind::OmniTemplate => true,
        Kind::Intent => file
            .path()
            .parent()
            .is_some_and(|dir| roots.intents_in(dir) > 1),
        _ => false,
    }
}

/// What the walk up from a file needs to know of a folder.
#[derive(Debug, Clone, Copy)]
struct Folder {
    cluster_root: bool,
    /// Holds `.git`: the walk goes no higher.
    repository_root: bool,
}

/// Decides which folders are cluster roots (each folder as the paths spell it is looked at
/// once: a folder spelled two ways, by two paths on the command line, is looked at twice).
struct Roots<'l> {
    /// Every read Terraform file (lexically normalized) and whether it declares a root module.
    terraform: FastMap<PathBuf, bool>,
    /// The nearest root at or above a folder (as the paths spell it, by bytes), once found:
    /// an index into `found`, so that each folder below a root does not hold a copy of it.
    nearest: FastMap<OsString, Option<usize>>,
    /// The roots `nearest` found.
    found: Vec<PathBuf>,
    /// Intents per folder (a folder holding an intent is a root).
    intents: FastMap<PathBuf, usize>,
    config_root: PathBuf,
    clusters: Vec<GlobMatcher>,
    shared: Vec<GlobMatcher>,
    cwd: PathBuf,
    /// The names in folders, shared with the other stages of the run.
    listings: &'l Listings,
}

impl<'l> Roots<'l> {
    fn new(files: &[impl GroupFile], config: &LintConfig, listings: &'l Listings) -> Self {
        let cwd = std::env::current_dir().unwrap_or_default();
        let mut intents: FastMap<PathBuf, usize> = FastMap::default();
        for file in files.iter().filter(|f| f.kind() == Kind::Intent) {
            let dir = normalize(file.path().parent().unwrap_or(Path::new("")));
            *intents.entry(dir).or_default() += 1;
        }
        let terraform = files
            .iter()
            .filter(|f| f.kind() == Kind::Terraform)
            .map(|f| (normalize(f.path()), f.declares_root_module()))
            .collect();
        Self {
            terraform,
            nearest: FastMap::default(),
            found: Vec::new(),
            intents,
            config_root: normalize(&cwd.join(&config.root)),
            clusters: config.clusters.clone(),
            shared: config.shared.clone(),
            cwd,
            listings,
        }
    }

    fn intents_in(&self, dir: &Path) -> usize {
        if self.intents.is_empty() {
            return 0;
        }
        self.intents.get(&normalize(dir)).copied().unwrap_or(0)
    }

    /// The nearest cluster root above `path`, up to the repository root (the folder with
    /// `.git`) or the top of the path. The answer is remembered for every folder on the way
    /// up, so each folder is looked at once, not once per file below it.
    fn nearest(&mut self, path: &Path) -> Option<PathBuf> {
        let mut walked = Vec::new();
        let mut dir = path.parent();
        let found = loop {
            let Some(at) = dir else { break None };
            let at = if at.as_os_str().is_empty() {
                Path::new(".")
            } else {
                at
            };
            if let Some(&found) = self.nearest.get(at.as_os_str()) {
                break found;
            }
            walked.push(at.as_os_str().to_owned());
            let folder = self.folder(at);
            if folder.cluster_root {
                self.found.push(at.to_path_buf());
                break Some(self.found.len() - 1);
            }
            if folder.repository_root || at == Path::new(".") {
                break None;
            }
            dir = at.parent();
        };
        for dir in walked {
            self.nearest.insert(dir, found);
        }
        found.map(|index| self.found[index].clone())
    }

    /// Whether `dir` is a cluster root and whether it is a repository root, from one listing
    /// of it (the names `.talhorn.yaml` and `.git` are looked for there, not asked of the
    /// file system one by one).
    fn folder(&self, dir: &Path) -> Folder {
        let key = normalize(&self.cwd.join(dir));
        let listing = self.listings.of(dir);
        let may_hold = |name: &str| listing.as_ref().is_none_or(|names| names.holds(name));
        let config_file = crate::rules::config::FILE_NAME;
        let has_config = may_hold(config_file) && dir.join(config_file).is_file();
        Folder {
            cluster_root: self.intents_in(dir) == 1
                || has_config
                || is_conventional_cluster_folder(&key)
                || self.declared(&key)
                || self.marks_root(dir, listing.as_deref()),
            repository_root: may_hold(".git") && dir.join(".git").exists(),
        }
    }

    /// A folder matching `clusters:` in `.talhorn.yaml`.
    fn declared(&self, absolute: &Path) -> bool {
        declared(&self.clusters, &self.config_root, absolute)
    }

    /// A file `.talhorn.yaml` lists under `shared:` (it belongs to every cluster).
    fn is_shared(&self, path: &Path) -> bool {
        if self.shared.is_empty() {
            return false;
        }
        let absolute = normalize(&self.cwd.join(path));
        absolute
            .strip_prefix(&self.config_root)
            .is_ok_and(|relative| self.shared.iter().any(|g| g.is_match(relative)))
    }
}

/// Which folders are cluster roots whatever their files and the files around them, so that
/// a lint may read each apart from the rest of the repository
/// ([`super::discover_apart`]).
pub struct RootsByName {
    cwd: PathBuf,
    config_root: PathBuf,
    clusters: Vec<GlobMatcher>,
}

impl RootsByName {
    pub fn new(config: &LintConfig) -> Self {
        let cwd = std::env::current_dir().unwrap_or_default();
        Self {
            config_root: normalize(&cwd.join(&config.root)),
            clusters: config.clusters.clone(),
            cwd,
        }
    }

    /// Whether `dir` (whose names are `listing`) is a cluster root by its path
    /// (`clusters/<name>/`, a `clusters:` glob), its own `.talhorn.yaml` or a root marker known
    /// by its name alone (a `talconfig.yaml`, a Terraform lock or variables file): then every
    /// file below it belongs to a cluster rooted in it, whatever else is in the repository,
    /// and no folder outside it is a root by what it holds ([`Roots::folder`]). A layer folder
    /// is never one: the folder above it looks into it for root markers.
    pub fn is_root(&self, dir: &Path, listing: &Listing) -> bool {
        if is_layer_folder(dir) {
            return false;
        }
        let config_file = crate::rules::config::FILE_NAME;
        let key = normalize(&self.cwd.join(dir));
        let in_modules = is_in_modules(dir);
        is_conventional_cluster_folder(&key)
            || self.declared(&key)
            || (listing.holds(config_file) && dir.join(config_file).is_file())
            || listing.names().any(|name| {
                name.to_str()
                    .is_some_and(|name| is_root_marker_name(name, in_modules))
            })
    }

    fn declared(&self, absolute: &Path) -> bool {
        declared(&self.clusters, &self.config_root, absolute)
    }
}

/// Whether the folder `absolute` matches one of the `clusters:` globs (relative to
/// `config_root`).
fn declared(clusters: &[GlobMatcher], config_root: &Path, absolute: &Path) -> bool {
    if clusters.is_empty() {
        return false;
    }
    let Ok(relative) = absolute.strip_prefix(config_root) else {
        return false;
    };
    !relative.as_os_str().is_empty() && clusters.iter().any(|g| g.is_match(relative))
}

/// `clusters/<name>/`: the layout Flux and most GitOps repositories use for several clusters.
fn is_conventional_cluster_folder(dir: &Path) -> bool {
    dir.parent()
        .and_then(Path::file_name)
        .is_some_and(|parent| parent == "clusters")
}

/// Folders that hold one layer of a cluster's repository. A root marker in one of them
/// (`talos/talconfig.yaml`, `terraform/main.tf` with its provider) makes the folder *above* it
/// the cluster root, so the cluster's other layers (`kubernetes/`, `proxmox/`) join it: a
/// single-cluster repository stays one cluster. A layer folder is never a root itself, and a
/// layer folder in a layer folder counts for the folder above both: the cluster template's
/// `kubernetes/bootstrap/talos/talconfig.yaml` makes `kubernetes/` the root, beside
/// `kubernetes/apps/`.
const LAYER_FOLDERS: &[&str] = &[
    "talos",
    "talhelper",
    "terraform",
    "tofu",
    "opentofu",
    "infra",
    "bootstrap",
];

/// How deep layer folders are looked into for a root marker (`bootstrap/talos/`).
const LAYER_DEPTH: usize = 2;

fn is_layer_folder(dir: &Path) -> bool {
    dir.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|name| LAYER_FOLDERS.contains(&name))
}

impl Roots<'_> {
    /// Whether `dir` is a cluster root by its marker files: its own (unless it is a layer
    /// folder), or those of a layer folder inside it. `dir` is listed once; a layer folder
    /// its listing does not show is not looked for (one failed open each, for every folder
    /// above every file, otherwise).
    fn marks_root(&self, dir: &Path, listing: Option<&Listing>) -> bool {
        !is_layer_folder(dir)
            && (listing.is_some_and(|names| self.has_root_marker_file(dir, names))
                || self.layer_marks_root(dir, listing, LAYER_DEPTH))
    }

    /// Whether a layer folder in `dir` (or, `depth` deep, one in it) holds a root marker.
    fn layer_marks_root(&self, dir: &Path, listing: Option<&Listing>, depth: usize) -> bool {
        let has_layer = |layer: &str| listing.is_none_or(|names| names.holds(layer));
        depth > 0
            && LAYER_FOLDERS.iter().any(|layer| {
                has_layer(layer) && {
                    let layer = dir.join(layer);
                    let names = self.listings.of(&layer);
                    names
                        .as_deref()
                        .is_some_and(|names| self.has_root_marker_file(&layer, names))
                        || (names.is_some()
                            && self.layer_marks_root(&layer, names.as_deref(), depth - 1))
                }
            })
    }

    /// Whether `names` (the files of `dir`) hold a talhelper `talconfig.yaml`, or a
    /// Terraform/OpenTofu root module: a `.tf` file with a `provider` or `backend` block, a
    /// lock file or a `*.tfvars` (a module under `modules/` is never a root: the root module
    /// that calls it is). A `.tf` file the run read is not read again; one outside the lint
    /// set (a folder above the linted one) is.
    fn has_root_marker_file(&self, dir: &Path, listing: &Listing) -> bool {
        let in_modules = is_in_modules(dir);
        listing.names().any(|name| {
            let name = name.to_str().unwrap_or_default();
            is_root_marker_name(name, in_modules)
                || (!in_modules && name.ends_with(".tf") && {
                    let path = dir.join(name);
                    self.terraform.get(&normalize(&path)).map_or_else(
                        || {
                            super::discover::read_text(&path)
                                .is_ok_and(|text| declares_root_module(&text))
                        },
                        |&declares| declares,
                    )
                })
        })
    }
}

/// A module under `modules/` is never a root: the root module that calls it is.
fn is_in_modules(dir: &Path) -> bool {
    dir.components().any(|c| c.as_os_str() == "modules")
}

/// Whether a file of this name makes its folder a cluster root, whatever it holds: a
/// talhelper `talconfig.yaml`, or a Terraform lock file or variables file of a root module
/// (`in_modules`: the folder is below `modules/`, where only a talconfig counts).
fn is_root_marker_name(name: &str, in_modules: bool) -> bool {
    classify::is_talconfig_name(name)
        || (!in_modules
            && (name == ".terraform.lock.hcl"
                || name == "terraform.tfvars"
                || name.ends_with(".auto.tfvars")))
}

/// Whether Terraform text configures a provider or a backend (what only a root module does).
pub fn declares_root_module(text: &str) -> bool {
    text.lines().map(str::trim_start).any(|line| {
        line.starts_with("provider \"")
            || line.starts_with("backend \"")
            || line.starts_with("cloud {")
    })
}

/// The deepest folder holding every path (the folder of the run for no path at all).
fn common_folder<'p>(paths: impl Iterator<Item = &'p Path>) -> PathBuf {
    let mut common: Option<PathBuf> = None;
    for path in paths {
        let dir = path.parent().unwrap_or(Path::new(""));
        common = Some(match common {
            None => dir.to_path_buf(),
            Some(current) => current
                .ancestors()
                .find(|a| dir.starts_with(a))
                .map(Path::to_path_buf)
                .unwrap_or_default(),
        });
    }
    common.unwrap_or_default()
}

/// A cluster's name: its root as the reports show paths (relative to the working folder).
fn display(path: &Path) -> String {
    crate::source::display_path(path, &std::env::current_dir().unwrap_or_default())
}

/// The path from the filesystem root, resolved lexically (as configuration roots are).
pub fn absolute(path: &Path) -> PathBuf {
    normalize(&std::env::current_dir().unwrap_or_default().join(path))
}

/// Drops `.` components and resolves `..` lexically (no filesystem access).
pub fn normalize(path: &Path) -> PathBuf {
    // Most paths are spelled so already (a walk's are): their bytes tell, without rebuilding
    // them component by component (grouping normalizes every folder above every file).
    if is_normal(path) {
        return path.to_path_buf();
    }
    rebuilt(path)
}

/// Whether [`normalize`] gives `path` back as it is: a Unix path without a `.`, `..` or empty
/// component (`//`, a trailing `/`), the root's aside.
fn is_normal(path: &Path) -> bool {
    let bytes = path.as_os_str().as_encoded_bytes();
    cfg!(unix)
        && bytes.len() > 1
        && bytes
            .split(|&byte| byte == b'/')
            .enumerate()
            .all(|(at, component)| match component {
                b"." | b".." => false,
                // Only the root's: an absolute path starts with the separator.
                b"" => at == 0,
                _ => true,
            })
}

/// [`normalize`], component by component.
fn rebuilt(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A file to group, spelled out.
    struct Member<'a> {
        path: &'a Path,
        kind: Kind,
        references: Vec<PathBuf>,
        declares_root_module: bool,
    }

    impl GroupFile for Member<'_> {
        fn path(&self) -> &Path {
            self.path
        }

        fn kind(&self) -> Kind {
            self.kind
        }

        fn references(&self) -> &[PathBuf] {
            &self.references
        }

        fn declares_root_module(&self) -> bool {
            self.declares_root_module
        }
    }

    #[test]
    fn terraform_root_modules_configure_a_provider_or_backend() {
        assert!(declares_root_module(
            "terraform {\n  backend \"s3\" {}\n}\n"
        ));
        assert!(declares_root_module("provider \"proxmox\" {\n}\n"));
        assert!(!declares_root_module(
            "variable \"x\" {}\nresource \"a\" \"b\" {}\n"
        ));
    }

    /// The read step says whether a `.tf` file declares a root module; grouping takes its word
    /// instead of reading the file again (here the file on disk says otherwise, to tell).
    #[test]
    fn a_read_terraform_file_is_not_read_again_to_find_roots() {
        let repo = tempfile::tempdir().unwrap();
        let root = repo.path();
        std::fs::create_dir_all(root.join(".git")).unwrap();
        std::fs::create_dir_all(root.join("a")).unwrap();
        std::fs::create_dir_all(root.join("b")).unwrap();
        std::fs::write(root.join("a/main.tf"), "resource \"x\" \"y\" {}\n").unwrap();
        let (tf, x, y) = (
            root.join("a/main.tf"),
            root.join("a/x.yaml"),
            root.join("b/y.yaml"),
        );
        let member = |path, kind, declares_root_module| Member {
            path,
            kind,
            references: Vec::new(),
            declares_root_module,
        };
        let groups = |declares| {
            let files = [
                member(&tf, Kind::Terraform, declares),
                member(&x, Kind::Manifests, false),
                member(&y, Kind::Manifests, false),
            ];
            group(&files, &LintConfig::default(), &Listings::default())
                .into_iter()
                .map(|g| g.members)
                .collect::<Vec<_>>()
        };
        assert_eq!(groups(true), vec![vec![0, 1], vec![2]]);
        assert_eq!(groups(false), vec![vec![0, 1, 2]]);
    }

    #[test]
    fn normal_paths_are_given_back_as_a_rebuild_would_give_them() {
        let paths = [
            "a",
            "a/b",
            "/a/b",
            "/",
            "",
            ".",
            "..",
            "./a",
            "a/.",
            "a/./b",
            "a/../b",
            "../a",
            "a//b",
            "a/",
            "//a",
            "/a/b/",
            ".a/b.",
            "a/..b/c",
            "a/.../b",
            "clusters/c000/talos",
        ];
        for path in paths {
            let path = Path::new(path);
            assert_eq!(normalize(path), rebuilt(path), "{}", path.display());
        }
        assert!(is_normal(Path::new("clusters/c000/talos")));
        assert!(is_normal(Path::new("/work/repo")));
        assert!(!is_normal(Path::new("a/../b")));
    }

    #[test]
    fn common_folder_is_the_deepest_shared_parent() {
        let paths = [Path::new("r/a/x.yaml"), Path::new("r/a/b/y.yaml")];
        assert_eq!(common_folder(paths.into_iter()), PathBuf::from("r/a"));
        let paths = [Path::new("r/a/x.yaml"), Path::new("r/c/y.yaml")];
        assert_eq!(common_folder(paths.into_iter()), PathBuf::from("r"));
    }
}

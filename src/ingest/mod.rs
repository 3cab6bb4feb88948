//! Reading a repository into cluster models: discover files, recognise their kind, parse them
//! (with spans), group them into clusters, and turn each cluster's facts into a
//! [`crate::model::Cluster`].
//!
//! Three steps, in this order: [`read_files`] reads and recognises every file on its own
//! ([`discover`], [`classify`]); [`group`] decides which cluster each file belongs to; then one
//! [`RepoReader`] per cluster turns its files into facts. Facts that depend on other files (a
//! node's role, a VM's storage-node status, disk roles, how values are read for a chart
//! version) are settled in [`RepoReader::finish`], inside one cluster only, with hash maps so
//! that joins stay linear in the number of files.

mod classify;
mod discover;
mod embedded;
mod group;
mod ignore_rules;
mod intent;
mod longhorn;
mod preload;
mod proxmox;
mod talhelper;
mod talos;
mod terraform;
#[cfg(all(test, unix))]
mod walk_vs_ignore;
mod yaml_facts;

pub use classify::Kind;
pub use discover::{
    Discovered, MAX_FILE_BYTES, SetApart, discover, discover_apart, discover_set_apart,
};
pub use group::RootsByName;

use crate::finding::{Finding, Severity};
use crate::intent::{GitOps, Role};
use crate::knowledge::longhorn::ChartVersion;
use crate::load::{interfaces, qmconf, storage_cfg};
use crate::model::{Cluster, Scope, TalosNode};
use crate::rules::LintConfig;
use crate::source::{Fact, FileId, Listings, Location, SourceFile, SourceMap, Span};
use crate::yaml::{self, Node};
use classify::Reads;
use rayon::prelude::*;
use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A problem that stops linting altogether (exit 2): a path that does not exist, or a
/// cluster's `.talhorn.yaml` that cannot be used.
#[derive(Debug)]
pub struct IngestError(pub String);

impl std::fmt::Display for IngestError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Everything read from the linted paths; `C` is what became of each cluster's model.
#[derive(Debug)]
pub struct Ingested<C = ClusterInput> {
    /// Every file read, shared by the clusters (a `FileId` means the same file in each). A
    /// file read only for its cluster has its place here but its text only in the cluster's
    /// map ([`SourceMap::with_texts`]), unless [`ingest`] keeps it.
    pub sources: SourceMap,
    pub clusters: Vec<C>,
    /// Every file considered, in path order, with what it was read as (empty unless asked
    /// for: [`ingest_each`]'s `list_files`).
    pub files: Vec<FileEntry>,
    /// Whether a file of some cluster holds something talhorn checks ("All checks passed"
    /// means nothing otherwise).
    pub recognised_any: bool,
    /// Special files (FIFOs, devices, sockets) found in a tree and not read, with what they are.
    pub skipped: Vec<(PathBuf, String)>,
    /// Whether what was read needs nothing outside it: no Omni template names a patch that is
    /// not among the files, and no build manifest lists one of the files without an intent
    /// among them (with one elsewhere in the repository, the generated files would be
    /// skipped). Files read apart from the rest of their repository ([`ingest_discovered_each`])
    /// give the findings of the whole repository only when this holds.
    pub self_contained: bool,
    /// Whether some files are under no cluster root (the repository's own cluster).
    pub unrooted_files: bool,
}

/// One cluster's model, and its own configuration when its folder has a `.talhorn.yaml` other
/// than the run's.
#[derive(Debug)]
pub struct ClusterInput {
    pub name: String,
    pub root: PathBuf,
    pub cluster: Cluster,
    pub config: Option<LintConfig>,
    /// Its files, in path order.
    pub files: Vec<FileId>,
}

/// A file as `--show-files` lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileEntry {
    pub path: Arc<Path>,
    pub kind: Kind,
    /// The clusters it was read into (several for a shared file), their names shared.
    pub clusters: Vec<Arc<str>>,
}

/// Reads every recognised file under `paths` into one model per cluster.
///
/// A path that does not exist is an [`IngestError`]. Files that cannot be read (binary,
/// not UTF-8, too large, unreadable, a symlink loop) and files that do not parse become INT001
/// findings in their cluster's [`Cluster::load_findings`]; everything else is still read.
pub fn ingest(paths: &[PathBuf], config: &LintConfig) -> Result<Ingested, IngestError> {
    ingest_with_stdin(paths, None, config)
}

/// Whether talhorn can tell a file's kind from its name (standard input needs such a name).
pub fn is_known_name(path: &Path) -> bool {
    classify::by_name(path).reads != Reads::Nothing
}

/// [`ingest`], plus standard input read as a file named `stdin` (`talhorn lint -`).
pub fn ingest_with_stdin(
    paths: &[PathBuf],
    stdin: Option<&Path>,
    config: &LintConfig,
) -> Result<Ingested, IngestError> {
    let mut ingested = ingest_each(paths, stdin, config, true, |_, _| (), |input, ()| Ok(input))?;
    // The texts read for each cluster, in the run's map for good.
    let texts: Vec<_> = ingested
        .clusters
        .iter()
        .flat_map(|input| input.cluster.sources.own_texts().iter().cloned())
        .collect();
    ingested.sources.keep_texts(texts);
    Ok(ingested)
}

/// Reads every recognised file under `paths` (and standard input, named `stdin`) into one
/// model per cluster, and hands each model to `each` on the worker that folded it, as soon as
/// it is folded: the clusters of a large repository are not all held at once. The first error
/// in cluster order stops the run. `prepare` runs once on the run's source map (the place of
/// every file a finding may point into), beside grouping, and `each` gets what it made. The
/// list of the files considered ([`Ingested::files`]) is made only with `list_files`: a run
/// that does not show it does not hold a record per file for it.
pub fn ingest_each<C: Send, P: Send + Sync>(
    paths: &[PathBuf],
    stdin: Option<&Path>,
    config: &LintConfig,
    list_files: bool,
    prepare: impl FnOnce(&SourceMap, &Listings) -> P + Send,
    each: impl Fn(ClusterInput, &P) -> Result<C, IngestError> + Sync,
) -> Result<Ingested<C>, IngestError> {
    let discovered = discover::discover(paths, config)?;
    ingest_discovered_each(discovered, stdin, config, list_files, prepare, each)
}

/// [`ingest_each`] of the files a walk found ([`discover_apart`], [`discover_set_apart`]).
pub fn ingest_discovered_each<C: Send, P: Send + Sync>(
    mut discovered: Discovered,
    stdin: Option<&Path>,
    config: &LintConfig,
    list_files: bool,
    prepare: impl FnOnce(&SourceMap, &Listings) -> P + Send,
    each: impl Fn(ClusterInput, &P) -> Result<C, IngestError> + Sync,
) -> Result<Ingested<C>, IngestError> {
    // The folders every stage up to grouping asks about, each listed once: by the walk, or now
    // in parallel (those above the walked roots, and those of files named alone).
    let listed = std::mem::take(&mut discovered.listed);
    let (folders, listings) = yaml::on_workers(|| {
        let folders = crate::source::folders_and_above(&discovered.files);
        let listings = Listings::of_folders(&folders, listed);
        (folders, listings)
    });
    let (generated, listed_without_intent) =
        generated_files(&discovered.files, &folders, &listings);
    drop(folders);
    let mut sources = SourceMap::default();
    // Each read file takes its path from the walk's list.
    let mut files = read_files(
        discovered.files,
        generated,
        discovered.problems,
        &mut sources,
    );
    let skipped = discovered.skipped;
    if let Some(name) = stdin {
        let text = discover::read_text_from(std::io::stdin().lock());
        files.push(recognise(preload::from_text(name, text)).register(&mut sources));
        files.sort_by(|a, b| a.path.cmp(&b.path));
    }
    let self_contained = !listed_without_intent && !names_patches_elsewhere(&files);
    let (mut groups, prepared) = yaml::on_workers(|| {
        rayon::join(
            || group::group(&files, config, &listings),
            || prepare(&sources, &listings),
        )
    });
    let unrooted_files = groups.iter().any(|group| group.unrooted);
    let lookup = ConfigLookup::new(config, &groups, &listings);
    let each = |input| each(input, &prepared);
    // The folders' listings are freed beside the first clusters, not before them (a
    // thousand folders take a fraction of a millisecond to free, on one core).
    let (_, folded) = yaml::on_workers(|| {
        rayon::join(
            move || drop(listings),
            || {
                model_clusters(
                    &mut groups,
                    &mut files,
                    lookup,
                    &mut sources,
                    list_files,
                    each,
                )
            },
        )
    });
    let folded = folded?;
    let recognised_any = folded.iter().any(|folded| folded.recognised);
    let mut clusters = Vec::with_capacity(folded.len());
    for folded in folded {
        for (index, kind) in folded.kinds {
            files[index].kind = kind;
        }
        clusters.push(folded.cluster);
    }
    let files = if list_files {
        file_entries(files, &groups)
    } else {
        Vec::new()
    };
    Ok(Ingested {
        sources,
        clusters,
        files,
        recognised_any,
        skipped,
        self_contained,
        unrooted_files,
    })
}

/// Whether an Omni template among `files` names a patch file that is not among them.
fn names_patches_elsewhere(files: &[ReadFile]) -> bool {
    use group::GroupFile;
    let mut named = files.iter().flat_map(|file| file.references()).peekable();
    if named.peek().is_none() {
        return false;
    }
    let read: HashSet<PathBuf> = files
        .iter()
        .map(|file| group::normalize(&file.path))
        .collect();
    named.any(|patch| !read.contains(&group::normalize(patch)))
}

/// What became of one cluster's model, with what its files turned out to be.
struct Folded<C> {
    cluster: C,
    /// The kinds of the files its fold read, by index into the read files (when the files
    /// are listed).
    kinds: Vec<(usize, Kind)>,
    /// Whether one of its files holds something talhorn checks.
    recognised: bool,
}

/// One model per group, each with its own configuration (whose `exclude` also applies, as when
/// the cluster's folder is linted alone), handed to `each`; with it, when the files are
/// listed (`list_files`), the kinds of the files read for it (by index).
fn model_clusters<C: Send>(
    groups: &mut [group::Group],
    files: &mut [ReadFile],
    mut lookup: ConfigLookup<'_>,
    sources: &mut SourceMap,
    list_files: bool,
    each: impl Fn(ClusterInput) -> Result<C, IngestError> + Sync,
) -> Result<Vec<Folded<C>>, IngestError> {
    let config = lookup.run;
    let mut configs = Vec::with_capacity(groups.len());
    for (index, group) in groups.iter_mut().enumerate() {
        let (own, config_file) = lookup.cluster_config(index, sources)?;
        if let Some(own) = &own {
            group
                .members
                .retain(|&i| !own.excluded(&group::absolute(&files[i].path)));
        }
        configs.push((own, config_file));
    }
    let contents = contents_per_group(groups, files);
    let files: &[ReadFile] = files;
    let sources: &SourceMap = sources;
    // Clusters are independent: each is folded on a worker, and they come back in group order.
    yaml::on_workers(|| {
        groups
            .par_iter()
            .zip(configs)
            .zip(contents)
            // One cluster a piece: a worker that took several at once could leave the other
            // idle at the end, waiting for the last of them.
            .with_max_len(1)
            .map(|((group, (own, config_file)), contents)| {
                let (members, texts) = read_members(&group.members, contents, files, sources);
                let mut reader = RepoReader::new(
                    own.as_ref().unwrap_or(config),
                    sources.with_texts(texts),
                    config_file,
                );
                // What the files read now turned out to be (the run lists their kinds).
                let mut kinds = Vec::new();
                let recognised = members.iter().any(|(_, file, _)| file.kind.is_checked());
                let ids = members.iter().filter_map(|(_, file, _)| file.id).collect();
                for (index, file, digest) in members {
                    if list_files && let Cow::Owned(file) = &file {
                        kinds.push((index, file.kind));
                    }
                    reader.add(&file, digest);
                }
                let input = ClusterInput {
                    name: group.name.clone(),
                    root: group.root.clone(),
                    cluster: reader.finish(),
                    config: own,
                    files: ids,
                };
                each(input).map(|cluster| Folded {
                    cluster,
                    kinds,
                    recognised,
                })
            })
            .collect::<Vec<_>>()
    })
    .into_iter()
    // The first error in cluster order, whichever worker met it first.
    .collect()
}

/// A file of a cluster as its fold takes it: its index, the file (read before grouping, or now)
/// and what its content became.
type ClusterFile<'f> = (usize, Cow<'f, ReadFile>, Digest);

/// A file's content as its cluster's reader takes it: what can be made of the file alone is
/// made on any worker ([`read_members`]); the reader then joins the files one by one.
enum Digest {
    /// A Proxmox VM config, with the VM it describes.
    Vm(Box<(crate::model::Vm, qmconf::QmConfig)>),
    /// A Talos config file's facts.
    Talos(Box<talos::TalosFile>),
    /// Anything else, as it was parsed.
    Content(Content),
}

impl Digest {
    fn of(file: &ReadFile, content: Content) -> Self {
        match (file.id, file.kind, content) {
            (Some(id), Kind::QmConf, Content::Conf(config)) => {
                Self::Vm(Box::new((proxmox::vm(id, &file.path, &config), *config)))
            }
            (Some(id), Kind::Talos, Content::Yaml(docs)) => {
                Self::Talos(Box::new(talos::read(id, &file.path, docs)))
            }
            (_, _, content) => Self::Content(content),
        }
    }
}

/// A text read for a cluster, for its map ([`SourceMap::with_texts`]).
type ClusterText = (FileId, Arc<SourceFile>);

/// A cluster's files with their contents. Files left for later are read, parsed and
/// recognised now, each into the place the run keeps for it; their texts come back for the
/// cluster's map. Each file is read and parsed on any worker: a repository that is one
/// cluster has nothing else to share its files out.
fn read_members<'f>(
    members: &[usize],
    mut contents: Vec<Content>,
    files: &'f [ReadFile],
    sources: &SourceMap,
) -> (Vec<ClusterFile<'f>>, Vec<ClusterText>) {
    let texts_read: Vec<Option<Result<String, String>>> = members
        .par_iter()
        .zip(&mut contents)
        .map(|(&index, content)| match content {
            Content::Later(left) if !left.values_maps_only => {
                Some(preload::read_later(&files[index].path, left.text.take()))
            }
            _ => None,
        })
        .collect();
    let values_maps_named = may_name_values_maps(members, &texts_read, files, sources);
    let (read, texts): (Vec<ClusterFile<'f>>, Vec<Option<ClusterText>>) = members
        .par_iter()
        .zip(contents)
        .zip(texts_read)
        .map(|((&index, content), text)| {
            load_member(&files[index], index, content, text, values_maps_named)
        })
        .unzip();
    (read, texts.into_iter().flatten().collect())
}

/// One file of a cluster as its fold takes it ([`read_members`]): a file left for later is
/// parsed and recognised now (`text` is what was read of it), with its text for the cluster's
/// map.
fn load_member(
    file: &ReadFile,
    index: usize,
    content: Content,
    text: Option<Result<String, String>>,
    values_maps_named: bool,
) -> (ClusterFile<'_>, Option<ClusterText>) {
    let Content::Later(left) = &content else {
        return (
            (index, Cow::Borrowed(file), Digest::of(file, content)),
            None,
        );
    };
    let path = &file.path;
    let loaded = match text {
        Some(text) => preload::parse_later(path, left.by_name, text),
        None if values_maps_named => {
            preload::parse_later(path, left.by_name, preload::read_later(path, None))
        }
        None => preload::unread_values_maps(path, left.by_name),
    };
    let (mut file, text) = read_later(file, loaded);
    let text = file.id.zip(text).map(|(id, text)| (id, Arc::new(text)));
    let content = std::mem::replace(&mut file.content, Content::None);
    let digest = Digest::of(&file, content);
    ((index, Cow::Owned(file), digest), text)
}

/// Whether a file of the cluster may name a ConfigMap or Secret to read values from
/// ([`preload::may_name_values_maps`]): the texts just read, or those the run holds.
fn may_name_values_maps(
    members: &[usize],
    texts_read: &[Option<Result<String, String>>],
    files: &[ReadFile],
    sources: &SourceMap,
) -> bool {
    members
        .iter()
        .zip(texts_read)
        .any(|(&index, read)| match (read, files[index].id) {
            (Some(read), _) => read.as_deref().is_ok_and(preload::may_name_values_maps),
            (None, Some(id)) => preload::may_name_values_maps(&sources.get(id).text),
            (None, None) => false,
        })
}

/// Each group's parsed contents, member by member: the last group that reads a file takes its
/// parse (the others get a copy), so parse trees are not held twice and are freed once read.
fn contents_per_group(groups: &[group::Group], files: &mut [ReadFile]) -> Vec<Vec<Content>> {
    let mut readers_left = vec![0_usize; files.len()];
    for &index in groups.iter().flat_map(|g| &g.members) {
        readers_left[index] += 1;
    }
    groups
        .iter()
        .map(|group| {
            group
                .members
                .iter()
                .map(|&index| {
                    readers_left[index] -= 1;
                    let file = &mut files[index];
                    if readers_left[index] == 0 {
                        std::mem::replace(&mut file.content, Content::None)
                    } else {
                        file.content.clone()
                    }
                })
                .collect()
        })
        .collect()
}

/// The files some cluster reads, in path order, each with its clusters. Collected from the
/// read files' own list, which the standard library reuses in place (an entry fits in a read
/// file) and which is then shrunk to the entries, rather than into a second list beside it.
fn file_entries(files: Vec<ReadFile>, groups: &[group::Group]) -> Vec<FileEntry> {
    let mut counts = vec![0_usize; files.len()];
    for &index in groups.iter().flat_map(|group| &group.members) {
        counts[index] += 1;
    }
    // Each list at its size: most files are in one cluster.
    let mut clusters: Vec<Vec<Arc<str>>> = counts.iter().map(|&n| Vec::with_capacity(n)).collect();
    drop(counts);
    for group in groups {
        let name: Arc<str> = Arc::from(group.name.as_str());
        for &index in &group.members {
            clusters[index].push(Arc::clone(&name));
        }
    }
    let mut clusters = clusters.into_iter();
    // In place: the file list reuses the read records' memory, and is never held beside them.
    let mut entries: Vec<FileEntry> = files
        .into_iter()
        .filter_map(|file| {
            let clusters = clusters.next().unwrap_or_default();
            (!clusters.is_empty()).then_some(FileEntry {
                path: file.path,
                kind: file.kind,
                clusters,
            })
        })
        .collect();
    entries.shrink_to_fit();
    entries
}

/// How each cluster's configuration is found: its own `.talhorn.yaml`, the nearest at or
/// above its root, looked up in the folders' listings for every cluster at once (no system
/// call for a folder whose listing shows neither a `.talhorn.yaml` nor a `.git`); the run's
/// own file is looked for once.
struct ConfigLookup<'r> {
    run: &'r LintConfig,
    run_file: PathBuf,
    run_file_exists: bool,
    /// Each group's nearest `.talhorn.yaml`, in group order (none without per-file
    /// configuration).
    nearest: Vec<Option<PathBuf>>,
    /// The run's own file in the source map, parsed once for every cluster that uses it.
    run_config: Option<ConfigFile>,
}

impl<'r> ConfigLookup<'r> {
    fn new(run: &'r LintConfig, groups: &[group::Group], listings: &Listings) -> Self {
        let run_file = run.root.join(crate::rules::config::FILE_NAME);
        let nearest = if run.per_file {
            crate::rules::config::nearest_of_folders(
                groups.iter().map(|group| group.root.as_path()),
                listings,
            )
        } else {
            Vec::new()
        };
        Self {
            run,
            run_file_exists: run_file.is_file(),
            run_file,
            nearest,
            run_config: None,
        }
    }

    /// The group at `index`'s own `.talhorn.yaml` (the nearest one at or above its root, when
    /// the run finds configuration per file and it is not the run's own), and the file that
    /// context facts point into.
    fn cluster_config(
        &mut self,
        index: usize,
        sources: &mut SourceMap,
    ) -> Result<(Option<LintConfig>, Option<ConfigFile>), IngestError> {
        let run = self.run;
        let own_file = (self.nearest.get_mut(index))
            .and_then(Option::take)
            .filter(|found| Some(found) != run.source.as_ref());
        let own = own_file
            .as_ref()
            .map(|path| {
                let mut own = LintConfig::load(path).map_err(|e| IngestError(e.to_string()))?;
                own.apply(&run.overrides);
                own.per_file = true;
                Ok::<_, IngestError>(own)
            })
            .transpose()?;
        let context = &own.as_ref().unwrap_or(run).context;
        let has_context = context.talos.is_some()
            || context.longhorn.is_some()
            || context.proxmox.is_some()
            || context.gitops.is_some();
        let config_file = match own_file {
            Some(path) => config_file(path, sources),
            // Context from a configuration built in code points at where its file would be.
            None if self.run_file_exists || has_context => {
                let run_file = &self.run_file;
                (self.run_config)
                    .get_or_insert_with(|| config_file(run_file.clone(), sources))
                    .clone()
            }
            None => return Ok((own, None)),
        };
        Ok((own, Some(config_file)))
    }
}

/// The `.talhorn.yaml` at `path` in the source map (added when it is not there yet), parsed.
fn config_file(path: PathBuf, sources: &mut SourceMap) -> ConfigFile {
    let id = match sources.find(&path) {
        Some(id) => id,
        None => {
            let text = crate::source::read_text(&path).unwrap_or_default();
            sources.add(SourceFile::new(path, text))
        }
    };
    let doc = yaml::parse_document(&sources.get(id).text).ok();
    (id, doc)
}

/// A `.talhorn.yaml` in the source map, parsed (context facts point into it).
type ConfigFile = (FileId, Option<Node>);

/// One file after the read step: its kind, its parsed content and its own problems.
#[derive(Clone)]
struct ReadFile {
    /// Shared with its place in the source map, when it has one.
    path: Arc<Path>,
    kind: Kind,
    /// In the source map when talhorn read it.
    id: Option<FileId>,
    content: Content,
    /// What few files have, boxed so that every other file's record is smaller (a lint holds
    /// one record per file until its clusters are checked).
    rare: Option<Box<Rare>>,
    /// Terraform that configures a provider or backend (a root module; grouping needs it).
    declares_root_module: bool,
}

#[derive(Clone, Default)]
struct Rare {
    /// Problems of this file alone (INT001).
    findings: Vec<Finding>,
    /// Files an Omni template names as patches.
    references: Vec<PathBuf>,
}

impl ReadFile {
    fn findings(&self) -> &[Finding] {
        self.rare.as_ref().map_or(&[], |rare| &rare.findings)
    }

    fn push_finding(&mut self, finding: Finding) {
        self.rare.get_or_insert_default().findings.push(finding);
    }
}

impl group::GroupFile for ReadFile {
    fn path(&self) -> &Path {
        &self.path
    }

    fn kind(&self) -> Kind {
        self.kind
    }

    fn references(&self) -> &[PathBuf] {
        self.rare.as_ref().map_or(&[], |rare| &rare.references)
    }

    fn declares_root_module(&self) -> bool {
        self.declares_root_module
    }
}

#[derive(Clone)]
enum Content {
    None,
    /// Not read yet: read when its cluster is folded ([`preload::Look::Later`]), by what its
    /// name says.
    Later(preload::Left),
    Yaml(Vec<Node>),
    /// Boxed, as the Terraform body is: every file's record is as large as its largest content.
    Conf(Box<qmconf::QmConfig>),
    Terraform(Box<hcl_edit::structure::Body>),
}

/// Reads and recognises every discovered file, each on its own.
/// `walked` are the files the walk found, in path order, `generated` which of them to skip
/// ([`generated_files`]), `problems` the paths the walk could not use.
fn read_files(
    walked: Vec<Arc<Path>>,
    generated: Vec<bool>,
    problems: Vec<(PathBuf, String)>,
    sources: &mut SourceMap,
) -> Vec<ReadFile> {
    let mut files = Vec::with_capacity(problems.len() + walked.len());
    let met_problems = !problems.is_empty();
    files.extend(problems.into_iter().map(|(path, problem)| {
        let path: Arc<Path> = Arc::from(path);
        let id = sources.add(SourceFile::with_shared_path(Arc::clone(&path), ""));
        let mut file = ReadFile {
            path,
            kind: Kind::Invalid,
            id: Some(id),
            content: Content::None,
            rare: None,
            declares_root_module: false,
        };
        file.push_finding(int001(Location::file_start(id), problem));
        file
    }));
    let mut paths = walked
        .into_iter()
        .zip(generated.into_iter().chain(std::iter::repeat(false)))
        .filter_map(|(path, generated)| (!generated).then_some(path));
    let held = preload::HeldTexts::new(preload::HELD_TEXT_BYTES);
    // A slice at a time, each given its places before the next is looked at: what waits for
    // its place is a slice's files, not the whole run's (the peak of a large lint's memory).
    loop {
        let slice: Vec<Arc<Path>> = paths.by_ref().take(LOOK_SLICE).collect();
        if slice.is_empty() {
            break;
        }
        for recognised in preload::look_all(slice, &held, recognise_look) {
            files.push(recognised.register(sources));
        }
    }
    // The walk's paths are in order: only the problems it met need a place among them.
    if met_problems {
        files.sort_by(|a, b| a.path.cmp(&b.path));
    }
    files
}

/// How many files are looked at before they are given their places ([`read_files`]): enough
/// for every worker to have many.
const LOOK_SLICE: usize = 1024;

/// A file recognised on a worker thread, waiting for its place in the source map: ids are
/// given in path order afterwards, so they do not depend on thread timing.
struct Recognised {
    /// The file, without its id.
    file: ReadFile,
    /// What the source map keeps of it (its text, or an empty text for its place), when it
    /// is read at all.
    source: Option<SourceFile>,
    /// Why it cannot be read, and where (INT001).
    problem: Option<(Span, String)>,
}

impl Recognised {
    /// Read, and its text kept.
    fn read(file: ReadFile, text: impl Into<String>) -> Self {
        let source = Some(SourceFile::with_shared_path(Arc::clone(&file.path), text));
        Self {
            file,
            source,
            problem: None,
        }
    }

    /// Nothing in it is read: it takes no place in the source map.
    fn unread(file: ReadFile) -> Self {
        Self {
            file,
            source: None,
            problem: None,
        }
    }

    fn invalid(mut file: ReadFile, text: impl Into<String>, at: Span, problem: String) -> Self {
        file.kind = Kind::Invalid;
        let source = Some(SourceFile::with_shared_path(Arc::clone(&file.path), text));
        Self {
            file,
            source,
            problem: Some((at, problem)),
        }
    }

    /// Gives the file `id`, the place the run kept for it, when it is read at all; returns
    /// its text for the cluster's map.
    fn register_at(self, id: FileId) -> (ReadFile, Option<SourceFile>) {
        let mut file = self.file;
        if self.source.is_some() {
            file.id = Some(id);
            if let Some((at, problem)) = self.problem {
                file.push_finding(int001(Location::new(id, at), problem));
            }
        }
        (file, self.source)
    }

    /// Gives the file its id (the next one in `sources`).
    fn register(self, sources: &mut SourceMap) -> ReadFile {
        let mut file = self.file;
        if let Some(source) = self.source {
            let id = sources.add(source);
            file.id = Some(id);
            if let Some((at, problem)) = self.problem {
                file.push_finding(int001(Location::new(id, at), problem));
            }
        }
        file
    }
}

/// A file [`preload::look`] left for its cluster, read and parsed (`loaded`), recognised (on
/// the worker that folds the cluster), with its text for the cluster's map. Every such file
/// has its place in the run's map (given when it was left); one without would get no text.
fn read_later(file: &ReadFile, loaded: preload::Loaded) -> (ReadFile, Option<SourceFile>) {
    let recognised = recognise(loaded);
    match file.id {
        Some(id) => recognised.register_at(id),
        None => (recognised.file, None),
    }
}

/// A file looked at before grouping: recognised when it was read, or kept a place in the
/// source map and left for its cluster ([`Content::Later`]).
fn recognise_look(look: preload::Look) -> Recognised {
    match look {
        preload::Look::Loaded(loaded) => recognise(loaded),
        preload::Look::Later {
            path,
            left,
            declares_root_module,
        } => Recognised::read(
            ReadFile {
                kind: left.by_name.kind.unwrap_or(Kind::Unrecognised),
                id: None,
                content: Content::Later(left),
                rare: None,
                declares_root_module,
                path,
            },
            "",
        ),
    }
}

/// Recognises a loaded file, or says why it could not be read (on the worker that loaded it).
fn recognise(loaded: preload::Loaded) -> Recognised {
    let path = &*loaded.path;
    let by_name = loaded.by_name;
    let mut file = ReadFile {
        path: Arc::clone(&loaded.path),
        kind: by_name.kind.unwrap_or(Kind::Unrecognised),
        id: None,
        content: Content::None,
        rare: None,
        declares_root_module: false,
    };
    if by_name.reads == Reads::Nothing {
        return Recognised::unread(file);
    }
    let (text, parsed) = match loaded.read {
        Ok(read) => read,
        Err(problem) => return Recognised::invalid(file, "", Span::at(0), problem),
    };
    match parsed {
        preload::Parsed::Yaml(docs) => read_yaml(file, text, docs, by_name.kind.is_some()),
        preload::Parsed::Conf(config) => {
            file.kind = classify::conf_kind(path, &config);
            if file.kind != Kind::QmConf {
                return Recognised::unread(file);
            }
            file.content = Content::Conf(Box::new(config));
            Recognised::read(file, text)
        }
        preload::Parsed::UnreadManifests => {
            // Nothing in it is read and no finding can point into it: it takes no place in
            // the source map (most files of a GitOps repository are such manifests, and a
            // place is a record per file held to the end of the run).
            file.kind = Kind::Manifests;
            Recognised::unread(file)
        }
        preload::Parsed::Terraform(body) => {
            file.declares_root_module = group::declares_root_module(&text);
            read_terraform(file, text, body)
        }
        preload::Parsed::Nothing => Recognised::read(file, text),
    }
}

/// A parsed YAML file, recognised by content unless its name decided (`named`).
fn read_yaml(
    mut file: ReadFile,
    text: String,
    docs: Result<Vec<Node>, yaml::YamlError>,
    named: bool,
) -> Recognised {
    let docs = match docs {
        Ok(docs) => docs,
        Err(_) if classify::has_template_markers(&text) => {
            file.kind = Kind::Templated;
            return Recognised::unread(file);
        }
        Err(error) => {
            let message = format!("this file is not valid YAML: {}", error.message);
            return Recognised::invalid(file, text, error.span, message);
        }
    };
    if !named {
        file.kind = classify::yaml_kind(&file.path, &docs);
    }
    if file.kind == Kind::Unrecognised {
        return Recognised::unread(file);
    }
    if file.kind == Kind::OmniTemplate {
        let dir = file.path.parent().unwrap_or(Path::new(""));
        file.rare.get_or_insert_default().references = omni_patch_files(&docs)
            .into_iter()
            .map(|p| dir.join(p))
            .collect();
    }
    file.content = Content::Yaml(docs);
    Recognised::read(file, text)
}

/// A parsed Terraform file; HCL that does not parse is INT001.
fn read_terraform(
    mut file: ReadFile,
    text: String,
    body: Result<hcl_edit::structure::Body, terraform::hcl::HclError>,
) -> Recognised {
    match body {
        Ok(body) => {
            file.content = Content::Terraform(Box::new(body));
            Recognised::read(file, text)
        }
        // A `.tfvars` that is not HCL is not read by Terraform itself unless named on its
        // command line (SOPS-encrypted variables are JSON): nothing to report.
        Err(_) if file.path.extension().is_some_and(|e| e == "tfvars") => {
            file.kind = Kind::Unrecognised;
            Recognised::unread(file)
        }
        Err(error) => {
            let message = format!("this file is not valid HCL: {}", error.message);
            Recognised::invalid(file, text, error.span, message)
        }
    }
}

/// The `file:` of every patch an Omni template names (on the cluster, control plane, workers
/// and machines).
fn omni_patch_files(docs: &[Node]) -> Vec<String> {
    docs.iter()
        .filter_map(|doc| doc.get("patches").and_then(Node::as_seq))
        .flatten()
        .filter_map(|patch| patch.get("file").and_then(Node::scalar_text))
        .collect()
}

/// When the lint set holds an intent, files that `talhorn build` generated from it (listed in a
/// `.talhorn-manifest.json` above them) are skipped: the intent is linted instead, and reading
/// both would report every VM twice.
///
/// The manifests are looked for first (once per folder): without a listed file, the YAML files
/// are not read a second time to look for an intent. Returns which of `files` to skip (an
/// empty list: none), and whether a manifest lists files when there is no intent among them.
fn generated_files(
    files: &[Arc<Path>],
    folders: &[&Path],
    listings: &Listings,
) -> (Vec<bool>, bool) {
    let manifests = manifests_above(folders, listings);
    if manifests.is_empty() {
        return (Vec::new(), false);
    }
    let generated: Vec<bool> = files
        .iter()
        .map(|file| {
            file.ancestors().skip(1).any(|dir| {
                manifests.get(dir).is_some_and(|listed| {
                    file.strip_prefix(dir)
                        .is_ok_and(|rel| listed.contains(&rel.to_string_lossy().replace('\\', "/")))
                })
            })
        })
        .collect();
    if !generated.contains(&true) {
        return (Vec::new(), false);
    }
    if !has_intent(files) {
        return (Vec::new(), true);
    }
    (generated, false)
}

/// The files each build manifest in `folders` (those of the files and above them) lists; a
/// manifest is only read where its folder's listing shows one.
fn manifests_above<'f>(
    folders: &[&'f Path],
    listings: &Listings,
) -> HashMap<&'f Path, HashSet<String>> {
    folders
        .iter()
        .filter(|dir| listings.may_hold(dir, crate::write::MANIFEST_NAME))
        .filter_map(|&dir| Some((dir, manifest_paths(dir)?)))
        .collect()
}

/// Whether a YAML file among `files` looks like an intent (its top-level keys at line starts).
fn has_intent(files: &[Arc<Path>]) -> bool {
    files.iter().any(|f| {
        f.extension().is_some_and(|e| e == "yaml" || e == "yml")
            && crate::source::read_text(f).is_ok_and(|text| {
                ["cluster:", "proxmox:", "nodes:"]
                    .iter()
                    .all(|key| text.lines().any(|l| l.starts_with(key)))
            })
    })
}

fn manifest_paths(dir: &Path) -> Option<HashSet<String>> {
    let text = crate::source::read_text(&dir.join(crate::write::MANIFEST_NAME)).ok()?;
    let json: serde_json::Value = serde_json::from_str(&text).ok()?;
    Some(json.get("files")?.as_object()?.keys().cloned().collect())
}

/// One file's text through the Terraform reader (parse, evaluate, embedded YAML), as a
/// module of its own: what the fuzz targets run. Returns every span a fact points at.
pub fn read_terraform_text(text: &str) -> Vec<Span> {
    let Ok(body) = terraform::parse(text) else {
        return Vec::new();
    };
    let file = terraform::TfFile {
        file: FileId(0),
        path: PathBuf::from("main.tf"),
        text: text.to_owned(),
        body,
    };
    let facts = terraform::read(std::slice::from_ref(&file));
    let vm_spans = facts.vms.iter().flat_map(|(vm, _)| {
        let disks = vm.disks.iter().map(|d| d.at.span);
        std::iter::once(vm.origin.span).chain(disks)
    });
    let doc_spans = facts
        .talos
        .iter()
        .flat_map(|t| t.docs.iter().map(|d| d.span));
    vm_spans.chain(doc_spans).collect()
}

/// One `talconfig.yaml` text through the talhelper reader: what the fuzz targets run.
/// Returns every span a node or patch points at.
pub fn read_talconfig_text(text: &str) -> Vec<Span> {
    let Ok(doc) = yaml::parse_document(text) else {
        return Vec::new();
    };
    let config = talhelper::read(FileId(0), Path::new("talconfig.yaml"), text, &doc);
    let nodes = config.talos_files.iter().map(|f| f.node.at.span);
    let docs = config
        .talos_files
        .iter()
        .flat_map(|f| f.config.documents.iter().map(|d| d.span));
    nodes.chain(docs).collect()
}

fn int001(at: Location, message: impl Into<String>) -> Finding {
    Finding::new("INT001", Severity::Error, at, message)
}

/// Turns one cluster's files into its model.
struct RepoReader<'a> {
    config: &'a LintConfig,
    /// Every file of the run (read-only here; the cluster gets it when done).
    sources: SourceMap,
    cluster: Cluster,
    qm_configs: Vec<(FileId, qmconf::QmConfig)>,
    /// The Talos files read, until `settle_talos` moves their configs and nodes into the
    /// cluster.
    talos_files: Vec<talos::TalosFile>,
    collected: longhorn::Collected,
    /// The `.talhorn.yaml` that context facts point into.
    config_file: Option<ConfigFile>,
    tf_files: Vec<terraform::TfFile>,
    talhelper: Vec<talhelper::Talconfig>,
    /// YAML files that Terraform or talhelper patch with, and the scope they give them.
    patch_files: Vec<(PathBuf, crate::model::Scope)>,
    /// Those talhelper patches with: its `envsubst` reads them before Talos does.
    talhelper_patch_files: HashSet<PathBuf>,
    /// The cluster's Talos YAML files, each read on its own (not made from a talconfig, a
    /// Terraform resource or an Omni template).
    talos_yaml_files: HashSet<FileId>,
    /// Talos YAML files a talhelper cluster does not patch with: no node gets them, but their
    /// documents are still checked against the schema.
    unapplied_documents: Vec<(FileId, Vec<Node>)>,
}

impl<'a> RepoReader<'a> {
    fn new(config: &'a LintConfig, sources: SourceMap, config_file: Option<ConfigFile>) -> Self {
        Self {
            config,
            sources,
            cluster: Cluster::default(),
            qm_configs: Vec::new(),
            talos_files: Vec::new(),
            collected: longhorn::Collected::default(),
            config_file,
            tf_files: Vec::new(),
            talhelper: Vec::new(),
            patch_files: Vec::new(),
            talhelper_patch_files: HashSet::new(),
            talos_yaml_files: HashSet::new(),
            unapplied_documents: Vec::new(),
        }
    }

    /// Adds one file's facts (and its own problems) to the cluster; `digest` is what its
    /// content became ([`Digest::of`]).
    fn add(&mut self, file: &ReadFile, digest: Digest) {
        self.cluster
            .load_findings
            .extend(file.findings().iter().cloned());
        let Some(id) = file.id else { return };
        let content = match digest {
            Digest::Vm(vm) => {
                let (vm, config) = *vm;
                self.cluster.vms.push(vm);
                self.qm_configs.push((id, config));
                return;
            }
            Digest::Talos(talos) => {
                self.talos_yaml_files.insert(id);
                self.talos_files.push(*talos);
                return;
            }
            Digest::Content(content) => content,
        };
        let text = &self.sources.get(id).text;
        match (content, file.kind) {
            (Content::Terraform(body), Kind::Terraform) => self.tf_files.push(terraform::TfFile {
                file: id,
                path: file.path.to_path_buf(),
                text: text.clone(),
                body: *body,
            }),
            (_, Kind::StorageCfg) => {
                let cfg = storage_cfg::parse(text);
                let problems = cfg.problems.iter().map(|p| (p.span, &p.message));
                self.cluster
                    .load_findings
                    .extend(parse_problems(id, problems));
                self.cluster
                    .host
                    .storages
                    .extend(proxmox::storages(id, &cfg));
            }
            (_, Kind::Interfaces) => {
                let parsed = interfaces::parse(text);
                let problems = parsed.problems.iter().map(|p| (p.span, &p.message));
                self.cluster
                    .load_findings
                    .extend(parse_problems(id, problems));
                self.cluster
                    .host
                    .bridges
                    .extend(proxmox::bridges(id, &parsed));
            }
            (Content::Yaml(docs), kind) => self.yaml(id, &file.path, kind, docs),
            _ => {}
        }
    }

    fn yaml(&mut self, file: FileId, path: &Path, kind: Kind, docs: Vec<Node>) {
        let text = &self.sources.get(file).text;
        match kind {
            Kind::Intent => intent::read(&mut self.cluster, file, text),
            Kind::Schematic => {
                let Some(doc) = docs.first() else { return };
                let schematic = talos::schematic(file, doc);
                let talos = &mut self.cluster.talos;
                if talos.schematic.is_none() {
                    talos.schematic = Some(schematic);
                } else {
                    talos.other_schematic_ids.extend(schematic.id_as_written);
                }
            }
            Kind::LonghornValues | Kind::CiliumValues => {
                let Some(values) = docs.into_iter().next() else {
                    return;
                };
                let source = longhorn::Collected::values_file(file, values);
                match kind {
                    Kind::LonghornValues => self.collected.longhorn.push(source),
                    _ => self.collected.cilium.push(source),
                }
            }
            Kind::Manifests => self.collected.manifests(file, text, &docs),
            Kind::OmniTemplate => {
                // Omni installs the Talos version its template names.
                let cluster_doc = docs
                    .iter()
                    .find(|d| d.get("kind").and_then(Node::as_str) == Some("Cluster"));
                let version = cluster_doc.and_then(|d| d.path(&["talos", "version"]));
                if let Some(version) = yaml_facts::str_fact(yaml_facts::Located(file), version) {
                    self.cluster.versions.talos.get_or_insert(version);
                }
            }
            Kind::TalhelperConfig => {
                if let Some(doc) = docs.first() {
                    let whole = Location::new(file, Span::new(0, text.len()));
                    self.cluster.dialects.push(crate::model::Region::new(
                        whole,
                        crate::model::Dialect::Talhelper,
                    ));
                    let config = talhelper::read(file, path, text, doc);
                    self.cluster
                        .load_findings
                        .extend(config.findings.iter().cloned());
                    self.talhelper.push(config);
                }
            }
            _ => {}
        }
    }

    fn finish(mut self) -> Cluster {
        self.cluster
            .load_findings
            .append(&mut self.collected.findings);
        let talhelper_cluster = !self.talhelper.is_empty();
        self.settle_talhelper();
        self.settle_terraform();
        self.settle_patch_files();
        if talhelper_cluster && self.talhelper_patch_files.iter().all(|p| p.is_file()) {
            self.set_aside_unapplied_talos_files();
        }
        self.collected.resolve_references(&self.sources);
        self.settle_versions();
        self.validate_vm_configs();
        let chart = self.longhorn_chart();
        self.settle_longhorn(chart.as_ref());
        // What the Talos files say beside their configs and nodes, before `settle_talos` moves
        // those into the cluster.
        let serials: Vec<String> = self
            .talos_files
            .iter()
            .flat_map(|f| f.selected_serials.clone())
            .collect();
        let talos_cni = self.talos_files.iter().find_map(|f| f.cni.clone());
        let talos_endpoint = self.talos_files.iter().find_map(|f| f.endpoint.clone());
        self.settle_talos();
        let joins = self.join_vms_and_nodes();
        self.settle_storage_nodes(&joins);
        for vm in &mut self.cluster.vms {
            proxmox::assign_disk_roles(vm, &serials);
        }
        self.settle_cni(talos_cni);
        self.settle_endpoint(talos_endpoint);
        self.cluster.sources = self.sources;
        self.cluster
    }

    /// talhelper's nodes, patches and schematics join the Talos files; its `talosVersion` is
    /// the cluster's Talos version.
    fn settle_talhelper(&mut self) {
        for config in std::mem::take(&mut self.talhelper) {
            self.talos_files.extend(config.talos_files);
            self.talhelper_patch_files
                .extend(config.patch_files.iter().map(|(path, _)| path.clone()));
            self.patch_files.extend(config.patch_files);
            if self.cluster.talos.schematic.is_none() {
                self.cluster.talos.schematic = config.schematic;
            }
            if self.cluster.versions.talos.is_none() {
                self.cluster.versions.talos = config.talos_version;
            }
            if self.cluster.network.endpoint.is_none() {
                self.cluster.network.endpoint = config.endpoint;
            }
        }
    }

    fn settle_terraform(&mut self) {
        let mut facts = terraform::read(&self.tf_files);
        let names: HashSet<String> = self
            .talos_files
            .iter()
            .flat_map(|f| {
                [
                    Some(f.stem.clone()),
                    f.node.hostname.as_ref().map(|h| h.value.clone()),
                ]
            })
            .flatten()
            .collect();
        let repo_has_talos = !self.talos_files.is_empty()
            || !facts.talos.is_empty()
            || self.cluster.talos.schematic.is_some()
            || facts.schematic.is_some();
        let vms = facts.talos_vms(|name| names.contains(name), repo_has_talos);
        self.cluster.vms.extend(vms);
        self.cluster.dialects.extend(facts.regions);
        self.cluster.load_findings.extend(facts.findings);
        for embedded in facts.talos {
            let path = Path::new(&embedded.name);
            let mut file = talos::read(embedded.file, path, embedded.docs);
            file.named_scope = embedded.role.map(crate::model::Scope::Role);
            self.talos_files.push(file);
        }
        if let (None, Some((file, doc, at))) = (&self.cluster.talos.schematic, facts.schematic) {
            let mut schematic = talos::schematic(file, &doc);
            schematic.at = Location::new(file, at);
            self.cluster.talos.schematic = Some(schematic);
        }
        self.collected.longhorn.extend(facts.longhorn);
        if self.cluster.versions.talos.is_none() {
            self.cluster.versions.talos = facts.talos_version;
        }
        self.patch_files.extend(facts.patch_files);
        self.drop_templates(&facts.template_files);
    }

    /// A `templatefile()` whose file holds interpolations or directives (`${…}`, `%{…}`) is not
    /// a Talos config as written: Terraform fills it in.
    /// Nor is a parse error of such a file one: Terraform renders it into YAML first.
    fn drop_templates(&mut self, templates: &[PathBuf]) {
        let sources = &self.sources;
        let is_template = |id: FileId| {
            let source = sources.get(id);
            templates.contains(&group::normalize(&source.path))
                && (source.text.contains("${") || source.text.contains("%{"))
        };
        self.talos_files
            .retain(|f| !f.config.file.is_some_and(is_template));
        self.cluster
            .load_findings
            .retain(|f| !(f.code == "INT001" && is_template(f.at.file)));
    }

    /// A YAML file a Terraform resource or talhelper patches with takes that patch's scope; one
    /// talhelper patches with is checked as its `envsubst` leaves it.
    fn settle_patch_files(&mut self) {
        for file in &mut self.talos_files {
            let Some(id) = file.config.file else { continue };
            let path = group::normalize(self.sources.path(id));
            let substituted = self.talhelper_patch_files.contains(&path)
                && file
                    .config
                    .documents
                    .iter()
                    .any(talhelper::has_escaped_dollars);
            if substituted {
                // Its facts too (a `$$patch: delete` deletes), from the documents talhelper
                // hands to Talos.
                let mut documents = std::mem::take(&mut file.config.documents);
                documents.iter_mut().for_each(talhelper::unescape_dollars);
                *file = talos::read(id, self.sources.path(id), documents);
            }
            let scope = self.patch_files.iter().find(|(p, _)| *p == path);
            if let (Some((_, scope)), None) = (scope, &file.named_scope) {
                file.named_scope = Some(scope.clone());
            }
        }
    }

    /// In a cluster talhelper configures, a Talos YAML file that no talconfig (nor Terraform)
    /// patches with reaches no node: talhelper applies only the patches it names (a leftover
    /// copy of a patch beside the one named would list its kernel modules twice). Its documents
    /// are still checked. Only done when every `@file` a talconfig names is found beside it:
    /// talhelper reads them from the folder it runs in, which is then the talconfig's.
    fn set_aside_unapplied_talos_files(&mut self) {
        let applied: HashSet<PathBuf> = self.patch_files.iter().map(|(p, _)| p.clone()).collect();
        let sources = &self.sources;
        let talos_yaml_files = &self.talos_yaml_files;
        let (applied, unapplied): (Vec<_>, Vec<_>) = std::mem::take(&mut self.talos_files)
            .into_iter()
            .partition(|file| {
                file.config.file.is_none_or(|id| {
                    !talos_yaml_files.contains(&id)
                        || applied.contains(&group::normalize(sources.path(id)))
                })
            });
        self.talos_files = applied;
        self.unapplied_documents.extend(
            unapplied
                .into_iter()
                .filter_map(|file| Some((file.config.file?, file.config.documents))),
        );
    }

    /// Versions from the files (installer tag, chart version), else from the lint context.
    fn settle_versions(&mut self) {
        if self.cluster.versions.talos.is_none() {
            let from_files = self.talos_files.iter().find_map(|f| {
                let image = f.config.install_image.as_ref()?;
                talos::installer_tag(image, &self.sources.get(image.at.file).text)
            });
            self.cluster.versions.talos = from_files;
        }
        if self.cluster.versions.longhorn.is_none() {
            let sources = self.collected.longhorn.iter();
            self.cluster.versions.longhorn = sources.filter_map(|s| s.chart_version.clone()).next();
        }
        let context = self.config.context.clone();
        if self.cluster.versions.talos.is_none() {
            self.cluster.versions.talos = context.talos.map(|v| self.context_fact("talos", v));
        }
        if self.cluster.versions.longhorn.is_none() {
            self.cluster.versions.longhorn =
                context.longhorn.map(|v| self.context_fact("longhorn", v));
        }
        if self.cluster.versions.proxmox.is_none() {
            self.cluster.versions.proxmox =
                context.proxmox.map(|v| self.context_fact("proxmox", v));
        }
    }

    /// A fact from `.talhorn.yaml`'s `context`, located at its value in that file.
    fn context_fact<T>(&self, key: &str, value: T) -> Fact<T> {
        let (file, doc) = match &self.config_file {
            Some((file, doc)) => (*file, doc.as_ref()),
            None => (FileId::default(), None),
        };
        let span = doc
            .and_then(|d| d.path(&["context", key]))
            .map_or(Span::at(0), |n| n.span);
        Fact::new(value, Location::new(file, span))
    }

    fn validate_vm_configs(&mut self) {
        let pve = self.cluster.versions.proxmox.as_ref().map(|v| v.value);
        let findings: Vec<Finding> = self
            .qm_configs
            .par_iter()
            .flat_map_iter(|(file, config)| crate::knowledge::proxmox::validate(*file, config, pve))
            .collect();
        self.cluster.load_findings.extend(findings);
    }

    fn longhorn_chart(&self) -> Option<ChartVersion> {
        ChartVersion::parse(&self.cluster.versions.longhorn.as_ref()?.value).ok()
    }

    fn settle_longhorn(&mut self, chart: Option<&ChartVersion>) {
        if let Some(chart) = chart {
            let findings: Vec<Finding> = self
                .collected
                .longhorn
                .par_iter()
                .filter_map(|source| Some((source.file, source.values.as_ref()?)))
                .flat_map_iter(|(file, values)| {
                    crate::knowledge::longhorn::validate_values(file, values, chart)
                })
                .collect();
            self.cluster.load_findings.extend(findings);
        }
        if self.cluster.longhorn.is_some() {
            return;
        }
        let gitops = self.config.context.gitops.clone().map(|mode| {
            let mode = match mode.as_str() {
                "flux" => GitOps::Flux,
                "argocd" => GitOps::Argocd,
                _ => GitOps::None,
            };
            self.context_fact("gitops", mode)
        });
        self.cluster.longhorn = longhorn::longhorn(&self.collected, chart, gitops);
        let allow = self
            .talos_files
            .iter()
            .find_map(|f| f.config.allow_scheduling_on_control_planes.clone());
        if let Some(longhorn) = &mut self.cluster.longhorn {
            longhorn.allow_scheduling_on_control_planes = allow;
        }
    }

    /// Decides each Talos file's scope, makes a node of every per-node file, and hands the
    /// facts of role-wide files (link MTU, node labels) to the nodes they cover.
    fn settle_talos(&mut self) {
        let vm_names: HashSet<String> = self
            .cluster
            .vms
            .iter()
            .filter_map(|vm| vm.name.as_ref().map(|n| n.value.clone()))
            .collect();
        let mut node_index: HashMap<String, usize> = self
            .cluster
            .talos
            .nodes
            .iter()
            .enumerate()
            .map(|(i, n)| (n.name.clone(), i))
            .collect();
        let mut shared = Vec::new();
        // Each file's config and node move into the cluster (a config holds its documents).
        for file in std::mem::take(&mut self.talos_files) {
            let scope = file.scope(|stem| vm_names.contains(stem));
            let talos::TalosFile {
                mut config,
                mut node,
                ..
            } = file;
            config.scope = scope.clone();
            if let Scope::Node(name) = &scope {
                node.name.clone_from(name);
                match node_index.get(name) {
                    Some(&i) => merge_node(&mut self.cluster.talos.nodes[i], node),
                    None => {
                        node_index.insert(name.clone(), self.cluster.talos.nodes.len());
                        self.cluster.talos.nodes.push(node);
                    }
                }
            } else {
                shared.push((scope, node));
            }
            self.cluster.talos.configs.push(config);
        }
        for node in &mut self.cluster.talos.nodes {
            for (scope, facts) in &shared {
                if scope.covers(node) {
                    inherit_node_facts(node, facts);
                }
            }
        }
        self.validate_talos_documents();
    }

    fn validate_talos_documents(&mut self) {
        let Some(minor) = self.cluster.talos_minor() else {
            return;
        };
        let applied = self
            .cluster
            .talos
            .configs
            .par_iter()
            .filter_map(|config| Some((config.file?, &config.documents)));
        let unapplied = self
            .unapplied_documents
            .par_iter()
            .map(|(file, documents)| (*file, documents));
        let findings: Vec<Finding> = applied
            .chain(unapplied)
            .flat_map_iter(|(file, documents)| {
                documents.iter().flat_map(move |doc| {
                    crate::knowledge::talos_schema::validate_document(file, doc, minor)
                })
            })
            .collect();
        self.cluster.load_findings.extend(findings);
    }

    /// Joins each VM to its Talos node (by name or hostname, else by MAC address) and shares
    /// the role each side states with the other.
    /// Returns, for each VM, the index of its node in `cluster.talos.nodes`.
    fn join_vms_and_nodes(&mut self) -> Vec<Option<usize>> {
        let nodes = &mut self.cluster.talos.nodes;
        let mut by_key: HashMap<String, usize> = HashMap::new();
        for (i, node) in nodes.iter().enumerate() {
            by_key.entry(node.name.clone()).or_insert(i);
            if let Some(hostname) = &node.hostname {
                by_key.entry(hostname.value.clone()).or_insert(i);
            }
            if let Some(mac) = &node.mac {
                by_key.entry(mac.value.to_ascii_lowercase()).or_insert(i);
            }
        }
        let mut joins = Vec::with_capacity(self.cluster.vms.len());
        for vm in &mut self.cluster.vms {
            let by_name = vm.name.as_ref().and_then(|n| by_key.get(&n.value));
            let by_mac = || {
                vm.nics
                    .iter()
                    .filter_map(|nic| nic.mac.as_ref())
                    .find_map(|mac| by_key.get(&mac.value.to_ascii_lowercase()))
            };
            let index = by_name.or_else(by_mac).copied();
            joins.push(index);
            let Some(node) = index.and_then(|i| nodes.get_mut(i)) else {
                continue;
            };
            match (vm.role, node.role) {
                (Some(role), None) => node.role = Some(role),
                (None, Some(role)) => vm.role = Some(role),
                _ => {}
            }
        }
        joins
    }

    /// Which VMs carry Longhorn data: workers, plus control planes when they schedule
    /// workloads; or, with `createDefaultDiskLabeledNodes`, only labelled nodes.
    fn settle_storage_nodes(&mut self, joins: &[Option<usize>]) {
        let Some(longhorn) = &self.cluster.longhorn else {
            return;
        };
        let labeled_only = longhorn
            .create_default_disk_labeled_nodes
            .as_ref()
            .is_some_and(|f| f.value);
        let on_control_planes = longhorn.schedules_on_control_planes();
        let statuses: Vec<Option<bool>> = self
            .cluster
            .vms
            .iter()
            .zip(joins)
            .map(|(vm, join)| {
                if vm.storage_node.is_some() {
                    return vm.storage_node;
                }
                let node = join.and_then(|i| self.cluster.talos.nodes.get(i));
                if labeled_only {
                    return node.map(is_labelled_for_longhorn);
                }
                match vm.role.or_else(|| node.and_then(|n| n.role))? {
                    Role::Worker => Some(true),
                    Role::Controlplane => Some(on_control_planes),
                }
            })
            .collect();
        for (vm, status) in self.cluster.vms.iter_mut().zip(statuses) {
            vm.storage_node = status;
        }
    }

    /// The first `cluster.controlPlane.endpoint` of the Talos files (`talos_endpoint`), unless
    /// the intent gave one.
    fn settle_endpoint(&mut self, talos_endpoint: Option<Fact<String>>) {
        if self.cluster.network.endpoint.is_none() {
            self.cluster.network.endpoint = talos_endpoint;
        }
    }

    /// Cilium's values, else the first CNI the Talos files name (`talos_cni`), unless the intent
    /// gave one.
    fn settle_cni(&mut self, talos_cni: Option<Fact<String>>) {
        if self.cluster.network.cni.is_some() {
            return;
        }
        self.cluster.network.cni = longhorn::cilium(&self.collected).or_else(|| {
            let name = talos_cni?;
            Some(crate::model::network::Cni {
                name,
                mtu: None,
                encapsulation: None,
            })
        });
    }
}

/// A line-format parser's problems, as INT001 findings.
fn parse_problems<'p>(
    file: FileId,
    problems: impl Iterator<Item = (Span, &'p String)> + 'p,
) -> impl Iterator<Item = Finding> + 'p {
    problems.map(move |(span, message)| int001(Location::new(file, span), message.clone()))
}

/// The label Longhorn's `createDefaultDiskLabeledNodes` looks for.
const CREATE_DEFAULT_DISK_LABEL: &str = "node.longhorn.io/create-default-disk";

fn is_labelled_for_longhorn(node: &TalosNode) -> bool {
    node.labels
        .iter()
        .any(|(key, value)| key == CREATE_DEFAULT_DISK_LABEL && value.value != "false")
}

/// Two files for one node: facts of the later file fill what the earlier one left unknown.
fn merge_node(node: &mut TalosNode, other: TalosNode) {
    node.role = node.role.or(other.role);
    node.hostname = node.hostname.take().or(other.hostname);
    node.addresses.extend(other.addresses);
    node.dhcp = node.dhcp.take().or(other.dhcp);
    node.link_mtu = node.link_mtu.take().or(other.link_mtu);
    node.mac = node.mac.take().or(other.mac);
    node.vip = node.vip.take().or(other.vip);
    node.labels.extend(other.labels);
    node.annotations.extend(other.annotations);
    node.network_known |= other.network_known;
}

/// Facts of a role-wide patch that a node's own file did not set (node labels merge by key).
fn inherit_node_facts(node: &mut TalosNode, shared: &TalosNode) {
    if node.link_mtu.is_none() {
        node.link_mtu.clone_from(&shared.link_mtu);
    }
    if node.vip.is_none() {
        node.vip.clone_from(&shared.vip);
    }
    for (key, value) in &shared.labels {
        if node.labels.iter().all(|(k, _)| k != key) {
            node.labels.push((key.clone(), value.clone()));
        }
    }
    for (key, value) in &shared.annotations {
        if node.annotations.iter().all(|(k, _)| k != key) {
            node.annotations.push((key.clone(), value.clone()));
        }
    }
}

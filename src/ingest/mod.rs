//! Reading a repository into the cluster model: discover files, recognise their kind, parse them
//! (with spans), and turn their facts into [`crate::model`] values.
//!
//! One pass reads every file ([`discover`], [`classify`], then one module per kind). Facts that
//! depend on other files (a node's role, a VM's storage-node status, disk roles, how values are
//! read for a chart version) are settled afterwards in [`RepoReader::finish`], with hash maps so
//! that joins stay linear in the number of files.

mod classify;
mod discover;
mod embedded;
mod intent;
mod longhorn;
mod preload;
mod proxmox;
mod talhelper;
mod talos;
mod terraform;
mod yaml_facts;

pub use discover::MAX_FILE_BYTES;

use crate::finding::{Finding, Severity};
use crate::intent::{GitOps, Role};
use crate::knowledge::longhorn::ChartVersion;
use crate::load::{interfaces, qmconf, storage_cfg};
use crate::model::{Cluster, Scope, TalosNode};
use crate::rules::LintConfig;
use crate::source::{Fact, FileId, Location, SourceFile, Span};
use crate::yaml::{self, Node};
use classify::YamlKind;
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

/// A problem that stops linting altogether (exit 2): a path that does not exist.
#[derive(Debug)]
pub struct IngestError(pub String);

impl std::fmt::Display for IngestError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Reads every recognised file under `paths` into one cluster model.
///
/// A path that does not exist is an [`IngestError`]. Files that cannot be read (binary,
/// not UTF-8, too large, unreadable, a symlink loop) and files of ours that do not parse
/// become INT001 findings in [`Cluster::load_findings`]; everything else is still read.
pub fn ingest(paths: &[PathBuf], config: &LintConfig) -> Result<Cluster, IngestError> {
    ingest_with_stdin(paths, None, config)
}

/// Whether talhorn can tell a file's kind from its name (standard input needs such a name).
pub fn is_known_name(path: &Path) -> bool {
    classify::by_name(path).is_some()
}

/// [`ingest`], plus standard input read as a file named `stdin` (`talhorn lint -`).
pub fn ingest_with_stdin(
    paths: &[PathBuf],
    stdin: Option<&Path>,
    config: &LintConfig,
) -> Result<Cluster, IngestError> {
    let discovered = discover::discover(paths, config)?;
    let mut reader = RepoReader::new(config);
    reader.named = paths.iter().filter(|p| p.is_file()).cloned().collect();
    for (path, problem) in &discovered.problems {
        reader.unreadable(path, problem);
    }
    reader.cluster.skipped = discovered.skipped;
    let generated = generated_files(&discovered.files);
    // Whether generated files are skipped depends on every file (is there an intent?), so with
    // generated files in the lint set everything is loaded before the fold; otherwise files
    // stream through in chunks and only the facts of recognised files stay in memory.
    let chunk_size = if generated.is_empty() {
        LOAD_CHUNK_FILES
    } else {
        usize::MAX
    };
    for chunk in discovered.files.chunks(chunk_size) {
        let loaded = preload::load_all(chunk);
        let has_intent = !generated.is_empty() && loaded.iter().any(preload::Loaded::is_intent);
        for file in loaded {
            if !(has_intent && generated.contains(&file.path)) {
                reader.read(file);
            }
        }
    }
    if let Some(name) = stdin {
        reader.named.insert(name.to_path_buf());
        match discover::read_text_from(std::io::stdin().lock()) {
            Ok(text) => {
                if let Some(file) = preload::from_text(name, text) {
                    reader.read(file);
                }
            }
            Err(problem) => reader.unreadable(name, &problem),
        }
    }
    Ok(reader.finish())
}

/// Files loaded in parallel before the sequential fold: enough to keep every worker busy,
/// few enough that their text and parse trees need little memory.
const LOAD_CHUNK_FILES: usize = 512;

/// Files that `talhorn build` generated (listed in a `.talhorn-manifest.json` above them).
/// When the lint set holds an intent they are skipped: the intent is linted instead, and
/// reading both would report every VM twice.
fn generated_files(files: &[PathBuf]) -> HashSet<PathBuf> {
    let mut manifests: HashMap<PathBuf, Option<HashSet<String>>> = HashMap::new();
    files
        .iter()
        .filter(|file| {
            file.ancestors().skip(1).any(|dir| {
                let listed = manifests
                    .entry(dir.to_path_buf())
                    .or_insert_with(|| manifest_paths(dir));
                let relative = file
                    .strip_prefix(dir)
                    .ok()
                    .map(|r| r.to_string_lossy().replace('\\', "/"));
                listed
                    .as_ref()
                    .zip(relative)
                    .is_some_and(|(set, rel)| set.contains(&rel))
            })
        })
        .cloned()
        .collect()
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

struct RepoReader<'a> {
    config: &'a LintConfig,
    cluster: Cluster,
    qm_configs: Vec<(FileId, qmconf::QmConfig)>,
    talos_files: Vec<talos::TalosFile>,
    collected: longhorn::Collected,
    tf_files: Vec<terraform::TfFile>,
    talhelper: Vec<talhelper::Talconfig>,
    /// YAML files that Terraform or talhelper patch with, and the scope they give them.
    patch_files: Vec<(PathBuf, crate::model::Scope)>,
    /// `.talhorn.yaml`, once added to the sources (context facts point into it).
    config_file: Option<(FileId, Option<Node>)>,
    /// Files the user named: a YAML error in one is reported even when its name is not ours.
    named: HashSet<PathBuf>,
}

impl<'a> RepoReader<'a> {
    fn new(config: &'a LintConfig) -> Self {
        Self {
            config,
            cluster: Cluster::default(),
            qm_configs: Vec::new(),
            talos_files: Vec::new(),
            collected: longhorn::Collected::default(),
            tf_files: Vec::new(),
            talhelper: Vec::new(),
            patch_files: Vec::new(),
            config_file: None,
            named: HashSet::new(),
        }
    }

    fn add_source(&mut self, path: &Path, text: &str) -> FileId {
        self.cluster.sources.add(SourceFile::new(path, text))
    }

    fn unreadable(&mut self, path: &Path, problem: &str) {
        let file = self.add_source(path, "");
        self.cluster
            .load_findings
            .push(int001(Location::file_start(file), problem));
    }

    /// Folds one loaded file into the model (in path order, so file ids and "first file wins"
    /// facts do not depend on thread timing).
    fn read(&mut self, file: preload::Loaded) {
        let path = &file.path;
        let (text, content) = match file.read {
            Ok(read) => read,
            Err(problem) => return self.unreadable(path, &problem),
        };
        match content {
            preload::Content::Conf(config) => self.qm_conf(path, text, config),
            preload::Content::StorageCfg => self.storage_cfg(path, &text),
            preload::Content::Interfaces => self.interfaces(path, &text),
            preload::Content::Yaml(docs) => self.yaml(path, text, docs),
            preload::Content::Terraform(body) => self.terraform(path, text, body),
        }
    }

    fn terraform(
        &mut self,
        path: &Path,
        text: String,
        body: Result<hcl_edit::structure::Body, terraform::hcl::HclError>,
    ) {
        let file = self.add_source(path, &text);
        match body {
            Ok(body) => self.tf_files.push(terraform::TfFile {
                file,
                path: path.to_path_buf(),
                text,
                body,
            }),
            // A `.tfvars` that is not HCL is not read by Terraform itself unless named on its
            // command line (SOPS-encrypted variables are JSON): nothing to report.
            Err(_) if path.extension().is_some_and(|e| e == "tfvars") => {}
            Err(error) => {
                let message = format!("this file is not valid HCL: {}", error.message);
                self.cluster
                    .load_findings
                    .push(int001(Location::new(file, error.span), message));
            }
        }
    }

    fn qm_conf(&mut self, path: &Path, text: String, config: qmconf::QmConfig) {
        if !classify::is_qm_conf(path, &config) {
            return;
        }
        let file = self.add_source(path, &text);
        self.cluster.vms.push(proxmox::vm(file, path, &config));
        self.qm_configs.push((file, config));
    }

    /// A line-format parser's problems, as INT001 findings.
    fn parse_problems<'p>(
        &mut self,
        file: FileId,
        problems: impl Iterator<Item = (Span, &'p String)>,
    ) {
        let findings =
            problems.map(|(span, message)| int001(Location::new(file, span), message.clone()));
        self.cluster.load_findings.extend(findings);
    }

    fn storage_cfg(&mut self, path: &Path, text: &str) {
        let file = self.add_source(path, text);
        let cfg = storage_cfg::parse(text);
        self.parse_problems(file, cfg.problems.iter().map(|p| (p.span, &p.message)));
        self.cluster
            .host
            .storages
            .extend(proxmox::storages(file, &cfg));
    }

    fn interfaces(&mut self, path: &Path, text: &str) {
        let file = self.add_source(path, text);
        let parsed = interfaces::parse(text);
        self.parse_problems(file, parsed.problems.iter().map(|p| (p.span, &p.message)));
        self.cluster
            .host
            .bridges
            .extend(proxmox::bridges(file, &parsed));
    }

    fn yaml(&mut self, path: &Path, text: String, docs: Result<Vec<Node>, yaml::YamlError>) {
        let docs = match docs {
            Ok(docs) => docs,
            Err(error) => {
                if classify::looks_like_ours(path) || self.named.contains(path) {
                    let file = self.add_source(path, &text);
                    let message = format!("this file is not valid YAML: {}", error.message);
                    self.cluster
                        .load_findings
                        .push(int001(Location::new(file, error.span), message));
                }
                return;
            }
        };
        let kind = classify::yaml_kind(path, &docs);
        if kind == YamlKind::Unknown {
            return;
        }
        let file = self.add_source(path, &text);
        match kind {
            YamlKind::Intent => intent::read(&mut self.cluster, file, &text),
            YamlKind::Talos => self.talos_files.push(talos::read(file, path, docs)),
            YamlKind::Schematic => {
                if let (None, Some(doc)) = (&self.cluster.talos.schematic, docs.first()) {
                    self.cluster.talos.schematic = Some(talos::schematic(file, doc));
                }
            }
            YamlKind::LonghornValues | YamlKind::CiliumValues => {
                let Some(values) = docs.into_iter().next() else {
                    return;
                };
                let source = longhorn::Collected::values_file(file, values);
                match kind {
                    YamlKind::LonghornValues => self.collected.longhorn.push(source),
                    _ => self.collected.cilium.push(source),
                }
            }
            YamlKind::Manifests => self.collected.manifests(file, &text, &docs),
            YamlKind::Talhelper => {
                if let Some(doc) = docs.first() {
                    let config = talhelper::read(file, path, &text, doc);
                    self.cluster
                        .load_findings
                        .extend(config.findings.iter().cloned());
                    self.talhelper.push(config);
                }
            }
            YamlKind::Unknown => {}
        }
    }

    fn finish(mut self) -> Cluster {
        self.cluster
            .load_findings
            .append(&mut self.collected.findings);
        self.settle_talhelper();
        self.settle_terraform();
        self.settle_patch_files();
        self.collected.resolve_references();
        self.settle_versions();
        self.validate_vm_configs();
        let chart = self.longhorn_chart();
        self.settle_longhorn(chart.as_ref());
        self.settle_talos();
        let joins = self.join_vms_and_nodes();
        self.settle_storage_nodes(&joins);
        let serials: Vec<String> = self
            .talos_files
            .iter()
            .flat_map(|f| f.selected_serials.clone())
            .collect();
        for vm in &mut self.cluster.vms {
            proxmox::assign_disk_roles(vm, &serials);
        }
        self.settle_cni();
        self.settle_endpoint();
        self.cluster
    }

    /// talhelper's nodes, patches and schematics join the Talos files; its `talosVersion` is
    /// the cluster's Talos version.
    fn settle_talhelper(&mut self) {
        for config in std::mem::take(&mut self.talhelper) {
            self.talos_files.extend(config.talos_files);
            self.patch_files.extend(config.patch_files);
            if self.cluster.talos.schematic.is_none() {
                self.cluster.talos.schematic = config.schematic;
            }
            if self.cluster.versions.talos.is_none() {
                self.cluster.versions.talos = config.talos_version;
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

    /// A `templatefile()` with template directives is not a Talos config as written.
    fn drop_templates(&mut self, templates: &[PathBuf]) {
        let sources = &self.cluster.sources;
        let is_template = |file: &talos::TalosFile| {
            file.config.file.is_some_and(|id| {
                let source = sources.get(id);
                templates.contains(&terraform::normalize(&source.path))
                    && (source.text.contains("${") || source.text.contains("%{"))
            })
        };
        self.talos_files.retain(|f| !is_template(f));
    }

    /// A YAML file a Terraform resource or talhelper patches with takes that patch's scope.
    fn settle_patch_files(&mut self) {
        for file in &mut self.talos_files {
            let Some(id) = file.config.file else { continue };
            let path = terraform::normalize(self.cluster.sources.path(id));
            let scope = self.patch_files.iter().find(|(p, _)| *p == path);
            if let (Some((_, scope)), None) = (scope, &file.named_scope) {
                file.named_scope = Some(scope.clone());
            }
        }
    }

    /// Versions from the files (installer tag, chart version), else from the lint context.
    fn settle_versions(&mut self) {
        if self.cluster.versions.talos.is_none() {
            let from_files = self.talos_files.iter().find_map(|f| {
                let image = f.config.install_image.as_ref()?;
                talos::installer_tag(image, &self.cluster.sources.get(image.at.file).text)
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
    fn context_fact<T>(&mut self, key: &str, value: T) -> Fact<T> {
        let (file, doc) = self.config_file.get_or_insert_with(|| {
            let path = self.config.root.join(crate::rules::config::FILE_NAME);
            let text = crate::source::read_text(&path).unwrap_or_default();
            let doc = yaml::parse_document(&text).ok();
            (self.cluster.sources.add(SourceFile::new(path, text)), doc)
        });
        let span = doc
            .as_ref()
            .and_then(|d| d.path(&["context", key]))
            .map_or(Span::at(0), |n| n.span);
        Fact::new(value, Location::new(*file, span))
    }

    fn validate_vm_configs(&mut self) {
        let pve = self.cluster.versions.proxmox.as_ref().map(|v| v.value);
        for (file, config) in &self.qm_configs {
            let findings = crate::knowledge::proxmox::validate(*file, config, pve);
            self.cluster.load_findings.extend(findings);
        }
    }

    fn longhorn_chart(&self) -> Option<ChartVersion> {
        ChartVersion::parse(&self.cluster.versions.longhorn.as_ref()?.value).ok()
    }

    fn settle_longhorn(&mut self, chart: Option<&ChartVersion>) {
        if let Some(chart) = chart {
            for source in &self.collected.longhorn {
                if let Some(values) = &source.values {
                    let findings =
                        crate::knowledge::longhorn::validate_values(source.file, values, chart);
                    self.cluster.load_findings.extend(findings);
                }
            }
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
        for file in std::mem::take(&mut self.talos_files) {
            let scope = file.scope(|stem| vm_names.contains(stem));
            let mut config = file.config.clone();
            config.scope = scope.clone();
            if let Scope::Node(name) = &scope {
                let mut node = file.node.clone();
                node.name.clone_from(name);
                match node_index.get(name) {
                    Some(&i) => merge_node(&mut self.cluster.talos.nodes[i], node),
                    None => {
                        node_index.insert(name.clone(), self.cluster.talos.nodes.len());
                        self.cluster.talos.nodes.push(node);
                    }
                }
            } else {
                shared.push((scope, file.node.clone()));
            }
            self.cluster.talos.configs.push(config);
            self.talos_files.push(file);
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
        for config in &self.cluster.talos.configs {
            let Some(file) = config.file else { continue };
            for doc in &config.documents {
                let findings = crate::knowledge::talos_schema::validate_document(file, doc, minor);
                self.cluster.load_findings.extend(findings);
            }
        }
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

    /// The first `cluster.controlPlane.endpoint` of the Talos files, unless the intent gave one.
    fn settle_endpoint(&mut self) {
        if self.cluster.network.endpoint.is_none() {
            self.cluster.network.endpoint =
                self.talos_files.iter().find_map(|f| f.endpoint.clone());
        }
    }

    fn settle_cni(&mut self) {
        if self.cluster.network.cni.is_some() {
            return;
        }
        self.cluster.network.cni = longhorn::cilium(&self.collected).or_else(|| {
            let name = self.talos_files.iter().find_map(|f| f.cni.clone())?;
            Some(crate::model::network::Cni {
                name,
                mtu: None,
                encapsulation: None,
            })
        });
    }
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
}

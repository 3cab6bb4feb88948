//! Terraform / OpenTofu files (`*.tf`, `*.tfvars`) into the model: Proxmox VMs ([`vm`]),
//! Talos config patches and the Image Factory schematic, the Talos version, and Helm releases
//! of Longhorn.
//!
//! Each file is parsed on its own ([`parse`]); values are evaluated per module (the files of one
//! directory share `locals` and `variable`s) once every file is read ([`read`]).

mod guest;
pub mod hcl;
mod vm;

use super::embedded;
use super::group::normalize;
use super::longhorn::ValuesSource;
use crate::finding::{Finding, Severity};
use crate::intent::Role;
use crate::model::{Dialect, Region, Scope, Vm};
use crate::source::{Fact, FileId, Location, Span};
use crate::yaml::{Node, Value};
use hcl::{Eval, FileRef, Scope as HclScope, span_of};
use hcl_edit::expr::Expression;
use hcl_edit::structure::{Block, Body};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub use hcl::parse;

/// One parsed Terraform file.
#[derive(Debug)]
pub struct TfFile {
    pub file: FileId,
    pub path: PathBuf,
    pub text: String,
    pub body: Body,
}

impl TfFile {
    fn is_tfvars(&self) -> bool {
        self.path.extension().is_some_and(|e| e == "tfvars")
    }
}

/// Talos documents from a `config_patches` entry or a schematic, in a `.tf` file.
#[derive(Debug)]
pub struct EmbeddedTalos {
    pub file: FileId,
    /// The resource or data source (`talos_machine_configuration.cp`), for a file stem.
    pub name: String,
    pub docs: Vec<Node>,
    /// `controlplane` / `worker` from the configuration's `machine_type`.
    pub role: Option<Role>,
}

/// What a VM resource says about the system it runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Guest {
    /// Its text says Talos (name, tags, image), or a Talos resource of its module refers to it;
    /// also when it names another system too.
    Talos,
    /// It names another system ([`guest::OTHER_SYSTEMS`]) and not Talos.
    Other,
    /// It names no system.
    Unsaid,
}

/// Everything the Terraform files of a repository say.
#[derive(Debug, Default)]
pub struct TerraformFacts {
    /// Each VM, and what it says it runs (see [`TerraformFacts::talos_vms`]).
    pub vms: Vec<(Vm, Guest)>,
    pub talos: Vec<EmbeddedTalos>,
    /// YAML files a patch reads with `file()` / `templatefile()`, and the scope it gives them.
    pub patch_files: Vec<(PathBuf, Scope)>,
    /// Files read with `templatefile()`, wherever the call sits: Terraform fills them in, so
    /// they are not Talos configs (nor YAML) as written when they hold template syntax.
    pub template_files: Vec<PathBuf>,
    pub schematic: Option<(FileId, Node, Span)>,
    pub longhorn: Vec<ValuesSource>,
    pub talos_version: Option<Fact<String>>,
    /// The VM resources, `config_patches`, schematics and Longhorn `helm_release`s, for fix
    /// hints in their terms.
    pub regions: Vec<Region>,
    pub findings: Vec<Finding>,
}

impl TerraformFacts {
    /// The VMs that run Talos: those that say so or whose name is a Talos node's; when none
    /// does, every VM of a repository that holds Talos configs except those that name another
    /// system. Other VMs of a Terraform repository (a NAS, an Ubuntu jump host, a load
    /// balancer) are not checked against Talos's needs.
    pub fn talos_vms(
        &mut self,
        is_talos_node: impl Fn(&str) -> bool,
        repo_has_talos: bool,
    ) -> Vec<Vm> {
        let evident: Vec<bool> = self
            .vms
            .iter()
            .map(|(vm, guest)| {
                *guest == Guest::Talos
                    || vm
                        .name
                        .as_ref()
                        .is_some_and(|n| !vm.is_unknown("name") && is_talos_node(&n.value))
            })
            .collect();
        let keep_all = repo_has_talos && !evident.iter().any(|e| *e);
        std::mem::take(&mut self.vms)
            .into_iter()
            .zip(evident)
            .filter(|((_, guest), evident)| *evident || (keep_all && *guest != Guest::Other))
            .map(|((vm, _), _)| vm)
            .collect()
    }
}

/// Reads every module (directory) of Terraform files.
pub fn read(files: &[TfFile]) -> TerraformFacts {
    let mut facts = TerraformFacts::default();
    let passed = variables_passed_by_module_calls(files);
    let mut modules: BTreeMap<PathBuf, Vec<usize>> = BTreeMap::new();
    for (index, file) in files.iter().enumerate() {
        modules.entry(parent(&file.path)).or_default().push(index);
    }
    let no_vars = Vec::new();
    for (dir, members) in &modules {
        let refs = |tfvars: bool| -> Vec<FileRef<'_>> {
            members
                .iter()
                .filter(|i| files[**i].is_tfvars() == tfvars)
                .map(|i| FileRef {
                    index: *i,
                    body: &files[*i].body,
                })
                .collect()
        };
        let scope = HclScope::new(
            &refs(false),
            &refs(true),
            passed.get(dir).unwrap_or(&no_vars),
        );
        let roles = machine_types(&scope, files, members);
        let talos_text = talos_blocks_text(files, members);
        for &index in members.iter().filter(|i| !files[**i].is_tfvars()) {
            let mut reader = ModuleReader {
                eval: scope.eval(index),
                tf: &files[index],
                dir,
                roles: &roles,
                module_talos_text: &talos_text,
                facts: &mut facts,
            };
            reader.file();
        }
    }
    facts
}

fn parent(path: &Path) -> PathBuf {
    normalize(path.parent().unwrap_or(Path::new("")))
}

/// For each module directory, the variables some `module "x" { source = "./dir" ... }` sets.
fn variables_passed_by_module_calls(files: &[TfFile]) -> BTreeMap<PathBuf, Vec<String>> {
    const META: &[&str] = &[
        "source",
        "version",
        "count",
        "for_each",
        "providers",
        "depends_on",
    ];
    let mut passed: BTreeMap<PathBuf, Vec<String>> = BTreeMap::new();
    for file in files {
        for block in file.body.get_blocks("module") {
            let Some(source) = block.body.get_attribute("source") else {
                continue;
            };
            let Some(source) = source.value.as_str().filter(|s| s.starts_with('.')) else {
                continue;
            };
            let dir = normalize(&parent(&file.path).join(source));
            let names = block
                .body
                .attributes()
                .map(|a| a.key.as_str().to_owned())
                .filter(|k| !META.contains(&k.as_str()));
            passed.entry(dir).or_default().extend(names);
        }
    }
    passed
}

/// `machine_type` of each `talos_machine_configuration` data source / resource, by name.
fn machine_types(
    scope: &HclScope<'_>,
    files: &[TfFile],
    members: &[usize],
) -> BTreeMap<String, Role> {
    let mut roles = BTreeMap::new();
    for &index in members {
        for block in files[index].body.blocks() {
            let labels = hcl::labels(block);
            let [kind, name] = labels.as_slice() else {
                continue;
            };
            if !kind.starts_with("talos_machine_configuration") {
                continue;
            }
            let role = scope
                .eval(index)
                .attr(&block.body, "machine_type")
                .known()
                .and_then(|n| role_of(n.as_str()?));
            if let Some(role) = role.or_else(|| role_of_kind(kind)) {
                roles.insert((*name).to_owned(), role);
            }
        }
    }
    roles
}

fn talos_blocks_text(files: &[TfFile], members: &[usize]) -> String {
    let mut text = String::new();
    for &index in members {
        let file = &files[index];
        for block in file.body.blocks() {
            if hcl::labels(block)
                .first()
                .is_some_and(|k| k.starts_with("talos_"))
            {
                let span = span_of(block);
                text.push_str(file.text.get(span.start..span.end).unwrap_or_default());
            }
        }
    }
    text
}

fn role_of(text: &str) -> Option<Role> {
    match text {
        "controlplane" | "init" => Some(Role::Controlplane),
        "worker" => Some(Role::Worker),
        _ => None,
    }
}

/// The v0.1 provider's `talos_machine_configuration_controlplane` / `_worker` resources.
fn role_of_kind(kind: &str) -> Option<Role> {
    if kind.ends_with("_controlplane") {
        Some(Role::Controlplane)
    } else if kind.ends_with("_worker") {
        Some(Role::Worker)
    } else {
        None
    }
}

struct ModuleReader<'a, 'f> {
    eval: Eval<'a>,
    tf: &'a TfFile,
    dir: &'a Path,
    roles: &'a BTreeMap<String, Role>,
    /// The text of the module's `talos_*` blocks (what refers to which VM).
    module_talos_text: &'a str,
    facts: &'f mut TerraformFacts,
}

/// The files a body's `templatefile()` calls render, wherever a call sits (a resource's
/// `user_data`, a local, inside another call or a string template).
struct TemplatefilePaths<'a> {
    eval: Eval<'a>,
    dir: &'a Path,
    paths: Vec<PathBuf>,
}

impl hcl_edit::visit::Visit for TemplatefilePaths<'_> {
    fn visit_func_call(&mut self, call: &hcl_edit::expr::FuncCall) {
        if call.name.name.as_str() == "templatefile" {
            let path = call
                .args
                .iter()
                .next()
                .and_then(|a| self.eval.expr(a)?.scalar_text());
            self.paths
                .extend(path.map(|path| normalize(&self.dir.join(path))));
        }
        hcl_edit::visit::visit_func_call(self, call);
    }
}

impl ModuleReader<'_, '_> {
    /// Every file a `templatefile()` of this file renders, wherever the call sits: Terraform
    /// fills it in before anything reads it, so it is no config as written, and not YAML yet.
    fn templates(&mut self) {
        let mut templates = TemplatefilePaths {
            eval: self.eval,
            dir: self.dir,
            paths: Vec::new(),
        };
        hcl_edit::visit::visit_body(&mut templates, &self.tf.body);
        self.facts.template_files.extend(templates.paths);
    }

    fn file(&mut self) {
        self.templates();
        for block in self.tf.body.blocks() {
            let labels = hcl::labels(block);
            let (kind, name) = match (block.ident.as_str(), labels.as_slice()) {
                ("resource" | "data", [kind, name]) => (*kind, *name),
                _ => continue,
            };
            if let Some(provider) = vm::Provider::of_resource(kind) {
                if block.ident.as_str() == "resource" {
                    let dialect = match provider {
                        vm::Provider::Bpg => Dialect::Bpg,
                        vm::Provider::Telmate => Dialect::Telmate,
                    };
                    self.region(span_of(block), dialect);
                    let vm = vm::read(provider, self.eval, self.tf.file, block);
                    if guest::holds_disks_only(self.eval, &block.body) {
                        continue;
                    }
                    let guest = if self.says_talos(kind, name, block) {
                        Guest::Talos
                    } else if guest::other_system(self.eval, &self.tf.text, &block.body).is_some() {
                        Guest::Other
                    } else {
                        Guest::Unsaid
                    };
                    self.facts.vms.push((vm, guest));
                }
                continue;
            }
            if kind.starts_with("talos_") {
                self.talos_version(block);
            }
            match kind {
                "talos_image_factory_schematic" => self.schematic(block),
                "helm_release" => self.helm_release(block),
                _ if kind.starts_with("talos_machine_configuration") => {
                    self.config_patches(kind, name, block);
                }
                _ => {}
            }
        }
    }

    /// Whether a VM resource says it runs Talos (name, tags, image), or a Talos resource of
    /// its module refers to it.
    fn says_talos(&self, kind: &str, name: &str, block: &Block) -> bool {
        let address = format!("{kind}.{name}");
        self.written(span_of(block))
            .to_ascii_lowercase()
            .contains("talos")
            || self.module_talos_text.contains(&address)
    }

    fn talos_version(&mut self, block: &Block) {
        if self.facts.talos_version.is_some() {
            return;
        }
        let version = self.eval.attr(&block.body, "talos_version").known();
        self.facts.talos_version = version.and_then(|node| {
            let text = node.scalar_text()?;
            Some(Fact::new(text, Location::new(self.tf.file, node.span)))
        });
    }

    fn role(&self, kind: &str, name: &str, block: &Block) -> Option<Role> {
        if let Some(role) = self.roles.get(name) {
            return Some(*role);
        }
        // An apply resource takes the role of the configuration it applies.
        let input = block.body.get_attribute("machine_configuration_input")?;
        let written = self.written(span_of(&input.value));
        let referenced = written
            .split("talos_machine_configuration.")
            .nth(1)?
            .split(|c: char| !(c.is_alphanumeric() || c == '_' || c == '-'))
            .next()?;
        self.roles
            .get(referenced)
            .copied()
            .or_else(|| role_of_kind(kind))
    }

    fn region(&mut self, span: Span, dialect: Dialect) {
        let at = Location::new(self.tf.file, span);
        self.facts.regions.push(Region::new(at, dialect));
    }

    fn written(&self, span: Span) -> &str {
        self.tf.text.get(span.start..span.end).unwrap_or_default()
    }

    fn config_patches(&mut self, kind: &str, name: &str, block: &Block) {
        let Some(patches) = block.body.get_attribute("config_patches") else {
            return;
        };
        // Findings about a whole patch point at the resource, so the region is the block.
        self.region(span_of(block), Dialect::ConfigPatches);
        let role = self.role(kind, name, block);
        let mut entries = Vec::new();
        patch_entries(&patches.value, &mut entries);
        // Each entry is its own patch (documents repeat across patches, not within one).
        for entry in entries {
            let docs: Vec<Node> = self
                .yaml_of(entry, role.map_or(Scope::All, Scope::Role))
                .into_iter()
                .filter(super::classify::is_talos_document)
                .collect();
            if !docs.is_empty() {
                self.facts.talos.push(EmbeddedTalos {
                    file: self.tf.file,
                    name: format!("{kind}.{name}"),
                    docs,
                    role,
                });
            }
        }
    }

    /// The YAML documents an expression holds: a heredoc or string of YAML, `yamlencode` /
    /// `jsonencode` of an object; `file()` / `templatefile()` are noted for `scope` and read
    /// as files. Unknown values give nothing.
    fn yaml_of(&mut self, expr: &Expression, scope: Scope) -> Vec<Node> {
        match expr {
            Expression::HeredocTemplate(heredoc) if hcl::is_plain(&heredoc.template) => {
                let span = template_span(&heredoc.template);
                self.parse_yaml(embedded::parse_region(
                    &self.tf.text,
                    span,
                    heredoc.indent().is_some(),
                ))
            }
            Expression::FuncCall(call) => {
                let name = call.name.name.as_str();
                let arg = call.args.iter().next();
                match name {
                    "yamlencode" | "jsonencode" => {
                        arg.and_then(|a| self.eval.expr(a)).into_iter().collect()
                    }
                    "file" | "templatefile" => {
                        // A `templatefile()` is noted as a template by `templates`.
                        if let Some(path) = arg.and_then(|a| self.eval.expr(a)?.scalar_text()) {
                            let path = normalize(&self.dir.join(path));
                            self.facts.patch_files.push((path, scope));
                        }
                        Vec::new()
                    }
                    _ => Vec::new(),
                }
            }
            other => {
                let Some(node) = self.eval.expr(other) else {
                    return Vec::new();
                };
                let Some(text) = node.as_str() else {
                    return Vec::new();
                };
                let parsed = crate::yaml::parse_documents(text).map(|mut docs| {
                    docs.iter_mut()
                        .for_each(|d| embedded::set_spans(d, node.span));
                    docs
                });
                self.parse_yaml(parsed.map_err(|e| crate::yaml::YamlError {
                    span: node.span,
                    message: e.message,
                }))
            }
        }
    }

    fn parse_yaml(&mut self, parsed: Result<Vec<Node>, crate::yaml::YamlError>) -> Vec<Node> {
        parsed.unwrap_or_else(|error| {
            self.facts.findings.push(Finding::new(
                "INT001",
                Severity::Error,
                Location::new(self.tf.file, error.span),
                format!("this embedded YAML is not valid: {}", error.message),
            ));
            Vec::new()
        })
    }

    fn schematic(&mut self, block: &Block) {
        if self.facts.schematic.is_some() {
            return;
        }
        let Some(attribute) = block.body.get_attribute("schematic") else {
            return;
        };
        self.region(span_of(attribute), Dialect::TerraformSchematic);
        let docs = self.yaml_of(&attribute.value, Scope::All);
        if let Some(doc) = docs.into_iter().next() {
            self.facts.schematic = Some((self.tf.file, doc, hcl::key_span(attribute)));
        }
    }

    fn helm_release(&mut self, block: &Block) {
        let chart = self.eval.attr(&block.body, "chart").known();
        let chart = chart.and_then(|c| c.scalar_text()).unwrap_or_default();
        if chart.rsplit('/').next() != Some("longhorn") {
            return;
        }
        self.region(span_of(block), Dialect::HelmRelease);
        let mut values = Node::new(Value::Map(Vec::new()), span_of(block));
        let mut any = false;
        if let Some(list) = block.body.get_attribute("values") {
            let entries: Vec<&Expression> = match &list.value {
                Expression::Array(array) => array.iter().collect(),
                other => vec![other],
            };
            for entry in entries {
                for doc in self.yaml_of(entry, Scope::All) {
                    any = true;
                    merge(&mut values, doc);
                }
            }
        }
        for (path, value) in self.set_entries(&block.body) {
            any = true;
            set_path(&mut values, &path, value);
        }
        let at = block.labels.last().map_or(span_of(&block.ident), span_of);
        let version = self.eval.attr(&block.body, "version").known();
        self.facts.longhorn.push(ValuesSource {
            file: self.tf.file,
            at: Location::new(self.tf.file, at),
            values: any.then_some(values),
            chart_version: version.and_then(|v| {
                Some(Fact::new(
                    v.scalar_text()?,
                    Location::new(self.tf.file, v.span),
                ))
            }),
            gitops: None,
        });
    }

    /// `set { name = "a.b" value = "x" }` blocks and the `set = [{ name, value }]` attribute.
    fn set_entries(&self, body: &Body) -> Vec<(Vec<String>, Node)> {
        let mut objects: Vec<Node> = body
            .get_blocks("set")
            .filter_map(|b| {
                let name = self.eval.attr(&b.body, "name").known()?;
                let value = self.eval.attr(&b.body, "value").known()?;
                let entries = vec![
                    (Node::new(Value::Str("name".into()), name.span), name),
                    (Node::new(Value::Str("value".into()), value.span), value),
                ];
                Some(Node::new(Value::Map(entries), Span::default()))
            })
            .collect();
        if let Some(list) = self.eval.attr(body, "set").known() {
            objects.extend(list.as_seq().unwrap_or_default().iter().cloned());
        }
        objects
            .iter()
            .filter_map(|o| {
                let name = o.get("name")?.scalar_text()?;
                let value = o.get("value")?;
                Some((helm_path(&name), typed(value)))
            })
            .collect()
    }
}

/// The span of a template's text (from its first to its last literal).
fn template_span(template: &hcl_edit::template::Template) -> Span {
    let spans: Vec<Span> = template
        .iter()
        .filter_map(|e| e.as_literal().map(span_of))
        .collect();
    match (spans.first(), spans.last()) {
        (Some(first), Some(last)) => Span::new(first.start, last.end),
        _ => Span::default(),
    }
}

/// `defaultSettings.backupTarget` → its keys; `a\.b` keeps its dot.
fn helm_path(name: &str) -> Vec<String> {
    let mut parts = vec![String::new()];
    let mut chars = name.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => parts
                .last_mut()
                .into_iter()
                .for_each(|p| p.extend(chars.next())),
            '.' => parts.push(String::new()),
            c => parts.last_mut().into_iter().for_each(|p| p.push(c)),
        }
    }
    parts
}

/// Helm's `--set` typing: `true`/`false` and integers are not strings.
fn typed(node: &Node) -> Node {
    let Some(text) = node.as_str() else {
        return node.clone();
    };
    let value = match text {
        "true" => Value::Bool(true),
        "false" => Value::Bool(false),
        _ => text
            .parse()
            .map_or_else(|_| Value::Str(text.to_owned()), Value::Int),
    };
    Node::new(value, node.span)
}

fn map_entries(node: &mut Node) -> Option<&mut Vec<(Node, Node)>> {
    match &mut node.value {
        Value::Map(entries) => Some(entries),
        _ => None,
    }
}

/// Deep merge, later values winning (how Helm merges values files).
fn merge(into: &mut Node, from: Node) {
    let (Some(entries), Value::Map(from_entries)) = (map_entries(into), &from.value) else {
        *into = from;
        return;
    };
    for (key, value) in from_entries.clone() {
        match entries.iter_mut().find(|(k, _)| k.as_str() == key.as_str()) {
            Some((_, existing)) => merge(existing, value),
            None => entries.push((key, value)),
        }
    }
}

fn set_path(into: &mut Node, path: &[String], value: Node) {
    let Some((first, rest)) = path.split_first() else {
        *into = value;
        return;
    };
    if map_entries(into).is_none() {
        *into = Node::new(Value::Map(Vec::new()), value.span);
    }
    let Some(entries) = map_entries(into) else {
        return;
    };
    let index = match entries.iter().position(|(k, _)| k.as_str() == Some(first)) {
        Some(index) => index,
        None => {
            let key = Node::new(Value::Str(first.clone()), value.span);
            let child = Node::new(Value::Map(Vec::new()), value.span);
            entries.push((key, child));
            entries.len() - 1
        }
    };
    set_path(&mut entries[index].1, rest, value);
}

/// The patches a `config_patches` list holds, also when it is built: `compact([...])`,
/// `concat(a, b)`, `flatten(...)`, `distinct(...)`, `(...)`. Each entry is one patch. A branch
/// of `cond ? a : b` is not taken for one: whether it applies depends on the condition (an
/// `allowSchedulingOnControlPlanes` patch behind a variable is no fact).
fn patch_entries<'e>(expr: &'e Expression, out: &mut Vec<&'e Expression>) {
    match expr {
        Expression::Array(items) => items.iter().for_each(|item| patch_entries(item, out)),
        Expression::FuncCall(call)
            if matches!(
                call.name.name.as_str(),
                "compact" | "concat" | "flatten" | "distinct"
            ) =>
        {
            call.args.iter().for_each(|arg| patch_entries(arg, out));
        }
        Expression::Parenthesis(inner) => patch_entries(inner.inner(), out),
        other => out.push(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_module_call_climbing_out_of_its_folder_names_the_module_folder() {
        let text = "module \"vm\" {\n  source = \"../../modules/vm\"\n  cores = 2\n}\n";
        let file = TfFile {
            file: FileId(0),
            path: PathBuf::from("repo/envs/prod/main.tf"),
            text: text.to_owned(),
            body: parse(text).unwrap_or_else(|e| panic!("{}", e.message)),
        };
        let passed = variables_passed_by_module_calls(std::slice::from_ref(&file));
        assert_eq!(
            passed.get(Path::new("repo/modules/vm")),
            Some(&vec!["cores".to_owned()])
        );
    }

    #[test]
    fn helm_set_names_split_on_unescaped_dots() {
        assert_eq!(
            helm_path("defaultSettings.backupTarget"),
            ["defaultSettings", "backupTarget"]
        );
        assert_eq!(helm_path(r"a\.b.c"), ["a.b", "c"]);
    }
}

//! Structural validation of one Talos config document for a given Talos minor.
//!
//! The shapes come from `data/talos/v1.<minor>.json`, derived by
//! `tools/derive-talos-schema.py` from the upstream `config.schema.json` of each version and
//! compiled into the binary by `build.rs` (a user's machine has no `shared/`). Each table also
//! carries the fields that older schemas documented and this one dropped: Talos still decodes
//! them, so they are deprecations (TAL008), never unknown keys (INT002).
//!
//! What Talos itself does is in `shared/research/talos.md`: §2.1 (how the decoder tells the
//! legacy document from the others, and its error messages) and §3.3 (deprecations).

use crate::finding::{Finding, Severity};
use crate::source::{FileId, Location, Span};
use crate::yaml::{Node, Value};
use std::borrow::Cow;
use std::fmt::Write as _;

const MISSING_KIND: &str = "TAL003";
const UNKNOWN_KEY: &str = "INT002";
const INVALID_VALUE: &str = "INT003";
const DEPRECATED: &str = "TAL008";

/// The only `apiVersion` Talos registers documents under.
pub const API_VERSION: &str = "v1alpha1";

/// Top-level keys that make Talos read a document as the legacy `v1alpha1.Config`
/// (`ManifestDeprecatedKey*` in the decoder).
pub const LEGACY_KEYS: [&str; 4] = ["machine", "cluster", "debug", "persist"];

// `static TABLES: [(u32, Table); N]`, oldest minor first: `data/talos/v1.<minor>.json`
// compiled by build.rs, so that no run parses them.
include!(concat!(env!("OUT_DIR"), "/talos_tables.rs"));

/// One version's table (see the deriving script for the format).
#[derive(Debug)]
struct Table {
    talos: &'static str,
    source_sha256: &'static str,
    legacy: Shape,
    kinds: Names<Shape>,
}

#[derive(Debug)]
enum Shape {
    String,
    Integer,
    Boolean,
    /// An object the schema does not describe (`type: object` alone): any mapping.
    AnyObject,
    BoundedInteger {
        minimum: Option<i64>,
        maximum: Option<i64>,
    },
    Enum(&'static [&'static str]),
    List {
        items: &'static Shape,
        min_items: Option<usize>,
    },
    /// A mapping with free keys and values of one shape.
    Map(&'static Shape),
    OneOf(&'static [Shape]),
    Object(ObjectShape),
}

#[derive(Debug)]
struct ObjectShape {
    properties: Names<Shape>,
    required: &'static [&'static str],
    /// Properties this version's schema dropped → the last version that documented them.
    removed: Names<&'static str>,
}

/// Names and what each maps to, sorted by name (build.rs sorts them).
#[derive(Debug)]
struct Names<T: 'static>(&'static [(&'static str, T)]);

impl<T> Names<T> {
    fn get(&self, name: &str) -> Option<&'static T> {
        let entries = self.0;
        let index = entries.binary_search_by(|(key, _)| (*key).cmp(name)).ok()?;
        Some(&entries[index].1)
    }

    fn contains_key(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    fn keys(&self) -> impl Iterator<Item = &'static str> + use<T> {
        self.0.iter().map(|(key, _)| *key)
    }
}

fn table(minor: u32) -> Option<&'static Table> {
    TABLES
        .iter()
        .find(|(m, _)| *m == minor)
        .map(|(_, table)| table)
}

/// The Talos minors with a schema table (`1.<minor>`).
pub fn schema_minors() -> impl Iterator<Item = u32> {
    TABLES.iter().map(|(minor, _)| *minor)
}

/// Whether documents can be validated for Talos `1.<minor>`.
pub fn has_schema(minor: u32) -> bool {
    table(minor).is_some()
}

/// The `talos` version label and source-schema sha256 of a table, for the staleness test.
pub fn table_source(minor: u32) -> Option<(&'static str, &'static str)> {
    table(minor).map(|t| (t.talos, t.source_sha256))
}

/// Document kinds Talos `1.<minor>` registers (besides the legacy document).
pub fn document_kinds(minor: u32) -> Vec<&'static str> {
    table(minor).map_or_else(Vec::new, |t| t.kinds.keys().collect())
}

/// Whether `section.key` (`machine.install`) is a field of the legacy document in any Talos
/// version talhorn knows: evidence that a document is a Talos config, not another tool's YAML.
pub fn is_legacy_field(section: &str, key: &str) -> bool {
    schema_minors().filter_map(table).any(|table| {
        let Shape::Object(root) = &table.legacy else {
            return false;
        };
        match root.properties.get(section) {
            Some(Shape::Object(fields)) => {
                fields.properties.contains_key(key) || fields.removed.contains_key(key)
            }
            _ => false,
        }
    })
}

/// Whether a document has no unknown key and no value of the wrong shape for some Talos version
/// talhorn knows (evidence that it is a Talos document when its keys alone are common words).
pub fn fits_some_version(doc: &Node) -> bool {
    schema_minors().any(|minor| {
        validate_document(FileId::default(), doc, minor)
            .iter()
            .all(|f| f.code != UNKNOWN_KEY && f.code != INVALID_VALUE)
    })
}

/// Whether `kind` is a document kind of any Talos version talhorn knows.
pub fn is_talos_kind(kind: &str) -> bool {
    schema_minors()
        .filter_map(table)
        .any(|table| table.kinds.contains_key(kind))
}

/// How Talos's decoder classifies a document (research §2.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DocumentType<'a> {
    /// The legacy `v1alpha1.Config`: has `machine`/`cluster`/`debug`/`persist` and no `kind`.
    Legacy,
    /// A document with a `kind` (its `apiVersion` may still be wrong or missing).
    Kind(&'a str),
    /// Neither: Talos fails with "missing kind" (or, for `apiVersion: v1alpha1` alone, reads
    /// it as the legacy document and rejects its keys).
    Unidentified,
}

/// Classifies a document the way the Talos decoder does.
pub fn document_type(doc: &Node) -> DocumentType<'_> {
    let kind = doc
        .get("kind")
        .and_then(Node::as_str)
        .filter(|k| !k.is_empty());
    match kind {
        Some(kind) => DocumentType::Kind(kind),
        None if LEGACY_KEYS.iter().any(|k| doc.get(k).is_some()) => DocumentType::Legacy,
        None => DocumentType::Unidentified,
    }
}

/// Null, `{}` or `[]`: a key written with nothing in it.
fn sets_nothing(value: &Node) -> bool {
    value.is_null()
        || value.as_map().is_some_and(<[_]>::is_empty)
        || value.as_seq().is_some_and(<[_]>::is_empty)
}

/// The strategic-merge patch directive (`$patch: delete`).
const PATCH_DIRECTIVE: &str = "$patch";

/// A mapping holding `$patch: delete` (a key's value, a list item, a whole document): Talos's
/// decoder records what it deletes and removes the mapping before the document is decoded
/// (`pkg/machinery/config/configloader/internal/decoder/delete.go`), so nothing in it is a
/// config value, whatever the field's type (`nodeLabels: {some-label: {$patch: delete}}`).
pub fn is_delete_directive(node: &Node) -> bool {
    node.get(PATCH_DIRECTIVE).and_then(Node::as_str) == Some("delete")
}

/// Validates one parsed Talos document for Talos `1.<minor>`: TAL003 (missing `kind` /
/// `apiVersion`, or the legacy document carrying them), INT002 (unknown key or kind), INT003
/// (wrong type, enum value, range, missing required field) and TAL008 (deprecated for that
/// version). A minor without a table yields nothing: see [`has_schema`].
pub fn validate_document(file: FileId, doc: &Node, minor: u32) -> Vec<Finding> {
    let Some(table) = table(minor) else {
        return Vec::new();
    };
    let mut validator = Validator {
        file,
        minor,
        table,
        findings: Vec::new(),
    };
    validator.document(doc);
    validator.findings
}

/// A step down a document: a mapping key or a list index.
#[derive(Clone, Copy, Debug)]
enum Segment<'a> {
    Key(&'a str),
    Index(usize),
}

/// A place in a document. Each place links to its parent's instead of copying it: every key
/// and list item gets one, while the whole path is spelt out only for the rare finding.
#[derive(Clone, Copy, Debug)]
enum Path<'a> {
    Root,
    Child {
        parent: &'a Path<'a>,
        segment: Segment<'a>,
    },
}

impl<'a> Path<'a> {
    fn child_key(&'a self, key: &'a str) -> Self {
        Self::Child {
            parent: self,
            segment: Segment::Key(key),
        }
    }

    fn child_index(&'a self, index: usize) -> Self {
        Self::Child {
            parent: self,
            segment: Segment::Index(index),
        }
    }

    const fn is_root(&self) -> bool {
        matches!(self, Self::Root)
    }

    /// The segments from the last one up to the root.
    fn segments_upward<'p>(&'p self) -> impl Iterator<Item = Segment<'a>> + 'p {
        let mut place = self;
        std::iter::from_fn(move || match place {
            Self::Root => None,
            Self::Child { parent, segment } => {
                place = parent;
                Some(*segment)
            }
        })
    }

    /// The segments from the root down.
    fn segments(&self) -> Vec<Segment<'a>> {
        let mut segments: Vec<Segment<'a>> = self.segments_upward().collect();
        segments.reverse();
        segments
    }

    /// The keys from the last one up to the root (list indexes left out).
    fn keys_upward<'p>(&'p self) -> impl Iterator<Item = &'a str> + 'p {
        self.segments_upward().filter_map(|segment| match segment {
            Segment::Key(key) => Some(key),
            Segment::Index(_) => None,
        })
    }

    /// `machine.kubelet.extraMounts[0].options`, for messages.
    fn display(&self) -> String {
        let mut out = String::new();
        for segment in self.segments() {
            match segment {
                Segment::Key(key) if out.is_empty() => out.push_str(key),
                Segment::Key(key) => {
                    out.push('.');
                    out.push_str(key);
                }
                Segment::Index(index) => {
                    let _ = write!(out, "[{index}]");
                }
            }
        }
        out
    }

    /// `machine.kubelet.extraMounts.options`: keys only, to match [`DEPRECATIONS`].
    fn keys(&self) -> String {
        let mut keys: Vec<&str> = self.keys_upward().collect();
        keys.reverse();
        keys.join(".")
    }

    /// Whether [`Self::keys`] equals `dotted`, compared from the last key up without building
    /// the string: every known key is checked against every deprecation.
    fn keys_spell(&self, dotted: &str) -> bool {
        let mut rest = dotted;
        for (depth, key) in self.keys_upward().enumerate() {
            // Below the last key, what is left ends with the dot before the key just matched.
            let before_dot = if depth == 0 {
                Some(rest)
            } else {
                rest.strip_suffix('.')
            };
            match before_dot.and_then(|r| r.strip_suffix(key)) {
                Some(left) => rest = left,
                None => return false,
            }
        }
        rest.is_empty()
    }
}

/// A field of the legacy document that research §3.3 lists as deprecated but still decoded.
struct Deprecation {
    path: &'static str,
    since_minor: u32,
    replacement: &'static str,
    rejected: Option<Rejection>,
}

/// From `from_minor` on, Talos fails on the field under `condition` (in practice always: the
/// condition is something `talosctl gen config` of that version writes; checked against the
/// `testdata/stability/v1.1x/base-*.yaml` configs of siderolabs/talos).
#[derive(Clone, Copy)]
struct Rejection {
    from_minor: u32,
    condition: &'static str,
    error: &'static str,
}

const DEPRECATIONS: &[Deprecation] = &[
    Deprecation {
        path: "machine.disks",
        since_minor: 10,
        replacement: "a `UserVolumeConfig` document",
        rejected: None,
    },
    Deprecation {
        path: "machine.install.extensions",
        since_minor: 10,
        replacement: "the Image Factory schematic (`customization.systemExtensions`) and its installer image",
        rejected: None,
    },
    Deprecation {
        // v1.12 drops most of its fields from the schema, v1.13 the whole key.
        path: "machine.network",
        since_minor: 13,
        replacement: "the network documents (`HostnameConfig`, `LinkConfig`, `ResolverConfig`, `KubeSpanConfig`, …)",
        rejected: None,
    },
    Deprecation {
        // v1.12+ generated configs carry `HostnameConfig{auto: stable}`.
        path: "machine.network.hostname",
        since_minor: 12,
        replacement: "a `HostnameConfig` document with `hostname:` and `auto: off`",
        rejected: Some(Rejection {
            from_minor: 12,
            condition: "next to the `HostnameConfig` that talosctl generates",
            error: "static hostname is already set in v1alpha1 config",
        }),
    },
    Deprecation {
        // v1.14 generated configs carry a `ResolverConfig`.
        path: "machine.network.nameservers",
        since_minor: 12,
        replacement: "a `ResolverConfig` document (`nameservers: [{address: …}]`)",
        rejected: Some(Rejection {
            from_minor: 14,
            condition: "next to the `ResolverConfig` that talosctl generates",
            error: ".machine.network.nameservers is already set in v1alpha1 config",
        }),
    },
    Deprecation {
        path: "machine.network.interfaces",
        since_minor: 12,
        replacement: "`LinkConfig` documents (and `LinkAliasConfig`, `DHCPv4Config`, … as needed)",
        rejected: None,
    },
    Deprecation {
        path: "machine.registries",
        since_minor: 12,
        replacement: "the `RegistryMirrorConfig`, `RegistryAuthConfig` and `RegistryTLSConfig` documents",
        rejected: None,
    },
    Deprecation {
        // v1.12+ generated configs set `install.grubUseUKICmdline: true`.
        path: "machine.install.extraKernelArgs",
        since_minor: 12,
        replacement: "the schematic's `customization.extraKernelArgs`",
        rejected: Some(Rejection {
            from_minor: 12,
            condition: "in metal mode, with the `grubUseUKICmdline: true` that talosctl generates",
            error: "install.extraKernelArgs and install.grubUseUKICmdline can't be used together",
        }),
    },
    Deprecation {
        path: "machine.network.kubespan",
        since_minor: 13,
        replacement: "a `KubeSpanConfig` document",
        rejected: None,
    },
    Deprecation {
        path: "machine.env",
        since_minor: 13,
        replacement: "an `EnvironmentConfig` document",
        rejected: None,
    },
    Deprecation {
        path: "machine.kernel",
        since_minor: 14,
        replacement: "`KernelModuleConfig` documents (one per module)",
        rejected: None,
    },
    Deprecation {
        path: "machine.sysctls",
        since_minor: 14,
        replacement: "a `SysctlConfig` document (`params:`)",
        rejected: None,
    },
    Deprecation {
        path: "machine.sysfs",
        since_minor: 14,
        replacement: "a `SysfsConfig` document",
        rejected: None,
    },
    Deprecation {
        // v1.14 generated configs carry a `KubeletConfig`, which has no `extraMounts`.
        path: "machine.kubelet",
        since_minor: 14,
        replacement: "the generated `KubeletConfig` document (it has no `extraMounts`; user volumes under /var/mnt reach the kubelet by themselves)",
        rejected: Some(Rejection {
            from_minor: 14,
            condition: "next to the `KubeletConfig` that talosctl generates",
            error: "kubelet config is already set in v1alpha1 config (.machine.kubelet)",
        }),
    },
    Deprecation {
        // v1.14 generated configs carry a `KubeNodeConfig` (control planes: with the taint).
        path: "cluster.allowSchedulingOnControlPlanes",
        since_minor: 14,
        replacement: "a `KubeNodeConfig` patch that deletes the control-plane taint (`taints: {node-role.kubernetes.io/control-plane: {$patch: delete}}`)",
        rejected: Some(Rejection {
            from_minor: 14,
            condition: "next to the `KubeNodeConfig` that talosctl generates",
            error: ".cluster.allowSchedulingOnControlPlanes is already set in v1alpha1 config",
        }),
    },
    Deprecation {
        path: "machine.nodeLabels",
        since_minor: 14,
        replacement: "`labels` of a `KubeNodeConfig` document",
        rejected: Some(Rejection {
            from_minor: 14,
            condition: "next to the `KubeNodeConfig` that talosctl generates",
            error: ".machine.nodeLabels is already set in v1alpha1 config",
        }),
    },
    Deprecation {
        path: "machine.nodeAnnotations",
        since_minor: 14,
        replacement: "`annotations` of a `KubeNodeConfig` document",
        rejected: Some(Rejection {
            from_minor: 14,
            condition: "next to the `KubeNodeConfig` that talosctl generates",
            error: ".machine.nodeAnnotations is already set in v1alpha1 config",
        }),
    },
    Deprecation {
        path: "machine.nodeTaints",
        since_minor: 14,
        replacement: "`taints` of a `KubeNodeConfig` document",
        rejected: Some(Rejection {
            from_minor: 14,
            condition: "next to the `KubeNodeConfig` that talosctl generates",
            error: ".machine.nodeTaints is already set in v1alpha1 config",
        }),
    },
    Deprecation {
        path: "machine.install",
        since_minor: 14,
        replacement: "the `UnattendedInstallConfig` document (`installer.image`, `provisioning.diskSelector.match`)",
        // Research §3.1 says v1.14's gen config still writes `machine.install.image`; Talos's
        // code says otherwise and wins: at v1.14.0-rc.1 `generate/init.go` leaves
        // `machine.install` nil when `contract.UnattendedInstallConfig()` (> 1.13) and writes an
        // `UnattendedInstallConfig` whenever an install disk is set (talosctl's default
        // `--install-disk /dev/sda`), and `UnattendedInstallConfigV1Alpha1.V1Alpha1ConflictValidate`
        // rejects any `machine.install` next to it.
        rejected: Some(Rejection {
            from_minor: 14,
            condition: "next to the `UnattendedInstallConfig` that talosctl gen config writes",
            error: "UnattendedInstallConfig config is incompatible with v1alpha1 config (.machine.install)",
        }),
    },
    Deprecation {
        // v1.14 generated configs carry a `KubeNetworkConfig`.
        path: "cluster.network",
        since_minor: 14,
        replacement: "a `KubeNetworkConfig` document",
        rejected: Some(Rejection {
            from_minor: 14,
            condition: "next to the `KubeNetworkConfig` that talosctl generates",
            error: "cluster network config is already set in the v1alpha1 config",
        }),
    },
];

struct Validator<'t> {
    file: FileId,
    minor: u32,
    table: &'t Table,
    findings: Vec<Finding>,
}

/// Where a value sits in its document.
struct Context<'a> {
    path: Path<'a>,
    /// Where "missing required field" points: the parent key, list item or document start.
    anchor: Span,
    /// Root keys already dealt with (the identity keys); empty below the root.
    skip: &'a [&'a str],
    /// Inside a subtree already reported as deprecated: only rejections are still reported.
    in_deprecated: bool,
    /// Which root the path starts from, to look the same place up in other versions.
    root: Root<'a>,
}

impl<'a> Context<'a> {
    fn is_root(&self) -> bool {
        self.path.is_root()
    }

    fn skips(&self, key: &str) -> bool {
        self.is_root() && self.skip.contains(&key)
    }

    /// The context of a value below this one.
    fn child<'c>(&'c self, path: Path<'c>, anchor: Span, in_deprecated: bool) -> Context<'c> {
        Context {
            path,
            anchor,
            skip: &[],
            in_deprecated,
            root: self.root,
        }
    }
}

#[derive(Clone, Copy)]
enum Root<'a> {
    Legacy,
    Kind(&'a str),
}

impl Validator<'_> {
    fn report(
        &mut self,
        code: &'static str,
        severity: Severity,
        span: Span,
        message: String,
        help: Option<String>,
    ) {
        let mut finding = Finding::new(code, severity, Location::new(self.file, span), message);
        finding.help = help;
        self.findings.push(finding);
    }

    fn talos(&self) -> String {
        format!("Talos v1.{}", self.minor)
    }

    fn document(&mut self, doc: &Node) {
        let Some(entries) = doc.as_map() else {
            if !doc.is_null() {
                let message = format!(
                    "a Talos config document must be a mapping, found {}",
                    doc.type_name()
                );
                self.report(INVALID_VALUE, Severity::Error, doc.span, message, None);
            }
            return;
        };
        if entries.is_empty() {
            return;
        }
        let start = Span::at(doc.span.start);
        let (Some(kind), Some(api_version)) =
            (self.identity(doc, "kind"), self.identity(doc, "apiVersion"))
        else {
            return;
        };
        let legacy_keys: Vec<&Node> = entries
            .iter()
            .map(|(key, _)| key)
            .filter(|key| key.as_str().is_some_and(|k| LEGACY_KEYS.contains(&k)))
            .collect();

        match kind.text {
            None if !legacy_keys.is_empty() => self.legacy_document(doc, start, &kind, &api_version),
            None if api_version.text == Some(API_VERSION) => self.report(
                MISSING_KIND,
                Severity::Error,
                api_version.key_span.unwrap_or(start),
                "`apiVersion: v1alpha1` without `kind`: Talos reads this as the legacy machine-config \
                 document and fails with \"unknown keys found during decoding\""
                    .into(),
                Some("did you forget `kind:`?".into()),
            ),
            None => self.report(
                MISSING_KIND,
                Severity::Error,
                kind.key_span.unwrap_or(start),
                "missing kind".into(),
                Some(
                    "every document except the legacy `machine:`/`cluster:` one needs `apiVersion: v1alpha1` \
                     and `kind:`; did you forget `kind:`?"
                        .into(),
                ),
            ),
            Some(kind_name) => {
                for key in legacy_keys {
                    let message = format!(
                        "`{}` belongs to the legacy machine-config document, not to a `kind: {kind_name}` document",
                        key.as_str().unwrap_or_default()
                    );
                    let help = "move it into its own document without `apiVersion`/`kind` (separate documents with `---`)";
                    self.report(MISSING_KIND, Severity::Error, key.span, message, Some(help.into()));
                }
                self.kind_document(doc, start, kind_name, &kind, &api_version);
            }
        }
    }

    /// Reads `kind` or `apiVersion`; `None` (after reporting) when its value is not a string.
    fn identity<'d>(&mut self, doc: &'d Node, key: &str) -> Option<Identity<'d>> {
        let Some((key_node, value)) = doc.entry(key) else {
            return Some(Identity::default());
        };
        let text = match &value.value {
            Value::Null => None,
            Value::Str(s) if s.is_empty() => None,
            Value::Str(s) => Some(s.as_str()),
            _ => {
                let message = format!("`{key}` must be a string, found {}", value.type_name());
                self.report(INVALID_VALUE, Severity::Error, value.span, message, None);
                return None;
            }
        };
        Some(Identity {
            text,
            key_span: Some(key_node.span),
            value_span: Some(value.span),
        })
    }

    fn legacy_document(
        &mut self,
        doc: &Node,
        start: Span,
        kind: &Identity,
        api_version: &Identity,
    ) {
        for (name, identity) in [("apiVersion", api_version), ("kind", kind)] {
            if let Some(span) = identity.key_span {
                let message = format!(
                    "the legacy machine-config document (`machine:`/`cluster:`) does not take `{name}`; \
                     Talos fails with \"unknown keys found during decoding\""
                );
                let help = format!(
                    "remove `{name}`, or move `machine:`/`cluster:` into a separate document"
                );
                self.report(MISSING_KIND, Severity::Error, span, message, Some(help));
            }
        }
        let table = self.table;
        if let Shape::Object(root) = &table.legacy {
            let context = Context {
                path: Path::Root,
                anchor: start,
                skip: &["apiVersion", "kind"],
                in_deprecated: false,
                root: Root::Legacy,
            };
            self.object(doc, root, &context);
        }
    }

    fn kind_document(
        &mut self,
        doc: &Node,
        start: Span,
        kind_name: &str,
        kind: &Identity,
        api_version: &Identity,
    ) {
        match api_version.text {
            None => {
                let help = format!(
                    "add `apiVersion: v1alpha1` (talosctl before v1.12.6 reports this as `\"{kind_name}\" \"\": not registered`)"
                );
                let span = kind.key_span.unwrap_or(start);
                self.report(
                    MISSING_KIND,
                    Severity::Error,
                    span,
                    "missing apiVersion".into(),
                    Some(help),
                );
            }
            Some(version) if version != API_VERSION => {
                self.report(
                    UNKNOWN_KEY,
                    Severity::Error,
                    api_version.value_span.unwrap_or(start),
                    format!("\"{kind_name}\" \"{version}\": not registered"),
                    Some("Talos registers every document kind under `apiVersion: v1alpha1`".into()),
                );
                return;
            }
            Some(_) => {}
        }
        let table = self.table;
        let Some(shape) = table.kinds.get(kind_name) else {
            let help = self.unknown_kind_help(kind_name);
            let message = format!("\"{kind_name}\" \"{API_VERSION}\": not registered");
            self.report(
                UNKNOWN_KEY,
                Severity::Error,
                kind.value_span.unwrap_or(start),
                message,
                help,
            );
            return;
        };
        // A document that deletes itself names only its kind (and name): nothing else in it is
        // decoded.
        if is_delete_directive(doc) {
            return;
        }
        if let Shape::Object(root) = shape {
            let mut skip = vec!["apiVersion", "kind"];
            skip.extend(LEGACY_KEYS);
            let context = Context {
                path: Path::Root,
                anchor: start,
                skip: &skip,
                in_deprecated: false,
                root: Root::Kind(kind_name),
            };
            self.object(doc, root, &context);
        }
    }

    fn unknown_kind_help(&self, kind: &str) -> Option<String> {
        let kinds = document_kinds(self.minor);
        if let Some(similar) = closest(kind, kinds.iter().copied()) {
            return Some(format!("did you mean `{similar}`?"));
        }
        let elsewhere: Vec<u32> = schema_minors()
            .filter(|m| table(*m).is_some_and(|t| t.kinds.contains_key(kind)))
            .collect();
        match (elsewhere.first(), elsewhere.last()) {
            (Some(first), _) if *first > self.minor => Some(format!(
                "`{kind}` exists from Talos v1.{first}; {} does not know it",
                self.talos()
            )),
            (_, Some(last)) if *last < self.minor => {
                Some(format!("`{kind}` exists up to Talos v1.{last} only"))
            }
            _ => None,
        }
    }

    fn object(&mut self, node: &Node, shape: &ObjectShape, context: &Context) {
        let Some(entries) = node.as_map() else {
            return;
        };
        for (key, value) in entries {
            let Some(text) = key_text(key) else {
                let message = format!("a key must be a plain word, found {}", key.type_name());
                self.report(UNKNOWN_KEY, Severity::Error, key.span, message, None);
                continue;
            };
            let name = text.as_ref();
            // `$patch: delete` is a strategic-merge directive Talos's `configpatcher` accepts on
            // any document, map or list item; it is no config field.
            if context.skips(name) || name == PATCH_DIRECTIVE {
                continue;
            }
            let path = context.path.child_key(name);
            if let Some(value_shape) = beyond_schema(context, name) {
                let child = context.child(path, key.span, context.in_deprecated);
                self.value(value, value_shape, &child);
            } else if let Some(value_shape) = shape.properties.get(name) {
                let removed_in = shape.removed.get(name).copied();
                let reported =
                    self.deprecation(key, value, &path, removed_in, context.in_deprecated);
                let child = context.child(path, key.span, context.in_deprecated || reported);
                self.value(value, value_shape, &child);
            } else {
                self.unknown_key(key, name, shape, context);
            }
        }
        for required in shape.required {
            let present = entries.iter().any(|(k, _)| k.as_str() == Some(*required));
            if !present && !context.skips(required) {
                let mut message = format!("missing required field `{required}`");
                if !context.is_root() {
                    let _ = write!(message, " in `{}`", context.path.display());
                }
                self.report(
                    INVALID_VALUE,
                    Severity::Error,
                    context.anchor,
                    message,
                    None,
                );
            }
        }
    }

    /// Reports TAL008 for a key the schema knows; true when the key is deprecated.
    fn deprecation(
        &mut self,
        key: &Node,
        value: &Node,
        path: &Path,
        removed_in: Option<&str>,
        in_deprecated: bool,
    ) -> bool {
        // A deprecated key that sets nothing (`registries: {}`, which `talosctl gen config`
        // writes into every v1.12+ worker config) has nothing to move: only a rejection is said.
        let quiet = in_deprecated || sets_nothing(value);
        let known = DEPRECATIONS
            .iter()
            .find(|d| self.minor >= d.since_minor && path.keys_spell(d.path));
        if let Some(known) = known {
            let keys = path.keys();
            let help = Some(format!("use {}", known.replacement));
            match known.rejected.filter(|r| self.minor >= r.from_minor) {
                Some(rejection) => {
                    let message = format!(
                        "`{keys}` is rejected by {} {}: \"{}\"",
                        self.talos(),
                        rejection.condition,
                        rejection.error
                    );
                    self.report(DEPRECATED, Severity::Error, key.span, message, help);
                }
                // A warning inside a subtree already reported would only repeat it.
                None if quiet => {}
                None => {
                    let message = format!(
                        "`{keys}` is deprecated since Talos v1.{}",
                        known.since_minor
                    );
                    self.report(DEPRECATED, Severity::Warning, key.span, message, help);
                }
            }
            return true;
        }
        match removed_in {
            Some(last) if !quiet => {
                let keys = path.keys();
                let message = format!(
                    "`{keys}` is not documented for {} (last in the {last} schema): it is deprecated",
                    self.talos()
                );
                self.report(DEPRECATED, Severity::Warning, key.span, message, None);
                true
            }
            _ => false,
        }
    }

    fn unknown_key(&mut self, key: &Node, name: &str, shape: &ObjectShape, context: &Context) {
        let place = match context.root {
            _ if !context.is_root() => format!("`{}`", context.path.display()),
            Root::Legacy => "the machine-config document".to_string(),
            Root::Kind(kind) => format!("a `{kind}` document"),
        };
        let message = format!("unknown key `{name}` in {place} for {}", self.talos());
        let candidates = shape.properties.keys().filter(|k| !context.skips(k));
        let help = match closest(name, candidates) {
            Some(similar) => Some(format!("did you mean `{similar}`?")),
            None => self
                .newer_version_with(context, name)
                .map(|minor| format!("`{name}` exists from Talos v1.{minor}")),
        };
        self.report(UNKNOWN_KEY, Severity::Error, key.span, message, help);
    }

    /// The first newer minor whose schema has `name` at this place.
    fn newer_version_with(&self, context: &Context, name: &str) -> Option<u32> {
        schema_minors().filter(|m| *m > self.minor).find(|m| {
            let Some(table) = table(*m) else {
                return false;
            };
            let root = match context.root {
                Root::Legacy => Some(&table.legacy),
                Root::Kind(kind) => table.kinds.get(kind),
            };
            let parent = root.and_then(|r| shape_at(r, &context.path.segments()));
            matches!(parent, Some(Shape::Object(o)) if o.properties.contains_key(name))
        })
    }

    fn value(&mut self, node: &Node, shape: &Shape, context: &Context) {
        // Talos leaves a null field at its zero value, and takes a mapping that deletes what it
        // stands for out of the patch before decoding it, whatever the field's type.
        if node.is_null() || is_delete_directive(node) {
            return;
        }
        match shape {
            Shape::String => self.string(node, context),
            Shape::Integer => self.integer(node, None, None, context),
            Shape::BoundedInteger { minimum, maximum } => {
                self.integer(node, *minimum, *maximum, context)
            }
            Shape::Boolean => self.boolean(node, context),
            Shape::Enum(values) => self.enumeration(node, values, context),
            Shape::List { items, min_items } => self.list(node, items, *min_items, context),
            Shape::OneOf(alternatives) => self.one_of(node, alternatives, context),
            Shape::AnyObject | Shape::Map(_) | Shape::Object(_) => {
                if node.as_map().is_none() {
                    self.wrong_type(node, "a mapping", context);
                } else if let Shape::Map(values) = shape {
                    self.map(node, values, context);
                } else if let Shape::Object(object) = shape {
                    self.object(node, object, context);
                }
            }
        }
    }

    fn wrong_type(&mut self, node: &Node, expected: &str, context: &Context) {
        let message = format!(
            "`{}` must be {expected}, found {}",
            context.path.display(),
            node.type_name()
        );
        self.report(INVALID_VALUE, Severity::Error, node.span, message, None);
    }

    fn string(&mut self, node: &Node, context: &Context) {
        match &node.value {
            // Talos's YAML decoder (yaml.v3) puts the text of any scalar into a string field as
            // it is written: `rotate-server-certificates: true` is the text `true`.
            Value::Str(_) | Value::Null | Value::Int(_) | Value::Float(_) | Value::Bool(_) => {}
            Value::Seq(_) | Value::Map(_) => self.wrong_type(node, "a string", context),
        }
    }

    fn integer(
        &mut self,
        node: &Node,
        minimum: Option<i64>,
        maximum: Option<i64>,
        context: &Context,
    ) {
        let number = match node.value {
            Value::Int(i) => i as f64,
            Value::Float(f) if f.fract() == 0.0 => f,
            _ => return self.wrong_type(node, "an integer", context),
        };
        let below = minimum.is_some_and(|min| number < min as f64);
        let above = maximum.is_some_and(|max| number > max as f64);
        if !(below || above) {
            return;
        }
        let range = match (minimum, maximum) {
            (Some(min), Some(max)) => format!("between {min} and {max}"),
            (Some(min), None) => format!("at least {min}"),
            (None, Some(max)) => format!("at most {max}"),
            (None, None) => String::new(),
        };
        let message = format!(
            "`{}` must be {range}, found {number}",
            context.path.display()
        );
        self.report(INVALID_VALUE, Severity::Error, node.span, message, None);
    }

    fn boolean(&mut self, node: &Node, context: &Context) {
        let accepted = match &node.value {
            Value::Bool(_) => true,
            // yaml.v3 accepts the YAML 1.1 spellings when decoding into a Go bool.
            Value::Str(s) => yaml11_bool(s).is_some(),
            _ => false,
        };
        if !accepted {
            self.wrong_type(node, "true or false", context);
        }
    }

    fn enumeration(&mut self, node: &Node, values: &[&str], context: &Context) {
        let matches = match &node.value {
            Value::Str(s) => values.iter().any(|v| v == s),
            // `auto: off` is a string to Talos (yaml.v3 follows YAML 1.2 outside bool fields)
            // but a YAML 1.1 boolean to our parser: accept it when the enum spells that boolean.
            Value::Bool(b) => values.iter().any(|v| yaml11_bool(v) == Some(*b)),
            Value::Int(_) | Value::Float(_) => node
                .scalar_text()
                .is_some_and(|t| values.contains(&t.as_ref())),
            _ => false,
        };
        if matches {
            return;
        }
        let listed = values
            .iter()
            .map(|v| format!("`{v}`"))
            .collect::<Vec<_>>()
            .join(", ");
        let found = node
            .scalar_text()
            .map_or_else(|| node.type_name().to_string(), |t| format!("`{t}`"));
        let message = format!(
            "`{}` must be one of {listed}, found {found}",
            context.path.display()
        );
        let help = node
            .scalar_text()
            .and_then(|t| closest(&t, values.iter().copied()))
            .map(|v| format!("did you mean `{v}`?"));
        self.report(INVALID_VALUE, Severity::Error, node.span, message, help);
    }

    fn list(&mut self, node: &Node, items: &Shape, min_items: Option<usize>, context: &Context) {
        let Some(elements) = node.as_seq() else {
            return self.wrong_type(node, "a list", context);
        };
        if let Some(min) = min_items.filter(|min| elements.len() < *min) {
            let message = format!(
                "`{}` needs at least {min} item(s), found {}",
                context.path.display(),
                elements.len()
            );
            self.report(INVALID_VALUE, Severity::Error, node.span, message, None);
        }
        for (index, element) in elements.iter().enumerate() {
            let child = context.child(
                context.path.child_index(index),
                Span::at(element.span.start),
                context.in_deprecated,
            );
            self.value(element, items, &child);
        }
    }

    fn map(&mut self, node: &Node, values: &Shape, context: &Context) {
        for (key, value) in node.as_map().unwrap_or_default() {
            let name = key_text(key).unwrap_or_default();
            let child = context.child(
                context.path.child_key(&name),
                key.span,
                context.in_deprecated,
            );
            self.value(value, values, &child);
        }
    }

    /// Accepts the first alternative without errors (keeping its warnings, if every error-free
    /// alternative has some); reports a type error when every alternative has errors.
    fn one_of(&mut self, node: &Node, alternatives: &[Shape], context: &Context) {
        let before = self.findings.len();
        let mut best: Option<Vec<Finding>> = None;
        for alternative in alternatives {
            self.value(node, alternative, context);
            let found = self.findings.split_off(before);
            let no_errors = found.iter().all(|f| f.severity < Severity::Error);
            if no_errors && best.as_ref().is_none_or(|b| found.len() < b.len()) {
                best = Some(found);
            }
        }
        match best {
            Some(found) => self.findings.extend(found),
            None => {
                let names: Vec<&str> = alternatives.iter().map(Shape::describe).collect();
                self.wrong_type(node, &names.join(" or "), context);
            }
        }
    }
}

/// Keys Talos decodes that no schema lists as they are: the legacy root's `persist` (written
/// by `talosctl gen config` on every version) and `version` (any value: Talos never checks it,
/// research §2.1; the schema's enum would reject what Talos accepts).
fn beyond_schema(context: &Context, name: &str) -> Option<&'static Shape> {
    static BOOLEAN: Shape = Shape::Boolean;
    static STRING: Shape = Shape::String;
    if !(matches!(context.root, Root::Legacy) && context.is_root()) {
        return None;
    }
    match name {
        "persist" => Some(&BOOLEAN),
        "version" => Some(&STRING),
        _ => None,
    }
}

/// `kind` or `apiVersion` as written.
#[derive(Default)]
struct Identity<'d> {
    /// `None` when absent, null or empty.
    text: Option<&'d str>,
    key_span: Option<Span>,
    value_span: Option<Span>,
}

impl Shape {
    fn describe(&self) -> &'static str {
        match self {
            Self::String => "a string",
            Self::Integer | Self::BoundedInteger { .. } => "an integer",
            Self::Boolean => "true or false",
            Self::Enum(_) => "one of the listed values",
            Self::List { .. } => "a list",
            Self::AnyObject | Self::Map(_) | Self::Object(_) => "a mapping",
            Self::OneOf(_) => "one of several shapes",
        }
    }
}

/// The shape at a path below `root` (list indexes step into items, keys into properties or
/// map values).
fn shape_at<'s>(root: &'s Shape, path: &[Segment<'_>]) -> Option<&'s Shape> {
    path.iter()
        .try_fold(root, |shape, segment| match (segment, shape) {
            (Segment::Key(key), Shape::Object(object)) => object.properties.get(key),
            (Segment::Key(_), Shape::Map(values)) => Some(*values),
            (Segment::Index(_), Shape::List { items, .. }) => Some(*items),
            _ => None,
        })
}

/// A mapping key's text: borrowed when the key is a string (nearly always), spelt out when it
/// is another scalar.
fn key_text(key: &Node) -> Option<Cow<'_, str>> {
    match key.as_str() {
        Some(text) => Some(Cow::Borrowed(text)),
        None => key.scalar_text().map(Cow::Owned),
    }
}

/// The YAML 1.1 boolean a word spells, as yaml.v3 reads it into a Go bool.
fn yaml11_bool(word: &str) -> Option<bool> {
    match word {
        "y" | "Y" | "yes" | "Yes" | "YES" | "on" | "On" | "ON" | "true" | "True" | "TRUE" => {
            Some(true)
        }
        "n" | "N" | "no" | "No" | "NO" | "off" | "Off" | "OFF" | "false" | "False" | "FALSE" => {
            Some(false)
        }
        _ => None,
    }
}

/// The candidate closest to a misspelt name, when one is close enough to suggest.
fn closest<'c>(name: &str, candidates: impl Iterator<Item = &'c str>) -> Option<&'c str> {
    let lower = name.to_ascii_lowercase();
    candidates
        .map(|candidate| {
            let score = if candidate.to_ascii_lowercase() == lower {
                1.0
            } else {
                strsim::jaro_winkler(&lower, &candidate.to_ascii_lowercase())
            };
            (score, candidate)
        })
        .filter(|(score, _)| *score >= 0.85)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, candidate)| candidate)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value as Json;

    /// Asserts that `shape`, as build.rs compiled it, is what `json` says (the derive
    /// script's format), at `place`.
    fn assert_compiled(shape: &Shape, json: &Json, place: &str) {
        let tagged = |tag: &str| json.get(tag).unwrap_or_else(|| panic!("{place}: {json}"));
        match shape {
            Shape::String => assert_eq!(json, "string", "{place}"),
            Shape::Integer => assert_eq!(json, "integer", "{place}"),
            Shape::Boolean => assert_eq!(json, "boolean", "{place}"),
            Shape::AnyObject => assert_eq!(json, "anyObject", "{place}"),
            Shape::BoundedInteger { minimum, maximum } => {
                let bounds = tagged("boundedInteger");
                assert_eq!(
                    *minimum,
                    bounds.get("minimum").and_then(Json::as_i64),
                    "{place}"
                );
                assert_eq!(
                    *maximum,
                    bounds.get("maximum").and_then(Json::as_i64),
                    "{place}"
                );
            }
            Shape::Enum(values) => {
                assert_eq!(*tagged("enum"), Json::from(values.to_vec()), "{place}")
            }
            Shape::List { items, min_items } => {
                let list = tagged("list");
                let min = list.get("minItems").and_then(Json::as_u64);
                assert_eq!(min_items.map(|n| n as u64), min, "{place}");
                assert_compiled(items, &list["items"], &format!("{place}[]"));
            }
            Shape::Map(values) => assert_compiled(values, tagged("map"), &format!("{place}.*")),
            Shape::OneOf(alternatives) => {
                let listed = tagged("oneOf").as_array().expect("a list");
                assert_eq!(alternatives.len(), listed.len(), "{place}");
                for (shape, json) in alternatives.iter().zip(listed) {
                    assert_compiled(shape, json, place);
                }
            }
            Shape::Object(object) => {
                let body = tagged("object");
                let required: Vec<&str> = object.required.to_vec();
                assert_eq!(body["required"], Json::from(required), "{place}");
                assert_names(&object.removed, &body["removed"], place, |version, json| {
                    assert_eq!(json, *version);
                });
                assert_names(
                    &object.properties,
                    &body["properties"],
                    place,
                    |shape, json| {
                        assert_compiled(shape, json, place);
                    },
                );
            }
        }
    }

    /// Asserts that `names` are sorted (their lookup is a binary search) and hold exactly the
    /// entries of the JSON object `json`, each checked by `check`.
    fn assert_names<T>(names: &Names<T>, json: &Json, place: &str, check: impl Fn(&T, &Json)) {
        let object = json
            .as_object()
            .unwrap_or_else(|| panic!("{place}: {json}"));
        assert!(
            names.0.is_sorted_by(|a, b| a.0 < b.0),
            "{place}: not sorted"
        );
        assert_eq!(names.0.len(), object.len(), "{place}");
        for (name, value) in names.0 {
            let json = object
                .get(*name)
                .unwrap_or_else(|| panic!("{place}.{name}"));
            check(value, json);
            assert!(names.contains_key(name));
        }
    }

    #[test]
    fn every_table_is_compiled_as_its_json_says() {
        let data = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("data/talos");
        let mut files = 0;
        for entry in std::fs::read_dir(&data).expect("data/talos") {
            let path = entry.expect("an entry").path();
            let name = path.file_name().and_then(|n| n.to_str()).expect("a name");
            let Some(minor) = name
                .strip_prefix("v1.")
                .and_then(|n| n.strip_suffix(".json"))
            else {
                continue;
            };
            files += 1;
            let minor: u32 = minor.parse().expect("a minor");
            let json: Json =
                serde_json::from_str(&std::fs::read_to_string(&path).expect("read")).expect("JSON");
            let compiled = table(minor).unwrap_or_else(|| panic!("{name} is not compiled"));
            assert_eq!(json["talos"], compiled.talos);
            assert_eq!(json["source_sha256"], compiled.source_sha256);
            assert_compiled(&compiled.legacy, &json["legacy"], name);
            assert_names(&compiled.kinds, &json["kinds"], name, |shape, json| {
                assert_compiled(shape, json, name);
            });
        }
        assert_eq!(files, TABLES.len());
        assert!(TABLES.is_sorted_by(|a, b| a.0 < b.0), "oldest minor first");
    }

    /// `machine.kubelet.extraMounts[0].options` built link by link, handed to `check`.
    fn with_nested_path(check: impl FnOnce(&Path<'_>)) {
        let root = Path::Root;
        let machine = root.child_key("machine");
        let kubelet = machine.child_key("kubelet");
        let mounts = kubelet.child_key("extraMounts");
        let first = mounts.child_index(0);
        let options = first.child_key("options");
        check(&options);
    }

    #[test]
    fn a_path_displays_its_keys_and_indexes_from_the_root_down() {
        with_nested_path(|path| {
            assert_eq!(path.display(), "machine.kubelet.extraMounts[0].options");
            assert_eq!(path.keys(), "machine.kubelet.extraMounts.options");
        });
        assert_eq!(Path::Root.display(), "");
        let root = Path::Root;
        let item = root.child_index(3);
        assert_eq!(item.display(), "[3]");
        assert_eq!(item.keys(), "");
    }

    #[test]
    fn keys_spell_agrees_with_the_joined_keys() {
        let dotted = [
            "",
            "machine",
            "machine.kubelet",
            "machine.kubelet.extraMounts.options",
            "kubelet.extraMounts.options",
            "machine.kubelet.extraMounts",
            "machine.sysctls.vm.nr_hugepages",
            "sysctls.vm.nr_hugepages",
            "machine..x",
            ".x",
        ];
        let root = Path::Root;
        let machine = root.child_key("machine");
        let empty = machine.child_key("");
        let x_after_empty = empty.child_key("x");
        let sysctls = machine.child_key("sysctls");
        // A key with a dot in it spells the same as two keys, as in the joined string.
        let dotted_key = sysctls.child_key("vm.nr_hugepages");
        let leading_empty = root.child_key("");
        let x_after_leading_empty = leading_empty.child_key("x");
        let listed = root.child_index(0);
        let paths = [
            &root,
            &machine,
            &x_after_empty,
            &dotted_key,
            &x_after_leading_empty,
            &listed,
        ];
        for path in paths {
            for text in dotted {
                assert_eq!(
                    path.keys_spell(text),
                    path.keys() == text,
                    "{:?} against {text:?}",
                    path.keys()
                );
            }
        }
        with_nested_path(|path| {
            for text in dotted {
                assert_eq!(path.keys_spell(text), path.keys() == text, "{text:?}");
            }
        });
    }

    #[test]
    fn a_key_reads_as_its_scalar_text() {
        let doc = crate::yaml::parse_documents("a: 1\n1: 2\ntrue: 3\n1.5: 4\n")
            .expect("parses")
            .into_iter()
            .next()
            .expect("one document");
        let entries = doc.as_map().expect("a mapping");
        assert!(entries.iter().any(|(key, _)| key.as_str().is_none()));
        for (key, _) in entries {
            assert_eq!(
                key_text(key).map(Cow::into_owned),
                key.scalar_text(),
                "{key:?}"
            );
        }
    }
}

//! Fix hints in the intent's language. A rule speaks the language of the file it usually reads
//! (`customization.systemExtensions.officialExtensions`, `mtu=1`, `scsi1,format=`), but a finding
//! located in an intent must name the intent key to change (`talos.extensions`, `network.mtu`,
//! `longhorn.dataDisk.format`). This table rewrites the help of every rule that can fire on an
//! intent; the key comes from where the finding points (`defaults.worker.cpu`, `nodes[3].cores`).

use crate::finding::Finding;
use crate::model::Cluster;
use crate::source::{FileId, Span};
use crate::yaml::{self, Node, Value};
use std::collections::HashMap;

/// The intent-language help of a rule: from the key the finding points at and the rule's own
/// help (for the numbers it computed).
type Hint = fn(key: &Key, help: &str) -> String;

const HINTS: &[(&str, Hint)] = &[
    ("PVE001", |key, _| {
        format!(
            "set `{}: host` (or `x86-64-v2-AES` to keep live migration)",
            key.field("cpu")
        )
    }),
    ("PVE003", |key, _| {
        format!(
            "set `{}: raw` (or remove it), ideally on a `zfspool` storage under `proxmox.storage`",
            key.field_of("disk", "format")
        )
    }),
    ("PVE005", |key, help| match first_number(help) {
        Some(mib) => format!("set `{}: {}` or more", key.field("memory"), size(mib)),
        None => format!("raise `{}`", key.field("memory")),
    }),
    ("PVE006", |key, help| match first_number(help) {
        Some(cores) => format!("set `{}: {cores}` or more", key.field("cores")),
        None => format!("raise `{}`", key.field("cores")),
    }),
    ("PVE010", |key, _| {
        format!(
            "set `{}: raw` (or remove it) so the data disk is a raw volume",
            key.field_of("dataDisk", "format")
        )
    }),
    ("PVE016", |key, _| {
        format!(
            "set `{}: raw` (or remove it): block storages hold raw volumes only",
            key.field_of("disk", "format")
        )
    }),
    ("PVE019", |key, _| {
        format!("give `{key}` a value that no other node uses")
    }),
    ("NET001", |_, _| {
        "set `network.mtu` to the bridge's MTU (`proxmox.bridges.<bridge>.mtu`), or remove \
         `network.mtu` so the guest uses the bridge's"
            .to_string()
    }),
    ("NET002", |_, help| match first_number(help) {
        Some(mtu) => format!("set `network.cni.mtu` to {mtu} or less, or remove it"),
        None => "lower `network.cni.mtu`, or remove it".to_string(),
    }),
    ("NET003", |_, _| {
        "use a 10 Gbps (ideally dedicated) storage network and set `network.speedGbps`, or \
         lower `longhorn.replicas` for bulk data"
            .to_string()
    }),
    ("NET004", |key, _| {
        format!("give `{key}` an address that no other node uses")
    }),
    ("TAL001", |_, _| {
        "add `siderolabs/iscsi-tools` to `talos.extensions`".to_string()
    }),
    ("TAL002", |_, _| {
        "add `siderolabs/util-linux-tools` to `talos.extensions`".to_string()
    }),
    ("LHN002", |_, help| match first_number(help) {
        Some(nodes) => format!(
            "set `longhorn.replicas: {nodes}` or fewer, or add storage nodes (`storage: true` \
             on a node, or `longhorn.storageNodes: all`)"
        ),
        None => "lower `longhorn.replicas`, or add storage nodes".to_string(),
    }),
    ("LHN004", |_, _| {
        "add `node.longhorn.io/create-default-disk: \"true\"` to `labels` of each storage node \
         under `nodes`, or set `longhorn.storageNodes: workers`"
            .to_string()
    }),
    ("LHN007", |_, _| {
        "set `longhorn.backup: {target: s3://bucket@region/path/, credentialSecret: <secret>}`"
            .to_string()
    }),
    ("LHN009", |_, _| {
        "set `longhorn.engine: v1`, or `longhorn.version` to 1.12 or later".to_string()
    }),
    ("LHN011", |_, help| match first_number(help) {
        Some(replicas) => format!("set `longhorn.replicas: {replicas}`"),
        None => "raise `longhorn.replicas`".to_string(),
    }),
];

/// The codes whose help this module rewrites (for tests and docs).
pub fn codes() -> impl Iterator<Item = &'static str> {
    HINTS.iter().map(|(code, _)| *code)
}

/// Rewrites the help of findings located in an intent file.
pub fn apply(findings: &mut [Finding], cluster: &Cluster) {
    let mut trees: HashMap<FileId, Option<Node>> = HashMap::new();
    for finding in findings {
        let Some((_, hint)) = HINTS.iter().find(|(code, _)| *code == finding.code) else {
            continue;
        };
        let file = finding.at.file;
        if !is_intent(cluster, file) {
            continue;
        }
        let tree = trees
            .entry(file)
            .or_insert_with(|| yaml::parse_document(&cluster.sources.get(file).text).ok());
        let Some(tree) = tree else { continue };
        let key = Key(path_at(tree, finding.at.span));
        finding.help = Some(hint(&key, finding.help.as_deref().unwrap_or_default()));
    }
}

/// An intent file: where the VMs lowered from an intent are located.
fn is_intent(cluster: &Cluster, file: FileId) -> bool {
    cluster
        .vms
        .iter()
        .any(|vm| vm.file.is_none() && vm.origin.file == file)
}

/// A key path in the intent (or another YAML file): `["defaults", "worker", "cpu"]`,
/// `["nodes", "3"]`.
pub struct Key(Vec<String>);

impl Key {
    pub const fn new(path: Vec<String>) -> Self {
        Self(path)
    }

    /// The last key (`installDisk` of `nodes[1].installDisk`).
    pub fn last(&self) -> Option<&str> {
        self.0.last().map(String::as_str)
    }

    /// The path up to and including the nearest `token` on it (`worker.schematic`).
    pub fn up_to(&self, token: &str) -> Option<String> {
        let i = self.0.iter().rposition(|t| t == token)?;
        Some(Self(self.0[..=i].to_vec()).to_string())
    }

    /// The list entry the path passes through first (`nodes[1]` of `nodes[1].installDisk`),
    /// else the whole path.
    pub fn entry(&self) -> String {
        match self.0.iter().position(|t| t.parse::<usize>().is_ok()) {
            Some(i) => Self(self.0[..=i].to_vec()).to_string(),
            None => self.to_string(),
        }
    }

    /// The path of `field` for the entry the finding points at: itself when it is that field,
    /// else the field under it (a default that was not written is set on the node).
    fn field(&self, field: &str) -> String {
        if self.0.last().is_some_and(|last| last == field) {
            self.to_string()
        } else {
            let mut path = self.0.clone();
            path.push(field.to_string());
            Self(path).to_string()
        }
    }

    /// `field` under the nearest `parent` mapping on the path (`…disk.format`), else under the
    /// entry itself.
    fn field_of(&self, parent: &str, field: &str) -> String {
        match self.0.iter().rposition(|token| token == parent) {
            Some(i) => Self(self.0[..=i].to_vec()).field(field),
            None => self.field(field),
        }
    }
}

impl std::fmt::Display for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, token) in self.0.iter().enumerate() {
            if token.parse::<usize>().is_ok() {
                write!(f, "[{token}]")?;
            } else if i == 0 {
                f.write_str(token)?;
            } else {
                write!(f, ".{token}")?;
            }
        }
        Ok(())
    }
}

/// The keys leading to the innermost value (or key) at `span`'s start. A collection's span
/// only marks where it starts, so each level takes the last entry that starts at or before it.
pub(super) fn path_at(root: &Node, span: Span) -> Vec<String> {
    let target = span.start;
    let mut path = Vec::new();
    let mut node = root;
    loop {
        let next = match &node.value {
            Value::Map(entries) => entries
                .iter()
                .rev()
                .find(|(key, _)| key.span.start <= target)
                .map(|(key, value)| {
                    let on_key = target < key.span.end;
                    (
                        key.scalar_text().unwrap_or_default(),
                        (!on_key).then_some(value),
                    )
                }),
            Value::Seq(items) => items
                .iter()
                .enumerate()
                .rev()
                .find(|(_, item)| item.span.start <= target)
                .map(|(i, item)| (i.to_string(), Some(item))),
            _ => None,
        };
        match next {
            Some((token, child)) => {
                path.push(token);
                match child {
                    Some(child) => node = child,
                    None => return path,
                }
            }
            None => return path,
        }
    }
}

/// The first whole number in a help text (`raise memory to 4096` → 4096).
pub(super) fn first_number(text: &str) -> Option<u64> {
    let start = text.find(|c: char| c.is_ascii_digit())?;
    let digits: String = text[start..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}

/// MiB as the intent writes sizes.
fn size(mib: u64) -> String {
    if mib.is_multiple_of(1024) {
        format!("{}GiB", mib / 1024)
    } else {
        format!("{mib}MiB")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_is_the_path_to_the_value_the_finding_points_at() {
        let text = "defaults:\n  worker: { cpu: kvm64 }\nnodes:\n  - { name: a, cores: 1 }\n";
        let root = yaml::parse_document(text).unwrap_or_else(|e| panic!("{}", e.message));
        let at = |needle: &str| {
            let start = text.find(needle).unwrap_or_default();
            Span::new(start, start + needle.len())
        };
        assert_eq!(
            Key(path_at(&root, at("kvm64"))).to_string(),
            "defaults.worker.cpu"
        );
        assert_eq!(Key(path_at(&root, at("1 }"))).to_string(), "nodes[0].cores");
        let node = Key(path_at(&root, at("{ name")));
        assert_eq!(node.to_string(), "nodes[0]");
        assert_eq!(node.field("memory"), "nodes[0].memory");
    }

    #[test]
    fn numbers_from_the_rule_help_become_intent_values() {
        assert_eq!(first_number("set `memory: 8192` or more"), Some(8192));
        assert_eq!(size(8192), "8GiB");
        assert_eq!(size(1536), "1536MiB");
    }
}

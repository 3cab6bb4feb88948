//! The Proxmox VE `/etc/pve/storage.cfg` parser and what a storage type can hold.
//!
//! Format (pve-common `SectionConfig.pm`, shared/research/proxmox.md §5): a header
//! `<type>: <storage-id>` at column 0, then indented `<key> <value>` lines (a key without a
//! value is a flag meaning 1); a blank line ends the section; `#` lines are comments.

use crate::source::Span;

#[derive(Clone, Debug, Default, PartialEq)]
pub struct StorageCfg {
    pub entries: Vec<StorageEntry>,
    pub problems: Vec<StorageProblem>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StorageEntry {
    /// The storage type: `dir`, `zfspool`, `lvmthin`, `lvm`, `nfs`, `rbd`, …
    pub kind: String,
    pub kind_span: Span,
    /// The storage ID that volumes are prefixed with (`local-lvm` in `local-lvm:vm-100-disk-0`).
    pub name: String,
    pub name_span: Span,
    pub properties: Vec<StorageProperty>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StorageProperty {
    pub key: String,
    pub key_span: Span,
    /// Empty for a flag written without a value (`sparse`), which PVE reads as 1.
    pub value: String,
    pub value_span: Span,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StorageProblem {
    pub span: Span,
    pub message: String,
}

impl StorageCfg {
    /// The storage with this ID.
    pub fn get(&self, name: &str) -> Option<&StorageEntry> {
        self.entries.iter().find(|e| e.name == name)
    }

    /// The `zfspool` storage whose dataset holds this `dir` storage's path, if any.
    pub fn zfs_backing(&self, dir: &StorageEntry) -> Option<&StorageEntry> {
        if dir.kind != "dir" {
            return None;
        }
        let path = dir.get("path")?;
        self.entries
            .iter()
            .filter(|e| e.kind == "zfspool")
            .find(|pool| {
                pool.zfs_mountpoint()
                    .is_some_and(|mp| path_is_under(&path.value, &mp))
            })
    }

    /// Whether a `dir` storage lies on a ZFS dataset of a `zfspool` storage (so a qcow2 image on
    /// it is copy-on-write on copy-on-write).
    pub fn is_on_zfs(&self, dir: &StorageEntry) -> bool {
        self.zfs_backing(dir).is_some()
    }
}

impl StorageEntry {
    /// A property; the last one when it is (wrongly) repeated.
    pub fn get(&self, key: &str) -> Option<&StorageProperty> {
        self.properties.iter().rev().find(|p| p.key == key)
    }

    /// The `content` types (`images`, `iso`, …) when the entry lists them.
    pub fn content(&self) -> Option<Vec<&str>> {
        let content = self.get("content")?;
        Some(
            content
                .value
                .split(',')
                .map(str::trim)
                .filter(|c| !c.is_empty())
                .collect(),
        )
    }

    /// Where a `zfspool` storage's datasets are mounted: `mountpoint`, else `/<pool>`.
    pub fn zfs_mountpoint(&self) -> Option<String> {
        if self.kind != "zfspool" {
            return None;
        }
        if let Some(mountpoint) = self.get("mountpoint") {
            return Some(mountpoint.value.clone());
        }
        self.get("pool").map(|pool| format!("/{}", pool.value))
    }

    /// The disk image formats this storage can hold for VMs; `None` for an unknown type.
    /// `pve` is the target PVE major version (`None`: unknown, allow what either allows).
    pub fn image_formats(&self, pve: Option<u8>) -> Option<&'static [&'static str]> {
        let volume_chain = self
            .get("snapshot-as-volume-chain")
            .is_some_and(|p| p.value.is_empty() || p.value == "1");
        if self.kind == "lvm" && volume_chain && pve != Some(8) {
            return Some(&["raw", "qcow2"]);
        }
        image_formats(&self.kind)
    }
}

/// Disk image formats a storage type can hold for VMs (pve-storage `plugindata`/`get_formats`,
/// qm-options.json `_storage_image_formats`); `None` for a type not in that table.
/// `lvm` is the PVE 8 (and default PVE 9) answer; see [`StorageEntry::image_formats`].
pub fn image_formats(kind: &str) -> Option<&'static [&'static str]> {
    Some(match kind {
        "dir" => &["raw", "qcow2", "vmdk", "subvol"],
        "nfs" | "cifs" => &["raw", "qcow2", "vmdk"],
        "btrfs" | "zfspool" => &["raw", "subvol"],
        "lvmthin" | "lvm" | "rbd" | "zfs" | "iscsi" | "iscsidirect" => &["raw"],
        "cephfs" | "pbs" | "esxi" => &[],
        _ => return None,
    })
}

/// Storage types that can hold ISO images (`_storage_image_formats.iso_content_capable`).
pub const ISO_CAPABLE_TYPES: [&str; 5] = ["dir", "nfs", "cifs", "cephfs", "btrfs"];

/// `path` equals `dir` or lies below it, compared by path components.
fn path_is_under(path: &str, dir: &str) -> bool {
    let path = path.trim_end_matches('/');
    let dir = dir.trim_end_matches('/');
    if dir.is_empty() {
        return path.starts_with('/');
    }
    path == dir
        || path
            .strip_prefix(dir)
            .is_some_and(|rest| rest.starts_with('/'))
}

/// Parse `storage.cfg`. Never fails; see [`StorageCfg::problems`].
pub fn parse(text: &str) -> StorageCfg {
    let mut cfg = StorageCfg::default();
    let mut in_section = false;
    let mut offset = 0;
    for raw_line in text.split_inclusive('\n') {
        let start = offset;
        offset += raw_line.len();
        let line = raw_line.trim_end_matches(['\n', '\r']);
        let trimmed = line.trim();
        if trimmed.is_empty() {
            in_section = false;
            continue;
        }
        if trimmed.starts_with('#') {
            continue;
        }
        let indented = line.starts_with(char::is_whitespace);
        if !indented {
            match header(line, start) {
                Some(entry) => {
                    check_duplicate_id(&mut cfg, &entry);
                    cfg.entries.push(entry);
                    in_section = true;
                }
                None => cfg.problems.push(problem(
                    line,
                    start,
                    "expected a `<type>: <storage-id>` header here; PVE ignores this line \
                     (property lines must be indented)",
                )),
            }
            continue;
        }
        match cfg.entries.last_mut().filter(|_| in_section) {
            Some(entry) => add_property(entry, line, start, &mut cfg.problems),
            None => cfg.problems.push(problem(
                line,
                start,
                "property line outside a storage section (a blank line ends a section); move it \
                 under its `<type>: <storage-id>` header",
            )),
        }
    }
    cfg
}

/// `^(\S+):\s*(\S+)\s*$`
fn header(line: &str, start: usize) -> Option<StorageEntry> {
    let (kind, rest) = line.split_once(':')?;
    if kind.is_empty() || kind.contains(char::is_whitespace) {
        return None;
    }
    let name = rest.trim();
    if name.is_empty() || name.contains(char::is_whitespace) {
        return None;
    }
    let name_start = start + kind.len() + 1 + (rest.len() - rest.trim_start().len());
    Some(StorageEntry {
        kind: kind.to_owned(),
        kind_span: Span::new(start, start + kind.len()),
        name: name.to_owned(),
        name_span: Span::new(name_start, name_start + name.len()),
        properties: Vec::new(),
    })
}

fn check_duplicate_id(cfg: &mut StorageCfg, entry: &StorageEntry) {
    if cfg.entries.iter().any(|e| e.name == entry.name) {
        cfg.problems.push(StorageProblem {
            span: entry.name_span,
            message: format!(
                "storage `{}` is defined twice; storage IDs must be unique",
                entry.name
            ),
        });
    }
}

fn add_property(
    entry: &mut StorageEntry,
    line: &str,
    start: usize,
    problems: &mut Vec<StorageProblem>,
) {
    let leading = line.len() - line.trim_start().len();
    let content = line.trim();
    let key_start = start + leading;
    let key_len = content.find(char::is_whitespace).unwrap_or(content.len());
    let key = &content[..key_len];
    let rest = &content[key_len..];
    let value = rest.trim();
    let value_start = key_start + key_len + (rest.len() - rest.trim_start().len());
    let property = StorageProperty {
        key: key.to_owned(),
        key_span: Span::new(key_start, key_start + key_len),
        value: value.to_owned(),
        value_span: Span::new(value_start, value_start + value.len()),
    };
    if entry.properties.iter().any(|p| p.key == key) {
        problems.push(StorageProblem {
            span: property.key_span,
            message: format!(
                "duplicate attribute `{key}` in storage `{}`; PVE rejects the section, keep one",
                entry.name
            ),
        });
    }
    entry.properties.push(property);
}

fn problem(line: &str, start: usize, message: &str) -> StorageProblem {
    let leading = line.len() - line.trim_start().len();
    StorageProblem {
        span: Span::new(start + leading, start + leading + line.trim().len()),
        message: message.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_compare_by_component() {
        assert!(path_is_under("/rpool/data/vz", "/rpool/data"));
        assert!(path_is_under("/rpool/data/", "/rpool/data"));
        assert!(!path_is_under("/rpool/database", "/rpool/data"));
        assert!(!path_is_under("/var/lib/vz", "/rpool/data"));
    }
}

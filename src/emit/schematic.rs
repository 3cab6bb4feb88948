//! The Image Factory schematic: canonical YAML, ID, installer image and ISO URL.
//!
//! The factory computes `id = hex(sha256(yaml.Marshal(schematic)))` with Go's YAML encoder
//! (4-space indent, fields in struct order). The factory API does not sort extensions; the UI
//! does, and so does talhorn when it generates one.

use crate::knowledge::talos::{self as talos, InstallerForm, Platform, TalosVersion};
use crate::yaml::Node;
use sha2::{Digest, Sha256};

const FACTORY: &str = "factory.talos.dev";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schematic {
    pub extensions: Vec<String>,
    pub extra_kernel_args: Vec<String>,
}

/// Go's YAML encoder quotes a string that would read back as another type.
fn scalar(text: &str) -> String {
    let lower = text.to_ascii_lowercase();
    let ambiguous = matches!(
        lower.as_str(),
        "true" | "false" | "yes" | "no" | "on" | "off" | "null" | "~" | ""
    ) || text.parse::<f64>().is_ok()
        || text.starts_with([
            '-', '?', ':', '[', ']', '{', '}', '#', '&', '*', '!', '|', '>', '\'', '"', '%', '@',
            '`',
        ])
        || text.contains(": ")
        || text.contains(" #");
    if ambiguous {
        format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
    } else {
        text.to_string()
    }
}

impl Schematic {
    /// A schematic as talhorn generates it: extensions sorted and de-duplicated, as the UI does.
    pub fn new(mut extensions: Vec<String>, extra_kernel_args: Vec<String>) -> Self {
        extensions.sort();
        extensions.dedup();
        Self {
            extensions,
            extra_kernel_args,
        }
    }

    /// The exact bytes the factory hashes.
    pub fn canonical_yaml(&self) -> String {
        if self.extensions.is_empty() && self.extra_kernel_args.is_empty() {
            return "customization: {}\n".to_string();
        }
        let mut out = String::from("customization:\n");
        if !self.extra_kernel_args.is_empty() {
            out.push_str("    extraKernelArgs:\n");
            for arg in &self.extra_kernel_args {
                out.push_str(&format!("        - {}\n", scalar(arg)));
            }
        }
        if !self.extensions.is_empty() {
            out.push_str("    systemExtensions:\n        officialExtensions:\n");
            for ext in &self.extensions {
                out.push_str(&format!("            - {}\n", scalar(ext)));
            }
        }
        out
    }

    pub fn id(&self) -> String {
        id_of(&self.canonical_yaml())
    }

    /// The installer image for a Talos version and platform.
    pub fn installer_image(&self, version: &TalosVersion, platform: Platform) -> String {
        let form = match talos::dialect(version) {
            talos::DialectLookup::Supported(d) | talos::DialectLookup::Newer(d) => d.installer,
            talos::DialectLookup::TooOld => InstallerForm::Generic,
        };
        match form {
            InstallerForm::Generic => format!("{FACTORY}/installer/{}:{version}", self.id()),
            InstallerForm::PerPlatform => {
                format!("{FACTORY}/{platform}-installer/{}:{version}", self.id())
            }
        }
    }

    /// The ISO to boot the VMs from for the first install.
    pub fn iso_url(&self, version: &TalosVersion, platform: Platform) -> String {
        format!(
            "https://{FACTORY}/image/{}/{version}/{platform}-amd64.iso",
            self.id()
        )
    }

    /// Reads the parts of a schematic file talhorn understands, in the order written. `None`
    /// when it has other customizations (overlay, meta, ...), whose ID talhorn does not compute.
    pub fn from_document(doc: &Node) -> Option<Self> {
        let known_top = ["customization"];
        let known_custom = ["extraKernelArgs", "systemExtensions"];
        let entries = doc.as_map()?;
        if entries
            .iter()
            .any(|(k, _)| !known_top.contains(&k.as_str().unwrap_or_default()))
        {
            return None;
        }
        let custom = doc.get("customization");
        if let Some(custom) = custom.filter(|c| !c.is_null()) {
            let custom_entries = custom.as_map()?;
            if custom_entries
                .iter()
                .any(|(k, _)| !known_custom.contains(&k.as_str().unwrap_or_default()))
            {
                return None;
            }
        }
        let strings = |node: Option<&Node>| -> Option<Vec<String>> {
            match node {
                None => Some(Vec::new()),
                Some(n) if n.is_null() => Some(Vec::new()),
                Some(n) => n.as_seq()?.iter().map(Node::scalar_text).collect(),
            }
        };
        Some(Self {
            extensions: strings(
                custom.and_then(|c| c.path(&["systemExtensions", "officialExtensions"])),
            )?,
            extra_kernel_args: strings(custom.and_then(|c| c.get("extraKernelArgs")))?,
        })
    }

    /// The same schematic with its extensions sorted (what the factory UI would produce).
    pub fn sorted(&self) -> Self {
        Self::new(self.extensions.clone(), self.extra_kernel_args.clone())
    }
}

/// The schematic ID of canonical YAML bytes.
pub fn id_of(canonical_yaml: &str) -> String {
    Sha256::digest(canonical_yaml.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorts_extensions_and_keeps_kernel_arg_order() {
        let s = Schematic::new(
            vec![
                "siderolabs/util-linux-tools".into(),
                "siderolabs/iscsi-tools".into(),
            ],
            vec!["nolapic".into(), "nomodeset".into()],
        );
        assert_eq!(
            s.canonical_yaml(),
            "customization:\n    extraKernelArgs:\n        - nolapic\n        - nomodeset\n    systemExtensions:\n        officialExtensions:\n            - siderolabs/iscsi-tools\n            - siderolabs/util-linux-tools\n"
        );
    }

    #[test]
    fn reads_a_schematic_file_as_written() {
        let doc = crate::yaml::parse_document(
            "customization:\n  systemExtensions:\n    officialExtensions:\n      - siderolabs/util-linux-tools\n      - siderolabs/iscsi-tools\n",
        )
        .unwrap();
        let s = Schematic::from_document(&doc).unwrap();
        assert_eq!(s.extensions[0], "siderolabs/util-linux-tools");
        assert_ne!(s.id(), s.sorted().id());
    }
}

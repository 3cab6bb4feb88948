//! The parallel stage of ingest: read and parse files on the worker threads, ahead of
//! recognition, grouping and the sequential fold into each cluster's model.
//!
//! Each file is read once here and parsed once, in the format its name says (the registry in
//! [`super::classify`]); nothing in this stage depends on another file, so files load in any
//! order on any thread, and the results come back in the order of the paths.

use super::classify::{self, Reads};
use super::discover;
use crate::load::qmconf;
use crate::yaml::{self, Node, YamlError};
use rayon::prelude::*;
use std::path::{Path, PathBuf};

/// One file, read and parsed by the format its name says.
pub struct Loaded {
    pub path: PathBuf,
    /// What the name says (so recognition does not ask again).
    pub by_name: classify::ByName,
    /// The text and its parse, or why the file cannot be read (INT001).
    pub read: Result<(String, Parsed), String>,
}

/// A file's parse.
pub enum Parsed {
    /// Not read (its name says talhorn does not read it) or read as text only.
    Nothing,
    Yaml(Result<Vec<Node>, YamlError>),
    /// Valid YAML, Kubernetes manifests of kinds talhorn does not read: not parsed in full
    /// ([`classify::is_unread_manifests`]).
    UnreadManifests,
    Conf(qmconf::QmConfig),
    Terraform(Result<hcl_edit::structure::Body, super::terraform::hcl::HclError>),
}

/// Loads the files discovery found (their type is checked), in parallel, in the order of
/// `paths`. `then` runs on the worker too: recognition, the per-file work that needs no other
/// file.
pub fn load_all<T: Send>(paths: &[&PathBuf], then: impl Fn(Loaded) -> T + Sync) -> Vec<T> {
    yaml::on_workers(|| paths.par_iter().map(|path| then(load(path))).collect())
}

fn load(path: &Path) -> Loaded {
    let by_name = classify::by_name(path);
    let read = if by_name.reads == Reads::Nothing {
        Ok((String::new(), Parsed::Nothing))
    } else {
        discover::read_discovered_text(path).map(|text| parse(by_name, text))
    };
    Loaded {
        path: path.to_path_buf(),
        by_name,
        read,
    }
}

/// A file whose text was read elsewhere (standard input), parsed by the format its name says.
pub fn from_text(path: &Path, text: Result<String, String>) -> Loaded {
    let by_name = classify::by_name(path);
    Loaded {
        path: path.to_path_buf(),
        by_name,
        read: text.map(|text| parse(by_name, text)),
    }
}

fn parse(by_name: classify::ByName, text: String) -> (String, Parsed) {
    let parsed = match by_name.reads {
        // Only a file whose kind its content decides can be one of those manifests.
        Reads::Yaml if by_name.kind.is_none() && classify::is_unread_manifests(&text) => {
            Parsed::UnreadManifests
        }
        Reads::Yaml => Parsed::Yaml(yaml::parse_documents(&text)),
        Reads::Conf => Parsed::Conf(qmconf::parse(&text)),
        Reads::Terraform => Parsed::Terraform(super::terraform::parse(&text)),
        Reads::Text | Reads::Nothing => Parsed::Nothing,
    };
    (text, parsed)
}

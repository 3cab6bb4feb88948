//! The parallel stage of ingest: read and parse files on the worker threads, ahead of the
//! sequential fold into the model.
//!
//! Each file is read once here and parsed once; nothing in this stage depends on another file
//! or on the model, so the files of a chunk load in any order on any thread, and the results
//! come back in the order of the paths.

use super::classify::{self, NameKind};
use super::discover;
use crate::load::qmconf;
use crate::yaml::{self, Node, YamlError};
use rayon::prelude::*;
use std::path::{Path, PathBuf};

/// One file, read and parsed by the kind its name says.
pub struct Loaded {
    pub path: PathBuf,
    /// The text and its parse, or why the file cannot be read (INT001).
    pub read: Result<(String, Content), String>,
}

/// A file's parse, by the kind its name says.
pub enum Content {
    Conf(qmconf::QmConfig),
    StorageCfg,
    Interfaces,
    Yaml(Result<Vec<Node>, YamlError>),
    Terraform(Result<hcl_edit::structure::Body, super::terraform::hcl::HclError>),
}

impl Loaded {
    /// Whether this is an intent file, by its top-level keys.
    pub fn is_intent(&self) -> bool {
        self.read.as_ref().is_ok_and(|(text, content)| {
            matches!(content, Content::Yaml(_))
                && ["cluster:", "proxmox:", "nodes:"]
                    .iter()
                    .all(|key| text.lines().any(|l| l.starts_with(key)))
        })
    }
}

/// Loads the files whose name is one of ours, in parallel, in the order of `paths`.
pub fn load_all(paths: &[PathBuf]) -> Vec<Loaded> {
    yaml::on_workers(|| paths.par_iter().filter_map(|path| load(path)).collect())
}

fn load(path: &Path) -> Option<Loaded> {
    let kind = classify::by_name(path)?;
    let read = discover::read_text(path).map(|text| parse(kind, text));
    Some(Loaded {
        path: path.to_path_buf(),
        read,
    })
}

/// A file whose text was read elsewhere (standard input), parsed by the kind its name says.
pub fn from_text(path: &Path, text: String) -> Option<Loaded> {
    let kind = classify::by_name(path)?;
    Some(Loaded {
        path: path.to_path_buf(),
        read: Ok(parse(kind, text)),
    })
}

fn parse(kind: NameKind, text: String) -> (String, Content) {
    let content = match kind {
        NameKind::Conf => Content::Conf(qmconf::parse(&text)),
        NameKind::StorageCfg => Content::StorageCfg,
        NameKind::Interfaces => Content::Interfaces,
        NameKind::Yaml => Content::Yaml(yaml::parse_documents(&text)),
        NameKind::Terraform => Content::Terraform(super::terraform::parse(&text)),
    };
    (text, content)
}

//! The parallel stages of ingest that read files: a first look at every file before grouping,
//! and the full read of the others when their cluster is folded.
//!
//! Grouping only needs the files that can make a cluster (an intent, a talhelper config, an
//! Omni template, a Terraform root module); [`look`] reads and parses those, and tells
//! manifests talhorn does not read from a skim. Every other file ([`Look::Later`]) is parsed
//! ([`read_later`], [`parse_later`]) by the worker that folds its cluster, so a lint holds
//! the parse trees of the clusters being folded, not of the whole repository; the texts
//! [`look`] read of those files wait for their cluster within a bounded budget
//! ([`HELD_TEXT_BYTES`]), so a file is read once.
//!
//! A file is parsed once, in the format its name says (the registry in [`super::classify`]);
//! nothing here depends on another file, so files load in any order on any thread, and the
//! results come back in the order of the paths.

use super::classify::{self, Reads};
use super::discover;
use crate::load::qmconf;
use crate::yaml::{self, Node, YamlError};
use rayon::prelude::*;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// One file, read and parsed by the format its name says.
pub struct Loaded {
    /// Shared with the file's records (one copy of each path for the run).
    pub path: Arc<Path>,
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
    /// Valid YAML, Kubernetes manifests of kinds talhorn does not read, or does not read in
    /// this cluster: not parsed in full ([`classify::is_unread_manifests`],
    /// [`classify::is_unreferenced_values_maps`]).
    UnreadManifests,
    Conf(qmconf::QmConfig),
    Terraform(Result<hcl_edit::structure::Body, super::terraform::hcl::HclError>),
}

/// What the first look at a file found.
pub enum Look {
    /// Read (and parsed) now.
    Loaded(Loaded),
    /// Read when its cluster is folded: nothing in it can make a cluster.
    Later {
        path: Arc<Path>,
        left: Left,
        /// Terraform that configures a provider or backend (grouping needs it).
        declares_root_module: bool,
    },
}

/// What [`look`] learnt of a file it left for its cluster.
#[derive(Clone)]
pub struct Left {
    /// What the name says.
    pub by_name: classify::ByName,
    /// Only ConfigMaps and Secrets that name no others to read values from
    /// ([`classify::is_unreferenced_values_maps`], not [`may_name_values_maps`]): read in its
    /// cluster only when another file there may name them ([`unread_values_maps`]).
    pub values_maps_only: bool,
    /// Its text, when [`look`] read it and the run's [`HeldTexts`] had room: its cluster takes
    /// it instead of reading the file again.
    pub text: Option<Arc<String>>,
}

/// How many bytes of text [`look`] may hold for the files it leaves for their clusters, over a
/// run. Under it, every file is read once; past it, the rest are read again in their cluster,
/// so memory stays bounded however large the repository (about 1 MB for 10,000 files of a
/// GitOps repository, most of which `look` does not leave for later).
pub const HELD_TEXT_BYTES: usize = 4 * 1024 * 1024;

/// What is left of a run's [`HELD_TEXT_BYTES`], shared by the threads that look at files.
#[derive(Debug)]
pub struct HeldTexts {
    left: AtomicUsize,
}

impl HeldTexts {
    pub fn new(bytes: usize) -> Self {
        Self {
            left: AtomicUsize::new(bytes),
        }
    }

    /// Holds `text` when there is room for it.
    fn hold(&self, text: String) -> Option<Arc<String>> {
        let len = text.len();
        self.left
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |left| {
                left.checked_sub(len)
            })
            .ok()
            .map(|_| Arc::new(text))
    }
}

/// Looks at the files discovery found (their type is checked), in parallel, in the order of
/// `paths`. `then` runs on the worker too: recognition, the per-file work that needs no other
/// file.
pub fn look_all<T: Send>(
    paths: Vec<Arc<Path>>,
    held: &HeldTexts,
    then: impl Fn(Look) -> T + Sync,
) -> Vec<T> {
    yaml::on_workers(|| {
        paths
            .into_par_iter()
            // Small pieces, so no worker waits long for another at the end of a slice.
            .with_max_len(LOOK_PIECE)
            .map(|path| then(look(path, held)))
            .collect()
    })
}

/// How many files a worker looks at in one go.
const LOOK_PIECE: usize = 8;

/// Reads what grouping needs: every file that may make a cluster, in full. Other files are
/// left for later: unread when their name says what they are (VM configs, host files), read
/// here when only their content can tell, their text held for their cluster while `held` has
/// room (and read again there past it, so memory stays bounded). Manifests talhorn does not
/// read are told here from a skim, and need nothing more.
fn look(path: Arc<Path>, held: &HeldTexts) -> Look {
    let by_name = classify::by_name(&path);
    match see(&path, by_name, held) {
        Seen::Read(read) => Look::Loaded(Loaded {
            path,
            by_name,
            read,
        }),
        Seen::Left {
            left,
            declares_root_module,
        } => Look::Later {
            path,
            left,
            declares_root_module,
        },
    }
}

/// What [`look`] does with a file, before the file's path is handed on.
enum Seen {
    Read(Result<(String, Parsed), String>),
    Left {
        left: Left,
        declares_root_module: bool,
    },
}

/// [`look`] at `path`, whose name says `by_name`.
fn see(path: &Path, by_name: classify::ByName, held: &HeldTexts) -> Seen {
    let later = |declares_root_module, values_maps_only, text| Seen::Left {
        left: Left {
            by_name,
            values_maps_only,
            text,
        },
        declares_root_module,
    };
    match by_name.reads {
        Reads::Conf | Reads::Text => later(false, false, None),
        Reads::Terraform => match discover::read_discovered_text(path) {
            Ok(text) => later(
                super::group::declares_root_module(&text),
                false,
                held.hold(text),
            ),
            // Its cluster reads it again, and says why it cannot.
            Err(_) => later(false, false, None),
        },
        // Named a talhelper config: it makes a cluster.
        Reads::Yaml if by_name.kind.is_some() => Seen::Read(read_and_parse(path, by_name)),
        Reads::Yaml => match discover::read_discovered_text(path) {
            Ok(text) if classify::is_unread_manifests(&text) => {
                Seen::Read(Ok((text, Parsed::UnreadManifests)))
            }
            Ok(text) if classify::may_make_cluster(&text) => {
                Seen::Read(Ok(parse_in_full(by_name, text)))
            }
            Ok(text) => {
                let values_maps_only =
                    classify::is_unreferenced_values_maps(&text) && !may_name_values_maps(&text);
                // A file of values maps is read again only where something may name it.
                let text = (!values_maps_only).then(|| held.hold(text)).flatten();
                later(false, values_maps_only, text)
            }
            Err(problem) => Seen::Read(Err(problem)),
        },
        Reads::Nothing => Seen::Read(read_and_parse(path, by_name)),
    }
}

/// Reads and parses one file by the format its name says (`by_name`).
fn read_and_parse(path: &Path, by_name: classify::ByName) -> Result<(String, Parsed), String> {
    if by_name.reads == Reads::Nothing {
        Ok((String::new(), Parsed::Nothing))
    } else {
        discover::read_discovered_text(path).map(|text| parse(by_name, text))
    }
}

/// The text of a file [`look`] left for later, when its cluster is folded: the text `look`
/// held ([`Left::text`]), or the file read again.
pub fn read_later(path: &Path, held: Option<Arc<String>>) -> Result<String, String> {
    match held {
        // A file of several clusters: each takes a copy, the last one the text itself.
        Some(text) => Ok(Arc::unwrap_or_clone(text)),
        None => discover::read_discovered_text(path),
    }
}

/// A file [`look`] left for later (it is not manifests that need no parse), parsed by what its
/// name said then.
pub fn parse_later(
    path: &Arc<Path>,
    by_name: classify::ByName,
    read: Result<String, String>,
) -> Loaded {
    Loaded {
        path: Arc::clone(path),
        by_name,
        read: read.map(|text| parse_in_full(by_name, text)),
    }
}

/// A file of ConfigMaps and Secrets alone ([`Left::values_maps_only`]) in a cluster where
/// nothing may name them (no `valuesFrom`): no reader would take anything from them, so they
/// are neither read again nor parsed.
pub fn unread_values_maps(path: &Arc<Path>, by_name: classify::ByName) -> Loaded {
    Loaded {
        path: Arc::clone(path),
        by_name,
        read: Ok((String::new(), Parsed::UnreadManifests)),
    }
}

/// Whether a text may name a ConfigMap or Secret to read values from: a `valuesFrom`, or an
/// escape that could spell one.
pub fn may_name_values_maps(text: &str) -> bool {
    text.contains("valuesFrom") || text.contains('\\')
}

/// A file whose text was read elsewhere (standard input), parsed by the format its name says.
pub fn from_text(path: &Path, text: Result<String, String>) -> Loaded {
    let by_name = classify::by_name(path);
    Loaded {
        path: Arc::from(path),
        by_name,
        read: text.map(|text| parse(by_name, text)),
    }
}

fn parse(by_name: classify::ByName, text: String) -> (String, Parsed) {
    // Only a file whose kind its content decides can be one of those manifests.
    if by_name.reads == Reads::Yaml
        && by_name.kind.is_none()
        && classify::is_unread_manifests(&text)
    {
        return (text, Parsed::UnreadManifests);
    }
    parse_in_full(by_name, text)
}

fn parse_in_full(by_name: classify::ByName, text: String) -> (String, Parsed) {
    let parsed = match by_name.reads {
        Reads::Yaml => Parsed::Yaml(yaml::parse_documents(&text)),
        Reads::Conf => Parsed::Conf(qmconf::parse(&text)),
        Reads::Terraform => Parsed::Terraform(super::terraform::parse(&text)),
        Reads::Text | Reads::Nothing => Parsed::Nothing,
    };
    (text, parsed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts_are_held_while_the_budget_has_room_and_read_again_past_it() {
        let held = HeldTexts::new(10);
        assert!(held.hold("12345".into()).is_some());
        assert!(
            held.hold("123456".into()).is_none(),
            "6 bytes past the 5 left"
        );
        assert!(held.hold("12345".into()).is_some());
        assert!(held.hold(String::new()).is_some());
        assert!(held.hold("1".into()).is_none());
    }

    #[test]
    fn a_held_text_is_taken_instead_of_reading_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("patch.yaml");
        std::fs::write(&path, "machine:\n  type: worker\n").unwrap();
        let held = HeldTexts::new(HELD_TEXT_BYTES);
        let Look::Later { left, .. } = look(Arc::from(path.as_path()), &held) else {
            panic!("a Talos patch is left for its cluster");
        };
        // What the cluster gets is what the look read, whatever the file says now.
        std::fs::write(&path, "machine:\n  type: controlplane\n").unwrap();
        assert_eq!(
            read_later(&path, left.text).unwrap(),
            "machine:\n  type: worker\n"
        );
        // Past the budget, the file is read again.
        let Look::Later { left, .. } = look(Arc::from(path.as_path()), &HeldTexts::new(0)) else {
            panic!("a Talos patch is left for its cluster");
        };
        assert!(left.text.is_none());
        assert_eq!(
            read_later(&path, left.text).unwrap(),
            "machine:\n  type: controlplane\n"
        );
    }
}

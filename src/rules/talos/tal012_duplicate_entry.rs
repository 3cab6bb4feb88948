use super::tal011_v2_kernel_modules::module_name;
use crate::fast_hash::{FastMap, FastSet};
use crate::finding::{Finding, Severity};
use crate::model::{Cluster, Role, TalosConfig};
use crate::rules::{Layer, Rule, RuleMeta};
use crate::source::Location;
use crate::yaml::Node;
use std::collections::hash_map::Entry;

pub static META: RuleMeta = RuleMeta {
    code: "TAL012",
    name: "duplicate-entry",
    layer: Layer::Talos,
    severity: Severity::Warning,
    summary: "The same Talos document, kernel module or kubelet mount twice (lists append on merge).",
    docs: r#"## What
- the same kernel module twice in the configs that apply to a node;
- two kubelet `extraMounts` entries with the same destination;
- two documents with the same identity (`apiVersion`/`kind`/`name`, or two legacy documents)
  in one file.

The later occurrence is reported, with the first as a related location.

## Why
Strategic-merge patches *append* lists: a module listed in `worker.yaml` and again in a node's
patch is loaded twice, and a second mount of the same destination shadows the first. Applying
a patch twice (a common runbook mistake) doubles every list. Talos before 1.14 refuses a file
with a duplicate document (`duplicate document … is not allowed`).

## Example
```yaml
machine:
  kernel:
    modules:
      - name: vfio_pci
      - name: vfio_pci
```

## Fix
Keep each entry once, in the most general patch that needs it.

## Source
siderolabs/talos `pkg/machinery/config/merge/merge.go` (slices append),
`configloader/internal/decoder/decoder.go` (duplicate documents); talhorn research
`talos.md` §2.1, §2.2.
"#,
};

pub struct DuplicateEntry;

/// The repeats reported so far, by place and what they are (a place holds one value, and a
/// finding's message is made of the two, so no finding is made twice). Every node's configs repeat its role's and the
/// cluster's patches, so the same repeat turns up once per node: it is made into a finding the
/// first time only, not once per node only to be dropped as a duplicate.
#[derive(Default)]
struct Reported(FastSet<(Location, &'static str)>);

/// Reports every value seen before in `entries` (in merge order) at its later place, with the
/// first as a related location.
fn report_repeats(
    out: &mut Vec<Finding>,
    reported: &mut Reported,
    entries: Vec<(String, Location)>,
    what: &'static str,
) {
    let mut first_seen: FastMap<String, Location> = FastMap::default();
    for (key, at) in entries {
        match first_seen.entry(key) {
            Entry::Occupied(first) => {
                if reported.0.insert((at, what)) {
                    let key = first.key();
                    out.push(
                        META.finding(at, format!("{what} `{key}` is listed again: Talos appends lists on merge, so it applies twice"))
                            .related(*first.get(), "first listed here")
                            .help("remove the repeated entry"),
                    );
                }
            }
            Entry::Vacant(slot) => {
                slot.insert(at);
            }
        }
    }
}

/// A document's identity as Talos's decoder sees it.
fn document_id(doc: &Node) -> Option<String> {
    let text = |key: &str| doc.get(key).and_then(Node::scalar_text);
    let legacy = ["machine", "cluster", "debug", "persist"]
        .iter()
        .any(|k| doc.get(k).is_some());
    match text("kind") {
        Some(kind) => Some(format!(
            "{}/{kind}{}",
            text("apiVersion").unwrap_or_default(),
            text("name").map(|n| format!("/{n}")).unwrap_or_default()
        )),
        None if legacy => Some("v1alpha1 machine config".into()),
        None => None,
    }
}

fn check_documents(config: &TalosConfig, out: &mut Vec<Finding>, reported: &mut Reported) {
    let Some(file) = config.file else {
        return;
    };
    let ids = config
        .documents
        .iter()
        .filter_map(|doc| Some((document_id(doc)?, Location::new(file, doc.span))))
        .collect();
    report_repeats(out, reported, ids, "document");
}

fn check_lists(configs: &[&TalosConfig], out: &mut Vec<Finding>, reported: &mut Reported) {
    let modules = configs
        .iter()
        .flat_map(|c| &c.kernel_modules)
        .map(|m| (module_name(&m.value), m.at))
        .collect();
    report_repeats(out, reported, modules, "kernel module");
    let mounts = configs
        .iter()
        .flat_map(|c| &c.extra_mounts)
        .map(|m| (super::normalize(&m.value.destination).to_string(), m.at))
        .collect();
    report_repeats(out, reported, mounts, "kubelet mount of");
}

impl Rule for DuplicateEntry {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cluster: &Cluster, out: &mut Vec<Finding>) {
        let reported = &mut Reported::default();
        for config in &cluster.talos.configs {
            check_documents(config, out, reported);
            check_lists(&[config], out, reported);
        }
        if cluster.talos.nodes.is_empty() {
            for role in [Role::Controlplane, Role::Worker] {
                let configs: Vec<_> = cluster.talos.configs_for_role(role).collect();
                check_lists(&configs, out, reported);
            }
        } else {
            for node in &cluster.talos.nodes {
                let configs: Vec<_> = cluster.talos.configs_for(node).collect();
                check_lists(&configs, out, reported);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Scope;
    use crate::rules::talos::testing::{at, cluster, config, fact, node, run};
    use crate::yaml::parse_documents;

    #[test]
    fn a_module_in_the_role_and_the_node_patch_is_reported_in_the_node_patch() {
        let mut c = cluster();
        let mut worker = config(Scope::Role(Role::Worker), 5);
        worker.kernel_modules.push(fact("vfio_pci".into(), 30));
        let mut own = config(Scope::Node("w-1".into()), 6);
        own.kernel_modules.push(fact("vfio-pci".into(), 60));
        c.talos.configs.push(own);
        c.talos.configs.push(worker);
        c.talos.nodes.push(node("w-1", Role::Worker, 90));
        let found = run(&DuplicateEntry, &c);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].at, at(60));
        assert_eq!(found[0].related[0].at, at(30));
    }

    /// Every worker's configs repeat the role patch's modules: each repeat is one finding, at
    /// its place, however many nodes share the patch.
    #[test]
    fn a_repeat_in_a_patch_many_nodes_share_is_reported_once() {
        let mut c = cluster();
        let mut worker = config(Scope::Role(Role::Worker), 5);
        for offset in [30, 40, 50] {
            worker.kernel_modules.push(fact("nbd".into(), offset));
        }
        c.talos.configs.push(worker);
        for (index, name) in ["w-1", "w-2", "w-3"].into_iter().enumerate() {
            c.talos.nodes.push(node(name, Role::Worker, 90 + index));
        }
        let found = run(&DuplicateEntry, &c);
        let places: Vec<_> = found.iter().map(|f| (f.at, f.related[0].at)).collect();
        assert_eq!(places, [(at(40), at(30)), (at(50), at(30))]);
    }

    #[test]
    fn distinct_entries_are_silent() {
        let mut c = cluster();
        let mut worker = config(Scope::Role(Role::Worker), 5);
        worker.kernel_modules.push(fact("vfio_pci".into(), 30));
        worker.kernel_modules.push(fact("nvme_tcp".into(), 31));
        c.talos.configs.push(worker);
        assert!(run(&DuplicateEntry, &c).is_empty());
    }

    #[test]
    fn documents_are_identified_like_the_talos_decoder() {
        let docs = parse_documents(
            "machine: {}\n---\napiVersion: v1alpha1\nkind: UserVolumeConfig\nname: a\n---\napiVersion: v1alpha1\nkind: UserVolumeConfig\nname: b\n---\nmachine: {}\n",
        )
        .unwrap_or_default();
        let ids: Vec<Option<String>> = docs.iter().map(document_id).collect();
        assert_eq!(ids[0], ids[3]);
        assert_ne!(ids[1], ids[2]);
        let mut c = cluster();
        let mut patch = config(Scope::All, 0);
        patch.file = Some(crate::source::FileId(0));
        patch.documents = docs;
        c.talos.configs.push(patch);
        assert_eq!(run(&DuplicateEntry, &c).len(), 1);
    }
}

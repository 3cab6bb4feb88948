use super::push_unique;
use super::tal011_v2_kernel_modules::module_name;
use crate::finding::{Finding, Severity};
use crate::model::{Cluster, Role, TalosConfig};
use crate::rules::{Layer, Rule, RuleMeta};
use crate::source::Location;
use crate::yaml::Node;

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

/// Reports every value seen before in `entries` (in merge order) at its later place.
fn report_repeats(out: &mut Vec<Finding>, entries: Vec<(String, Location)>, what: &str) {
    let mut seen: Vec<(String, Location)> = Vec::new();
    for (key, at) in entries {
        match seen.iter().find(|(k, _)| *k == key) {
            Some((_, first)) => push_unique(
                out,
                META.finding(at, format!("{what} `{key}` is listed again: Talos appends lists on merge, so it applies twice"))
                    .related(*first, "first listed here")
                    .help("remove the repeated entry"),
            ),
            None => seen.push((key, at)),
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

fn check_documents(config: &TalosConfig, out: &mut Vec<Finding>) {
    let Some(file) = config.file else {
        return;
    };
    let ids = config
        .documents
        .iter()
        .filter_map(|doc| Some((document_id(doc)?, Location::new(file, doc.span))))
        .collect();
    report_repeats(out, ids, "document");
}

fn check_lists(configs: &[&TalosConfig], out: &mut Vec<Finding>) {
    let modules = configs
        .iter()
        .flat_map(|c| &c.kernel_modules)
        .map(|m| (module_name(&m.value), m.at))
        .collect();
    report_repeats(out, modules, "kernel module");
    let mounts = configs
        .iter()
        .flat_map(|c| &c.extra_mounts)
        .map(|m| (super::normalize(&m.value.destination).to_string(), m.at))
        .collect();
    report_repeats(out, mounts, "kubelet mount of");
}

impl Rule for DuplicateEntry {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cluster: &Cluster, out: &mut Vec<Finding>) {
        for config in &cluster.talos.configs {
            check_documents(config, out);
            check_lists(&[config], out);
        }
        if cluster.talos.nodes.is_empty() {
            for role in [Role::Controlplane, Role::Worker] {
                check_lists(
                    &cluster.talos.configs_for_role(role).collect::<Vec<_>>(),
                    out,
                );
            }
        } else {
            for node in &cluster.talos.nodes {
                check_lists(&cluster.talos.configs_for(node).collect::<Vec<_>>(), out);
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

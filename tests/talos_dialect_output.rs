//! What the Talos patches say, per dialect, for the defects of issue 8 that Talos's validator
//! (tests/talos_oracle.rs) or the running cluster would catch: the default route, the NIC
//! selected by MAC, the Layer-2 VIP on control planes, and the 1.14 install document. These
//! run without Go.

mod build_support;

use build_support::{repo, try_build};
use talhorn::yaml::{Node, parse_documents};

/// The intent `fixture` built with `edit` applied to its text.
fn build_edited(
    fixture: &str,
    edit: impl Fn(String) -> String,
) -> Result<Vec<talhorn::write::Artifact>, String> {
    let intent = repo().join(fixture);
    let text = edit(std::fs::read_to_string(&intent).expect("fixture intent"));
    try_build(&intent, &text)
}

/// The generated Talos documents of `path` for the intent `fixture`.
fn documents(fixture: &str, path: &str) -> Vec<Node> {
    let artifacts = build_edited(fixture, |text| text).unwrap_or_else(|e| panic!("{e}"));
    let artifact = artifacts
        .iter()
        .find(|a| a.path == path)
        .unwrap_or_else(|| panic!("{path} not generated"));
    let text = String::from_utf8(artifact.content.clone()).expect("utf-8");
    parse_documents(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn of_kind<'a>(docs: &'a [Node], kind: &str) -> Vec<&'a Node> {
    docs.iter()
        .filter(|d| d.get("kind").and_then(Node::as_str) == Some(kind))
        .collect()
}

fn text(node: &Node, keys: &[&str]) -> Option<String> {
    node.path(keys).and_then(Node::scalar_text)
}

const V112: &str = "fixtures/intents/talos112-lh1113-pve8-flux-backup.yaml";
const V111: &str = "examples/homelab.yaml";
const V113_FIRST_CP: &str = "fixtures/intents/talos113-first-cp-endpoint.yaml";
const V114: &str = "fixtures/intents/talos114rc-lh1121-labeled.yaml";

#[test]
fn talos_1_12_default_route_has_no_destination() {
    let docs = documents(V112, "talos/nodes/w-1.yaml");
    let link = of_kind(&docs, "LinkConfig");
    assert_eq!(link.len(), 1);
    let routes = link[0]
        .get("routes")
        .and_then(Node::as_seq)
        .unwrap_or_default();
    assert_eq!(routes.len(), 1);
    assert_eq!(text(&routes[0], &["gateway"]).as_deref(), Some("10.60.0.1"));
    assert!(
        routes[0].get("destination").is_none(),
        "Talos ≥ 1.12 rejects 0.0.0.0/0"
    );
}

#[test]
fn talos_1_12_selects_the_link_by_mac_through_an_alias() {
    let docs = documents(V112, "talos/nodes/cp-1.yaml");
    let alias = of_kind(&docs, "LinkAliasConfig");
    assert_eq!(alias.len(), 1);
    let name = text(alias[0], &["name"]).expect("alias name");
    assert_eq!(
        text(alias[0], &["selector", "match"]).as_deref(),
        Some("mac(link.permanent_addr) == \"bc:24:11:00:06:01\"")
    );
    let link = of_kind(&docs, "LinkConfig");
    assert_eq!(
        text(link[0], &["name"]),
        Some(name),
        "the link is the alias"
    );
}

#[test]
fn talos_1_12_control_planes_hold_the_vip_on_their_link_and_workers_do_not() {
    let cp = documents(V112, "talos/nodes/cp-2.yaml");
    let vip = of_kind(&cp, "Layer2VIPConfig");
    assert_eq!(vip.len(), 1);
    assert_eq!(text(vip[0], &["name"]).as_deref(), Some("10.60.0.10"));
    let link = text(of_kind(&cp, "LinkConfig")[0], &["name"]);
    assert_eq!(text(vip[0], &["link"]), link);
    let worker = documents(V112, "talos/nodes/w-1.yaml");
    assert!(of_kind(&worker, "Layer2VIPConfig").is_empty());
}

#[test]
fn talos_1_11_control_planes_hold_the_vip_on_their_interface() {
    let interface = |path: &str| {
        let docs = documents(V111, path);
        docs[0]
            .path(&["machine", "network", "interfaces"])
            .and_then(Node::as_seq)
            .and_then(|s| s.first().cloned())
            .expect("one interface")
    };
    assert_eq!(
        text(&interface("talos/nodes/cp-1.yaml"), &["vip", "ip"]).as_deref(),
        Some("10.20.0.10")
    );
    assert!(interface("talos/nodes/w-1.yaml").get("vip").is_none());
}

#[test]
fn without_a_vip_nothing_is_emitted() {
    let docs = documents(V113_FIRST_CP, "talos/nodes/cp-1.yaml");
    assert!(of_kind(&docs, "Layer2VIPConfig").is_empty());
}

#[test]
fn talos_1_14_installs_through_the_unattended_install_config() {
    for path in [
        "talos/controlplane.yaml",
        "talos/worker.yaml",
        "talos/nodes/w-1.yaml",
    ] {
        let docs = documents(V114, path);
        assert!(
            docs.iter()
                .all(|d| d.path(&["machine", "install"]).is_none()),
            "{path}: machine.install conflicts with 1.14's UnattendedInstallConfig"
        );
    }
    let role = documents(V114, "talos/worker.yaml");
    let install = of_kind(&role, "UnattendedInstallConfig");
    assert_eq!(install.len(), 1);
    let image = text(install[0], &["installer", "image"]).expect("installer image");
    assert!(
        image.starts_with("factory.talos.dev/nocloud-installer/")
            && image.ends_with(":v1.14.0-rc.1"),
        "the installer carries the schematic: {image}"
    );
    let node = documents(V114, "talos/nodes/w-1.yaml");
    let install = of_kind(&node, "UnattendedInstallConfig");
    assert_eq!(
        text(install[0], &["provisioning", "diskSelector", "match"]).as_deref(),
        Some("disk.dev_path == \"/dev/sda\"")
    );
}

#[test]
fn talos_1_14_allows_control_plane_scheduling_by_deleting_the_taint() {
    let artifacts = build_edited(V114, |text| {
        text.replacen(
            "  talos: v1.14.0-rc.1\n",
            "  talos: v1.14.0-rc.1\n  allowSchedulingOnControlPlanes: true\n",
            1,
        )
    })
    .unwrap_or_else(|e| panic!("{e}"));
    let role = artifacts
        .iter()
        .find(|a| a.path == "talos/controlplane.yaml")
        .expect("control-plane patch");
    let docs = parse_documents(std::str::from_utf8(&role.content).expect("utf-8")).expect("YAML");
    assert!(
        docs.iter().all(|d| d
            .path(&["cluster", "allowSchedulingOnControlPlanes"])
            .is_none()),
        "Talos 1.14 rejects cluster.allowSchedulingOnControlPlanes next to its KubeNodeConfig"
    );
    let node_config = of_kind(&docs, "KubeNodeConfig");
    assert_eq!(node_config.len(), 1);
    assert_eq!(
        text(
            node_config[0],
            &["taints", "node-role.kubernetes.io/control-plane", "$patch"]
        )
        .as_deref(),
        Some("delete")
    );
}

#[test]
fn an_endpoint_nothing_serves_is_refused() {
    let refused = build_edited(V112, |t| t.replace("  vip: 10.60.0.10\n", ""))
        .expect_err("NET005 is an error");
    assert!(refused.contains("NET005"), "{refused}");
}

#[test]
fn a_vip_that_is_a_node_address_is_refused() {
    let refused = build_edited(V112, |t| {
        t.replace("  vip: 10.60.0.10\n", "  vip: 10.60.0.11\n")
    })
    .expect_err("a node's own address cannot be the VIP");
    assert!(refused.contains("no node holds"), "{refused}");
}

#[test]
fn the_runbook_says_what_answers_on_the_endpoint() {
    let runbook = |fixture: &str| {
        let artifacts = build_edited(fixture, |text| text).unwrap_or_else(|e| panic!("{e}"));
        let runbook = artifacts
            .iter()
            .find(|a| a.path == "RUNBOOK.md")
            .expect("RUNBOOK.md");
        String::from_utf8(runbook.content.clone()).expect("utf-8")
    };
    assert!(runbook(V112).contains("shared VIP 10.60.0.10"));
    assert!(runbook(V113_FIRST_CP).contains("is cp-1's own address"));
    let dns = runbook("fixtures/intents/talos111-dns-endpoint.yaml");
    assert!(
        dns.contains("https://k8s.lab.example:6443 is not an address talhorn manages")
            && dns.contains("6443 of every control plane (10.92.0.11)"),
        "{dns}"
    );
}

//! What an operator following the output gets (issue 8): a data disk Talos really finds, a
//! pinned version contract, first boot at the final address, the CNI that was asked for, a
//! RUNBOOK whose every command works, GitOps that deploys, volume names Proxmox really uses.
//! Each test fails on the behaviour before the fix.

mod build_support;

use build_support::{build, repo};
use std::collections::BTreeMap;
use std::path::Path;
use talhorn::model::Cluster;
use talhorn::source::SourceFile;

/// The README example with `edits` applied (each `from` must occur exactly once), built in
/// process: generated path → text.
fn example(edits: &[(&str, &str)]) -> BTreeMap<String, String> {
    let mut text = std::fs::read_to_string(repo().join("examples/homelab.yaml")).unwrap();
    for (from, to) in edits {
        assert_eq!(text.matches(from).count(), 1, "`{from}` must occur once");
        text = text.replacen(from, to, 1);
    }
    built(&text)
}

fn built(text: &str) -> BTreeMap<String, String> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("homelab.yaml");
    std::fs::write(&path, text).unwrap();
    build(&path)
        .into_iter()
        .map(|a| (a.path, String::from_utf8(a.content).unwrap()))
        .collect()
}

fn fixture(name: &str) -> BTreeMap<String, String> {
    let path = repo().join("fixtures/intents").join(name);
    build(&path)
        .into_iter()
        .map(|a| (a.path, String::from_utf8(a.content).unwrap()))
        .collect()
}

/// The value of `key: …` in a qm.conf.
fn conf_value<'a>(conf: &'a str, key: &str) -> Option<&'a str> {
    conf.lines()
        .find_map(|l| l.strip_prefix(key)?.strip_prefix(": "))
}

const NO_MACS: &[(&str, &str)] = &[
    (r#", mac: "BC:24:11:00:01:01""#, ""),
    (r#", mac: "BC:24:11:00:01:02""#, ""),
    (r#", mac: "BC:24:11:00:01:03""#, ""),
    (r#", mac: "BC:24:11:00:02:01""#, ""),
    (r#", mac: "BC:24:11:00:02:02""#, ""),
    (r#", mac: "BC:24:11:00:02:03""#, ""),
];

// 1. Longhorn data disk identity -----------------------------------------------------------

#[test]
fn the_data_disk_is_on_virtio_blk_where_talos_sees_its_serial() {
    let out = example(&[]);
    let conf = &out["proxmox/201-w-1.conf"];
    let disk = conf_value(conf, "virtio1").expect("the data disk is virtio1");
    assert!(disk.contains("serial=longhorn-data"), "{conf}");
    assert!(conf_value(conf, "scsi1").is_none(), "{conf}");
    assert!(
        out["talos/worker.yaml"].contains("match: disk.serial == 'longhorn-data'"),
        "{}",
        out["talos/worker.yaml"]
    );
}

#[test]
fn a_scsi_data_disk_is_selected_by_its_by_id_link() {
    let out = example(&[(
        "dataDisk: { size: 200G, storage: local-lvm }",
        "dataDisk: { size: 200G, storage: local-lvm, bus: scsi }",
    )]);
    let conf = &out["proxmox/201-w-1.conf"];
    assert!(conf_value(conf, "scsi1").is_some_and(|d| d.contains("serial=longhorn-data")));
    let worker = &out["talos/worker.yaml"];
    assert!(
        worker
            .contains("'/dev/disk/by-id/scsi-0QEMU_QEMU_HARDDISK_longhorn-data' in disk.symlinks"),
        "{worker}"
    );
    assert!(!worker.contains("disk.serial"), "{worker}");
}

#[test]
fn talos_1_9_names_the_virtio_data_disk_by_its_device() {
    // OS disk on scsi0, data disk virtio1: the only virtio disk is /dev/vda.
    let out = example(&[
        ("talos: v1.11.6", "talos: v1.9.6"),
        ("kubernetes: 1.34.1", "kubernetes: 1.32.4"),
    ]);
    assert!(
        out["talos/worker.yaml"].contains("device: /dev/vda"),
        "{}",
        out["talos/worker.yaml"]
    );
}

// 12. Volume names per storage -------------------------------------------------------------

#[test]
fn each_storage_numbers_a_vms_disks_from_zero() {
    let out = example(&[(
        "dataDisk: { size: 200G, storage: local-lvm }",
        "dataDisk: { size: 200G, storage: local-zfs }",
    )]);
    let conf = &out["proxmox/201-w-1.conf"];
    assert_eq!(
        conf_value(conf, "efidisk0"),
        Some("local-lvm:vm-201-disk-0,efitype=4m")
    );
    assert!(conf_value(conf, "scsi0").is_some_and(|d| d.starts_with("local-lvm:vm-201-disk-1,")));
    assert!(
        conf_value(conf, "virtio1").is_some_and(|d| d.starts_with("local-zfs:vm-201-disk-0,")),
        "{conf}"
    );
}

// 5. Version contract ------------------------------------------------------------------------

#[test]
fn gen_config_pins_the_talos_and_kubernetes_versions() {
    let runbook = &example(&[])["RUNBOOK.md"];
    assert!(
        runbook.contains("  --talos-version v1.11 \\\n"),
        "{runbook}"
    );
    assert!(
        runbook.contains("  --kubernetes-version 1.34.1 \\\n"),
        "{runbook}"
    );
    // Not pinned: the default Kubernetes of that Talos release, said so.
    let runbook = &example(&[("  kubernetes: 1.34.1\n", "")])["RUNBOOK.md"];
    let dialect = match talhorn::knowledge::talos::dialect(
        &talhorn::knowledge::talos::TalosVersion::parse("v1.11.6").unwrap(),
    ) {
        talhorn::knowledge::talos::DialectLookup::Supported(d) => d,
        other => panic!("{other:?}"),
    };
    assert!(
        runbook.contains(&format!(
            "  --kubernetes-version {} \\\n",
            dialect.default_kubernetes
        )),
        "{runbook}"
    );
    assert!(
        runbook.contains("set `cluster.kubernetes` to pin another"),
        "{runbook}"
    );
}

// 6. First boot at the final address --------------------------------------------------------

#[test]
fn nocloud_vms_get_a_cloud_init_drive_with_their_static_address() {
    let out = example(&[]);
    let conf = &out["proxmox/201-w-1.conf"];
    assert_eq!(
        conf_value(conf, "ide0"),
        Some("local-lvm:vm-201-cloudinit,media=cdrom")
    );
    assert_eq!(conf_value(conf, "citype"), Some("nocloud"));
    assert_eq!(
        conf_value(conf, "ipconfig0"),
        Some("ip=10.20.0.21/24,gw=10.20.0.1")
    );
    assert_eq!(conf_value(conf, "nameserver"), Some("10.20.0.1"));
    let script = &out["proxmox/create-vms.sh"];
    for line in [
        "qm set 201 --ide0 local-lvm:cloudinit",
        "qm set 201 --ipconfig0 ip=10.20.0.21/24,gw=10.20.0.1",
    ] {
        assert!(script.contains(line), "{line} missing:\n{script}");
    }
}

#[test]
fn metal_vms_get_derived_macs_and_the_runbook_a_dhcp_table() {
    let mut edits = vec![("platform: nocloud", "platform: metal")];
    edits.extend_from_slice(NO_MACS);
    let out = example(&edits);
    let again = example(&edits);
    assert_eq!(out, again, "derived MACs are deterministic");
    let runbook = &out["RUNBOOK.md"];
    let mut macs = Vec::new();
    for (name, vmid, ip) in [("cp-1", 101, "10.20.0.11"), ("w-1", 201, "10.20.0.21")] {
        let conf = &out[&format!("proxmox/{vmid}-{name}.conf")];
        assert!(
            conf_value(conf, "ide0").is_none(),
            "metal has no cloud-init drive"
        );
        let net0 = conf_value(conf, "net0").unwrap();
        let mac = net0
            .strip_prefix("virtio=")
            .and_then(|r| r.split(',').next())
            .unwrap();
        assert!(mac.starts_with("BC:24:11:"), "{net0}");
        assert!(
            runbook.contains(&format!("| {name} | `{mac}` | {ip} |")),
            "{runbook}"
        );
        // Talos selects the link by the same MAC.
        let patch = &out[&format!("talos/nodes/{name}.yaml")];
        assert!(patch.contains(&mac.to_lowercase()), "{patch}");
        macs.push(mac.to_string());
    }
    assert_ne!(macs[0], macs[1]);
}

// 7. CNI -----------------------------------------------------------------------------------

#[test]
fn a_cni_other_than_flannel_turns_talos_cni_off_on_control_planes() {
    let out = example(&[]);
    assert!(out["talos/controlplane.yaml"].contains("cni:\n      name: none"));
    assert!(!out["talos/worker.yaml"].contains("cni:"));
    assert!(!out["talos/controlplane.yaml"].contains("proxy:"));
    let runbook = &out["RUNBOOK.md"];
    let cni = runbook.find("## 5. CNI: cilium").expect("a CNI step");
    let workers = runbook
        .find("## 6. Workers")
        .expect("workers after the CNI");
    assert!(cni < workers);
    assert!(runbook.contains("helm install cilium cilium/cilium"));

    let out = example(&[(
        "cni: { name: cilium, mtu: 8950, encapsulation: vxlan }",
        "cni: { name: cilium, mtu: 8950, encapsulation: vxlan, kubeProxy: false }",
    )]);
    assert!(out["talos/controlplane.yaml"].contains("proxy:\n    disabled: true"));
    assert!(out["RUNBOOK.md"].contains("--set kubeProxyReplacement=true"));

    let out = example(&[(
        "cni: { name: cilium, mtu: 8950, encapsulation: vxlan }",
        "cni: { name: flannel }",
    )]);
    assert!(!out["talos/controlplane.yaml"].contains("cni:"));
    assert!(!out["RUNBOOK.md"].contains("CNI:"));
}

#[test]
fn talos_1_14_deletes_the_generated_flannel_document() {
    let out = example(&[
        ("talos: v1.11.6", "talos: v1.14.0-rc.1"),
        ("kubernetes: 1.34.1", "kubernetes: 1.36.2"),
        (
            "cni: { name: cilium, mtu: 8950, encapsulation: vxlan }",
            "cni: { name: none, kubeProxy: false }",
        ),
    ]);
    let cp = &out["talos/controlplane.yaml"];
    assert!(
        cp.contains("kind: KubeFlannelCNIConfig\n$patch: delete"),
        "{cp}"
    );
    assert!(cp.contains("kind: KubeProxyConfig\nenabled: false"), "{cp}");
}

// 9. Longhorn on tainted control planes ------------------------------------------------------

#[test]
fn storage_on_tainted_control_planes_is_refused_with_a_location() {
    let text = std::fs::read_to_string(repo().join("examples/homelab.yaml"))
        .unwrap()
        .replacen("storageNodes: workers", "storageNodes: all", 1);
    let mut cluster = Cluster::default();
    let file = cluster
        .sources
        .add(SourceFile::new(Path::new("c.yaml"), text.clone()));
    let errors = talhorn::intent::load(file, &text).expect_err("refused");
    let error = errors
        .iter()
        .find(|e| e.message.contains("control plane"))
        .unwrap_or_else(|| panic!("{errors:#?}"));
    let (line, _) = cluster.sources.get(file).line_col(error.at.span.start);
    assert_eq!(
        text.lines().nth(line - 1).map(str::trim),
        Some("storageNodes: all"),
        "{error:#?}"
    );
    // Allowed scheduling makes it a valid choice.
    built(&text.replacen(
        "  platform: nocloud\n",
        "  platform: nocloud\n  allowSchedulingOnControlPlanes: true\n",
        1,
    ));
}

// 10. RUNBOOK ---------------------------------------------------------------------------------

#[test]
fn every_talosctl_command_that_reaches_a_node_names_the_talosconfig() {
    let runbook = &example(&[])["RUNBOOK.md"];
    let node_commands: Vec<&str> = runbook
        .lines()
        .filter(|l| l.starts_with("talosctl") && l.contains("--nodes"))
        .collect();
    assert!(node_commands.iter().any(|l| l.contains(" upgrade ")));
    for line in node_commands {
        assert!(
            line.contains("--talosconfig rendered/talosconfig"),
            "{line}"
        );
    }
}

#[test]
fn secrets_and_rendered_configs_go_to_an_ignored_folder() {
    let out = example(&[]);
    let ignore = &out["rendered/.gitignore"];
    let rules: Vec<&str> = ignore.lines().filter(|l| !l.starts_with('#')).collect();
    assert_eq!(rules, ["*", "!.gitignore"]);
    let runbook = &out["RUNBOOK.md"];
    assert!(runbook.contains("talosctl gen secrets -o rendered/secrets.yaml"));
    assert!(runbook.contains("--with-secrets rendered/secrets.yaml"));
    assert!(runbook.contains("`rendered/.gitignore`"));
    assert!(!runbook.contains(" secrets.yaml\n"));
}

#[test]
fn the_runbook_registers_the_schematic_downloads_the_iso_and_starts_the_vms() {
    let out = example(&[]);
    let runbook = &out["RUNBOOK.md"];
    assert!(runbook.contains(
        "curl -fsS -X POST --data-binary @talos/schematic.yaml https://factory.talos.dev/schematics"
    ));
    assert!(runbook.contains(
        "pvesh create /nodes/pve1/storage/local/download-url --content iso --filename talos-nocloud-amd64.iso --url https://factory.talos.dev/image/"
    ));
    for vmid in [101, 102, 103, 201, 202, 203] {
        assert!(runbook.contains(&format!("\nqm start {vmid}\n")), "{vmid}");
    }
    assert!(runbook.contains("kubectl -n longhorn-system create secret generic s3-creds"));
    assert!(runbook.contains("--from-literal=AWS_SECRET_ACCESS_KEY=\"$AWS_SECRET_ACCESS_KEY\""));
    let secret = runbook.find("create secret generic").unwrap();
    let install = runbook
        .find("kubectl apply -f kubernetes/longhorn/helmrelease.yaml")
        .unwrap();
    assert!(secret < install, "the Secret exists before Longhorn starts");
}

#[test]
fn without_an_iso_the_runbook_says_how_the_vms_boot() {
    let out = example(&[("  iso: local:iso/talos-nocloud-amd64.iso\n", "")]);
    let runbook = &out["RUNBOOK.md"];
    assert!(runbook.contains("The intent names no ISO"), "{runbook}");
    assert!(runbook.contains("(PXE)"));
    assert!(!runbook.contains("download-url"));
}

// 11. Argo CD -----------------------------------------------------------------------------------

#[test]
fn the_argo_cd_application_syncs_by_itself() {
    let out = fixture("talos110-lh192-pve9-argocd-labeled.yaml");
    let app = &out["kubernetes/longhorn/application.yaml"];
    let docs = talhorn::yaml::parse_documents(app).unwrap();
    let json = docs[0].to_json();
    assert_eq!(
        json["spec"]["syncPolicy"]["automated"]["selfHeal"], true,
        "{app}"
    );
    assert_eq!(
        json["spec"]["syncPolicy"]["automated"]["prune"], true,
        "{app}"
    );
}

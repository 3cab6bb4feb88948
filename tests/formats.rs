//! The formats real repositories keep: Terraform / OpenTofu (bpg and Telmate VMs, Talos
//! patches and schematics, Longhorn `helm_release`), talhelper's `talconfig.yaml`, Longhorn
//! resources and ConfigMaps. Each test lints a small repository and checks what lands in the
//! model and which findings fire where.

mod common;

use std::path::Path;
use talhorn::lint::lint_paths;
use talhorn::model::{Cluster, Role, Scope};
use talhorn::rules::LintConfig;

struct Linted {
    cluster: Cluster,
    /// `code path:line` of every finding (path relative to the repository).
    findings: Vec<String>,
}

fn lint(files: &[(&str, &str)]) -> Linted {
    let (dir, outcome) = common::lint_files(files);
    let findings = outcome
        .findings
        .iter()
        .map(|f| {
            let file = outcome.sources.get(f.at.file);
            let path = file.path.strip_prefix(dir.path()).unwrap_or(&file.path);
            let (line, _) = file.line_col(f.at.span.start);
            format!("{} {}:{line}", f.code, path.display())
        })
        .collect();
    let names: Vec<_> = outcome.clusters.iter().map(|c| c.name.clone()).collect();
    // A lint checks each model and drops it: the models come from the same read of the files.
    let [only] = <[_; 1]>::try_from(common::models(dir.path()))
        .unwrap_or_else(|_| panic!("one cluster expected, got {names:?}"));
    Linted {
        cluster: only.cluster,
        findings,
    }
}

impl Linted {
    fn has(&self, finding: &str) -> bool {
        self.findings.iter().any(|f| f == finding)
    }

    fn codes(&self, code: &str) -> Vec<&String> {
        self.findings
            .iter()
            .filter(|f| f.starts_with(code))
            .collect()
    }
}

const TEMPLATE_VMS: &str = r#"
variable "cpu_type" {
  default = "kvm64"
}

variable "nodes" {
  default = {}
}

resource "proxmox_virtual_environment_vm" "talos_worker" {
  for_each  = var.nodes
  name      = each.key
  node_name = "pve"
  tags      = ["talos", "worker"]

  cpu {
    type  = var.cpu_type
    cores = each.value.cores
  }

  memory {
    dedicated = each.value.memory
  }

  disk {
    interface    = "scsi0"
    datastore_id = "local-lvm"
    size         = 32
  }
}
"#;

#[test]
fn a_for_each_vm_is_one_template_whose_unknown_facts_keep_their_rules_silent() {
    let linted = lint(&[("infra/vms.tf", TEMPLATE_VMS)]);
    assert_eq!(linted.cluster.vms.len(), 1);
    let vm = &linted.cluster.vms[0];
    assert!(vm.is_unknown("memory") && vm.is_unknown("cores") && vm.is_unknown("name"));
    // The variable default is known (and located where written, in the same file).
    assert!(linted.has("PVE001 infra/vms.tf:3"), "{:?}", linted.findings);
    // No memory or core findings for values only `each.value` knows; discard is known.
    assert!(linted.codes("PVE005").is_empty() && linted.codes("PVE006").is_empty());
    assert!(
        linted.has("PVE009 infra/vms.tf:25"),
        "{:?}",
        linted.findings
    );
    // A template VM's address is no name: two modules with the same address are no duplicate.
    let twice = lint(&[("a/vms.tf", TEMPLATE_VMS), ("b/vms.tf", TEMPLATE_VMS)]);
    assert!(twice.codes("PVE019").is_empty(), "{:?}", twice.findings);
}

#[test]
fn tfvars_and_module_calls_override_variable_defaults() {
    let tfvars = lint(&[
        ("vms.tf", TEMPLATE_VMS),
        ("terraform.tfvars", "cpu_type = \"x86-64-v2-AES\"\n"),
    ]);
    assert!(tfvars.codes("PVE001").is_empty(), "{:?}", tfvars.findings);
    let called = lint(&[
        ("modules/vm/vms.tf", TEMPLATE_VMS),
        (
            "main.tf",
            "module \"workers\" {\n  source   = \"./modules/vm\"\n  cpu_type = var.cpu\n}\n",
        ),
    ]);
    assert!(called.codes("PVE001").is_empty(), "{:?}", called.findings);
}

#[test]
fn vms_that_do_not_run_talos_are_not_checked_against_talos() {
    let nas = r#"
resource "proxmox_vm_qemu" "truenas" {
  name   = "truenas"
  memory = 2048
  cpu    = "kvm64"
}
"#;
    let talos_vm = r#"
resource "proxmox_vm_qemu" "talos_cp" {
  name     = "talos-cp-1"
  memory   = 4096
  cpu_type = "kvm64"
}
"#;
    let linted = lint(&[("nas.tf", nas), ("talos.tf", talos_vm)]);
    let names: Vec<_> = linted
        .cluster
        .vms
        .iter()
        .filter_map(|vm| vm.name.as_ref().map(|n| n.value.as_str()))
        .collect();
    assert_eq!(names, ["talos-cp-1"]);
    assert!(linted.has("PVE001 talos.tf:5"), "{:?}", linted.findings);
}

#[test]
fn telmate_defaults_differ_from_proxmox_defaults() {
    let vm = r#"
resource "proxmox_vm_qemu" "talos_w" {
  name    = "talos-w-1"
  memory  = 8192
  cores   = 4
  hotplug = "network,disk,memory"
}
"#;
    let linted = lint(&[("vm.tf", vm)]);
    // Telmate: CPU `host`, `balloon = 0`; memory hotplug as written.
    assert!(linted.codes("PVE001").is_empty() && linted.codes("PVE004").is_empty());
    assert!(linted.has("PVE002 vm.tf:6"), "{:?}", linted.findings);
}

#[test]
fn a_vm_that_names_another_system_is_not_checked_even_when_no_vm_says_talos() {
    let talconfig = "clusterName: lab\nendpoint: https://10.0.0.10:6443\nnodes:\n  - hostname: cp-1\n    ipAddress: 10.0.0.11\n    controlPlane: true\n";
    let vms = r#"
resource "proxmox_vm_qemu" "dns" {
  name   = "dns-1"
  clone  = var.template
  memory = 512
}

variable "template" {
  default = "debian-12-cloudinit"
}

resource "proxmox_vm_qemu" "ha" {
  name    = "HomeAssistant"
  memory  = 512
}

resource "proxmox_vm_qemu" "win" {
  name    = "gaming"
  qemu_os = "win11"
  memory  = 512
}

resource "proxmox_vm_qemu" "node" {
  name   = "k8s-node-1"
  memory = 512
}
"#;
    let names = |files: &[(&str, &str)]| -> Vec<String> {
        lint(files)
            .cluster
            .vms
            .iter()
            .filter_map(|vm| vm.name.as_ref().map(|n| n.value.clone()))
            .collect()
    };
    // No VM says Talos: Debian (by its template's value), Home Assistant and Windows are left
    // out; the VM that names no system is checked, as the repository holds Talos.
    let fallback = names(&[("talconfig.yaml", talconfig), ("vms.tf", vms)]);
    assert_eq!(fallback, ["k8s-node-1"]);
    // A VM that says Talos and another system says Talos (and ends the fallback).
    let both = "resource \"proxmox_vm_qemu\" \"both\" {\n  name = \"talos-on-ubuntu-host\"\n}\n";
    let said = names(&[
        ("talconfig.yaml", talconfig),
        ("vms.tf", vms),
        ("both.tf", both),
    ]);
    assert_eq!(said, ["talos-on-ubuntu-host"]);
}

#[test]
fn a_bpg_clone_takes_what_it_does_not_write_from_its_source() {
    let vms = r#"
resource "proxmox_virtual_environment_vm" "bare" {
  name = "talos-w-1"
  clone {
    vm_id = 9000
  }
}

resource "proxmox_virtual_environment_vm" "written" {
  name = "talos-w-2"
  clone {
    vm_id = 9000
  }
  cpu {
    cores = 4
  }
  memory {
    dedicated = 8192
  }
  disk {
    interface = "scsi0"
    size      = 40
  }
}

resource "proxmox_virtual_environment_vm" "created" {
  name = "talos-w-3"
}

resource "proxmox_vm_qemu" "telmate" {
  name  = "talos-w-4"
  clone = "talos-template"
}
"#;
    let linted = lint(&[("vms.tf", vms)]);
    let vm = |name: &str| {
        linted
            .cluster
            .vms
            .iter()
            .find(|vm| vm.name.as_ref().is_some_and(|n| n.value == name))
            .unwrap_or_else(|| panic!("no VM {name}"))
    };
    let inherited = [
        "cpu",
        "cores",
        "sockets",
        "numa",
        "memory",
        "balloon",
        "scsihw",
        "bios",
        "machine",
        "agent",
        "ostype",
        "efidisk",
        "disks",
        "more_disks",
        "nics",
        "cloud_init",
    ];
    let bare = vm("talos-w-1");
    for field in inherited {
        assert!(bare.is_unknown(field), "{field}: {:?}", bare.unknown);
    }
    assert!(bare.cpu.is_none() && bare.scsihw.is_none() && bare.balloon.is_none());
    // A written block is sent whole, defaults included; a written disk is known, but the
    // source's other disks stay.
    let written = vm("talos-w-2");
    assert!(!written.any_unknown(&["cpu", "cores", "memory", "balloon", "disks"]));
    assert_eq!(
        written.cpu.as_ref().map(|c| c.value.as_str()),
        Some("qemu64")
    );
    assert_eq!(written.balloon.as_ref().map(|b| b.value), Some(0));
    assert!(written.is_unknown("more_disks") && written.is_unknown("scsihw"));
    // Not a clone: bpg's defaults.
    let created = vm("talos-w-3");
    assert!(
        created.unknown.iter().all(|f| *f == "boot_order"),
        "{:?}",
        created.unknown
    );
    assert_eq!(
        created.cpu.as_ref().map(|c| c.value.as_str()),
        Some("qemu64")
    );
    // Telmate sends its whole configuration after cloning: its defaults stand (512 MiB).
    let telmate = vm("talos-w-4");
    assert!(!telmate.any_unknown(&["cpu", "memory", "balloon", "more_disks"]));
    assert!(linted.has("PVE005 vms.tf:30"), "{:?}", linted.findings);
    assert!(
        !linted
            .findings
            .iter()
            .any(|f| f.starts_with("PVE005 vms.tf:2 "))
    );
}

#[test]
fn talos_patches_inside_terraform_are_talos_configs_of_their_role() {
    let tf = r#"
resource "talos_machine_secrets" "this" {
  talos_version = "v1.11.6"
}

data "talos_machine_configuration" "cp" {
  cluster_name     = "lab"
  cluster_endpoint = "https://10.0.0.10:6443"
  machine_type     = "controlplane"
  machine_secrets  = talos_machine_secrets.this.machine_secrets
  config_patches = [
    yamlencode({
      machine = {
        disks = [{ device = "/dev/sdb" }]
      }
    }),
    file("${path.module}/patches/cp.yaml"),
    templatefile("${path.module}/patches/vip.yaml", { vip = "10.0.0.10" }),
  ]
}
"#;
    let linted = lint(&[
        ("tf/talos.tf", tf),
        (
            "tf/patches/cp.yaml",
            "machine:\n  kubelet:\n    extraArgs:\n      a: b\n",
        ),
        (
            "tf/patches/vip.yaml",
            "machine:\n  network:\n    interfaces:\n      - vip:\n          ip: ${vip}\n",
        ),
    ]);
    let version = linted
        .cluster
        .versions
        .talos
        .as_ref()
        .map(|v| v.value.as_str());
    assert_eq!(version, Some("v1.11.6"));
    // `machine.disks` is deprecated on 1.11, found in the yamlencode object in the .tf file.
    assert!(linted.has("TAL008 tf/talos.tf:14"), "{:?}", linted.findings);
    let scopes: Vec<(String, Scope)> = linted
        .cluster
        .talos
        .configs
        .iter()
        .filter_map(|c| {
            let path = linted.cluster.sources.path(c.file?);
            Some((
                path.file_name()?.to_string_lossy().into_owned(),
                c.scope.clone(),
            ))
        })
        .collect();
    assert!(scopes.contains(&("cp.yaml".into(), Scope::Role(Role::Controlplane))));
    assert!(scopes.contains(&("talos.tf".into(), Scope::Role(Role::Controlplane))));
    // A templatefile() with directives is not a config as written.
    assert!(
        !scopes.iter().any(|(name, _)| name == "vip.yaml"),
        "{scopes:?}"
    );
}

#[test]
fn the_schematic_resource_and_a_longhorn_helm_release_join_the_model() {
    let tf = r#"
resource "talos_image_factory_schematic" "this" {
  schematic = yamlencode({
    customization = {
      systemExtensions = {
        officialExtensions = ["siderolabs/iscsi-tools"]
      }
    }
  })
}

resource "helm_release" "longhorn" {
  name       = "longhorn"
  repository = "https://charts.longhorn.io"
  chart      = "longhorn"
  version    = "1.10.1"
  namespace  = "longhorn-system"

  set {
    name  = "defaultBackupStore.backupTarget"
    value = "s3://backups@us-east-1/"
  }
}
"#;
    let linted = lint(&[("talos.tf", tf)]);
    let schematic = linted.cluster.talos.schematic.as_ref().expect("schematic");
    assert!(schematic.has_extension("siderolabs/iscsi-tools"));
    assert!(linted.has("TAL002 talos.tf:6"), "{:?}", linted.findings);
    let longhorn = linted.cluster.longhorn.as_ref().expect("longhorn");
    assert_eq!(
        longhorn.backup_target.as_ref().map(|b| b.value.as_str()),
        Some("s3://backups@us-east-1/")
    );
    assert_eq!(linted.cluster.longhorn_minor(), Some(10));
    assert!(linted.codes("LHN007").is_empty(), "{:?}", linted.findings);
    // The `set` value is checked like a values file's: an S3 target needs a credential secret.
    assert!(linted.has("LHN008 talos.tf:21"), "{:?}", linted.findings);
}

#[test]
fn an_unknown_extension_list_is_not_an_empty_schematic() {
    let tf = r#"
resource "talos_image_factory_schematic" "this" {
  schematic = yamlencode({
    customization = {
      systemExtensions = {
        officialExtensions = data.talos_image_factory_extensions_versions.this.extensions_info[*].name
      }
    }
  })
}
"#;
    let linted = lint(&[("talos.tf", tf)]);
    assert!(linted.cluster.talos.schematic.is_none());
}

#[test]
fn a_syntax_error_in_a_tf_file_is_located_and_a_sops_tfvars_is_not_read() {
    let linted = lint(&[
        ("main.tf", "resource \"a\" \"b\" {\n  x = \n"),
        (
            "secrets.tfvars",
            "{\n  \"data\": \"ENC[AES256_GCM,data:...]\"\n}\n",
        ),
    ]);
    assert_eq!(linted.codes("INT001").len(), 1, "{:?}", linted.findings);
    assert!(linted.findings[0].contains("main.tf:"));
}

const TALCONFIG: &str = r#"clusterName: lab
talosVersion: v1.10.3
endpoint: https://10.0.0.10:6443
nodes:
  - hostname: cp-1
    ipAddress: 10.0.0.11
    controlPlane: true
    installDisk: /dev/sda
  - hostname: w-1
    ipAddress: 10.0.0.21
    controlPlane: false
    patches:
      - "@./patches/w-1.yaml"
worker:
  schematic:
    customization:
      systemExtensions:
        officialExtensions:
          - siderolabs/iscsi-tools
  patches:
    - |-
      machine:
        kubelet:
          extraMounts:
            - destination: /var/lib/longhorn
              type: bind
              source: /var/lib/longhorn
              options: [bind, rshared, rw]
          extraArg:
            a: b
"#;

#[test]
fn talconfig_gives_nodes_version_scoped_patches_and_schematic() {
    let linted = lint(&[
        ("talos/talconfig.yaml", TALCONFIG),
        (
            "talos/patches/w-1.yaml",
            "machine:\n  nodeLabels:\n    zone: a\n",
        ),
        (
            "talos/talsecret.sops.yaml",
            "cluster:\n  id: x\n  secret: y\nsecrets:\n  bootstraptoken: z\n",
        ),
        (
            "kubernetes/longhorn/values.yaml",
            "defaultSettings:\n  defaultReplicaCount: 1\n",
        ),
    ]);
    let version = linted
        .cluster
        .versions
        .talos
        .as_ref()
        .map(|v| v.value.as_str());
    assert_eq!(version, Some("v1.10.3"));
    let mut nodes: Vec<(&str, Option<Role>)> = linted
        .cluster
        .talos
        .nodes
        .iter()
        .map(|n| (n.name.as_str(), n.role))
        .collect();
    nodes.sort_by_key(|(name, _)| *name);
    assert_eq!(
        nodes,
        [
            ("cp-1", Some(Role::Controlplane)),
            ("w-1", Some(Role::Worker))
        ]
    );
    let w1 = linted
        .cluster
        .talos
        .nodes
        .iter()
        .find(|n| n.name == "w-1")
        .expect("w-1");
    assert!(
        w1.labels.iter().any(|(k, _)| k == "zone"),
        "the @file patch applies to w-1"
    );
    // The worker patch's typo is checked against Talos 1.10, at its line in talconfig.yaml.
    assert!(
        linted.has("INT002 talos/talconfig.yaml:29"),
        "{:?}",
        linted.findings
    );
    // The worker schematic lacks util-linux-tools.
    assert!(
        linted.has("TAL002 talos/talconfig.yaml:19"),
        "{:?}",
        linted.findings
    );
    // The worker patch has no user volume for Longhorn's path: reported at that patch.
    assert!(
        linted.has("TAL015 talos/talconfig.yaml:22"),
        "{:?}",
        linted.findings
    );
    // talsecret is never read as a Talos config.
    assert!(
        !linted.findings.iter().any(|f| f.contains("talsecret")),
        "{:?}",
        linted.findings
    );
}

#[test]
fn longhorn_resources_and_configmaps_feed_the_longhorn_facts() {
    let backup_target = r#"apiVersion: longhorn.io/v1beta2
kind: BackupTarget
metadata:
  name: default
  namespace: longhorn-system
spec:
  backupTargetURL: nfs://10.0.0.5:/backups
  pollInterval: 300s
"#;
    let storage_class = r#"apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata:
  name: longhorn-fast
provisioner: driver.longhorn.io
parameters:
  numberOfReplicas: "2"
  diskSelector: ssd
"#;
    let settings = r#"apiVersion: v1
kind: ConfigMap
metadata:
  name: longhorn-default-setting
  namespace: longhorn-system
data:
  default-setting.yaml: |-
    default-replica-count: 2
    default-data-path: /var/mnt/longhorn
"#;
    let values = "defaultSettings:\n  replicaSoftAntiAffinity: false\n";
    let with = lint(&[
        ("longhorn/values.yaml", values),
        ("longhorn/backup-target.yaml", backup_target),
        ("longhorn/storageclass.yaml", storage_class),
        ("longhorn/settings.yaml", settings),
    ]);
    let longhorn = with.cluster.longhorn.as_ref().expect("longhorn");
    assert_eq!(
        longhorn.backup_target.as_ref().map(|b| b.value.as_str()),
        Some("nfs://10.0.0.5:/backups")
    );
    // `longhorn-fast` is a class of its own, not the chart's `longhorn` class.
    assert!(longhorn.class_replica_count.is_none());
    let fast = longhorn.classes.iter().find(|c| c.name == "longhorn-fast");
    assert_eq!(
        fast.and_then(|c| c.replicas.as_ref()).map(|r| r.value),
        Some(2)
    );
    assert_eq!(
        longhorn.default_replica_count.as_ref().map(|c| c.value),
        Some(2)
    );
    assert_eq!(
        longhorn.data_path.as_ref().map(|p| p.value.as_str()),
        Some("/var/mnt/longhorn")
    );
    assert!(with.codes("LHN007").is_empty(), "{:?}", with.findings);
    let without = lint(&[("longhorn/values.yaml", values)]);
    assert!(
        without.has("LHN007 longhorn/values.yaml:1"),
        "{:?}",
        without.findings
    );
}

#[test]
fn storage_class_selectors_node_disks_and_node_annotations_are_located_facts() {
    let storage_class = r#"apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata:
  name: longhorn-fast
provisioner: driver.longhorn.io
parameters:
  diskSelector: "ssd, fast"
  nodeSelector: storage
"#;
    let node = r#"apiVersion: longhorn.io/v1beta2
kind: Node
metadata:
  name: w-1
spec:
  disks:
    data:
      path: /var/mnt/data
      tags: [ssd]
"#;
    let patch = r#"machine:
  type: worker
  network:
    hostname: w-1
  nodeAnnotations:
    node.longhorn.io/default-disks-config: '[{"path":"/var/mnt/longhorn"}]'
"#;
    let values = "persistence:\n  defaultNodeSelector:\n    enable: true\n    selector: \"a,b\"\n";
    let linted = lint(&[
        ("longhorn/values.yaml", values),
        ("longhorn/storageclass.yaml", storage_class),
        ("longhorn/node.yaml", node),
        ("talos/nodes/w-1.yaml", patch),
    ]);
    let cluster = &linted.cluster;
    let longhorn = cluster.longhorn.as_ref().expect("longhorn");
    let written = |at: talhorn::source::Location| {
        let text = &cluster.sources.get(at.file).text;
        text[at.span.start..at.span.end].to_owned()
    };
    let class = longhorn
        .classes
        .iter()
        .find(|c| c.name == "longhorn-fast")
        .expect("class");
    let disk = class.disk_selector.as_ref().expect("disk selector");
    assert_eq!(disk.value, ["ssd", "fast"]);
    assert_eq!(written(disk.at), "\"ssd, fast\"");
    let nodes = class.node_selector.as_ref().expect("node selector");
    assert_eq!(
        (nodes.value.as_slice(), written(nodes.at).as_str()),
        (&["storage".to_owned()][..], "storage")
    );
    let chart = longhorn
        .classes
        .iter()
        .find(|c| c.name == "longhorn")
        .expect("the chart's class");
    assert!(chart.disk_selector.is_none());
    assert_eq!(
        chart.node_selector.as_ref().map(|s| s.value.clone()),
        Some(vec!["a".to_owned(), "b".to_owned()])
    );
    let [disk] = longhorn.node_disks.as_slice() else {
        panic!("{:?}", longhorn.node_disks)
    };
    assert_eq!(
        (disk.node.as_str(), disk.tags.as_slice()),
        ("w-1", &["ssd".to_owned()][..])
    );
    assert_eq!(written(disk.at), "data");
    let w1 = cluster
        .talos
        .nodes
        .iter()
        .find(|n| n.name == "w-1")
        .expect("w-1");
    let annotation = w1
        .annotation("node.longhorn.io/default-disks-config")
        .expect("annotation");
    assert_eq!(annotation.value, r#"[{"path":"/var/mnt/longhorn"}]"#);
}

#[test]
fn a_flux_chart_ref_and_values_from_a_configmap_feed_longhorn() {
    let release = r#"apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: longhorn
  namespace: longhorn-system
spec:
  interval: 30m
  chartRef:
    kind: OCIRepository
    name: longhorn
  valuesFrom:
    - kind: ConfigMap
      name: longhorn-values
  values:
    preUpgradeChecker:
      jobEnabled: false
---
apiVersion: source.toolkit.fluxcd.io/v1
kind: OCIRepository
metadata:
  name: longhorn
  namespace: longhorn-system
spec:
  interval: 12h
  url: oci://ghcr.io/longhorn/charts/longhorn
  ref:
    tag: 1.10.1
"#;
    let values = r#"apiVersion: v1
kind: ConfigMap
metadata:
  name: longhorn-values
  namespace: longhorn-system
data:
  values.yaml: |
    defaultBackupStore:
      backupTarget: nfs://10.0.0.5:/backups
    defaultSettings:
      defaultReplicaCount: 2
      noSuchSetting: true
"#;
    // A ConfigMap is read when its cluster has a `valuesFrom`, whichever file comes first.
    for values_path in ["apps/longhorn/values.yaml", "apps/0-values.yaml"] {
        let linted = lint(&[
            ("apps/longhorn/release.yaml", release),
            (values_path, values),
        ]);
        let longhorn = linted.cluster.longhorn.as_ref().expect("longhorn");
        let replicas = longhorn.default_replica_count.as_ref().map(|c| c.value);
        assert_eq!(replicas, Some(2), "{values_path}");
    }
    let linted = lint(&[
        ("apps/longhorn/release.yaml", release),
        ("apps/longhorn/values.yaml", values),
    ]);
    assert_eq!(linted.cluster.longhorn_minor(), Some(10));
    let longhorn = linted.cluster.longhorn.as_ref().expect("longhorn");
    assert_eq!(
        longhorn.default_replica_count.as_ref().map(|c| c.value),
        Some(2)
    );
    assert!(linted.codes("LHN007").is_empty(), "{:?}", linted.findings);
    // Keys of the ConfigMap's values are checked against the chart, at their line.
    assert!(
        linted.has("INT002 apps/longhorn/values.yaml:12"),
        "{:?}",
        linted.findings
    );
}

/// The format examples of the README and docs/rules.md (`fixtures/formats/`) are correct:
/// each reads into the model and lints without a warning or an error.
#[test]
fn the_documented_format_examples_read_and_lint_clean() {
    use talhorn::finding::Severity;
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/formats");
    for dir in ["terraform", "talhelper", "kubernetes"] {
        let path = root.join(dir);
        let config = LintConfig {
            root: path.clone(),
            ..LintConfig::default()
        };
        let outcome =
            lint_paths(std::slice::from_ref(&path), &config).unwrap_or_else(|e| panic!("{e}"));
        let problems: Vec<_> = outcome
            .findings
            .iter()
            .filter(|f| f.severity > Severity::Info)
            .map(|f| format!("{} {}", f.code, f.message))
            .collect();
        assert!(problems.is_empty(), "{dir}: {problems:?}");
        assert_eq!(outcome.clusters.len(), 1, "{dir}: one cluster");
        let models = common::models(&path);
        let cluster = &models[0].cluster;
        match dir {
            "terraform" => {
                assert_eq!(cluster.vms.len(), 2);
                assert!(cluster.talos.schematic.is_some() && cluster.longhorn.is_some());
                assert_eq!(cluster.talos_minor(), Some(11));
            }
            "talhelper" => {
                assert_eq!(cluster.talos.nodes.len(), 2);
                assert_eq!(cluster.talos_minor(), Some(11));
            }
            _ => {
                let longhorn = cluster.longhorn.as_ref().expect("longhorn");
                assert!(longhorn.backup_target.is_some());
                assert_eq!(cluster.longhorn_minor(), Some(10));
            }
        }
    }
}

#[test]
fn a_terraform_comment_suppresses_a_finding() {
    let vm = r#"
resource "proxmox_vm_qemu" "talos_w" {
  name   = "talos-w-1"
  memory = 8192
  # talhorn: ignore[PVE002] the host has memory hotplug for a reason
  hotplug = "network,disk,memory"
}
"#;
    let linted = lint(&[("vm.tf", vm)]);
    assert!(linted.codes("PVE002").is_empty(), "{:?}", linted.findings);
    assert!(linted.codes("INT004").is_empty(), "{:?}", linted.findings);
}

#[test]
fn an_empty_hostname_names_no_node() {
    let patch = "machine:\n  network:\n    hostname: \"\"\n    interfaces:\n      - interface: eth0\n        dhcp: true\n";
    let linted = lint(&[("talos/patches/cluster.yaml", patch)]);
    assert!(
        linted
            .cluster
            .talos
            .nodes
            .iter()
            .all(|n| !n.name.is_empty())
    );
    assert!(linted.codes("TAL013").is_empty(), "{:?}", linted.findings);
}

#[test]
fn cloud_init_ip_config_is_a_vm_fact_for_both_providers() {
    let bpg = r#"
resource "proxmox_virtual_environment_vm" "talos_cp" {
  name = "talos-cp-1"
  initialization {
    datastore_id = "local-zfs"
    ip_config {
      ipv4 {
        address = "10.0.0.11/24"
        gateway = "10.0.0.1"
      }
    }
    dns {
      servers = ["10.0.0.1"]
    }
  }
}
"#;
    let telmate = r#"
resource "proxmox_vm_qemu" "talos_w" {
  name       = "talos-w-1"
  ipconfig0  = "ip=10.0.0.21/24,gw=10.0.0.1"
  nameserver = "10.0.0.1"
  disks {
    ide {
      ide0 {
        cloudinit {
          storage = "local-lvm"
        }
      }
    }
  }
}
"#;
    let linted = lint(&[("bpg.tf", bpg), ("telmate.tf", telmate)]);
    let mut seen: Vec<(String, String, String, Vec<String>)> = linted
        .cluster
        .vms
        .iter()
        .filter_map(|vm| {
            let ci = vm.cloud_init.as_ref()?;
            Some((
                ci.slot.clone(),
                ci.storage.clone(),
                ci.ipconfig0.clone(),
                ci.nameservers.clone(),
            ))
        })
        .collect();
    seen.sort();
    assert_eq!(
        seen,
        [
            (
                "ide0".into(),
                "local-lvm".into(),
                "ip=10.0.0.21/24,gw=10.0.0.1".into(),
                vec!["10.0.0.1".into()]
            ),
            (
                "ide2".into(),
                "local-zfs".into(),
                "ip=10.0.0.11/24,gw=10.0.0.1".into(),
                vec!["10.0.0.1".into()]
            ),
        ]
    );
}

/// talhelper's `endpoint` is the cluster's endpoint: NET005 fires when no control plane holds it
/// and no VIP in `networkInterfaces` serves it, and stays silent with the VIP.
#[test]
fn talconfig_endpoint_must_be_served() {
    let talconfig = |vip: &str| {
        format!(
            "clusterName: lab\ntalosVersion: v1.11.6\nendpoint: https://10.0.0.10:6443\nnodes:\n  - hostname: cp-1\n    ipAddress: 10.0.0.11\n    controlPlane: true\n    networkInterfaces:\n      - interface: ens18\n        addresses: [10.0.0.11/24]\n{vip}"
        )
    };
    let unserved = lint(&[("talos/talconfig.yaml", &talconfig(""))]);
    assert!(
        unserved.has("NET005 talos/talconfig.yaml:3"),
        "{:?}",
        unserved.findings
    );
    let served = lint(&[(
        "talos/talconfig.yaml",
        &talconfig("        vip:\n          ip: 10.0.0.10\n"),
    )]);
    assert!(served.codes("NET005").is_empty(), "{:?}", served.findings);
}

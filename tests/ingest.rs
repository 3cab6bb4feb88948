//! Repository ingestion: every file kind lands in the model with exact locations, discovery
//! respects `.gitignore`/`exclude`, and bad files are reported without stopping the run.

use std::path::{Path, PathBuf};
use talhorn::finding::Finding;
use talhorn::ingest::{Kind, MAX_FILE_BYTES, ingest};
use talhorn::model::{Cluster, DiskRole, GitOps, Role, Scope};
use talhorn::rules::LintConfig;
use talhorn::source::Location;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/repos")
        .join(name)
}

/// The one cluster of a directory (these repositories have no cluster roots).
fn ingest_dir(dir: &Path, config: &LintConfig) -> Cluster {
    let mut ingested = ingest(&[dir.to_path_buf()], config).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(ingested.clusters.len(), 1, "{}", dir.display());
    ingested.clusters.remove(0).cluster
}

fn ingest_fixture(name: &str) -> Cluster {
    let root = fixture(name);
    let config = match LintConfig::discover(&root) {
        Some(path) => LintConfig::load(&path).unwrap_or_else(|e| panic!("{e}")),
        None => LintConfig::default(),
    };
    ingest_dir(&root, &config)
}

/// The text a location covers.
fn text_at(cluster: &Cluster, at: Location) -> &str {
    let source = cluster.sources.get(at.file);
    &source.text[at.span.start..at.span.end]
}

fn line_of(cluster: &Cluster, at: Location) -> usize {
    cluster.sources.get(at.file).line_col(at.span.start).0
}

/// The path of a location relative to `root`, with `/` separators.
fn file_of(cluster: &Cluster, at: Location, root: &Path) -> String {
    let path = cluster.sources.path(at.file);
    let relative = path.strip_prefix(root).unwrap_or(path);
    relative.to_string_lossy().replace('\\', "/")
}

fn findings_in<'a>(cluster: &'a Cluster, file_suffix: &str) -> Vec<&'a Finding> {
    cluster
        .load_findings
        .iter()
        .filter(|f| cluster.sources.path(f.at.file).ends_with(file_suffix))
        .collect()
}

fn write(dir: &Path, relative: &str, text: impl AsRef<[u8]>) -> PathBuf {
    let path = dir.join(relative);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).unwrap_or_else(|e| panic!("{e}"));
    }
    std::fs::write(&path, text).unwrap_or_else(|e| panic!("{e}"));
    path
}

fn temp_dir() -> tempfile::TempDir {
    tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"))
}

const VM_CONF: &str = "\
boot: order=scsi0;ide2;net0
cores: 4
cpu: host,flags=+aes
hotplug: 1
ide2: local:iso/talos.iso,media=cdrom
memory: 8192
name: w-1
net0: virtio=BC:24:11:2C:69:EC,bridge=vmbr0,firewall=1,mtu=1,tag=20
scsi0: local-lvm:vm-201-disk-0,discard=on,iothread=1,size=32G,ssd=1
scsi1: local:201/vm-201-disk-1.qcow2,iothread=1,serial=lh-201,size=200G
scsihw: virtio-scsi-single
tags: k8s;worker
";

// ---------------------------------------------------------------------------------------------
// Fixture repositories
// ---------------------------------------------------------------------------------------------

#[test]
fn clean_homelab_has_every_vm_node_and_config_and_no_load_findings() {
    let cluster = ingest_fixture("clean-homelab");
    assert!(
        cluster.load_findings.is_empty(),
        "{:#?}",
        cluster.load_findings
    );
    assert_eq!(cluster.vms.len(), 4);
    assert_eq!(cluster.talos.nodes.len(), 4);
    assert_eq!(cluster.talos.configs.len(), 6);
    for vm in &cluster.vms {
        let node = cluster
            .talos_node_of(vm)
            .unwrap_or_else(|| panic!("{} has no Talos node", vm.label()));
        assert_eq!(Some(&node.name), vm.name.as_ref().map(|n| &n.value));
        assert_eq!(
            node.role,
            vm.role,
            "{}: the role is shared across the join",
            vm.label()
        );
    }
    let scopes: Vec<&Scope> = cluster.talos.configs.iter().map(|c| &c.scope).collect();
    assert!(scopes.contains(&&Scope::Role(Role::Controlplane)));
    assert!(scopes.contains(&&Scope::Role(Role::Worker)));
    assert!(scopes.contains(&&Scope::Node("w-2".to_owned())));
}

#[test]
fn clean_homelab_versions_come_from_the_files_and_the_context() {
    let root = fixture("clean-homelab");
    let cluster = ingest_fixture("clean-homelab");
    let talos = cluster
        .versions
        .talos
        .as_ref()
        .expect("Talos version from the installer tag");
    assert_eq!(talos.value, "v1.11.6");
    assert_eq!(text_at(&cluster, talos.at), "v1.11.6");
    assert_eq!(
        file_of(&cluster, talos.at, &root),
        "talos/controlplane.yaml"
    );
    let longhorn = cluster
        .versions
        .longhorn
        .as_ref()
        .expect("chart version from the HelmRelease");
    assert_eq!(longhorn.value, "1.10.2");
    assert_eq!(
        file_of(&cluster, longhorn.at, &root),
        "kubernetes/longhorn/helmrelease.yaml"
    );
    assert_eq!(line_of(&cluster, longhorn.at), 11);
    let proxmox = cluster
        .versions
        .proxmox
        .as_ref()
        .expect("PVE version from .talhorn.yaml");
    assert_eq!(proxmox.value, 9);
    assert_eq!(file_of(&cluster, proxmox.at, &root), ".talhorn.yaml");
    assert_eq!(line_of(&cluster, proxmox.at), 2);
}

#[test]
fn clean_homelab_storage_nodes_and_disk_roles() {
    let cluster = ingest_fixture("clean-homelab");
    for vm in &cluster.vms {
        let worker = vm.role == Some(Role::Worker);
        assert_eq!(vm.storage_node, Some(worker), "{}", vm.label());
        assert_eq!(vm.os_disk().map(|d| d.slot.as_str()), Some("scsi0"));
        let data: Vec<&str> = vm.data_disks().map(|d| d.slot.as_str()).collect();
        assert_eq!(
            data,
            if worker { vec!["virtio1"] } else { vec![] },
            "{}",
            vm.label()
        );
    }
    assert_eq!(cluster.storage_node_count(), Some(3));
}

#[test]
fn clean_homelab_schematic_id_matches_the_installer_image() {
    let cluster = ingest_fixture("clean-homelab");
    let schematic = cluster.talos.schematic.as_ref().expect("schematic");
    let names: Vec<&str> = schematic
        .extensions
        .iter()
        .map(|e| e.value.as_str())
        .collect();
    assert_eq!(
        names,
        [
            "siderolabs/iscsi-tools",
            "siderolabs/qemu-guest-agent",
            "siderolabs/util-linux-tools"
        ]
    );
    let id = schematic.id_as_written.as_deref().expect("schematic ID");
    let image = cluster
        .talos
        .configs
        .iter()
        .find_map(|c| c.install_image.as_ref())
        .expect("installer image");
    assert!(
        image.value.contains(id),
        "{} does not carry schematic {id}",
        image.value
    );
}

#[test]
fn clean_homelab_longhorn_and_host_facts() {
    let root = fixture("clean-homelab");
    let cluster = ingest_fixture("clean-homelab");
    let longhorn = cluster.longhorn.as_ref().expect("Longhorn");
    let data_path = longhorn.data_path.as_ref().expect("data path");
    assert_eq!(data_path.value, "/var/mnt/longhorn");
    assert_eq!(
        file_of(&cluster, data_path.at, &root),
        "kubernetes/longhorn/values.yaml"
    );
    assert_eq!(line_of(&cluster, data_path.at), 2);
    assert_eq!(
        longhorn.default_replica_count.as_ref().map(|f| f.value),
        Some(3)
    );
    assert_eq!(
        longhorn.class_replica_count.as_ref().map(|f| f.value),
        Some(3)
    );
    assert_eq!(
        longhorn.pre_upgrade_job.as_ref().map(|f| f.value),
        Some(false)
    );
    assert_eq!(
        longhorn.gitops.as_ref().map(|f| f.value),
        Some(GitOps::Flux)
    );
    assert_eq!(
        longhorn.backup_secret.as_ref().map(|f| f.value.as_str()),
        Some("s3-creds")
    );
    assert_eq!(
        longhorn
            .allow_scheduling_on_control_planes
            .as_ref()
            .map(|f| f.value),
        Some(false)
    );
    let namespace = longhorn.namespace.as_ref().expect("namespace");
    let enforce = namespace
        .label("pod-security.kubernetes.io/enforce")
        .expect("enforce label");
    assert_eq!(enforce.value, "privileged");
    assert_eq!(line_of(&cluster, enforce.at), 6);
    let bridge = cluster.host.bridge("vmbr0").expect("vmbr0");
    let mtu = bridge.mtu.as_ref().expect("bridge MTU");
    assert_eq!((mtu.value, line_of(&cluster, mtu.at)), (9000, 15));
    assert_eq!(
        cluster.host.storage("local-lvm").map(|s| s.kind.as_str()),
        Some("lvmthin")
    );
    let node = cluster
        .talos
        .nodes
        .iter()
        .find(|n| n.name == "w-1")
        .expect("w-1");
    let link_mtu = node.link_mtu.as_ref().expect("link MTU");
    assert_eq!((link_mtu.value, line_of(&cluster, link_mtu.at)), (9000, 12));
    assert_eq!(
        node.addresses
            .iter()
            .map(|a| a.value.as_str())
            .collect::<Vec<_>>(),
        ["10.20.0.21/24"]
    );
    assert!(node.network_known);
}

#[test]
fn broken_homelab_reports_load_findings_and_still_reads_everything() {
    let cluster = ingest_fixture("broken-homelab");
    let codes = |suffix: &str| -> Vec<&str> {
        findings_in(&cluster, suffix)
            .iter()
            .map(|f| f.code)
            .collect()
    };
    let parse_error = findings_in(&cluster, "talos/nodes/w-2.yaml");
    assert_eq!(parse_error.len(), 1);
    assert_eq!(parse_error[0].code, "INT001");
    assert_eq!(line_of(&cluster, parse_error[0].at), 4);
    let cp = codes("proxmox/101-cp-1.conf");
    for code in ["PVE017", "PVE018", "INT003"] {
        assert!(cp.contains(&code), "{code} missing from {cp:?}");
    }
    assert!(codes("proxmox/201-w-1.conf").contains(&"INT003"));
    let values = codes("kubernetes/longhorn/values.yaml");
    assert!(
        values.contains(&"INT002") && values.contains(&"LHN005"),
        "{values:?}"
    );
    assert_eq!(codes("talos/controlplane.yaml"), ["TAL003"]);
    assert!(codes("talos/worker.yaml").contains(&"TAL003"));

    assert_eq!(cluster.vms.len(), 2);
    assert_eq!(
        cluster.talos.nodes.len(),
        1,
        "w-2 does not parse, so only w-1 is a node"
    );
    assert_eq!(cluster.talos.configs.len(), 3);
}

#[test]
fn broken_homelab_joins_roles_from_the_talos_side() {
    let cluster = ingest_fixture("broken-homelab");
    let w1 = cluster
        .vms
        .iter()
        .find(|vm| vm.name.as_ref().is_some_and(|n| n.value == "w-1"))
        .expect("w-1");
    assert_eq!(
        w1.role,
        Some(Role::Worker),
        "machine.type in nodes/w-1.yaml gives the VM its role"
    );
    assert_eq!(w1.storage_node, Some(true));
    assert_eq!(w1.os_disk().map(|d| d.slot.as_str()), Some("scsi0"));
    assert_eq!(
        w1.data_disks().map(|d| d.slot.as_str()).collect::<Vec<_>>(),
        ["scsi1"]
    );
    let cp = cluster
        .vms
        .iter()
        .find(|vm| vm.role == Some(Role::Controlplane))
        .expect("cp-1 by tag");
    assert_eq!(cp.storage_node, Some(false));
}

#[test]
fn broken_homelab_host_and_cni_facts() {
    let root = fixture("broken-homelab");
    let cluster = ingest_fixture("broken-homelab");
    let local = cluster.host.storage("local").expect("local");
    assert_eq!(
        local.on_zfs.as_ref().map(|f| f.value),
        Some(true),
        "/rpool/vz lies under pool rpool"
    );
    assert!(
        cluster
            .host
            .storage("local-zfs")
            .is_some_and(|s| s.on_zfs.is_none())
    );
    let cni = cluster
        .network
        .cni
        .as_ref()
        .expect("Cilium from the Argo CD Application");
    assert_eq!(cni.name.value, "cilium");
    let mtu = cni.mtu.as_ref().expect("MTU");
    assert_eq!(mtu.value, 9000);
    assert_eq!(
        file_of(&cluster, mtu.at, &root),
        "kubernetes/cilium/application.yaml"
    );
    assert_eq!(
        (line_of(&cluster, mtu.at), text_at(&cluster, mtu.at)),
        (16, "9000")
    );
    let encapsulation = cni.encapsulation.as_ref().expect("encapsulation");
    assert_eq!(encapsulation.value, "geneve");
    assert_eq!(cni.overhead(), Some(50));
    let longhorn = cluster.longhorn.as_ref().expect("Longhorn");
    assert!(
        longhorn.backup_target.is_none(),
        "defaultSettings.backupTarget is ignored on 1.10"
    );
    assert!(
        longhorn
            .namespace
            .as_ref()
            .is_some_and(|n| n.labels.is_empty())
    );
}

// ---------------------------------------------------------------------------------------------
// One file kind at a time
// ---------------------------------------------------------------------------------------------

#[test]
fn qm_conf_facts_have_exact_locations() {
    let dir = temp_dir();
    write(dir.path(), "proxmox/201.conf", VM_CONF);
    let cluster = ingest_dir(dir.path(), &LintConfig::default());
    let [vm] = cluster.vms.as_slice() else {
        panic!("one VM expected, got {}", cluster.vms.len())
    };
    assert_eq!(vm.vmid.as_ref().map(|f| f.value), Some(201));
    assert_eq!(vm.role, Some(Role::Worker));
    let cpu = vm.cpu.as_ref().expect("cpu");
    assert_eq!(
        (text_at(&cluster, cpu.at), line_of(&cluster, cpu.at)),
        ("host", 3)
    );
    let memory = vm.memory_mib.as_ref().expect("memory");
    assert_eq!((memory.value, line_of(&cluster, memory.at)), (8192, 6));
    let hotplug = vm.hotplug.as_ref().expect("hotplug");
    assert!(
        hotplug.value.iter().any(|f| f == "disk") && !hotplug.value.iter().any(|f| f == "memory")
    );
    assert_eq!(
        vm.boot_order.as_ref().map(|b| b.value.clone()),
        Some(vec!["scsi0".into(), "ide2".into(), "net0".into()])
    );
    let data = vm.disks.iter().find(|d| d.slot == "scsi1").expect("scsi1");
    let serial = data.serial.as_ref().expect("serial");
    assert_eq!(
        (text_at(&cluster, serial.at), line_of(&cluster, serial.at)),
        ("lh-201", 10)
    );
    let format = data.format.as_ref().expect("format from the volume name");
    assert_eq!(format.value, "qcow2");
    assert_eq!(data.size_mib.as_ref().map(|s| s.value), Some(200 * 1024));
    assert!(data.discard.is_none());
    let os = vm.disks.iter().find(|d| d.slot == "scsi0").expect("scsi0");
    assert_eq!(os.role, DiskRole::Os);
    assert_eq!(
        text_at(&cluster, os.discard.as_ref().expect("discard").at),
        "on"
    );
    let nic = vm.nics.first().expect("net0");
    assert_eq!(nic.model.value, "virtio");
    assert_eq!(
        text_at(&cluster, nic.mac.as_ref().expect("mac").at),
        "BC:24:11:2C:69:EC"
    );
    assert_eq!(nic.mtu.as_ref().map(|m| m.value), Some(1));
    assert_eq!((nic.vlan, nic.firewall), (Some(20), true));
    assert_eq!(
        vm.disks.iter().find(|d| d.slot == "ide2").map(|d| d.role),
        Some(DiskRole::Cdrom)
    );
}

#[test]
fn a_disk_selected_by_serial_in_talos_is_the_data_disk() {
    let dir = temp_dir();
    write(
        dir.path(),
        "proxmox/201.conf",
        VM_CONF.replace("tags: k8s;worker\n", ""),
    );
    write(
        dir.path(),
        "talos/patch.yaml",
        "apiVersion: v1alpha1\nkind: UserVolumeConfig\nname: longhorn\nprovisioning:\n  diskSelector:\n    match: disk.serial == 'lh-201'\n  maxSize: 200GiB\n",
    );
    let cluster = ingest_dir(dir.path(), &LintConfig::default());
    let vm = cluster.vms.first().expect("VM");
    assert_eq!(vm.role, None);
    assert_eq!(
        vm.data_disks().map(|d| d.slot.as_str()).collect::<Vec<_>>(),
        ["scsi1"]
    );
    let config = cluster.talos.configs.first().expect("patch");
    assert_eq!(config.scope, Scope::All);
    let volume = config.user_volumes.first().expect("user volume");
    assert_eq!(volume.value.mount_point(), "/var/mnt/longhorn");
    assert_eq!(volume.value.max_size.as_deref(), Some("200GiB"));
}

#[test]
fn other_conf_files_are_skipped_quietly() {
    let dir = temp_dir();
    write(dir.path(), "nginx.conf", "server {\n  listen 80;\n}\n");
    let cluster = ingest_dir(dir.path(), &LintConfig::default());
    assert!(cluster.vms.is_empty() && cluster.load_findings.is_empty());
}

#[test]
fn talos_config_facts_have_exact_locations() {
    let dir = temp_dir();
    let text = "\
machine:
  type: worker
  kernel:
    modules:
      - name: nvme_tcp
  sysctls:
    vm.nr_hugepages: \"1024\"
  kubelet:
    extraMounts:
      - destination: /var/mnt/longhorn
        type: bind
        source: /var/mnt/longhorn
        options: [bind, rshared, rw]
  install:
    disk: /dev/vda
    image: ghcr.io/siderolabs/installer:v1.10.9
  nodeLabels:
    node.longhorn.io/create-default-disk: \"true\"
cluster:
  allowSchedulingOnControlPlanes: true
---
apiVersion: v1alpha1
kind: HostnameConfig
hostname: w-7
auto: off
";
    write(dir.path(), "talos/w-7.yaml", text);
    let cluster = ingest_dir(dir.path(), &LintConfig::default());
    let config = cluster.talos.configs.first().expect("config");
    assert_eq!(
        config.scope,
        Scope::Node("w-7".into()),
        "a hostname scopes the file to that node"
    );
    assert_eq!(
        config.machine_type.as_ref().map(|t| t.value),
        Some(Role::Worker)
    );
    let module = config.kernel_modules.first().expect("module");
    assert_eq!(
        (module.value.as_str(), line_of(&cluster, module.at)),
        ("nvme_tcp", 5)
    );
    assert_eq!(
        config.sysctl("vm.nr_hugepages").map(|f| f.value.as_str()),
        Some("1024")
    );
    let mount = config.extra_mounts.first().expect("mount");
    assert_eq!(mount.value.options, ["bind", "rshared", "rw"]);
    assert_eq!(line_of(&cluster, mount.at), 10);
    let disk = config.install_disk.as_ref().expect("install disk");
    assert_eq!(
        (text_at(&cluster, disk.at), line_of(&cluster, disk.at)),
        ("/dev/vda", 15)
    );
    assert_eq!(
        line_of(&cluster, config.kubelet_at.expect("kubelet key")),
        8
    );
    assert_eq!(
        config
            .allow_scheduling_on_control_planes
            .as_ref()
            .map(|f| f.value),
        Some(true)
    );
    assert_eq!(config.documents.len(), 2);
    let talos = cluster
        .versions
        .talos
        .as_ref()
        .expect("version from the installer tag");
    assert_eq!(
        (text_at(&cluster, talos.at), line_of(&cluster, talos.at)),
        ("v1.10.9", 16)
    );
    let node = cluster.talos.nodes.first().expect("node");
    assert_eq!(node.name, "w-7");
    assert_eq!(
        node.hostname.as_ref().map(|h| line_of(&cluster, h.at)),
        Some(24)
    );
    assert_eq!(node.labels.len(), 1);
}

#[test]
fn role_files_scope_by_name_and_role_wide_facts_reach_the_nodes() {
    let dir = temp_dir();
    write(
        dir.path(),
        "talos/worker-patch.yaml",
        "machine:\n  network:\n    interfaces:\n      - interface: eth0\n        mtu: 1500\n  nodeLabels:\n    zone: a\n",
    );
    write(
        dir.path(),
        "talos/nodes/w-1.yaml",
        "machine:\n  type: worker\n",
    );
    write(
        dir.path(),
        "talos/nodes/cp-1.yaml",
        "machine:\n  type: controlplane\n",
    );
    let cluster = ingest_dir(dir.path(), &LintConfig::default());
    let node = |name: &str| {
        cluster
            .talos
            .nodes
            .iter()
            .find(|n| n.name == name)
            .expect("node")
    };
    assert_eq!(node("w-1").link_mtu.as_ref().map(|m| m.value), Some(1500));
    assert_eq!(
        node("w-1").labels.first().map(|(k, _)| k.as_str()),
        Some("zone")
    );
    assert!(
        node("cp-1").link_mtu.is_none(),
        "the worker patch does not cover control planes"
    );
}

#[test]
fn labelled_storage_nodes_follow_create_default_disk_labeled_nodes() {
    let dir = temp_dir();
    for (vmid, name) in [(201, "w-1"), (202, "w-2")] {
        let conf = VM_CONF.replace("name: w-1", &format!("name: {name}"));
        write(dir.path(), &format!("proxmox/{vmid}.conf"), conf);
    }
    write(
        dir.path(),
        "talos/nodes/w-1.yaml",
        "machine:\n  nodeLabels:\n    node.longhorn.io/create-default-disk: \"true\"\n",
    );
    write(
        dir.path(),
        "talos/nodes/w-2.yaml",
        "machine:\n  type: worker\n",
    );
    write(
        dir.path(),
        "longhorn/values.yaml",
        "defaultSettings:\n  createDefaultDiskLabeledNodes: true\n",
    );
    let cluster = ingest_dir(dir.path(), &LintConfig::default());
    let storage = |name: &str| {
        let vm = cluster
            .vms
            .iter()
            .find(|vm| vm.name.as_ref().is_some_and(|n| n.value == name));
        vm.and_then(|vm| vm.storage_node)
    };
    assert_eq!(storage("w-1"), Some(true));
    assert_eq!(storage("w-2"), Some(false));
}

#[test]
fn storage_cfg_and_interfaces_become_host_facts() {
    let dir = temp_dir();
    write(
        dir.path(),
        "host/storage.cfg",
        "zfspool: local-zfs\n\tpool rpool/data\n\tsparse\n\ndir: tank-dir\n\tpath /rpool/data/images\n",
    );
    write(
        dir.path(),
        "host/interfaces.d/vmbr1",
        "auto vmbr1\niface vmbr1 inet manual\n\tbridge-ports eno2\n\tmtu 9000\n",
    );
    let cluster = ingest_dir(dir.path(), &LintConfig::default());
    let zfs = cluster.host.storage("local-zfs").expect("zfspool");
    assert_eq!(
        (zfs.kind.as_str(), zfs.pool.as_deref()),
        ("zfspool", Some("rpool/data"))
    );
    let dir_storage = cluster.host.storage("tank-dir").expect("dir");
    let on_zfs = dir_storage.on_zfs.as_ref().expect("derived ZFS backing");
    assert_eq!((on_zfs.value, line_of(&cluster, on_zfs.at)), (true, 6));
    let bridge = cluster.host.bridge("vmbr1").expect("vmbr1");
    assert_eq!(
        (
            line_of(&cluster, bridge.name.at),
            bridge.mtu.as_ref().map(|m| m.value)
        ),
        (2, Some(9000))
    );
}

#[test]
fn schematic_ids_as_written_and_sorted_differ_for_unsorted_extensions() {
    let dir = temp_dir();
    write(
        dir.path(),
        "talos/schematic.yaml",
        "customization:\n  systemExtensions:\n    officialExtensions:\n      - siderolabs/util-linux-tools\n      - siderolabs/iscsi-tools\n",
    );
    let cluster = ingest_dir(dir.path(), &LintConfig::default());
    let schematic = cluster.talos.schematic.as_ref().expect("schematic");
    assert_eq!(line_of(&cluster, schematic.extensions[1].at), 5);
    assert!(schematic.has_extension("siderolabs/iscsi-tools"));
    // The documented vector for these two extensions, sorted (research §4).
    let sorted = "613e1592b2da41ae5e265e8789429f22e121aab91cb4deb6bc3c0b6262961245";
    assert_eq!(schematic.id_sorted.as_deref(), Some(sorted));
    assert_ne!(schematic.id_as_written.as_deref(), Some(sorted));
}

#[test]
fn argo_cd_application_gives_version_gitops_and_values_object() {
    let dir = temp_dir();
    let text = "\
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: longhorn
spec:
  source:
    chart: longhorn
    repoURL: https://charts.longhorn.io
    targetRevision: 1.9.2
    helm:
      valuesObject:
        defaultSettings:
          v2DataEngine: true
          v2DataEngineHugepageLimit: 2048
        preUpgradeChecker:
          jobEnabled: false
";
    write(dir.path(), "apps/longhorn.yaml", text);
    let cluster = ingest_dir(dir.path(), &LintConfig::default());
    assert_eq!(
        cluster.versions.longhorn.as_ref().map(|v| v.value.as_str()),
        Some("1.9.2")
    );
    let longhorn = cluster.longhorn.as_ref().expect("Longhorn");
    assert_eq!(
        longhorn.gitops.as_ref().map(|g| g.value),
        Some(GitOps::Argocd)
    );
    assert!(longhorn.v2());
    let memory = longhorn.v2_memory_mib.as_ref().expect("V2 memory on 1.9");
    assert_eq!((memory.value, line_of(&cluster, memory.at)), (2048, 14));
    assert!(
        cluster.load_findings.is_empty(),
        "{:#?}",
        cluster.load_findings
    );
}

#[test]
fn helm_release_inline_values_are_validated_for_its_chart_version() {
    let dir = temp_dir();
    let text = "\
apiVersion: v1
kind: Namespace
metadata:
  name: longhorn-system
---
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: longhorn
spec:
  chart:
    spec:
      chart: longhorn
      version: 1.10.2
  values:
    defaultSettings:
      dataEngineMemorySize: '{\"v2\":\"4096\"}'
      defaultReplicaCount: '{\"v1\":\"2\",\"v2\":\"2\"}'
    numberOfReplicas: 2
";
    write(dir.path(), "longhorn.yaml", text);
    let cluster = ingest_dir(dir.path(), &LintConfig::default());
    let longhorn = cluster.longhorn.as_ref().expect("Longhorn");
    assert!(longhorn.namespace.is_some());
    assert_eq!(longhorn.v2_memory_mib.as_ref().map(|m| m.value), Some(4096));
    assert_eq!(
        longhorn.default_replica_count.as_ref().map(|m| m.value),
        Some(2)
    );
    let unknown: Vec<&Finding> = cluster
        .load_findings
        .iter()
        .filter(|f| f.code == "INT002")
        .collect();
    assert_eq!(unknown.len(), 1, "{:#?}", cluster.load_findings);
    assert_eq!(line_of(&cluster, unknown[0].at), 19);
}

#[test]
fn the_items_of_a_list_are_read_where_they_are() {
    let dir = temp_dir();
    let text = "\
apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: Namespace
  metadata:
    name: longhorn-system
- apiVersion: longhorn.io/v1beta2
  kind: BackupTarget
  metadata:
    name: default
  spec:
    backupTargetURL: nfs://nas:/backups
- apiVersion: v1
  kind: List
  items:
  - apiVersion: longhorn.io/v1beta2
    kind: Setting
    metadata:
      name: default-data-path
    value: /nested/lists/are/not/read
";
    write(dir.path(), "exported.yaml", text);
    let cluster = ingest_dir(dir.path(), &LintConfig::default());
    let longhorn = cluster.longhorn.as_ref().expect("Longhorn");
    assert!(longhorn.namespace.is_some());
    let target = longhorn
        .backup_target
        .as_ref()
        .expect("the List's BackupTarget");
    assert_eq!(text_at(&cluster, target.at), "nfs://nas:/backups");
    assert_eq!(line_of(&cluster, target.at), 13);
    assert!(longhorn.data_path.is_none());
}

#[test]
fn a_chart_version_written_as_a_number_is_read_as_written() {
    let dir = temp_dir();
    let text = "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: longhorn\nspec:\n  chart:\n    spec:\n      chart: longhorn\n      version: 1.10\n  values:\n    defaultSettings:\n      defaultDataPath: /var/mnt/longhorn\n";
    write(dir.path(), "longhorn.yaml", text);
    let cluster = ingest_dir(dir.path(), &LintConfig::default());
    // YAML reads 1.1, a chart older than talhorn's tables; the author means 1.10.
    let version = cluster.versions.longhorn.as_ref().expect("a version");
    assert_eq!(version.value, "1.10");
    assert_eq!(text_at(&cluster, version.at), "1.10");
}

#[test]
fn only_the_chart_class_stands_for_the_default_class_count() {
    let dir = temp_dir();
    let class = |name: &str, replicas: u32| {
        format!(
            "apiVersion: storage.k8s.io/v1\nkind: StorageClass\nmetadata:\n  name: {name}\nprovisioner: driver.longhorn.io\nparameters:\n  numberOfReplicas: \"{replicas}\"\n"
        )
    };
    write(dir.path(), "a-local.yaml", class("longhorn-local", 1));
    write(
        dir.path(),
        "longhorn/values.yaml",
        "defaultSettings:\n  defaultReplicaCount: 3\n",
    );
    let cluster = ingest_dir(dir.path(), &LintConfig::default());
    let longhorn = cluster.longhorn.as_ref().expect("Longhorn");
    assert!(longhorn.class_replica_count.is_none());
    let local = &longhorn.classes[0];
    assert_eq!(local.replicas.as_ref().map(|r| r.value), Some(1));
    write(dir.path(), "b-chart.yaml", class("longhorn", 2));
    let cluster = ingest_dir(dir.path(), &LintConfig::default());
    let longhorn = cluster.longhorn.as_ref().expect("Longhorn");
    let count = longhorn
        .class_replica_count
        .as_ref()
        .expect("the chart's class");
    assert_eq!(count.value, 2);
    assert!(
        cluster
            .sources
            .path(count.at.file)
            .ends_with("b-chart.yaml")
    );
}

#[test]
fn lint_context_supplies_versions_the_files_do_not_state() {
    let dir = temp_dir();
    write(
        dir.path(),
        ".talhorn.yaml",
        "context:\n  talos: v1.12.1\n  longhorn: 1.9.2\n  gitops: argocd\n",
    );
    write(
        dir.path(),
        "longhorn/values.yaml",
        "defaultSettings:\n  defaultDataPath: /var/mnt/longhorn\n",
    );
    let config =
        LintConfig::load(&dir.path().join(".talhorn.yaml")).unwrap_or_else(|e| panic!("{e}"));
    let cluster = ingest_dir(dir.path(), &config);
    let talos = cluster.versions.talos.as_ref().expect("Talos from context");
    assert_eq!(
        (talos.value.as_str(), line_of(&cluster, talos.at)),
        ("v1.12.1", 2)
    );
    assert_eq!(cluster.longhorn_minor(), Some(9));
    let gitops = cluster
        .longhorn
        .as_ref()
        .and_then(|l| l.gitops.as_ref())
        .expect("gitops");
    assert_eq!(
        (gitops.value, line_of(&cluster, gitops.at)),
        (GitOps::Argocd, 4)
    );
}

#[test]
fn an_invalid_intent_in_the_repository_reports_its_findings() {
    let dir = temp_dir();
    write(
        dir.path(),
        "cluster.yaml",
        "cluster:\n  name: x\n  bogus: 1\nproxmox: {}\nnodes: []\n",
    );
    let cluster = ingest_dir(dir.path(), &LintConfig::default());
    assert!(!cluster.load_findings.is_empty());
    assert!(
        findings_in(&cluster, "cluster.yaml")
            .iter()
            .all(|f| f.code.starts_with("INT"))
    );
}

#[test]
fn unknown_yaml_is_skipped_and_broken_yaml_anywhere_is_int001() {
    let dir = temp_dir();
    write(dir.path(), "docs/mkdocs.yml", "site_name: x\n");
    write(dir.path(), "random/broken.yaml", "a: [\n");
    write(
        dir.path(),
        "talos/controlplane.yaml",
        "machine:\n  type: [\n",
    );
    let cluster = ingest_dir(dir.path(), &LintConfig::default());
    let mut codes: Vec<(&str, String)> = cluster
        .load_findings
        .iter()
        .map(|f| (f.code, file_of(&cluster, f.at, dir.path())))
        .collect();
    codes.sort();
    assert_eq!(
        codes,
        [
            ("INT001", "random/broken.yaml".to_owned()),
            ("INT001", "talos/controlplane.yaml".to_owned())
        ]
    );
}

// ---------------------------------------------------------------------------------------------
// Discovery
// ---------------------------------------------------------------------------------------------

#[test]
fn gitignore_and_exclude_are_respected() {
    let dir = temp_dir();
    write(dir.path(), ".gitignore", "generated/\n");
    write(dir.path(), "generated/101.conf", VM_CONF);
    write(dir.path(), "vendor/102.conf", VM_CONF);
    write(dir.path(), "proxmox/103.conf", VM_CONF);
    write(dir.path(), ".talhorn.yaml", "exclude: [\"vendor/**\"]\n");
    let config =
        LintConfig::load(&dir.path().join(".talhorn.yaml")).unwrap_or_else(|e| panic!("{e}"));
    let cluster = ingest_dir(dir.path(), &config);
    let ids: Vec<u32> = cluster
        .vms
        .iter()
        .filter_map(|vm| vm.vmid.as_ref().map(|v| v.value))
        .collect();
    assert_eq!(ids, [103]);
    std::fs::remove_file(dir.path().join(".talhorn.yaml")).unwrap_or_else(|e| panic!("{e}"));
    let without_exclude = ingest_dir(dir.path(), &LintConfig::default());
    assert_eq!(
        without_exclude.vms.len(),
        2,
        ".gitignore still applies without a config"
    );
}

#[test]
fn a_missing_path_is_an_error() {
    let dir = temp_dir();
    let missing = dir.path().join("nope");
    let error = ingest(&[missing], &LintConfig::default()).expect_err("missing path");
    assert!(error.to_string().contains("nope"), "{error}");
}

#[test]
fn paths_keep_the_form_they_were_given_in_and_files_are_read_in_sorted_order() {
    let dir = temp_dir();
    write(dir.path(), "b/202.conf", VM_CONF);
    write(dir.path(), "a/201.conf", VM_CONF);
    let cluster = ingest_dir(dir.path(), &LintConfig::default());
    let paths: Vec<PathBuf> = cluster
        .sources
        .iter()
        .map(|(_, f)| f.path.to_path_buf())
        .collect();
    assert_eq!(
        paths,
        [dir.path().join("a/201.conf"), dir.path().join("b/202.conf")]
    );
}

#[test]
fn binary_non_utf8_and_oversized_files_are_int001_and_the_rest_is_read() {
    let dir = temp_dir();
    write(dir.path(), "proxmox/101.conf", b"cores: 2\0\nmemory: 1\n");
    write(dir.path(), "talos/worker.yaml", b"machine:\n  type: \xff\n");
    let big = write(dir.path(), "talos/big.yaml", "");
    std::fs::File::options()
        .write(true)
        .open(&big)
        .and_then(|f| f.set_len(MAX_FILE_BYTES + 1))
        .unwrap_or_else(|e| panic!("{e}"));
    write(dir.path(), "proxmox/102.conf", VM_CONF);
    let cluster = ingest_dir(dir.path(), &LintConfig::default());
    let mut reported: Vec<(String, &str)> = cluster
        .load_findings
        .iter()
        .map(|f| (file_of(&cluster, f.at, dir.path()), f.code))
        .collect();
    reported.sort();
    assert_eq!(
        reported,
        [
            ("proxmox/101.conf".to_owned(), "INT001"),
            ("talos/big.yaml".to_owned(), "INT001"),
            ("talos/worker.yaml".to_owned(), "INT001"),
        ]
    );
    let message = |suffix: &str| {
        findings_in(&cluster, suffix)
            .first()
            .map(|f| f.message.clone())
            .unwrap_or_default()
    };
    assert!(message("101.conf").contains("binary"));
    assert!(message("worker.yaml").contains("UTF-8"));
    assert!(message("big.yaml").contains("larger"));
    assert!(cluster.load_findings.iter().all(|f| f.at.span.start == 0));
    assert_eq!(cluster.vms.len(), 1);
}

#[cfg(unix)]
#[test]
fn an_unreadable_file_is_int001() {
    use std::os::unix::fs::PermissionsExt;
    let dir = temp_dir();
    let path = write(dir.path(), "proxmox/101.conf", VM_CONF);
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o000))
        .unwrap_or_else(|e| panic!("{e}"));
    if std::fs::read(&path).is_ok() {
        eprintln!(
            "note: running with privileges that read any file; unreadable-file check skipped"
        );
        return;
    }
    write(dir.path(), "proxmox/102.conf", VM_CONF);
    let cluster = ingest_dir(dir.path(), &LintConfig::default());
    assert_eq!(
        findings_in(&cluster, "101.conf").first().map(|f| f.code),
        Some("INT001")
    );
    assert_eq!(cluster.vms.len(), 1);
}

#[cfg(unix)]
#[test]
fn a_symlink_loop_is_reported_and_does_not_hang() {
    let dir = temp_dir();
    std::os::unix::fs::symlink(dir.path().join("b.yaml"), dir.path().join("a.yaml"))
        .unwrap_or_else(|e| panic!("{e}"));
    std::os::unix::fs::symlink(dir.path().join("a.yaml"), dir.path().join("b.yaml"))
        .unwrap_or_else(|e| panic!("{e}"));
    std::os::unix::fs::symlink(dir.path(), dir.path().join("proxmox-loop"))
        .unwrap_or_else(|e| panic!("{e}"));
    write(dir.path(), "proxmox/101.conf", VM_CONF);
    let cluster = ingest_dir(dir.path(), &LintConfig::default());
    assert_eq!(
        cluster.vms.len(),
        1,
        "the symlinked directory is not followed"
    );
    let looped: Vec<String> = cluster
        .load_findings
        .iter()
        .map(|f| file_of(&cluster, f.at, dir.path()))
        .collect();
    assert_eq!(looped, ["a.yaml", "b.yaml"]);
}

/// Files are looked at a slice at a time (to bound what waits for its place in the source
/// map): over several slices, files keep their path order and take their places in it.
#[test]
fn files_over_several_look_slices_keep_their_path_order_and_places() {
    let dir = tempfile::tempdir().unwrap();
    // More than two slices, in folders whose names sort differently from their creation order.
    for folder in 0..45 {
        let folder_path = dir.path().join(format!("f{:02}", 44 - folder));
        std::fs::create_dir_all(&folder_path).unwrap();
        for file in 0..50 {
            let text = format!(
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: m{folder}-{file}\ndata:\n  a: b\n"
            );
            std::fs::write(folder_path.join(format!("m{file:02}.yaml")), text).unwrap();
        }
    }
    let ingested = ingest(&[dir.path().to_path_buf()], &LintConfig::default()).unwrap();
    assert_eq!(ingested.files.len(), 45 * 50);
    assert!(
        ingested
            .files
            .windows(2)
            .all(|pair| pair[0].path < pair[1].path),
        "files in path order"
    );
    let places: Vec<_> = ingested
        .files
        .iter()
        .map(|file| ingested.sources.find(&file.path).expect("a place"))
        .collect();
    assert!(
        places.windows(2).all(|pair| pair[0] < pair[1]),
        "places given in path order"
    );
}

/// Manifests no reader needs (most files of a GitOps repository) are listed, but take no
/// place in the source map: a place is a record held to the end of a run, and no finding can
/// point into such a file. Files a cluster may still read keep theirs.
#[test]
fn manifests_nothing_reads_take_no_place_in_the_source_map() {
    let dir = tempfile::tempdir().unwrap();
    let deployment = write(
        dir.path(),
        "apps/web/deployment.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 2\n",
    );
    let config_map = write(
        dir.path(),
        "apps/web/configmap.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web\ndata:\n  a: b\n",
    );
    let patch = write(
        dir.path(),
        "talos/patches/kubelet.yaml",
        "machine:\n  kubelet:\n    extraMounts: []\n",
    );
    let ingested = ingest(&[dir.path().to_path_buf()], &LintConfig::default()).unwrap();
    let kind_of = |path: &Path| {
        ingested
            .files
            .iter()
            .find(|file| *file.path == *path)
            .map(|file| file.kind)
    };
    assert_eq!(kind_of(&deployment), Some(Kind::Manifests));
    assert_eq!(ingested.sources.find(&deployment), None);
    assert!(ingested.sources.find(&config_map).is_some());
    assert!(ingested.sources.find(&patch).is_some());
    assert_eq!(kind_of(&patch), Some(Kind::Talos));
}

/// What each config that says so says about workloads on the control planes.
fn control_plane_scheduling(cluster: &Cluster) -> Vec<bool> {
    cluster
        .talos
        .configs
        .iter()
        .filter_map(|c| c.allow_scheduling_on_control_planes.as_ref())
        .map(|f| f.value)
        .collect()
}

/// A talhelper `@file` patch is read as talhelper hands it to Talos, after its envsubst: the
/// control-plane taint it deletes with `$$patch: delete` is deleted, so workloads may run on
/// the control planes (the facts used to be read from the file as written, which deletes
/// nothing).
#[test]
fn a_talhelper_file_patch_is_read_after_its_envsubst() {
    let dir = temp_dir();
    write(
        dir.path(),
        "talconfig.yaml",
        "clusterName: lab\ntalosVersion: v1.14.0\nendpoint: https://10.0.0.10:6443\nnodes:\n  - hostname: cp-1\n    ipAddress: 10.0.0.11\n    controlPlane: true\ncontrolPlane:\n  patches:\n    - \"@./patches/schedulable.yaml\"\n",
    );
    write(
        dir.path(),
        "patches/schedulable.yaml",
        "apiVersion: v1alpha1\nkind: KubeNodeConfig\ntaints:\n  node-role.kubernetes.io/control-plane:\n    $$patch: delete\n",
    );
    let cluster = ingest_dir(dir.path(), &LintConfig::default());
    assert_eq!(control_plane_scheduling(&cluster), [true]);
}

/// In a cluster talhelper configures, a Talos patch that no talconfig names reaches no node
/// (talhelper applies only what it names), but it is still checked against the schema.
#[test]
fn a_talos_patch_talhelper_does_not_name_reaches_no_node_but_is_checked() {
    let dir = temp_dir();
    write(
        dir.path(),
        "talconfig.yaml",
        "clusterName: lab\ntalosVersion: v1.11.6\nendpoint: https://10.0.0.10:6443\nnodes:\n  - hostname: w-1\n    ipAddress: 10.0.0.11\n    controlPlane: false\npatches:\n  - \"@./patches/named.yaml\"\n",
    );
    write(
        dir.path(),
        "patches/named.yaml",
        "machine:\n  kernel:\n    modules:\n      - name: nvidia\n",
    );
    write(
        dir.path(),
        "patches/leftover.yaml",
        "machine:\n  kernel:\n    modules:\n      - name: zfs\n  kubelet:\n    extraMountz: []\n",
    );
    let cluster = ingest_dir(dir.path(), &LintConfig::default());
    let modules: Vec<&str> = cluster
        .talos
        .configs
        .iter()
        .flat_map(|c| &c.kernel_modules)
        .map(|m| m.value.as_str())
        .collect();
    assert_eq!(modules, ["nvidia"]);
    let leftover: Vec<&str> = findings_in(&cluster, "leftover.yaml")
        .iter()
        .map(|f| f.code)
        .collect();
    assert_eq!(leftover, ["INT002"]);
}

/// talhelper reads `allowSchedulingOnMasters`, its older name for
/// `allowSchedulingOnControlPlanes` (geoffdavis/talos-gitops writes it).
#[test]
fn talhelper_allow_scheduling_on_masters_is_its_older_name() {
    let dir = temp_dir();
    write(
        dir.path(),
        "talconfig.yaml",
        "clusterName: lab\ntalosVersion: v1.10.5\nendpoint: https://10.0.0.10:6443\nallowSchedulingOnMasters: true\nnodes:\n  - hostname: cp-1\n    ipAddress: 10.0.0.11\n    controlPlane: true\n",
    );
    let cluster = ingest_dir(dir.path(), &LintConfig::default());
    assert_eq!(control_plane_scheduling(&cluster), [true]);
}

/// talhelper fills a `talosVersion: ${talosVersion}` in from `talenv.yaml` beside the talconfig
/// (the cluster template keeps its versions there); talhorn reads it so, and leaves a variable
/// that only an encrypted talenv could fill as written (INT005 then says the checks were
/// skipped).
#[test]
fn a_talhelper_version_variable_is_filled_in_from_talenv() {
    let talconfig = "clusterName: lab\ntalosVersion: \"${talosVersion}\"\nendpoint: https://10.0.0.10:6443\nnodes:\n  - hostname: cp-1\n    ipAddress: 10.0.0.11\n    controlPlane: true\n";
    let dir = temp_dir();
    write(dir.path(), "talconfig.yaml", talconfig);
    write(
        dir.path(),
        "talenv.yaml",
        "# renovate: datasource=docker depName=ghcr.io/siderolabs/installer\ntalosVersion: v1.13.6\n",
    );
    let cluster = ingest_dir(dir.path(), &LintConfig::default());
    let version = cluster.versions.talos.map(|v| v.value);
    assert_eq!(version.as_deref(), Some("v1.13.6"));

    let encrypted = temp_dir();
    write(encrypted.path(), "talconfig.yaml", talconfig);
    write(
        encrypted.path(),
        "talenv.sops.yaml",
        "talosVersion: ENC[AES256_GCM,data:x]\n",
    );
    let cluster = ingest_dir(encrypted.path(), &LintConfig::default());
    let version = cluster.versions.talos.map(|v| v.value);
    assert_eq!(version.as_deref(), Some("${talosVersion}"));
}

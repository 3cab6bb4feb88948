//! Synthetic inputs for the benchmark (`tools/bench.sh`) and the determinism test: a GitOps
//! repository of any number of files and an intent of any number of nodes.
//!
//! Deterministic: the same arguments write the same bytes (no randomness, no clock). The tree
//! is a monorepo of clusters of 100 files each, in the proportions of a real one: per cluster
//! 10 Proxmox VM configs, 10 Talos node patches and 2 role patches, a Longhorn HelmRelease and
//! namespace, and 76 unrelated Kubernetes manifests (19 apps × Deployment, Service, ConfigMap,
//! Kustomization). A few files carry the mistakes talhorn exists to find, so the run reports
//! something in every layer.

#![allow(dead_code)]

use std::fmt::Write as _;
use std::io;
use std::path::Path;

/// Files in one cluster directory of the tree.
pub const FILES_PER_CLUSTER: usize = 100;
const VMS_PER_CLUSTER: usize = 10;
const APPS_PER_CLUSTER: usize = 19;
const CONTROL_PLANES: usize = 3;

/// Writes `files` files under `root` (created if missing), in clusters of
/// [`FILES_PER_CLUSTER`] (`clusters/c000/`, `clusters/c001/`, ...).
pub fn write_tree(root: &Path, files: usize) -> io::Result<()> {
    write_files(root, files, |c| format!("clusters/c{c:03}"))
}

/// The same files as [`write_tree`], as one cluster: the repository's own, each group of
/// [`FILES_PER_CLUSTER`] in a folder (`part000/`, `part001/`, ...) that is not a cluster root.
/// A repository that is one cluster is linted as one piece: what it shows is how the work
/// inside a cluster is shared out.
pub fn write_one_cluster(root: &Path, files: usize) -> io::Result<()> {
    write_files(root, files, |c| format!("part{c:03}"))
}

fn write_files(root: &Path, files: usize, folder: impl Fn(usize) -> String) -> io::Result<()> {
    let mut written = 0;
    for cluster in 0.. {
        for (path, text) in cluster_files(&folder(cluster), cluster) {
            if written == files {
                return Ok(());
            }
            let path = root.join(path);
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir)?;
            }
            std::fs::write(path, text)?;
            written += 1;
        }
    }
    Ok(())
}

/// The files of cluster `c` in folder `dir`, as (relative path, content).
fn cluster_files(dir: &str, c: usize) -> Vec<(String, String)> {
    let mut files = Vec::with_capacity(FILES_PER_CLUSTER);
    for n in 0..VMS_PER_CLUSTER {
        let vmid = 1000 + c * VMS_PER_CLUSTER + n;
        let name = node_name(c, n);
        files.push((
            format!("{dir}/proxmox/qemu-server/{vmid}.conf"),
            qm_conf(c, n, vmid, &name),
        ));
        files.push((
            format!("{dir}/talos/nodes/{name}.yaml"),
            talos_node(c, n, &name),
        ));
    }
    files.push((format!("{dir}/talos/controlplane.yaml"), controlplane()));
    files.push((format!("{dir}/talos/worker.yaml"), worker(c)));
    files.push((
        format!("{dir}/kubernetes/longhorn/helmrelease.yaml"),
        helm_release(c),
    ));
    files.push((
        format!("{dir}/kubernetes/longhorn/namespace.yaml"),
        NAMESPACE.to_string(),
    ));
    for a in 0..APPS_PER_CLUSTER {
        let app = format!("app-{a:02}");
        let app_dir = format!("{dir}/apps/{app}");
        files.push((format!("{app_dir}/deployment.yaml"), deployment(c, a, &app)));
        files.push((format!("{app_dir}/service.yaml"), service(&app)));
        files.push((format!("{app_dir}/configmap.yaml"), configmap(c, a, &app)));
        files.push((
            format!("{app_dir}/kustomization.yaml"),
            KUSTOMIZATION.into(),
        ));
    }
    files
}

fn node_name(c: usize, n: usize) -> String {
    let role = if n < CONTROL_PLANES { "cp" } else { "w" };
    format!("c{c:03}-{role}-{n}")
}

fn mac(c: usize, n: usize) -> String {
    format!("BC:24:11:{:02X}:{:02X}:{:02X}", c / 256, c % 256, n)
}

fn ip(c: usize, n: usize) -> String {
    format!("10.{}.{}.{}", c / 256, c % 256, 10 + n)
}

fn qm_conf(c: usize, n: usize, vmid: usize, name: &str) -> String {
    let worker = n >= CONTROL_PLANES;
    // Every 7th VM has a CPU type Talos cannot boot on; every 5th cluster a slow disk bus.
    let cpu = if vmid.is_multiple_of(7) {
        "kvm64"
    } else {
        "host"
    };
    let scsihw = if c % 5 == 4 {
        "lsi"
    } else {
        "virtio-scsi-single"
    };
    let mut text = format!(
        "agent: 1\nballoon: 0\nboot: order=scsi0;ide2;net0\ncores: {}\ncpu: {cpu}\n\
         ide2: local:iso/talos-nocloud-amd64.iso,media=cdrom\nmemory: {}\nname: {name}\n\
         net0: virtio={},bridge=vmbr0,mtu=9000\nnuma: 0\nostype: l26\n\
         scsi0: local-lvm:vm-{vmid}-disk-0,discard=on,iothread=1,size=32G,ssd=1\n",
        if worker { 8 } else { 4 },
        if worker { 16384 } else { 8192 },
        mac(c, n),
    );
    if worker {
        let _ = writeln!(
            text,
            "scsi1: local-lvm:vm-{vmid}-disk-1,discard=on,iothread=1,size=200G,ssd=1"
        );
    }
    let _ = write!(
        text,
        "scsihw: {scsihw}\nsmbios1: uuid=6f1c2a4e-{c:04x}-4{n:03x}-8000-{vmid:012x}\nsockets: 1\n\
         tags: {}\nvmgenid: 0d5e6f70-{c:04x}-4{n:03x}-9000-{vmid:012x}\n",
        if worker { "worker" } else { "controlplane" },
    );
    text
}

fn talos_node(c: usize, n: usize, name: &str) -> String {
    let role = if n < CONTROL_PLANES {
        "controlplane"
    } else {
        "worker"
    };
    // Every 11th node forgets the jumbo MTU its bridge carries.
    let mtu = if (c * VMS_PER_CLUSTER + n).is_multiple_of(11) {
        1500
    } else {
        9000
    };
    format!(
        "machine:\n  type: {role}\n  network:\n    hostname: {name}\n    interfaces:\n\
         \x20     - deviceSelector:\n          hardwareAddr: \"{}\"\n        dhcp: false\n\
         \x20       mtu: {mtu}\n        addresses: [{}/16]\n        routes:\n\
         \x20         - network: 0.0.0.0/0\n            gateway: 10.{}.0.1\n\
         \x20 nodeLabels:\n    topology.kubernetes.io/zone: zone-{}\n",
        mac(c, n).to_ascii_lowercase(),
        ip(c, n),
        c / 256,
        n % 3,
    )
}

fn controlplane() -> String {
    "machine:\n  install:\n    image: ghcr.io/siderolabs/installer:v1.11.6\n    disk: /dev/sda\n\
     \x20   wipe: false\n  kubelet:\n    extraArgs:\n      rotate-server-certificates: \"true\"\n\
     cluster:\n  allowSchedulingOnControlPlanes: false\n  network:\n    cni:\n      name: none\n\
     \x20 proxy:\n    disabled: true\n"
        .to_string()
}

fn worker(c: usize) -> String {
    // Every 3rd cluster forgets the iSCSI kernel module Longhorn needs.
    let modules = if c % 3 == 2 {
        "      - name: nbd\n"
    } else {
        "      - name: iscsi_tcp\n      - name: nbd\n"
    };
    format!(
        "machine:\n  install:\n    image: ghcr.io/siderolabs/installer:v1.11.6\n    disk: /dev/sda\n\
         \x20 kernel:\n    modules:\n{modules}  kubelet:\n    extraMounts:\n\
         \x20     - destination: /var/lib/longhorn\n        type: bind\n\
         \x20       source: /var/lib/longhorn\n        options: [bind, rshared, rw]\n\
         \x20 sysctls:\n    vm.nr_hugepages: \"1024\"\n"
    )
}

fn helm_release(c: usize) -> String {
    let replicas = if c % 4 == 3 { 5 } else { 3 };
    format!(
        "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: longhorn\n\
         \x20 namespace: longhorn-system\nspec:\n  interval: 30m\n  chart:\n    spec:\n\
         \x20     chart: longhorn\n      version: 1.10.2\n      sourceRef:\n\
         \x20       kind: HelmRepository\n        name: longhorn\n        namespace: flux-system\n\
         \x20 values:\n    defaultSettings:\n      defaultDataPath: /var/lib/longhorn\n\
         \x20     defaultReplicaCount: {replicas}\n      storageMinimalAvailablePercentage: 15\n\
         \x20   persistence:\n      defaultClassReplicaCount: {replicas}\n"
    )
}

const NAMESPACE: &str = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: longhorn-system\n  \
                         labels:\n    pod-security.kubernetes.io/enforce: privileged\n";

const KUSTOMIZATION: &str = "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n\
                             resources:\n  - deployment.yaml\n  - service.yaml\n  - configmap.yaml\n";

fn deployment(c: usize, a: usize, app: &str) -> String {
    format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {app}\n  namespace: apps-{c:03}\n\
         \x20 labels:\n    app.kubernetes.io/name: {app}\n    app.kubernetes.io/part-of: c{c:03}\n\
         spec:\n  replicas: {}\n  selector:\n    matchLabels:\n      app.kubernetes.io/name: {app}\n\
         \x20 template:\n    metadata:\n      labels:\n        app.kubernetes.io/name: {app}\n\
         \x20   spec:\n      containers:\n        - name: {app}\n\
         \x20         image: registry.example.com/{app}:1.{a}.{c}\n          ports:\n\
         \x20           - containerPort: 8080\n              name: http\n          env:\n\
         \x20           - name: LOG_LEVEL\n              value: info\n\
         \x20           - name: CLUSTER\n              value: \"c{c:03}\"\n          resources:\n\
         \x20           requests: {{ cpu: 100m, memory: 128Mi }}\n\
         \x20           limits: {{ memory: 256Mi }}\n          volumeMounts:\n\
         \x20           - name: data\n              mountPath: /data\n      volumes:\n\
         \x20       - name: data\n          persistentVolumeClaim:\n            claimName: {app}-data\n\
         ---\napiVersion: v1\nkind: PersistentVolumeClaim\nmetadata:\n  name: {app}-data\n\
         \x20 namespace: apps-{c:03}\nspec:\n  storageClassName: longhorn\n\
         \x20 accessModes: [ReadWriteOnce]\n  resources:\n    requests:\n      storage: {}Gi\n",
        1 + a % 3,
        1 + a % 20,
    )
}

fn service(app: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: {app}\nspec:\n  selector:\n\
         \x20   app.kubernetes.io/name: {app}\n  ports:\n    - name: http\n      port: 80\n\
         \x20     targetPort: http\n"
    )
}

fn configmap(c: usize, a: usize, app: &str) -> String {
    format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {app}-config\ndata:\n\
         \x20 config.yaml: |\n    server:\n      port: 8080\n      cluster: c{c:03}\n\
         \x20   features: [a, b, c]\n    retries: {}\n  motd: \"hello from {app}\"\n",
        a % 5,
    )
}

/// An intent of `nodes` nodes (3 control planes, the rest workers) on one Proxmox host.
pub fn intent(nodes: usize) -> String {
    let mut text = String::from(
        "cluster: { name: bench, endpoint: https://10.0.0.10:6443, vip: 10.0.0.10, talos: v1.11.6 }\n\
         proxmox: { version: 9, node: pve1, storage: { local-lvm: { type: lvmthin } }, bridges: { vmbr0: { mtu: 9000 } } }\n\
         network: { bridge: vmbr0, mtu: 9000, cidr: 10.0.0.0/16, gateway: 10.0.0.1, nameservers: [10.0.0.1] }\n\
         talos: { extensions: [siderolabs/iscsi-tools, siderolabs/util-linux-tools] }\n\
         longhorn: { version: 1.10.2, dataDisk: { size: 200G } }\nnodes:\n",
    );
    for i in 0..nodes {
        let role = if i < CONTROL_PLANES {
            "controlplane"
        } else {
            "worker"
        };
        let _ = writeln!(
            text,
            "  - {{ name: n-{i}, role: {role}, vmid: {}, ip: 10.0.{}.{} }}",
            1000 + i,
            1 + i / 200,
            10 + i % 200
        );
    }
    text
}

//! Fix hints in the terms of the file the user edits: a finding located in a bpg or Telmate VM
//! resource names that provider's attribute, one in Terraform's `config_patches` or
//! `talos_image_factory_schematic` the Terraform resource, one in talhelper's `talconfig.yaml`
//! the talhelper key. Each case lints a rule fixture (`fixtures/rules/<CODE>/<case>`) and checks
//! the help of every finding of that rule in the `.tf` / `talconfig.yaml` file.

mod common;

use std::path::{Path, PathBuf};
use talhorn::lint::lint_paths;
use talhorn::model::Dialect;
use talhorn::rules::{LintConfig, dialect_help};

/// The helps of the findings of `code` located in a file of the dialect (`.tf`, `talconfig.yaml`).
fn helps(code: &str, case: &str, dialect: Dialect) -> Vec<String> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/rules")
        .join(code)
        .join(case);
    let config_file = dir.join(".talhorn.yaml");
    let config = if config_file.is_file() {
        LintConfig::load(&config_file).unwrap_or_else(|e| panic!("{e}"))
    } else {
        LintConfig {
            root: dir.clone(),
            ..LintConfig::default()
        }
    };
    let outcome = lint_paths(std::slice::from_ref(&dir), &config).unwrap_or_else(|e| panic!("{e}"));
    let in_dialect = |path: &Path| match dialect {
        Dialect::Talhelper => path.file_name().is_some_and(|n| n == "talconfig.yaml"),
        _ => path.extension().is_some_and(|e| e == "tf"),
    };
    outcome
        .findings
        .iter()
        .filter(|f| f.code == code && in_dialect(&outcome.sources.get(f.at.file).path))
        .map(|f| f.help.clone().unwrap_or_default())
        .collect()
}

/// `qm.conf` words that must not appear in a hint on a Terraform VM.
const QM_CONF: &[&str] = &[
    "discard=on",
    "boot: order",
    "cpu: host",
    "cpu: x86",
    "balloon: 0",
    "scsihw: ",
    "mtu=1",
    "iothread=1",
    "agent: ",
    "format=",
    "numa: 1",
    "`memory: ",
    "`cores: ",
    "sockets: 1",
    "efidisk0",
    "qm set",
    "serial=",
];

/// A rule code, its fixture case, and what its hint must say.
type Case = (&'static str, &'static str, &'static str);

fn check(dialect: Dialect, cases: &[Case], foreign: &[&str]) {
    let mut failures = Vec::new();
    for (code, case, expected) in cases {
        let helps = helps(code, case, dialect);
        if helps.is_empty() {
            failures.push(format!("{code} {case}: no finding in a {dialect:?} file"));
        }
        for help in helps {
            if !help.contains(expected) {
                failures.push(format!("{code} {case}: `{expected}` not in `{help}`"));
            }
            for word in foreign {
                if help.contains(word) {
                    failures.push(format!(
                        "{code} {case}: `{word}` is foreign to {dialect:?}: `{help}`"
                    ));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    let mut hinted: Vec<&str> = dialect_help::codes(dialect).collect();
    let mut tested: Vec<&str> = cases.iter().map(|(code, _, _)| *code).collect();
    hinted.sort_unstable();
    tested.sort_unstable();
    tested.dedup();
    assert_eq!(hinted, tested, "every {dialect:?} hint has a case here");
}

#[test]
fn hints_on_a_bpg_vm_name_its_attributes() {
    check(
        Dialect::Bpg,
        &[
            (
                "PVE001",
                "fires-kvm64-and-default-bpg",
                "`cpu { type = \"host\" }`",
            ),
            (
                "PVE003",
                "fires-qcow2-in-dir-on-zfs-bpg",
                "`file_format = \"raw\"`",
            ),
            (
                "PVE004",
                "fires-balloon-on-bpg",
                "`floating = 0` in the `memory` block",
            ),
            (
                "PVE005",
                "fires-below-minimum-bpg",
                "`memory { dedicated = ",
            ),
            ("PVE006", "fires-too-few-cores-bpg", "`cpu { cores = "),
            (
                "PVE007",
                "fires-emulated-controller-bpg",
                "`scsi_hardware = \"virtio-scsi-pci\"`",
            ),
            (
                "PVE008",
                "fires-ignored-iothread-bpg",
                "`scsi_hardware = \"virtio-scsi-single\"`",
            ),
            (
                "PVE009",
                "fires-no-discard-bpg",
                "`discard = \"on\"` in the `disk` block",
            ),
            (
                "PVE010",
                "fires-qcow2-data-disk-bpg",
                "`file_format = \"raw\"`",
            ),
            (
                "PVE011",
                "fires-two-sockets-numa-off-bpg",
                "`numa = true` in the `cpu` block",
            ),
            (
                "PVE012",
                "fires-agent-without-extension-bpg",
                "`agent { enabled = false }`",
            ),
            (
                "PVE013",
                "fires-disk-not-bootable-bpg",
                "`boot_order = [\"scsi0\", \"net0\"]`",
            ),
            (
                "PVE014",
                "fires-ovmf-no-efidisk-bpg",
                "an `efi_disk` block with `datastore_id`",
            ),
            (
                "PVE015",
                "fires-storage-worker-without-data-disk-bpg",
                "data `disk` block",
            ),
            (
                "PVE016",
                "fires-qcow2-on-zfspool-bpg",
                "`file_format = \"raw\"`",
            ),
            (
                "PVE019",
                "fires-same-name-bpg",
                "a `name` that no other VM uses",
            ),
            (
                "NET001",
                "fires-nic-above-bridge-bpg",
                "`mtu = 1` in the `network_device` block",
            ),
            (
                "NET001",
                "fires-pve8-virtio-default-bpg",
                "`mtu = 1` in the `network_device` block",
            ),
            (
                "NET004",
                "fires-duplicate-ip-and-mac-bpg",
                "`mac_address` of its `network_device`",
            ),
        ],
        QM_CONF,
    );
}

#[test]
fn hints_on_a_telmate_vm_name_its_attributes() {
    check(
        Dialect::Telmate,
        &[
            (
                "PVE001",
                "fires-kvm64-and-default-telmate",
                "`cpu_type = \"host\"`",
            ),
            (
                "PVE002",
                "fires-memory-hotplug-telmate",
                "`hotplug = \"network,disk,usb\"`",
            ),
            (
                "PVE003",
                "fires-qcow2-in-dir-on-zfs-telmate",
                "`format = \"raw\"`",
            ),
            ("PVE004", "fires-balloon-on-telmate", "`balloon = 0`"),
            ("PVE005", "fires-below-minimum-telmate", "`memory = "),
            ("PVE006", "fires-too-few-cores-telmate", "`cores = "),
            (
                "PVE007",
                "fires-emulated-controller-telmate",
                "`scsihw = \"virtio-scsi-pci\"`",
            ),
            (
                "PVE008",
                "fires-ignored-iothread-telmate",
                "`scsihw = \"virtio-scsi-single\"`",
            ),
            (
                "PVE009",
                "fires-no-discard-telmate",
                "`discard = true` in the `disk` block",
            ),
            (
                "PVE010",
                "fires-qcow2-data-disk-telmate",
                "`format = \"raw\"`",
            ),
            (
                "PVE011",
                "fires-two-sockets-numa-off-telmate",
                "`numa = true`",
            ),
            (
                "PVE012",
                "fires-agent-without-extension-telmate",
                "`agent = 0`",
            ),
            (
                "PVE013",
                "fires-disk-not-bootable-telmate",
                "`boot = \"order=scsi0;net0\"`",
            ),
            (
                "PVE014",
                "fires-ovmf-no-efidisk-telmate",
                "an `efidisk` block with `efitype = \"4m\"`",
            ),
            (
                "PVE015",
                "fires-storage-worker-without-data-disk-telmate",
                "`virtio1` slot in the `virtio` block of `disks`",
            ),
            (
                "PVE016",
                "fires-qcow2-on-zfspool-telmate",
                "`format = \"raw\"`",
            ),
            (
                "PVE019",
                "fires-same-name-telmate",
                "a `name` that no other VM uses",
            ),
            (
                "NET001",
                "fires-nic-above-bridge-telmate",
                "`mtu = 1` in the `network` block",
            ),
            (
                "NET001",
                "fires-pve8-virtio-default-telmate",
                "`mtu = 1` in the `network` block",
            ),
            (
                "NET004",
                "fires-duplicate-ip-and-mac-telmate",
                "`macaddr` of its `network` block",
            ),
        ],
        QM_CONF,
    );
}

#[test]
fn hints_on_terraform_talos_patches_name_config_patches() {
    check(
        Dialect::ConfigPatches,
        &[
            (
                "TAL004",
                "fires-default-path-without-mount-terraform",
                "in a `config_patches` entry",
            ),
            (
                "TAL004",
                "fires-user-volume-without-mount-terraform",
                "in a `config_patches` entry",
            ),
            (
                "TAL006",
                "fires-ghcr-installer-terraform",
                "`data.talos_image_factory_urls`",
            ),
            (
                "TAL006",
                "fires-sorted-id-for-unsorted-schematic-terraform",
                "`factory.talos.dev/<platform>-installer/",
            ),
            (
                "TAL007",
                "fires-sda-on-virtio-terraform",
                "a `serial` on the VM's VirtIO Block disk",
            ),
            (
                "TAL010",
                "fires-too-few-hugepages-terraform",
                "in a `config_patches` entry",
            ),
            (
                "TAL011",
                "fires-without-vfio-pci-terraform",
                "in a `config_patches` entry",
            ),
            (
                "TAL015",
                "fires-default-path-on-system-disk-terraform",
                "in a `config_patches` entry",
            ),
            (
                "TAL015",
                "fires-directory-volume-terraform",
                "in a `config_patches` entry",
            ),
        ],
        &["serial=", "intent"],
    );
}

#[test]
fn hints_on_a_terraform_schematic_name_the_resource() {
    check(
        Dialect::TerraformSchematic,
        &[
            (
                "TAL001",
                "fires-no-iscsi-tools-terraform",
                "`talos_image_factory_schematic`",
            ),
            (
                "TAL002",
                "fires-no-util-linux-tools-terraform",
                "`talos_image_factory_schematic`",
            ),
        ],
        &[],
    );
}

#[test]
fn hints_on_a_longhorn_helm_release_name_values_and_set() {
    check(
        Dialect::HelmRelease,
        &[
            (
                "LHN003",
                "fires-var-lib-longhorn-terraform",
                "a `set` block with `name = \"defaultSettings.defaultDataPath\"` and `value = \"/var/mnt/longhorn\"`",
            ),
            (
                "LHN007",
                "fires-no-backup-terraform",
                "a `set` block per key (`name = \"defaultBackupStore.backupTarget\"`",
            ),
            (
                "LHN010",
                "fires-class-and-ui-differ-terraform",
                "in the `helm_release`",
            ),
            (
                "LHN011",
                "fires-one-replica-three-workers-terraform",
                "`value = \"3\"`",
            ),
        ],
        &[],
    );
}

#[test]
fn hints_on_talconfig_name_talhelper_keys() {
    check(
        Dialect::Talhelper,
        &[
            (
                "NET005",
                "fires-endpoint-without-vip-talhelper",
                "`vip: { ip: 10.0.0.10 }`",
            ),
            (
                "TAL001",
                "fires-no-iscsi-tools-talhelper",
                "`worker.schematic.customization.systemExtensions.officialExtensions`",
            ),
            (
                "TAL002",
                "fires-no-util-linux-tools-talhelper",
                "`worker.schematic.customization.systemExtensions.officialExtensions`",
            ),
            (
                "TAL004",
                "fires-default-path-without-mount-talhelper",
                "talhelper patch",
            ),
            (
                "TAL006",
                "fires-ghcr-installer-talhelper",
                "`talosImageURL`",
            ),
            (
                "TAL007",
                "fires-sda-on-virtio-talhelper",
                "in the patch `worker.patches[0]`",
            ),
            (
                "TAL010",
                "fires-too-few-hugepages-talhelper",
                "in the patch `worker.patches[0]`",
            ),
            (
                "TAL011",
                "fires-without-vfio-pci-talhelper",
                "`kernelModules` of each storage node",
            ),
            (
                "TAL013",
                "fires-dhcp-only-talhelper",
                "`networkInterfaces[].addresses`",
            ),
            (
                "TAL015",
                "fires-directory-volume-talhelper",
                "`userVolumes` entry",
            ),
            (
                "TAL016",
                "fires-iscsi-generic-talhelper",
                "from the patch `worker.patches[0]`",
            ),
        ],
        &["intent", "cluster.vip"],
    );
}

/// Lints files written to a temporary repository; the helps of `code`'s findings, with the file
/// each is in.
fn helps_in(files: &[(&str, &str)], code: &str) -> Vec<(String, String)> {
    let (_dir, outcome) = common::lint_files(files);
    outcome
        .findings
        .iter()
        .filter(|f| f.code == code)
        .map(|f| {
            let path = &outcome.sources.get(f.at.file).path;
            let name = path.file_name().unwrap_or_default().to_string_lossy();
            (name.into_owned(), f.help.clone().unwrap_or_default())
        })
        .collect()
}

#[test]
fn a_vm_fact_from_a_variable_a_local_or_tfvars_gets_the_providers_hint() {
    // Evaluated values point at the attribute that uses them, inside the VM resource.
    let vm = r#"resource "proxmox_virtual_environment_vm" "cp" {
  name = "cp-1"
  tags = ["talos", "controlplane"]
  cpu {
    type  = "host"
    cores = var.cores
  }
  memory {
    dedicated = local.memory
  }
}
"#;
    let files = [
        ("terraform/main.tf", vm),
        (
            "terraform/variables.tf",
            "variable \"cores\" {\n  default = 4\n}\nlocals {\n  memory = 1024\n}\n",
        ),
        ("terraform/terraform.tfvars", "cores = 1\n"),
    ];
    let memory = helps_in(&files, "PVE005");
    assert_eq!(
        memory,
        [(
            "main.tf".to_owned(),
            "set `memory { dedicated = 4096 }` or more".to_owned()
        )]
    );
    let cores = helps_in(&files, "PVE006");
    assert_eq!(
        cores,
        [(
            "main.tf".to_owned(),
            "set `cpu { cores = 2 }` or more".to_owned()
        )]
    );
}

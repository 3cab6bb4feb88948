//! Talos knowledge: versions and dialects, extensions, kernel modules, the schematic ID and
//! URLs, and structural validation of Talos documents (TAL003, INT002, INT003, TAL008).

mod common;

use sha2::{Digest, Sha256};
use talhorn::emit::schematic::{
    Schematic, installer_image, iso_url, schematic_id_of_yaml_as_written, written_schematic_ids,
};
use talhorn::finding::{Finding, Severity};
use talhorn::knowledge::talos::{
    self, DataDiskForm, DialectLookup, InstallerForm, KernelForm, ModuleBuild, ModuleStatus,
    NetworkForm, Platform, TalosVersion,
};
use talhorn::knowledge::talos_schema::{self, DocumentType, validate_document};
use talhorn::source::FileId;
use talhorn::yaml::{self, Node};

fn version(text: &str) -> TalosVersion {
    TalosVersion::parse(text).unwrap_or_else(|e| panic!("{e}"))
}

// ---------------------------------------------------------------------------------------------
// Versions and dialects

#[test]
fn parses_versions_with_and_without_v() {
    assert_eq!(version("v1.11.6"), TalosVersion::new(1, 11, 6));
    assert_eq!(version("1.11.6"), TalosVersion::new(1, 11, 6));
    let rc = version("v1.14.0-rc.1");
    assert_eq!((rc.major, rc.minor, rc.patch), (1, 14, 0));
    assert_eq!(rc.pre.as_deref(), Some("rc.1"));
    assert!(rc.is_prerelease());
}

#[test]
fn displays_with_a_leading_v() {
    assert_eq!(version("1.11.6").to_string(), "v1.11.6");
    assert_eq!(version("v1.14.0-rc.1").to_string(), "v1.14.0-rc.1");
}

#[test]
fn version_errors_say_what_is_wrong() {
    for (input, needle) in [
        ("", "empty"),
        ("v1.11", "three numbers"),
        ("v1.11.6.1", "three numbers"),
        ("v1.x.6", "minor part `x`"),
        ("latest", "pin a version"),
        ("one.two.three", "major part `one`"),
        ("v1.14.0-", "pre-release"),
        ("v1.14.0-rc..1", "pre-release"),
    ] {
        let error = TalosVersion::parse(input).expect_err(input);
        let text = error.to_string();
        assert!(text.contains(needle), "{input:?}: {text}");
        assert!(
            text.contains("v1.11.6"),
            "the error shows the expected form: {text}"
        );
    }
}

#[test]
fn versions_order_semantically() {
    let mut versions: Vec<TalosVersion> = [
        "v1.10.9",
        "v1.9.6",
        "v1.14.0",
        "v1.14.0-rc.1",
        "v1.14.0-beta.0",
        "v1.10.10",
    ]
    .into_iter()
    .map(version)
    .collect();
    versions.sort();
    let sorted: Vec<String> = versions.iter().map(ToString::to_string).collect();
    assert_eq!(
        sorted,
        [
            "v1.9.6",
            "v1.10.9",
            "v1.10.10",
            "v1.14.0-beta.0",
            "v1.14.0-rc.1",
            "v1.14.0"
        ]
    );
    assert!(version("v1.11.1").at_least(1, 11, 1));
    assert!(!version("v1.11.1-alpha.0").at_least(1, 11, 1));
}

fn supported(minor: u32) -> &'static talos::Dialect {
    match talos::dialect(&TalosVersion::new(1, minor, 0)) {
        DialectLookup::Supported(d) => d,
        other => panic!("1.{minor} should be supported, got {other:?}"),
    }
}

#[test]
fn dialect_lookup_covers_1_9_to_1_14() {
    for minor in 9..=14 {
        assert_eq!(supported(minor).minor, minor);
    }
    assert_eq!(talos::dialect(&version("v1.8.3")), DialectLookup::TooOld);
    assert_eq!(talos::dialect(&version("v0.14.0")), DialectLookup::TooOld);
    for newer in ["v1.15.0", "v2.0.0"] {
        match talos::dialect(&version(newer)) {
            DialectLookup::Newer(d) => assert_eq!(d.minor, 14, "{newer}"),
            other => panic!("{newer}: {other:?}"),
        }
    }
    // A pre-release of a known minor is that minor.
    assert_eq!(
        supported(14),
        match talos::dialect(&version("v1.14.0-rc.1")) {
            DialectLookup::Supported(d) => d,
            other => panic!("{other:?}"),
        }
    );
}

#[test]
fn dialect_forms_per_minor() {
    // (minor, data disk, network, kernel, install.extraKernelArgs, machine.kubelet, installer)
    let expected = [
        (
            9,
            DataDiskForm::MachineDisks,
            NetworkForm::MachineNetwork,
            KernelForm::MachineKernel,
            true,
            true,
            InstallerForm::Generic,
        ),
        (
            10,
            DataDiskForm::UserVolumeConfig,
            NetworkForm::MachineNetwork,
            KernelForm::MachineKernel,
            true,
            true,
            InstallerForm::PerPlatform,
        ),
        (
            11,
            DataDiskForm::UserVolumeConfig,
            NetworkForm::MachineNetwork,
            KernelForm::MachineKernel,
            true,
            true,
            InstallerForm::PerPlatform,
        ),
        (
            12,
            DataDiskForm::UserVolumeConfig,
            NetworkForm::NetworkDocuments,
            KernelForm::MachineKernel,
            false,
            true,
            InstallerForm::PerPlatform,
        ),
        (
            13,
            DataDiskForm::UserVolumeConfig,
            NetworkForm::NetworkDocuments,
            KernelForm::MachineKernel,
            false,
            true,
            InstallerForm::PerPlatform,
        ),
        (
            14,
            DataDiskForm::UserVolumeConfig,
            NetworkForm::NetworkDocuments,
            KernelForm::KernelDocuments,
            false,
            false,
            InstallerForm::PerPlatform,
        ),
    ];
    for (minor, disk, network, kernel, extra_args, kubelet, installer) in expected {
        let d = supported(minor);
        assert_eq!(d.data_disk, disk, "1.{minor}");
        assert_eq!(d.network, network, "1.{minor}");
        assert_eq!(d.kernel, kernel, "1.{minor}");
        assert_eq!(d.install_extra_kernel_args, extra_args, "1.{minor}");
        assert_eq!(d.legacy_kubernetes_fields, kubelet, "1.{minor}");
        assert_eq!(d.installer, installer, "1.{minor}");
        assert_eq!(d.preview, minor == 14, "1.{minor}");
    }
}

#[test]
fn latest_patches_and_default_kubernetes_match_research() {
    // research/talos.md §8; v1.9.6 from upstream/talos/SOURCES.md (release-1.9 tip = tag v1.9.6).
    let expected = [
        (9, "v1.9.6", "1.32.4"),
        (10, "v1.10.9", "1.33.6"),
        (11, "v1.11.6", "1.34.1"),
        (12, "v1.12.11", "1.35.4"),
        (13, "v1.13.9", "1.36.3"),
        (14, "v1.14.0-rc.1", "1.37.0-rc.0"),
    ];
    for (minor, latest, kubernetes) in expected {
        let d = supported(minor);
        assert_eq!(d.latest_version().to_string(), latest);
        assert_eq!(d.default_kubernetes, kubernetes);
    }
    assert_eq!(
        talos::latest_stable().map(|v| v.to_string()).as_deref(),
        Some("v1.13.9")
    );
}

// ---------------------------------------------------------------------------------------------
// Extensions and kernel modules

#[test]
fn longhorn_extensions_exist_on_every_supported_minor() {
    for minor in 9..=14 {
        for name in talos::LONGHORN_EXTENSIONS
            .iter()
            .chain([&talos::QEMU_GUEST_AGENT])
        {
            assert!(talos::extension_exists(name, minor), "{name} on 1.{minor}");
        }
    }
}

#[test]
fn extensions_exist_only_in_their_minors() {
    // research §5: nfs-utils is release-1.12+ only, nfsrahead release-1.11+.
    assert!(!talos::extension_exists("siderolabs/nfs-utils", 11));
    assert!(talos::extension_exists("siderolabs/nfs-utils", 12));
    assert!(!talos::extension_exists("siderolabs/nfsrahead", 10));
    assert!(talos::extension_exists("siderolabs/nfsrahead", 11));
    assert!(!talos::extension_exists("siderolabs/iscsi-tool", 11));
    assert!(
        !talos::extension_exists("iscsi-tools", 11),
        "the namespace is part of the name"
    );
    // Newer minors than the table are answered with the newest branch.
    assert!(talos::extension_exists("siderolabs/iscsi-tools", 15));
    assert!(talos::extension_names(12).contains(&"siderolabs/nfs-utils"));
    assert!(!talos::extension_names(11).contains(&"siderolabs/nfs-utils"));
}

#[test]
fn suggests_the_extension_that_was_meant() {
    assert_eq!(
        talos::suggest_extension("siderolabs/iscsi-tool", 11),
        Some("siderolabs/iscsi-tools")
    );
    assert_eq!(
        talos::suggest_extension("iscsi-tools", 11),
        Some("siderolabs/iscsi-tools")
    );
    assert_eq!(
        talos::suggest_extension("siderolabs/util-linux", 11),
        Some("siderolabs/util-linux-tools")
    );
    assert_eq!(talos::suggest_extension("completely-different", 11), None);
}

#[test]
fn kernel_module_facts() {
    let v1_11_0 = version("v1.11.0");
    let v1_11_1 = version("v1.11.1");
    assert_eq!(
        talos::kernel_module_status("iscsi_generic", &v1_11_1),
        ModuleStatus::NoSuchModule
    );
    assert_eq!(
        talos::kernel_module_status("ublk_drv", &v1_11_0),
        ModuleStatus::Known(ModuleBuild::NotBuilt)
    );
    assert_eq!(
        talos::kernel_module_status("ublk_drv", &v1_11_1),
        ModuleStatus::Known(ModuleBuild::Loadable)
    );
    assert_eq!(
        talos::kernel_module_status("nvme_tcp", &v1_11_1),
        ModuleStatus::Known(ModuleBuild::BuiltIn)
    );
    assert_eq!(
        talos::kernel_module_status("nvme-tcp", &v1_11_1),
        ModuleStatus::Known(ModuleBuild::BuiltIn)
    );
    assert_eq!(
        talos::kernel_module_status("vfio_pci", &v1_11_1),
        ModuleStatus::Known(ModuleBuild::Loadable)
    );
    assert_eq!(
        talos::kernel_module_status("iscsi_tcp", &v1_11_1),
        ModuleStatus::Known(ModuleBuild::BuiltIn)
    );
    assert_eq!(
        talos::kernel_module_status("target_core_mod", &version("v1.13.9")),
        ModuleStatus::Known(ModuleBuild::NotBuilt)
    );
    assert_eq!(
        talos::kernel_module_status("target_core_mod", &version("v1.14.0")),
        ModuleStatus::Known(ModuleBuild::Loadable)
    );
    // The research read kernel configs from v1.10 on; v1.9 stays unknown, as do other modules.
    assert_eq!(
        talos::kernel_module_status("nvme_tcp", &version("v1.9.6")),
        ModuleStatus::Unknown
    );
    assert_eq!(
        talos::kernel_module_status("e1000e", &v1_11_1),
        ModuleStatus::Unknown
    );
    assert!(talos::LONGHORN_V1_MODULES.is_empty());
    for module in talos::LONGHORN_V2_MODULES {
        assert!(matches!(
            talos::kernel_module_status(module, &v1_11_1),
            ModuleStatus::Known(ModuleBuild::BuiltIn | ModuleBuild::Loadable)
        ));
    }
}

// ---------------------------------------------------------------------------------------------
// Schematic

struct Vector {
    name: String,
    canonical_yaml: String,
    expected_id: String,
}

fn schematic_vectors() -> Option<Vec<Vector>> {
    let shared = common::shared_dir()?;
    let path = shared.join("upstream/talos/image-factory/schematic-id-vectors.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let json: serde_json::Value = serde_json::from_str(&text).expect("vectors are JSON");
    let vectors = json["vectors"].as_array().expect("a `vectors` array");
    assert!(
        vectors.len() >= 15,
        "expected the 15 recorded vectors, found {}",
        vectors.len()
    );
    Some(
        vectors
            .iter()
            .map(|v| Vector {
                name: v["name"].as_str().expect("name").to_string(),
                canonical_yaml: v["canonical_yaml"]
                    .as_str()
                    .expect("canonical_yaml")
                    .to_string(),
                expected_id: v["expected_id"].as_str().expect("expected_id").to_string(),
            })
            .collect(),
    )
}

fn strings_at(doc: &Node, path: &[&str]) -> Vec<String> {
    doc.path(path)
        .and_then(Node::as_seq)
        .map(|items| {
            items
                .iter()
                .filter_map(|i| i.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn every_vector_id_is_recomputed_from_the_parsed_yaml() {
    let Some(vectors) = schematic_vectors() else {
        return;
    };
    for vector in vectors {
        let hash = Sha256::digest(vector.canonical_yaml.as_bytes());
        let hex: String = hash.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(
            hex, vector.expected_id,
            "{}: the vector file itself",
            vector.name
        );
        // Parse and re-encode: the canonical form must come back byte for byte.
        let doc = yaml::parse_document(&vector.canonical_yaml).expect("vector parses");
        assert_eq!(
            schematic_id_of_yaml_as_written(&doc).as_deref(),
            Some(vector.expected_id.as_str()),
            "{}",
            vector.name
        );
    }
}

#[test]
fn generated_schematics_reproduce_every_vector_they_can_express() {
    let Some(vectors) = schematic_vectors() else {
        return;
    };
    let mut expressed = 0;
    for vector in vectors {
        let doc = yaml::parse_document(&vector.canonical_yaml).expect("vector parses");
        let Some(customization) = doc.get("customization") else {
            continue;
        };
        let only_ours = doc.as_map().is_some_and(|m| m.len() == 1)
            && customization
                .as_map()
                .unwrap_or_default()
                .iter()
                .all(|(k, _)| matches!(k.as_str(), Some("extraKernelArgs" | "systemExtensions")));
        let extensions = strings_at(
            &doc,
            &["customization", "systemExtensions", "officialExtensions"],
        );
        let sorted = extensions.windows(2).all(|w| w[0] <= w[1]);
        if !only_ours || !sorted {
            continue;
        }
        let schematic = Schematic::new(
            extensions,
            strings_at(&doc, &["customization", "extraKernelArgs"]),
        );
        assert_eq!(
            schematic.canonical_yaml(),
            vector.canonical_yaml,
            "{}",
            vector.name
        );
        assert_eq!(schematic.id(), vector.expected_id, "{}", vector.name);
        expressed += 1;
    }
    // empty, two kernel-arg vectors, qemu-guest-agent, iscsi+util-linux, xen, args+extensions.
    assert!(expressed >= 7, "only {expressed} vectors were expressible");
}

#[test]
fn schematic_sorts_and_dedups_extensions_but_keeps_kernel_arg_order() {
    let schematic = Schematic::new(
        [
            "siderolabs/util-linux-tools",
            "siderolabs/iscsi-tools",
            "siderolabs/iscsi-tools",
        ],
        ["nolapic", "noapic"],
    );
    assert_eq!(
        schematic.extensions,
        ["siderolabs/iscsi-tools", "siderolabs/util-linux-tools"]
    );
    assert_eq!(schematic.extra_kernel_args, ["nolapic", "noapic"]);
    // research §4: iscsi-tools + util-linux-tools.
    let extensions_only = Schematic::new(
        ["siderolabs/util-linux-tools", "siderolabs/iscsi-tools"],
        Vec::<String>::new(),
    );
    assert_eq!(
        extensions_only.id(),
        "613e1592b2da41ae5e265e8789429f22e121aab91cb4deb6bc3c0b6262961245"
    );
    // research §4 (computed): the three Proxmox extensions, sorted.
    let proxmox = Schematic::new(
        [
            "siderolabs/qemu-guest-agent",
            "siderolabs/util-linux-tools",
            "siderolabs/iscsi-tools",
        ],
        Vec::<String>::new(),
    );
    assert_eq!(
        proxmox.id(),
        "88d1f7a5c4f1d3aba7df787c448c1d3d008ed29cfb34af53fa0df4336a56040b"
    );
}

#[test]
fn written_schematic_id_ignores_formatting_but_not_order() {
    // Same content as the unsorted amd-ucode/gvisor/gasket-driver vector, written differently.
    let text = "customization:\n  systemExtensions:\n    officialExtensions: [\"siderolabs/amd-ucode\", 'siderolabs/gvisor', siderolabs/gasket-driver]\n";
    let doc = yaml::parse_document(text).expect("parses");
    let ids = written_schematic_ids(&doc).expect("a schematic");
    assert_eq!(
        ids.as_written,
        "51ff3e49313773332729a5c04e57af0dbe2e6d3f65ff638e6d4c3a05065fefff"
    );
    assert!(ids.sorting_changes_id());
    let sorted = Schematic::new(
        [
            "siderolabs/amd-ucode",
            "siderolabs/gvisor",
            "siderolabs/gasket-driver",
        ],
        Vec::<String>::new(),
    );
    assert_eq!(ids.sorted, sorted.id());

    let already_sorted = yaml::parse_document(
        "customization:\n  systemExtensions:\n    officialExtensions:\n      - siderolabs/iscsi-tools\n      - siderolabs/util-linux-tools\n",
    )
    .expect("parses");
    let ids = written_schematic_ids(&already_sorted).expect("a schematic");
    assert!(!ids.sorting_changes_id());
    assert_eq!(
        ids.as_written,
        "613e1592b2da41ae5e265e8789429f22e121aab91cb4deb6bc3c0b6262961245"
    );
}

#[test]
fn written_schematic_id_is_none_for_what_the_factory_would_reject() {
    for text in [
        "customization:\n  systemExtension:\n    officialExtensions: [siderolabs/iscsi-tools]\n",
        "customisation: {}\n",
        "customization:\n  extraKernelArgs: noapic\n",
        "customization:\n  meta:\n    - key: 300\n      value: x\n",
        "- a\n",
    ] {
        let doc = yaml::parse_document(text).expect("parses");
        assert_eq!(schematic_id_of_yaml_as_written(&doc), None, "{text}");
    }
}

#[test]
fn installer_and_iso_urls_per_version_and_platform() {
    let schematic = Schematic::new(["siderolabs/qemu-guest-agent"], Vec::<String>::new());
    let id = "ce4c980550dd2ab1b17bbf2b08801c7eb59418eafe8f279833297925d67c7515";
    assert_eq!(schematic.id(), id);
    let v11 = version("v1.11.6");
    assert_eq!(
        schematic.installer_image(&v11, Platform::Nocloud),
        format!("factory.talos.dev/nocloud-installer/{id}:v1.11.6")
    );
    assert_eq!(
        schematic.installer_image(&v11, Platform::Metal),
        format!("factory.talos.dev/metal-installer/{id}:v1.11.6")
    );
    // Before the unified installer (v1.10) the factory serves one installer for every platform.
    assert_eq!(
        installer_image(id, &version("v1.9.6"), Platform::Nocloud),
        format!("factory.talos.dev/installer/{id}:v1.9.6")
    );
    assert_eq!(
        schematic.iso_url(&v11, Platform::Nocloud),
        format!("https://factory.talos.dev/image/{id}/v1.11.6/nocloud-amd64.iso")
    );
    assert_eq!(
        iso_url(id, &version("v1.14.0-rc.1"), Platform::Metal),
        format!("https://factory.talos.dev/image/{id}/v1.14.0-rc.1/metal-amd64.iso")
    );
}

// ---------------------------------------------------------------------------------------------
// Talos document validation

const FILE: FileId = FileId(0);

/// (code, severity, the text the finding points at, message) for every document of `text`.
fn check(text: &str, minor: u32) -> Vec<(&'static str, Severity, String, String)> {
    let docs = yaml::parse_documents(text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    docs.iter()
        .flat_map(|doc| validate_document(FILE, doc, minor))
        .map(|f: Finding| {
            let snippet = text
                .get(f.at.span.start..f.at.span.end)
                .unwrap_or("<bad span>")
                .to_string();
            let message = match &f.help {
                Some(help) => format!("{} | {help}", f.message),
                None => f.message.clone(),
            };
            (f.code, f.severity, snippet, message)
        })
        .collect()
}

fn assert_silent(text: &str, minor: u32) {
    let findings = check(text, minor);
    assert!(
        findings.is_empty(),
        "Talos v1.{minor} should accept:\n{text}\nfound {findings:#?}"
    );
}

fn only(text: &str, minor: u32) -> (&'static str, Severity, String, String) {
    let mut findings = check(text, minor);
    assert_eq!(
        findings.len(),
        1,
        "expected exactly one finding for v1.{minor}:\n{text}\n{findings:#?}"
    );
    findings.remove(0)
}

#[test]
fn every_supported_minor_has_a_schema_table() {
    let minors: Vec<u32> = talos_schema::schema_minors().collect();
    assert_eq!(minors, (9..=14).collect::<Vec<_>>());
    for minor in minors {
        assert!(
            talos_schema::has_schema(minor),
            "the v1.{minor} table parses"
        );
    }
    assert!(!talos_schema::has_schema(8));
    assert!(
        validate_document(FILE, &yaml::parse_document("foo: 1\n").expect("parses"), 15).is_empty()
    );
}

fn legacy_patch(minor: u32) -> String {
    let mut text = String::from(
        "machine:\n  install:\n    disk: /dev/vda\n    image: factory.talos.dev/nocloud-installer/abc:v1.11.6\n    wipe: false\n",
    );
    text.push_str(
        "  kernel:\n    modules:\n      - name: vfio_pci\n      - name: uio_pci_generic\n        parameters: [\"foo=bar\"]\n  sysctls:\n    vm.nr_hugepages: \"1024\"\n",
    );
    text.push_str(
        "  kubelet:\n    extraMounts:\n      - destination: /var/mnt/longhorn\n        type: bind\n        source: /var/mnt/longhorn\n        options: [bind, rshared, rw]\n",
    );
    if minor <= 11 {
        text.push_str(
            "  network:\n    hostname: w-1\n    nameservers: [10.20.0.1]\n    interfaces:\n      - interface: eth0\n        mtu: 9000\n        addresses: [10.20.0.21/24]\n        routes:\n          - network: 0.0.0.0/0\n            gateway: 10.20.0.1\n",
        );
    }
    if minor == 9 {
        text.push_str("  disks:\n    - device: /dev/sdb\n      partitions:\n        - mountpoint: /var/lib/longhorn\n          size: 100 GB\n");
    }
    text.push_str("cluster:\n  allowSchedulingOnControlPlanes: true\n");
    text
}

#[test]
fn generated_legacy_patches_are_accepted_up_to_1_13() {
    for minor in 9..=13 {
        assert_silent(&legacy_patch(minor), minor);
    }
    assert_silent(
        "version: v1alpha1\npersist: true\ndebug: false\nmachine:\n  type: worker\n",
        11,
    );
}

const USER_VOLUME: &str = "apiVersion: v1alpha1\nkind: UserVolumeConfig\nname: longhorn\nprovisioning:\n  diskSelector:\n    match: disk.serial == 'longhorn0'\n  minSize: 50GiB\n  grow: false\nfilesystem:\n  type: xfs\n";
const NETWORK_DOCS: &str = "apiVersion: v1alpha1\nkind: HostnameConfig\nhostname: w-1\nauto: off\n---\napiVersion: v1alpha1\nkind: LinkConfig\nname: eth0\nup: true\nmtu: 9000\naddresses:\n  - address: 10.20.0.21/24\nroutes:\n  - destination: 0.0.0.0/0\n    gateway: 10.20.0.1\n---\napiVersion: v1alpha1\nkind: ResolverConfig\nnameservers:\n  - address: 10.20.0.1\n";
const KERNEL_DOCS: &str = "apiVersion: v1alpha1\nkind: KernelModuleConfig\nname: vfio_pci\n---\napiVersion: v1alpha1\nkind: KernelModuleConfig\nname: uio_pci_generic\nparameters: [\"foo=bar\"]\n---\napiVersion: v1alpha1\nkind: SysctlConfig\nparams:\n  vm.nr_hugepages: \"1024\"\n";

#[test]
fn generated_documents_are_accepted_where_they_exist() {
    for minor in 10..=14 {
        assert_silent(USER_VOLUME, minor);
    }
    for minor in 12..=14 {
        assert_silent(NETWORK_DOCS, minor);
        assert_silent(
            "apiVersion: v1alpha1\nkind: UserVolumeConfig\nname: longhorn\nvolumeType: directory\n",
            minor,
        );
    }
    assert_silent(KERNEL_DOCS, 14);
    assert_silent("machine:\n  type: worker\n", 14);
}

#[test]
fn documents_of_a_newer_version_are_not_registered_on_older_ones() {
    let (code, severity, at, message) = only(USER_VOLUME, 9);
    assert_eq!(
        (code, severity, at.as_str()),
        ("INT002", Severity::Error, "UserVolumeConfig")
    );
    assert!(
        message.starts_with("\"UserVolumeConfig\" \"v1alpha1\": not registered"),
        "{message}"
    );
    assert!(message.contains("exists from Talos v1.10"), "{message}");

    let (code, _, at, message) = only(
        "apiVersion: v1alpha1\nkind: HostnameConfig\nhostname: w-1\n",
        11,
    );
    assert_eq!((code, at.as_str()), ("INT002", "HostnameConfig"));
    assert!(message.contains("exists from Talos v1.12"), "{message}");

    let (code, _, at, message) = only(
        "apiVersion: v1alpha1\nkind: KernelModuleConfig\nname: vfio_pci\n",
        13,
    );
    assert_eq!((code, at.as_str()), ("INT002", "KernelModuleConfig"));
    assert!(message.contains("exists from Talos v1.14"), "{message}");
}

#[test]
fn tal003_missing_kind() {
    // A UserVolumeConfig body without apiVersion/kind: not legacy, so "missing kind".
    let text = "name: longhorn\nprovisioning:\n  minSize: 10GiB\n";
    let (code, severity, at, message) = only(text, 11);
    assert_eq!(
        (code, severity, at.as_str()),
        ("TAL003", Severity::Error, "")
    );
    assert!(message.starts_with("missing kind"), "{message}");
    assert!(message.contains("did you forget `kind:`?"), "{message}");

    // In a stream, it points at the start of the offending document.
    let stream = format!("machine:\n  type: worker\n---\n{text}");
    let docs = yaml::parse_documents(&stream).expect("parses");
    let findings = validate_document(FILE, &docs[1], 11);
    assert_eq!(findings.len(), 1);
    assert_eq!(
        findings[0].at.span.start,
        stream.find("name:").expect("present")
    );

    // `version: v1alpha1` does not make a document legacy.
    let (code, _, _, message) = only("version: v1alpha1\n", 11);
    assert_eq!(code, "TAL003");
    assert!(message.starts_with("missing kind"), "{message}");
}

#[test]
fn tal003_api_version_without_kind() {
    let text = "apiVersion: v1alpha1\nname: longhorn\nprovisioning:\n  minSize: 10GiB\n";
    let (code, severity, at, message) = only(text, 12);
    assert_eq!(
        (code, severity, at.as_str()),
        ("TAL003", Severity::Error, "apiVersion")
    );
    assert!(
        message.contains("unknown keys found during decoding"),
        "{message}"
    );
    assert!(message.ends_with("did you forget `kind:`?"), "{message}");
}

#[test]
fn tal003_kind_without_api_version() {
    let text = "kind: UserVolumeConfig\nname: longhorn\nprovisioning:\n  minSize: 10GiB\n";
    let (code, severity, at, message) = only(text, 13);
    assert_eq!(
        (code, severity, at.as_str()),
        ("TAL003", Severity::Error, "kind")
    );
    assert!(message.starts_with("missing apiVersion"), "{message}");
}

#[test]
fn tal003_legacy_document_with_identity_keys() {
    let text = "apiVersion: v1alpha1\nmachine:\n  type: worker\n";
    let (code, severity, at, _) = only(text, 11);
    assert_eq!(
        (code, severity, at.as_str()),
        ("TAL003", Severity::Error, "apiVersion")
    );

    // A kind document carrying a legacy key: the legacy key is the problem.
    let text =
        "apiVersion: v1alpha1\nkind: HostnameConfig\nhostname: w-1\nmachine:\n  type: worker\n";
    let (code, _, at, _) = only(text, 12);
    assert_eq!((code, at.as_str()), ("TAL003", "machine"));
}

#[test]
fn int002_unknown_keys_with_suggestions() {
    let text = "machine:\n  kubelet:\n    extraMount:\n      - destination: /var/mnt/longhorn\n";
    let (code, severity, at, message) = only(text, 11);
    assert_eq!(
        (code, severity, at.as_str()),
        ("INT002", Severity::Error, "extraMount")
    );
    assert!(message.contains("`machine.kubelet`"), "{message}");
    assert!(
        message.ends_with("did you mean `extraMounts`?"),
        "{message}"
    );

    let text = "apiVersion: v1alpha1\nkind: UserVolumeConfig\nname: longhorn\nprovisioning:\n  diskSelector:\n    match: '!system_disk'\n  minSize: 10GiB\n  maxsize: 20GiB\n";
    let (code, _, at, message) = only(text, 11);
    assert_eq!((code, at.as_str()), ("INT002", "maxsize"));
    assert!(message.ends_with("did you mean `maxSize`?"), "{message}");

    // A key a newer version added says so.
    let text =
        "apiVersion: v1alpha1\nkind: UserVolumeConfig\nname: longhorn\nvolumeType: directory\n";
    let (code, _, at, message) = only(text, 11);
    assert_eq!((code, at.as_str()), ("INT002", "volumeType"));
    assert!(message.contains("exists from Talos v1.12"), "{message}");
}

#[test]
fn int002_unknown_kind_and_api_version() {
    let (code, _, at, message) = only("apiVersion: v1alpha1\nkind: UserVolumeConfg\nname: x\n", 11);
    assert_eq!((code, at.as_str()), ("INT002", "UserVolumeConfg"));
    assert!(
        message.starts_with("\"UserVolumeConfg\" \"v1alpha1\": not registered"),
        "{message}"
    );
    assert!(
        message.ends_with("did you mean `UserVolumeConfig`?"),
        "{message}"
    );

    let (code, _, at, message) = only(
        "apiVersion: v1alpha2\nkind: UserVolumeConfig\nname: x\n",
        11,
    );
    assert_eq!((code, at.as_str()), ("INT002", "v1alpha2"));
    assert!(
        message.starts_with("\"UserVolumeConfig\" \"v1alpha2\": not registered"),
        "{message}"
    );
}

#[test]
fn int003_wrong_types_and_enum_values() {
    let (code, severity, at, _) = only("machine:\n  install:\n    wipe: maybe\n", 11);
    assert_eq!(
        (code, severity, at.as_str()),
        ("INT003", Severity::Error, "maybe")
    );

    let text =
        "apiVersion: v1alpha1\nkind: UserVolumeConfig\nname: longhorn\nfilesystem:\n  type: zfs\n";
    let (code, _, at, message) = only(text, 11);
    assert_eq!((code, at.as_str()), ("INT003", "zfs"));
    assert!(
        message.contains("`filesystem.type` must be one of `ext4`, `xfs`"),
        "{message}"
    );

    let text = "apiVersion: v1alpha1\nkind: LinkConfig\nname: eth0\nmtu: \"9000\"\n";
    let (code, severity, at, _) = only(text, 12);
    assert_eq!(
        (code, severity, at.as_str()),
        ("INT003", Severity::Error, "\"9000\"")
    );

    let (code, _, at, message) = only(
        "machine:\n  kubelet:\n    extraMounts: /var/mnt/longhorn\n",
        11,
    );
    assert_eq!((code, at.as_str()), ("INT003", "/var/mnt/longhorn"));
    assert!(
        message.contains("`machine.kubelet.extraMounts` must be a list"),
        "{message}"
    );

    // Missing required fields of a document or a nested object.
    let (code, _, _, message) = only("apiVersion: v1alpha1\nkind: KernelModuleConfig\n", 14);
    assert_eq!(code, "INT003");
    assert!(
        message.contains("missing required field `name`"),
        "{message}"
    );
}

/// Talos's decoder takes out every mapping holding `$patch: delete` before it decodes the
/// document (`configloader/internal/decoder/delete.go`): what such a mapping holds is a
/// selector, not a config value, whatever the field's type.
#[test]
fn a_delete_directive_is_taken_out_before_types_are_checked() {
    // A node label (a string field) deleted.
    assert_silent(
        "machine:\n  nodeLabels:\n    zone:\n      $patch: delete\n",
        11,
    );
    // A list item deleted, selected by one of its keys (the others are not required then).
    assert_silent(
        "machine:\n  kubelet:\n    extraMounts:\n      - destination: /var/lib/longhorn\n        $patch: delete\n",
        11,
    );
    // A whole document deleted names only its kind.
    assert_silent(
        "apiVersion: v1alpha1\nkind: KernelModuleConfig\n$patch: delete\n",
        14,
    );
    // Only `delete` is a directive: another value leaves a mapping where a string belongs.
    let (code, _, _, message) = only(
        "machine:\n  nodeLabels:\n    zone:\n      $patch: replace\n",
        11,
    );
    assert_eq!(code, "INT003");
    assert!(
        message.contains("must be a string, found a mapping"),
        "{message}"
    );
}

/// Talos's decoder (yaml.v3) puts a scalar's text into a string field as it is written: the
/// `rotate-server-certificates: true` of Talos's own metrics-server guide is the flag value
/// `true`. Reporting it was a false alarm (found on three public repositories).
#[test]
fn a_number_or_boolean_in_a_string_field_is_read_as_written() {
    assert_silent("machine:\n  sysctls:\n    vm.nr_hugepages: 1024\n", 11);
    assert_silent(
        "machine:\n  kubelet:\n    extraArgs:\n      rotate-server-certificates: true\n",
        11,
    );
    assert_silent(
        "cluster:\n  etcd:\n    extraArgs:\n      quota-backend-bytes: 8589934592\n      heartbeat-interval: 1.5\n",
        11,
    );
    // A list is still no string.
    let (code, _, at, _) = only("machine:\n  sysctls:\n    vm.nr_hugepages: [1024]\n", 11);
    assert_eq!((code, at.as_str()), ("INT003", "["));
}

/// `machine.logging.destinations[].endpoint` is a URL written as text: Talos's `Endpoint` type
/// decodes it from a string, though the schema describes it by its Go fields (an object).
#[test]
fn a_logging_endpoint_is_a_url_written_as_text() {
    let text = "machine:\n  logging:\n    destinations:\n      - endpoint: udp://127.0.0.1:12345\n        format: json_lines\n";
    for minor in talos_schema::schema_minors() {
        assert_silent(text, minor);
    }
    let (code, _, _, message) = only(
        "machine:\n  logging:\n    destinations:\n      - endpoint: {host: x}\n",
        11,
    );
    assert_eq!(code, "INT003");
    assert!(message.contains("must be a string"), "{message}");
}

/// A deprecated key that sets nothing has nothing to move: `talosctl gen config` writes
/// `registries: {}` into every v1.12+ worker config.
#[test]
fn tal008_a_deprecated_key_that_sets_nothing_is_not_reported() {
    assert_silent("machine:\n  registries: {}\n", 12);
    assert_silent("machine:\n  registries:\n", 13);
    let mirrors = "machine:\n  registries:\n    mirrors:\n      docker.io:\n        endpoints: [https://mirror.lan]\n";
    let (code, severity, at, _) = only(mirrors, 12);
    assert_eq!(
        (code, severity, at.as_str()),
        ("TAL008", Severity::Warning, "registries")
    );
}

#[test]
fn yaml_1_1_spellings_match_what_talos_reads() {
    // `auto: off` is the string "off" to Talos; `wipe: yes` is a bool to a Go bool field.
    assert_silent(
        "apiVersion: v1alpha1\nkind: HostnameConfig\nhostname: w-1\nauto: off\n",
        12,
    );
    assert_silent("machine:\n  install:\n    wipe: yes\n", 11);
    let (code, _, at, _) = only("apiVersion: v1alpha1\nkind: HostnameConfig\nauto: on\n", 12);
    assert_eq!((code, at.as_str()), ("INT003", "on"));
}

#[test]
fn tal008_deprecated_fields_are_never_unknown_keys() {
    let disks = "machine:\n  disks:\n    - device: /dev/sdb\n      partitions:\n        - mountpoint: /var/mnt/longhorn\n";
    assert_silent(disks, 9);
    let (code, severity, at, message) = only(disks, 10);
    assert_eq!(
        (code, severity, at.as_str()),
        ("TAL008", Severity::Warning, "disks")
    );
    assert!(message.contains("UserVolumeConfig"), "{message}");

    let extensions = "machine:\n  install:\n    extensions:\n      - image: ghcr.io/siderolabs/iscsi-tools:v0.1.6\n";
    assert_silent(extensions, 9);
    let (code, severity, at, _) = only(extensions, 11);
    assert_eq!(
        (code, severity, at.as_str()),
        ("TAL008", Severity::Warning, "extensions")
    );
}

#[test]
fn tal008_is_an_error_where_talos_rejects_the_field() {
    let hostname = "machine:\n  network:\n    hostname: w-1\n";
    assert_silent(hostname, 11);
    let (code, severity, at, message) = only(hostname, 12);
    assert_eq!(
        (code, severity, at.as_str()),
        ("TAL008", Severity::Error, "hostname")
    );
    assert!(
        message.contains("static hostname is already set in v1alpha1 config"),
        "{message}"
    );
    assert!(message.contains("HostnameConfig"), "{message}");

    let args = "machine:\n  install:\n    extraKernelArgs: [net.ifnames=0]\n";
    assert_silent(args, 11);
    let (code, severity, at, message) = only(args, 12);
    assert_eq!(
        (code, severity, at.as_str()),
        ("TAL008", Severity::Error, "extraKernelArgs")
    );
    assert!(message.contains("grubUseUKICmdline"), "{message}");

    let kubelet = "machine:\n  kubelet:\n    extraMounts:\n      - destination: /var/mnt/longhorn\n        type: bind\n        source: /var/mnt/longhorn\n        options: [bind, rshared, rw]\n";
    assert_silent(kubelet, 13);
    let (code, severity, at, message) = only(kubelet, 14);
    assert_eq!(
        (code, severity, at.as_str()),
        ("TAL008", Severity::Error, "kubelet")
    );
    assert!(
        message.contains("kubelet config is already set"),
        "{message}"
    );
}

#[test]
fn tal008_on_1_14_for_the_legacy_kernel_and_install_keys() {
    let findings = check(&legacy_patch(13), 14);
    let summary: Vec<(&str, Severity, &str)> = findings
        .iter()
        .map(|(c, s, at, _)| (*c, *s, at.as_str()))
        .collect();
    assert_eq!(
        summary,
        [
            // v1.14's gen config writes an `UnattendedInstallConfig` and rejects
            // `machine.install` next to it (generate/init.go at v1.14.0-rc.1).
            ("TAL008", Severity::Error, "install"),
            ("TAL008", Severity::Warning, "kernel"),
            ("TAL008", Severity::Warning, "sysctls"),
            ("TAL008", Severity::Error, "kubelet"),
            // The generated `KubeNodeConfig` rejects it (`k8s/node.go`, checked by the v1.14.1
            // oracle); it was a mere "not documented" warning before.
            ("TAL008", Severity::Error, "allowSchedulingOnControlPlanes"),
        ]
    );
}

#[test]
fn tal008_still_checks_types_inside_deprecated_fields() {
    let text = "machine:\n  kubelet:\n    extraMounts:\n      - destination: /var/mnt/longhorn\n        typo: bind\n";
    let findings = check(text, 14);
    let codes: Vec<(&str, &str)> = findings
        .iter()
        .map(|(c, _, at, _)| (*c, at.as_str()))
        .collect();
    assert_eq!(codes, [("TAL008", "kubelet"), ("INT002", "typo")]);
}

#[test]
fn tal008_for_fields_dropped_from_the_schema_without_a_research_entry() {
    let text = "machine:\n  features:\n    rbac: true\n";
    assert_silent(text, 11);
    let (code, severity, at, message) = only(text, 12);
    assert_eq!(
        (code, severity, at.as_str()),
        ("TAL008", Severity::Warning, "rbac")
    );
    assert!(message.contains("last in the v1.11 schema"), "{message}");
}

#[test]
fn classifies_documents_like_the_talos_decoder() {
    let parse = |text: &str| yaml::parse_document(text).expect("parses");
    assert_eq!(
        talos_schema::document_type(&parse("machine:\n  type: worker\n")),
        DocumentType::Legacy
    );
    assert_eq!(
        talos_schema::document_type(&parse("persist: true\n")),
        DocumentType::Legacy
    );
    assert_eq!(
        talos_schema::document_type(&parse("apiVersion: v1alpha1\nkind: UserVolumeConfig\n")),
        DocumentType::Kind("UserVolumeConfig")
    );
    assert_eq!(
        talos_schema::document_type(&parse("version: v1alpha1\n")),
        DocumentType::Unidentified
    );
}

#[test]
fn empty_and_non_mapping_documents() {
    assert!(check("{}\n", 11).is_empty());
    let (code, _, _, message) = only("- a\n- b\n", 11);
    assert_eq!(code, "INT003");
    assert!(message.contains("must be a mapping"), "{message}");
}

// ---------------------------------------------------------------------------------------------
// Derived tables

#[test]
fn derived_schema_tables_match_the_upstream_schemas() {
    let Some(shared) = common::shared_dir() else {
        return;
    };
    for minor in talos_schema::schema_minors() {
        let path = shared.join(format!("upstream/talos/v1.{minor}/config.schema.json"));
        let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let hash: String = Sha256::digest(&bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let (label, source) = talos_schema::table_source(minor).expect("table parses");
        assert_eq!(label, format!("v1.{minor}"));
        assert_eq!(
            source, hash,
            "data/talos/v1.{minor}.json is stale: run tools/derive-talos-schema.py"
        );
    }
}

#[test]
fn deriving_script_reproduces_the_tables() {
    let Some(shared) = common::shared_dir() else {
        return;
    };
    let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let run = std::process::Command::new("python3")
        .arg(repo.join("tools/derive-talos-schema.py"))
        .arg("--shared")
        .arg(&shared)
        .arg("--out")
        .arg(repo.join("data/talos"))
        .arg("--check")
        .output();
    let output = match run {
        Ok(output) => output,
        Err(e) if std::env::var_os("CI").is_none() => {
            eprintln!("note: python3 not runnable ({e}); skipping the re-derivation check");
            return;
        }
        Err(e) => panic!("CI is set but python3 cannot run: {e}"),
    };
    assert!(
        output.status.success(),
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn kinds_follow_what_talos_registers_not_the_schema_enum() {
    // The schema's enum says `UnattendedInstall` / `KubeSpanEndpoints`; Talos registers
    // `UnattendedInstallConfig` / `KubeSpanEndpointsConfig` (the deriving script records why).
    let unattended = "apiVersion: v1alpha1\nkind: UnattendedInstallConfig\nprovisioning:\n  diskSelector:\n    match: disk.dev_path == \"/dev/vda\"\n  wipe: false\n";
    assert_silent(unattended, 14);
    let (code, _, at, message) = only("apiVersion: v1alpha1\nkind: UnattendedInstall\n", 14);
    assert_eq!((code, at.as_str()), ("INT002", "UnattendedInstall"));
    assert!(
        message.ends_with("did you mean `UnattendedInstallConfig`?"),
        "{message}"
    );

    let endpoints = "apiVersion: v1alpha1\nkind: KubeSpanEndpointsConfig\nextraAnnouncedEndpoints: [192.168.1.1:51820]\n";
    for minor in 9..=14 {
        assert_silent(endpoints, minor);
    }
    // Registered without a schema: accepted, contents unchecked.
    let verification = "apiVersion: v1alpha1\nkind: ImageVerificationConfig\nrules: []\n";
    assert_silent(verification, 13);
    assert_eq!(only(verification, 12).0, "INT002");
}

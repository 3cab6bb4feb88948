//! Talos Linux facts as data: versions, per-minor dialects, official extensions, kernel modules.
//!
//! Sources: `shared/research/talos.md` (§4 URLs, §5 extensions, §8 releases) and
//! `shared/research/talos-kernel-modules.md`. Where a fact came from elsewhere, the table says
//! where.

use std::cmp::Ordering;
use std::fmt;

/// A Talos release, `v1.11.6` or `v1.14.0-rc.1`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct TalosVersion {
    pub major: u32,
    pub minor: u32,
    pub patch: u32,
    /// The pre-release part after `-` (`rc.1`), if any.
    pub pre: Option<String>,
}

/// Why a version string is not a Talos version.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VersionError {
    pub input: String,
    pub problem: String,
}

impl fmt::Display for VersionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "`{}` is not a Talos version: {}; write it like `v1.11.6` (major.minor.patch, optional `-rc.1`)",
            self.input, self.problem
        )
    }
}

impl std::error::Error for VersionError {}

impl TalosVersion {
    pub fn new(major: u32, minor: u32, patch: u32) -> Self {
        Self {
            major,
            minor,
            patch,
            pre: None,
        }
    }

    /// Parses `v1.11.6`, `1.11.6` or `v1.14.0-rc.1`. All three numbers are required: a Talos
    /// version in the intent is pinned, never a range.
    pub fn parse(input: &str) -> Result<Self, VersionError> {
        let error = |problem: String| VersionError {
            input: input.to_string(),
            problem,
        };
        let trimmed = input.trim();
        let body = trimmed.strip_prefix('v').unwrap_or(trimmed);
        if body.is_empty() {
            return Err(error("it is empty".into()));
        }
        if body.eq_ignore_ascii_case("latest") {
            return Err(error(
                "`latest` moves with every release; pin a version so the output stays the same"
                    .into(),
            ));
        }
        let (numbers, pre) = match body.split_once('-') {
            Some((numbers, pre)) => (numbers, Some(pre)),
            None => (body, None),
        };
        if let Some(pre) = pre {
            let valid = !pre.is_empty()
                && pre.split('.').all(|part| {
                    !part.is_empty() && part.chars().all(|c| c.is_ascii_alphanumeric())
                });
            if !valid {
                return Err(error(format!(
                    "the pre-release part `{pre}` must be dot-separated letters and digits"
                )));
            }
        }
        let parts: Vec<&str> = numbers.split('.').collect();
        let [major, minor, patch] = parts.as_slice() else {
            return Err(error(format!(
                "expected three numbers (major.minor.patch), found {}",
                parts.len()
            )));
        };
        let number = |name: &str, text: &str| {
            text.parse::<u32>()
                .map_err(|_| error(format!("the {name} part `{text}` is not a number")))
        };
        Ok(Self {
            major: number("major", major)?,
            minor: number("minor", minor)?,
            patch: number("patch", patch)?,
            pre: pre.map(str::to_string),
        })
    }

    pub fn is_prerelease(&self) -> bool {
        self.pre.is_some()
    }

    /// True when this version is at least `major.minor.patch` (a pre-release of that patch is
    /// older than the release itself).
    pub fn at_least(&self, major: u32, minor: u32, patch: u32) -> bool {
        *self >= Self::new(major, minor, patch)
    }
}

impl fmt::Display for TalosVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "v{}.{}.{}", self.major, self.minor, self.patch)?;
        if let Some(pre) = &self.pre {
            write!(f, "-{pre}")?;
        }
        Ok(())
    }
}

impl PartialOrd for TalosVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for TalosVersion {
    /// Semantic-version order: a pre-release sorts before its release, and pre-release
    /// identifiers compare numerically when both are numbers (`rc.2` < `rc.10`).
    fn cmp(&self, other: &Self) -> Ordering {
        (self.major, self.minor, self.patch)
            .cmp(&(other.major, other.minor, other.patch))
            .then_with(|| match (&self.pre, &other.pre) {
                (None, None) => Ordering::Equal,
                (None, Some(_)) => Ordering::Greater,
                (Some(_), None) => Ordering::Less,
                (Some(a), Some(b)) => compare_prerelease(a, b),
            })
    }
}

fn compare_prerelease(a: &str, b: &str) -> Ordering {
    let mut left = a.split('.');
    let mut right = b.split('.');
    loop {
        match (left.next(), right.next()) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(x), Some(y)) => {
                let order = match (x.parse::<u64>(), y.parse::<u64>()) {
                    (Ok(x), Ok(y)) => x.cmp(&y),
                    (Ok(_), Err(_)) => Ordering::Less,
                    (Err(_), Ok(_)) => Ordering::Greater,
                    (Err(_), Err(_)) => x.cmp(y),
                };
                if order != Ordering::Equal {
                    return order;
                }
            }
        }
    }
}

/// Where the Longhorn data disk is declared.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DataDiskForm {
    /// `machine.disks[]` with partitions and mountpoints (v1.9).
    MachineDisks,
    /// A `UserVolumeConfig` document, mounted at `/var/mnt/<name>` (v1.10+).
    UserVolumeConfig,
}

/// Where hostname, links and resolvers are declared.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NetworkForm {
    /// `machine.network.{hostname,interfaces,nameservers}` (≤ v1.11).
    MachineNetwork,
    /// `HostnameConfig` (with `auto: off`), `LinkConfig`, `ResolverConfig` documents (v1.12+).
    NetworkDocuments,
}

/// Where kernel modules and sysctls are declared.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KernelForm {
    /// `machine.kernel.modules` and `machine.sysctls` (≤ v1.13).
    MachineKernel,
    /// `KernelModuleConfig` (one document per module) and `SysctlConfig` documents (v1.14).
    KernelDocuments,
}

/// Where the install disk and installer image are declared.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InstallForm {
    /// `machine.install.{disk,image}` (≤ v1.13).
    MachineInstall,
    /// An `UnattendedInstallConfig` document (`installer.image`,
    /// `provisioning.diskSelector.match`): v1.14's gen config writes one and rejects
    /// `machine.install` next to it (`generate/init.go`, `runtime/unattended_install.go` at
    /// v1.14.0-rc.1).
    UnattendedInstallConfig,
}

/// Where the cluster's CNI and kube-proxy are chosen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClusterNetworkForm {
    /// `cluster.network.cni.name` and `cluster.proxy.disabled` (≤ v1.13).
    ClusterConfig,
    /// `KubeFlannelCNIConfig` present or deleted (`$patch: delete`), `KubeProxyConfig.enabled`
    /// (v1.14: gen config writes both documents; `pkg/machinery/config/generate/kubernetes.go`).
    KubeDocuments,
}

/// The taint Talos puts on control planes unless workloads may run there
/// (`constants.LabelNodeRoleControlPlane`; from v1.14 in `KubeNodeConfig.taints`).
pub const CONTROL_PLANE_TAINT: &str = "node-role.kubernetes.io/control-plane";

/// `constants.KubeProxyImage`: gen config writes `<this>:v<kubernetes>`.
pub const KUBE_PROXY_IMAGE: &str = "registry.k8s.io/kube-proxy";

/// How the Image Factory names the installer image.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InstallerForm {
    /// `factory.talos.dev/installer/<id>:<version>` (before v1.10).
    Generic,
    /// `factory.talos.dev/<platform>-installer/<id>:<version>` (v1.10+, Talos quirk
    /// `SupportsUnifiedInstaller`).
    PerPlatform,
}

/// The image flavour a VM boots: the Proxmox stack uses `nocloud` or `metal`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Platform {
    Nocloud,
    Metal,
}

impl Platform {
    pub const ALL: [Self; 2] = [Self::Nocloud, Self::Metal];

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Nocloud => "nocloud",
            Self::Metal => "metal",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.as_str() == text)
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What talhorn writes, and what the linter expects, for one Talos minor.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dialect {
    pub minor: u32,
    /// Only a pre-release of this minor exists (v1.14 is at `-rc.1`).
    pub preview: bool,
    pub latest_patch: u32,
    pub latest_pre: Option<&'static str>,
    /// `DefaultKubernetesVersion` of the latest patch (`pkg/machinery/constants/constants.go`).
    pub default_kubernetes: &'static str,
    pub data_disk: DataDiskForm,
    pub network: NetworkForm,
    pub kernel: KernelForm,
    /// `machine.install.extraKernelArgs` works; from v1.12 generated configs set
    /// `grubUseUKICmdline: true` and Talos rejects the pair, so kernel args go in the schematic.
    pub install_extra_kernel_args: bool,
    /// Kubernetes settings are fields of the machine-config document (`machine.kubelet`,
    /// `machine.nodeLabels`, `cluster.allowSchedulingOnControlPlanes`, ...). From v1.14 gen config
    /// writes them as documents instead (`KubeletConfig`, `KubeNodeConfig`, ...;
    /// `VersionContract.MultidocKubernetesConfigSupported`), and Talos rejects the old fields
    /// next to them (`V1Alpha1ConflictValidate` in `pkg/machinery/config/types/k8s`).
    pub legacy_kubernetes_fields: bool,
    pub install: InstallForm,
    pub cluster_network: ClusterNetworkForm,
    pub installer: InstallerForm,
}

impl Dialect {
    /// The newest release of this minor that talhorn knows.
    pub fn latest_version(&self) -> TalosVersion {
        TalosVersion {
            major: 1,
            minor: self.minor,
            patch: self.latest_patch,
            pre: self.latest_pre.map(str::to_string),
        }
    }
}

/// One row per supported minor, oldest first. Latest patches and default Kubernetes: research
/// §8 for v1.10–v1.14; for v1.9, tag v1.9.6 (`d6f6e92b`, the `release-1.9` tip named in
/// `shared/upstream/talos/SOURCES.md`) has `DefaultKubernetesVersion = "1.32.4"`.
pub const DIALECTS: &[Dialect] = &[
    Dialect {
        minor: 9,
        preview: false,
        latest_patch: 6,
        latest_pre: None,
        default_kubernetes: "1.32.4",
        data_disk: DataDiskForm::MachineDisks,
        network: NetworkForm::MachineNetwork,
        kernel: KernelForm::MachineKernel,
        install_extra_kernel_args: true,
        legacy_kubernetes_fields: true,
        install: InstallForm::MachineInstall,
        cluster_network: ClusterNetworkForm::ClusterConfig,
        installer: InstallerForm::Generic,
    },
    Dialect {
        minor: 10,
        preview: false,
        latest_patch: 9,
        latest_pre: None,
        default_kubernetes: "1.33.6",
        data_disk: DataDiskForm::UserVolumeConfig,
        network: NetworkForm::MachineNetwork,
        kernel: KernelForm::MachineKernel,
        install_extra_kernel_args: true,
        legacy_kubernetes_fields: true,
        install: InstallForm::MachineInstall,
        cluster_network: ClusterNetworkForm::ClusterConfig,
        installer: InstallerForm::PerPlatform,
    },
    Dialect {
        minor: 11,
        preview: false,
        latest_patch: 6,
        latest_pre: None,
        default_kubernetes: "1.34.1",
        data_disk: DataDiskForm::UserVolumeConfig,
        network: NetworkForm::MachineNetwork,
        kernel: KernelForm::MachineKernel,
        install_extra_kernel_args: true,
        legacy_kubernetes_fields: true,
        install: InstallForm::MachineInstall,
        cluster_network: ClusterNetworkForm::ClusterConfig,
        installer: InstallerForm::PerPlatform,
    },
    Dialect {
        minor: 12,
        preview: false,
        latest_patch: 11,
        latest_pre: None,
        default_kubernetes: "1.35.4",
        data_disk: DataDiskForm::UserVolumeConfig,
        network: NetworkForm::NetworkDocuments,
        kernel: KernelForm::MachineKernel,
        install_extra_kernel_args: false,
        legacy_kubernetes_fields: true,
        install: InstallForm::MachineInstall,
        cluster_network: ClusterNetworkForm::ClusterConfig,
        installer: InstallerForm::PerPlatform,
    },
    Dialect {
        minor: 13,
        preview: false,
        latest_patch: 9,
        latest_pre: None,
        default_kubernetes: "1.36.3",
        data_disk: DataDiskForm::UserVolumeConfig,
        network: NetworkForm::NetworkDocuments,
        kernel: KernelForm::MachineKernel,
        install_extra_kernel_args: false,
        legacy_kubernetes_fields: true,
        install: InstallForm::MachineInstall,
        cluster_network: ClusterNetworkForm::ClusterConfig,
        installer: InstallerForm::PerPlatform,
    },
    Dialect {
        minor: 14,
        preview: true,
        latest_patch: 0,
        latest_pre: Some("rc.1"),
        default_kubernetes: "1.37.0-rc.0",
        data_disk: DataDiskForm::UserVolumeConfig,
        network: NetworkForm::NetworkDocuments,
        kernel: KernelForm::KernelDocuments,
        install_extra_kernel_args: false,
        legacy_kubernetes_fields: false,
        install: InstallForm::UnattendedInstallConfig,
        cluster_network: ClusterNetworkForm::KubeDocuments,
        installer: InstallerForm::PerPlatform,
    },
];

/// The result of looking a version up in [`DIALECTS`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DialectLookup {
    Supported(&'static Dialect),
    /// Older than the oldest supported minor (or not Talos 1.x).
    TooOld,
    /// Newer than every known minor; carries the newest known dialect, the best guess.
    Newer(&'static Dialect),
}

/// The dialect for a Talos version.
pub fn dialect(version: &TalosVersion) -> DialectLookup {
    dialect_for_minor(version.major, version.minor)
}

/// The dialect for `major.minor`, for callers that only know the minor.
pub fn dialect_for_minor(major: u32, minor: u32) -> DialectLookup {
    let (Some(oldest), Some(newest)) = (DIALECTS.first(), DIALECTS.last()) else {
        return DialectLookup::TooOld;
    };
    match major.cmp(&1) {
        Ordering::Less => DialectLookup::TooOld,
        Ordering::Greater => DialectLookup::Newer(newest),
        Ordering::Equal if minor < oldest.minor => DialectLookup::TooOld,
        Ordering::Equal if minor > newest.minor => DialectLookup::Newer(newest),
        Ordering::Equal => DIALECTS
            .iter()
            .find(|d| d.minor == minor)
            .map_or(DialectLookup::TooOld, DialectLookup::Supported),
    }
}

/// The newest non-preview release, what `talhorn init` pins.
pub fn latest_stable() -> Option<TalosVersion> {
    DIALECTS
        .iter()
        .rev()
        .find(|d| !d.preview)
        .map(Dialect::latest_version)
}

/// An official system extension and the Talos minors whose extensions release ships it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Extension {
    /// The name the schematic uses: `siderolabs/<image>`.
    pub name: &'static str,
    pub first_minor: u32,
    pub last_minor: u32,
}

const fn ext(name: &'static str, first_minor: u32, last_minor: u32) -> Extension {
    Extension {
        name,
        first_minor,
        last_minor,
    }
}

/// Every official extension of Talos v1.9–v1.14.
///
/// Research §5 lists only the storage-related ones, so this table was read from
/// `siderolabs/extensions` (`metadata.name` of every `manifest.yaml[.tmpl]`; the image factory
/// matches the OCI repository, which is `siderolabs/<that name>`) at the tips of `release-1.9`
/// `cc93968e`, `release-1.10` `3f723c5a`, `release-1.11` `de3db91b`, `release-1.12` `33ddf1cc`,
/// `release-1.13` `ec9d5f68`, `release-1.14` `57329079`. `last_minor: 14` means "still there
/// in the newest branch".
pub const EXTENSIONS: &[Extension] = &[
    ext("siderolabs/amazon-ena", 10, 14),
    ext("siderolabs/amd-ucode", 9, 14),
    ext("siderolabs/amdgpu", 9, 14),
    ext("siderolabs/binfmt-misc", 9, 14),
    ext("siderolabs/bird2", 12, 14),
    ext("siderolabs/bnx2-bnx2x", 9, 14),
    ext("siderolabs/btrfs", 9, 14),
    ext("siderolabs/chelsio-drivers", 9, 14),
    ext("siderolabs/chelsio-firmware", 9, 14),
    ext("siderolabs/cloudflared", 9, 14),
    ext("siderolabs/crun", 9, 14),
    ext("siderolabs/ctr", 10, 14),
    ext("siderolabs/drbd", 9, 14),
    ext("siderolabs/dvb-cx23885", 9, 14),
    ext("siderolabs/dvb-m88ds3103", 11, 14),
    ext("siderolabs/ecr-credential-provider", 9, 14),
    ext("siderolabs/fuse3", 9, 14),
    ext("siderolabs/gasket-driver", 9, 14),
    ext("siderolabs/glibc", 9, 14),
    ext("siderolabs/gpio-pinctrl", 12, 14),
    ext("siderolabs/gvisor", 9, 14),
    ext("siderolabs/gvisor-debug", 9, 14),
    ext("siderolabs/hailort", 11, 14),
    ext("siderolabs/harbor-credential-provider", 14, 14),
    ext("siderolabs/hello-world-service", 9, 14),
    ext("siderolabs/hyperv-guest-agent", 14, 14),
    ext("siderolabs/i915", 9, 14),
    ext("siderolabs/intel-ice-firmware", 9, 14),
    ext("siderolabs/intel-npu", 13, 14),
    ext("siderolabs/intel-ucode", 9, 14),
    ext("siderolabs/iscsi-tools", 9, 14),
    ext("siderolabs/joydev", 13, 14),
    ext("siderolabs/kata-containers", 9, 14),
    ext("siderolabs/kata-containers-snp", 14, 14),
    ext("siderolabs/lldpd", 9, 14),
    ext("siderolabs/mdadm", 9, 14),
    ext("siderolabs/mei", 9, 14),
    ext("siderolabs/mellanox-mstflint", 12, 14),
    ext("siderolabs/mellanox-ofed", 9, 10),
    ext("siderolabs/metal-agent", 9, 14),
    ext("siderolabs/multipath-tools", 12, 14),
    ext("siderolabs/nebula", 10, 14),
    ext("siderolabs/netbird", 12, 14),
    ext("siderolabs/newt", 11, 14),
    ext("siderolabs/nfs-utils", 12, 14),
    ext("siderolabs/nfsd", 10, 14),
    ext("siderolabs/nfsrahead", 11, 14),
    ext("siderolabs/nonfree-kmod-nvidia-lts", 9, 14),
    ext("siderolabs/nonfree-kmod-nvidia-production", 9, 14),
    ext("siderolabs/nut-client", 9, 14),
    ext("siderolabs/nvidia-container-toolkit-lts", 9, 14),
    ext("siderolabs/nvidia-container-toolkit-production", 9, 14),
    ext("siderolabs/nvidia-fabricmanager-lts", 9, 14),
    ext("siderolabs/nvidia-fabricmanager-production", 9, 14),
    ext("siderolabs/nvidia-gdrdrv-device", 12, 14),
    ext("siderolabs/nvidia-open-gpu-kernel-modules-lts", 9, 14),
    ext(
        "siderolabs/nvidia-open-gpu-kernel-modules-production",
        9,
        14,
    ),
    ext("siderolabs/nvme-cli", 10, 14),
    ext("siderolabs/panfrost", 10, 14),
    ext("siderolabs/px-fuse", 13, 14),
    ext("siderolabs/qemu", 14, 14),
    ext("siderolabs/qemu-guest-agent", 9, 14),
    ext("siderolabs/qlogic-firmware", 9, 14),
    ext("siderolabs/realtek-firmware", 9, 14),
    ext("siderolabs/revpi-firmware", 10, 14),
    ext("siderolabs/rockchip-rknn", 13, 14),
    ext("siderolabs/soci-snapshotter", 12, 14),
    ext("siderolabs/spin", 9, 14),
    ext("siderolabs/stargz-snapshotter", 9, 14),
    ext("siderolabs/tailscale", 9, 14),
    ext("siderolabs/tenstorrent", 11, 14),
    ext("siderolabs/thunderbolt", 9, 14),
    ext("siderolabs/trident-iscsi-tools", 12, 14),
    ext("siderolabs/uhid", 13, 14),
    ext("siderolabs/uinput", 9, 14),
    ext("siderolabs/usb-audio-drivers", 12, 14),
    ext("siderolabs/usb-modem-drivers", 9, 14),
    ext("siderolabs/util-linux-tools", 9, 14),
    ext("siderolabs/v4l-uvc-drivers", 9, 14),
    ext("siderolabs/vc4", 10, 14),
    ext("siderolabs/vmtoolsd-guest-agent", 11, 14),
    ext("siderolabs/wasmedge", 9, 14),
    ext("siderolabs/xdma-driver", 10, 14),
    ext("siderolabs/xe", 12, 14),
    ext("siderolabs/xen-guest-agent", 9, 14),
    ext("siderolabs/youki", 10, 14),
    ext("siderolabs/zerotier", 10, 14),
    ext("siderolabs/zfs", 9, 14),
];

/// The extensions a Longhorn node needs (research §6: longhorn.io's Talos page).
pub const LONGHORN_EXTENSIONS: &[&str] = &["siderolabs/iscsi-tools", "siderolabs/util-linux-tools"];

/// The extension that matches Proxmox's `agent: 1`.
pub const QEMU_GUEST_AGENT: &str = "siderolabs/qemu-guest-agent";

pub fn find_extension(name: &str) -> Option<&'static Extension> {
    EXTENSIONS.iter().find(|e| e.name == name)
}

/// Whether the extensions release of Talos `1.<minor>` ships `name`. Minors newer than the
/// table are answered with the newest known release.
pub fn extension_exists(name: &str, minor: u32) -> bool {
    let newest = DIALECTS.last().map_or(minor, |d| d.minor);
    let minor = minor.min(newest);
    find_extension(name).is_some_and(|e| (e.first_minor..=e.last_minor).contains(&minor))
}

/// Extension names of Talos `1.<minor>`, for "did you mean".
pub fn extension_names(minor: u32) -> Vec<&'static str> {
    EXTENSIONS
        .iter()
        .filter(|e| extension_exists(e.name, minor))
        .map(|e| e.name)
        .collect()
}

/// The closest extension name of Talos `1.<minor>` to a misspelt one, if any is close.
pub fn suggest_extension(name: &str, minor: u32) -> Option<&'static str> {
    // `iscsi-tools` for `siderolabs/iscsi-tools`: compare with and without the namespace.
    let bare = name.rsplit('/').next().unwrap_or(name);
    extension_names(minor)
        .into_iter()
        .map(|candidate| {
            let candidate_bare = candidate.rsplit('/').next().unwrap_or(candidate);
            let score = strsim::jaro_winkler(name, candidate)
                .max(strsim::jaro_winkler(bare, candidate_bare));
            (score, candidate)
        })
        .filter(|(score, _)| *score >= 0.85)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, candidate)| candidate)
}

/// How a Talos kernel provides a module.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ModuleBuild {
    /// `=y`: loading it is a no-op (`kmod` returns nil for `modules.builtin` names).
    BuiltIn,
    /// `=m`: a loadable module shipped with Talos.
    Loadable,
    /// The option is unset: Talos's kernel-module controller fails with "module not found".
    NotBuilt,
}

/// What talhorn knows about loading a module on a given Talos version.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ModuleStatus {
    Known(ModuleBuild),
    /// No Linux module of that name exists (`iscsi_generic`).
    NoSuchModule,
    /// Not in talhorn's table, or the version is outside what the research covered (v1.9).
    Unknown,
}

/// One kernel module that appears in Longhorn-on-Talos configs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KernelModule {
    pub name: &'static str,
    /// `None` when no Kconfig option builds a module of this name.
    pub kconfig: Option<&'static str>,
    /// `(minor, patch, build)`: from Talos `v1.<minor>.<patch>` on, the kernel builds it this
    /// way (ascending; the last row that applies wins). Versions before the first row are
    /// unknown: the research read the kernel configs of v1.10 and later only.
    pub builds: &'static [(u32, u32, ModuleBuild)],
    /// Why a Longhorn config might list it.
    pub note: &'static str,
}

/// The oldest minor whose kernel config the research read (release-1.10 of siderolabs/pkgs).
const FIRST_RESEARCHED_MINOR: u32 = 10;

/// Kernel modules from `shared/research/talos-kernel-modules.md` (siderolabs/pkgs
/// `kernel/build/config-amd64`, release-1.10 … release-1.14) and research §5 for `ublk_drv`
/// (first built for Talos v1.11.1, pkgs `1a256815`).
pub const KERNEL_MODULES: &[KernelModule] = &[
    KernelModule {
        name: "nbd",
        kconfig: Some("CONFIG_BLK_DEV_NBD"),
        builds: &[(FIRST_RESEARCHED_MINOR, 0, ModuleBuild::Loadable)],
        note: "Longhorn V1 has no NBD frontend; not needed",
    },
    KernelModule {
        name: "iscsi_tcp",
        kconfig: Some("CONFIG_ISCSI_TCP"),
        builds: &[(FIRST_RESEARCHED_MINOR, 0, ModuleBuild::BuiltIn)],
        note: "the iSCSI initiator Longhorn V1 uses; built in, so an entry is a no-op",
    },
    KernelModule {
        name: "libiscsi",
        kconfig: Some("CONFIG_ISCSI_TCP"),
        builds: &[(FIRST_RESEARCHED_MINOR, 0, ModuleBuild::BuiltIn)],
        note: "part of the built-in iSCSI initiator",
    },
    KernelModule {
        name: "libiscsi_tcp",
        kconfig: Some("CONFIG_ISCSI_TCP"),
        builds: &[(FIRST_RESEARCHED_MINOR, 0, ModuleBuild::BuiltIn)],
        note: "part of the built-in iSCSI initiator",
    },
    KernelModule {
        name: "scsi_transport_iscsi",
        kconfig: Some("CONFIG_SCSI_ISCSI_ATTRS"),
        builds: &[(FIRST_RESEARCHED_MINOR, 0, ModuleBuild::BuiltIn)],
        note: "used by the iSCSI initiator; built in",
    },
    KernelModule {
        name: "iscsi_boot_sysfs",
        kconfig: Some("CONFIG_ISCSI_BOOT_SYSFS"),
        builds: &[
            (FIRST_RESEARCHED_MINOR, 0, ModuleBuild::NotBuilt),
            (11, 0, ModuleBuild::BuiltIn),
        ],
        note: "iBFT boot-firmware data; Longhorn does not use it",
    },
    KernelModule {
        name: "iscsi_generic",
        kconfig: None,
        builds: &[],
        note: "no such module exists in Linux; Talos's kernel-module controller fails on it",
    },
    KernelModule {
        name: "configfs",
        kconfig: Some("CONFIG_CONFIGFS_FS"),
        builds: &[(FIRST_RESEARCHED_MINOR, 0, ModuleBuild::BuiltIn)],
        note: "built in; Longhorn V1's iSCSI target is userspace tgt and does not use it",
    },
    KernelModule {
        name: "target_core_mod",
        kconfig: Some("CONFIG_TARGET_CORE"),
        builds: &[
            (FIRST_RESEARCHED_MINOR, 0, ModuleBuild::NotBuilt),
            (14, 0, ModuleBuild::Loadable),
        ],
        note: "LIO; Longhorn does not use it",
    },
    KernelModule {
        name: "dm_crypt",
        kconfig: Some("CONFIG_DM_CRYPT"),
        builds: &[(FIRST_RESEARCHED_MINOR, 0, ModuleBuild::BuiltIn)],
        note: "encrypted volumes; built in",
    },
    KernelModule {
        name: "nfs",
        kconfig: Some("CONFIG_NFS_FS"),
        builds: &[(FIRST_RESEARCHED_MINOR, 0, ModuleBuild::BuiltIn)],
        note: "RWX volumes and NFS backup targets; built in",
    },
    KernelModule {
        name: "nvme_tcp",
        kconfig: Some("CONFIG_NVME_TCP"),
        builds: &[(FIRST_RESEARCHED_MINOR, 0, ModuleBuild::BuiltIn)],
        note: "Longhorn V2; built in, but upstream examples still list it",
    },
    KernelModule {
        name: "vfio_pci",
        kconfig: Some("CONFIG_VFIO_PCI"),
        builds: &[(FIRST_RESEARCHED_MINOR, 0, ModuleBuild::Loadable)],
        note: "Longhorn V2",
    },
    KernelModule {
        name: "uio_pci_generic",
        kconfig: Some("CONFIG_UIO_PCI_GENERIC"),
        builds: &[(FIRST_RESEARCHED_MINOR, 0, ModuleBuild::Loadable)],
        note: "Longhorn V2",
    },
    KernelModule {
        name: "ublk_drv",
        kconfig: Some("CONFIG_BLK_DEV_UBLK"),
        builds: &[
            (FIRST_RESEARCHED_MINOR, 0, ModuleBuild::NotBuilt),
            (11, 1, ModuleBuild::Loadable),
        ],
        note: "Longhorn V2 ublk frontend; built from Talos v1.11.1",
    },
];

/// Modules Longhorn's V1 engine needs in `machine.kernel.modules`: none (all it uses is built
/// in, talos-kernel-modules.md "Conclusion").
pub const LONGHORN_V1_MODULES: &[&str] = &[];

/// What Talos sees of a Proxmox disk on one bus: the fields of its `Disk` resource (and so of
/// the `disk` variable in a `UserVolumeConfig` selector). Read from the Talos and go-blockdevice
/// sources, which win over any guide:
/// - `serial` is `/sys/block/<dev>/serial`, else `<dev>/device/serial` (go-blockdevice v2
///   `GetProperties`, from v2.0.9); a virtio-blk disk has the first, a SCSI or ATA disk
///   neither. Talos's `DisksController` then asks udev's `scsi_id`/`ata_id` only when the
///   transport is `scsi` or `ata`, and a disk behind virtio-scsi has transport `virtio`
///   (`proc_name` `virtio_scsi`), so its serial stays empty (siderolabs/talos#11348, #12073).
/// - `symlinks` are udev's `/dev/disk/by-id` links, which carry the serial on every bus.
#[derive(Debug)]
pub struct BusIdentity {
    /// The Proxmox bus (`virtio`, `scsi`, `sata`, `ide`).
    pub bus: &'static str,
    /// `disk.transport` as Talos reports it.
    pub transport: &'static str,
    /// Whether `disk.serial` equals the Proxmox `serial=` value.
    pub serial_seen: bool,
    /// The `/dev/disk/by-id/` link name before the serial (udev `60-persistent-storage.rules`).
    pub by_id_prefix: &'static str,
}

/// One row per Proxmox disk bus (docs/disk-identity.md has the table with its sources).
pub const DISK_IDENTITY: &[BusIdentity] = &[
    BusIdentity {
        bus: "virtio",
        transport: "virtio",
        serial_seen: true,
        by_id_prefix: "virtio-",
    },
    BusIdentity {
        bus: "scsi",
        transport: "virtio",
        serial_seen: false,
        by_id_prefix: "scsi-0QEMU_QEMU_HARDDISK_",
    },
    BusIdentity {
        bus: "sata",
        transport: "sata",
        serial_seen: false,
        by_id_prefix: "ata-QEMU_HARDDISK_",
    },
    // `ata_id` runs for transport `ata`, but it reports `QEMU_HARDDISK_<serial>`, not the serial.
    BusIdentity {
        bus: "ide",
        transport: "ata",
        serial_seen: false,
        by_id_prefix: "ata-QEMU_HARDDISK_",
    },
];

/// What Talos sees of a disk on `bus` (`virtio`, `scsi`, …).
pub fn bus_identity(bus: &str) -> Option<&'static BusIdentity> {
    DISK_IDENTITY.iter().find(|row| row.bus == bus)
}

/// A `UserVolumeConfig` CEL selector that matches the disk Proxmox gives `serial=<serial>` on
/// `bus`: `disk.serial` where Talos sees it, else the serial-bearing `/dev/disk/by-id` link.
pub fn serial_selector(bus: &str, serial: &str) -> Option<String> {
    let row = bus_identity(bus)?;
    Some(if row.serial_seen {
        format!("disk.serial == '{serial}'")
    } else {
        format!(
            "'/dev/disk/by-id/{}{serial}' in disk.symlinks",
            row.by_id_prefix
        )
    })
}

/// Modules Longhorn's V2 engine expects loaded (longhorn.io Talos page, Talos CI patch).
/// `uio_pci_generic` is an alternative to `vfio_pci`; `ublk_drv` only serves the ublk frontend.
pub const LONGHORN_V2_MODULES: &[&str] = &["nvme_tcp", "vfio_pci", "uio_pci_generic"];

pub fn find_kernel_module(name: &str) -> Option<&'static KernelModule> {
    // Linux treats `-` and `_` in module names alike.
    let normalized = name.replace('-', "_");
    KERNEL_MODULES.iter().find(|m| m.name == normalized)
}

/// How Talos `version` provides module `name`.
pub fn kernel_module_status(name: &str, version: &TalosVersion) -> ModuleStatus {
    let Some(module) = find_kernel_module(name) else {
        return ModuleStatus::Unknown;
    };
    if module.kconfig.is_none() {
        return ModuleStatus::NoSuchModule;
    }
    module
        .builds
        .iter()
        .rev()
        .find(|(minor, patch, _)| version.at_least(1, *minor, *patch))
        .map_or(ModuleStatus::Unknown, |(_, _, build)| {
            ModuleStatus::Known(*build)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prerelease_identifiers_compare_numerically() {
        let rc2 = TalosVersion::parse("v1.14.0-rc.2").unwrap();
        let rc10 = TalosVersion::parse("v1.14.0-rc.10").unwrap();
        assert!(rc2 < rc10);
    }

    #[test]
    fn dialect_rows_are_ascending_and_contiguous() {
        for pair in DIALECTS.windows(2) {
            assert_eq!(pair[0].minor + 1, pair[1].minor);
        }
    }

    #[test]
    fn extension_table_is_sorted_and_ranges_are_valid() {
        for pair in EXTENSIONS.windows(2) {
            assert!(
                pair[0].name < pair[1].name,
                "{} before {}",
                pair[0].name,
                pair[1].name
            );
        }
        assert!(EXTENSIONS.iter().all(|e| e.first_minor <= e.last_minor));
    }
}

use crate::finding::{Finding, Severity};
use crate::model::Cluster;
use crate::model::talos::SchematicFacts;
use crate::rules::{Layer, Rule, RuleMeta};
use crate::source::Fact;

pub static META: RuleMeta = RuleMeta {
    code: "TAL006",
    name: "installer-image-drift",
    layer: Layer::Talos,
    severity: Severity::Error,
    summary: "`machine.install.image` is not the factory installer of the schematic that carries the required extensions.",
    docs: r#"## What
`machine.install.image` compared with the repository's Image Factory schematic:

- a non-factory installer (`ghcr.io/siderolabs/installer:…`) while the schematic declares
  extensions or Longhorn is in the cluster;
- a factory installer (`factory.talos.dev/<platform>-installer/<id>:<version>`) whose ID is not
  the ID of the schematic (nor of another schematic file of the cluster: a repository may build
  one image for its VMs and another for bare metal). The ID is computed from the schematic **as written**: the factory API
  does not sort extensions (only the web UI does), so the message says when sorting would have
  matched;
- `ghcr.io/siderolabs/installer` on Talos ≥ 1.14, which is no longer published.

Silent without `install.image`. A schematic that lacks `iscsi-tools` is TAL001.

## Why
`talosctl upgrade` (and every reinstall) boots the image in `install.image`. An installer built
from another schematic silently drops the extensions the node was installed with: after the next
upgrade `iscsid` is gone and every Longhorn volume fails to attach.

## Example
```yaml
machine:
  install:
    image: ghcr.io/siderolabs/installer:v1.11.6
```

## Fix
`image: factory.talos.dev/nocloud-installer/<schematic ID>:v1.11.6`, with the ID of the
schematic file as the factory computes it (`talhorn schematic` prints it).

## Source
siderolabs/image-factory `pkg/schematic/schematic.go` (ID = sha256 of the canonical YAML),
`internal/frontend/http/configuration.go` (no sorting); home-operations/tuppr#478, #549;
talhorn research `talos.md` §4, `peers.md` §3.
"#,
};

pub struct InstallerImageDrift;

const FACTORY_HOST: &str = "factory.talos.dev/";
/// The first Talos minor without `ghcr.io/siderolabs/installer` images.
const MINOR_WITHOUT_GHCR_INSTALLER: u32 = 14;

/// A factory installer reference split into its schematic ID and tag.
#[derive(Debug, PartialEq, Eq)]
struct FactoryInstaller<'a> {
    schematic_id: &'a str,
    tag: Option<&'a str>,
}

/// `factory.talos.dev/<kind>-installer[-secureboot]/<id>:<tag>` → its parts; `None` for any
/// other image.
fn parse_factory_installer(image: &str) -> Option<FactoryInstaller<'_>> {
    let rest = image
        .trim()
        .strip_prefix("https://")
        .unwrap_or(image.trim());
    let rest = rest.strip_prefix(FACTORY_HOST)?;
    let (kind, reference) = rest.split_once('/')?;
    if !kind.contains("installer") {
        return None;
    }
    let reference = reference.split('@').next().unwrap_or(reference);
    let (schematic_id, tag) = match reference.split_once(':') {
        Some((id, tag)) => (id, Some(tag)),
        None => (reference, None),
    };
    Some(FactoryInstaller { schematic_id, tag })
}

/// The Talos minor an image tag names (`v1.14.0` → 14).
fn tag_minor(image: &str) -> Option<u32> {
    let tag = image.rsplit_once(':')?.1;
    crate::model::minor_of(tag)
}

/// What booting an installer without extensions loses: the schematic's extensions by name, and
/// Longhorn's volumes when the cluster runs Longhorn and the extensions it needs are among them
/// (or when no schematic declares any: Longhorn then never had them).
fn what_an_upgrade_loses(schematic: Option<&SchematicFacts>, longhorn: bool) -> String {
    const NAMED: usize = 4;
    let extensions: Vec<&str> = schematic
        .map(|s| s.extensions.iter().map(|e| e.value.as_str()).collect())
        .unwrap_or_default();
    if extensions.is_empty() {
        return "Longhorn gets no iscsi-tools and stops attaching volumes".into();
    }
    let mut named: Vec<String> = extensions
        .iter()
        .take(NAMED)
        .map(|name| format!("`{name}`"))
        .collect();
    if extensions.len() > NAMED {
        named.push(format!("{} more", extensions.len() - NAMED));
    }
    let dropped = format!("an upgrade drops the schematic's {}", named.join(", "));
    if longhorn && extensions.contains(&"siderolabs/iscsi-tools") {
        format!("{dropped}, and without iscsi-tools Longhorn stops attaching volumes")
    } else {
        dropped
    }
}

fn check_image(
    cluster: &Cluster,
    image: &Fact<String>,
    schematic: Option<&SchematicFacts>,
) -> Option<Finding> {
    let with_schematic = |finding: Finding| match schematic {
        Some(s) => finding.related(s.at, "the schematic"),
        None => finding,
    };
    let Some(factory) = parse_factory_installer(&image.value) else {
        let minor = tag_minor(&image.value).or_else(|| cluster.talos_minor());
        if image.value.contains("ghcr.io/siderolabs/installer")
            && minor >= Some(MINOR_WITHOUT_GHCR_INSTALLER)
        {
            return Some(
                META.finding(
                    image.at,
                    format!("`{}`: Talos stopped publishing ghcr.io/siderolabs/installer with v1.14", image.value),
                )
                .help("use the Image Factory installer: factory.talos.dev/<platform>-installer/<schematic ID>:<version>"),
            );
        }
        let declares_extensions = schematic.is_some_and(|s| !s.extensions.is_empty());
        if !declares_extensions && cluster.longhorn.is_none() {
            return None;
        }
        return Some(with_schematic(
            META.finding(
                image.at,
                format!(
                    "install image `{}` is not an Image Factory installer: it has no system extensions, so {}",
                    image.value,
                    what_an_upgrade_loses(schematic, cluster.longhorn.is_some())
                ),
            )
            .help("use factory.talos.dev/<platform>-installer/<schematic ID>:<version> (`talhorn schematic` prints it)"),
        ));
    };
    let schematic = schematic?;
    let written = schematic.id_as_written.as_deref()?;
    let others = &cluster.talos.other_schematic_ids;
    if factory.schematic_id == written || others.iter().any(|id| id == factory.schematic_id) {
        return None;
    }
    let sorted_note = if schematic.id_sorted.as_deref() == Some(factory.schematic_id) {
        " It is the ID of the schematic with its extensions sorted (what the factory web UI produces), but the factory API keeps the order as written: sort the extensions in the file, or use the ID as written."
    } else {
        ""
    };
    Some(with_schematic(
        META.finding(
            image.at,
            format!(
                "install image schematic ID `{}` is not the ID of the repository's schematic as written (`{written}`): an upgrade installs other extensions than the schematic declares.{sorted_note}",
                factory.schematic_id
            ),
        )
        .help(format!(
            "use factory.talos.dev/<platform>-installer/{written}:{}",
            factory.tag.unwrap_or("<version>")
        )),
    ))
}

impl Rule for InstallerImageDrift {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cluster: &Cluster, out: &mut Vec<Finding>) {
        let schematic = cluster.talos.schematic.as_ref();
        for image in cluster
            .talos
            .configs
            .iter()
            .filter_map(|c| c.install_image.as_ref())
        {
            out.extend(check_image(cluster, image, schematic));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Scope, TalosConfig};
    use crate::rules::talos::testing::{at, cluster, config, fact, longhorn, run};

    const WRITTEN: &str = "aaaa";
    const SORTED: &str = "bbbb";

    fn schematic() -> SchematicFacts {
        SchematicFacts {
            file: None,
            at: at(1),
            extensions: vec![
                fact("siderolabs/util-linux-tools".into(), 2),
                fact("siderolabs/iscsi-tools".into(), 3),
            ],
            kernel_args: Vec::new(),
            id_as_written: Some(WRITTEN.into()),
            id_sorted: Some(SORTED.into()),
        }
    }

    fn with_image(image: &str) -> TalosConfig {
        let mut c = config(Scope::All, 5);
        c.install_image = Some(fact(image.into(), 40));
        c
    }

    #[test]
    fn parses_factory_installers_of_every_form() {
        let parsed = parse_factory_installer("factory.talos.dev/nocloud-installer/abc:v1.11.6");
        assert_eq!(
            parsed,
            Some(FactoryInstaller {
                schematic_id: "abc",
                tag: Some("v1.11.6")
            })
        );
        assert_eq!(
            parse_factory_installer("factory.talos.dev/installer-secureboot/abc:v1.9.0")
                .map(|f| f.schematic_id),
            Some("abc")
        );
        assert_eq!(
            parse_factory_installer("ghcr.io/siderolabs/installer:v1.11.6"),
            None
        );
        assert_eq!(
            parse_factory_installer("factory.talos.dev/image/abc/v1.11.6/metal-amd64.iso"),
            None
        );
    }

    #[test]
    fn an_id_that_only_matches_when_sorted_says_so() {
        let mut c = cluster();
        c.talos.schematic = Some(schematic());
        c.talos.configs.push(with_image(&format!(
            "factory.talos.dev/metal-installer/{SORTED}:v1.11.6"
        )));
        let found = run(&InstallerImageDrift, &c);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].at, at(40));
        assert!(found[0].message.contains("sorted"), "{}", found[0].message);
        assert!(
            found[0]
                .help
                .as_deref()
                .is_some_and(|h| h.contains(WRITTEN))
        );
    }

    #[test]
    fn the_written_id_and_an_absent_image_are_silent() {
        let mut c = cluster();
        c.talos.schematic = Some(schematic());
        c.talos.configs.push(config(Scope::All, 5));
        assert!(run(&InstallerImageDrift, &c).is_empty());
        c.talos.configs.push(with_image(&format!(
            "factory.talos.dev/metal-installer/{WRITTEN}:v1.11.6"
        )));
        assert!(run(&InstallerImageDrift, &c).is_empty());
    }

    #[test]
    fn ghcr_installer_fires_with_longhorn_or_on_1_14() {
        let mut c = cluster();
        c.talos
            .configs
            .push(with_image("ghcr.io/siderolabs/installer:v1.11.6"));
        assert!(
            run(&InstallerImageDrift, &c).is_empty(),
            "nothing needs extensions"
        );
        c.longhorn = Some(longhorn());
        assert_eq!(run(&InstallerImageDrift, &c).len(), 1);
        let mut c = cluster();
        c.talos
            .configs
            .push(with_image("ghcr.io/siderolabs/installer:v1.14.0"));
        assert_eq!(run(&InstallerImageDrift, &c).len(), 1);
    }

    /// A repository may build images from several schematics (a VM and a bare-metal node): an
    /// installer built from any of them is one of the repository's (it was compared with the
    /// first schematic only).
    #[test]
    fn an_image_of_another_schematic_of_the_repository_is_silent() {
        let mut c = cluster();
        c.talos.schematic = Some(schematic());
        c.talos.other_schematic_ids = vec!["cccc".into()];
        c.talos
            .configs
            .push(with_image("factory.talos.dev/metal-installer/cccc:v1.11.6"));
        assert!(run(&InstallerImageDrift, &c).is_empty());
        c.talos
            .configs
            .push(with_image("factory.talos.dev/metal-installer/dddd:v1.11.6"));
        assert_eq!(run(&InstallerImageDrift, &c).len(), 1);
    }

    /// The message says what the upgrade loses: the schematic's own extensions, and Longhorn's
    /// volumes only when the cluster runs Longhorn (a GPU-only schematic was said to drop
    /// iscsi-tools on a repository without Longhorn).
    #[test]
    fn says_which_extensions_an_upgrade_drops() {
        let ghcr = "ghcr.io/siderolabs/installer:v1.12.1";
        let mut c = cluster();
        let mut gpu = schematic();
        gpu.extensions = vec![
            fact("siderolabs/i915".into(), 2),
            fact("siderolabs/intel-ucode".into(), 3),
        ];
        c.talos.schematic = Some(gpu);
        c.talos.configs.push(with_image(ghcr));
        let message = run(&InstallerImageDrift, &c).remove(0).message;
        assert!(
            message.ends_with(
                "an upgrade drops the schematic's `siderolabs/i915`, `siderolabs/intel-ucode`"
            ),
            "{message}"
        );
        let mut c = cluster();
        c.talos.schematic = Some(schematic());
        c.talos.configs.push(with_image(ghcr));
        c.longhorn = Some(longhorn());
        let message = run(&InstallerImageDrift, &c).remove(0).message;
        assert!(
            message.ends_with(
                "`siderolabs/iscsi-tools`, and without iscsi-tools Longhorn stops attaching volumes"
            ),
            "{message}"
        );
        let mut c = cluster();
        c.talos.configs.push(with_image(ghcr));
        c.longhorn = Some(longhorn());
        let message = run(&InstallerImageDrift, &c).remove(0).message;
        assert!(
            message.ends_with("Longhorn gets no iscsi-tools and stops attaching volumes"),
            "{message}"
        );
    }
}

use crate::finding::Severity;
use crate::model::Cluster;
use crate::rules::{Layer, Rule, RuleMeta};
use crate::source::Location;
use crate::yaml::Node;

pub static META: RuleMeta = RuleMeta {
    code: "TAL018",
    name: "route-destination-unspecified",
    layer: Layer::Talos,
    severity: Severity::Error,
    summary: "A Talos ≥ 1.12 link route with `0.0.0.0/0` or `::/0` as destination (omit it for a default route).",
    docs: r#"## What
A route in a link document of Talos ≥ 1.12 (`LinkConfig`, `BondConfig`, `BridgeConfig`,
`VLANConfig`, `DummyLinkConfig`, `WireguardConfig`, ...) whose `destination` is the unspecified
prefix `0.0.0.0/0` or `::/0`. These documents exist only from Talos 1.12 on, so the rule needs
no version.

## Why
`CommonLinkConfig.Validate` rejects a destination whose address is unspecified: `route 0
destination must be a valid IP prefix`. The machine config is refused, the node keeps no route
to its gateway. The legacy `machine.network.interfaces[].routes[].network: 0.0.0.0/0` of Talos
≤ 1.11 was the way to write a default route, so the habit carries over.

## Example
```yaml
apiVersion: v1alpha1
kind: LinkConfig
name: ens18
routes:
  - destination: 0.0.0.0/0
    gateway: 10.20.0.1
```

## Fix
Omit `destination`: a route with only a `gateway` is the default route.

## Source
siderolabs/talos `pkg/machinery/config/types/network/link.go` (`CommonLinkConfig.Validate`,
v1.12–v1.14). Confirmed by the Talos oracle (`tools/talos-oracle/`, machinery v1.12.7,
v1.13.9): `talosctl validate --mode metal --strict` fails on it.
"#,
};

/// Documents that embed `CommonLinkConfig` (and so its `routes`).
const LINK_KINDS: &[&str] = &[
    "LinkConfig",
    "BondConfig",
    "BridgeConfig",
    "VLANConfig",
    "DummyLinkConfig",
    "WireguardConfig",
    "VethConfig",
];

pub struct RouteDestinationUnspecified;

fn is_unspecified(prefix: &str) -> bool {
    let address = prefix.split('/').next().unwrap_or_default().trim();
    address
        .parse::<std::net::IpAddr>()
        .is_ok_and(|ip| ip.is_unspecified())
}

/// The unspecified `routes[].destination` values of one link document.
fn unspecified_destinations(doc: &Node) -> Vec<(&Node, String)> {
    let is_link = doc
        .get("kind")
        .and_then(Node::as_str)
        .is_some_and(|kind| LINK_KINDS.contains(&kind));
    if !is_link {
        return Vec::new();
    }
    let routes = doc.get("routes").and_then(Node::as_seq).unwrap_or_default();
    routes
        .iter()
        .filter_map(|route| {
            let destination = route.get("destination")?;
            let text = destination.scalar_text()?;
            is_unspecified(&text).then_some((destination, text))
        })
        .collect()
}

impl Rule for RouteDestinationUnspecified {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cluster: &Cluster, out: &mut Vec<crate::finding::Finding>) {
        for config in &cluster.talos.configs {
            let Some(file) = config.file else { continue };
            for doc in &config.documents {
                for (node, text) in unspecified_destinations(doc) {
                    out.push(
                        META.finding(
                            Location::new(file, node.span),
                            format!("route destination `{text}` is unspecified: Talos ≥ 1.12 rejects it (`destination must be a valid IP prefix`)"),
                        )
                        .help("omit `destination`: a route with only a `gateway` is the default route"),
                    );
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_unspecified_prefixes_count() {
        assert!(is_unspecified("0.0.0.0/0"));
        assert!(is_unspecified("::/0"));
        assert!(!is_unspecified("10.0.0.0/8"));
        assert!(!is_unspecified("not an address"));
    }
}

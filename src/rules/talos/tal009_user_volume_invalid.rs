use crate::finding::{Finding, Severity};
use crate::model::{Cluster, UserVolume};
use crate::rules::structure::load_findings_of;
use crate::rules::{Layer, Rule, RuleMeta};

pub static META: RuleMeta = RuleMeta {
    code: "TAL009",
    name: "user-volume-invalid",
    layer: Layer::Talos,
    severity: Severity::Error,
    summary: "A `UserVolumeConfig` that Talos rejects: name, selector, sizes, volume type or CEL.",
    docs: r#"## What
A `UserVolumeConfig` that breaks Talos's validation rules:

- `name` must be 1–34 characters of `A–Z a–z 0–9 -`;
- a partition or disk volume needs `provisioning.diskSelector.match`;
- a partition volume (the default type) needs `minSize` or `maxSize`, and `minSize` ≤ `maxSize`;
- `volumeType: disk` forbids `minSize`/`maxSize`; `volumeType: directory` forbids provisioning;
- CEL constants such as `GiB` are unsigned: `disk.size > 10 * GiB` or `disk.size > 50GB`
  does not compile; write `disk.size > 10u * GiB`.

## Why
`talosctl apply-config` refuses the whole config (`min size or max size is required`, `found no
matching overload for '_>_' applied to '(uint, int)'`), so the node never gets its Longhorn
volume. The docs.siderolabs.com Longhorn example itself lacks `maxSize`.

## Example
```yaml
apiVersion: v1alpha1
kind: UserVolumeConfig
name: longhorn
provisioning:
  diskSelector:
    match: disk.size > 100 * GiB
  grow: false
```

## Fix
```yaml
provisioning:
  diskSelector:
    match: disk.size > 100u * GiB && !system_disk
  minSize: 100GiB
  grow: true
```

## Source
siderolabs/talos `pkg/machinery/config/types/block/user_volume_config.go`,
`volume_config.go` (v1.11–v1.14), `user_volume_config_test.go` (CEL overload error); talhorn
research `talos.md` §2.3.
"#,
};

pub struct UserVolumeInvalid;

const MAX_NAME_LEN: usize = 34;

/// Where in the `UserVolumeConfig` a problem is fixed.
const NAME: &[&str] = &["name"];
const PROVISIONING: &[&str] = &["provisioning"];
const MIN_SIZE: &[&str] = &["provisioning", "minSize"];
const SELECTOR: &[&str] = &["provisioning", "diskSelector", "match"];

/// Every rule the volume breaks: where it is fixed, and a message.
fn problems(volume: &UserVolume) -> Vec<(&'static [&'static str], String)> {
    let mut problems = Vec::new();
    let name = &volume.name;
    if name.is_empty() || name.chars().count() > MAX_NAME_LEN {
        problems.push((
            NAME,
            format!("name `{name}` must be 1–{MAX_NAME_LEN} characters long"),
        ));
    }
    if let Some(bad) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '-'))
    {
        problems.push((
            NAME,
            format!(
                "name `{name}` contains `{bad}`; only ASCII letters, digits and `-` are allowed"
            ),
        ));
    }
    let sized = volume.min_size.is_some() || volume.max_size.is_some();
    match volume.volume_type.as_str() {
        "directory" => {
            if volume.disk_selector.is_some() || sized {
                problems.push((
                    PROVISIONING,
                    "a `directory` volume cannot have `provisioning` (it lives on the system disk)"
                        .into(),
                ));
            }
        }
        "disk" => {
            if sized {
                problems.push((
                    PROVISIONING,
                    "a `disk` volume cannot have `minSize`/`maxSize` (it takes the whole disk)"
                        .into(),
                ));
            }
        }
        _ => {
            if !sized {
                problems.push((
                    PROVISIONING,
                    "a partition volume needs `provisioning.minSize` or `provisioning.maxSize`"
                        .into(),
                ));
            }
            if let (Some(min), Some(max)) = (volume.min_size.as_deref(), volume.max_size.as_deref())
                && let (Some(min_bytes), Some(max_bytes)) = (size_bytes(min), size_bytes(max))
                && min_bytes > max_bytes
            {
                problems.push((
                    MIN_SIZE,
                    format!("minSize `{min}` is greater than maxSize `{max}`"),
                ));
            }
        }
    }
    if volume.volume_type != "directory" {
        match volume.disk_selector.as_deref() {
            None => problems.push((
                PROVISIONING,
                "`provisioning.diskSelector.match` is required".into(),
            )),
            Some(cel) => problems.extend(signed_size_comparison(cel).map(|literal| {
                let message = format!(
                    "`{literal}` compared with `disk.size` (unsigned) does not compile in CEL; write unsigned sizes such as `{}u * GiB`",
                    literal.trim_end_matches(|c: char| c.is_ascii_alphabetic())
                );
                (SELECTOR, message)
            })),
        }
    }
    problems
}

/// The first literal compared with `disk.size` that is not an unsigned integer (`10` in
/// `disk.size > 10 * GiB`, `50GB` in `disk.size > 50GB`).
fn signed_size_comparison(cel: &str) -> Option<&str> {
    cel.match_indices("disk.size").find_map(|(i, field)| {
        let rest = cel.get(i + field.len()..)?.trim_start();
        let rest = ["==", "!=", ">=", "<=", ">", "<"]
            .iter()
            .find_map(|op| rest.strip_prefix(op))?
            .trim_start();
        let literal_len = rest
            .find(|c: char| !c.is_ascii_alphanumeric())
            .unwrap_or(rest.len());
        let literal = rest.get(..literal_len)?;
        let digits = literal.chars().take_while(char::is_ascii_digit).count();
        let unsigned = literal.get(digits..).is_some_and(|suffix| suffix == "u");
        (digits > 0 && !unsigned).then_some(literal)
    })
}

/// Bytes of a Talos size (`100GiB`, `1700GB`, `512MB`, `1024`).
fn size_bytes(text: &str) -> Option<f64> {
    let text = text.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let number: f64 = text.get(..split)?.parse().ok()?;
    let unit = text.get(split..)?.trim();
    let factor: f64 = match unit {
        "" | "B" => 1.0,
        "kB" | "KB" => 1e3,
        "MB" => 1e6,
        "GB" => 1e9,
        "TB" => 1e12,
        "PB" => 1e15,
        "KiB" => 1024.0,
        "MiB" => 1024f64.powi(2),
        "GiB" => 1024f64.powi(3),
        "TiB" => 1024f64.powi(4),
        "PiB" => 1024f64.powi(5),
        _ => return None,
    };
    Some(number * factor)
}

impl Rule for UserVolumeInvalid {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cluster: &Cluster, out: &mut Vec<Finding>) {
        load_findings_of(cluster, META.code, out);
        for volume in cluster.talos.configs.iter().flat_map(|c| &c.user_volumes) {
            for (path, problem) in problems(&volume.value) {
                out.push(META.finding(
                    super::place_in(cluster, volume.at, path),
                    format!("UserVolumeConfig `{}`: {problem}", volume.value.name),
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn messages(volume: &UserVolume) -> Vec<String> {
        problems(volume).into_iter().map(|(_, m)| m).collect()
    }

    fn volume(
        name: &str,
        selector: Option<&str>,
        min: Option<&str>,
        max: Option<&str>,
    ) -> UserVolume {
        UserVolume {
            name: name.into(),
            volume_type: "partition".into(),
            disk_selector: selector.map(String::from),
            min_size: min.map(String::from),
            max_size: max.map(String::from),
        }
    }

    #[test]
    fn a_valid_partition_volume_has_no_messages() {
        let v = volume(
            "longhorn",
            Some("disk.size > 100u * GiB && !system_disk"),
            Some("100GiB"),
            None,
        );
        assert_eq!(messages(&v), Vec::<String>::new());
    }

    #[test]
    fn the_upstream_docs_example_lacks_a_size() {
        let v = volume(
            "longhorn",
            Some("disk.transport == 'nvme' && !system_disk"),
            None,
            None,
        );
        let found = messages(&v);
        assert_eq!(found.len(), 1);
        assert!(found[0].contains("minSize"));
    }

    #[test]
    fn names_selectors_and_size_order() {
        assert_eq!(
            messages(&volume(
                "long_horn",
                Some("!system_disk"),
                Some("1GB"),
                None
            ))
            .len(),
            1
        );
        assert_eq!(
            messages(&volume(
                &"a".repeat(35),
                Some("!system_disk"),
                Some("1GB"),
                None
            ))
            .len(),
            1
        );
        assert_eq!(messages(&volume("l", None, Some("1GB"), None)).len(), 1);
        assert_eq!(
            messages(&volume(
                "l",
                Some("!system_disk"),
                Some("2TB"),
                Some("1700GB")
            ))
            .len(),
            1
        );
        assert!(
            messages(&volume(
                "l",
                Some("!system_disk"),
                Some("1GiB"),
                Some("1GB")
            ))
            .len()
                == 1
        );
    }

    #[test]
    fn signed_literals_against_disk_size_are_found() {
        assert_eq!(signed_size_comparison("disk.size > 10 * GiB"), Some("10"));
        assert_eq!(signed_size_comparison("disk.size > 50GB"), Some("50GB"));
        assert_eq!(signed_size_comparison("disk.size >= 10u * GiB"), None);
        assert_eq!(signed_size_comparison("!system_disk"), None);
    }

    #[test]
    fn directory_and_disk_volumes_forbid_sizes() {
        let mut v = volume("l", Some("!system_disk"), Some("1GB"), None);
        v.volume_type = "disk".into();
        assert_eq!(messages(&v).len(), 1);
        let mut d = volume("l", None, None, None);
        d.volume_type = "directory".into();
        assert!(messages(&d).is_empty());
    }
}

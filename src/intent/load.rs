//! Loading an intent: YAML → schema validation → typed [`Intent`] → semantic checks.

use super::{Intent, NodeSpec, SCHEMA};
use crate::finding::{Finding, Severity};
use crate::source::{FileId, Location, Span};
use crate::yaml::{self, Node};
use jsonschema::error::ValidationErrorKind;
use serde_json::Value as Json;
use std::collections::HashMap;
use std::net::Ipv4Addr;
use std::sync::OnceLock;

/// An intent that parsed and validated, with its YAML tree for locating values.
#[derive(Debug, Clone)]
pub struct LoadedIntent {
    pub intent: Intent,
    pub root: Node,
    pub file: FileId,
}

impl LoadedIntent {
    /// Where the value at a JSON pointer (`/nodes/0/cpu`) was written; the deepest existing
    /// ancestor when the value is absent (a default), so a finding points where the fix belongs.
    pub fn loc(&self, pointer: &str) -> Location {
        Location::new(self.file, self.root.at_pointer(pointer).span)
    }

    /// The key of the entry at a pointer (for "this key is wrong" findings).
    pub fn key_loc(&self, pointer: &str) -> Location {
        let span = self
            .root
            .key_at_pointer(pointer)
            .map_or_else(|| self.root.at_pointer(pointer).span, |k| k.span);
        Location::new(self.file, span)
    }

    /// Whether the value at a pointer is written in the file (not a default).
    pub fn has(&self, pointer: &str) -> bool {
        self.root.key_at_pointer(pointer).is_some()
    }
}

/// Parses and validates an intent. Errors are INT001 (YAML), INT002 (unknown key) and INT003
/// (invalid value) findings, all located; the caller exits 2 on any error.
pub fn load(file: FileId, text: &str) -> Result<LoadedIntent, Vec<Finding>> {
    let (loaded, errors) = load_all(file, text)?;
    if errors.is_empty() {
        Ok(loaded)
    } else {
        Err(errors)
    }
}

/// Like [`load`], but an intent that can still be lowered comes back with its semantic errors
/// (a duplicate address, a size Proxmox cannot carry, an undeclared storage), so the rules can
/// report every other problem in the same run. `Err` only when the intent cannot be typed: a
/// YAML error, or schema errors (every one of them, duplicate keys included).
pub fn load_all(file: FileId, text: &str) -> Result<(LoadedIntent, Vec<Finding>), Vec<Finding>> {
    let root = yaml::parse_document(text).map_err(|e| {
        vec![Finding::new(
            "INT001",
            Severity::Error,
            Location::new(file, e.span),
            format!("the intent is not valid YAML: {}", e.message),
        )]
    })?;
    let json = root.to_json();
    let mut errors = duplicate_keys(file, &root);
    errors.extend(validate_schema(file, &root, &json));
    if !errors.is_empty() {
        errors.sort_by_key(|f| f.at);
        return Err(errors);
    }
    let intent: Intent =
        serde_json::from_value(json).map_err(|e| vec![type_error(file, text, &root, &e)])?;
    let loaded = LoadedIntent { intent, root, file };
    let mut errors = semantic_errors(&loaded);
    errors.sort_by_key(|f| f.at);
    Ok((loaded, errors))
}

/// A value the schema let through but the intent's types refuse: a number where a whole number
/// is needed (`vmid: 201.0`: JSON Schema counts 201.0 as an integer) or one out of range.
/// serde names the value but not where it is, so the value is found in the tree.
fn type_error(file: FileId, text: &str, root: &Node, error: &serde_json::Error) -> Finding {
    let message = error.to_string();
    let culprit = number_in_message(&message).and_then(|n| find_number(root, n, String::new()));
    let Some((node, pointer)) = culprit else {
        let message = format!("the intent does not match its schema: {message}");
        return Finding::new(
            "INT003",
            Severity::Error,
            Location::new(file, root.span),
            message,
        );
    };
    let written = text.get(node.span.start..node.span.end).unwrap_or_default();
    let what = describe_pointer(&pointer);
    let message = match node.value {
        yaml::Value::Float(_) => format!(
            "{what} is `{written}`, a decimal number; it takes a whole number: write it without \
             a decimal point or exponent"
        ),
        _ => format!("{what} is `{written}`, out of range for this field"),
    };
    Finding::new(
        "INT003",
        Severity::Error,
        Location::new(file, node.span),
        message,
    )
}

/// A number as serde's message names it: "invalid type: floating point `201.0`, expected u32"
/// or "invalid value: integer `-1`, expected u32".
#[derive(Clone, Copy)]
enum Named {
    Float(f64),
    Int(i64),
}

fn number_in_message(message: &str) -> Option<Named> {
    let (before, rest) = message.split_once('`')?;
    let (literal, _) = rest.split_once('`')?;
    if before.ends_with("floating point ") {
        literal.parse().ok().map(Named::Float)
    } else if before.ends_with("integer ") {
        literal.parse().ok().map(Named::Int)
    } else {
        None
    }
}

/// The first scalar holding `number` (depth first, in file order) and its JSON pointer.
fn find_number(node: &Node, number: Named, pointer: String) -> Option<(&Node, String)> {
    #[allow(clippy::float_cmp)]
    let matches = match (&node.value, number) {
        (yaml::Value::Float(f), Named::Float(n)) => *f == n,
        (yaml::Value::Int(i), Named::Int(n)) => *i == n,
        _ => false,
    };
    if matches {
        return Some((node, pointer));
    }
    match &node.value {
        yaml::Value::Map(entries) => entries.iter().find_map(|(k, v)| {
            let key = k.scalar_text()?.replace('~', "~0").replace('/', "~1");
            find_number(v, number, format!("{pointer}/{key}"))
        }),
        yaml::Value::Seq(items) => (items.iter().enumerate())
            .find_map(|(i, item)| find_number(item, number, format!("{pointer}/{i}"))),
        _ => None,
    }
}

/// The intent schema's JSON (`Null` if it does not parse: a bug the tests would show).
fn schema_json() -> &'static Json {
    static SCHEMA_JSON: OnceLock<Json> = OnceLock::new();
    SCHEMA_JSON.get_or_init(|| serde_json::from_str(SCHEMA).unwrap_or(Json::Null))
}

/// The intent schema compiled, once a run needs its errors (about 3.5 ms).
fn validator() -> Option<&'static jsonschema::Validator> {
    static VALIDATOR: OnceLock<Option<jsonschema::Validator>> = OnceLock::new();
    VALIDATOR
        .get_or_init(|| jsonschema::validator_for(schema_json()).ok())
        .as_ref()
}

fn validate_schema(file: FileId, root: &Node, json: &Json) -> Vec<Finding> {
    let schema_json = schema_json();
    // A valid intent needs no compiled schema (see `admits`); anything else gets
    // jsonschema's errors, which the findings are made of.
    if super::admits::admits(schema_json, json) == Some(true) {
        return Vec::new();
    }
    let Some(validator) = validator() else {
        return vec![Finding::new(
            "INT003",
            Severity::Error,
            Location::file_start(file),
            "talhorn's built-in intent schema failed to load (this is a bug in talhorn)",
        )];
    };
    let mut findings: Vec<Finding> = validator
        .iter_errors(json)
        .flat_map(|error| schema_finding(file, root, schema_json, &error))
        .collect();
    findings.sort_by_key(|f| f.at);
    findings.dedup_by(|a, b| a.at == b.at && a.code == b.code);
    findings
}

fn schema_finding(
    file: FileId,
    root: &Node,
    schema: &Json,
    error: &jsonschema::ValidationError<'_>,
) -> Vec<Finding> {
    let pointer = error.instance_path().as_str().to_string();
    let at = |span: Span| Location::new(file, span);
    let node = root.at_pointer(&pointer);
    match error.kind() {
        ValidationErrorKind::AdditionalProperties { unexpected } => unexpected
            .iter()
            .map(|key| {
                let key_pointer =
                    format!("{pointer}/{}", key.replace('~', "~0").replace('/', "~1"));
                let span = root
                    .key_at_pointer(&key_pointer)
                    .map_or(node.span, |k| k.span);
                if let Some(retired) = RETIRED_KEYS.iter().find(|r| r.pointer == key_pointer) {
                    return Finding::new("INT002", Severity::Error, at(span), retired.message)
                        .help(retired.help);
                }
                let allowed = allowed_keys(schema, &pointer);
                Finding::new(
                    "INT002",
                    Severity::Error,
                    at(span),
                    format!("unknown key `{key}` in {}", describe_pointer(&pointer)),
                )
                .help(did_you_mean(key, &allowed))
            })
            .collect(),
        ValidationErrorKind::Required { property } => {
            let name = property.as_str().unwrap_or_default();
            // A mapping's span is where its first entry starts: mark the parent's key instead,
            // so the finding does not point at an unrelated child.
            let parent = root.key_at_pointer(&pointer).map_or(
                if pointer.is_empty() {
                    Span::at(0)
                } else {
                    node.span
                },
                |k| k.span,
            );
            vec![Finding::new(
                "INT003",
                Severity::Error,
                at(parent),
                format!(
                    "{} is missing the required key `{name}`",
                    describe_pointer(&pointer)
                ),
            )]
        }
        ValidationErrorKind::Pattern { pattern } => vec![Finding::new(
            "INT003",
            Severity::Error,
            at(node.span),
            format!(
                "invalid value {} for {}: {}",
                short_json(error.instance()),
                describe_pointer(&pointer),
                describe_pattern(pattern)
            ),
        )],
        ValidationErrorKind::PropertyNames { error: inner } => {
            let name = inner.instance().as_str().unwrap_or_default().to_string();
            let key_pointer = format!("{pointer}/{}", name.replace('~', "~0").replace('/', "~1"));
            let span = root
                .key_at_pointer(&key_pointer)
                .map_or(node.span, |k| k.span);
            let reason = match inner.kind() {
                ValidationErrorKind::Pattern { pattern } => describe_pattern(pattern),
                _ => inner.to_string(),
            };
            vec![Finding::new(
                "INT003",
                Severity::Error,
                at(span),
                format!(
                    "invalid name `{}` in {}: {reason}",
                    name.escape_debug(),
                    describe_pointer(&pointer)
                ),
            )]
        }
        ValidationErrorKind::Enum { options } => {
            let allowed: Vec<String> = options
                .as_array()
                .into_iter()
                .flatten()
                .map(|o| o.as_str().map_or_else(|| o.to_string(), str::to_string))
                .collect();
            let value = error.instance();
            let written = value
                .as_str()
                .map_or_else(|| value.to_string(), str::to_string);
            vec![
                Finding::new(
                    "INT003",
                    Severity::Error,
                    at(node.span),
                    format!(
                        "invalid value {} for {}: expected one of {}",
                        short_json(value),
                        describe_pointer(&pointer),
                        allowed.join(", ")
                    ),
                )
                .help(did_you_mean_value(&written, &allowed)),
            ]
        }
        _ => vec![Finding::new(
            "INT003",
            Severity::Error,
            at(node.span),
            format!("invalid value for {}: {error}", describe_pointer(&pointer)),
        )],
    }
}

fn short_json(value: &Json) -> String {
    let text = value.to_string();
    if text.chars().count() > 60 {
        format!("{}…", text.chars().take(60).collect::<String>())
    } else {
        text
    }
}

/// `/nodes/0/disk` → "`nodes[0].disk`"; the root → "the intent".
fn describe_pointer(pointer: &str) -> String {
    if pointer.is_empty() {
        return "the intent".to_string();
    }
    let mut out = String::new();
    for token in pointer.split('/').skip(1) {
        if token.parse::<usize>().is_ok() {
            out.push_str(&format!("[{token}]"));
        } else {
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(&token.replace("~1", "/").replace("~0", "~"));
        }
    }
    format!("`{out}`")
}

/// The schema's patterns, said in words.
fn describe_pattern(pattern: &str) -> String {
    const DESCRIPTIONS: &[(&str, &str)] = &[
        (
            "^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$",
            "must be a DNS label: 1–63 lowercase letters, digits or '-', starting and ending with a letter or digit",
        ),
        (
            "^[0-9]{1,3}(\\.[0-9]{1,3}){3}$",
            "must be an IPv4 address like 10.20.0.11",
        ),
        (
            "^[0-9]+(\\.[0-9]+)?\\s*(K|M|G|T|KiB|MiB|GiB|TiB|KB|MB|GB|TB)$",
            "must be a size like 8GiB, 8192MiB or 200G",
        ),
        (
            "^v?[0-9]+\\.[0-9]+\\.[0-9]+(-[0-9A-Za-z.]+)?$",
            "must be a pinned version like v1.11.6 (no \"latest\": output must not change when talhorn is upgraded)",
        ),
        (
            "^v?[0-9]+\\.[0-9]+\\.[0-9]+$",
            "must be a pinned version like 1.10.2",
        ),
        (
            "^[A-Za-z][A-Za-z0-9._-]*$",
            "must be a Proxmox storage ID: a letter, then letters, digits, '.', '_' or '-'",
        ),
        (
            "^[A-Za-z][A-Za-z0-9._-]{0,14}$",
            "must be an interface name: up to 15 letters, digits, '.', '_' or '-', starting with a letter",
        ),
        (
            "^/[A-Za-z0-9._/-]*$",
            "must be an absolute path of letters, digits, '.', '_', '-' and '/'",
        ),
        (
            "^[0-9]{1,3}(\\.[0-9]{1,3}){3}/[0-9]{1,2}$",
            "must be an IPv4 CIDR like 10.20.0.0/24",
        ),
        (
            "^[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){5}$",
            "must be a MAC address like BC:24:11:2C:69:EC",
        ),
        (
            "^[a-z0-9_][a-z0-9_+.-]*$",
            "must be a Proxmox tag: lowercase letters, digits, '_', '+', '.', '-'",
        ),
        (
            "^[a-z0-9][a-z0-9._-]*/[a-z0-9][a-z0-9._-]*$",
            "must be an official extension name like siderolabs/iscsi-tools",
        ),
        (
            "^[A-Za-z0-9_.,:/+-][A-Za-z0-9_.,:=/+-]*$",
            "must be one kernel argument (`name` or `name=value`) without spaces, quotes or '#'",
        ),
        (
            "^[A-Za-z0-9_.+-]+$",
            "must be a Proxmox CPU type like host or x86-64-v2-AES",
        ),
        (
            "^[a-z0-9]+://[^\\s,\"'`$#]+$",
            "must be a URL like s3://bucket@region/path/ without spaces, commas, quotes, '$' or '#'",
        ),
        (
            "^https://[A-Za-z0-9.:\\[\\]-]+:[0-9]{1,5}$",
            "must be https://HOST:PORT, e.g. https://10.20.0.10:6443",
        ),
        (
            "^[A-Za-z][A-Za-z0-9._-]*:iso/[A-Za-z0-9._-]+\\.iso$",
            "must be a Proxmox ISO volume like local:iso/talos.iso",
        ),
    ];
    DESCRIPTIONS
        .iter()
        .find(|(p, _)| *p == pattern)
        .map_or_else(
            || format!("must match `{pattern}`"),
            |(_, d)| (*d).to_string(),
        )
}

/// The keys the schema allows at an instance pointer (for "did you mean").
fn allowed_keys(schema: &Json, pointer: &str) -> Vec<String> {
    let mut node = schema;
    for token in pointer.split('/').skip(1) {
        node = resolve(schema, node);
        node = if token.parse::<usize>().is_ok() && node.get("items").is_some() {
            &node["items"]
        } else if let Some(p) = node.get("properties").and_then(|p| p.get(token)) {
            p
        } else if let Some(a) = node.get("additionalProperties").filter(|a| a.is_object()) {
            a
        } else {
            return Vec::new();
        };
    }
    resolve(schema, node)
        .get("properties")
        .and_then(Json::as_object)
        .map(|p| p.keys().cloned().collect())
        .unwrap_or_default()
}

fn resolve<'a>(root: &'a Json, mut node: &'a Json) -> &'a Json {
    for _ in 0..16 {
        let Some(reference) = node.get("$ref").and_then(Json::as_str) else {
            break;
        };
        let Some(target) = reference.strip_prefix('#').and_then(|p| root.pointer(p)) else {
            break;
        };
        node = target;
    }
    node
}

/// An intent key earlier versions read and this one does not: refused by name, with why,
/// rather than as an unknown key (or, worse, accepted and ignored).
struct RetiredKey {
    pointer: &'static str,
    message: &'static str,
    help: &'static str,
}

const RETIRED_KEYS: &[RetiredKey] = &[RetiredKey {
    // The link name for nodes without a MAC; every node now has one (given or derived).
    pointer: "/network/interface",
    message: "`network.interface` is no longer read: talhorn selects each node's NIC by its MAC",
    help: "remove `network.interface`; to pin a NIC, set `nodes[].mac` (otherwise a MAC is derived for the VM and its Talos config)",
}];

/// "did you mean `x`?" when an allowed value is close, else the list of allowed values.
fn did_you_mean_value(value: &str, allowed: &[String]) -> String {
    match closest(value, allowed) {
        Some(c) => format!("did you mean `{c}`?"),
        None => format!("use one of: {}", allowed.join(", ")),
    }
}

fn closest<'a>(word: &str, candidates: &'a [String]) -> Option<&'a String> {
    candidates
        .iter()
        .map(|c| {
            (
                strsim::jaro_winkler(&word.to_lowercase(), &c.to_lowercase()),
                c,
            )
        })
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

/// "did you mean `x`?" when a known key is close, else the list of valid keys.
pub fn did_you_mean(key: &str, candidates: &[String]) -> String {
    match closest(key, candidates) {
        Some(c) => format!("did you mean `{c}`?"),
        None if candidates.is_empty() => "remove it".to_string(),
        None => format!("valid keys here: {}", candidates.join(", ")),
    }
}

fn semantic_errors(loaded: &LoadedIntent) -> Vec<Finding> {
    let mut errors = Vec::new();
    let intent = &loaded.intent;
    // A shared name or VMID is PVE019's, a shared address NET004's: rule findings, reported
    // with everything else in the same run.
    check_unique(
        loaded,
        "mac",
        |n| n.mac.as_ref().map(|m| m.to_lowercase()),
        &mut errors,
    );

    let error = |pointer: &str, message: String| {
        Finding::new("INT003", Severity::Error, loaded.loc(pointer), message)
    };
    let subnet = parse_cidr(&intent.network.cidr);
    if subnet.is_none() {
        errors.push(error(
            "/network/cidr",
            format!(
                "`{}` is not a valid IPv4 CIDR (each octet 0–255, prefix 0–32)",
                intent.network.cidr
            ),
        ));
    }
    let mut check_ip = |pointer: String, ip: &str, what: &str| match ip.parse::<Ipv4Addr>() {
        Err(_) => errors.push(error(
            &pointer,
            format!("`{ip}` is not a valid IPv4 address (each octet 0–255)"),
        )),
        Ok(addr) => {
            if let Some((net, prefix)) = subnet
                && !in_subnet(addr, net, prefix)
            {
                errors.push(
                    error(
                        &pointer,
                        format!(
                            "{what} {ip} is outside the cluster subnet {}",
                            intent.network.cidr
                        ),
                    )
                    .related(loaded.loc("/network/cidr"), "the subnet is declared here"),
                );
            }
        }
    };
    check_ip(
        "/network/gateway".into(),
        &intent.network.gateway,
        "the gateway",
    );
    for (i, node) in intent.nodes.iter().enumerate() {
        check_ip(
            format!("/nodes/{i}/ip"),
            &node.ip,
            &format!("node `{}`'s address", node.name),
        );
    }
    if let Some(vip) = &intent.cluster.vip {
        check_ip("/cluster/vip".into(), vip, "the VIP");
    }
    for (i, ns) in intent.network.nameservers.iter().enumerate() {
        if ns.parse::<Ipv4Addr>().is_err() {
            errors.push(error(
                &format!("/network/nameservers/{i}"),
                format!("`{ns}` is not a valid IPv4 address"),
            ));
        }
    }
    if let Some(vip) = &intent.cluster.vip
        && let Some(i) = intent.nodes.iter().position(|n| &n.ip == vip)
    {
        errors.push(
            error(
                "/cluster/vip",
                format!(
                    "the VIP {vip} is node `{}`'s own address: Talos moves a VIP between control planes, so it must be an address no node holds",
                    intent.nodes[i].name
                ),
            )
            .related(loaded.loc(&format!("/nodes/{i}/ip")), "the node's address"),
        );
    }
    check_references(loaded, &mut errors);
    check_sizes(loaded, &mut errors);
    check_storage_on_control_planes(loaded, &mut errors);
    errors
}

/// Every size the user wrote must be one Proxmox can carry; lowering never replaces it.
fn check_sizes(loaded: &LoadedIntent, errors: &mut Vec<Finding>) {
    let intent = &loaded.intent;
    let mut sizes: Vec<(String, Option<&String>)> = Vec::new();
    let roles = [
        ("controlplane", intent.defaults.controlplane.as_ref()),
        ("worker", intent.defaults.worker.as_ref()),
    ];
    for (role, spec) in roles {
        if let Some(spec) = spec {
            sizes.push((format!("/defaults/{role}/memory"), spec.memory.as_ref()));
            let disk = spec.disk.as_ref().and_then(|d| d.size.as_ref());
            sizes.push((format!("/defaults/{role}/disk/size"), disk));
        }
    }
    for (i, node) in intent.nodes.iter().enumerate() {
        sizes.push((format!("/nodes/{i}/memory"), node.memory.as_ref()));
        let disk = node.disk.as_ref().and_then(|d| d.size.as_ref());
        sizes.push((format!("/nodes/{i}/disk/size"), disk));
    }
    let data_disk = intent.longhorn.as_ref().and_then(|l| l.data_disk.as_ref());
    sizes.push((
        "/longhorn/dataDisk/size".into(),
        data_disk.and_then(|d| d.size.as_ref()),
    ));
    for (pointer, text) in sizes {
        if let Some(Err(reason)) = text.map(|t| super::size::mib(t)) {
            errors.push(
                Finding::new(
                    "INT003",
                    Severity::Error,
                    loaded.loc(&pointer),
                    format!("invalid size for {}: {reason}", describe_pointer(&pointer)),
                )
                .help("write a whole number of MiB or more, like 8GiB, 8192MiB or 100G"),
            );
        }
    }
}

/// Longhorn data on a control plane needs Longhorn's pods there, and Kubernetes taints control
/// planes `NoSchedule`: without `allowSchedulingOnControlPlanes` the disk would never be used
/// and volumes stay degraded. Tolerations are not the answer: Longhorn's own setting warns
/// against tolerating `kubernetes.io` taints, so the operator chooses.
fn check_storage_on_control_planes(loaded: &LoadedIntent, errors: &mut Vec<Finding>) {
    use super::{Role, StorageNodes};
    let intent = &loaded.intent;
    let Some(longhorn) = &intent.longhorn else {
        return;
    };
    if intent.cluster.allow_scheduling_on_control_planes {
        return;
    }
    let mut reported_all = false;
    for (i, node) in intent.nodes.iter().enumerate() {
        if node.role != Role::Controlplane {
            continue;
        }
        let pointer = match (node.storage, longhorn.storage_nodes) {
            (Some(true), _) => format!("/nodes/{i}/storage"),
            (None, StorageNodes::All) if !reported_all => {
                reported_all = true;
                "/longhorn/storageNodes".to_string()
            }
            _ => continue,
        };
        errors.push(
            Finding::new(
                "INT003",
                Severity::Error,
                loaded.loc(&pointer),
                format!(
                    "Longhorn data on control plane `{}` is never used: control planes are tainted NoSchedule, so Longhorn's pods do not run there",
                    node.name
                ),
            )
            .help("set `cluster.allowSchedulingOnControlPlanes: true` (workloads then run on control planes too), or keep Longhorn on workers (`longhorn.storageNodes: workers`)"),
        );
    }
}

fn check_unique(
    loaded: &LoadedIntent,
    field: &str,
    value: impl Fn(&NodeSpec) -> Option<String>,
    errors: &mut Vec<Finding>,
) {
    let mut seen: HashMap<String, usize> = HashMap::new();
    for (i, node) in loaded.intent.nodes.iter().enumerate() {
        let Some(v) = value(node) else { continue };
        if let Some(&first) = seen.get(&v) {
            errors.push(
                Finding::new(
                    "INT003",
                    Severity::Error,
                    loaded.loc(&format!("/nodes/{i}/{field}")),
                    format!("duplicate node {field} `{v}`: every node needs its own"),
                )
                .related(
                    loaded.loc(&format!("/nodes/{first}/{field}")),
                    "first used here",
                ),
            );
        } else {
            seen.insert(v, i);
        }
    }
}

/// Storage IDs and the bridge must name something the host declares (when it declares any).
fn check_references(loaded: &LoadedIntent, errors: &mut Vec<Finding>) {
    let intent = &loaded.intent;
    let storages = &intent.proxmox.storage;
    let mut check_storage = |pointer: String, name: Option<&String>| {
        if let Some(name) = name
            && !storages.is_empty()
            && !storages.contains_key(name)
        {
            let known: Vec<String> = storages.keys().cloned().collect();
            errors.push(
                Finding::new(
                    "INT003",
                    Severity::Error,
                    loaded.loc(&pointer),
                    format!("storage `{name}` is not declared under `proxmox.storage`"),
                )
                .help(did_you_mean(name, &known)),
            );
        }
    };
    for role in ["controlplane", "worker"] {
        let spec = match role {
            "controlplane" => intent.defaults.controlplane.as_ref(),
            _ => intent.defaults.worker.as_ref(),
        };
        if let Some(disk) = spec.and_then(|s| s.disk.as_ref()) {
            check_storage(
                format!("/defaults/{role}/disk/storage"),
                disk.storage.as_ref(),
            );
        }
    }
    for (i, node) in intent.nodes.iter().enumerate() {
        if let Some(disk) = &node.disk {
            check_storage(format!("/nodes/{i}/disk/storage"), disk.storage.as_ref());
        }
    }
    if let Some(disk) = intent.longhorn.as_ref().and_then(|l| l.data_disk.as_ref()) {
        check_storage("/longhorn/dataDisk/storage".into(), disk.storage.as_ref());
    }
    let bridges = &intent.proxmox.bridges;
    if !bridges.is_empty() && !bridges.contains_key(&intent.network.bridge) {
        let known: Vec<String> = bridges.keys().cloned().collect();
        errors.push(
            Finding::new(
                "INT003",
                Severity::Error,
                loaded.loc("/network/bridge"),
                format!(
                    "bridge `{}` is not declared under `proxmox.bridges`",
                    intent.network.bridge
                ),
            )
            .help(did_you_mean(&intent.network.bridge, &known)),
        );
    }
}

pub fn parse_cidr(cidr: &str) -> Option<(Ipv4Addr, u8)> {
    let (addr, prefix) = cidr.split_once('/')?;
    let prefix: u8 = prefix.parse().ok().filter(|p| *p <= 32)?;
    Some((addr.parse().ok()?, prefix))
}

/// The host of an endpoint URL: `https://10.20.0.10:6443` → `10.20.0.10`.
pub fn endpoint_host(endpoint: &str) -> &str {
    let rest = endpoint
        .trim()
        .split_once("://")
        .map_or(endpoint.trim(), |(_, r)| r);
    let authority = rest.split('/').next().unwrap_or(rest);
    authority
        .rsplit_once(':')
        .map_or(authority, |(host, _port)| host)
}

/// Whether `addr` lies in `net/prefix`; a prefix above 32 (from a written `/99`) counts as 32.
pub fn in_subnet(addr: Ipv4Addr, net: Ipv4Addr, prefix: u8) -> bool {
    let mask = u32::MAX
        .checked_shl(32 - u32::from(prefix.min(32)))
        .unwrap_or(0);
    (u32::from(addr) & mask) == (u32::from(net) & mask)
}

/// YAML requires unique keys; most loaders let the later one win silently, which hides typos
/// such as two `vmid:` in one node.
fn duplicate_keys(file: FileId, node: &Node) -> Vec<Finding> {
    let mut found = Vec::new();
    let mut stack = vec![node];
    while let Some(node) = stack.pop() {
        match &node.value {
            crate::yaml::Value::Map(entries) => {
                for (i, (key, value)) in entries.iter().enumerate() {
                    let first = entries[..i].iter().find(|(k, _)| k.value == key.value);
                    if let Some((first, _)) = first {
                        let name = key.scalar_text().unwrap_or_default();
                        found.push(
                            Finding::new(
                                "INT001",
                                Severity::Error,
                                Location::new(file, key.span),
                                format!("duplicate key `{name}`: YAML keys must be unique, and the later one would silently win"),
                            )
                            .related(Location::new(file, first.span), "first written here"),
                        );
                    }
                    stack.push(value);
                }
            }
            crate::yaml::Value::Seq(items) => stack.extend(items),
            _ => {}
        }
    }
    found.sort_by_key(|f| f.at);
    found
}

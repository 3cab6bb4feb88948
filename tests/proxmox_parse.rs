//! Proxmox inputs: qm.conf, storage.cfg and /etc/network/interfaces parsers, the qm.conf
//! option table (checked against shared/upstream/proxmox/qm-options.json) and the validator.

mod common;

use proptest::prelude::*;
use serde_json::Value;
use std::path::Path;
use talhorn::finding::{Finding, Severity};
use talhorn::knowledge::proxmox::{
    self, Availability, Bus, KeySpec, ValueSpec, builtin_cpu_models, cpu_vm_flags, drive_bus,
    is_drive_key, keys, net_model, option_kind,
};
use talhorn::load::qmconf::{self, DriveVolume, QmProblemKind, SectionKind};
use talhorn::load::{interfaces, storage_cfg};
use talhorn::source::{FileId, Span};

const RECOMMENDED: &str = "\
agent: enabled=1,fstrim_cloned_disks=1
balloon: 0
bios: ovmf
boot: order=scsi0;ide2;net0
cores: 4
cpu: host
efidisk0: local-lvm:vm-101-disk-0,efitype=4m,size=1M
ide2: local:iso/talos.iso,media=cdrom
machine: q35
memory: 8192
name: talos-cp-1
net0: virtio=BC:24:11:2C:69:EC,bridge=vmbr0,firewall=0,mtu=1
numa: 0
ostype: l26
scsi0: local-lvm:vm-101-disk-1,discard=on,iothread=1,size=64G,ssd=1
scsi1: local-lvm:vm-101-disk-2,discard=on,iothread=1,serial=lh-101,size=200G,ssd=1
scsihw: virtio-scsi-single
serial0: socket
sockets: 1
tags: k8s;talos
";

fn slice(text: &str, span: Span) -> &str {
    &text[span.start..span.end]
}

fn validate(text: &str, pve: Option<u8>) -> Vec<Finding> {
    proxmox::validate(FileId(0), &qmconf::parse(text), pve)
}

/// The findings as `(code, text at the finding)`, for compact assertions.
fn codes_at(text: &str, pve: Option<u8>) -> Vec<(&'static str, String)> {
    validate(text, pve)
        .into_iter()
        .map(|f| (f.code, slice(text, f.at.span).to_owned()))
        .collect()
}

fn example_files(shared: &Path) -> Vec<std::path::PathBuf> {
    let root = shared.join("upstream/proxmox/examples");
    let mut files = Vec::new();
    for dir in ["upstream-qemu-server-tests", "talos-unattributed"] {
        for entry in std::fs::read_dir(root.join(dir)).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "conf") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

// ---------------------------------------------------------------- qm.conf parser

#[test]
fn every_upstream_example_parses_with_only_the_problems_it_demonstrates() {
    let Some(shared) = common::shared_dir() else {
        return;
    };
    let files = example_files(&shared);
    assert_eq!(files.len(), 14, "expected 14 example files: {files:?}");
    for path in files {
        let text = std::fs::read_to_string(&path).unwrap();
        let config = qmconf::parse(&text);
        let name = path.file_name().unwrap().to_str().unwrap();
        let kinds: Vec<String> = config
            .problems
            .iter()
            .map(|p| format!("{:?} at {:?}", p.kind, slice(&text, p.span)))
            .collect();
        match name {
            "unknown-sections.conf" => {
                let names: Vec<&str> = config
                    .problems
                    .iter()
                    .map(|p| match &p.kind {
                        QmProblemKind::UnknownSection { name } => name.as_str(),
                        other => panic!("unexpected {other:?}"),
                    })
                    .collect();
                assert_eq!(
                    names,
                    [
                        "special:unknown123",
                        "special:unknown124",
                        "special:unknown125",
                        ":3"
                    ]
                );
            }
            "duplicate-sections.conf" => {
                let headers: Vec<&str> = config
                    .problems
                    .iter()
                    .map(|p| {
                        assert!(
                            matches!(p.kind, QmProblemKind::DuplicateSection { .. }),
                            "{:?}",
                            p.kind
                        );
                        slice(&text, p.span)
                    })
                    .collect();
                assert_eq!(headers, ["[PENDING]", "[special:cloudinit]", "[foo]"]);
            }
            _ => assert!(config.problems.is_empty(), "{name}: {kinds:?}"),
        }
        assert!(
            config.main().is_some_and(|m| !m.options.is_empty()),
            "{name}: empty main section"
        );
    }
}

#[test]
fn sections_are_recognised() {
    let text = "cores: 2\n[PENDING]\nbios: ovmf\ndelete: balloon\n[special:cloudinit]\nname: a\n\
                [special:fleecing]\nfleecing-images: x\n[Before_Upgrade-1]\nsnaptime: 1\n[pending]\n";
    let config = qmconf::parse(text);
    let kinds: Vec<&SectionKind> = config.sections.iter().map(|s| &s.kind).collect();
    assert_eq!(
        kinds,
        [
            &SectionKind::Main,
            &SectionKind::Pending,
            &SectionKind::Special("cloudinit".into()),
            &SectionKind::Special("fleecing".into()),
            &SectionKind::Snapshot("Before_Upgrade-1".into()),
            &SectionKind::Pending,
        ]
    );
    assert_eq!(
        config
            .pending()
            .and_then(|p| p.get("delete"))
            .map(|o| o.value.as_str()),
        Some("balloon")
    );
    // `[pending]` is case-insensitive, so it duplicates `[PENDING]`.
    let [problem] = config.problems.as_slice() else {
        panic!("{:?}", config.problems)
    };
    assert_eq!(slice(text, problem.span), "[pending]");
    let QmProblemKind::DuplicateSection { first } = problem.kind else {
        panic!()
    };
    assert_eq!(slice(text, first), "[PENDING]");
}

#[test]
fn options_keep_exact_spans_and_crlf_is_tolerated() {
    let text = "# notes\r\ncpu:host  \r\nmemory:   4096\r\n";
    let config = qmconf::parse(text);
    assert!(config.problems.is_empty(), "{:?}", config.problems);
    let main = config.main().unwrap();
    assert_eq!(
        main.description
            .iter()
            .map(|s| slice(text, *s))
            .collect::<Vec<_>>(),
        [" notes"]
    );
    let cpu = main.get("cpu").unwrap();
    assert_eq!(
        (slice(text, cpu.key_span), slice(text, cpu.value_span)),
        ("cpu", "host")
    );
    assert_eq!(slice(text, cpu.line), "cpu:host  ");
    let memory = main.get("memory").unwrap();
    assert_eq!(memory.value, "4096");
    assert_eq!(slice(text, memory.value_span), "4096");
}

#[test]
fn syntax_problems_point_at_the_line() {
    let text = "cores: 2\n  cpu: host\nCPU: host\nmemory:\nnot a line\n[broken\n";
    let config = qmconf::parse(text);
    let problems: Vec<(&QmProblemKind, &str)> = config
        .problems
        .iter()
        .map(|p| (&p.kind, slice(text, p.span)))
        .collect();
    assert_eq!(
        problems,
        [
            (&QmProblemKind::Syntax, "cpu: host"),
            (&QmProblemKind::Syntax, "CPU: host"),
            (&QmProblemKind::Syntax, "memory:"),
            (&QmProblemKind::Syntax, "not a line"),
            (&QmProblemKind::Syntax, "[broken"),
        ]
    );
    assert_eq!(config.main().unwrap().options.len(), 1);
}

#[test]
fn inline_comment_is_kept_in_the_value_and_reported() {
    let text = "hostpci0: 0000:01:00,x-vga=1 # my GPU\ndescription: see ticket #42\n";
    let config = qmconf::parse(text);
    let [problem] = config.problems.as_slice() else {
        panic!("{:?}", config.problems)
    };
    assert_eq!(problem.kind, QmProblemKind::InlineComment);
    assert_eq!(slice(text, problem.span), "# my GPU");
    assert_eq!(
        config.main().unwrap().get("hostpci0").unwrap().value,
        "0000:01:00,x-vga=1 # my GPU"
    );
}

#[test]
fn duplicate_key_points_at_the_later_one_and_last_wins() {
    let text = "cores: 2\nmemory: 1024\ncores: 4\n";
    let config = qmconf::parse(text);
    let [problem] = config.problems.as_slice() else {
        panic!("{:?}", config.problems)
    };
    let QmProblemKind::DuplicateKey { first } = problem.kind else {
        panic!("{problem:?}")
    };
    assert_eq!(first, Span::new(0, 5));
    assert_eq!(problem.span, Span::new(22, 27));
    assert_eq!(config.main().unwrap().get("cores").unwrap().value, "4");
    // The same key in another section is no duplicate.
    assert!(
        qmconf::parse("cores: 2\n[snap]\ncores: 4\n")
            .problems
            .is_empty()
    );
}

#[test]
fn unknown_section_lines_are_skipped() {
    let text = "cores: 2\n[special:foo]\nthis is: ignored\n!!!\n[snap1]\ncores: 1\n";
    let config = qmconf::parse(text);
    let [problem] = config.problems.as_slice() else {
        panic!("{:?}", config.problems)
    };
    assert_eq!(
        problem.kind,
        QmProblemKind::UnknownSection {
            name: "special:foo".into()
        }
    );
    assert_eq!(slice(text, problem.span), "[special:foo]");
    assert_eq!(config.sections.len(), 2);
    assert_eq!(config.sections[1].get("cores").unwrap().value, "1");
}

#[test]
fn delete_outside_pending_is_a_problem_and_dropped() {
    let text = "delete: balloon\ncores: 1\n";
    let config = qmconf::parse(text);
    let [problem] = config.problems.as_slice() else {
        panic!("{:?}", config.problems)
    };
    assert_eq!(problem.kind, QmProblemKind::DeleteOutsidePending);
    assert_eq!(slice(text, problem.span), "delete");
    assert!(config.main().unwrap().get("delete").is_none());
}

#[test]
fn properties_split_with_absolute_spans() {
    let text = "scsi0: local-lvm:vm-1-disk-0,discard=on,,size=4G, ssd=1";
    let option = qmconf::parse(text).main().unwrap().options[0].clone();
    let parts: Vec<(Option<&str>, &str, &str)> = option
        .properties()
        .into_iter()
        .map(|p| (p.key, slice(text, p.key_span), slice(text, p.value_span)))
        .collect();
    assert_eq!(
        parts,
        [
            (None, "local-lvm:vm-1-disk-0", "local-lvm:vm-1-disk-0"),
            (Some("discard"), "discard", "on"),
            (Some("size"), "size", "4G"),
            (Some(" ssd"), " ssd", "1"),
        ]
    );
}

#[test]
fn value_helpers_follow_pve() {
    for yes in ["1", "on", "YES", "true"] {
        assert_eq!(qmconf::parse_bool(yes), Some(true), "{yes}");
    }
    for no in ["0", "Off", "no", "false"] {
        assert_eq!(qmconf::parse_bool(no), Some(false), "{no}");
    }
    assert_eq!(qmconf::parse_bool("2"), None);

    assert_eq!(qmconf::parse_size("32G"), Some(32 << 30));
    assert_eq!(qmconf::parse_size("4M"), Some(4 << 20));
    assert_eq!(qmconf::parse_size("528K"), Some(528 << 10));
    assert_eq!(qmconf::parse_size("1.5T"), Some(3 << 39));
    assert_eq!(qmconf::parse_size("2GiB"), Some(2 << 30));
    assert_eq!(qmconf::parse_size("512"), Some(512));
    for bad in [
        "",
        "G",
        "1.G",
        "-1G",
        "1g",
        "1.5.2G",
        "99999999999999999999T",
    ] {
        assert_eq!(qmconf::parse_size(bad), None, "{bad}");
    }

    assert_eq!(qmconf::parse_memory("4096"), Some(4096));
    assert_eq!(qmconf::parse_memory("current=2048"), Some(2048));
    assert_eq!(qmconf::parse_memory("lots"), None);

    assert_eq!(
        qmconf::drive_volume("local-lvm:vm-101-disk-0"),
        DriveVolume::Storage {
            storage: "local-lvm",
            volname: "vm-101-disk-0"
        }
    );
    assert_eq!(qmconf::drive_volume("none"), DriveVolume::Empty);
    assert_eq!(qmconf::drive_volume("cdrom"), DriveVolume::HostCdrom);
    assert_eq!(
        qmconf::drive_volume("/dev/sdb"),
        DriveVolume::Path("/dev/sdb")
    );
    assert_eq!(
        qmconf::drive_volume("vm-1-disk-0"),
        DriveVolume::Invalid("vm-1-disk-0")
    );
    assert_eq!(
        qmconf::volname_format("100/vm-100-disk-0.qcow2"),
        Some("qcow2")
    );
    assert_eq!(qmconf::volname_format("vm-100-disk-0"), None);

    assert!(qmconf::hotplug_enables("disk,memory", "memory"));
    assert!(qmconf::hotplug_enables("1", "disk"));
    assert!(!qmconf::hotplug_enables("1", "memory"));
    assert!(!qmconf::hotplug_enables("0", "memory"));
}

#[test]
fn boot_order_lists_devices_with_spans() {
    let text = "boot: order=scsi0;ide2;net0";
    let option = qmconf::parse(text).main().unwrap().options[0].clone();
    let order = qmconf::boot_order(&option.value, option.value_span).unwrap();
    let devices: Vec<&str> = order.iter().map(|t| slice(text, t.span)).collect();
    assert_eq!(devices, ["scsi0", "ide2", "net0"]);
    assert_eq!(qmconf::boot_order("cdn", Span::new(6, 9)), None);
}

#[test]
fn net_model_reads_both_forms() {
    let text = "net0: virtio=BC:24:11:2C:69:EC,bridge=vmbr0";
    let option = qmconf::parse(text).main().unwrap().options[0].clone();
    let properties = option.properties();
    let model = net_model(&properties).unwrap();
    assert_eq!(model.model, "virtio");
    assert_eq!(
        model.mac.map(|(mac, span)| (mac, slice(text, span))),
        Some(("BC:24:11:2C:69:EC", "BC:24:11:2C:69:EC"))
    );
    let properties =
        qmconf::parse_properties("model=e1000,macaddr=BC:24:11:00:00:01", Span::new(0, 36));
    let model = net_model(&properties).unwrap();
    assert_eq!(
        (model.model, model.mac.map(|m| m.0)),
        ("e1000", Some("BC:24:11:00:00:01"))
    );
}

// ---------------------------------------------------------------- option table

fn json_value_spec_matches(json: &Value, spec: ValueSpec, what: &str) {
    let kind = json["type"].as_str().unwrap();
    let bound = |field: &str| {
        json.get(field)
            .and_then(Value::as_str)
            .map(|v| v.parse::<f64>().unwrap())
    };
    match spec {
        ValueSpec::Boolean => assert_eq!(kind, "boolean", "{what}"),
        ValueSpec::Integer { min, max } => {
            assert_eq!(kind, "integer", "{what}");
            assert_eq!(
                (min.map(|m| m as f64), max.map(|m| m as f64)),
                (bound("minimum"), bound("maximum")),
                "{what}"
            );
        }
        ValueSpec::Number { min, max } => {
            assert_eq!(kind, "number", "{what}");
            assert_eq!((min, max), (bound("minimum"), bound("maximum")), "{what}");
        }
        ValueSpec::Enum(values) => {
            assert_eq!(kind, "enum", "{what}");
            let expected: Vec<&str> = json["enum"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_str().unwrap())
                .collect();
            assert_eq!(values, expected.as_slice(), "{what}");
        }
        ValueSpec::TokenList(values) => {
            assert_eq!(kind, "string", "{what}");
            let expected: Vec<&str> = json["allowed_values"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_str().unwrap())
                .collect();
            assert_eq!(values, expected.as_slice(), "{what}");
        }
        ValueSpec::Text(format) => {
            assert_eq!(kind, "string", "{what}");
            assert!(json.get("allowed_values").is_none(), "{what}");
            let expected = json
                .get("format")
                .or_else(|| json.get("pattern_or_format"))
                .and_then(Value::as_str);
            assert_eq!(format, expected, "{what}");
        }
        ValueSpec::PropertyString => assert_eq!(kind, "property-string", "{what}"),
        ValueSpec::Internal => assert_eq!(kind, "internal", "{what}"),
    }
}

fn not_in_pve8(json: &Value) -> bool {
    json.get("pve8")
        .and_then(Value::as_str)
        .is_some_and(|n| n.contains("not available"))
}

fn string_list(json: &Value, field: &str) -> Vec<String> {
    json.get(field)
        .and_then(Value::as_array)
        .map(|a| a.iter().map(|v| v.as_str().unwrap().to_owned()).collect())
        .unwrap_or_default()
}

fn check_subs(json_key: &str, json: &Value, spec: &KeySpec) {
    let json_subs = json
        .get("sub_options")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let newer = string_list(json, "sub_options_not_in_pve8");
    let dropped: Vec<String> = string_list(json, "sub_options_pve8_only")
        .into_iter()
        .filter(|s| !json_subs.contains_key(s))
        .collect();
    let mut expected_names: Vec<&str> = json_subs
        .keys()
        .map(String::as_str)
        .chain(dropped.iter().map(String::as_str))
        .collect();
    expected_names.sort_unstable();
    let names: Vec<&str> = spec.subs.iter().map(|s| s.name).collect();
    assert_eq!(names, expected_names, "{json_key}: sub-options");
    for sub in spec.subs {
        let what = format!("{json_key} {}", sub.name);
        let Some(json_sub) = json_subs.get(sub.name) else {
            assert_eq!(sub.availability, Availability::Pve8Only, "{what}");
            continue;
        };
        json_value_spec_matches(json_sub, sub.value, &what);
        assert_eq!(
            sub.default,
            json_sub.get("default").and_then(Value::as_str),
            "{what}"
        );
        let pve9_only = newer.iter().any(|n| n == sub.name) || not_in_pve8(json_sub);
        let expected = if pve9_only {
            Availability::Pve9Only
        } else {
            Availability::Both
        };
        assert_eq!(sub.availability, expected, "{what}");
    }
}

#[test]
fn option_table_matches_upstream_qm_options_json() {
    let Some(shared) = common::shared_dir() else {
        return;
    };
    let text = std::fs::read_to_string(shared.join("upstream/proxmox/qm-options.json")).unwrap();
    let json: serde_json::Map<String, Value> = serde_json::from_str(&text).unwrap();
    let mut json_keys: Vec<&String> = json.keys().filter(|k| !k.starts_with('_')).collect();
    json_keys.sort();
    let table_keys: Vec<String> = keys().iter().map(KeySpec::table_name).collect();
    assert_eq!(
        table_keys.iter().collect::<Vec<_>>(),
        json_keys,
        "key list drifted"
    );
    for spec in keys() {
        let json_key = spec.table_name();
        let entry = &json[&json_key];
        json_value_spec_matches(entry, spec.value, &json_key);
        let range = entry.get("index_range").and_then(Value::as_array).map(|r| {
            let bound = |i: usize| u16::try_from(r[i].as_u64().unwrap()).unwrap();
            (bound(0), bound(1))
        });
        assert_eq!(spec.index, range, "{json_key}: index range");
        assert_eq!(
            spec.default,
            entry.get("default").and_then(Value::as_str),
            "{json_key}: default"
        );
        assert_eq!(
            spec.default_key,
            entry.get("default_key").and_then(Value::as_str),
            "{json_key}: default key"
        );
        let expected = if not_in_pve8(entry) {
            Availability::Pve9Only
        } else {
            Availability::Both
        };
        assert_eq!(spec.availability, expected, "{json_key}: availability");
        check_subs(&json_key, entry, spec);
    }
    let cpu = &json["cpu"];
    let sorted = |v: &Value| {
        let mut list: Vec<String> = v
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f.as_str().unwrap().to_owned())
            .collect();
        list.sort();
        list
    };
    assert_eq!(
        cpu_vm_flags(Some(8)),
        sorted(&cpu["vm_specific_flags_allowed"]["pve8"])
    );
    assert_eq!(
        cpu_vm_flags(Some(9)),
        sorted(&cpu["vm_specific_flags_allowed"]["pve9"])
    );
    let mut builtin: Vec<&String> = cpu["builtin_pve_models_x86_64"]
        .as_object()
        .unwrap()
        .keys()
        .filter(|k| !k.starts_with('_'))
        .collect();
    builtin.sort();
    assert_eq!(builtin_cpu_models().iter().collect::<Vec<_>>(), builtin);
}

#[test]
fn storage_image_formats_match_upstream() {
    let Some(shared) = common::shared_dir() else {
        return;
    };
    let text = std::fs::read_to_string(shared.join("upstream/proxmox/qm-options.json")).unwrap();
    let json: Value = serde_json::from_str(&text).unwrap();
    let table = json["_storage_image_formats"].as_object().unwrap();
    let mut checked = 0;
    for (name, entry) in table
        .iter()
        .filter(|(k, _)| !k.starts_with('_') && *k != "iso_content_capable")
    {
        let formats = &entry["formats"];
        // `lvm` lists per version: the PVE 8 list is the one without volume chains.
        let expected = formats.get("pve8").unwrap_or(formats);
        let expected: Vec<&str> = expected
            .as_array()
            .map(|a| a.iter().map(|f| f.as_str().unwrap()).collect())
            .unwrap_or_default();
        // "zfs (ZFS over iSCSI)" names type `zfs`; "iscsi / iscsidirect" names two types.
        let types = name.split(" (").next().unwrap().split(" / ");
        for kind in types {
            assert_eq!(
                storage_cfg::image_formats(kind),
                Some(expected.as_slice()),
                "{kind}"
            );
            checked += 1;
        }
    }
    assert!(checked >= 13, "only {checked} storage types checked");
    let iso: Vec<&str> = table["iso_content_capable"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(storage_cfg::ISO_CAPABLE_TYPES.as_slice(), iso.as_slice());
}

#[test]
fn drive_lookups() {
    assert_eq!(drive_bus("scsi30"), Some(Bus::Scsi));
    assert_eq!(drive_bus("scsi31"), None);
    assert_eq!(drive_bus("virtio15"), Some(Bus::Virtio));
    assert_eq!(drive_bus("sata5"), Some(Bus::Sata));
    assert_eq!(drive_bus("ide3"), Some(Bus::Ide));
    assert_eq!(drive_bus("efidisk0"), Some(Bus::Efidisk));
    assert_eq!(drive_bus("tpmstate0"), Some(Bus::Tpmstate));
    assert_eq!(drive_bus("unused7"), Some(Bus::Unused));
    assert!(!is_drive_key("net0") && !is_drive_key("scsihw"));
    let scsi = option_kind("scsi3").unwrap();
    assert_eq!((scsi.spec.name, scsi.index), ("scsi", Some(3)));
    // Per-bus sub-options (research §4).
    let has = |key: &str, sub: &str| option_kind(key).unwrap().spec.sub(sub).is_some();
    assert!(
        has("scsi0", "ssd") && has("sata0", "ssd") && has("ide0", "ssd") && !has("virtio0", "ssd")
    );
    assert!(has("scsi0", "iothread") && has("virtio0", "iothread") && !has("sata0", "iothread"));
    assert!(
        proxmox::CPU_TYPES_WITHOUT_X86_64_V2
            .iter()
            .all(|c| proxmox::is_known_cpu_type(c))
    );
    assert!(
        proxmox::is_known_cpu_type("x86-64-v2-AES") && proxmox::is_known_cpu_type("custom-talos")
    );
    assert!(!proxmox::is_known_cpu_type("hots"));
}

// ---------------------------------------------------------------- validator

#[test]
fn validator_is_silent_on_the_recommended_config() {
    for pve in [None, Some(8), Some(9)] {
        assert_eq!(codes_at(RECOMMENDED, pve), [], "PVE {pve:?}");
    }
}

#[test]
fn validator_is_silent_on_the_talos_example() {
    let Some(shared) = common::shared_dir() else {
        return;
    };
    let path = shared.join("upstream/proxmox/examples/talos-unattributed/talos-cplane-001.conf");
    let text = std::fs::read_to_string(path).unwrap();
    for pve in [None, Some(8), Some(9)] {
        assert_eq!(codes_at(&text, pve), [], "PVE {pve:?}");
    }
}

#[test]
fn validator_reports_the_upstream_strict_mode_error() {
    let Some(shared) = common::shared_dir() else {
        return;
    };
    let path =
        shared.join("upstream/proxmox/examples/upstream-qemu-server-tests/cloudinit-snapshot.conf");
    let text = std::fs::read_to_string(path).unwrap();
    assert_eq!(
        codes_at(&text, None),
        [("INT003", "verify meee~ :)".to_owned())]
    );
}

#[test]
fn unknown_keys_and_sub_options_get_suggestions() {
    let text = "memmory: 4096\ncores: 2\nvirtio0: local-lvm:vm-1-disk-0,ssd=1\nscsi0: local-lvm:vm-1-disk-1,dicard=on\n";
    let findings = validate(text, None);
    let summary: Vec<(&str, &str)> = findings
        .iter()
        .map(|f| (f.code, slice(text, f.at.span)))
        .collect();
    assert_eq!(
        summary,
        [
            ("INT002", "memmory"),
            ("INT002", "ssd"),
            ("INT002", "dicard")
        ]
    );
    assert!(
        findings[0].message.contains("did you mean `memory`?"),
        "{}",
        findings[0].message
    );
    assert!(
        findings[1]
            .message
            .contains("only ide, sata, scsi disks have it"),
        "{}",
        findings[1].message
    );
    assert!(
        findings[2].message.contains("did you mean `discard`?"),
        "{}",
        findings[2].message
    );
    assert!(
        findings
            .iter()
            .all(|f| f.severity == Severity::Error && f.help.is_some())
    );
}

#[test]
fn invalid_values_are_reported_at_the_value() {
    let text = "\
scsihw: virtio-single
scsi0: local-lvm:vm-1-disk-0,discard=yes
scsi31: local-lvm:vm-1-disk-1
cores: many
sockets: 0
boot: scsi0
hotplug: disk,ram
numa: maybe
cpu: kvm64,flags=+sse4.2
net0: virtio=01:00:00:00:00:01,bridge=vmbr0
name: talos_cp
scsi1: local-lvm:32,size=32G
efidisk0: local-lvm:vm-1-disk-2,efitype=3m,size=lots
boot: order=efidisk0;scsi0
";
    let expected = [
        ("INT003", "virtio-single"),
        ("PVE018", "boot"),
        ("INT003", "yes"),
        ("INT003", "scsi31"),
        ("INT003", "many"),
        ("INT003", "0"),
        ("INT003", "scsi0"),
        ("INT003", "ram"),
        ("INT003", "maybe"),
        ("INT003", "+sse4.2"),
        ("INT003", "01:00:00:00:00:01"),
        ("INT003", "talos_cp"),
        ("INT003", "local-lvm:32"),
        ("INT003", "3m"),
        ("INT003", "lots"),
        ("INT003", "efidisk0"),
    ];
    let mut found: Vec<(&str, String)> = codes_at(text, None);
    found.sort_by(|a, b| a.1.cmp(&b.1));
    let mut expected: Vec<(&str, String)> = expected
        .iter()
        .map(|(c, s)| (*c, (*s).to_owned()))
        .collect();
    expected.sort_by(|a, b| a.1.cmp(&b.1));
    assert_eq!(found, expected);
    let findings = validate(text, None);
    let scsihw = findings
        .iter()
        .find(|f| slice(text, f.at.span) == "virtio-single")
        .unwrap();
    assert!(
        scsihw
            .message
            .contains("did you mean `virtio-scsi-single`?"),
        "{}",
        scsihw.message
    );
}

#[test]
fn inline_comment_and_duplicate_key_findings() {
    let text = "cores: 4 # four cores\nmemory: 2048\nmemory: 4096\n";
    let findings = validate(text, None);
    let summary: Vec<(&str, Severity, &str)> = findings
        .iter()
        .map(|f| (f.code, f.severity, slice(text, f.at.span)))
        .collect();
    // The comment makes `cores` non-numeric too; PVE017 alone says why.
    assert_eq!(
        summary,
        [
            ("PVE017", Severity::Error, "# four cores"),
            ("PVE018", Severity::Warning, "memory")
        ]
    );
    let duplicate = &findings[1];
    assert_eq!(duplicate.at.span, Span::new(35, 41));
    assert_eq!(duplicate.related.len(), 1);
    assert_eq!(slice(text, duplicate.related[0].at.span), "memory");
    assert_eq!(duplicate.related[0].at.span, Span::new(22, 28));
}

#[test]
fn structural_problems_become_findings() {
    let text = "cores 2\ndelete: balloon\n[special:cloudint]\nx: y\n[snap]\nsnaptime: 1\n[snap]\n";
    assert_eq!(
        codes_at(text, None),
        [
            ("INT001", "cores 2".to_owned()),
            ("INT002", "delete".to_owned()),
            ("INT002", "[special:cloudint]".to_owned()),
            ("INT001", "[snap]".to_owned()),
        ]
    );
    let findings = validate(text, None);
    assert!(
        findings[2]
            .message
            .contains("did you mean `[special:cloudinit]`?"),
        "{}",
        findings[2].message
    );
    assert_eq!(
        codes_at("snaptime: 1\ndigest: abc\n", None),
        [("INT002", "snaptime".into()), ("INT002", "digest".into())]
    );
}

#[test]
fn special_sections_and_pending_delete() {
    let text = "cores: 1\n[PENDING]\ndelete: balloon,ballon\n[special:cloudinit]\nname: whatever_goes\nnmae: x\n\
                [special:fleecing]\nfleecing-images: local:vm-1-fleece-0\ncores: 2\n";
    assert_eq!(
        codes_at(text, None),
        [
            ("INT002", "ballon".into()),
            ("INT002", "nmae".into()),
            ("INT002", "cores".into())
        ]
    );
}

#[test]
fn pve_version_deltas() {
    let text = "allow-ksm: 0\nagent: 1,freeze-fs=0\nscsi0: local-lvm:vm-1-disk-0,cyls=10\ncpu: host,guest-phys-bits=40\n";
    assert_eq!(codes_at(text, None), []);
    assert_eq!(
        codes_at(text, Some(8)),
        [
            ("INT002", "allow-ksm".into()),
            ("INT002", "freeze-fs".into()),
            ("INT002", "guest-phys-bits".into())
        ]
    );
    assert_eq!(codes_at(text, Some(9)), [("INT002", "cyls".into())]);
    // PVE 9 keeps the PVE 8 name as an alias.
    assert_eq!(codes_at("agent: 1,freeze-fs-on-backup=0\n", Some(9)), []);
    assert_eq!(
        codes_at("cpu: host,flags=+nested-virt\n", Some(8)),
        [("INT003", "+nested-virt".into())]
    );
}

#[test]
fn property_string_shape_errors() {
    let text = "smbios1: abc\nscsi0: local-lvm:vm-1-disk-0,ssd=1,ssd=0\nnet0: =x,bridge=\nvirtio0: none,media=cdrom\n\
                scsi1: volume=local-lvm:vm-1-disk-3,import-from=local:iso/x.img\n";
    let findings = validate(text, None);
    let summary: Vec<(&str, &str)> = findings
        .iter()
        .map(|f| (f.code, slice(text, f.at.span)))
        .collect();
    assert_eq!(
        summary,
        [
            ("INT003", "abc"),
            ("INT003", "ssd"),
            ("INT003", ""),
            ("INT003", "bridge"),
            ("INT003", "cdrom"),
            ("INT002", "import-from")
        ]
    );
    assert!(
        findings[5]
            .help
            .as_deref()
            .is_some_and(|h| h.contains("qm create"))
    );
}

// ---------------------------------------------------------------- storage.cfg

const STORAGE_CFG: &str = "\
dir: local
\tpath /var/lib/vz
\tcontent iso,vztmpl,backup,import

zfspool: local-zfs
\tpool rpool/data
\tsparse
\tcontent images,rootdir

# a comment
dir: tank-dir
\tpath /rpool/data/dir/
\tcontent images

lvmthin: local-lvm
\tthinpool data
\tvgname pve
\tcontent rootdir,images

lvm: chained
\tvgname vg1
\tsnapshot-as-volume-chain 1
";

#[test]
fn storage_cfg_installer_layout() {
    let cfg = storage_cfg::parse(STORAGE_CFG);
    assert!(cfg.problems.is_empty(), "{:?}", cfg.problems);
    let names: Vec<(&str, &str)> = cfg
        .entries
        .iter()
        .map(|e| (e.kind.as_str(), e.name.as_str()))
        .collect();
    assert_eq!(
        names,
        [
            ("dir", "local"),
            ("zfspool", "local-zfs"),
            ("dir", "tank-dir"),
            ("lvmthin", "local-lvm"),
            ("lvm", "chained")
        ]
    );
    let zfs = cfg.get("local-zfs").unwrap();
    assert_eq!(slice(STORAGE_CFG, zfs.name_span), "local-zfs");
    let sparse = zfs.get("sparse").unwrap();
    assert_eq!(
        (sparse.value.as_str(), slice(STORAGE_CFG, sparse.key_span)),
        ("", "sparse")
    );
    assert_eq!(
        slice(STORAGE_CFG, zfs.get("pool").unwrap().value_span),
        "rpool/data"
    );
    assert_eq!(zfs.zfs_mountpoint().as_deref(), Some("/rpool/data"));
    assert_eq!(
        cfg.get("local").unwrap().content(),
        Some(vec!["iso", "vztmpl", "backup", "import"])
    );

    assert!(!cfg.is_on_zfs(cfg.get("local").unwrap()));
    let tank = cfg.get("tank-dir").unwrap();
    assert!(cfg.is_on_zfs(tank));
    assert_eq!(
        cfg.zfs_backing(tank).map(|e| e.name.as_str()),
        Some("local-zfs")
    );

    assert_eq!(zfs.image_formats(None), Some(["raw", "subvol"].as_slice()));
    assert_eq!(
        cfg.get("local-lvm").unwrap().image_formats(None),
        Some(["raw"].as_slice())
    );
    let chained = cfg.get("chained").unwrap();
    assert_eq!(chained.image_formats(Some(8)), Some(["raw"].as_slice()));
    assert_eq!(
        chained.image_formats(Some(9)),
        Some(["raw", "qcow2"].as_slice())
    );
    assert_eq!(storage_cfg::image_formats("nosuchtype"), None);
}

#[test]
fn storage_cfg_zfs_mountpoint_overrides_pool_path() {
    let text = "zfspool: tank\n\tpool tank/vm\n\tmountpoint /mnt/tank\n\ndir: images\n\tpath /mnt/tank/images\n";
    let cfg = storage_cfg::parse(text);
    assert!(cfg.is_on_zfs(cfg.get("images").unwrap()));
    let text = "zfspool: tank\n\tpool tank/vm\n\tmountpoint /mnt/tank\n\ndir: images\n\tpath /tank/vm/images\n";
    let cfg = storage_cfg::parse(text);
    assert!(!cfg.is_on_zfs(cfg.get("images").unwrap()));
}

#[test]
fn storage_cfg_problems() {
    let text = "dir: local\n\tpath /a\n\tpath /b\ncontent images\n\n\tshared 1\ndir: local\nnot a header\n";
    let cfg = storage_cfg::parse(text);
    let problems: Vec<&str> = cfg.problems.iter().map(|p| slice(text, p.span)).collect();
    assert_eq!(
        problems,
        [
            "path",
            "content images",
            "shared 1",
            "local",
            "not a header"
        ]
    );
    assert!(cfg.problems[0].message.contains("duplicate attribute"));
}

// ---------------------------------------------------------------- interfaces

const INTERFACES: &str = "\
auto lo
iface lo inet loopback

auto eno1
iface eno1 inet manual
\tmtu 9000

auto vmbr0
iface vmbr0 inet static
\taddress 192.168.10.2/24
\tbridge-ports bond0 eno2
\tbridge-stp off
\tmtu 9000

iface vmbr0 inet6 static
\taddress fd00::2/64

auto vmbr1
iface vmbr1 inet manual
bridge_ports none
mtu 1500
source /etc/network/interfaces.d/*
\tmtu 1
";

#[test]
fn interfaces_bridges_and_mtu() {
    let parsed = interfaces::parse(INTERFACES);
    assert!(parsed.problems.is_empty(), "{:?}", parsed.problems);
    let names: Vec<&str> = parsed.ifaces.iter().map(|i| i.name.as_str()).collect();
    assert_eq!(names, ["lo", "eno1", "vmbr0", "vmbr1"]);
    let vmbr0 = parsed.get("vmbr0").unwrap();
    assert!(vmbr0.is_bridge);
    assert_eq!(slice(INTERFACES, vmbr0.name_span), "vmbr0");
    let (mtu, span) = vmbr0.mtu.unwrap();
    assert_eq!((mtu, slice(INTERFACES, span)), (9000, "9000"));
    let ports: Vec<&str> = vmbr0
        .bridge_ports
        .iter()
        .map(|(p, s)| {
            assert_eq!(slice(INTERFACES, *s), p);
            p.as_str()
        })
        .collect();
    assert_eq!(ports, ["bond0", "eno2"]);
    let vmbr1 = parsed.get("vmbr1").unwrap();
    assert!(vmbr1.is_bridge && vmbr1.bridge_ports.is_empty());
    // The `mtu 1` after `source` belongs to no stanza.
    assert_eq!(vmbr1.mtu.map(|m| m.0), Some(1500));
    assert!(!parsed.get("eno1").unwrap().is_bridge);
    assert_eq!(parsed.get("lo").unwrap().mtu, None);
}

#[test]
fn interfaces_bad_mtu_is_a_problem() {
    let text = "iface vmbr0 inet manual\n\tbridge-ports eno1\n\tmtu jumbo\n";
    let parsed = interfaces::parse(text);
    assert_eq!(
        parsed
            .problems
            .iter()
            .map(|p| slice(text, p.span))
            .collect::<Vec<_>>(),
        ["jumbo"]
    );
    assert_eq!(parsed.get("vmbr0").unwrap().mtu, None);
}

// ---------------------------------------------------------------- robustness

fn spans_in_bounds(text: &str, spans: impl IntoIterator<Item = Span>) {
    for span in spans {
        assert!(
            text.get(span.start..span.end).is_some(),
            "span {span:?} outside {text:?}"
        );
    }
}

proptest! {
    #[test]
    fn parsers_never_panic_and_spans_slice_the_text(
        text in prop_oneof![
            any::<String>(),
            "[a-z0-9:,=#;\\[\\] \t\r\n./_-]{0,200}",
            "((scsi0|net0|boot|cpu|memory|delete|\\[PENDING\\]|\\[x\\]|iface|mtu|\tpath|dir): ?[a-z0-9=,;: #é-]{0,30}\r?\n){0,12}",
        ]
    ) {
        let config = qmconf::parse(&text);
        for section in &config.sections {
            spans_in_bounds(&text, section.header.into_iter().chain(section.description.iter().copied()));
            for option in &section.options {
                spans_in_bounds(&text, [option.key_span, option.value_span, option.line]);
                spans_in_bounds(&text, option.properties().iter().flat_map(|p| [p.key_span, p.value_span]));
            }
        }
        spans_in_bounds(&text, config.problems.iter().map(|p| p.span));
        for pve in [None, Some(8), Some(9)] {
            spans_in_bounds(&text, proxmox::validate(FileId(0), &config, pve).iter().map(|f| f.at.span));
        }
        let storage = storage_cfg::parse(&text);
        spans_in_bounds(&text, storage.problems.iter().map(|p| p.span));
        for entry in &storage.entries {
            spans_in_bounds(&text, [entry.kind_span, entry.name_span]);
            let _ = storage.is_on_zfs(entry);
        }
        let parsed = interfaces::parse(&text);
        spans_in_bounds(&text, parsed.ifaces.iter().map(|i| i.name_span));
        spans_in_bounds(&text, parsed.problems.iter().map(|p| p.span));
        prop_assert!(qmconf::parse_size(&text).is_none_or(|bytes| bytes > 0 || text.starts_with('0')));
    }
}

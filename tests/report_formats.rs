//! Every output format, rendered from one fixed set of findings over two in-memory files.

mod common;

use serde_json::Value;
use std::collections::HashSet;
use talhorn::finding::{Finding, Severity};
use talhorn::report::{Format, ReportOptions, RuleInfo, render};
use talhorn::source::{FileId, Location, SourceFile, SourceMap, Span};

const VM_CONF: &str = "boot: order=scsi0\ncpu: kvm64\nscsi0: local-lvm:vm-101-disk-0,size=32G\nscsi1: local-lvm:vm-101-disk-1,size=200G\n";
const TALOS_PATCH: &str =
    "machine:\n  kubelet:\n    extraMounts: []\n  disks:\n    - device: /dev/sdb\n";

/// A message that needs every GitHub escape: `%`, `,`, `:` and a line break.
const ESCAPED_MESSAGE: &str =
    "disk scsi1: discard is off, 100% of freed blocks stay allocated\nset discard=on";

struct Fixture {
    sources: SourceMap,
    vm: FileId,
    talos: FileId,
}

fn fixture() -> Fixture {
    let mut sources = SourceMap::default();
    // Absolute under the root: must be shown relative to it.
    let vm = sources.add(SourceFile::new("/repo/proxmox/101-cp-1.conf", VM_CONF));
    // Already relative, with a `./` that must disappear.
    let talos = sources.add(SourceFile::new("./talos/controlplane.yaml", TALOS_PATCH));
    Fixture { sources, vm, talos }
}

/// Byte span of the `occurrence`-th (0-based) match of `needle` in `text`.
fn span_of(text: &str, needle: &str, occurrence: usize) -> Span {
    let start = text
        .match_indices(needle)
        .nth(occurrence)
        .map(|(index, _)| index)
        .unwrap_or_else(|| panic!("{needle:?} not in fixture"));
    Span::new(start, start + needle.len())
}

/// The findings in an order that is not the sorted one.
fn findings(f: &Fixture) -> Vec<Finding> {
    vec![
        Finding::new(
            "TAL004",
            Severity::Error,
            Location::new(f.talos, span_of(TALOS_PATCH, "extraMounts: []", 0)),
            "the Longhorn data path /var/lib/longhorn is not mounted into the kubelet",
        )
        .related(
            Location::new(f.talos, span_of(TALOS_PATCH, "device: /dev/sdb", 0)),
            "the data disk is declared here",
        )
        .related(
            Location::new(f.vm, span_of(VM_CONF, "scsi1", 0)),
            "the VM's Longhorn data disk",
        )
        .help("add an extraMounts entry with bind, rshared and rw for /var/lib/longhorn"),
        Finding::new(
            "PVE009",
            Severity::Warning,
            Location::new(
                f.vm,
                span_of(VM_CONF, "scsi1: local-lvm:vm-101-disk-1,size=200G", 0),
            ),
            ESCAPED_MESSAGE,
        ),
        Finding::new(
            "PVE001",
            Severity::Error,
            Location::new(f.vm, span_of(VM_CONF, "kvm64", 0)),
            "cpu kvm64 lacks x86-64-v2; Talos will not boot",
        )
        .help("set `cpu: host`"),
        Finding::new(
            "NET003",
            Severity::Info,
            Location::file_start(f.talos),
            "the storage network is slower than 10 Gbps",
        ),
        Finding::new(
            "PVE009",
            Severity::Warning,
            Location::new(
                f.vm,
                span_of(VM_CONF, "scsi0: local-lvm:vm-101-disk-0,size=32G", 0),
            ),
            "disk scsi0: discard is off",
        ),
    ]
}

fn rule(code: &'static str, name: &'static str, severity: Severity) -> RuleInfo {
    RuleInfo {
        code,
        name,
        severity,
        summary: "One line about the rule.",
        docs: "## What\nWhat it checks.\n\n## Why\nWhy it breaks the stack.\n\n## Fix\nHow to fix it.\n",
        help_uri: Some(format!("https://example.org/rules/{code}")),
    }
}

fn rules() -> Vec<RuleInfo> {
    vec![
        rule("TAL004", "longhorn-mount-missing", Severity::Error),
        rule("PVE009", "discard-off", Severity::Warning),
        rule("NET003", "slow-storage-network", Severity::Info),
        rule("PVE001", "cpu-lacks-x86-64-v2", Severity::Error),
    ]
}

fn options() -> ReportOptions {
    let mut opts = ReportOptions::new("/repo", "0.1.0");
    opts.information_uri = Some("https://example.org/talhorn".to_owned());
    opts
}

fn render_fixture(format: Format, opts: &ReportOptions) -> String {
    let f = fixture();
    render(format, &findings(&f), &f.sources, &rules(), opts)
}

fn render_json(format: Format, opts: &ReportOptions) -> Value {
    let text = render_fixture(format, opts);
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{format:?} is not JSON: {e}\n{text}"))
}

fn validate(schema: &Value, instance: &Value) {
    let validator = jsonschema::validator_for(schema).expect("schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(instance)
        .map(|error| format!("{} at {}", error, error.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "schema violations:\n{}",
        errors.join("\n")
    );
}

fn read_json(path: &std::path::Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

// ---------------------------------------------------------------------------------------------
// Sorting and determinism

/// The order every format must follow: path, line, column, code.
const SORTED: [&str; 5] = [
    "proxmox/101-cp-1.conf:2:6: PVE001",
    "proxmox/101-cp-1.conf:3:1: PVE009",
    "proxmox/101-cp-1.conf:4:1: PVE009",
    "talos/controlplane.yaml:1:1: NET003",
    "talos/controlplane.yaml:3:5: TAL004",
];

#[test]
fn concise_lists_one_sorted_line_per_finding() {
    let out = render_fixture(Format::Concise, &options());
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines,
        [
            "proxmox/101-cp-1.conf:2:6: PVE001 [error] cpu kvm64 lacks x86-64-v2; Talos will not boot",
            "proxmox/101-cp-1.conf:3:1: PVE009 [warning] disk scsi0: discard is off",
            "proxmox/101-cp-1.conf:4:1: PVE009 [warning] disk scsi1: discard is off, 100% of freed blocks stay allocated set discard=on",
            "talos/controlplane.yaml:1:1: NET003 [info] the storage network is slower than 10 Gbps",
            "talos/controlplane.yaml:3:5: TAL004 [error] the Longhorn data path /var/lib/longhorn is not mounted into the kubelet",
        ]
    );
}

#[test]
fn every_format_is_independent_of_input_order() {
    let f = fixture();
    let mut reversed = findings(&f);
    reversed.reverse();
    let mut rotated = findings(&f);
    rotated.rotate_left(2);
    let opts = ReportOptions {
        statistics: true,
        ..options()
    };
    for format in Format::ALL {
        let expected = render(format, &findings(&f), &f.sources, &rules(), &opts);
        for order in [&reversed, &rotated] {
            assert_eq!(
                render(format, order, &f.sources, &rules(), &opts),
                expected,
                "{format:?}"
            );
        }
    }
}

/// The fixture's findings `copies` times over, each copy's messages numbered: more findings
/// than the reporters render at a time.
fn many_findings(f: &Fixture, copies: usize) -> Vec<Finding> {
    (0..copies)
        .flat_map(|copy| {
            findings(f).into_iter().map(move |mut finding| {
                finding.message = format!("{} (copy {copy:04})", finding.message);
                finding
            })
        })
        .collect()
}

/// The JSON formats are made a batch of findings at a time on the worker threads: the result
/// must still be exactly `serde_json`'s pretty printing of the same document, over several
/// batches, with nested arrays and objects inside each finding.
#[test]
fn json_formats_are_serde_json_pretty_printing_over_many_batches() {
    let f = fixture();
    let findings = many_findings(&f, 150);
    for format in [Format::Json, Format::Sarif, Format::Gitlab] {
        let out = render(format, &findings, &f.sources, &rules(), &options());
        let value: Value = serde_json::from_str(&out).expect("JSON");
        let canonical = serde_json::to_string_pretty(&value).unwrap() + "\n";
        assert_eq!(out, canonical, "{format:?}");
    }
}

/// The text formats are rendered a batch of findings at a time too: every finding comes out
/// once, in the sorted order, across batches.
#[test]
fn text_formats_keep_the_sorted_order_over_many_batches() {
    let f = fixture();
    let findings = many_findings(&f, 150);
    let concise = render(Format::Concise, &findings, &f.sources, &rules(), &options());
    let lines: Vec<&str> = concise.lines().collect();
    assert_eq!(lines.len(), findings.len());
    let mut sorted = lines.clone();
    sorted.sort_by_key(|line| {
        let (place, rest) = line.split_once(": ").unwrap();
        let mut parts = place.rsplitn(3, ':');
        let column: usize = parts.next().unwrap().parse().unwrap();
        let line_number: usize = parts.next().unwrap().parse().unwrap();
        (
            parts.next().unwrap().to_owned(),
            line_number,
            column,
            rest.to_owned(),
        )
    });
    assert_eq!(lines, sorted);
    for format in [Format::Human, Format::Github] {
        let out = render(format, &findings, &f.sources, &rules(), &options());
        let positions: Vec<usize> = (0..150)
            .map(|copy| format!("(copy {copy:04})"))
            .map(|copy| {
                out.find(&copy)
                    .unwrap_or_else(|| panic!("{format:?}: {copy} lost"))
            })
            .collect();
        assert!(positions.is_sorted(), "{format:?}: copies out of order");
    }
}

#[test]
fn json_sarif_and_gitlab_follow_the_sorted_order() {
    let json = render_json(Format::Json, &options());
    let from_json: Vec<String> = json["findings"]
        .as_array()
        .expect("findings array")
        .iter()
        .map(|f| {
            format!(
                "{}:{}:{}: {}",
                f["path"].as_str().unwrap_or(""),
                f["line"],
                f["column"],
                f["code"].as_str().unwrap_or("")
            )
        })
        .collect();
    assert_eq!(from_json, SORTED);

    let sarif = render_json(Format::Sarif, &options());
    let from_sarif: Vec<String> = sarif["runs"][0]["results"]
        .as_array()
        .expect("results array")
        .iter()
        .map(|r| {
            let location = &r["locations"][0]["physicalLocation"];
            format!(
                "{}:{}:{}: {}",
                location["artifactLocation"]["uri"].as_str().unwrap_or(""),
                location["region"]["startLine"],
                location["region"]["startColumn"],
                r["ruleId"].as_str().unwrap_or("")
            )
        })
        .collect();
    assert_eq!(from_sarif, SORTED);

    let gitlab = render_json(Format::Gitlab, &options());
    let from_gitlab: Vec<String> = gitlab
        .as_array()
        .expect("gitlab array")
        .iter()
        .map(|i| {
            format!(
                "{}:{}",
                i["location"]["path"].as_str().unwrap_or(""),
                i["check_name"].as_str().unwrap_or("")
            )
        })
        .collect();
    let expected: Vec<String> = SORTED
        .iter()
        .map(|s| {
            let (path, rest) = s.split_once(':').unwrap_or_default();
            format!("{path}:{}", rest.rsplit(' ').next().unwrap_or_default())
        })
        .collect();
    assert_eq!(from_gitlab, expected);
}

// ---------------------------------------------------------------------------------------------
// human

#[test]
fn human_shows_snippets_related_locations_help_and_summary() {
    let out = render_fixture(Format::Human, &options());
    assert!(
        !out.contains('\u{1b}'),
        "colour escape without colour:\n{out}"
    );
    assert!(
        out.ends_with("Found 2 errors, 2 warnings, 1 info.\n"),
        "{out}"
    );
    // Header with severity, code and name; primary snippet with its relative path and position.
    assert!(
        out.contains("error[TAL004] longhorn-mount-missing"),
        "{out}"
    );
    assert!(out.contains("[talos/controlplane.yaml:3:5]"), "{out}");
    assert!(out.contains("3 │     extraMounts: []"), "{out}");
    // Same-file related location: a label on the same snippet.
    assert!(out.contains("the data disk is declared here"), "{out}");
    // Other-file related location: its own snippet of the other file.
    assert!(out.contains("the VM's Longhorn data disk"), "{out}");
    assert!(out.contains("[proxmox/101-cp-1.conf:4:1]"), "{out}");
    assert!(out.contains("help: add an extraMounts entry"), "{out}");
    insta::assert_snapshot!("human", out);
}

#[test]
fn human_and_concise_use_colour_when_asked() {
    let opts = ReportOptions {
        color: true,
        ..options()
    };
    assert!(render_fixture(Format::Human, &opts).contains('\u{1b}'));
    assert!(render_fixture(Format::Concise, &opts).contains('\u{1b}'));
}

#[test]
fn no_findings_pass_all_checks() {
    let f = fixture();
    let out = render(Format::Human, &[], &f.sources, &rules(), &options());
    assert_eq!(out, "All checks passed.\n");
    assert_eq!(
        render(Format::Concise, &[], &f.sources, &rules(), &options()),
        ""
    );
    assert_eq!(
        render(Format::Github, &[], &f.sources, &rules(), &options()),
        ""
    );
    assert_eq!(
        render(Format::Gitlab, &[], &f.sources, &rules(), &options()),
        "[]\n"
    );
}

// ---------------------------------------------------------------------------------------------
// --statistics

#[test]
fn statistics_count_per_code_most_frequent_first_then_by_code() {
    let opts = ReportOptions {
        statistics: true,
        ..options()
    };
    let expected_table = "2  PVE009  discard-off\n\
                          1  NET003  slow-storage-network\n\
                          1  PVE001  cpu-lacks-x86-64-v2\n\
                          1  TAL004  longhorn-mount-missing\n";
    let concise = render_fixture(Format::Concise, &opts);
    assert!(concise.ends_with(expected_table), "{concise}");
    let human = render_fixture(Format::Human, &opts);
    assert!(human.contains(expected_table), "{human}");
    assert!(!render_fixture(Format::Concise, &options()).contains("discard-off"));

    let json = render_json(Format::Json, &opts);
    let by_code: Vec<(String, u64)> = json["summary"]["byCode"]
        .as_array()
        .expect("byCode with --statistics")
        .iter()
        .map(|row| {
            (
                row["code"].as_str().unwrap_or("").to_owned(),
                row["count"].as_u64().unwrap_or(0),
            )
        })
        .collect();
    assert_eq!(
        by_code,
        [
            ("PVE009".to_owned(), 2),
            ("NET003".to_owned(), 1),
            ("PVE001".to_owned(), 1),
            ("TAL004".to_owned(), 1)
        ]
    );
    assert!(
        render_json(Format::Json, &options())["summary"]
            .get("byCode")
            .is_none()
    );
}

// ---------------------------------------------------------------------------------------------
// json

#[test]
fn json_validates_against_the_shipped_schema() {
    let schema = read_json(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("schemas/findings.schema.json"),
    );
    for statistics in [false, true] {
        let opts = ReportOptions {
            statistics,
            ..options()
        };
        validate(&schema, &render_json(Format::Json, &opts));
    }
    // The schema is strict enough to catch a wrong shape.
    let mut broken = render_json(Format::Json, &options());
    broken["findings"][0]["severity"] = Value::from("fatal");
    let validator = jsonschema::validator_for(&schema).expect("schema compiles");
    assert!(!validator.is_valid(&broken));
}

#[test]
fn json_carries_positions_related_and_summary() {
    let json = render_json(Format::Json, &options());
    assert_eq!(json["version"], 1);
    let tal004 = &json["findings"][4];
    assert_eq!(tal004["code"], "TAL004");
    assert_eq!(tal004["name"], "longhorn-mount-missing");
    assert_eq!(tal004["severity"], "error");
    // `extraMounts: []` is on line 3 from column 5; the end is just after `]` (column 20).
    assert_eq!(
        (tal004["line"].as_u64(), tal004["column"].as_u64()),
        (Some(3), Some(5))
    );
    assert_eq!(
        (tal004["endLine"].as_u64(), tal004["endColumn"].as_u64()),
        (Some(3), Some(20))
    );
    assert_eq!(tal004["related"][1]["path"], "proxmox/101-cp-1.conf");
    assert_eq!(tal004["related"][1]["line"], 4);
    assert_eq!(
        tal004["related"][1]["message"],
        "the VM's Longhorn data disk"
    );
    assert!(
        tal004["help"]
            .as_str()
            .is_some_and(|h| h.contains("rshared"))
    );
    assert_eq!(json["findings"][3]["help"], Value::Null);
    assert_eq!(json["summary"]["errors"], 2);
    assert_eq!(json["summary"]["warnings"], 2);
    assert_eq!(json["summary"]["infos"], 1);
    assert_eq!(json["summary"]["total"], 5);
    insta::assert_json_snapshot!("json", json);
}

// ---------------------------------------------------------------------------------------------
// sarif

#[test]
fn sarif_validates_against_the_sarif_2_1_0_schema() {
    let Some(shared) = common::shared_dir() else {
        return;
    };
    let schema = read_json(&shared.join("upstream/sarif/sarif-2.1.0.json"));
    validate(&schema, &render_json(Format::Sarif, &options()));
    // A root given as a relative path has no URI; the log must stay valid.
    let relative_root = ReportOptions::new(".", "0.1.0");
    validate(&schema, &render_json(Format::Sarif, &relative_root));
}

#[test]
fn sarif_uses_relative_uris_rule_indexes_and_levels() {
    let sarif = render_json(Format::Sarif, &options());
    assert_eq!(sarif["version"], "2.1.0");
    let run = &sarif["runs"][0];
    // The root is described, never written out: no absolute path of the machine in the log.
    assert_eq!(run["originalUriBaseIds"]["%SRCROOT%"]["uri"], Value::Null);
    assert!(!sarif.to_string().contains("/repo"), "{sarif}");
    let driver = &run["tool"]["driver"];
    assert_eq!(driver["name"], "talhorn");
    assert_eq!(driver["version"], "0.1.0");
    assert_eq!(driver["informationUri"], "https://example.org/talhorn");
    let rules = driver["rules"].as_array().expect("rules");
    assert_eq!(rules.len(), 4);
    let pve001 = rules
        .iter()
        .find(|r| r["id"] == "PVE001")
        .expect("PVE001 descriptor");
    assert_eq!(pve001["name"], "cpu-lacks-x86-64-v2");
    assert_eq!(pve001["defaultConfiguration"]["level"], "error");
    assert_eq!(pve001["helpUri"], "https://example.org/rules/PVE001");
    assert_eq!(
        pve001["fullDescription"]["text"],
        "What it checks. Why it breaks the stack."
    );
    assert!(
        pve001["help"]["markdown"]
            .as_str()
            .is_some_and(|m| m.contains("## Fix"))
    );

    let results = run["results"].as_array().expect("results");
    for result in results {
        let index = result["ruleIndex"].as_u64().expect("ruleIndex") as usize;
        assert_eq!(
            rules[index]["id"], result["ruleId"],
            "ruleIndex points at its rule"
        );
        let artifact = &result["locations"][0]["physicalLocation"]["artifactLocation"];
        assert_eq!(artifact["uriBaseId"], "%SRCROOT%");
        let uri = artifact["uri"].as_str().unwrap_or("");
        assert!(
            !uri.starts_with('/') && !uri.starts_with("file:") && !uri.starts_with('.'),
            "{uri}"
        );
    }
    let levels: Vec<&str> = results
        .iter()
        .map(|r| r["level"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(levels, ["error", "warning", "warning", "note", "error"]);

    let related = &results[4]["relatedLocations"];
    assert_eq!(
        related[1]["physicalLocation"]["artifactLocation"]["uri"],
        "proxmox/101-cp-1.conf"
    );
    assert_eq!(related[1]["physicalLocation"]["region"]["startLine"], 4);
    assert_eq!(related[1]["message"]["text"], "the VM's Longhorn data disk");
    insta::assert_json_snapshot!("sarif", sarif);
}

// ---------------------------------------------------------------------------------------------
// github

#[test]
fn github_escapes_data_and_properties_exactly() {
    let out = render_fixture(Format::Github, &options());
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 5, "{out}");
    assert_eq!(
        lines[2],
        "::warning file=proxmox/101-cp-1.conf,line=4,col=1,endLine=4,endColumn=41,title=PVE009 discard-off::\
         disk scsi1: discard is off, 100%25 of freed blocks stay allocated%0Aset discard=on"
    );
    assert!(
        lines[3].starts_with("::notice file=talos/controlplane.yaml,line=1,col=1,"),
        "{out}"
    );
    // Related places and help become further lines of the annotation.
    assert!(
        lines[4].ends_with(
            "::the Longhorn data path /var/lib/longhorn is not mounted into the kubelet\
             %0Arelated: talos/controlplane.yaml:5:7: the data disk is declared here\
             %0Arelated: proxmox/101-cp-1.conf:4:1: the VM's Longhorn data disk\
             %0Ahelp: add an extraMounts entry with bind, rshared and rw for /var/lib/longhorn"
        ),
        "{out}"
    );
    insta::assert_snapshot!("github", out);
}

#[test]
fn github_property_values_escape_colon_and_comma() {
    let mut sources = SourceMap::default();
    let file = sources.add(SourceFile::new("/repo/a,b:c%.yaml", "x: 1\n"));
    let finding = Finding::new("INT003", Severity::Error, Location::file_start(file), "bad");
    let out = render(Format::Github, &[finding], &sources, &[], &options());
    assert_eq!(
        out,
        "::error file=a%2Cb%3Ac%25.yaml,line=1,col=1,endLine=1,endColumn=1,title=INT003::bad\n"
    );
}

#[test]
fn github_explains_the_ten_annotation_limit_before_the_annotations() {
    let mut sources = SourceMap::default();
    let text = "a\n".repeat(20);
    let file = sources.add(SourceFile::new("/repo/many.yaml", text.as_str()));
    let errors = |count: usize| -> Vec<Finding> {
        (0..count)
            .map(|line| {
                Finding::new(
                    "INT003",
                    Severity::Error,
                    Location::new(file, Span::new(line * 2, line * 2 + 1)),
                    "bad",
                )
            })
            .collect()
    };
    let at_limit = render(Format::Github, &errors(10), &sources, &[], &options());
    assert!(!at_limit.contains("::notice::"), "{at_limit}");

    let over = render(Format::Github, &errors(11), &sources, &[], &options());
    let first = over.lines().next().unwrap_or_default();
    assert!(
        first.starts_with("::notice::talhorn reported 11 error findings"),
        "{first}"
    );
    assert!(
        first.contains("at most 10 error annotations per step, so 1 are not annotated"),
        "{first}"
    );
    assert!(first.contains("--format sarif"), "{first}");
    assert_eq!(
        over.lines().filter(|l| l.starts_with("::error ")).count(),
        11
    );
}

// ---------------------------------------------------------------------------------------------
// gitlab

#[test]
fn gitlab_report_has_required_fields_relative_paths_and_mapped_severities() {
    let gitlab = render_json(Format::Gitlab, &options());
    let issues = gitlab.as_array().expect("a JSON array");
    assert_eq!(issues.len(), 5);
    let severities: Vec<&str> = issues
        .iter()
        .map(|i| i["severity"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(severities, ["major", "minor", "minor", "info", "major"]);
    for issue in issues {
        let path = issue["location"]["path"].as_str().unwrap_or("");
        assert!(
            path == "proxmox/101-cp-1.conf" || path == "talos/controlplane.yaml",
            "{path}"
        );
        assert!(
            issue["location"]["lines"]["begin"]
                .as_u64()
                .is_some_and(|l| l >= 1)
        );
        let check = issue["check_name"].as_str().unwrap_or("");
        assert!(
            issue["description"]
                .as_str()
                .is_some_and(|d| d.starts_with(check)),
            "{issue}"
        );
    }
    insta::assert_json_snapshot!("gitlab", gitlab);
}

#[test]
fn gitlab_fingerprints_are_unique_hex_and_stable() {
    let f = fixture();
    let mut with_duplicate = findings(&f);
    // An exact duplicate must still get its own fingerprint, or GitLab would merge the two.
    with_duplicate.push(with_duplicate[2].clone());
    let render_fingerprints = |list: &[Finding]| -> Vec<String> {
        let out = render(Format::Gitlab, list, &f.sources, &rules(), &options());
        let issues: Value = serde_json::from_str(&out).expect("JSON");
        issues
            .as_array()
            .expect("array")
            .iter()
            .map(|i| i["fingerprint"].as_str().unwrap_or("").to_owned())
            .collect()
    };
    let fingerprints = render_fingerprints(&with_duplicate);
    assert_eq!(fingerprints.len(), 6);
    let unique: HashSet<&String> = fingerprints.iter().collect();
    assert_eq!(unique.len(), 6, "{fingerprints:?}");
    for fingerprint in &fingerprints {
        assert_eq!(fingerprint.len(), 64);
        assert!(
            fingerprint
                .chars()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
        );
    }
    // A finding keeps its fingerprint when unrelated findings come and go.
    let alone = render_fingerprints(&findings(&f)[2..3]);
    assert!(fingerprints.contains(&alone[0]));
}

// ---------------------------------------------------------------------------------------------
// robustness

#[test]
fn bad_locations_and_unknown_codes_never_panic() {
    let f = fixture();
    let bogus = vec![
        Finding::new(
            "XXX999",
            Severity::Error,
            Location::new(FileId(42), Span::new(5, 9)),
            "no such file",
        )
        .related(Location::new(FileId(7), Span::at(0)), "nor this one"),
        // Past the end of the text: clamps to the end.
        Finding::new(
            "PVE001",
            Severity::Warning,
            Location::new(f.vm, Span::new(10_000, 20_000)),
            "past the end",
        ),
    ];
    for format in Format::ALL {
        let out = render(format, &bogus, &f.sources, &rules(), &options());
        assert!(out.contains("no such file"), "{format:?}:\n{out}");
    }
    let json = render(Format::Json, &bogus, &f.sources, &rules(), &options());
    let json: Value = serde_json::from_str(&json).expect("JSON");
    assert_eq!(json["findings"][0]["path"], "<unknown file #42>");
    assert_eq!(json["findings"][0]["name"], Value::Null);
    // The clamped span sits at the end of the file: line 5 is the empty line after the last LF.
    assert_eq!(json["findings"][1]["line"], 5);
}

//! A lint in pieces must report what the whole lint reports, byte for byte, or fall back to
//! the whole lint.

use super::*;
use crate::cli::{Cli, Command};
use clap::Parser;
use std::fs;

use crate::synthetic_tree;

fn lint_args(dir: &Path, extra: &[&str]) -> LintArgs {
    let mut argv = vec!["talhorn".into(), "lint".into(), dir.as_os_str().to_owned()];
    argv.extend(extra.iter().map(Into::into));
    match Cli::try_parse_from(argv).expect("arguments parse").command {
        Command::Lint(args) => args,
        _ => unreachable!("a lint was asked for"),
    }
}

/// The report of the whole lint, and whether it fails.
fn whole(args: &LintArgs) -> (Vec<u8>, bool) {
    let config = config(args).expect("configuration loads");
    let outcome = crate::lint::lint_paths(&args.paths, &config).expect("lint runs");
    report_of(args, &[&outcome])
}

/// The report [`report_findings`] writes of `parts`, and whether it fails.
fn report_of(args: &LintArgs, parts: &[&LintOutcome]) -> (Vec<u8>, bool) {
    let mut out = Vec::new();
    write_findings(args, parts, Some(Stream::Stdout), &mut out).expect("report written");
    let failing = parts.iter().any(|part| failing(args, &part.findings));
    (out, failing)
}

/// What linting in pieces made of `args`.
#[derive(Debug)]
enum Pieces {
    /// The report, as written out, and whether it fails.
    Report(Vec<u8>, bool),
    /// The same, of a folder whose folders set apart made one piece: nothing was spooled.
    OnePiece(Vec<u8>, bool),
    /// Nothing was set apart.
    NothingApart,
    /// The lint is to be run whole.
    Whole,
}

/// [`lint_in_pieces`] of `args`, about `piece_files` files a piece.
fn in_pieces(args: &LintArgs, piece_files: usize) -> Pieces {
    use std::io::{Read, Seek};
    let config = config(args).expect("configuration loads");
    match lint_in_pieces(args, &config, &args.paths[0], piece_files) {
        None => Pieces::Whole,
        Some(Ok(InPieces::Whole(_))) => Pieces::NothingApart,
        Some(Ok(InPieces::OnePiece { rest, piece })) => {
            let (report, failing) = report_of(args, &[&rest, &piece]);
            Pieces::OnePiece(report, failing)
        }
        Some(Ok(InPieces::Spooled(mut spooled))) => {
            let mut out = spooled.totals.preamble.clone().into_bytes();
            spooled.spool.rewind().expect("spool rewinds");
            spooled.spool.read_to_end(&mut out).expect("spool reads");
            Pieces::Report(out, spooled.seen.failing)
        }
        Some(Err(e)) => panic!("spool: {e}"),
    }
}

fn write(path: &Path, text: &str) {
    fs::create_dir_all(path.parent().expect("a folder")).expect("folder made");
    fs::write(path, text).expect("file written");
}

const KVM64_VM: &str = "cores: 2\ncpu: kvm64\nmemory: 4096\nscsihw: virtio-scsi-single\n\
                        scsi0: local-zfs:vm-1-disk-0,size=32G\nnet0: virtio=BC:24:11:00:00:01,bridge=vmbr0\n\
                        ostype: l26\n";

/// The synthetic monorepo, with files of the rest of the repository before, between and after
/// the cluster folders in the report's order (`clusters/c000-x/` comes before `clusters/c000/`
/// there, after it in the walk's), ignore files and `exclude:` globs reaching into the
/// folders set apart.
fn monorepo() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path();
    synthetic_tree::write_tree(root, 1_200).expect("tree written");
    fs::rename(root.join("clusters/c011"), root.join("clusters/c000-x")).expect("renamed");
    for rest in [
        "a/qemu-server/100.conf",
        "clusters/x.conf",
        "zz/qemu-server/300.conf",
    ] {
        write(&root.join(rest), KVM64_VM);
    }
    write(&root.join("clusters/c000.conf"), KVM64_VM);
    // A talhelper cluster set apart by its talconfig's name, and one in a layer folder, which
    // stays in the rest.
    let talhelper = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/rules/TAL001/fires-no-iscsi-tools-talhelper");
    for (from, to) in [
        ("talos/talconfig.yaml", "sites/prod/talconfig.yaml"),
        (
            "kubernetes/longhorn/values.yaml",
            "sites/prod/kubernetes/longhorn/values.yaml",
        ),
        ("talos/talconfig.yaml", "lab/talos/talconfig.yaml"),
        (
            "kubernetes/longhorn/values.yaml",
            "lab/kubernetes/longhorn/values.yaml",
        ),
    ] {
        let text = fs::read_to_string(talhelper.join(from)).expect("fixture read");
        write(&root.join(to), &text);
    }
    write(
        &root.join(".gitignore"),
        "/clusters/c001/proxmox/\nclusters/*/talos/nodes/c002-w-*.yaml\n",
    );
    write(
        &root.join("clusters/.gitignore"),
        "!c002/talos/nodes/c002-w-3.yaml\n",
    );
    fs::create_dir(root.join(".git")).expect(".git made");
    write(
        &root.join(".talhorn.yaml"),
        "exclude:\n  - clusters/c003/proxmox/**\n",
    );
    dir
}

/// With pieces of one cluster folder (100 files: `c000-x/` and `c000/` in pieces of their
/// own), of several (500 files: three pieces) and of them all (one piece, not spooled).
#[test]
fn pieces_report_what_the_whole_lint_reports_in_every_format() {
    let dir = monorepo();
    for format in ["human", "concise", "json", "sarif", "github", "gitlab"] {
        for statistics in [&[][..], &["--statistics"][..]] {
            let mut extra = vec!["--format", format];
            extra.extend(statistics);
            let args = lint_args(dir.path(), &extra);
            let (expected, expected_failing) = whole(&args);
            for piece_files in [100, 500, apart::PIECE_FILES] {
                let (Pieces::Report(report, failing) | Pieces::OnePiece(report, failing)) =
                    in_pieces(&args, piece_files)
                else {
                    panic!("{format}: the monorepo is linted in pieces");
                };
                assert_eq!(failing, expected_failing, "{format}");
                assert!(
                    report == expected,
                    "{format} {statistics:?}, pieces of {piece_files} files: pieces differ \
                     from the whole lint:\n{}",
                    first_difference(&report, &expected)
                );
            }
        }
    }
}

fn first_difference(got: &[u8], expected: &[u8]) -> String {
    let (got, expected) = (
        String::from_utf8_lossy(got),
        String::from_utf8_lossy(expected),
    );
    let at = got
        .lines()
        .zip(expected.lines())
        .position(|(a, b)| a != b)
        .unwrap_or(got.lines().count().min(expected.lines().count()));
    format!(
        "line {}:\n  pieces: {:?}\n  whole:  {:?}",
        at + 1,
        got.lines().nth(at),
        expected.lines().nth(at)
    )
}

/// Folders set apart that fit in one piece are reported with the rest straight away; more
/// than one piece are spooled.
#[test]
fn one_piece_is_reported_without_a_spool() {
    let dir = monorepo();
    let args = lint_args(dir.path(), &["--format", "json"]);
    assert!(matches!(
        in_pieces(&args, apart::PIECE_FILES),
        Pieces::OnePiece(..)
    ));
    assert!(matches!(in_pieces(&args, 500), Pieces::Report(..)));
}

#[test]
fn a_repository_with_no_cluster_folder_is_one_piece() {
    let dir = tempfile::tempdir().expect("temp dir");
    synthetic_tree::write_one_cluster(dir.path(), 300).expect("tree written");
    let args = lint_args(dir.path(), &["--format", "json"]);
    assert!(matches!(
        in_pieces(&args, apart::PIECE_FILES),
        Pieces::NothingApart
    ));
}

/// Each case makes a piece need what is outside it; the lint in pieces must see it and leave
/// the lint to be run whole.
#[test]
fn a_piece_that_needs_files_outside_it_makes_the_lint_whole() {
    type Case = (&'static str, fn(&Path));
    let cases: [Case; 5] = [
        (
            "an Omni template names a patch outside its folder",
            |root| {
                write(
                    &root.join("clusters/c001/omni/prod.yaml"),
                    "kind: Cluster\nname: prod\ntalos:\n  version: v1.11.6\nkubernetes:\n  \
                 version: v1.34.1\npatches:\n  - file: ../../../patches/longhorn.yaml\n",
                );
                write(
                    &root.join("patches/longhorn.yaml"),
                    "machine:\n  kubelet:\n    extraMounts: []\n",
                );
            },
        ),
        (
            "a build manifest lists files, the intent is elsewhere",
            |root| {
                write(
                    &root.join("cluster.yaml"),
                    "cluster:\n  name: lab\nproxmox:\n  node: pve\nnodes: []\n",
                );
                write(
                    &root.join("clusters/c001/out/.talhorn-manifest.json"),
                    r#"{"files": {"qemu-server/900.conf": "x"}}"#,
                );
                write(
                    &root.join("clusters/c001/out/qemu-server/900.conf"),
                    KVM64_VM,
                );
            },
        ),
        ("a repository inside a cluster folder", |root| {
            fs::create_dir_all(root.join("clusters/c001/vendored/.git")).expect(".git made");
            write(
                &root.join("clusters/c001/vendored/qemu-server/901.conf"),
                KVM64_VM,
            );
        }),
        ("a cluster's .talhorn.yaml cannot be used", |root| {
            write(&root.join("clusters/c001/.talhorn.yaml"), "select: [\n");
        }),
        ("shared files", |root| {
            write(&root.join(".talhorn.yaml"), "shared:\n  - common/*.yaml\n");
            write(
                &root.join("common/patch.yaml"),
                "machine:\n  install:\n    disk: /dev/sda\n",
            );
        }),
    ];
    for (case, make) in cases {
        let dir = tempfile::tempdir().expect("temp dir");
        synthetic_tree::write_tree(dir.path(), 300).expect("tree written");
        let args = lint_args(dir.path(), &["--format", "json"]);
        assert!(
            matches!(in_pieces(&args, apart::PIECE_FILES), Pieces::OnePiece(..)),
            "{case}: linted in pieces before the change"
        );
        make(dir.path());
        let args = lint_args(dir.path(), &["--format", "json"]);
        assert!(
            matches!(in_pieces(&args, apart::PIECE_FILES), Pieces::Whole),
            "{case}"
        );
    }
}

#[test]
fn listing_the_files_lints_whole() {
    let dir = tempfile::tempdir().expect("temp dir");
    synthetic_tree::write_tree(dir.path(), 300).expect("tree written");
    let args = lint_args(dir.path(), &["--show-files"]);
    assert!(matches!(
        in_pieces(&args, apart::PIECE_FILES),
        Pieces::Whole
    ));
}

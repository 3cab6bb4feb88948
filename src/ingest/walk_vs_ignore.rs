//! The walk leaves out exactly what the `ignore` crate's walker leaves out: generated trees
//! with ignore files at every level (whitelists, hidden names, folders, bad lines, rules above
//! the root, repositories and worktrees, symlinks) are walked by both, and what each found is
//! compared. The walk's listings are compared with the folders themselves.

use super::discover::{Discovered, discover, error_path, is_candidate};
use crate::rules::LintConfig;
use ignore::WalkBuilder;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// A small deterministic generator (xorshift): the same trees on every run.
struct Dice(u64);

impl Dice {
    fn roll(&mut self, sides: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % sides as u64) as usize
    }

    fn chance(&mut self, percent: usize) -> bool {
        self.roll(100) < percent
    }

    fn pick<'a>(&mut self, from: &[&'a str]) -> &'a str {
        from[self.roll(from.len())]
    }
}

const FOLDERS: &[&str] = &["a", "b", "build", ".h", "sub", "keep", "x y", "nodes"];
const FILES: &[&str] = &[
    "f.yaml",
    "g.yml",
    ".hid.yaml",
    "k.conf",
    "m.tf",
    "build.yaml",
    "x.txt",
    "values.yaml",
    "v.tfvars",
];
/// Lines of ignore files: plain, anchored, folder-only, whitelists (also of hidden names),
/// globs across folders, escapes, and lines that are not valid globs.
const LINES: &[&str] = &[
    "*.yml",
    "build/",
    "!build/",
    "!build.yaml",
    "/a",
    "sub/",
    "!.hid.yaml",
    "!.h",
    "!.h/",
    "*.conf",
    "!k.conf",
    "a/**/f.yaml",
    "**/m.tf",
    "b",
    "!b/keep",
    "keep/*",
    "!keep/values.yaml",
    "x y/",
    "nodes/*.yaml",
    "*.tfvars",
    "# a comment",
    "",
    "\\!x.txt",
    "a[",
    "{unclosed",
    "/sub/g.yml",
    "f.yaml/",
    ".*",
];

fn write_ignore_file(path: &Path, dice: &mut Dice) {
    let lines: Vec<&str> = (0..1 + dice.roll(4)).map(|_| dice.pick(LINES)).collect();
    std::fs::write(path, lines.join("\n") + "\n").unwrap();
}

/// A folder with files, ignore files, maybe a repository, and folders below it.
fn fill(dir: &Path, depth: usize, dice: &mut Dice) {
    std::fs::create_dir_all(dir).unwrap();
    for _ in 0..dice.roll(5) {
        std::fs::write(dir.join(dice.pick(FILES)), "a: 1\n").unwrap();
    }
    for name in [".gitignore", ".ignore"] {
        if dice.chance(30) {
            write_ignore_file(&dir.join(name), dice);
        }
    }
    if dice.chance(12) && !dir.join(".git").exists() {
        let info = dir.join(".git/info");
        std::fs::create_dir_all(&info).unwrap();
        write_ignore_file(&info.join("exclude"), dice);
    }
    // A folder filled twice already has its links.
    let links = [
        (10, dice.pick(FILES), "link.yaml"),
        (6, "a", "linked-folder"),
        (4, "loop.yaml", "loop.yaml"),
    ];
    for (percent, target, name) in links {
        if dice.chance(percent) {
            let _ = std::os::unix::fs::symlink(target, dir.join(name));
        }
    }
    if depth < 3 {
        for _ in 0..dice.roll(4) {
            fill(&dir.join(dice.pick(FOLDERS)), depth + 1, dice);
        }
    }
}

/// A worktree: `.git` is a file leading to a folder whose `commondir` holds `info/exclude`.
fn worktree(dir: &Path, common: &Path, dice: &mut Dice) {
    let private = common.join("worktrees/w");
    std::fs::create_dir_all(&private).unwrap();
    std::fs::create_dir_all(common.join("info")).unwrap();
    write_ignore_file(&common.join("info/exclude"), dice);
    std::fs::write(private.join("commondir"), "../..\n").unwrap();
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join(".git"), format!("gitdir: {}\n", private.display())).unwrap();
}

/// What the `ignore` crate's walker finds, with the options talhorn walked with before it
/// walked on its own: files with a candidate name, problems and special files.
fn reference(root: &Path) -> Discovered {
    let found = Mutex::new(Discovered::default());
    WalkBuilder::new(root)
        .follow_links(false)
        .require_git(false)
        .git_global(false)
        .threads(2)
        .build_parallel()
        .run(|| {
            let found = &found;
            Box::new(move |entry| {
                let mut found = found.lock().unwrap();
                match entry {
                    Err(error) => {
                        let path = error_path(&error).unwrap_or_else(|| root.to_path_buf());
                        found.problems.push((path, format!("cannot read: {error}")));
                    }
                    Ok(entry) => {
                        let kind = entry.file_type().unwrap();
                        if kind.is_symlink() {
                            if std::fs::metadata(entry.path())
                                .is_err_and(|e| e.kind() != std::io::ErrorKind::NotFound)
                            {
                                found.problems.push((entry.path().into(), "symlink".into()));
                            }
                        } else if kind.is_file() && is_candidate(entry.path()) {
                            found.files.push(entry.path().into());
                        }
                    }
                }
                ignore::WalkState::Continue
            })
        });
    found.into_inner().unwrap()
}

fn files(found: &Discovered) -> BTreeSet<PathBuf> {
    found.files.iter().map(|p| p.to_path_buf()).collect()
}

/// Problems as the reference words them (a symlink problem only by where it is).
fn problems(found: &Discovered) -> BTreeSet<(PathBuf, String)> {
    found
        .problems
        .iter()
        .map(|(path, message)| {
            let message = if message.starts_with("cannot follow this symlink") {
                "symlink".to_string()
            } else {
                message.clone()
            };
            (path.clone(), message)
        })
        .collect()
}

/// Compares both walks of `root`, and each listing the walk kept with the folder itself.
fn compare(root: &Path, seed: u64) {
    let ours = discover(&[root.to_path_buf()], &LintConfig::default()).unwrap();
    let theirs = reference(root);
    assert_eq!(
        files(&ours),
        files(&theirs),
        "seed {seed}: files of {root:?}"
    );
    assert_eq!(
        problems(&ours),
        problems(&theirs),
        "seed {seed}: problems of {root:?}"
    );
    for (dir, listing) in &ours.listed {
        let listed: Vec<_> = listing.names().map(|n| n.to_owned()).collect();
        let mut fresh: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|entry| entry.unwrap().file_name())
            .collect();
        // A listing's names are in byte order, as `OsString`s sort on Unix.
        fresh.sort();
        assert_eq!(listed, fresh, "seed {seed}: {dir:?}");
    }
}

/// Generated trees, each walked from several spellings of its root (a symlink to it among
/// them), under a folder with rules of its own (the rules above the root).
#[test]
fn the_walk_leaves_out_what_the_ignore_crate_leaves_out() {
    let mut walked_with_rules_above = 0;
    for seed in 1..=160u64 {
        let mut dice = Dice(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        let outer = tempfile::tempdir().unwrap();
        let root = outer.path().join("root");
        fill(&root, 0, &mut dice);
        if dice.chance(30) {
            worktree(&root.join("wt"), &outer.path().join("repo.git"), &mut dice);
            fill(&root.join("wt"), 2, &mut dice);
        }
        if dice.chance(50) {
            write_ignore_file(&outer.path().join(".gitignore"), &mut dice);
            std::fs::write(
                outer.path().join(".ignore"),
                format!("root/{}\n!root/b/\n", dice.pick(FILES)),
            )
            .unwrap();
            walked_with_rules_above += 1;
        }
        // A symlink to the root, named as the root (the walk follows a root it is given).
        let link = outer.path().join("link");
        std::os::unix::fs::symlink(&root, &link).unwrap();
        let spellings = [
            root.clone(),
            PathBuf::from(format!("{}/", root.display())),
            root.join("."),
            root.join("a"),
            link,
        ];
        for spelled in spellings.iter().filter(|p| p.is_dir()) {
            compare(spelled, seed);
        }
    }
    assert!(
        walked_with_rules_above > 20,
        "too few trees with rules above the root"
    );
}

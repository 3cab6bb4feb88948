//! The fuzz targets of `fuzz/` on the stable toolchain: a mutation fuzzer without coverage
//! feedback that runs the `qm.conf` parser, the YAML reader, the intent loader, the
//! Terraform and talhelper readers and the reporters (the intent's findings in every format)
//! on inputs derived from `fixtures/bad/`, `examples/`, `fixtures/formats/` and `fixtures/rules/`,
//! for a fixed time.
//!
//! ```text
//! TALHORN_FUZZ_SECONDS=600 cargo test --release --test fuzz_stable -- --ignored --nocapture
//! ```
//!
//! `TALHORN_FUZZ_SECONDS` (default 60) sets the duration, `TALHORN_FUZZ_SEED` the random seed
//! (printed at the start, so a failure can be replayed). An input that panics is saved to
//! `target/fuzz-stable-crash-<seed>-<n>.txt` and fails the test; an input that overflows the
//! stack aborts the process and is left in `target/fuzz-stable-last-input.txt`.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Tokens that matter to the three formats, spliced into seeds.
const TOKENS: &[&str] = &[
    "\n",
    "\r\n",
    "\t",
    " ",
    ":",
    ": ",
    ",",
    "=",
    "#",
    " #",
    "[",
    "]",
    "{",
    "}",
    "[PENDING]\n",
    "[special:cloudinit]\n",
    "&a ",
    "*a",
    "<<: ",
    "---\n",
    "...\n",
    "- ",
    "? ",
    "|\n",
    ">-\n",
    "\"",
    "'",
    "\\",
    "!!str ",
    "%YAML 1.2\n",
    "\u{feff}",
    "\u{1b}[31m",
    "\u{9b}",
    "\u{202e}",
    "é",
    "\u{0}",
    "0x",
    "-1",
    "99999999999999999999",
    "1e309",
    ".nan",
    "~",
    "null",
    "true",
    "cluster:\n",
    "nodes:\n",
    "proxmox:\n",
    "machine:\n",
    "kind: UserVolumeConfig\n",
    "apiVersion: v1alpha1\n",
    "resource \"proxmox_virtual_environment_vm\" \"vm\" {\n",
    "resource \"proxmox_vm_qemu\" \"vm\" {\n",
    "data \"talos_machine_configuration\" \"cp\" {\n",
    "config_patches = [",
    "<<-EOT\n",
    "EOT\n",
    "yamlencode({",
    "${var.x}",
    "%{ if true }",
    "local.",
    "var.",
    "disk {\n",
    "clusterName: c\n",
    "talosVersion: v1.10.0\n",
    "  - hostname: n\n",
    "patches:\n",
];

/// xorshift64*: deterministic and good enough to pick mutations.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
}

fn seeds() -> Vec<Vec<u8>> {
    fn walk(dir: &Path, out: &mut Vec<Vec<u8>>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(&path, out);
            } else if let Ok(bytes) = std::fs::read(&path)
                && bytes.len() < 64 * 1024
            {
                out.push(bytes);
            }
        }
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut out = Vec::new();
    walk(&root.join("fixtures/bad"), &mut out);
    walk(&root.join("examples"), &mut out);
    walk(&root.join("fixtures/formats"), &mut out);
    // Rule fixtures hold every format in the shapes rules read (a heredoc with `---` among them).
    walk(&root.join("fixtures/rules"), &mut out);
    out.push(Vec::new());
    out
}

fn mutate(rng: &mut Rng, input: &mut Vec<u8>, seeds: &[Vec<u8>]) {
    for _ in 0..=rng.below(8) {
        let at = rng.below(input.len() + 1);
        match rng.below(6) {
            0 => input
                .splice(at..at, TOKENS[rng.below(TOKENS.len())].bytes())
                .for_each(drop),
            1 if !input.is_empty() => {
                let end = (at + rng.below(32)).min(input.len());
                input.drain(at.min(end)..end);
            }
            2 if at < input.len() => input[at] = rng.next() as u8,
            3 if !input.is_empty() => {
                let start = rng.below(input.len());
                let end = (start + rng.below(64)).min(input.len());
                let copy = input[start..end].to_vec();
                input.splice(at..at, copy).for_each(drop);
            }
            4 => {
                let other = &seeds[rng.below(seeds.len())];
                let cut = rng.below(other.len() + 1);
                input.truncate(at);
                input.extend_from_slice(&other[cut..]);
            }
            _ => input.splice(at..at, [b' '; 4]).for_each(drop),
        }
    }
}

/// The same targets as `fuzz/fuzz_targets/`.
fn run_targets(text: &str) {
    let parsed = talhorn::load::qmconf::parse(text);
    for option in parsed.sections.iter().flat_map(|s| &s.options) {
        assert!(text.get(option.line.start..option.line.end).is_some());
        let _ = option.properties();
    }
    if let Err(error) = talhorn::yaml::parse_documents(text) {
        assert!(error.span.start <= text.len());
    }
    let _ = talhorn::intent::load(talhorn::source::FileId(0), text);
    for span in talhorn::ingest::read_terraform_text(text) {
        assert!(span.start <= span.end && span.end <= text.len(), "{span:?}");
    }
    for span in talhorn::ingest::read_talconfig_text(text) {
        assert!(span.end <= text.len(), "{span:?}");
    }
    render_intent_findings(text);
}

/// The `report` target: an intent's findings rendered in every format. Nothing from the input
/// may reach the text formats as a raw control character.
fn render_intent_findings(text: &str) {
    use talhorn::report::{Format, ReportOptions, render};
    let mut sources = talhorn::source::SourceMap::default();
    let file = sources.add(talhorn::source::SourceFile::new("cluster.yaml", text));
    let Err(findings) = talhorn::intent::load(file, text) else {
        return;
    };
    let options = ReportOptions::new("", "0.0.0");
    for format in Format::ALL {
        let out = render(format, &findings, &sources, &[], &options);
        if matches!(format, Format::Human | Format::Concise | Format::Github) {
            assert!(
                !out.chars()
                    .any(|c| c.is_control() && !matches!(c, '\n' | '\t')),
                "{format:?} output holds a raw control character:\n{out}"
            );
        }
    }
}

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[test]
#[ignore = "runs for a minute or more; see the module documentation"]
fn fuzz_the_parsers_for_a_while() {
    let duration = Duration::from_secs(env_number("TALHORN_FUZZ_SECONDS", 60));
    let seed = env_number("TALHORN_FUZZ_SEED", 0x7a1_4012);
    eprintln!("fuzzing for {duration:?} with TALHORN_FUZZ_SEED={seed}");
    let seeds = seeds();
    let mut rng = Rng(seed.max(1));
    let started = Instant::now();
    let mut runs = 0u64;
    let mut crashes: Vec<PathBuf> = Vec::new();
    let last_input =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("target/fuzz-stable-last-input.txt");
    let _ = std::fs::create_dir_all(last_input.parent().unwrap_or(Path::new(".")));
    while started.elapsed() < duration {
        let mut input = seeds[rng.below(seeds.len())].clone();
        mutate(&mut rng, &mut input, &seeds);
        let text = String::from_utf8_lossy(&input).into_owned();
        runs += 1;
        // A stack overflow aborts the process: the last input written is the culprit.
        let _ = std::fs::write(&last_input, &text);
        if catch_unwind(AssertUnwindSafe(|| run_targets(&text))).is_err() {
            let path = Path::new(env!("CARGO_MANIFEST_DIR"))
                .join(format!("target/fuzz-stable-crash-{seed}-{runs}.txt"));
            let _ = std::fs::create_dir_all(path.parent().unwrap_or(Path::new(".")));
            let _ = std::fs::write(&path, &text);
            crashes.push(path);
        }
    }
    eprintln!("{runs} inputs in {:?}", started.elapsed());
    assert!(crashes.is_empty(), "inputs that panic: {crashes:?}");
}

//! The command line: argument parsing and one function per command.

mod build;
mod lint;
mod misc;

use crate::emit::Part;
use crate::finding::{Finding, Severity};
use crate::report::{self, Format, ReportOptions, RuleInfo};
use crate::source::SourceMap;
use clap::{Parser, Subcommand};
use std::io::{IsTerminal, Write as _};
use std::path::{Path, PathBuf};

/// Exit codes (README "Exit codes").
pub const EXIT_OK: i32 = 0;
pub const EXIT_FINDINGS: i32 = 1;
pub const EXIT_ERROR: i32 = 2;

#[derive(Parser, Debug)]
#[command(
    name = "talhorn",
    version,
    about = "Offline compiler and linter for Kubernetes on Talos Linux VMs on Proxmox VE with Longhorn storage",
    after_help = "Examples:\n  talhorn init cluster.yaml\n  talhorn build cluster.yaml -o out/\n  talhorn build cluster.yaml -o out/ --check\n  talhorn lint . --format github\n  talhorn explain PVE001\n\nExit codes: 0 clean, 1 findings at or above --fail-on (or drift with build --check), 2 usage or input error."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Write a commented starter intent (latest known versions pinned).
    #[command(after_help = "Example:\n  talhorn init cluster.yaml")]
    Init {
        /// Where to write it.
        #[arg(default_value = "cluster.yaml")]
        path: PathBuf,
        /// Overwrite an existing file.
        #[arg(long)]
        force: bool,
    },
    /// Compile an intent into Proxmox, Talos and Longhorn files; lints first and refuses to write on errors.
    #[command(
        after_help = "Examples:\n  talhorn build cluster.yaml -o out/\n  talhorn build --check -o out/   # CI: exit 1 when generated files drifted\n  talhorn build --diff --only talos"
    )]
    Build(BuildArgs),
    /// Lint files and directories: intents, qm.conf, storage.cfg, interfaces, Talos configs, Longhorn values and manifests.
    #[command(
        after_help = "Examples:\n  talhorn lint\n  talhorn lint proxmox/ talos/ --format concise\n  talhorn lint --format sarif --output-file talhorn.sarif\n  talhorn lint --select PVE,TAL --ignore NET003 --fail-on warning"
    )]
    Lint(LintArgs),
    /// Print a rule's documentation (markdown).
    #[command(after_help = "Example:\n  talhorn explain TAL004")]
    Explain {
        /// A rule code such as PVE001.
        code: String,
    },
    /// List every rule.
    #[command(after_help = "Example:\n  talhorn rules --format markdown > docs/rules.md")]
    Rules {
        #[arg(long, value_enum, default_value_t = RulesFormat::Table)]
        format: RulesFormat,
    },
    /// Print the Image Factory schematic of an intent, its ID, installer image and ISO URL.
    #[command(after_help = "Example:\n  talhorn schematic cluster.yaml")]
    Schematic {
        #[arg(default_value = "cluster.yaml")]
        intent: PathBuf,
    },
    /// Print the intent's JSON schema.
    Schema,
    /// Print shell completions.
    #[command(after_help = "Example:\n  talhorn completions bash > /etc/bash_completion.d/talhorn")]
    Completions { shell: clap_complete::Shell },
}

#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum RulesFormat {
    Table,
    Json,
    Markdown,
}

#[derive(clap::Args, Debug)]
pub struct BuildArgs {
    /// The intent file.
    #[arg(default_value = "cluster.yaml")]
    pub intent: PathBuf,
    /// Output directory.
    #[arg(short, long, default_value = "out")]
    pub output: PathBuf,
    /// Write nothing; exit 1 if any output would change.
    #[arg(long)]
    pub check: bool,
    /// Write nothing; show a unified diff of what would change (exit 1 on drift).
    #[arg(long)]
    pub diff: bool,
    /// Generate only these parts.
    #[arg(long, value_enum, value_delimiter = ',')]
    pub only: Vec<Part>,
    /// Generate only this node's files (and shared files).
    #[arg(long)]
    pub node: Option<String>,
    /// Overwrite generated files that were edited by hand, and files talhorn did not generate.
    #[arg(long)]
    pub force: bool,
}

#[derive(clap::Args, Debug)]
pub struct LintArgs {
    /// Files and directories to lint.
    #[arg(default_value = ".")]
    pub paths: Vec<PathBuf>,
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    /// Write the report here instead of standard output.
    #[arg(long)]
    pub output_file: Option<PathBuf>,
    /// Exit 1 when a finding is at or above this severity.
    #[arg(long, value_enum, default_value_t = FailOn::Error)]
    pub fail_on: FailOn,
    /// Always exit 0 when linting ran (findings are still reported).
    #[arg(long)]
    pub exit_zero: bool,
    /// Run only these rule codes or prefixes (comma-separated).
    #[arg(long, value_delimiter = ',')]
    pub select: Vec<String>,
    /// Skip these rule codes or prefixes (comma-separated).
    #[arg(long, value_delimiter = ',')]
    pub ignore: Vec<String>,
    /// Append a count per rule code.
    #[arg(long)]
    pub statistics: bool,
    /// Use this config file instead of discovering `.talhorn.yaml`.
    #[arg(long)]
    pub config: Option<PathBuf>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum FailOn {
    Error,
    Warning,
    Info,
}

impl FailOn {
    pub const fn severity(self) -> Severity {
        match self {
            Self::Error => Severity::Error,
            Self::Warning => Severity::Warning,
            Self::Info => Severity::Info,
        }
    }
}

/// Runs the command line and returns the exit code.
pub fn run(cli: Cli) -> i32 {
    match cli.command {
        Command::Init { path, force } => misc::init(&path, force),
        Command::Build(args) => build::run(&args),
        Command::Lint(args) => lint::run(&args),
        Command::Explain { code } => misc::explain(&code),
        Command::Rules { format } => misc::rules(format),
        Command::Schematic { intent } => misc::schematic(&intent),
        Command::Schema => misc::schema(),
        Command::Completions { shell } => misc::completions(shell),
    }
}

pub(crate) fn rule_infos() -> Vec<RuleInfo> {
    crate::rules::all_meta()
        .into_iter()
        .map(|m| RuleInfo {
            code: m.code,
            name: m.name,
            severity: m.severity,
            summary: m.summary,
            docs: m.docs,
            help_uri: None,
        })
        .collect()
}

/// Colour only for people: a terminal, and no `NO_COLOR`.
pub(crate) fn use_color() -> bool {
    std::env::var_os("NO_COLOR").is_none() && std::io::stdout().is_terminal()
}

pub(crate) fn render(
    format: Format,
    findings: &[Finding],
    sources: &SourceMap,
    statistics: bool,
    color: bool,
) -> String {
    let root = std::env::current_dir().unwrap_or_default();
    let mut options = ReportOptions::new(root, env!("CARGO_PKG_VERSION"));
    options.color = color && matches!(format, Format::Human | Format::Concise);
    options.statistics = statistics;
    report::render(format, findings, sources, &rule_infos(), &options)
}

/// Reads a file the user named (bounded, regular files only); the error says which and why.
pub(crate) fn read_input(path: &Path) -> Result<String, String> {
    crate::source::read_text(path).map_err(|e| format!("{}: {e}", path.display()))
}

/// Writes to standard output. A reader that went away (`talhorn rules | head -1`) ends the
/// output quietly, as with other command-line tools; any other failure is reported and makes
/// the result `false`.
pub(crate) fn print_out(text: &str) -> bool {
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Ok(()) => true,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => true,
        Err(e) => {
            print_err(&format!("error: cannot write to standard output: {e}\n"));
            false
        }
    }
}

/// Writes to standard error; there is nowhere left to report a failure to.
pub(crate) fn print_err(text: &str) {
    let mut stderr = std::io::stderr().lock();
    let _ = stderr
        .write_all(text.as_bytes())
        .and_then(|()| stderr.flush());
}

pub(crate) fn fail(message: impl std::fmt::Display) -> i32 {
    print_err(&format!("error: {message}\n"));
    EXIT_ERROR
}

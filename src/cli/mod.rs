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
    /// Print only findings and errors: no status lines, no info findings from build, no summary when lint finds nothing.
    #[arg(short, long, global = true)]
    pub quiet: bool,
    /// When to colour output: auto (a terminal, unless NO_COLOR is set or TERM=dumb; FORCE_COLOR forces it), always or never.
    #[arg(long, value_enum, global = true, default_value_t = ColorChoice::Auto, value_name = "WHEN")]
    pub color: ColorChoice,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

/// Settings of the whole command line, fixed once per process.
#[derive(Clone, Copy, Debug)]
struct Ui {
    quiet: bool,
    color: ColorChoice,
}

static UI: std::sync::OnceLock<Ui> = std::sync::OnceLock::new();

fn ui() -> Ui {
    UI.get().copied().unwrap_or(Ui {
        quiet: false,
        color: ColorChoice::Auto,
    })
}

/// `-q`: status lines are left out.
pub(crate) fn quiet() -> bool {
    ui().quiet
}

/// A status line on standard error, unless `-q`.
macro_rules! status {
    ($($arg:tt)*) => {
        if !$crate::cli::quiet() {
            $crate::cli::print_err(&format!("{}\n", format_args!($($arg)*)));
        }
    };
}
pub(crate) use status;

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
    #[command(
        after_help = "Examples:\n  talhorn explain TAL004\n  talhorn explain cpu-lacks-x86-64-v2"
    )]
    Explain {
        /// A rule code such as PVE001, or its name such as cpu-lacks-x86-64-v2.
        #[arg(value_parser = RuleParser, hide_possible_values = true)]
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
    /// Print the manual page (roff).
    #[command(after_help = "Example:\n  talhorn manpage > talhorn.1 && man ./talhorn.1")]
    Manpage,
}

/// Rule codes and names for completions. Any text is accepted: `explain` itself says what is
/// unknown and suggests the closest rule, without clap's list of every code.
#[derive(Clone, Debug)]
struct RuleParser;

impl clap::builder::TypedValueParser for RuleParser {
    type Value = String;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<String, clap::Error> {
        clap::builder::StringValueParser::new().parse_ref(cmd, arg, value)
    }

    fn possible_values(
        &self,
    ) -> Option<Box<dyn Iterator<Item = clap::builder::PossibleValue> + '_>> {
        let meta = crate::rules::all_meta();
        let values: Vec<_> = meta
            .iter()
            .map(|m| clap::builder::PossibleValue::new(m.code).help(m.summary))
            .chain(
                meta.iter()
                    .map(|m| clap::builder::PossibleValue::new(m.name).help(m.summary)),
            )
            .collect();
        Some(Box::new(values.into_iter()))
    }
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
    /// Files and directories to lint; `-` reads standard input (name it with --stdin-filename).
    #[arg(default_value = ".")]
    pub paths: Vec<PathBuf>,
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    /// Write the report here instead of standard output (missing folders are created).
    #[arg(long)]
    pub output_file: Option<PathBuf>,
    /// The name to report and classify standard input (`talhorn lint -`) by.
    #[arg(long, value_name = "PATH")]
    pub stdin_filename: Option<PathBuf>,
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
    /// List every file considered, with the kind and cluster it was read as, and exit.
    #[arg(long)]
    pub show_files: bool,
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
    let _ = UI.set(Ui {
        quiet: cli.quiet,
        color: cli.color,
    });
    match cli.command {
        Command::Init { path, force } => misc::init(&path, force),
        Command::Build(args) => build::run(&args),
        Command::Lint(args) => lint::run(&args),
        Command::Explain { code } => misc::explain(&code),
        Command::Rules { format } => misc::rules(format),
        Command::Schematic { intent } => misc::schematic(&intent),
        Command::Schema => misc::schema(),
        Command::Completions { shell } => misc::completions(shell),
        Command::Manpage => misc::manpage(),
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

/// Which stream a text goes to (colour and width depend on it being a terminal).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Stream {
    Stdout,
    Stderr,
}

impl Stream {
    fn is_terminal(self) -> bool {
        match self {
            Self::Stdout => std::io::stdout().is_terminal(),
            Self::Stderr => std::io::stderr().is_terminal(),
        }
    }
}

/// `--color`, then `NO_COLOR`, `FORCE_COLOR` and `TERM=dumb`, then whether `stream` is a
/// terminal.
pub(crate) fn use_color(stream: Stream) -> bool {
    color_wanted(
        ui().color,
        |name| std::env::var_os(name).map(|v| v.to_string_lossy().into_owned()),
        || stream.is_terminal(),
    )
}

fn color_wanted(
    choice: ColorChoice,
    env: impl Fn(&str) -> Option<String>,
    is_terminal: impl FnOnce() -> bool,
) -> bool {
    let set = |name: &str| env(name).filter(|v| !v.is_empty());
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto if set("NO_COLOR").is_some() => false,
        ColorChoice::Auto => match set("FORCE_COLOR") {
            Some(force) => force != "0" && force != "false",
            None => set("TERM").is_none_or(|t| t != "dumb") && is_terminal(),
        },
    }
}

/// The width to wrap at: `COLUMNS`, else the terminal's, else none (the reporter's fixed width,
/// so output to a file or pipe does not depend on the terminal it was started from).
pub(crate) fn width(stream: Stream) -> Option<usize> {
    let columns = std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.trim().parse::<usize>().ok());
    columns.filter(|c| *c > 0).or_else(|| {
        // Only a terminal has a width; a file or a pipe gets the fixed one.
        if !stream.is_terminal() {
            return None;
        }
        let (terminal_size::Width(w), _) = match stream {
            Stream::Stdout => terminal_size::terminal_size_of(std::io::stdout()),
            Stream::Stderr => terminal_size::terminal_size_of(std::io::stderr()),
        }?;
        Some(usize::from(w))
    })
}

/// How to render a report for `stream` (`None`: a file, no colour and the fixed width).
pub(crate) fn report_options(
    format: Format,
    statistics: bool,
    stream: Option<Stream>,
) -> ReportOptions {
    let root = std::env::current_dir().unwrap_or_default();
    let mut options = ReportOptions::new(root, env!("CARGO_PKG_VERSION"));
    options.color =
        stream.is_some_and(use_color) && matches!(format, Format::Human | Format::Concise);
    options.width = stream.and_then(width);
    options.statistics = statistics;
    options
}

/// Renders a report for `stream` (`None`: a file, no colour and the fixed width).
pub(crate) fn render(
    format: Format,
    findings: &[Finding],
    sources: &SourceMap,
    statistics: bool,
    stream: Option<Stream>,
) -> String {
    let options = report_options(format, statistics, stream);
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
    print_out_with(|out| out.write_all(text.as_bytes()))
}

/// [`print_out`] of what `write` writes, as it writes it (buffered: standard output flushes
/// at every line otherwise).
pub(crate) fn print_out_with(
    write: impl FnOnce(&mut dyn std::io::Write) -> std::io::Result<()>,
) -> bool {
    let mut stdout = std::io::BufWriter::with_capacity(64 * 1024, std::io::stdout().lock());
    match write(&mut stdout).and_then(|()| stdout.flush()) {
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

#[cfg(test)]
mod tests {
    use super::{ColorChoice, color_wanted};

    fn wanted(choice: ColorChoice, vars: &[(&str, &str)], terminal: bool) -> bool {
        let env = |name: &str| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_string())
        };
        color_wanted(choice, env, || terminal)
    }

    #[test]
    fn colour_follows_the_flag_then_no_color_force_color_and_term() {
        assert!(wanted(ColorChoice::Auto, &[], true));
        assert!(!wanted(ColorChoice::Auto, &[], false));
        assert!(!wanted(ColorChoice::Auto, &[("TERM", "dumb")], true));
        assert!(!wanted(ColorChoice::Auto, &[("NO_COLOR", "1")], true));
        assert!(!wanted(
            ColorChoice::Auto,
            &[("NO_COLOR", "1"), ("FORCE_COLOR", "1")],
            false
        ));
        assert!(wanted(ColorChoice::Auto, &[("FORCE_COLOR", "1")], false));
        assert!(wanted(
            ColorChoice::Auto,
            &[("FORCE_COLOR", "1"), ("TERM", "dumb")],
            false
        ));
        assert!(!wanted(ColorChoice::Auto, &[("FORCE_COLOR", "0")], true));
        assert!(wanted(ColorChoice::Auto, &[("NO_COLOR", "")], true));
        assert!(wanted(ColorChoice::Always, &[("NO_COLOR", "1")], false));
        assert!(!wanted(ColorChoice::Never, &[("FORCE_COLOR", "1")], true));
    }
}

//! The small commands: init, explain, rules, schematic, schema, completions, manpage.

use super::{
    Cli, EXIT_ERROR, EXIT_OK, RulesFormat, Stream, fail, print_err, print_out, read_input, render,
    status,
};
use crate::report::Format;
use crate::rules::docs;
use crate::source::{SourceFile, SourceMap};
use clap::CommandFactory;
use std::path::Path;

const STARTER: &str = include_str!("../../templates/cluster.yaml.j2");

/// The starter intent with the newest known versions pinned.
pub fn starter_intent() -> String {
    let talos = crate::knowledge::talos::latest_stable()
        .map_or_else(|| "v1.11.6".into(), |v| v.to_string());
    let longhorn = crate::knowledge::longhorn::known_versions()
        .last()
        .map_or_else(|| "1.10.2".into(), |v| v.to_string());
    STARTER
        .replace("{{ talos }}", &talos)
        .replace("{{ longhorn }}", &longhorn)
}

fn write_new(path: &Path, content: &str, force: bool) -> Result<bool, String> {
    if path.exists() && !force {
        return Ok(false);
    }
    create_parent(path)?;
    crate::write::write_file_atomically(path, content.as_bytes())
        .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    Ok(true)
}

/// Creates the folders a file the user named goes into.
pub(crate) fn create_parent(path: &Path) -> Result<(), String> {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display())),
        _ => Ok(()),
    }
}

/// Whether a file is a schema `init` wrote (any talhorn version), which it may refresh.
fn is_our_schema(path: &Path) -> bool {
    let ours = |text: &str| {
        serde_json::from_str::<serde_json::Value>(text)
            .ok()
            .and_then(|v| v.get("$id").and_then(|id| id.as_str()).map(str::to_string))
    };
    let existing = crate::source::read_text(path).ok();
    existing.is_some_and(|text| ours(&text).is_some() && ours(&text) == ours(crate::intent::SCHEMA))
}

pub fn init(path: &Path, force: bool) -> i32 {
    if path.exists() && !force {
        return fail(format!(
            "{} exists; use --force to overwrite it",
            path.display()
        ));
    }
    if let Err(e) = write_new(path, &starter_intent(), force) {
        return fail(e);
    }
    // The schema is talhorn's: refresh an older copy so editors check against this version,
    // but never overwrite a file that is not one.
    let schema = path.with_file_name("intent.schema.json");
    let refresh = force || is_our_schema(&schema);
    match write_new(&schema, crate::intent::SCHEMA, refresh) {
        Ok(written) => {
            if !written {
                print_err(&format!(
                    "warning: {} exists and is not talhorn's intent schema; left as is\n",
                    schema.display()
                ));
            }
            status!(
                "wrote {} (schema: {}); next: talhorn build {}",
                path.display(),
                schema.display(),
                path.display()
            );
            EXIT_OK
        }
        Err(e) => fail(e),
    }
}

/// By code (`PVE001`) or by name (`cpu-lacks-x86-64-v2`).
pub fn explain(code: &str) -> i32 {
    let meta = crate::rules::meta(code).or_else(|| {
        crate::rules::all_meta()
            .into_iter()
            .find(|m| m.name.eq_ignore_ascii_case(code))
    });
    match meta {
        Some(meta) => printed(&docs::explain(meta)),
        None => {
            let known: Vec<String> = crate::rules::all_meta()
                .iter()
                .flat_map(|m| [m.code.to_string(), m.name.to_string()])
                .collect();
            let hint = crate::intent::did_you_mean(code, &known);
            let hint = if hint.starts_with("did you mean") {
                format!("{hint} ")
            } else {
                String::new()
            };
            fail(format!(
                "`{code}` is not a rule code or name; {hint}`talhorn rules` lists them"
            ))
        }
    }
}

pub fn rules(format: RulesFormat) -> i32 {
    printed(&match format {
        RulesFormat::Table => docs::table(),
        RulesFormat::Json => docs::json(),
        RulesFormat::Markdown => docs::markdown(),
    })
}

/// Prints a command's output: exit 0, or 2 when standard output cannot be written.
fn printed(text: &str) -> i32 {
    if print_out(text) { EXIT_OK } else { EXIT_ERROR }
}

pub fn schematic(path: &Path) -> i32 {
    let text = match read_input(path) {
        Ok(text) => text,
        Err(e) => return fail(e),
    };
    let mut sources = SourceMap::default();
    let file = sources.add(SourceFile::new(path, text.clone()));
    match crate::intent::load(file, &text) {
        Ok(loaded) => match crate::emit::schematic_summary(&loaded) {
            Ok(summary) => printed(&summary),
            Err(e) => fail(e),
        },
        Err(errors) => {
            print_err(&render(
                Format::Human,
                &errors,
                &sources,
                false,
                Some(Stream::Stderr),
            ));
            EXIT_ERROR
        }
    }
}

pub fn schema() -> i32 {
    printed(crate::intent::SCHEMA)
}

pub fn completions(shell: clap_complete::Shell) -> i32 {
    let mut command = Cli::command();
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut command, "talhorn", &mut script);
    printed(&String::from_utf8_lossy(&script))
}

pub fn manpage() -> i32 {
    let mut out = Vec::new();
    match clap_mangen::Man::new(Cli::command()).render(&mut out) {
        Ok(()) => printed(&String::from_utf8_lossy(&out)),
        Err(e) => fail(format!("cannot render the manual page: {e}")),
    }
}

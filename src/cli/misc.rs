//! The small commands: init, explain, rules, schematic, schema, completions.

use super::{
    Cli, EXIT_ERROR, EXIT_OK, RulesFormat, fail, print_err, print_out, read_input, render,
    use_color,
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
    crate::write::write_file_atomically(path, content.as_bytes())
        .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    Ok(true)
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
    let schema = path.with_file_name("intent.schema.json");
    match write_new(&schema, crate::intent::SCHEMA, false) {
        Ok(_) => {
            print_err(&format!(
                "wrote {} (schema: {}); next: talhorn build {}\n",
                path.display(),
                schema.display(),
                path.display()
            ));
            EXIT_OK
        }
        Err(e) => fail(e),
    }
}

pub fn explain(code: &str) -> i32 {
    match crate::rules::meta(code) {
        Some(meta) => printed(&docs::explain(meta)),
        None => fail(format!(
            "`{code}` is not a rule code; `talhorn rules` lists them"
        )),
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
                use_color(),
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

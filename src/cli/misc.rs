//! The small commands: init, explain, rules, schematic, schema, completions.

use super::{Cli, EXIT_ERROR, EXIT_OK, RulesFormat, fail, read_input, render, use_color};
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
            eprintln!(
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

pub fn explain(code: &str) -> i32 {
    match crate::rules::meta(code) {
        Some(meta) => {
            print!("{}", docs::explain(meta));
            EXIT_OK
        }
        None => fail(format!(
            "`{code}` is not a rule code; `talhorn rules` lists them"
        )),
    }
}

pub fn rules(format: RulesFormat) -> i32 {
    print!(
        "{}",
        match format {
            RulesFormat::Table => docs::table(),
            RulesFormat::Json => docs::json(),
            RulesFormat::Markdown => docs::markdown(),
        }
    );
    EXIT_OK
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
            Ok(summary) => {
                print!("{summary}");
                EXIT_OK
            }
            Err(e) => fail(e),
        },
        Err(errors) => {
            eprint!(
                "{}",
                render(Format::Human, &errors, &sources, false, use_color())
            );
            EXIT_ERROR
        }
    }
}

pub fn schema() -> i32 {
    print!("{}", crate::intent::SCHEMA);
    EXIT_OK
}

pub fn completions(shell: clap_complete::Shell) -> i32 {
    let mut command = Cli::command();
    clap_complete::generate(shell, &mut command, "talhorn", &mut std::io::stdout());
    EXIT_OK
}

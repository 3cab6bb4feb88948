//! Line formats (`qm.conf`, `create-vms.sh`, `RUNBOOK.md`, `.gitignore`) are minijinja templates
//! compiled into the binary. Every value a template prints passes [`one_line`] (the
//! environment's formatter), so no input string (a node name, the intent's file name, …) can
//! start a new line in any of them; the YAML header comments use the same function. On top of
//! that, `sh` single-quotes a shell word and `qm` refuses a `qm.conf` value that would change
//! its meaning (a ` #` comment, surrounding blanks, an empty value). `create-vms.sh` prints
//! thousands of shell words: they arrive as [`ShellWord`]s, quoted in Rust by the same
//! [`shell_quote`], so its loop calls no filter per word.

use minijinja::{Environment, Error, ErrorKind, Output, State, UndefinedBehavior, Value};
use std::borrow::Cow;
use std::fmt::Write as _;
use std::sync::OnceLock;

const TEMPLATES: &[(&str, &str)] = &[
    ("qm.conf", include_str!("../../templates/qm.conf.j2")),
    (
        "create-vms.sh",
        include_str!("../../templates/create-vms.sh.j2"),
    ),
    ("RUNBOOK.md", include_str!("../../templates/RUNBOOK.md.j2")),
];

/// The one escaping path from an input string to a generated line: control characters
/// (newlines, carriage returns, tabs, escape sequences, Unicode line and paragraph separators)
/// are written as visible `\u{..}` escapes, so the text stays on the line it was put on.
pub fn one_line(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if breaks_line(c) {
            // Writing to a String cannot fail.
            let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
        } else {
            out.push(c);
        }
    }
    out
}

/// Whether [`one_line`] would change the text. Printable ASCII, nearly every printed value, is
/// told by a byte test the compiler vectorises; the rest by the character test.
fn needs_escapes(text: &str) -> bool {
    !text.bytes().all(|b| (b' '..=b'~').contains(&b)) && text.chars().any(breaks_line)
}

/// A character [`one_line`] escapes.
fn breaks_line(c: char) -> bool {
    c.is_control() || matches!(c, '\u{2028}' | '\u{2029}')
}

fn formatter(out: &mut Output, _state: &State, value: &Value) -> Result<(), Error> {
    // A string is written as it is unless it needs escapes: no copy per printed value.
    let text = value
        .as_str()
        .map_or_else(|| Cow::Owned(value.to_string()), Cow::Borrowed);
    let text = if needs_escapes(&text) {
        Cow::Owned(one_line(&text))
    } else {
        text
    };
    out.write_str(&text)
        .map_err(|e| Error::new(ErrorKind::WriteFailure, e.to_string()))
}

/// Quotes a shell word: plain words stay as they are, anything else is single-quoted.
pub fn shell_quote(word: &str) -> String {
    if is_plain_word(word) {
        word.to_string()
    } else {
        single_quoted(word)
    }
}

/// A word the shell reads as it is written: no quoting needed.
fn is_plain_word(word: &str) -> bool {
    !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:=,@%+".contains(c))
}

fn single_quoted(word: &str) -> String {
    format!("'{}'", word.replace('\'', r"'\''"))
}

fn sh(value: Value) -> String {
    shell_quote(&value.to_string())
}

/// A shell word already quoted as [`shell_quote`] does: a template prints it as it is. The only
/// way to make one is [`ShellWord::quote`], so no unquoted text passes for a quoted word.
pub struct ShellWord(Value);

impl ShellWord {
    /// Like `Value::from(shell_quote(word))`, without the copy of a plain word.
    pub fn quote(word: &str) -> Self {
        Self(if is_plain_word(word) {
            Value::from(word)
        } else {
            Value::from(single_quoted(word))
        })
    }
}

impl From<ShellWord> for Value {
    fn from(word: ShellWord) -> Self {
        word.0
    }
}

/// A `qm.conf` value must stay on its line and must not contain ` #` (PVE keeps it as part of
/// the value, which is never what was meant). A good value is passed on as it is (no copy).
fn qm(value: Value) -> Result<Value, Error> {
    let text = value
        .as_str()
        .map_or_else(|| Cow::Owned(value.to_string()), Cow::Borrowed);
    if text.contains(['\n', '\r', '\0'])
        || text.contains(" #")
        || text.trim() != text
        || text.is_empty()
    {
        return Err(Error::new(
            ErrorKind::InvalidOperation,
            format!("refusing to write {text:?} into qm.conf: it would break the line"),
        ));
    }
    Ok(value)
}

fn environment() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        env.set_keep_trailing_newline(true);
        env.set_formatter(formatter);
        env.add_filter("sh", sh);
        env.add_filter("qm", qm);
        for (name, source) in TEMPLATES {
            // The templates are part of the binary; a broken one fails every test.
            if let Err(e) = env.add_template(name, source) {
                eprintln!("talhorn: built-in template {name} is broken: {e}");
            }
        }
        env
    })
}

/// Renders a built-in template.
pub fn render(name: &str, context: impl serde::Serialize) -> Result<String, String> {
    environment()
        .get_template(name)
        .and_then(|t| t.render(context))
        .map_err(|e| format!("cannot render {name}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_words_are_quoted_unless_plain() {
        assert_eq!(
            shell_quote("local-lvm:32,discard=on"),
            "local-lvm:32,discard=on"
        );
        assert_eq!(shell_quote("order=scsi0;net0"), "'order=scsi0;net0'");
        assert_eq!(shell_quote("a'b"), r"'a'\''b'");
        assert_eq!(shell_quote("$(reboot)"), "'$(reboot)'");
        assert_eq!(shell_quote(""), "''");
    }

    #[test]
    fn a_shell_word_is_quoted_as_shell_quote_quotes_it() {
        for word in [
            "1001",
            "local-lvm:32,discard=on",
            "order=scsi0;net0",
            "a'b",
            "",
            "a\nb",
        ] {
            assert_eq!(
                Value::from(ShellWord::quote(word)).as_str(),
                Some(shell_quote(word).as_str())
            );
        }
    }

    #[test]
    fn every_printed_value_stays_on_its_line() {
        assert_eq!(one_line("homelab.yaml"), "homelab.yaml");
        assert_eq!(one_line("a\nb\r\u{2028}c"), "a\\u{a}b\\u{d}\\u{2028}c");
        let text = render(
            "qm.conf",
            minijinja::context! { intent_file => "x\nrm -rf /", lines => Vec::<String>::new() },
        )
        .unwrap();
        assert_eq!(text.lines().count(), 1, "{text}");
    }

    #[test]
    fn only_text_with_a_line_breaking_character_needs_escapes() {
        for text in ["", "homelab.yaml", "a b~", "é ü 中", "a\u{7f}"] {
            assert_eq!(needs_escapes(text), one_line(text) != text, "{text:?}");
        }
        for text in [
            "a\nb",
            "\t",
            "\u{1b}[31m",
            "x\u{85}",
            "\u{2028}",
            "\u{2029}",
        ] {
            assert!(needs_escapes(text), "{text:?}");
        }
    }

    #[test]
    fn qm_values_cannot_break_lines() {
        assert!(qm("host".into()).is_ok());
        assert!(qm("host\nballoon: 1".into()).is_err());
        assert!(qm("host # comment".into()).is_err());
    }
}

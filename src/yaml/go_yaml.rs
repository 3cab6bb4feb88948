//! YAML that serde-saphyr rejects and go-yaml (gopkg.in/yaml.v3) reads. Flux, kustomize,
//! Helm, Talos and talhelper read users' files with go-yaml, so talhorn must not call invalid
//! a file they accept. Two such cases are common in real repositories:
//!
//! - An alias used as a mapping key with no space before its colon (`*app:`, the bjw-s
//!   app-template pattern). YAML 1.2 allows `:` in an anchor name, so serde-saphyr reads the
//!   alias `app:`, which names no anchor; go-yaml, libyaml and PyYAML end the name at the colon
//!   and read the alias `app` as the key.
//! - A plain scalar written as a decimal number too large for a float (`1e999`, a disk serial
//!   such as `2244E6801787`). serde-saphyr reads an infinite float, which talhorn's policy
//!   rejects; go-yaml takes a float only when Go's `strconv.ParseFloat` succeeds, and reads
//!   the text as a string when it overflows.
//!
//! [`edited_as_go_yaml_reads`] finds every such place from granit's tokens (never inside a
//! quoted scalar, a block scalar or a comment) and edits a copy of the text into one
//! serde-saphyr reads as go-yaml reads the original: a space before the alias's colon,
//! quotes around the scalar. [`Edited`] takes the spans of what is parsed from the copy back
//! to the user's text.

use super::{Node, Value};
use crate::source::Span;
use std::collections::HashSet;

/// A copy of a text with single bytes inserted.
pub struct Edited {
    pub text: String,
    /// The offsets in `text` of the inserted bytes, in increasing order.
    inserted: Vec<usize>,
}

impl Edited {
    /// The offset in the original text of an offset in the edited one. An inserted byte
    /// stands where it was inserted, so a node's span ends where its original text ends
    /// (after `2244E6801787`, not after the closing quote added to it).
    pub fn original_offset(&self, offset: usize) -> usize {
        offset - self.inserted.partition_point(|&at| at < offset)
    }

    pub fn original_span(&self, span: Span) -> Span {
        Span::new(
            self.original_offset(span.start),
            self.original_offset(span.end),
        )
    }

    /// Moves the span of every node of `docs`, keys included, back to the original text.
    pub fn restore_spans(&self, docs: &mut [Node]) {
        // A loop, not recursion: the caller's stack may be small.
        let mut pending: Vec<&mut Node> = docs.iter_mut().collect();
        while let Some(node) = pending.pop() {
            node.span = self.original_span(node.span);
            match &mut node.value {
                Value::Seq(items) => pending.extend(items.iter_mut()),
                Value::Map(entries) => {
                    for (key, value) in entries {
                        pending.push(key);
                        pending.push(value);
                    }
                }
                _ => {}
            }
        }
    }
}

/// The text edited so that serde-saphyr reads it as go-yaml reads `text` (see the module's
/// documentation), or `None` when there is nothing to edit.
pub fn edited_as_go_yaml_reads(text: &str) -> Option<Edited> {
    let insertions = insertions(text);
    if insertions.is_empty() {
        return None;
    }
    insert(text, &insertions)
}

/// `text` with each byte inserted at its offset (in increasing order; each offset a character
/// boundary, or `None`).
fn insert(text: &str, insertions: &[(usize, char)]) -> Option<Edited> {
    let mut edited = String::with_capacity(text.len() + insertions.len());
    let mut inserted = Vec::with_capacity(insertions.len());
    let mut from = 0;
    for &(at, byte) in insertions {
        edited.push_str(text.get(from..at)?);
        inserted.push(edited.len());
        edited.push(byte);
        from = at;
    }
    edited.push_str(text.get(from..)?);
    Some(Edited {
        text: edited,
        inserted,
    })
}

/// Where to insert which byte, by offset in `text`, in increasing order.
///
/// The scanner reads what follows an alias `name:` otherwise than go-yaml does (`*app: 1e999`
/// and the lines after it become one multi-line scalar), so the text is scanned once with a
/// space before every colon that may end an alias ([`alias_colons`], found in the text
/// alone, so also in quoted scalars and comments), and the tokens of that text say which
/// colons end an alias and which plain scalars overflow. A space where no alias is changes
/// nothing the scanner reads but that scalar's or comment's text, and is left out of the
/// edit. Tokens are read up to the first the scanner cannot read (the parse then reports
/// that error).
fn insertions(text: &str) -> Vec<(usize, char)> {
    use granit_parser::{ScalarStyle, Scanner, StrInput, TokenType};
    let colons = alias_colons(text);
    let spaced = if colons.is_empty() {
        None
    } else {
        let spaces: Vec<_> = colons.iter().map(|&at| (at, ' ')).collect();
        insert(text, &spaces)
    };
    let scanned = spaced.as_ref().map_or(text, |spaced| &spaced.text);
    let original = |offset| {
        spaced
            .as_ref()
            .map_or(offset, |s| s.original_offset(offset))
    };
    let inserted_at = |offset| {
        spaced
            .as_ref()
            .is_some_and(|s| s.inserted.binary_search(&offset).is_ok())
    };
    let mut insertions = Vec::new();
    // Whether the next node has a tag: a tagged scalar is typed by its tag, not its text.
    let mut tagged = false;
    for token in Scanner::new(StrInput::new(scanned)) {
        let Ok(token) = token else { break };
        let (span, token) = token.into_parts();
        let (Some(start), Some(end)) = (span.start.byte_offset(), span.end.byte_offset()) else {
            break;
        };
        match token {
            TokenType::Anchor(_) => continue,
            TokenType::Tag(..) => {
                tagged = true;
                continue;
            }
            // The space after it is one inserted: its colon ends an alias.
            TokenType::Alias(_) if inserted_at(end) => insertions.push((original(end), ' ')),
            TokenType::Scalar(ScalarStyle::Plain, value)
                if !tagged
                    && scanned.get(start..end) == Some(&*value)
                    && overflows_as_float(&value) =>
            {
                insertions.push((original(start), '"'));
                insertions.push((original(end), '"'));
            }
            _ => {}
        }
        tagged = false;
    }
    insertions.sort_by_key(|&(at, _)| at);
    insertions
}

/// The offsets of the colons that may end an alias `*name:` as the scanner reads it (YAML 1.2
/// allows `:` in an anchor's name) where go-yaml reads the alias `*name` and a colon: the
/// name holds no other colon, and a blank or the end of the line follows. Found in the text
/// alone: also where no alias is (a quoted scalar, a comment), never missing one. A name an
/// anchor defines colon included (`&name:`, anywhere) is left as it is: serde-saphyr
/// resolves it.
fn alias_colons(text: &str) -> Vec<usize> {
    let mut colons: Vec<(&str, usize)> = Vec::new();
    let mut anchored: HashSet<&str> = HashSet::new();
    for at in memchr::memchr2_iter(b'*', b'&', text.as_bytes()) {
        // Where a token may start: the start of a line or a flow collection, after a blank
        // or a comma.
        let token_start = at == 0 || b" \t\r\n[{,".contains(&text.as_bytes()[at - 1]);
        let (true, Some(rest)) = (token_start, text.get(at + 1..)) else {
            continue;
        };
        let name_len = rest
            .char_indices()
            .find(|&(_, c)| !is_anchor_char(c))
            .map_or(rest.len(), |(i, _)| i);
        let name = &rest[..name_len];
        let Some(base) = name.strip_suffix(':') else {
            continue;
        };
        let blank_follows = rest
            .as_bytes()
            .get(name_len)
            .is_none_or(|b| b" \t\r\n".contains(b));
        if base.is_empty() || base.contains(':') || !blank_follows {
            continue;
        }
        if text.as_bytes()[at] == b'&' {
            anchored.insert(name);
        } else {
            colons.push((name, at + name_len));
        }
    }
    colons
        .into_iter()
        .filter(|(name, _)| !anchored.contains(name))
        .map(|(_, colon)| colon)
        .collect()
}

/// A character of an anchor's or alias's name, as granit reads one: printable, no blank, line
/// break, byte order mark or flow indicator.
fn is_anchor_char(c: char) -> bool {
    let printable = matches!(
        u32::from(c),
        0x21..=0x7E | 0x85 | 0xA0..=0xD7FF | 0xE000..=0xFFFD | 0x1_0000..=0x10_FFFF
    );
    printable && c != '\u{feff}' && !matches!(c, ',' | '[' | ']' | '{' | '}')
}

/// Whether serde-saphyr reads an untagged plain scalar as a float that overflows (and so
/// rejects it), where go-yaml reads a string: its own test, a numeral (an optional sign, then
/// a digit) that Rust parses as infinite. No integer parses so, so no scalar serde-saphyr
/// reads is read otherwise. The explicit infinities (`.inf`, `-.Inf`) and NaN (`.nan`) are
/// floats for go-yaml too, and stay so.
fn overflows_as_float(value: &str) -> bool {
    let unsigned = value.strip_prefix(['+', '-']).unwrap_or(value);
    unsigned.bytes().next().is_some_and(|b| b.is_ascii_digit())
        && value.parse::<f64>().is_ok_and(f64::is_infinite)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn edited(text: &str) -> Option<String> {
        edited_as_go_yaml_reads(text).map(|e| e.text)
    }

    #[test]
    fn a_colon_after_an_alias_is_set_apart() {
        let text = "a: &app x\nb:\n  *app:\n    c: 1\n  d: [*app: e]\n";
        assert_eq!(
            edited(text).as_deref(),
            Some("a: &app x\nb:\n  *app :\n    c: 1\n  d: [*app : e]\n")
        );
    }

    /// Scanned as written, `*app: 1e999` and the line after it are one multi-line scalar, and
    /// the scanner stops at the next colon.
    #[test]
    fn what_follows_an_alias_key_is_read_as_go_yaml_reads_it() {
        let text = "a: &app x\nb:\n  *app: 1e999\n  c: 2244E6801787\n  *app: 2e999\n  d: 3e999\n";
        assert_eq!(
            edited(text).as_deref(),
            Some(
                "a: &app x\nb:\n  *app : \"1e999\"\n  c: \"2244E6801787\"\n  *app : \"2e999\"\n  \
                 d: \"3e999\"\n"
            )
        );
    }

    #[test]
    fn aliases_in_quotes_comments_and_blocks_are_left_alone() {
        for text in [
            "a: &app x\nb: \"*app: y\"\nc: '*app: z'\n",
            "a: &app x\n# *app: y\nb: 1 # *app: z\n",
            "a: &app x\nb: |\n  *app: y\nc: >-\n  *app: z\n",
            "a: &app x\nb: y *app: z\n- c *app: d\n",
            "a: &app x\nb: \"multi\n  *app: line\"\nc: x*app: y\nd: !t*app: y\n",
            // An anchor whose name holds the colon: serde-saphyr resolves the alias.
            "a: &app: x\nb: *app:\n",
            // A colon the name does not end with, or one followed by more of the name.
            "a: &app x\nb: *a:pp\nc: *app::\nd: *app:x\n",
        ] {
            assert_eq!(edited(text), None, "{text:?}");
        }
    }

    #[test]
    fn plain_scalars_that_overflow_are_quoted() {
        let text = "serial: 2244E6801787\nl: [1e999, -9e400]\n1e400: k\nm: &x 5e309\n";
        assert_eq!(
            edited(text).as_deref(),
            Some(
                "serial: \"2244E6801787\"\nl: [\"1e999\", \"-9e400\"]\n\"1e400\": k\n\
                 m: &x \"5e309\"\n"
            )
        );
        for text in [
            "a: .inf\nb: -.Inf\nc: .nan\n",
            "a: 1e3\nb: 1.5e308\nc: 2244E68\n",
            "a: '1e999'\nb: \"1e999\"\n",
            "a: !!float 1e999\nb: !!str 1e999\nc: !x &y 1e999\n",
            "a: 1e999 b\nb: x1e999\nc: .5e999\nd: inf\n",
            "a: |\n  1e999\n# 1e999\n",
        ] {
            assert_eq!(edited(text), None, "{text:?}");
        }
        // A tag applies to its node only.
        assert_eq!(
            edited("!!map\na: 1e999\n").as_deref(),
            Some("!!map\na: \"1e999\"\n")
        );
    }

    #[test]
    fn offsets_in_the_edited_text_return_to_the_original() {
        let text = "a: 1e999\nb: *c:\n";
        let edited = edited_as_go_yaml_reads(text).unwrap();
        assert_eq!(edited.text, "a: \"1e999\"\nb: *c :\n");
        // The quoted scalar spans the original scalar.
        assert_eq!(edited.original_span(Span::new(3, 10)), Span::new(3, 8));
        // After the quotes, two bytes back; after the space, three.
        assert_eq!(edited.original_offset(11), 9);
        assert_eq!(edited.original_span(Span::new(14, 16)), Span::new(12, 14));
        assert_eq!(edited.original_offset(17), 14);
        assert_eq!(edited.original_offset(edited.text.len()), text.len());
    }

    #[test]
    fn overflowing_numerals_are_told_from_floats_and_words() {
        for value in [
            "1e999",
            "2244E6801787",
            "-1e400",
            "+1.5e309",
            &"9".repeat(400),
        ] {
            assert!(overflows_as_float(value), "{value}");
        }
        for value in [
            ".inf",
            "-.inf",
            ".nan",
            "inf",
            "-infinity",
            "nan",
            "1e308",
            "1e-999",
            ".5e999",
            "1_0e999",
            "0x1p999",
            "",
            "-",
            "12:30",
        ] {
            assert!(!overflows_as_float(value), "{value}");
        }
    }
}

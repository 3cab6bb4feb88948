//! Text from input files, made safe for a terminal or a log: control characters (an ESC
//! starting a terminal sequence, a carriage return that overwrites a line, a newline that forges
//! a record) and bidirectional overrides are shown as escapes such as `\x1b` or `\u{202e}`
//! instead of being acted on.

use std::borrow::Cow;

/// Whether `c` must not reach a terminal raw. Tabs and (where `keep_newlines`) line feeds are
/// layout, not commands.
fn is_unsafe(c: char, keep_newlines: bool) -> bool {
    match c {
        '\t' => false,
        '\n' => !keep_newlines,
        // Bidirectional embeddings, overrides and isolates reorder what is shown.
        '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' => true,
        _ => c.is_control(),
    }
}

fn escape(text: &str, keep_newlines: bool) -> Cow<'_, str> {
    if !text.chars().any(|c| is_unsafe(c, keep_newlines)) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        push_char(&mut out, c, keep_newlines);
    }
    Cow::Owned(out)
}

fn push_char(out: &mut String, c: char, keep_newlines: bool) {
    if !is_unsafe(c, keep_newlines) {
        out.push(c);
    } else if u32::from(c) < 0x80 {
        out.push_str(&format!("\\x{:02x}", u32::from(c)));
    } else {
        out.push_str(&format!("\\u{{{:x}}}", u32::from(c)));
    }
}

/// Multi-line text (a message, a help): every control character but tab and newline escaped.
pub fn escape_control(text: &str) -> Cow<'_, str> {
    escape(text, true)
}

/// One-line text (a path, a field of a one-line record): newlines escaped too.
pub fn escape_line(text: &str) -> Cow<'_, str> {
    escape(text, false)
}

/// A file's text escaped for a snippet, with a map from offsets in the original text to
/// offsets in the escaped one (spans keep pointing at the same characters). Line breaks,
/// including CRLF, are kept.
pub(crate) struct EscapedText {
    pub text: String,
    /// `(original offset of an escaped character, bytes added up to and including it)`.
    shifts: Vec<(usize, usize)>,
}

impl EscapedText {
    pub fn new(text: &str) -> Self {
        let mut out = String::new();
        let mut shifts = Vec::new();
        let mut added = 0;
        let mut chars = text.char_indices().peekable();
        while let Some((offset, c)) = chars.next() {
            let line_break = c == '\r' && chars.peek().is_some_and(|&(_, next)| next == '\n');
            if line_break || !is_unsafe(c, true) {
                out.push(c);
                continue;
            }
            let before = out.len();
            push_char(&mut out, c, true);
            added += out.len() - before - c.len_utf8();
            shifts.push((offset, added));
        }
        Self { text: out, shifts }
    }

    /// Where `offset` of the original text is in the escaped text.
    pub fn offset(&self, offset: usize) -> usize {
        let escaped_before = self.shifts.partition_point(|&(at, _)| at < offset);
        let added = escaped_before
            .checked_sub(1)
            .map_or(0, |i| self.shifts[i].1);
        offset + added
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_terminal_sequences_and_record_breaks() {
        assert_eq!(escape_control("a\u{1b}[31mb\tc\nd"), "a\\x1b[31mb\tc\nd");
        assert_eq!(escape_line("x\ny\rz"), "x\\x0ay\\x0dz");
        assert_eq!(escape_control("\u{9b}\u{202e}"), "\\u{9b}\\u{202e}");
        assert!(matches!(escape_control("plain ü"), Cow::Borrowed(_)));
    }

    #[test]
    fn snippet_offsets_follow_the_escapes() {
        let original = "a\u{1b}b\r\nc\u{7f}d";
        let escaped = EscapedText::new(original);
        assert_eq!(escaped.text, "a\\x1bb\r\nc\\x7fd");
        for (offset, c) in original.char_indices() {
            let at = escaped.offset(offset);
            if !c.is_control() {
                assert_eq!(escaped.text[at..].chars().next(), Some(c), "at {offset}");
            }
        }
        assert_eq!(escaped.offset(original.len()), escaped.text.len());
    }
}

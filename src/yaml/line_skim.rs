//! The skim of the common case, line by line: Kubernetes manifests as people and tools write
//! them (block mappings and sequences, plain and simply quoted scalars, small flow
//! collections on one line, literal and folded blocks inside, comments) are recognised without
//! running the YAML parser at all.
//!
//! [`skim_lines`] answers only for a text inside a small, strict subset of YAML, and then with
//! exactly what [`super::skim_documents`]' parser pass gives; anything outside the subset
//! (a tab, a non-ASCII byte, an anchor, a tag, a multi-line plain or flow scalar, an escape in
//! a quoted scalar, an indentation it does not follow, a block scalar at the top level, ...)
//! is `None`, and the parser decides. The tests compare both on every YAML file of the
//! repository and on thousands of generated streams.

use super::{MAX_DOCUMENTS, SKIM_MAX_DEPTH, SkimmedDocument, may_be_infinite, plain_is_string};
use std::borrow::Cow;

/// The largest text followed: every event of the parser pass stands for at least half a byte
/// of text, so at this size the pass stays far inside its event limit.
const MAX_BYTES: usize = 40_000;
/// The longest key followed (YAML limits implicit keys to 1,024 characters).
const MAX_KEY_LEN: usize = 512;
/// Flow collections nest at most this deep on their line.
const MAX_FLOW_DEPTH: usize = 8;

/// An open block collection and the column of its entries.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Block {
    Map(usize),
    Seq(usize),
}

impl Block {
    fn indent(self) -> usize {
        match self {
            Self::Map(indent) | Self::Seq(indent) => indent,
        }
    }
}

/// A scalar or collection written after `key:` or `- ` on one line.
enum Inline<'t> {
    /// Nothing (the value is on the next lines, or null).
    Empty,
    Plain(&'t str),
    Quoted(&'t str),
    /// A flow collection, complete on this line.
    Flow,
    /// `|` or `>` with its chomping: the block's lines follow.
    BlockScalar,
}

/// The state of one document.
#[derive(Default)]
struct Document<'t> {
    entries: SkimmedDocument<'t>,
    blocks: Vec<Block>,
    /// The column of the mapping whose last key has no value on its line yet.
    pending: Option<usize>,
    /// In a block scalar: the column its content must be right of, and the content's column
    /// once its first line is seen.
    block_scalar: Option<(usize, Option<usize>)>,
}

impl Document<'_> {
    /// Whether the document has content (an empty one is dropped, as the parse drops it).
    fn started(&self) -> bool {
        !self.blocks.is_empty()
    }
}

/// The top-level entries of every document, when `text` is inside the subset this follows;
/// `None` otherwise (the parser pass decides).
pub fn skim_lines(text: &str) -> Option<Vec<SkimmedDocument<'_>>> {
    if text.len() > MAX_BYTES || !is_printable_ascii(text) {
        return None;
    }
    let mut docs = Vec::new();
    let mut document = Document::default();
    let mut starts = 1;
    for line in lines(text) {
        if line == "---" {
            starts += 1;
            if starts >= MAX_DOCUMENTS {
                return None;
            }
            if document.started() {
                docs.push(std::mem::take(&mut document.entries));
            }
            document = Document::default();
            continue;
        }
        if line.starts_with("---") || line.starts_with("...") || line.starts_with('%') {
            return None;
        }
        document.line(line)?;
    }
    if document.started() {
        docs.push(document.entries);
    }
    Some(docs)
}

/// Whether every byte is printable ASCII or a line feed. In blocks without an early exit, so
/// the compiler can check many bytes at once.
fn is_printable_ascii(text: &str) -> bool {
    text.as_bytes().chunks(64).all(|block| {
        block.iter().fold(true, |ok, &b| {
            ok & (b == b'\n' || (b' '..=b'~').contains(&b))
        })
    })
}

/// The lines of `text` as `split('\n')` gives them (a last, empty one after a final line
/// feed), found with `memchr`.
pub fn lines(text: &str) -> impl Iterator<Item = &str> {
    let ends = memchr::memchr_iter(b'\n', text.as_bytes()).chain(std::iter::once(text.len()));
    ends.scan(0, move |start, end| {
        let line = &text[*start..end];
        *start = end + 1;
        Some(line)
    })
}

impl<'t> Document<'t> {
    /// Follows one line; `None` when the line leaves the subset.
    fn line(&mut self, line: &'t str) -> Option<()> {
        let rest = line.trim_start_matches(' ');
        let indent = line.len() - rest.len();
        if let Some((parent, content)) = self.block_scalar {
            if rest.is_empty() {
                // A blank line with spaces could be too long for the block's indentation.
                return (indent == 0).then_some(());
            }
            match content {
                _ if indent <= parent => self.block_scalar = None,
                None => {
                    self.block_scalar = Some((parent, Some(indent)));
                    return Some(());
                }
                Some(column) if indent >= column => return Some(()),
                Some(_) => return None,
            }
        }
        if rest.is_empty() || rest.starts_with('#') {
            return Some(());
        }
        self.content(indent, rest)
    }

    fn content(&mut self, indent: usize, rest: &'t str) -> Option<()> {
        let is_item = rest == "-" || rest.starts_with("- ");
        if let Some(parent) = self.pending.take() {
            let opens = indent > parent || (indent == parent && is_item);
            if opens {
                let block = if is_item {
                    Block::Seq(indent)
                } else {
                    Block::Map(indent)
                };
                self.push(block)?;
            }
        }
        if self.blocks.is_empty() {
            // The document's first line: a mapping at the left margin.
            if indent != 0 || is_item {
                return None;
            }
            self.push(Block::Map(0))?;
        }
        self.close_to(indent, is_item);
        match *self.blocks.last()? {
            Block::Map(column) if column == indent && !is_item => self.entry(indent, rest),
            Block::Seq(column) if column == indent && is_item => self.item(indent, rest),
            _ => None,
        }
    }

    /// Closes the blocks a line at `indent` ends: deeper ones, and a sequence at the same
    /// column when the line is not one of its items (a sequence written at its key's column).
    fn close_to(&mut self, indent: usize, is_item: bool) {
        while let Some(&block) = self.blocks.last() {
            let ends = block.indent() > indent
                || (block == Block::Seq(indent)
                    && !is_item
                    && self.blocks.len() >= 2
                    && self.blocks[self.blocks.len() - 2] == Block::Map(indent));
            if !ends {
                break;
            }
            self.blocks.pop();
        }
    }

    fn push(&mut self, block: Block) -> Option<()> {
        // Flow collections on a line nest further.
        if self.blocks.len() + 1 + MAX_FLOW_DEPTH >= SKIM_MAX_DEPTH {
            return None;
        }
        self.blocks.push(block);
        Some(())
    }

    /// `- node`: a scalar, a flow collection, or the first entry of a compact mapping.
    fn item(&mut self, indent: usize, rest: &'t str) -> Option<()> {
        let after = rest.strip_prefix('-')?;
        let node = after.trim_start_matches(' ');
        if node.is_empty() || node.starts_with('#') || node.starts_with('-') {
            // An empty item, or a nested compact sequence: left to the parser.
            return None;
        }
        let column = indent + 1 + (after.len() - node.len());
        if split_key(node).is_some() {
            self.push(Block::Map(column))?;
            return self.entry(column, node);
        }
        match inline(node)? {
            Inline::Plain(_) | Inline::Quoted(_) | Inline::Flow => Some(()),
            Inline::Empty | Inline::BlockScalar => None,
        }
    }

    /// `key: value` of the mapping at `column`.
    fn entry(&mut self, column: usize, rest: &'t str) -> Option<()> {
        let (key, value) = split_key(rest)?;
        if may_be_infinite(key) {
            return None;
        }
        let value = inline(value)?;
        let top = self.blocks.len() == 1;
        match value {
            Inline::Empty => self.pending = Some(column),
            Inline::BlockScalar if top => return None,
            Inline::BlockScalar => self.block_scalar = Some((column, None)),
            Inline::Plain(_) | Inline::Quoted(_) | Inline::Flow => {}
        }
        if top {
            let string = match value {
                Inline::Plain(text) if plain_is_string(text) => Some(Cow::Borrowed(text)),
                Inline::Quoted(text) => Some(Cow::Borrowed(text)),
                _ => None,
            };
            self.entries.push((Cow::Borrowed(key), string));
        }
        Some(())
    }
}

/// `key:` and what follows it, for a plain key of the usual characters.
fn split_key(rest: &str) -> Option<(&str, &str)> {
    // The text is ASCII (checked first): bytes are characters.
    let end = rest.bytes().position(|b| !is_key_char(char::from(b)))?;
    let (key, after) = rest.split_at(end);
    let value = after.strip_prefix(':')?;
    let starts_well = key
        .bytes()
        .next()
        .is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_');
    let value_apart = value.is_empty() || value.starts_with(' ');
    (starts_well && key.len() <= MAX_KEY_LEN && value_apart).then_some((key, value))
}

fn is_key_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '/')
}

/// What follows `key:` or `- ` on its line, when it is in the subset.
fn inline(text: &str) -> Option<Inline<'_>> {
    let text = text.trim_start_matches(' ');
    let Some(first) = text.bytes().next() else {
        return Some(Inline::Empty);
    };
    match first {
        b'#' => Some(Inline::Empty),
        b'"' | b'\'' => {
            let (content, rest) = quoted(text)?;
            only_comment(rest).then_some(Inline::Quoted(content))
        }
        b'[' | b'{' => {
            let rest = flow(text, 0)?;
            only_comment(rest).then_some(Inline::Flow)
        }
        b'|' | b'>' => {
            let header = text[1..].split(" #").next().unwrap_or_default();
            matches!(header.trim_end_matches(' '), "" | "-" | "+").then_some(Inline::BlockScalar)
        }
        _ => plain(text).map(Inline::Plain),
    }
}

/// A plain scalar ending its line (before a comment): not one with `: ` in it, ending in `:`
/// or holding a flow indicator. One pass over the bytes, up to the comment.
fn plain(text: &str) -> Option<&str> {
    let bytes = text.as_bytes();
    let mut end = bytes.len();
    for (at, &byte) in bytes.iter().enumerate() {
        match byte {
            b'#' if at > 0 && bytes[at - 1] == b' ' => {
                end = at;
                break;
            }
            b'[' | b']' | b'{' | b'}' => return None,
            // `: ` inside, or `:` at the end once the blanks before a comment are trimmed.
            b':' if bytes.get(at + 1).is_none_or(|&next| next == b' ') => return None,
            _ => {}
        }
    }
    let value = text[..end].trim_end_matches(' ');
    let first = value.bytes().next()?;
    let indicator = b"-?:,[]{}#&*!|>'\"%@`".contains(&first);
    let dash_word = first == b'-' && value.len() > 1 && !value[1..].starts_with(' ');
    ((!indicator || dash_word) && !may_be_infinite(value)).then_some(value)
}

/// A quoted scalar at the start of `text`, closed on its line, with no escape (`\\` in double
/// quotes, `''` in single ones): its content and what follows it.
fn quoted(text: &str) -> Option<(&str, &str)> {
    let quote = char::from(*text.as_bytes().first()?);
    let inner = &text[1..];
    let end = inner.find(quote)?;
    let content = &inner[..end];
    (quote == '\'' || !content.contains('\\')).then(|| (content, &inner[end + 1..]))
}

/// Whether only blanks follow, or a comment after a blank.
fn only_comment(rest: &str) -> bool {
    let trimmed = rest.trim_start_matches(' ');
    trimmed.is_empty() || (trimmed.starts_with('#') && trimmed.len() < rest.len())
}

/// A flow collection at the start of `text`, complete on its line; returns what follows it.
fn flow(text: &str, depth: usize) -> Option<&str> {
    if depth >= MAX_FLOW_DEPTH {
        return None;
    }
    let (close, mapping) = match text.bytes().next()? {
        b'[' => (']', false),
        b'{' => ('}', true),
        _ => return None,
    };
    let mut rest = text[1..].trim_start_matches(' ');
    if let Some(after) = rest.strip_prefix(close) {
        return Some(after);
    }
    loop {
        if mapping {
            let end = rest.find(|c: char| !is_flow_plain_char(c))?;
            let key = &rest[..end];
            rest = rest[end..].strip_prefix(": ")?;
            if key.is_empty() || may_be_infinite(key) {
                return None;
            }
        }
        rest = flow_node(rest.trim_start_matches(' '), depth)?.trim_start_matches(' ');
        if let Some(after) = rest.strip_prefix(close) {
            return Some(after);
        }
        rest = rest.strip_prefix(',')?.trim_start_matches(' ');
        if let Some(after) = rest.strip_prefix(close) {
            return Some(after);
        }
    }
}

/// One node inside a flow collection; returns what follows it.
fn flow_node(text: &str, depth: usize) -> Option<&str> {
    match text.bytes().next()? {
        b'[' | b'{' => flow(text, depth + 1),
        b'"' | b'\'' => quoted(text).map(|(_, rest)| rest),
        _ => {
            let end = text
                .find(|c: char| !is_flow_plain_char(c))
                .unwrap_or(text.len());
            let value = &text[..end];
            // `--flag` is a plain scalar; `-` alone is not.
            let starts_well = value.bytes().next().is_some_and(|b| {
                b.is_ascii_alphanumeric() || b == b'_' || b == b'/' || (b == b'-' && end > 1)
            });
            (starts_well && !may_be_infinite(value)).then(|| &text[end..])
        }
    }
}

/// Characters of a plain scalar inside a flow collection that need no thought.
fn is_flow_plain_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '/')
}

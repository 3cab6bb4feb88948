//! YAML embedded in a YAML string, such as an Argo CD Application's `helm.values`.
//!
//! When the string is a literal block scalar (`values: |`), its lines are the file's lines
//! minus their indentation, so every node of the embedded document can point into the file.
//! Otherwise (a quoted or folded string) the embedded nodes all point at the `values` key.

use crate::source::Span;
use crate::yaml::{self, Node, Value, YamlError};

/// Parses the string `value` (written after `key`) as one YAML document.
pub fn parse_string_value(text: &str, key: &Node, value: &Node) -> Result<Node, YamlError> {
    parse_string_with(text, key, value, yaml::parse_document)
}

/// Parses the string `value` (written after `key`) as a YAML stream (a talhelper patch).
pub fn parse_string_documents(
    text: &str,
    key: &Node,
    value: &Node,
) -> Result<Vec<Node>, YamlError> {
    if value.as_str().is_none() {
        return Ok(vec![value.clone()]);
    }
    let parse =
        |s: &str| yaml::parse_documents(s).map(|docs| Node::new(Value::Seq(docs), Span::default()));
    let stream = parse_string_with(text, key, value, parse)?;
    match stream.value {
        Value::Seq(docs) => Ok(docs),
        _ => Ok(Vec::new()),
    }
}

fn parse_string_with(
    text: &str,
    key: &Node,
    value: &Node,
    parse: impl Fn(&str) -> Result<Node, YamlError>,
) -> Result<Node, YamlError> {
    let Some(string) = value.as_str() else {
        return Ok(value.clone());
    };
    if let Some(block) = LiteralBlock::read(text, value.span.start)
        && block.text.trim() == string.trim()
    {
        return parse(&block.text)
            .map(|mut node| {
                block.remap(&mut node);
                node
            })
            .map_err(|e| YamlError {
                span: Span::at(block.file_offset(e.span.start)),
                message: e.message,
            });
    }
    let mut node = parse(string).map_err(|e| YamlError {
        span: key.span,
        message: e.message,
    })?;
    set_spans(&mut node, key.span);
    Ok(node)
}

/// Parses the YAML written in `span` of `text` (a Terraform heredoc's body), with the common
/// indentation of its lines removed when `dedent`; the nodes point into the file.
pub fn parse_region(text: &str, span: Span, dedent: bool) -> Result<Vec<Node>, YamlError> {
    let region = text.get(span.start..span.end).unwrap_or_default();
    let indent = if dedent {
        region
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| l.len() - l.trim_start_matches(' ').len())
            .min()
            .unwrap_or(0)
    } else {
        0
    };
    let mut block = LiteralBlock {
        text: String::new(),
        lines: Vec::new(),
    };
    let mut offset = span.start;
    for line in region.split_inclusive('\n') {
        let content = line.trim_end_matches(['\n', '\r']);
        let skip = indent.min(content.len() - content.trim_start_matches(' ').len());
        block.lines.push((block.text.len(), offset + skip));
        block.text.push_str(content.get(skip..).unwrap_or_default());
        block.text.push('\n');
        offset += line.len();
    }
    let mut docs = yaml::parse_documents(&block.text).map_err(|e| YamlError {
        span: Span::at(block.file_offset(e.span.start)),
        message: e.message,
    })?;
    for doc in &mut docs {
        block.remap(doc);
    }
    Ok(docs)
}

/// Whether the last non-blank line before `line_start` ends with a literal block header
/// (`key: |`, `|-` or `|+`, maybe followed by a comment).
fn header_before(text: &str, line_start: usize) -> bool {
    let before = text.get(..line_start).unwrap_or_default();
    let Some(header) = before.lines().rev().find(|l| !l.trim().is_empty()) else {
        return false;
    };
    let header = header.split(" #").next().unwrap_or_default().trim_end();
    ["|", "|-", "|+"].iter().any(|indicator| {
        header
            .strip_suffix(indicator)
            .is_some_and(|rest| rest.ends_with(' ') || rest.ends_with(':') || rest.is_empty())
    })
}

/// The content of a `|` block scalar, with where each of its lines starts in the file.
struct LiteralBlock {
    text: String,
    /// (offset in `text`, offset in the file) of each line start.
    lines: Vec<(usize, usize)>,
}

impl LiteralBlock {
    /// Reads the block whose content starts at `start` (the parser's span of a block scalar
    /// begins at its first content character, after the `|` header line).
    fn read(text: &str, start: usize) -> Option<Self> {
        let line_start = text.get(..start)?.rfind('\n').map_or(0, |i| i + 1);
        let indent = start - line_start;
        if indent == 0 || !text.get(line_start..start)?.bytes().all(|b| b == b' ') {
            return None;
        }
        if !header_before(text, line_start) {
            return None;
        }
        let mut block = Self {
            text: String::new(),
            lines: Vec::new(),
        };
        let mut offset = line_start;
        for line in text.get(line_start..)?.split_inclusive('\n') {
            let content = line.trim_end_matches(['\n', '\r']);
            let leading = content.len() - content.trim_start_matches(' ').len();
            let blank = content.trim().is_empty();
            if !blank && leading < indent {
                break;
            }
            let skip = indent.min(leading);
            block.lines.push((block.text.len(), offset + skip));
            block.text.push_str(content.get(skip..).unwrap_or_default());
            block.text.push('\n');
            offset += line.len();
        }
        Some(block)
    }

    /// The file offset of an offset into the block's text.
    fn file_offset(&self, offset: usize) -> usize {
        let line = self
            .lines
            .partition_point(|(start, _)| *start <= offset)
            .saturating_sub(1);
        self.lines
            .get(line)
            .map_or(0, |(start, file)| file + (offset - start))
    }

    /// Like [`Self::file_offset`], but an offset at a line start is the end of the line before.
    fn file_end(&self, offset: usize) -> usize {
        let line = self
            .lines
            .partition_point(|(start, _)| *start < offset)
            .saturating_sub(1);
        self.lines
            .get(line)
            .map_or(0, |(start, file)| file + offset.saturating_sub(*start))
    }

    fn remap(&self, node: &mut Node) {
        let start = self.file_offset(node.span.start);
        // An empty span at a line start (a document that begins at `---`) stays empty: its
        // end is not the end of the line before.
        let end = self.file_end(node.span.end).max(start);
        node.span = Span::new(start, end);
        for_children(node, &mut |child| self.remap(child));
    }
}

pub fn set_spans(node: &mut Node, span: Span) {
    node.span = span;
    for_children(node, &mut |child| set_spans(child, span));
}

/// Calls `visit` on each child of a node (a list's items, a mapping's keys and values).
pub(super) fn for_children(node: &mut Node, visit: &mut dyn FnMut(&mut Node)) {
    match &mut node.value {
        Value::Seq(items) => items.iter_mut().for_each(visit),
        Value::Map(entries) => {
            for (key, value) in entries {
                visit(key);
                visit(value);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values_of(text: &str) -> Result<Node, YamlError> {
        let doc = yaml::parse_document(text).unwrap_or_else(|e| panic!("{e}"));
        let (key, value) = doc
            .path(&["helm"])
            .and_then(|h| h.entry("values"))
            .expect("values");
        parse_string_value(text, key, value)
    }

    #[test]
    fn block_scalar_spans_point_into_the_file() {
        let text = "helm:\n  values: |\n    defaultSettings:\n      defaultReplicaCount: 3\n";
        let values = values_of(text).unwrap_or_else(|e| panic!("{e}"));
        let (key, value) = values
            .path(&["defaultSettings"])
            .and_then(|s| s.entry("defaultReplicaCount"))
            .expect("key");
        assert_eq!(&text[key.span.start..key.span.end], "defaultReplicaCount");
        assert_eq!(&text[value.span.start..value.span.end], "3");
    }

    #[test]
    fn quoted_string_spans_point_at_the_key() {
        let text = "helm:\n  values: \"a: 1\"\n";
        let values = values_of(text).unwrap_or_else(|e| panic!("{e}"));
        let a = values.get("a").expect("a");
        assert_eq!(&text[a.span.start..a.span.end], "values");
    }

    #[test]
    fn spans_of_a_document_after_a_separator_are_ordered() {
        // A Terraform heredoc holding two documents (found by the `terraform` fuzz target).
        let text = "x = <<-EOT\n      a: 1\n      ---\n      kind: B\n    EOT\n";
        let start = text.find("      a").unwrap_or(0);
        let end = text.find("    EOT").unwrap_or(0);
        let docs =
            parse_region(text, Span::new(start, end), true).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(docs.len(), 2);
        fn check(node: &Node, text: &str) {
            assert!(
                node.span.start <= node.span.end && node.span.end <= text.len(),
                "{:?}",
                node.span
            );
            for_children(&mut node.clone(), &mut |child| check(child, text));
        }
        for doc in &docs {
            check(doc, text);
        }
        let kind = docs[1].get("kind").expect("kind");
        assert_eq!(&text[kind.span.start..kind.span.end], "B");
    }

    #[test]
    fn a_syntax_error_points_into_the_block() {
        let text = "helm:\n  values: |\n    a: 1\n    b: [2\n";
        let error = values_of(text).expect_err("invalid YAML");
        assert!(error.span.start > text.find("a: 1").unwrap_or(0));
    }
}

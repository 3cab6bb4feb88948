//! A YAML tree that remembers where every node was written.
//!
//! All YAML the linter reads (intents, Talos documents, Helm values, manifests) goes through
//! [`parse_documents`]: serde-saphyr does the parsing under a budget (alias bombs, deep nesting,
//! huge inputs), and every node, key included, keeps its byte span. Duplicate keys are kept so
//! that rules can report them.
//!
//! Most files are plain YAML (no anchors, tags or merge keys, scalars whose type is certain):
//! for them the tree is built straight from the events of serde-saphyr's own parser, the same
//! tree serde-saphyr builds, at a fraction of the cost ([`build_documents`]); everything else,
//! errors included, goes through serde-saphyr. [`skim_documents`] reads only the top-level
//! entries, for files whose content does not matter beyond them.

mod go_yaml;
mod line_skim;

pub use line_skim::lines;

use crate::source::Span;
use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::Spanned;
use std::borrow::Cow;
use std::fmt;

/// The largest YAML file talhorn reads.
pub const MAX_YAML_BYTES: usize = 8 * 1024 * 1024;
/// Deeper nesting than this is reported instead of parsed.
pub const MAX_DEPTH: usize = 128;
/// Documents in one stream.
pub const MAX_DOCUMENTS: usize = 1_000;

#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Seq(Vec<Node>),
    Map(Vec<(Node, Node)>),
}

/// A YAML node and its byte span in the file.
#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    pub value: Value,
    pub span: Span,
}

impl Node {
    pub const fn new(value: Value, span: Span) -> Self {
        Self { value, span }
    }

    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    pub const fn as_bool(&self) -> Option<bool> {
        match self.value {
            Value::Bool(b) => Some(b),
            _ => None,
        }
    }

    pub const fn as_i64(&self) -> Option<i64> {
        match self.value {
            Value::Int(i) => Some(i),
            _ => None,
        }
    }

    pub fn as_seq(&self) -> Option<&[Node]> {
        match &self.value {
            Value::Seq(items) => Some(items),
            _ => None,
        }
    }

    pub fn as_map(&self) -> Option<&[(Node, Node)]> {
        match &self.value {
            Value::Map(entries) => Some(entries),
            _ => None,
        }
    }

    pub const fn is_null(&self) -> bool {
        matches!(self.value, Value::Null)
    }

    /// A scalar as text, whatever its YAML type (`1024`, `"1024"`, `true`).
    pub fn scalar_text(&self) -> Option<String> {
        match &self.value {
            Value::Str(s) => Some(s.clone()),
            Value::Int(i) => Some(i.to_string()),
            Value::Float(f) => Some(f.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            Value::Null | Value::Seq(_) | Value::Map(_) => None,
        }
    }

    /// The last entry with this key (YAML loaders let the last duplicate win).
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.entry(key).map(|(_, v)| v)
    }

    /// The key node and value node of the last entry with this key.
    pub fn entry(&self, key: &str) -> Option<(&Node, &Node)> {
        self.as_map()?
            .iter()
            .rev()
            .find(|(k, _)| k.as_str() == Some(key))
            .map(|(k, v)| (k, v))
    }

    /// Follows a path of mapping keys: `node.path(&["machine", "install", "disk"])`.
    pub fn path(&self, keys: &[&str]) -> Option<&Node> {
        keys.iter().try_fold(self, |node, key| node.get(key))
    }

    /// A short name for the node's type, for messages.
    pub const fn type_name(&self) -> &'static str {
        match self.value {
            Value::Null => "null",
            Value::Bool(_) => "a boolean",
            Value::Int(_) => "an integer",
            Value::Float(_) => "a number",
            Value::Str(_) => "a string",
            Value::Seq(_) => "a list",
            Value::Map(_) => "a mapping",
        }
    }

    /// Converts to JSON (for JSON-schema validation). Later duplicate keys win.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match &self.value {
            Value::Null => J::Null,
            Value::Bool(b) => J::Bool(*b),
            Value::Int(i) => J::from(*i),
            Value::Float(f) => serde_json::Number::from_f64(*f).map_or(J::Null, J::Number),
            Value::Str(s) => J::String(s.clone()),
            Value::Seq(items) => J::Array(items.iter().map(Self::to_json).collect()),
            Value::Map(entries) => J::Object(
                entries
                    .iter()
                    .map(|(k, v)| (k.scalar_text().unwrap_or_default(), v.to_json()))
                    .collect(),
            ),
        }
    }

    /// Finds the node at a JSON pointer (`/nodes/0/name`), for mapping schema errors back to
    /// the file. Returns the deepest node reached, so a bad pointer still locates something.
    pub fn at_pointer(&self, pointer: &str) -> &Node {
        let mut node = self;
        for token in pointer.split('/').skip(1) {
            let token = unescape_pointer_token(token);
            let next = match &node.value {
                Value::Map(_) => node.get(&token),
                Value::Seq(items) => token.parse::<usize>().ok().and_then(|i| items.get(i)),
                _ => None,
            };
            match next {
                Some(n) => node = n,
                None => break,
            }
        }
        node
    }

    /// The key node for the entry at a JSON pointer, if the pointer ends in a mapping key.
    pub fn key_at_pointer(&self, pointer: &str) -> Option<&Node> {
        let (parent, last) = pointer.rsplit_once('/')?;
        let last = unescape_pointer_token(last);
        self.at_pointer(parent).entry(&last).map(|(k, _)| k)
    }
}

/// A JSON pointer token with `~1` and `~0` unescaped; most have neither, and are not copied
/// (a build locates every fact of every node by pointer).
fn unescape_pointer_token(token: &str) -> Cow<'_, str> {
    if token.contains('~') {
        Cow::Owned(token.replace("~1", "/").replace("~0", "~"))
    } else {
        Cow::Borrowed(token)
    }
}

/// A YAML syntax or budget error, with the byte offset where it was detected.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct YamlError {
    pub message: String,
    pub span: Span,
}

impl fmt::Display for YamlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

fn options() -> serde_saphyr::Options {
    let mut options = serde_saphyr::Options::default();
    options.duplicate_keys = serde_saphyr::DuplicateKeyPolicy::PassThrough;
    options.with_snippet = false;
    options.budget = Some(budget());
    options
}

/// The limits a YAML file is parsed under (serde-saphyr's defaults for the others).
fn budget() -> serde_saphyr::Budget {
    let mut budget = serde_saphyr::Budget::default();
    budget.max_depth = MAX_DEPTH;
    budget.max_documents = MAX_DOCUMENTS;
    budget.max_total_scalar_bytes = MAX_YAML_BYTES;
    budget.max_aliases = 1_000;
    budget
}

/// Parses a multi-document YAML stream. Empty documents are dropped.
pub fn parse_documents(text: &str) -> Result<Vec<Node>, YamlError> {
    if text.len() > MAX_YAML_BYTES {
        return Err(YamlError {
            message: format!(
                "file is {} bytes; talhorn reads YAML files up to {MAX_YAML_BYTES} bytes",
                text.len()
            ),
            span: Span::at(0),
        });
    }
    // Most files are plain enough to build straight from the parser's events.
    match build_documents(text) {
        Some(docs) => Ok(docs),
        None => parse_with_serde(text),
    }
}

/// The documents through serde-saphyr: everything [`build_documents`] leaves to it, with its
/// typing of every scalar, its budget and its error messages.
///
/// Where serde-saphyr rejects what go-yaml reads (an alias key `*app:`, a number too large for
/// a float), the text is read as go-yaml reads it ([`go_yaml`]), with every span in `text`.
fn parse_with_serde(text: &str) -> Result<Vec<Node>, YamlError> {
    let error = match parse_serde_documents(text) {
        Ok(docs) => return Ok(docs),
        Err(error) => error,
    };
    // Only after these errors: a text serde-saphyr reads is never read otherwise.
    let edited = match innermost(&error) {
        serde_saphyr::Error::UnknownAnchor { .. } | serde_saphyr::Error::NonFiniteFloat { .. } => {
            go_yaml::edited_as_go_yaml_reads(text)
        }
        _ => None,
    };
    let Some(edited) = edited else {
        return Err(to_yaml_error(&error, text));
    };
    match parse_serde_documents(&edited.text) {
        Ok(mut docs) => {
            edited.restore_spans(&mut docs);
            Ok(docs)
        }
        Err(error) => {
            let error = to_yaml_error(&error, &edited.text);
            Err(YamlError {
                span: edited.original_span(error.span),
                ..error
            })
        }
    }
}

fn parse_serde_documents(text: &str) -> Result<Vec<Node>, serde_saphyr::Error> {
    let docs: Vec<Option<Node>> =
        on_workers(|| serde_saphyr::from_multiple_with_options(text, options()))?;
    Ok(docs.into_iter().flatten().collect())
}

/// The error behind `error`'s wrappers (an alias replayed, a snippet).
fn innermost(error: &serde_saphyr::Error) -> &serde_saphyr::Error {
    match error {
        serde_saphyr::Error::AliasError { error, .. }
        | serde_saphyr::Error::WithSnippet { error, .. } => innermost(error),
        _ => error,
    }
}

/// One document as [`skim_documents`] sees it: its top-level entries in order, each a key's
/// text and, when [`parse_documents`] would read the value as a string, that string.
pub type SkimmedDocument<'t> = Vec<(Cow<'t, str>, Option<Cow<'t, str>>)>;

/// What a skim follows, far inside serde-saphyr's budget (nesting [`MAX_DEPTH`], 1,000,000
/// events, 250,000 nodes, [`MAX_YAML_BYTES`] of scalars): larger input is left to
/// [`parse_documents`], which reports what exceeds the budget.
const SKIM_MAX_DEPTH: usize = 64;
const SKIM_MAX_EVENTS: usize = 100_000;
const SKIM_MAX_BYTES: usize = 1024 * 1024;

/// The top-level entries of every document, from one pass of serde-saphyr's own parser
/// (granit) without building a tree: several times cheaper than [`parse_documents`].
///
/// `Some` only when [`parse_documents`] is certain to succeed on `text` and to return these
/// documents, each a mapping with these top-level keys: the same parser, with serde-saphyr's
/// options, accepts the whole stream, and nothing serde-saphyr checks beyond the parser
/// occurs — no anchor, alias, tag or merge key (`<<`), no number that may not be finite,
/// nothing near the budget. Documents that are empty or null are
/// dropped, as [`parse_documents`] drops them. Anything else (a syntax error too) is `None`:
/// the caller parses in full, which reports it.
pub fn skim_documents(text: &str) -> Option<Vec<SkimmedDocument<'_>>> {
    line_skim::skim_lines(text).or_else(|| skim_events(text))
}

/// [`skim_documents`] by granit's events.
fn skim_events(text: &str) -> Option<Vec<SkimmedDocument<'_>>> {
    use granit_parser::{Event, Parser, ScalarStyle};
    /// An open collection: a sequence, or a mapping and whether its next node is a key.
    enum Open {
        Seq,
        Map { key_next: bool },
    }
    /// Where a node stands.
    enum At {
        Root,
        TopKey,
        TopValue,
        Inside,
    }
    if text.len() > SKIM_MAX_BYTES {
        return None;
    }
    let mut docs = Vec::new();
    let mut events = 0;
    let mut starts = 0;
    let mut document: Option<SkimmedDocument<'_>> = None;
    let mut open: Vec<Open> = Vec::new();
    let mut key: Option<Cow<'_, str>> = None;
    // serde-saphyr parses with granit's default options: its lookahead and nesting limits
    // are the defaults for the budget talhorn sets.
    let mut parser = Parser::new_from_str(text);
    while let Some(event) = parser.next_event() {
        let (event, _) = event.ok()?;
        events += 1;
        if events > SKIM_MAX_EVENTS {
            return None;
        }
        let is_node = matches!(
            event,
            Event::Scalar(..) | Event::SequenceStart(..) | Event::MappingStart(..)
        );
        let depth = open.len();
        let at = match open.last_mut() {
            _ if !is_node => At::Inside,
            None => At::Root,
            Some(Open::Map { key_next }) => {
                *key_next = !*key_next;
                match (depth, !*key_next) {
                    (1, true) => At::TopKey,
                    (1, false) => At::TopValue,
                    _ => At::Inside,
                }
            }
            Some(Open::Seq) => At::Inside,
        };
        match event {
            Event::StreamStart | Event::StreamEnd => {}
            Event::DocumentStart(..) => {
                starts += 1;
                if starts > MAX_DOCUMENTS {
                    return None;
                }
            }
            Event::DocumentEnd => docs.extend(document.take()),
            Event::Scalar(value, style, 0, None) => match at {
                // An empty or null document: dropped.
                At::Root
                    if style == ScalarStyle::Plain
                        && matches!(value.as_ref(), "" | "~" | "null" | "Null" | "NULL") => {}
                At::Root => return None,
                // A merge key, or a number serde-saphyr may reject as not finite.
                _ if value == "<<" || (style == ScalarStyle::Plain && may_be_infinite(&value)) => {
                    return None;
                }
                At::TopKey => key = Some(value),
                At::TopValue => {
                    let string =
                        (style != ScalarStyle::Plain || plain_is_string(&value)).then_some(value);
                    document.as_mut()?.push((key.take()?, string));
                }
                At::Inside => {}
            },
            Event::MappingStart(_, 0, None) | Event::SequenceStart(_, 0, None) => {
                let mapping = matches!(event, Event::MappingStart(..));
                match at {
                    At::Root if mapping => document = Some(Vec::new()),
                    At::Root | At::TopKey => return None,
                    At::TopValue => document.as_mut()?.push((key.take()?, None)),
                    At::Inside if depth >= SKIM_MAX_DEPTH => return None,
                    At::Inside => {}
                }
                open.push(if mapping {
                    Open::Map { key_next: true }
                } else {
                    Open::Seq
                });
            }
            Event::MappingEnd | Event::SequenceEnd => {
                open.pop();
            }
            _ => return None,
        }
    }
    Some(docs)
}

/// Whether a plain scalar might be read as an infinite or NaN float (`.inf`, `-.NaN`, `1e999`,
/// a 400-digit number), which serde-saphyr's default policy rejects as an error: the float
/// words, and numbers that start with a dot or have an exponent or hundreds of digits. The
/// fast paths leave them to [`parse_documents`], which reports the words and reads a number
/// too large for a float as its text, as go-yaml does ([`go_yaml`]).
fn may_be_infinite(value: &str) -> bool {
    let unsigned = value.strip_prefix(['+', '-']).unwrap_or(value);
    let word = ["inf", "infinity", "nan"]
        .iter()
        .any(|w| unsigned.eq_ignore_ascii_case(w));
    let numeral = unsigned.bytes().next().is_some_and(|b| b.is_ascii_digit());
    word || unsigned.starts_with('.')
        || (numeral && (unsigned.contains(['e', 'E']) || value.len() > 300))
}

/// Whether a plain scalar is certain to be read as a string (serde-saphyr tries a boolean, an
/// integer, then a float): one that starts with a digit, sign or dot only when it holds a
/// character no number has, or two dots (`200G`, `10.0.0.0/16`, `1.10.2`), and none of the
/// float words; any other when it is none of YAML 1.1's booleans and the null words. Other
/// plain scalars may be strings too; this does not tell.
fn plain_is_string(value: &str) -> bool {
    const WORDS: &[&str] = &[
        "~", "y", "yes", "n", "no", "on", "off", "true", "false", "null", "inf", "infinity", "nan",
    ];
    let Some(first) = value.bytes().next() else {
        return false;
    };
    if first.is_ascii_digit() || matches!(first, b'+' | b'-' | b'.') {
        // Integers: digits, `_`, a radix prefix and hex digits; floats (Rust's grammar): one
        // dot, an exponent, a sign, `inf` and `nan`.
        let number_byte = |b: u8| b.is_ascii_hexdigit() || b"._+-xXoObB".contains(&b);
        let dots = value.bytes().filter(|&b| b == b'.').count();
        return !may_be_infinite(value) && (dots >= 2 || value.bytes().any(|b| !number_byte(b)));
    }
    !WORDS.iter().any(|w| value.eq_ignore_ascii_case(w))
}

/// Builds the documents straight from serde-saphyr's own parser (granit), without serde's
/// visitor protocol: several times cheaper, and the same tree. `None` (parse with serde-saphyr)
/// for anything where the two could differ: what the skim leaves to the parser (see
/// [`skim_documents`]), a plain scalar whose type is not certain ([`plain_value`]), a key
/// that is not a string.
///
/// Every node's span is its first event's, as serde-saphyr's `Spanned` takes it.
fn build_documents(text: &str) -> Option<Vec<Node>> {
    use granit_parser::{Event, Parser, ScalarStyle};
    /// An open collection, its span, and (for a mapping) the key waiting for its value.
    enum Open {
        Seq(Vec<Node>, Span),
        Map(Vec<(Node, Node)>, Option<Node>, Span),
    }
    if text.len() > SKIM_MAX_BYTES {
        return None;
    }
    let mut docs = Vec::new();
    let mut open: Vec<Open> = Vec::new();
    let (mut events, mut starts) = (0, 0);
    let mut parser = Parser::new_from_str(text);
    while let Some(event) = parser.next_event() {
        let (event, span) = event.ok()?;
        events += 1;
        if events > SKIM_MAX_EVENTS {
            return None;
        }
        let at = match (span.start.byte_offset(), span.end.byte_offset()) {
            (Some(start), Some(end)) => Span::new(start, end.max(start)),
            _ => Span::at(0),
        };
        let at_key = matches!(open.last(), Some(Open::Map(_, None, _)));
        let node = match event {
            Event::StreamStart | Event::StreamEnd | Event::DocumentEnd => continue,
            Event::DocumentStart(..) => {
                starts += 1;
                if starts > MAX_DOCUMENTS {
                    return None;
                }
                continue;
            }
            Event::Scalar(value, style, 0, None) => {
                let plain = style == ScalarStyle::Plain;
                if value == "<<" || (plain && may_be_infinite(&value)) {
                    return None;
                }
                let value = if plain {
                    plain_value(&value)?
                } else {
                    Value::Str(value.into_owned())
                };
                match (&value, open.is_empty(), at_key) {
                    // An empty or null document: dropped.
                    (Value::Null, true, _) => continue,
                    (Value::Null | Value::Bool(_) | Value::Int(_), _, true) => return None,
                    _ => Node::new(value, at),
                }
            }
            Event::MappingStart(_, 0, None) | Event::SequenceStart(_, 0, None) => {
                if open.len() >= SKIM_MAX_DEPTH || at_key {
                    return None;
                }
                open.push(match event {
                    Event::MappingStart(..) => Open::Map(Vec::new(), None, at),
                    _ => Open::Seq(Vec::new(), at),
                });
                continue;
            }
            Event::MappingEnd => match open.pop()? {
                Open::Map(entries, None, at) => Node::new(Value::Map(entries), at),
                _ => return None,
            },
            Event::SequenceEnd => match open.pop()? {
                Open::Seq(items, at) => Node::new(Value::Seq(items), at),
                Open::Map(..) => return None,
            },
            _ => return None,
        };
        match open.last_mut() {
            None => docs.push(node),
            Some(Open::Seq(items, _)) => items.push(node),
            Some(Open::Map(entries, key, _)) => match key.take() {
                Some(key) => entries.push((key, node)),
                None => *key = Some(node),
            },
        }
    }
    open.is_empty().then_some(docs)
}

/// The value serde-saphyr gives a plain scalar, when it is certain: null (`""`, `~`, `null`),
/// `true`/`false`, a decimal integer that fits, or a string [`plain_is_string`] vouches for.
/// `None` for the rest (`yes`, `1.5`, `0x1f`, `0127`, `100m`, ...): left to serde-saphyr.
fn plain_value(value: &str) -> Option<Value> {
    match value {
        "" | "~" | "null" | "Null" | "NULL" => return Some(Value::Null),
        "true" => return Some(Value::Bool(true)),
        "false" => return Some(Value::Bool(false)),
        _ => {}
    }
    let digits = value.strip_prefix('-').unwrap_or(value);
    let decimal = !digits.is_empty()
        && digits.len() <= 18
        && digits.bytes().all(|b| b.is_ascii_digit())
        && (!digits.starts_with('0') || value == "0");
    if decimal {
        return value.parse().ok().map(Value::Int);
    }
    plain_is_string(value).then(|| Value::Str(value.to_owned()))
}

/// Stack of each worker thread. Each nesting level costs tens of KiB of stack in a debug build,
/// so [`MAX_DEPTH`] levels overflow a 2 MiB thread (test threads, default thread pools) before
/// the budget can report them. Only the pages actually used are committed.
const WORKER_STACK_BYTES: usize = 64 * 1024 * 1024;

/// The worker threads every parse runs on: created once, on first use, each with
/// [`WORKER_STACK_BYTES`] of stack. `RAYON_NUM_THREADS` sets how many (default: one per CPU).
/// `None` when no thread can be started.
fn workers() -> Option<&'static rayon::ThreadPool> {
    static WORKERS: std::sync::OnceLock<Option<rayon::ThreadPool>> = std::sync::OnceLock::new();
    WORKERS
        .get_or_init(|| {
            rayon::ThreadPoolBuilder::new()
                .thread_name(|i| format!("talhorn-worker-{i}"))
                .stack_size(WORKER_STACK_BYTES)
                .build()
                .ok()
        })
        .as_ref()
}

/// How many worker threads there are (one per usable CPU, or `RAYON_NUM_THREADS`).
pub fn worker_count() -> usize {
    workers().map_or(1, rayon::ThreadPool::current_num_threads)
}

/// Runs `work` on the worker threads (directly when already on one), so the depth budget, not
/// the caller's stack size, bounds the parser's recursion. Rayon parallel iterators inside
/// `work` use the same workers, so parallel callers (lint's read stage) parse without a hop.
/// Without workers (no thread could be started), `work` runs on the caller's thread.
pub fn on_workers<T: Send>(work: impl FnOnce() -> T + Send) -> T {
    match workers() {
        Some(pool) => pool.install(work),
        None => work(),
    }
}

/// Parses a single-document YAML file (an empty file is an empty mapping).
pub fn parse_document(text: &str) -> Result<Node, YamlError> {
    let mut docs = parse_documents(text)?;
    match docs.len() {
        0 => Ok(Node::new(Value::Map(Vec::new()), Span::at(0))),
        1 => Ok(docs.remove(0)),
        n => Err(YamlError {
            message: format!("expected one YAML document, found {n}"),
            span: docs[1].span,
        }),
    }
}

fn to_yaml_error(error: &serde_saphyr::Error, text: &str) -> YamlError {
    let offset = error
        .location()
        .map(|loc| byte_offset(loc, text))
        .unwrap_or(0);
    let message = budget_breach(error).and_then(budget_message);
    let message = message.unwrap_or_else(|| {
        let message = error.to_string();
        // serde-saphyr appends " at line L column C"; the reporter prints the position itself.
        let message = message.split(" at line ").next().unwrap_or(&message);
        message.trim().to_string()
    });
    YamlError {
        message,
        span: Span::at(offset),
    }
}

/// The budget limit behind `error`, also when it was met while an alias was replayed.
fn budget_breach(error: &serde_saphyr::Error) -> Option<&serde_saphyr::budget::BudgetBreach> {
    match innermost(error) {
        serde_saphyr::Error::Budget { breach, .. } => Some(breach),
        _ => None,
    }
}

/// What a limit of the budget means for the file, and what to do about it (serde-saphyr says
/// `budget breached: Depth { depth: 129 }`). `None` for a limit no YAML file can reach here
/// (those of features talhorn does not use, such as includes).
fn budget_message(breach: &serde_saphyr::budget::BudgetBreach) -> Option<String> {
    use serde_saphyr::budget::BudgetBreach;
    let limits = budget();
    let (what, fix) = match breach {
        BudgetBreach::Depth { .. } => (
            format!("it nests deeper than {} levels", limits.max_depth),
            "flatten the nested value",
        ),
        BudgetBreach::Nodes { .. } => (
            format!(
                "it has more than {} values (an alias counts each time it repeats what it names)",
                limits.max_nodes
            ),
            "write out what is repeated, or repeat it fewer times",
        ),
        BudgetBreach::Aliases { .. } => (
            format!("it has more than {} aliases (`*name`)", limits.max_aliases),
            "write out what is repeated",
        ),
        BudgetBreach::Anchors { .. } => (
            format!("it has more than {} anchors (`&name`)", limits.max_anchors),
            "write out what is repeated",
        ),
        BudgetBreach::MergeKeys { .. } => (
            format!(
                "it has more than {} merge keys (`<<`)",
                limits.max_merge_keys
            ),
            "write out what is merged",
        ),
        BudgetBreach::Documents { .. } => (
            format!("it holds more than {} documents", limits.max_documents),
            "split it into several files",
        ),
        BudgetBreach::Events { .. } => (
            format!(
                "it has more than {} YAML nodes and events",
                limits.max_events
            ),
            "split it into several files",
        ),
        BudgetBreach::ScalarBytes { .. } => (
            format!(
                "its values hold more than {} bytes of text",
                limits.max_total_scalar_bytes
            ),
            "split it into several files",
        ),
        _ => return None,
    };
    Some(format!("{what}, beyond what talhorn reads: {fix}"))
}

fn byte_offset(loc: serde_saphyr::Location, text: &str) -> usize {
    if let Some(b) = loc.span().byte_offset() {
        return usize::try_from(b).unwrap_or(0).min(text.len());
    }
    // Fall back to line/column (1-based, characters).
    let line = usize::try_from(loc.line()).unwrap_or(1).max(1);
    let col = usize::try_from(loc.column()).unwrap_or(1).max(1);
    let line_start = text
        .split_inclusive('\n')
        .take(line - 1)
        .map(str::len)
        .sum::<usize>();
    let in_line = text[line_start.min(text.len())..]
        .char_indices()
        .nth(col - 1)
        .map_or(0, |(i, _)| i);
    (line_start + in_line).min(text.len())
}

fn span_of(loc: serde_saphyr::Location) -> Span {
    let span = loc.span();
    match (span.byte_offset(), span.byte_len()) {
        (Some(start), Some(len)) => {
            let start = usize::try_from(start).unwrap_or(0);
            Span::new(start, start + usize::try_from(len).unwrap_or(0))
        }
        _ => Span::at(0),
    }
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let spanned = Spanned::<Value>::deserialize(deserializer)?;
        Ok(Self::new(spanned.value, span_of(spanned.referenced)))
    }
}

impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ValueVisitor)
    }
}

struct ValueVisitor;

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any YAML value")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Int(v))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Value, E> {
        Ok(i64::try_from(v).map_or(Value::Float(v as f64), Value::Int))
    }

    fn visit_i128<E: de::Error>(self, v: i128) -> Result<Value, E> {
        Ok(i64::try_from(v).map_or(Value::Float(v as f64), Value::Int))
    }

    fn visit_u128<E: de::Error>(self, v: u128) -> Result<Value, E> {
        Ok(i64::try_from(v).map_or(Value::Float(v as f64), Value::Int))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        Ok(Value::Float(v))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Value, E> {
        Ok(Value::Str(v.to_string()))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Value, E> {
        Ok(Value::Str(v))
    }

    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Value, E> {
        Ok(Value::Str(String::from_utf8_lossy(v).into_owned()))
    }

    fn visit_none<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        Value::deserialize(d)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<Node>()? {
            items.push(item);
        }
        Ok(Value::Seq(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut entries = Vec::new();
        while let Some((k, v)) = map.next_entry::<Node, Node>()? {
            entries.push((k, v));
        }
        Ok(Value::Map(entries))
    }
}

/// Every YAML file of the fixtures, the examples, the tests and a synthetic tree of 300 files
/// written into `synthetic`: a corpus for the tests that compare two ways of reading YAML.
#[cfg(test)]
pub(crate) fn yaml_corpus(synthetic: &std::path::Path) -> Vec<std::path::PathBuf> {
    fn walk(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
                out.push(path);
            }
        }
    }
    crate::synthetic_tree::write_tree(synthetic, 300).unwrap();
    let mut files = Vec::new();
    walk(synthetic, &mut files);
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    for dir in ["fixtures", "examples", "tests"] {
        walk(&root.join(dir), &mut files);
    }
    files
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text_of<'a>(text: &'a str, node: &Node) -> &'a str {
        &text[node.span.start..node.span.end]
    }

    #[test]
    fn keeps_spans_of_keys_and_scalars() {
        let text = "machine:\n  install:\n    disk: /dev/sda\n";
        let doc = parse_document(text).unwrap();
        let (key, value) = doc
            .path(&["machine", "install"])
            .unwrap()
            .entry("disk")
            .unwrap();
        assert_eq!(text_of(text, key), "disk");
        assert_eq!(text_of(text, value), "/dev/sda");
    }

    #[test]
    fn splits_documents_and_keeps_offsets_per_stream() {
        let text = "a: 1\n---\nkind: X\nname: y\n";
        let docs = parse_documents(text).unwrap();
        assert_eq!(docs.len(), 2);
        assert_eq!(text_of(text, docs[1].get("name").unwrap()), "y");
    }

    #[test]
    fn keeps_duplicate_keys() {
        let doc = parse_document("a: 1\na: 2\n").unwrap();
        assert_eq!(doc.as_map().unwrap().len(), 2);
        assert_eq!(doc.get("a").unwrap().as_i64(), Some(2));
    }

    #[test]
    fn quoted_numbers_stay_strings() {
        let doc = parse_document("a: \"1024\"\nb: 1024\n").unwrap();
        assert_eq!(doc.get("a").unwrap().as_str(), Some("1024"));
        assert_eq!(doc.get("b").unwrap().as_i64(), Some(1024));
    }

    #[test]
    fn syntax_error_has_an_offset() {
        let err = parse_document("a: [1, 2\nb: 3\n").unwrap_err();
        assert!(!err.message.is_empty());
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let text = "[".repeat(10_000) + &"]".repeat(10_000);
        assert!(parse_document(&text).is_err());
    }

    #[test]
    fn deep_nesting_is_an_error_on_a_small_stack_too() {
        let text = "[".repeat(10_000) + &"]".repeat(10_000);
        let on_small_stack = std::thread::Builder::new()
            .stack_size(256 * 1024)
            .spawn(move || parse_document(&text).is_err())
            .unwrap();
        assert!(on_small_stack.join().unwrap());
    }

    #[test]
    fn parses_reuse_long_lived_workers() {
        let threads: std::collections::HashSet<_> = (0..64)
            .map(|_| on_workers(|| std::thread::current().id()))
            .collect();
        let workers = workers().map_or(1, rayon::ThreadPool::current_num_threads);
        assert!(
            threads.len() <= workers,
            "{} threads for 64 parses",
            threads.len()
        );
        assert!(!threads.contains(&std::thread::current().id()));
    }

    /// What a full parse says of the top-level entries: each key and value when a string.
    fn top_level(docs: &[Node]) -> Vec<Vec<(Option<String>, Option<String>)>> {
        let text = |n: &Node| n.as_str().map(str::to_owned);
        docs.iter()
            .map(|doc| {
                let entries = doc.as_map().unwrap_or_default();
                entries.iter().map(|(k, v)| (text(k), text(v))).collect()
            })
            .collect()
    }

    /// A document's top-level entries, owned.
    type Entries = Vec<(String, Option<String>)>;

    fn skimmed(text: &str) -> Option<Vec<Entries>> {
        skim_documents(text).map(|docs| {
            docs.into_iter()
                .map(|doc| {
                    doc.into_iter()
                        .map(|(k, v)| (k.into_owned(), v.map(Cow::into_owned)))
                        .collect()
                })
                .collect()
        })
    }

    /// A skim that answers agrees with the full parse: the parse succeeds, with the same
    /// documents and entries; a key is that string there (unless the parse reads it as
    /// another type, and then it is no word a lookup could name), and every value the skim
    /// calls a string is that string there.
    fn assert_skim_agrees(text: &str) {
        let Some(skim) = skimmed(text) else { return };
        let docs = parse_documents(text)
            .unwrap_or_else(|e| panic!("skimmed, but the parse fails ({e}): {text:?}"));
        let full = top_level(&docs);
        assert_eq!(skim.len(), full.len(), "documents of {text:?}");
        for (skim, full) in skim.iter().zip(&full) {
            assert_eq!(skim.len(), full.len(), "entries of {text:?}");
            for ((sk, sv), (fk, fv)) in skim.iter().zip(full) {
                match fk {
                    Some(fk) => assert_eq!(sk, fk, "key in {text:?}"),
                    None => assert!(!plain_is_string(sk), "key {sk:?} in {text:?}"),
                }
                if sv.is_some() {
                    assert_eq!(sv, fv, "value of {sk} in {text:?}");
                }
            }
        }
    }

    /// Whenever the line skim answers, the parser pass answers the same.
    fn assert_line_skim_agrees(text: &str) -> bool {
        let Some(lines) = line_skim::skim_lines(text) else {
            return false;
        };
        let events = skim_events(text);
        assert_eq!(Some(lines), events, "{text:?}");
        true
    }

    #[test]
    fn the_line_skim_reads_manifests_as_the_parser_does() {
        let text = "apiVersion: apps/v1 # c\nkind: \"Deployment\"\nmetadata:\n  name: x\n\
                    spec:\n  template:\n    spec:\n      containers:\n      - name: a\n\
                    \x20       image: 'r/a:1'\n        args: [--x, \"y\"]\n\
                    \x20       resources: { limits: { cpu: 100m } }\n      - name: b\n\
                    \x20 data:\n    f.yaml: |\n      a: [\n      # not a comment\n\n\
                    \x20   g: >-\n      x\n    h: -1\n---\n# c\n---\nx: 1\ny: true\nz:\n";
        assert!(assert_line_skim_agrees(text));
        for text in [
            "a: |\n  top-level block\n", // its string would need the block's folding
            "a: b\n  c\n",               // a multi-line plain scalar
            "a:\n  - x\n   - y\n",       // an indentation it does not follow
            "a:\n\tb: 1\n",              // a tab
            "a: 'it''s'\n",
            "a: \"\\n\"\n",
            "a: [b,\n  c]\n",
            "a: &x 1\n",
            "- a\n",
            "a: b: c\n",
            "a:\n  b: |\n     x\n    y\n",
            "k\u{e9}y: 1\n",
        ] {
            assert!(line_skim::skim_lines(text).is_none(), "{text:?}");
        }
    }

    #[test]
    fn the_line_skim_agrees_with_the_parser_on_the_corpora() {
        let synthetic = tempfile::tempdir().unwrap();
        let (mut manifests, mut line_skimmed) = (0, 0);
        for path in yaml_corpus(synthetic.path()) {
            let Ok(text) = std::fs::read_to_string(&path) else {
                continue;
            };
            let answered = assert_line_skim_agrees(&text);
            if path.starts_with(synthetic.path()) && skim_events(&text).is_some() {
                manifests += 1;
                line_skimmed += usize::from(answered);
            }
        }
        // The common case is the fast one: the synthetic tree's manifests are all plain.
        assert!(
            manifests > 100 && line_skimmed == manifests,
            "{line_skimmed}/{manifests}"
        );
    }

    #[test]
    fn skim_reads_top_level_strings() {
        let text = "---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: x\n\
                    spec: {replicas: 2}\n---\n# only a comment\n---\napiVersion: v1\n\
                    kind: 'Service'\nport: 80\non: yes\nname: \"80\"\n";
        let skim = skimmed(text).unwrap();
        let s = |v: &str| Some(v.to_owned());
        assert_eq!(skim.len(), 2);
        assert_eq!(skim[0][1], ("kind".to_owned(), s("Deployment")));
        assert_eq!(skim[0][2], ("metadata".to_owned(), None));
        assert_eq!(skim[1][1], ("kind".to_owned(), s("Service")));
        // Not certain to be strings: a number, a YAML 1.1 boolean.
        assert_eq!(skim[1][2].1, None);
        assert_eq!(skim[1][3].1, None);
        assert_eq!(skim[1][4].1, s("80"));
        assert_skim_agrees(text);
    }

    #[test]
    fn skim_leaves_to_the_parser_what_it_cannot_vouch_for() {
        for text in [
            "a: [1, 2\n",         // a syntax error
            "a: &x 1\nb: *x\n",   // an anchor and an alias
            "a: !!str 1\n",       // a tag
            "a:\n  <<: {b: 1}\n", // a merge key
            "a:\n  b: .inf\n",    // serde-saphyr rejects infinite floats
            "a:\n  - 1e999\n",
            "- a\n- b\n", // not a mapping
            "plain\n",
            "? [a]\n: b\n", // a key that is not a scalar
        ] {
            assert!(skim_documents(text).is_none(), "{text:?}");
        }
        let deep = "a: ".to_owned() + &"[".repeat(100) + &"]".repeat(100) + "\n";
        assert!(skim_documents(&deep).is_none());
        // Near the budget's event and node counts.
        let long = "a: [".to_owned() + &"b, ".repeat(150_000) + "]\n";
        assert!(skim_documents(&long).is_none());
        // Empty and null documents are dropped, as the parse drops them.
        let text = "---\n---\n~\n---\na: b\n";
        assert_eq!(skimmed(text).map(|d| d.len()), Some(1));
        assert_skim_agrees(text);
    }

    #[test]
    fn plain_words_that_are_not_strings_are_not_vouched_for() {
        for word in [
            "yes",
            "No",
            "ON",
            "off",
            "y",
            "true",
            "Null",
            "~",
            "inf",
            "NaN",
            "1",
            "0x1f",
            "1.5",
            "-.inf",
            "1e3",
            "1_000",
            "0b101",
            "+12",
            "2001-12-14",
            "",
        ] {
            assert!(!plain_is_string(word), "{word}");
        }
        for word in [
            "v1",
            "apps/v1",
            "Deployment",
            "a_b-c",
            "200G",
            "10.0.0.0/16",
            "1.10.2",
            "info",
            "nano",
            "12:30",
        ] {
            assert!(plain_is_string(word), "{word}");
        }
    }
    /// Whenever the builder answers, serde-saphyr gives the same tree: values, types and
    /// spans.
    fn assert_built_as_serde_parses(text: &str) {
        if let Some(built) = build_documents(text) {
            let parsed = parse_with_serde(text)
                .unwrap_or_else(|e| panic!("built, but serde-saphyr fails ({e}): {text:?}"));
            assert_eq!(built, parsed, "{text:?}");
        }
    }

    #[test]
    fn the_builder_types_and_locates_as_serde_saphyr() {
        let text = "a: 1\nb: -20\nc: 0\nd: true\ne: ~\nf:\ng: \"x\"\nh: 'y'\ni: |\n  z\n\
                    j: [k, {l: m}]\nk: /dev/sda\no: ghcr.io/x:v1.11.6\n\
                    q: 100m\nr: 10.0.0.0/16\n---\n- p\n";
        let docs = build_documents(text).unwrap();
        let doc = &docs[0];
        assert_eq!(doc.get("a").unwrap().as_i64(), Some(1));
        assert_eq!(doc.get("b").unwrap().as_i64(), Some(-20));
        assert_eq!(doc.get("d").unwrap().as_bool(), Some(true));
        assert!(doc.get("e").unwrap().is_null() && doc.get("f").unwrap().is_null());
        assert_eq!(text_of(text, doc.get("o").unwrap()), "ghcr.io/x:v1.11.6");
        assert_eq!(doc.get("r").unwrap().as_str(), Some("10.0.0.0/16"));
        assert_eq!(docs[1].as_seq().map(<[Node]>::len), Some(1));
        assert_built_as_serde_parses(text);
        // Documents that are scalars (a ConfigMap's values are parsed as YAML).
        for text in ["hello from app", "a\n---\n\"b\"\n---\n|\n  c\n", "8080\n"] {
            assert!(build_documents(text).is_some(), "{text:?}");
            assert_built_as_serde_parses(text);
        }
        // Left to serde-saphyr: types it might read otherwise, and what the skim leaves.
        for text in [
            "a: yes\n",
            "a: 1.5\n",
            "a: 0x1f\n",
            "a: 0127\n",
            "a: 2001-12-14\n",
            "a: +1\n",
            "1: a\n",
            "true: a\n",
            "a: &x 1\n",
            "a: !!str 1\n",
            "a: [1, 2\n",
        ] {
            assert!(build_documents(text).is_none(), "{text:?}");
        }
    }

    #[test]
    fn built_trees_equal_serde_saphyr_trees_on_the_corpora() {
        let synthetic = tempfile::tempdir().unwrap();
        let mut built = 0;
        for path in yaml_corpus(synthetic.path()) {
            let Ok(text) = std::fs::read_to_string(&path) else {
                continue;
            };
            built += usize::from(build_documents(&text).is_some());
            assert_built_as_serde_parses(&text);
        }
        assert!(built > 100, "{built}");
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(3_000))]
        /// Streams stitched from fragments that are often valid and often tricky (anchors,
        /// tags, merge keys, flow collections, odd scalars, indentation mistakes): whenever
        /// the skim or the builder answers, serde-saphyr succeeds and agrees with it.
        #[test]
        fn skim_never_vouches_for_what_the_parse_rejects_or_reads_otherwise(
            parts in proptest::collection::vec(proptest::sample::select(vec![
                "apiVersion: v1\n", "kind: Deployment\n", "kind: 'Job'\n", "kind: \"x\\ty\"\n",
                "metadata:\n", "  name: a\n", "  labels: {a: b, c: [d, e]}\n", "  - x\n",
                "- y\n", "spec:\n", "    replicas: 2\n", "  v: .inf\n", "  w: 1e3\n",
                "  x: &a 1\n", "  y: *a\n", "  <<: {m: 1}\n", "  t: !!int 3\n", "---\n",
                "...\n", "# c\n", "\n", "  z: |\n    text\n", "k: [\n", "k: }\n", "\t- 1\n",
                "kind: Namespace\n", "a: b: c\n", "key: \"unterminated\n", "? k\n", ": v\n",
                "x: yes\n", "x: 0o17\n", "x: 12:30\n", "x: ~\n", "   deep: 1\n", "apiVersion:\n",
                "kind: [a]\n", "%YAML 1.2\n", "x: '''\n", "x: @y\n", "x: `y\n", "\"q\": 1\n",
                "x: \"\\q\"\n", "x: -.INF\n", "x: +12e03\n", "x: 0b101\n", "x: 1_000\n",
                "x: 2001-12-14\n", "kind: !Job\n", "x: {a: *b}\n", "x: \u{85}\n", "x: \u{feff}\n",
                "1: a\n", "x: -5\n", "x: 0\n", "x: 00\n", "x: True\n", "x: \"\"\n", "- - a\n",
                "  - {a: 1, b: [2, c]}\n", "x: >-\n  folded\n  text\n", "x: -\n", "x: 12345678901234567890\n",
                "? - a\n", "x: null\n", "x: NULL\n", "x: nUll\n", "~: a\n", "x: a #c\n",
                "x: info\n", "x: +Inf\n", "x: -nan\n", "x: 200G\n", "x: 1.10.2\n", "x: 0.0.0.0/0\n",
                "- name: a\n", "  - name: b\n    image: c\n", "  y: [a, {b: c}]\n", "x: { a: 1 }\n",
                "  s: |\n  t: u\n", "  s: |\n      deep\n    shallow\n", "x: \"a #b\" #c\n",
                "x: 'a''b'\n", "- \n", "  - --flag\n", "x: [ ]\n", "x: {a: }\n", "x: |-\n\n  b\n",
                "x: >\n   \n  b\n", "  c: |\n    l\n  # c\n", "x: [a b]\n", "x: \"q\"#c\n",
                "x:   # c\n  - a\n", "x: a:b\n", "x: y # c: d\n", "    - z\n", "x: {a: [1, .inf]}\n",
            ]), 0..12)
        ) {
            let text = parts.concat();
            assert_line_skim_agrees(&text);
            assert_skim_agrees(&text);
            assert_built_as_serde_parses(&text);
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(3_000))]
        /// Lines of manifests at random indentations (most streams are then invalid or read
        /// otherwise than they look): whenever the line skim answers, the parser agrees.
        #[test]
        fn the_line_skim_follows_indentation_as_the_parser_does(
            lines in proptest::collection::vec((0_usize..7, proptest::sample::select(vec![
                "a:", "b: c", "- d", "- e: f", "-", "g: |", "h: >-", "text", "i: [j, {k: l}]",
                "# c", "", "m: 'n'", "o: \"p\"", "---", "- - q", "r: s # t", "u:  ", "- v:",
                "kind: Service", "apiVersion: v1", "w: -x", "y: [", "z: {}", "- [a]",
            ])), 1..14)
        ) {
            let text: String = lines
                .iter()
                .map(|(indent, line)| format!("{}{line}\n", " ".repeat(*indent)))
                .collect();
            assert_line_skim_agrees(&text);
        }
    }

    /// The bjw-s app-template pattern: go-yaml (Flux, Helm) reads `*app:` as the alias `app`
    /// and the key's colon, where serde-saphyr alone reads the alias `app:`, which names no
    /// anchor, and rejects the file.
    #[test]
    fn an_alias_key_written_against_its_colon_is_read_as_go_yaml_reads_it() {
        let text = "metadata:\n  name: &app actual\nspec:\n  controllers:\n    *app:\n      \
                    strategy: Recreate\n    other: {*app: x}\n  after: y\n";
        let doc = parse_document(text).unwrap();
        let controllers = doc.path(&["spec", "controllers"]).unwrap();
        let (key, value) = controllers.entry("actual").unwrap();
        assert_eq!(text_of(text, key), "*app");
        assert_eq!(text_of(text, value.get("strategy").unwrap()), "Recreate");
        let (key, value) = controllers.get("other").unwrap().entry("actual").unwrap();
        assert_eq!((text_of(text, key), text_of(text, value)), ("*app", "x"));
        // Every span after the edited places is still in the user's text.
        let (key, value) = doc.get("spec").unwrap().entry("after").unwrap();
        assert_eq!((text_of(text, key), text_of(text, value)), ("after", "y"));
    }

    #[test]
    fn an_alias_key_that_names_no_anchor_is_still_an_error() {
        for (text, alias) in [
            ("a:\n  *app:\n    b: 1\n", 5),
            ("a: &ap x\nb:\n  *app:\n    c: 1\n", 14),
            // Defined after the alias, or in another document.
            ("a:\n  *app:\n    b: 1\nc: &app x\n", 5),
            ("a: &app x\n---\nb:\n  *app:\n    c: 1\n", 19),
            // Another error before it, and an edit before it.
            ("a: *nope\nb: *app:\n", 3),
            ("a: 1e999\nb:\n  *app: c\n", 14),
        ] {
            let error = parse_documents(text).unwrap_err();
            assert_eq!(error.message, "alias references unknown anchor", "{text:?}");
            assert_eq!(error.span, Span::at(alias), "{text:?}");
        }
    }

    /// A disk serial talhelper writes unquoted: go-yaml reads a float only when Go parses it,
    /// and the text when it overflows; serde-saphyr reads an infinite float, and rejects it.
    #[test]
    fn a_number_too_large_for_a_float_is_read_as_its_text_as_go_yaml_reads_it() {
        let text = "machine:\n  install:\n    diskSelector:\n      serial: 2244E6801787\n    \
                    image: x\n";
        let doc = parse_document(text).unwrap();
        let install = doc.path(&["machine", "install"]).unwrap();
        let serial = install.path(&["diskSelector", "serial"]).unwrap();
        assert_eq!(serial.as_str(), Some("2244E6801787"));
        assert_eq!(text_of(text, serial), "2244E6801787");
        let (key, value) = install.entry("image").unwrap();
        assert_eq!((text_of(text, key), text_of(text, value)), ("image", "x"));
        // As keys, in flow collections, anchored and repeated by an alias; others untouched.
        let text = "1e400: k\nl: [9e999, -1e999, 1.5, 2244E68]\na: &x 5e309\nb: *x\n";
        let doc = parse_document(text).unwrap();
        assert_eq!(text_of(text, doc.entry("1e400").unwrap().0), "1e400");
        let list = doc.get("l").and_then(Node::as_seq).unwrap();
        let values: Vec<_> = list.iter().map(|n| n.value.clone()).collect();
        let text_value = |s: &str| Value::Str(s.to_owned());
        assert_eq!(
            values,
            [
                text_value("9e999"),
                text_value("-1e999"),
                Value::Float(1.5),
                Value::Float(2244e68)
            ]
        );
        assert_eq!(text_of(text, &list[1]), "-1e999");
        assert_eq!(text_of(text, &list[2]), "1.5");
        assert_eq!(doc.get("b").unwrap().as_str(), Some("5e309"));
    }

    /// go-yaml reads `.inf` and `.nan` as floats too: talhorn's policy still rejects them.
    #[test]
    fn explicit_infinities_are_still_rejected() {
        for (text, word) in [
            ("a: .inf\n", ".inf"),
            ("a: [1e999, -.Inf]\n", "-.Inf"),
            ("a: &c 1e999\nb:\n  *c:\n    d: .nan\n", ".nan"),
        ] {
            let error = parse_documents(text).unwrap_err();
            assert!(error.message.contains(&format!("`{word}`")), "{error}");
            assert!(text[error.span.start..].starts_with(word), "{text:?}");
        }
    }

    /// Every string node whose span holds a plain scalar on one line spans exactly its text.
    fn assert_plain_strings_span_their_text(text: &str, docs: &[Node]) {
        let mut pending: Vec<&Node> = docs.iter().collect();
        while let Some(node) = pending.pop() {
            let written = text.get(node.span.start..node.span.end);
            assert!(written.is_some(), "{:?} in {text:?}", node.span);
            match &node.value {
                Value::Str(s) => {
                    let written = written.unwrap_or_default();
                    let plain = !written.starts_with(['*', '"', '\'', '|', '>', '&', '!']);
                    if plain && !s.contains('\n') && !written.contains('\n') {
                        assert_eq!(written, s, "in {text:?}");
                    }
                }
                Value::Seq(items) => pending.extend(items),
                Value::Map(entries) => pending.extend(entries.iter().flat_map(|(k, v)| [k, v])),
                _ => {}
            }
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2_000))]
        /// Streams around the places read as go-yaml reads them (alias keys against their
        /// colon, numbers too large for a float), and the same words where they must stay as
        /// written (quoted, in comments and block scalars): the parse never panics, and every
        /// span it gives lies in the user's text, around what is written there.
        #[test]
        fn spans_of_what_is_read_as_go_yaml_reads_it_are_in_the_users_text(
            parts in proptest::collection::vec(proptest::sample::select(vec![
                "a: &app x\n", "b:\n", "  *app:\n", "    c: 1\n", "  *app: 1e999\n", "*app: y\n",
                "k: 2244E6801787\n", "- 1e999\n", "  - *app\n", "c: \"*app: q\"\n", "# *app:\n",
                "d: |\n  *app: 1e999\n", "e: [*app: 1e999, 1e3]\n", "---\n", "f: .inf\n",
                "g: !!str 1e999\n", "h: *app\n", "1e999: z\n", "i: &n 9e999\n", "j: *n\n",
                "l: x *app: y\n", "  m: n\n", "o: {*app: p}\n", "*nope:\n", "r: '1e999' # 1e999\n",
            ]), 0..10)
        ) {
            let text = parts.concat();
            if let Ok(docs) = parse_documents(&text) {
                assert_plain_strings_span_their_text(&text, &docs);
            }
        }
    }

    #[test]
    fn json_pointer_tokens_are_unescaped() {
        let text = "labels:\n  node.longhorn.io/create-default-disk: \"true\"\n  a~b: c\n";
        let doc = parse_document(text).unwrap();
        let slash = "/labels/node.longhorn.io~1create-default-disk";
        assert_eq!(text_of(text, doc.at_pointer(slash)), "\"true\"");
        assert_eq!(
            text_of(text, doc.key_at_pointer("/labels/a~0b").unwrap()),
            "a~b"
        );
    }

    #[test]
    fn json_pointer_finds_nodes() {
        let text = "nodes:\n  - name: a\n  - name: b\n";
        let doc = parse_document(text).unwrap();
        assert_eq!(text_of(text, doc.at_pointer("/nodes/1/name")), "b");
        assert_eq!(
            text_of(text, doc.key_at_pointer("/nodes/1/name").unwrap()),
            "name"
        );
    }
}

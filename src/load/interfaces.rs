//! The host's `/etc/network/interfaces` (ifupdown2 format, as PVE writes it): which interfaces
//! are bridges, their ports and their MTU (shared/research/proxmox.md §6).
//!
//! `iface <name> inet|inet6 <method>` opens a stanza; the option lines after it belong to it.
//! Two stanzas for one name (`inet` and `inet6`) describe one interface and are merged.

use crate::source::Span;

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Interfaces {
    pub ifaces: Vec<Iface>,
    pub problems: Vec<InterfacesProblem>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Iface {
    pub name: String,
    /// The name in the first `iface` line for it.
    pub name_span: Span,
    /// The `mtu` option's value and span (the last one when repeated).
    pub mtu: Option<(u32, Span)>,
    /// `bridge-ports` / `bridge_ports` / `ovs_ports` entries (`none` gives an empty list).
    pub bridge_ports: Vec<(String, Span)>,
    /// A Linux bridge (has a `bridge-ports` line) or an OVS bridge (`ovs_type OVSBridge`).
    pub is_bridge: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InterfacesProblem {
    pub span: Span,
    pub message: String,
}

impl Interfaces {
    pub fn get(&self, name: &str) -> Option<&Iface> {
        self.ifaces.iter().find(|i| i.name == name)
    }
}

/// A whitespace-separated word of a line, with its absolute span.
struct Word<'a> {
    text: &'a str,
    span: Span,
}

fn words(line: &str, start: usize) -> Vec<Word<'_>> {
    let mut out = Vec::new();
    let mut word_start = None;
    for (i, c) in line
        .char_indices()
        .chain(std::iter::once((line.len(), ' ')))
    {
        match (c.is_whitespace(), word_start) {
            (true, Some(s)) => {
                out.push(Word {
                    text: &line[s..i],
                    span: Span::new(start + s, start + i),
                });
                word_start = None;
            }
            (false, None) => word_start = Some(i),
            _ => {}
        }
    }
    out
}

/// Parse an interfaces file. Never fails; see [`Interfaces::problems`].
pub fn parse(text: &str) -> Interfaces {
    let mut result = Interfaces::default();
    // Index into `result.ifaces` of the stanza whose options follow.
    let mut current: Option<usize> = None;
    let mut offset = 0;
    for raw_line in text.split_inclusive('\n') {
        let start = offset;
        offset += raw_line.len();
        let line = raw_line.trim_end_matches(['\n', '\r']);
        let words = words(line, start);
        let Some(first) = words.first() else { continue };
        if first.text.starts_with('#') {
            continue;
        }
        if is_stanza_keyword(first.text) {
            current = stanza(&mut result, &words);
            continue;
        }
        if let Some(iface) = current.and_then(|i| result.ifaces.get_mut(i)) {
            option(iface, &words, &mut result.problems);
        }
    }
    result
}

/// Words that start a new stanza; any other line is an option of the current `iface` stanza
/// (ifupdown does not require options to be indented, though PVE indents them).
fn is_stanza_keyword(word: &str) -> bool {
    matches!(
        word,
        "iface" | "auto" | "mapping" | "source" | "source-directory" | "source-dir" | "rename"
    ) || word.starts_with("allow-")
}

/// Handle a stanza line: `iface` opens a stanza; the others (`auto`, `source`, …) close the
/// current one.
fn stanza(result: &mut Interfaces, words: &[Word]) -> Option<usize> {
    let [keyword, name, ..] = words else {
        return None;
    };
    if keyword.text != "iface" {
        return None;
    }
    if let Some(existing) = result.ifaces.iter().position(|i| i.name == name.text) {
        return Some(existing);
    }
    result.ifaces.push(Iface {
        name: name.text.to_owned(),
        name_span: name.span,
        mtu: None,
        bridge_ports: Vec::new(),
        is_bridge: false,
    });
    Some(result.ifaces.len() - 1)
}

fn option(iface: &mut Iface, words: &[Word], problems: &mut Vec<InterfacesProblem>) {
    let Some((name, values)) = words.split_first() else {
        return;
    };
    match name.text {
        "mtu" => match values {
            [value] => match value.text.parse::<u32>() {
                Ok(mtu) => iface.mtu = Some((mtu, value.span)),
                Err(_) => problems.push(InterfacesProblem {
                    span: value.span,
                    message: format!(
                        "`mtu {}` on `{}` is not a number; write e.g. `mtu 9000`",
                        value.text, iface.name
                    ),
                }),
            },
            _ => problems.push(InterfacesProblem {
                span: name.span,
                message: format!(
                    "`mtu` on `{}` needs exactly one number, e.g. `mtu 9000`",
                    iface.name
                ),
            }),
        },
        "bridge-ports" | "bridge_ports" | "ovs_ports" => {
            iface.is_bridge = true;
            iface.bridge_ports = values
                .iter()
                .filter(|v| v.text != "none")
                .map(|v| (v.text.to_owned(), v.span))
                .collect();
        }
        "ovs_type" if values.first().is_some_and(|v| v.text == "OVSBridge") => {
            iface.is_bridge = true;
        }
        _ => {}
    }
}

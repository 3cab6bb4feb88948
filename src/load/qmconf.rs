//! The Proxmox VE `qm.conf` parser (`/etc/pve/qemu-server/<vmid>.conf`).
//!
//! It follows qemu-server's `parse_vm_config` (shared/research/proxmox.md §1): `key: value`
//! lines, `#` description lines at column 0, `[PENDING]`, `[special:cloudinit]`,
//! `[special:fleecing]` and snapshot sections. It never fails: what PVE would reject or
//! silently drop becomes a [`QmProblem`], and everything keeps its byte span into the text.

use crate::source::Span;

/// A parsed `qm.conf`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct QmConfig {
    /// The main section first (always present, maybe empty), then the others in file order.
    /// Lines of unknown sections are skipped, as PVE does.
    pub sections: Vec<QmSection>,
    pub problems: Vec<QmProblem>,
}

impl QmConfig {
    /// The VM's current configuration (the lines before the first section header).
    pub fn main(&self) -> Option<&QmSection> {
        self.sections.iter().find(|s| s.kind == SectionKind::Main)
    }

    /// Changes waiting for the next VM start.
    pub fn pending(&self) -> Option<&QmSection> {
        self.sections
            .iter()
            .find(|s| s.kind == SectionKind::Pending)
    }
}

/// Which part of the file a section is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SectionKind {
    Main,
    Pending,
    /// `[special:cloudinit]` or `[special:fleecing]`: the name after `special:`.
    Special(String),
    /// A snapshot `[name]`.
    Snapshot(String),
}

#[derive(Clone, Debug, PartialEq)]
pub struct QmSection {
    pub kind: SectionKind,
    /// The `[...]` header line; `None` for the main section.
    pub header: Option<Span>,
    /// The text after `#` of each description line (PVE keeps them as the VM's notes).
    pub description: Vec<Span>,
    pub options: Vec<QmOption>,
}

impl QmSection {
    fn new(kind: SectionKind, header: Option<Span>) -> Self {
        Self {
            kind,
            header,
            description: Vec::new(),
            options: Vec::new(),
        }
    }

    /// The option PVE uses for `key`: the last one, since a repeated key overwrites.
    pub fn get(&self, key: &str) -> Option<&QmOption> {
        self.options.iter().rev().find(|o| o.key == key)
    }
}

/// One `key: value` line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QmOption {
    pub key: String,
    pub key_span: Span,
    /// The value with surrounding whitespace trimmed.
    pub value: String,
    pub value_span: Span,
    /// The whole line without its line break.
    pub line: Span,
}

impl QmOption {
    /// The value split into its comma-separated sub-options.
    pub fn properties(&self) -> Vec<Property<'_>> {
        parse_properties(&self.value, self.value_span)
    }

    /// The byte offset of an inline `#` comment in the value (` #`), if any.
    pub fn inline_comment(&self) -> Option<usize> {
        inline_comment_start(&self.value)
    }
}

/// One part of a property string such as `local-lvm:vm-101-disk-0,discard=on`, borrowed from
/// the option's value: a VM config's property strings are split twice (for its model and for
/// its check), so no part of them is copied.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Property<'a> {
    /// `None` for the bare value that belongs to the option's default sub-option.
    pub key: Option<&'a str>,
    /// The key's span; for a bare value, the same as `value_span`.
    pub key_span: Span,
    pub value: &'a str,
    pub value_span: Span,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum QmProblemKind {
    /// A line that is no `key: value`, `#` comment or `[section]` header.
    Syntax,
    /// `value # comment`: PVE keeps the comment as part of the value.
    InlineComment,
    /// The key already appeared in this section; the later value silently wins.
    DuplicateKey { first: Span },
    /// A `[...]` header PVE does not know; `name` is the text between the brackets.
    UnknownSection { name: String },
    /// The section header already appeared (a strict-mode parse error in PVE).
    DuplicateSection { first: Span },
    /// `delete:` is only allowed in `[PENDING]`.
    DeleteOutsidePending,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QmProblem {
    pub kind: QmProblemKind,
    pub span: Span,
    pub message: String,
}

/// Parse a `qm.conf`. Never fails; see [`QmConfig::problems`].
pub fn parse(text: &str) -> QmConfig {
    let mut parser = Parser {
        config: QmConfig::default(),
        current: QmSection::new(SectionKind::Main, None),
        skipping_unknown_section: false,
    };
    for line in lines(text) {
        parser.line(text, line);
    }
    parser.config.sections.push(parser.current);
    parser.config
}

struct Parser {
    /// The sections before `current`, and the problems so far.
    config: QmConfig,
    current: QmSection,
    /// PVE ignores every line of an unknown section up to the next header.
    skipping_unknown_section: bool,
}

impl Parser {
    fn line(&mut self, text: &str, line: Span) {
        let Some(content) = text.get(line.start..line.end) else {
            return;
        };
        if content.trim().is_empty() {
            return;
        }
        if content.starts_with('[') {
            match section_header(content) {
                Header::Known(kind) => return self.open_section(kind, line),
                Header::Unknown(name) => return self.unknown_section(name, line),
                Header::Other => {}
            }
        }
        if self.skipping_unknown_section {
            return;
        }
        if let Some(comment) = content.strip_prefix('#') {
            let start = line.start + 1;
            self.current
                .description
                .push(Span::new(start, start + comment.len()));
            return;
        }
        self.key_value(content, line);
    }

    fn unknown_section(&mut self, name: &str, line: Span) {
        self.problem(
            QmProblemKind::UnknownSection {
                name: name.to_owned(),
            },
            line,
            format!(
                "unknown section `[{name}]`: PVE skips it and every line up to the next section; \
                 known sections are [PENDING], [special:cloudinit], [special:fleecing] and \
                 snapshot names matching [a-z][a-z0-9_-]+"
            ),
        );
        self.skipping_unknown_section = true;
    }

    fn open_section(&mut self, kind: SectionKind, header: Span) {
        self.skipping_unknown_section = false;
        let first = self
            .config
            .sections
            .iter()
            .chain(std::iter::once(&self.current))
            .find(|s| s.kind == kind)
            .and_then(|s| s.header);
        if let Some(first) = first {
            self.problem(
                QmProblemKind::DuplicateSection { first },
                header,
                format!(
                    "duplicate section {}: PVE refuses this file in strict mode; merge the two \
                     sections or remove one",
                    describe(&kind)
                ),
            );
        }
        let finished = std::mem::replace(&mut self.current, QmSection::new(kind, Some(header)));
        self.config.sections.push(finished);
    }

    fn key_value(&mut self, content: &str, line: Span) {
        let Some((key_len, value_span)) = split_key_value(content, line.start) else {
            self.problem(
                QmProblemKind::Syntax,
                trim_span(content, line),
                "unable to parse this line: expected `key: value` with a lowercase key at the \
                 start of the line, a `#` comment at column 0, or a `[section]` header"
                    .to_owned(),
            );
            return;
        };
        let key_span = Span::new(line.start, line.start + key_len);
        let key = &content[..key_len];
        if value_span.is_empty() {
            self.problem(
                QmProblemKind::Syntax,
                trim_span(content, line),
                format!("`{key}:` has no value; write `{key}: <value>` or remove the line"),
            );
            return;
        }
        let option = QmOption {
            key: key.to_owned(),
            key_span,
            value: content[value_span.start - line.start..value_span.end - line.start].to_owned(),
            value_span,
            line,
        };
        if key == "delete" && self.current.kind != SectionKind::Pending {
            self.problem(
                QmProblemKind::DeleteOutsidePending,
                key_span,
                "`delete:` is only allowed in the [PENDING] section; remove the line or delete \
                 the listed keys directly"
                    .to_owned(),
            );
            return;
        }
        self.check_inline_comment(&option);
        self.check_duplicate(&option);
        self.current.options.push(option);
    }

    fn check_inline_comment(&mut self, option: &QmOption) {
        // A description is free text: a `#` in it is content, not a comment.
        if option.key == "description" {
            return;
        }
        if let Some(offset) = option.inline_comment() {
            let span = Span::new(option.value_span.start + offset, option.value_span.end);
            self.problem(
                QmProblemKind::InlineComment,
                span,
                format!(
                    "`{}` has an inline comment: qm.conf has no trailing comments, so PVE keeps \
                     `{}` as part of the value; move the comment to its own `#` line (it \
                     becomes part of the VM notes) or drop it",
                    option.key,
                    &option.value[offset..]
                ),
            );
        }
    }

    fn check_duplicate(&mut self, option: &QmOption) {
        let first = self
            .current
            .options
            .iter()
            .find(|o| o.key == option.key)
            .map(|o| o.key_span);
        if let Some(first) = first {
            self.problem(
                QmProblemKind::DuplicateKey { first },
                option.key_span,
                format!(
                    "`{}` is set twice in this section; PVE silently uses the last value, so \
                     remove one of them",
                    option.key
                ),
            );
        }
    }

    fn problem(&mut self, kind: QmProblemKind, span: Span, message: String) {
        self.config.problems.push(QmProblem {
            kind,
            span,
            message,
        });
    }
}

enum Header<'a> {
    Known(SectionKind),
    Unknown(&'a str),
    Other,
}

/// Classify a line starting with `[` (qemu-server `parse_vm_config`).
fn section_header(content: &str) -> Header<'_> {
    let Some(inner) = content
        .trim_end()
        .strip_prefix('[')
        .and_then(|s| s.strip_suffix(']'))
    else {
        return Header::Other;
    };
    if inner.eq_ignore_ascii_case("PENDING") {
        return Header::Known(SectionKind::Pending);
    }
    match inner.strip_prefix("special:") {
        Some(name @ ("cloudinit" | "fleecing")) => {
            Header::Known(SectionKind::Special(name.to_owned()))
        }
        None if is_snapshot_name(inner) => Header::Known(SectionKind::Snapshot(inner.to_owned())),
        _ => Header::Unknown(inner),
    }
}

fn describe(kind: &SectionKind) -> String {
    match kind {
        SectionKind::Main => "main".to_owned(),
        SectionKind::Pending => "[PENDING]".to_owned(),
        SectionKind::Special(name) => format!("[special:{name}]"),
        SectionKind::Snapshot(name) => format!("[{name}] (snapshot)"),
    }
}

/// Snapshot names: `^[a-z][a-z0-9_\-]+$`, case-insensitive (qemu-server `parse_vm_config`).
fn is_snapshot_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    bytes.next().is_some_and(|b| b.is_ascii_alphabetic())
        && name.len() >= 2
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// Match `^([a-z][a-z_\-]*\d*):\s*(.+?)\s*$`: the key's length and the trimmed value's span
/// (empty when the line has a key but no value).
fn split_key_value(content: &str, line_start: usize) -> Option<(usize, Span)> {
    let bytes = content.as_bytes();
    if !bytes.first()?.is_ascii_lowercase() {
        return None;
    }
    let mut end = 1;
    while bytes
        .get(end)
        .is_some_and(|&b| b.is_ascii_lowercase() || b == b'_' || b == b'-')
    {
        end += 1;
    }
    while bytes.get(end).is_some_and(u8::is_ascii_digit) {
        end += 1;
    }
    if bytes.get(end) != Some(&b':') {
        return None;
    }
    let rest = &content[end + 1..];
    let leading = rest.len() - rest.trim_start().len();
    let value = rest.trim();
    let start = line_start + end + 1 + leading;
    Some((end, Span::new(start, start + value.len())))
}

/// Where ` #` starts a would-be comment in a value: the offset of the `#`.
fn inline_comment_start(value: &str) -> Option<usize> {
    value
        .as_bytes()
        .windows(2)
        .position(|w| w[0].is_ascii_whitespace() && w[1] == b'#')
        .map(|i| i + 1)
}

/// The line's span without surrounding whitespace (what a syntax error points at).
fn trim_span(content: &str, line: Span) -> Span {
    let start = line.start + (content.len() - content.trim_start().len());
    Span::new(start, start + content.trim().len())
}

/// Every line's span without its `\n` or `\r\n`.
fn lines(text: &str) -> impl Iterator<Item = Span> + '_ {
    let mut start = 0;
    std::iter::from_fn(move || {
        if start >= text.len() {
            return None;
        }
        let end = text[start..].find('\n').map_or(text.len(), |i| start + i);
        let next = end + 1;
        let end = if text[start..end].ends_with('\r') {
            end - 1
        } else {
            end
        };
        let line = Span::new(start, end);
        start = next;
        Some(line)
    })
}

/// Split a property string (`a,b=c,...`) into its parts, with absolute spans.
///
/// Like PVE, parts are not trimmed and empty parts are skipped; a part with `=` is `key=value`
/// (split at the first `=`), a part without is the bare default-key value.
pub fn parse_properties(value: &str, value_span: Span) -> Vec<Property<'_>> {
    // One allocation: a property per comma and one more, at most.
    let mut properties =
        Vec::with_capacity(memchr::memchr_iter(b',', value.as_bytes()).count() + 1);
    let mut offset = 0;
    for part in value.split(',') {
        let start = value_span.start + offset;
        offset += part.len() + 1;
        if part.trim().is_empty() {
            continue;
        }
        let property = match part.split_once('=') {
            Some((key, val)) => {
                let value_start = start + key.len() + 1;
                Property {
                    key: Some(key),
                    key_span: Span::new(start, start + key.len()),
                    value: val,
                    value_span: Span::new(value_start, value_start + val.len()),
                }
            }
            None => {
                let span = Span::new(start, start + part.len());
                Property {
                    key: None,
                    key_span: span,
                    value: part,
                    value_span: span,
                }
            }
        };
        properties.push(property);
    }
    properties
}

/// The value of sub-option `key` (or of the bare default-key value when `key` is the
/// option's default key and is written without its name).
pub fn property<'p, 'a>(
    properties: &'p [Property<'a>],
    key: &str,
    default_key: Option<&str>,
) -> Option<&'p Property<'a>> {
    properties.iter().rev().find(|p| match p.key {
        Some(k) => k == key,
        None => default_key == Some(key),
    })
}

/// A word in a list value (`boot: order=a;b`, `hotplug: disk,network`, `tags: a;b`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Token<'a> {
    pub text: &'a str,
    pub span: Span,
}

/// Split a list value on `;`, `,` and whitespace, as PVE's `split_list` does.
pub fn split_list(value: &str, value_span: Span) -> Vec<Token<'_>> {
    let mut tokens = Vec::new();
    let mut start = None;
    for (i, c) in value
        .char_indices()
        .chain(std::iter::once((value.len(), ' ')))
    {
        let separator = c == ';' || c == ',' || c.is_whitespace();
        match (separator, start) {
            (true, Some(s)) => {
                tokens.push(Token {
                    text: &value[s..i],
                    span: Span::new(value_span.start + s, value_span.start + i),
                });
                start = None;
            }
            (false, None) => start = Some(i),
            _ => {}
        }
    }
    tokens
}

/// A PVE boolean: `1|on|yes|true` or `0|off|no|false`, case-insensitive.
pub fn parse_bool(value: &str) -> Option<bool> {
    const TRUE: [&str; 4] = ["1", "on", "yes", "true"];
    const FALSE: [&str; 4] = ["0", "off", "no", "false"];
    if TRUE.iter().any(|t| value.eq_ignore_ascii_case(t)) {
        Some(true)
    } else if FALSE.iter().any(|f| value.eq_ignore_ascii_case(f)) {
        Some(false)
    } else {
        None
    }
}

/// A PVE disk size (`^\d+(\.\d+)?([KMGT](iB)?)?$`, plain number = bytes) in bytes.
/// `None` when it does not match or does not fit in 64 bits.
pub fn parse_size(value: &str) -> Option<u64> {
    let number_len = value
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(value.len());
    let (number, unit) = value.split_at(number_len);
    let shift = match unit {
        "" => 0,
        "K" | "KiB" => 10,
        "M" | "MiB" => 20,
        "G" | "GiB" => 30,
        "T" | "TiB" => 40,
        _ => return None,
    };
    let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
    let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() || !all_digits(whole) || !all_digits(fraction) {
        return None;
    }
    if number.contains('.') && fraction.is_empty() {
        return None;
    }
    let unit_bytes: u128 = 1 << shift;
    let whole_bytes = whole.parse::<u128>().ok()?.checked_mul(unit_bytes)?;
    // Fractions beyond a byte are truncated; 38 digits keep 10^n inside u128.
    let fraction = &fraction[..fraction.len().min(38)];
    let fraction_bytes = if fraction.is_empty() {
        0
    } else {
        let scale = 10u128.checked_pow(u32::try_from(fraction.len()).ok()?)?;
        fraction.parse::<u128>().ok()?.checked_mul(unit_bytes)? / scale
    };
    u64::try_from(whole_bytes.checked_add(fraction_bytes)?).ok()
}

/// `memory: [current=]N` in MiB.
pub fn parse_memory(value: &str) -> Option<u64> {
    let value = value.strip_prefix("current=").unwrap_or(value);
    value.parse().ok()
}

/// What a drive's volume (`file`) refers to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DriveVolume<'a> {
    /// `storage:volname`, e.g. `local-lvm:vm-101-disk-0` or `local:iso/talos.iso`.
    Storage { storage: &'a str, volname: &'a str },
    /// `none`: an empty CD-ROM drive.
    Empty,
    /// `cdrom`: the host's physical CD-ROM drive.
    HostCdrom,
    /// An absolute host path (`/dev/...`), not managed by PVE storage.
    Path(&'a str),
    /// Anything else: not a volume PVE can resolve.
    Invalid(&'a str),
}

/// Classify a drive's `file` value.
pub fn drive_volume(file: &str) -> DriveVolume<'_> {
    match file {
        "none" => DriveVolume::Empty,
        "cdrom" => DriveVolume::HostCdrom,
        _ if file.starts_with('/') => DriveVolume::Path(file),
        _ => match file.split_once(':') {
            Some((storage, volname)) if !storage.is_empty() && !volname.is_empty() => {
                DriveVolume::Storage { storage, volname }
            }
            _ => DriveVolume::Invalid(file),
        },
    }
}

/// The image format a file-based volume name implies (`100/vm-100-disk-0.qcow2` → `qcow2`);
/// `None` for block-storage names without an extension.
pub fn volname_format(volname: &str) -> Option<&str> {
    let (_, extension) = volname.rsplit_once('.')?;
    matches!(extension, "raw" | "qcow2" | "vmdk" | "subvol").then_some(extension)
}

/// The entries of `boot: order=a;b;c`, or `None` without an `order=`.
pub fn boot_order(value: &str, value_span: Span) -> Option<Vec<Token<'_>>> {
    let properties = parse_properties(value, value_span);
    // A bare value is the legacy `cdn` form, not an order.
    let order = property(&properties, "order", None)?;
    let offset = order.value_span.start - value_span.start;
    let text = value.get(offset..offset + order.value.len())?;
    Some(split_list(text, order.value_span))
}

/// What `hotplug` enables when absent or `1` (qemu-server `parse_hotplug_features`).
pub const HOTPLUG_DEFAULT: [&str; 3] = ["network", "disk", "usb"];

/// Whether a `hotplug` value enables `feature` (`memory`, `cpu`, …): `0` is none, `1` is
/// [`HOTPLUG_DEFAULT`].
pub fn hotplug_enables(value: &str, feature: &str) -> bool {
    split_list(value, Span::default())
        .iter()
        .any(|t| match t.text {
            "1" => HOTPLUG_DEFAULT.contains(&feature),
            other => other == feature,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_value_regex_matches_pve() {
        assert_eq!(split_key_value("cpu: host", 0), Some((3, Span::new(5, 9))));
        assert_eq!(split_key_value("cpu:host  ", 0), Some((3, Span::new(4, 8))));
        assert_eq!(
            split_key_value("scsi12:  x", 10),
            Some((6, Span::new(19, 20)))
        );
        assert_eq!(split_key_value("allow-ksm: 1", 0).map(|k| k.0), Some(9));
        assert_eq!(split_key_value("Cpu: host", 0), None);
        assert_eq!(split_key_value(" cpu: host", 0), None);
        assert_eq!(split_key_value("cpu host", 0), None);
        assert_eq!(split_key_value("scsi0a: x", 0), None);
    }

    #[test]
    fn snapshot_names() {
        assert!(is_snapshot_name("foo"));
        assert!(is_snapshot_name("Before_Upgrade-1"));
        assert!(!is_snapshot_name("a"));
        assert!(!is_snapshot_name(":3"));
        assert!(!is_snapshot_name("1abc"));
    }
}

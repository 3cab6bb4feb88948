//! Reporters: an intent's findings rendered in every format never panic (long lines, huge
//! columns, any span), and no raw control character from the input reaches the text formats.
#![no_main]

use libfuzzer_sys::fuzz_target;
use talhorn::report::{Format, ReportOptions, render};
use talhorn::source::{SourceFile, SourceMap};

fuzz_target!(|text: &str| {
    let mut sources = SourceMap::default();
    let file = sources.add(SourceFile::new("cluster.yaml", text));
    let Err(findings) = talhorn::intent::load(file, text) else {
        return;
    };
    let options = ReportOptions::new("", "0.0.0");
    for format in Format::ALL {
        let out = render(format, &findings, &sources, &[], &options);
        if matches!(format, Format::Human | Format::Concise | Format::Github) {
            assert!(!out.chars().any(|c| c.is_control() && !matches!(c, '\n' | '\t')));
        }
    }
});

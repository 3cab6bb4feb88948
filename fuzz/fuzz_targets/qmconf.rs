//! `qm.conf` parser: never panics, and every span it returns lies inside the text.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    let parsed = talhorn::load::qmconf::parse(text);
    for section in &parsed.sections {
        for option in &section.options {
            assert!(text.get(option.line.start..option.line.end).is_some());
            for property in option.properties() {
                assert!(property.value_span.end <= text.len());
            }
        }
    }
});

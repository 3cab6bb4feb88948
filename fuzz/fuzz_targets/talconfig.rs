//! talhelper `talconfig.yaml` reader: never panics, and every span it returns lies inside the
//! text.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    for span in talhorn::ingest::read_talconfig_text(text) {
        assert!(span.end <= text.len());
    }
});

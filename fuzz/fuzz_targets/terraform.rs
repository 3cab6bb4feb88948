//! Terraform reader (HCL parse, evaluation, embedded YAML): never panics, and every span a
//! fact points at lies inside the text.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    for span in talhorn::ingest::read_terraform_text(text) {
        assert!(span.start <= span.end && span.end <= text.len());
    }
});

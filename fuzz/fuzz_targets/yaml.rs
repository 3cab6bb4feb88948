//! YAML reader: never panics, stays within its budgets, and errors point into the text.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    match talhorn::yaml::parse_documents(text) {
        Ok(docs) => {
            for doc in &docs {
                let _ = doc.to_json();
            }
        }
        Err(error) => assert!(error.span.start <= text.len()),
    }
});

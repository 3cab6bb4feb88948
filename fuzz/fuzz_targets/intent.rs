//! Intent loader (YAML, schema, semantic checks): never panics on any text.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    let _ = talhorn::intent::load(talhorn::source::FileId(0), text);
});

//! Whether the intent schema admits an intent, without compiling the schema.
//!
//! Compiling `schemas/intent.schema.json` with `jsonschema` took 3.5 ms: the meta-schema
//! check of draft 2020-12, 28 `$ref`s and 20 regular expressions. That was 60 % of a one-file
//! lint of `cluster.yaml`, the pre-commit case (docs/performance.md, "Lint: the fourteenth
//! pass"). Most intents a lint reads are valid, and this module answers "is it valid?" by
//! walking the schema's JSON: the few keywords the intent schema uses, each regular expression
//! compiled (with `regex-lite`, about 10 µs each) only when a string reaches it.
//!
//! It fails closed, so the findings always come from `jsonschema`:
//! - Only a `Some(true)` skips `jsonschema`. A `Some(false)` or a `None` runs it, and its
//!   errors become the findings.
//! - The answer is `None` when anything is outside what this module is sure of: a keyword it
//!   does not know, a `$ref` outside `#/$defs/`, or a number that is not an integer of at most
//!   53 bits where a number is compared.
//! - It is also `None` for a string with a non-ASCII character that meets a `pattern`:
//!   `regex-lite` spells `\s` in ASCII, where JSON Schema's regular expressions are
//!   ECMA-262's.
//!
//! A test compares it with `jsonschema` on the example intent and on thousands of changed
//! copies of it.

use serde_json::{Map, Value as Json};
use std::cell::RefCell;
use std::collections::HashMap;

/// Whether `schema` (draft 2020-12) admits `instance`: `Some(true)` or `Some(false)`, or `None`
/// when the schema or the instance is outside what this module decides (see the module).
pub fn admits(schema: &Json, instance: &Json) -> Option<bool> {
    Walk { root: schema }.admits(schema, instance)
}

struct Walk<'s> {
    root: &'s Json,
}

thread_local! {
    /// Each `pattern` compiled once on a thread, when a string first meets it (a repository
    /// of many clusters has many intents, all checked against the same schema).
    static PATTERNS: RefCell<HashMap<String, Option<regex_lite::Regex>>> = RefCell::default();
}

/// Keywords that constrain nothing.
const ANNOTATIONS: [&str; 6] = ["$schema", "$id", "$defs", "title", "description", "default"];

impl<'s> Walk<'s> {
    fn admits(&self, schema: &'s Json, instance: &Json) -> Option<bool> {
        let schema = match schema {
            Json::Bool(admits_all) => return Some(*admits_all),
            Json::Object(schema) => schema,
            _ => return None,
        };
        let mut verdict = true;
        for (keyword, value) in schema {
            if ANNOTATIONS.contains(&keyword.as_str()) {
                continue;
            }
            verdict &= self.keyword(keyword, value, schema, instance)?;
        }
        Some(verdict)
    }

    fn keyword(
        &self,
        keyword: &str,
        value: &'s Json,
        schema: &'s Map<String, Json>,
        instance: &Json,
    ) -> Option<bool> {
        match keyword {
            "type" => has_type(value, instance),
            "$ref" => self.admits(self.reference(value)?, instance),
            "enum" => enumerates(value, instance),
            "properties" => self.properties(value, instance),
            "additionalProperties" => self.additional_properties(value, schema, instance),
            "required" => required(value, instance),
            "propertyNames" => self.property_names(value, instance),
            "items" => self.items(value, instance),
            "minItems" => bound_items(value, instance, |length, minimum| length >= minimum),
            "uniqueItems" => unique_items(value, instance),
            "minimum" => compare(value, instance, |number, bound| number >= bound),
            "maximum" => compare(value, instance, |number, bound| number <= bound),
            "exclusiveMinimum" => compare(value, instance, |number, bound| number > bound),
            "pattern" => self.pattern(value, instance),
            _ => None,
        }
    }

    /// The schema a `$ref` of the form `#/$defs/<name>` names.
    fn reference(&self, value: &Json) -> Option<&'s Json> {
        let name = value.as_str()?.strip_prefix("#/$defs/")?;
        if name.contains(['/', '~']) {
            return None;
        }
        self.root.get("$defs")?.get(name)
    }

    fn properties(&self, properties: &'s Json, instance: &Json) -> Option<bool> {
        let (Some(properties), Some(object)) = (properties.as_object(), instance.as_object())
        else {
            return Some(true);
        };
        let mut verdict = true;
        for (name, value) in object {
            if let Some(schema) = properties.get(name) {
                verdict &= self.admits(schema, value)?;
            }
        }
        Some(verdict)
    }

    fn additional_properties(
        &self,
        additional: &'s Json,
        schema: &Map<String, Json>,
        instance: &Json,
    ) -> Option<bool> {
        if schema.contains_key("patternProperties") {
            return None;
        }
        let Some(object) = instance.as_object() else {
            return Some(true);
        };
        let declared = schema.get("properties").and_then(Json::as_object);
        let mut verdict = true;
        for (name, value) in object {
            if !declared.is_some_and(|declared| declared.contains_key(name)) {
                verdict &= self.admits(additional, value)?;
            }
        }
        Some(verdict)
    }

    fn property_names(&self, schema: &'s Json, instance: &Json) -> Option<bool> {
        let Some(object) = instance.as_object() else {
            return Some(true);
        };
        let mut verdict = true;
        for name in object.keys() {
            verdict &= self.admits(schema, &Json::String(name.clone()))?;
        }
        Some(verdict)
    }

    fn items(&self, schema: &'s Json, instance: &Json) -> Option<bool> {
        if schema.is_array() {
            return None;
        }
        let Some(items) = instance.as_array() else {
            return Some(true);
        };
        let mut verdict = true;
        for item in items {
            verdict &= self.admits(schema, item)?;
        }
        Some(verdict)
    }

    fn pattern(&self, pattern: &'s Json, instance: &Json) -> Option<bool> {
        let pattern = pattern.as_str()?;
        let Some(text) = instance.as_str() else {
            return Some(true);
        };
        if !text.is_ascii() {
            return None;
        }
        PATTERNS.with_borrow_mut(|compiled| {
            if !compiled.contains_key(pattern) {
                let regex = regex_lite::Regex::new(pattern).ok();
                compiled.insert(pattern.to_owned(), regex);
            }
            Some(compiled.get(pattern)?.as_ref()?.is_match(text))
        })
    }
}

fn has_type(types: &Json, instance: &Json) -> Option<bool> {
    match types {
        Json::String(name) => is_of_type(name, instance),
        Json::Array(names) => {
            let mut verdict = false;
            for name in names {
                verdict |= is_of_type(name.as_str()?, instance)?;
            }
            Some(verdict)
        }
        _ => None,
    }
}

fn is_of_type(name: &str, instance: &Json) -> Option<bool> {
    Some(match name {
        "null" => instance.is_null(),
        "boolean" => instance.is_boolean(),
        "string" => instance.is_string(),
        "array" => instance.is_array(),
        "object" => instance.is_object(),
        "number" => instance.is_number(),
        // A float with no fraction (`2.0`) is an integer to JSON Schema: not decided here.
        "integer" => match instance {
            Json::Number(number) if number.is_f64() => return None,
            Json::Number(_) => true,
            _ => false,
        },
        _ => return None,
    })
}

fn enumerates(options: &Json, instance: &Json) -> Option<bool> {
    let mut verdict = Some(false);
    for option in options.as_array()? {
        match equal(option, instance) {
            Some(true) => return Some(true),
            Some(false) => {}
            None => verdict = None,
        }
    }
    verdict
}

fn required(names: &Json, instance: &Json) -> Option<bool> {
    let names = names.as_array()?;
    let Some(object) = instance.as_object() else {
        return Some(true);
    };
    let mut verdict = true;
    for name in names {
        verdict &= object.contains_key(name.as_str()?);
    }
    Some(verdict)
}

fn bound_items(bound: &Json, instance: &Json, holds: fn(u64, u64) -> bool) -> Option<bool> {
    let bound = bound.as_u64()?;
    let Some(items) = instance.as_array() else {
        return Some(true);
    };
    Some(holds(u64::try_from(items.len()).ok()?, bound))
}

fn unique_items(unique: &Json, instance: &Json) -> Option<bool> {
    let Some(items) = instance.as_array() else {
        return Some(true);
    };
    if !unique.as_bool()? {
        return Some(true);
    }
    for (index, item) in items.iter().enumerate() {
        for earlier in &items[..index] {
            if equal(earlier, item)? {
                return Some(false);
            }
        }
    }
    Some(true)
}

/// JSON Schema's equality: numbers by value (`1` equals `1.0`), the rest by structure.
/// Decided for integers; a float anywhere gives `None`.
fn equal(a: &Json, b: &Json) -> Option<bool> {
    match (a, b) {
        (Json::Number(a), Json::Number(b)) => {
            let integer = |n: &serde_json::Number| {
                n.as_i64()
                    .map(i128::from)
                    .or_else(|| n.as_u64().map(i128::from))
            };
            Some(integer(a)? == integer(b)?)
        }
        (Json::Array(a), Json::Array(b)) => {
            if a.len() != b.len() {
                return Some(false);
            }
            let mut verdict = true;
            for (a, b) in a.iter().zip(b) {
                verdict &= equal(a, b)?;
            }
            Some(verdict)
        }
        (Json::Object(a), Json::Object(b)) => {
            if a.len() != b.len() {
                return Some(false);
            }
            let mut verdict = true;
            for (key, a) in a {
                let Some(b) = b.get(key) else {
                    return Some(false);
                };
                verdict &= equal(a, b)?;
            }
            Some(verdict)
        }
        // Values of different types (a number and a string, ...) are never equal.
        _ => Some(a == b),
    }
}

/// A numeric bound: decided for integers that a double holds exactly.
fn compare(bound: &Json, instance: &Json, holds: fn(i64, i64) -> bool) -> Option<bool> {
    let Json::Number(number) = instance else {
        return Some(true);
    };
    Some(holds(
        exact_integer(number)?,
        exact_integer(bound.as_number()?)?,
    ))
}

fn exact_integer(number: &serde_json::Number) -> Option<i64> {
    const EXACT: i64 = 1 << 53;
    number.as_i64().filter(|n| (-EXACT..=EXACT).contains(n))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::intent::SCHEMA;

    fn schema() -> Json {
        serde_json::from_str(SCHEMA).expect("the intent schema is JSON")
    }

    fn intent_json(yaml: &str) -> Json {
        crate::yaml::parse_document(yaml)
            .expect("the intent is YAML")
            .to_json()
    }

    /// Values put in place of each value of an intent: each type, integers at and beyond the
    /// schema's bounds, floats with and without a fraction, strings that patterns and enums
    /// take or refuse (non-ASCII and Unicode spaces among them), duplicates for `uniqueItems`.
    fn substitutes() -> Vec<Json> {
        let json = |text: &str| serde_json::from_str::<Json>(text).expect("JSON");
        [
            "null",
            "true",
            "false",
            "0",
            "-1",
            "1",
            "2",
            "8",
            "9",
            "10",
            "64",
            "65535",
            "65536",
            "9007199254740993",
            "18446744073709551615",
            "-9007199254740993",
            "1.5",
            "2.0",
            "8.0",
            "\"\"",
            "\"x\"",
            "\"a b\"",
            "\"v1.9.0\"",
            "\"1.9.0\"",
            "\"v1.9\"",
            "\"ü\"",
            "\"a\\u00a0b\"",
            "\"a\\ufeffb\"",
            "\"https://10.0.0.1:6443\"",
            "\"https://10.0.0.1:6443\\n\"",
            "\"10.0.0.1\"",
            "\"10.0.0.1/24\"",
            "\"vmbr0\"",
            "\"local-lvm\"",
            "\"worker\"",
            "\"controlplane\"",
            "\"qcow2\"",
            "\"scsi\"",
            "\"32G\"",
            "\"32 GiB\"",
            "\"aa:bb:cc:dd:ee:ff\"",
            "\"siderolabs/iscsi-tools\"",
            "[]",
            "[1, 1]",
            "[\"a\", \"a\"]",
            "[\"a\", \"b\"]",
            "[8, 8.0]",
            "{}",
            "{\"x\": 1}",
        ]
        .into_iter()
        .map(json)
        .collect()
    }

    /// Every place in `value`, as a path of keys and indexes.
    fn places(value: &Json, path: &mut Vec<Json>, out: &mut Vec<Vec<Json>>) {
        out.push(path.clone());
        match value {
            Json::Object(entries) => {
                for (key, item) in entries {
                    path.push(Json::from(key.as_str()));
                    places(item, path, out);
                    path.pop();
                }
            }
            Json::Array(items) => {
                for (index, item) in items.iter().enumerate() {
                    path.push(Json::from(index));
                    places(item, path, out);
                    path.pop();
                }
            }
            _ => {}
        }
    }

    fn at<'v>(value: &'v mut Json, path: &[Json]) -> &'v mut Json {
        path.iter().fold(value, |value, step| match step {
            Json::String(key) => &mut value[key.as_str()],
            _ => &mut value[step.as_u64().expect("an index") as usize],
        })
    }

    /// The intent with one change at each place: each substitute in its stead, and for
    /// objects an unknown key added or each key taken away.
    fn changed_copies(intent: &Json) -> Vec<Json> {
        let mut paths = Vec::new();
        places(intent, &mut Vec::new(), &mut paths);
        let mut copies = Vec::new();
        for path in &paths {
            for substitute in substitutes() {
                let mut copy = intent.clone();
                *at(&mut copy, path) = substitute;
                copies.push(copy);
            }
            if let Json::Object(entries) = at(&mut intent.clone(), path) {
                for key in entries.keys() {
                    let mut copy = intent.clone();
                    if let Json::Object(entries) = at(&mut copy, path) {
                        entries.remove(key);
                    }
                    copies.push(copy);
                }
                let mut copy = intent.clone();
                if let Json::Object(entries) = at(&mut copy, path) {
                    entries.insert("unknownKey".into(), Json::from(1));
                }
                copies.push(copy);
            }
        }
        copies
    }

    /// `admits` never says "valid" where jsonschema finds an error, and when it decides, it
    /// decides as jsonschema does; it decides most intents (or it would save nothing).
    fn assert_agrees_with_jsonschema(intent: &Json) {
        let schema = schema();
        let validator = jsonschema::validator_for(&schema).expect("the schema compiles");
        assert_eq!(
            admits(&schema, intent),
            Some(true),
            "the intent itself is valid"
        );
        let copies = changed_copies(intent);
        let mut decided = 0;
        for copy in &copies {
            let Some(verdict) = admits(&schema, copy) else {
                continue;
            };
            decided += 1;
            assert_eq!(verdict, validator.is_valid(copy), "{copy:#}");
        }
        assert!(
            decided * 10 >= copies.len() * 8,
            "decided {decided} of {} changed intents",
            copies.len()
        );
    }

    #[test]
    fn agrees_with_jsonschema_on_the_example_and_its_changed_copies() {
        let example = include_str!("../../examples/homelab.yaml");
        assert_agrees_with_jsonschema(&intent_json(example));
    }

    #[test]
    fn agrees_with_jsonschema_on_a_generated_intent_and_its_changed_copies() {
        assert_agrees_with_jsonschema(&intent_json(&crate::synthetic_tree::intent(2)));
    }

    #[test]
    fn leaves_to_jsonschema_what_it_does_not_decide() {
        let schema = schema();
        let mut intent = intent_json(include_str!("../../examples/homelab.yaml"));
        // A non-ASCII string where a pattern applies: regex-lite's `\s` is ASCII.
        intent["cluster"]["name"] = Json::from("hömelab");
        assert_eq!(admits(&schema, &intent), None);
        // A keyword outside the subset this module knows.
        let unknown = serde_json::json!({ "oneOf": [true] });
        assert_eq!(admits(&unknown, &Json::Null), None);
        // A `$ref` outside `#/$defs/`.
        let remote = serde_json::json!({ "$ref": "https://example.com/schema.json" });
        assert_eq!(admits(&remote, &Json::Null), None);
    }
}

//! Rules about files that cannot be read as their format says.
use super::Rule;

pub mod int001_parse_error;
pub mod int002_unknown_key;
pub mod int003_invalid_value;
pub mod int004_unused_suppression;
pub mod int005_checks_skipped;

pub static RULES: &[&dyn Rule] = &[
    &int001_parse_error::ParseError,
    &int002_unknown_key::UnknownKey,
    &int003_invalid_value::InvalidValue,
    &int004_unused_suppression::UnusedSuppression,
    &int005_checks_skipped::ChecksSkipped,
];

/// The load-time findings of one code: structure rules report what the loaders found.
pub(crate) fn load_findings_of(
    cluster: &crate::model::Cluster,
    code: &str,
    out: &mut Vec<crate::finding::Finding>,
) {
    out.extend(
        cluster
            .load_findings
            .iter()
            .filter(|f| f.code == code)
            .cloned(),
    );
}

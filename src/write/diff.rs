//! `build --diff`: what would change, as a unified diff a reviewer (or `git apply`) can read.

use super::paths::MANIFEST_NAME;
use super::{Action, Change, Plan};
use similar::TextDiff;

/// Lines of context around each change, as in `diff -u` and `git diff`.
const CONTEXT_LINES: usize = 3;

/// One unified diff for every file the plan creates, updates or deletes, in path order.
///
/// Headers follow git: `--- a/path` / `+++ b/path`, with `/dev/null` for the missing side of a
/// created or deleted file. The manifest is left out: it is bookkeeping, and its hashes would
/// only bury the changes a reviewer cares about.
pub fn unified_diff(plan: &Plan) -> String {
    plan.changes
        .iter()
        .filter(|change| change.path != MANIFEST_NAME)
        .filter_map(file_diff)
        .collect()
}

fn file_diff(change: &Change) -> Option<String> {
    let old_name = format!("a/{}", change.path);
    let new_name = format!("b/{}", change.path);
    let (old_header, new_header) = match change.action {
        Action::Unchanged => return None,
        Action::Create => ("/dev/null", new_name.as_str()),
        Action::Update => (old_name.as_str(), new_name.as_str()),
        Action::Delete => (old_name.as_str(), "/dev/null"),
    };
    let before = change.before.as_deref().unwrap_or_default();
    let after = change.after.as_deref().unwrap_or_default();
    let (Ok(before), Ok(after)) = (std::str::from_utf8(before), std::str::from_utf8(after)) else {
        return Some(format!(
            "Binary files {old_header} and {new_header} differ\n"
        ));
    };
    Some(
        TextDiff::from_lines(before, after)
            .unified_diff()
            .context_radius(CONTEXT_LINES)
            .header(old_header, new_header)
            .to_string(),
    )
}

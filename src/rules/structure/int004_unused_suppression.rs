use crate::finding::{Finding, Severity};
use crate::model::Cluster;
use crate::rules::{Layer, Rule, RuleMeta};

pub static META: RuleMeta = RuleMeta {
    code: "INT004",
    name: "unused-suppression",
    layer: Layer::Structure,
    severity: Severity::Warning,
    summary: "An ignore comment that matched no finding.",
    docs: r#"## What
A `# talhorn: ignore[CODE] reason` comment that suppressed nothing: the finding it was written
for is gone, or the code is wrong. Also reported: an ignore comment without a reason, or with a
code that does not exist.

## Why
Stale suppressions hide the next real problem on that line and rot the documentation of why
something was accepted.

## Example
```yaml
machine:
  install:
    disk: /dev/vda  # talhorn: ignore[TAL007] the disk is virtio0
```
(after the VM's disk was moved to `scsi0`, TAL007 no longer fires here... or fires for another reason.)

## Fix
Delete the comment, or correct its code. Suppressions need a reason after the bracket.

## Source
talhorn's own suppression mechanism (like ruff's `RUF100`).
"#,
};

/// Suppressions are matched after all other rules ran, in [`crate::rules::suppress`], which
/// reports INT004 itself; this rule only carries the documentation and the code.
pub struct UnusedSuppression;

impl Rule for UnusedSuppression {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, _cluster: &Cluster, _out: &mut Vec<Finding>) {}
}

//! Turning located YAML scalars into model facts.

use crate::source::{Fact, FileId, Location, Span};
use crate::yaml::{Node, Value};

/// The file that nodes' spans point into.
#[derive(Debug, Clone, Copy)]
pub struct Located(pub FileId);

impl Located {
    pub const fn loc(self, span: Span) -> Location {
        Location::new(self.0, span)
    }

    pub const fn fact<T>(self, value: T, span: Span) -> Fact<T> {
        Fact::new(value, self.loc(span))
    }
}

/// A scalar as text (`1024`, `"1024"` and `true` alike).
pub fn str_fact(at: Located, node: Option<&Node>) -> Option<Fact<String>> {
    let node = node?;
    Some(at.fact(node.scalar_text()?, node.span))
}

/// A boolean, also when written as the string `"true"`/`"false"` (Helm values often are).
pub fn bool_fact(at: Located, node: Option<&Node>) -> Option<Fact<bool>> {
    let node = node?;
    let value = match &node.value {
        Value::Bool(b) => *b,
        Value::Str(s) if s.eq_ignore_ascii_case("true") => true,
        Value::Str(s) if s.eq_ignore_ascii_case("false") => false,
        _ => return None,
    };
    Some(at.fact(value, node.span))
}

/// A non-negative integer, also when written as a string (`"3"`).
pub fn u64_fact(at: Located, node: Option<&Node>) -> Option<Fact<u64>> {
    let node = node?;
    let value = match &node.value {
        Value::Int(i) => u64::try_from(*i).ok()?,
        Value::Str(s) => s.trim().parse().ok()?,
        _ => return None,
    };
    Some(at.fact(value, node.span))
}

pub fn u32_fact(at: Located, node: Option<&Node>) -> Option<Fact<u32>> {
    let fact = u64_fact(at, node)?;
    let value = u32::try_from(fact.value).ok()?;
    Some(Fact::new(value, fact.at))
}

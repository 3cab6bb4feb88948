//! Builders for rule unit tests: a cluster with one source file and located facts.

use crate::model::{Cluster, Longhorn, Scope, TalosConfig, TalosNode};
use crate::source::{Fact, FileId, Location, SourceFile, Span};

/// A cluster whose source map holds one file long enough for every test location.
pub fn cluster() -> Cluster {
    let mut cluster = Cluster::default();
    cluster
        .sources
        .add(SourceFile::new("test.yaml", " ".repeat(1_000)));
    cluster
}

/// A location at byte `offset` of the test file: distinct offsets tell findings apart.
pub fn at(offset: usize) -> Location {
    Location::new(FileId(0), Span::new(offset, offset + 1))
}

pub fn fact<T>(value: T, offset: usize) -> Fact<T> {
    Fact::new(value, at(offset))
}

pub fn config(scope: Scope, offset: usize) -> TalosConfig {
    TalosConfig::new(scope, at(offset))
}

pub fn longhorn() -> Longhorn {
    Longhorn::new(at(900))
}

pub fn node(name: &str, role: crate::model::Role, offset: usize) -> TalosNode {
    let mut node = TalosNode::new(name, at(offset));
    node.role = Some(role);
    node
}

/// Runs one rule and returns its findings.
pub fn run(rule: &dyn crate::rules::Rule, cluster: &Cluster) -> Vec<crate::finding::Finding> {
    let mut out = Vec::new();
    rule.check(cluster, &mut out);
    out
}

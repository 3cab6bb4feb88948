//! Findings: what a rule reports, independent of how it is rendered.

use crate::source::Location;
use serde::Serialize;
use std::fmt;

/// How bad a finding is. Ordered: `Info < Warning < Error`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Error,
}

impl Severity {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Info => "info",
            Self::Warning => "warning",
            Self::Error => "error",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "info" => Some(Self::Info),
            "warning" | "warn" => Some(Self::Warning),
            "error" => Some(Self::Error),
            _ => None,
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Another place that takes part in a finding (the other side of a cross-layer conflict).
#[derive(Clone, Debug, PartialEq)]
pub struct Related {
    pub at: Location,
    pub message: String,
}

/// One problem found in the input.
#[derive(Clone, Debug, PartialEq)]
pub struct Finding {
    pub code: &'static str,
    pub severity: Severity,
    pub message: String,
    pub at: Location,
    pub related: Vec<Related>,
    /// How to fix it, when the message alone does not say.
    pub help: Option<String>,
    /// The cluster whose files the finding is about (set by the engine, not by rules).
    pub cluster: Option<String>,
}

impl Finding {
    pub fn new(
        code: &'static str,
        severity: Severity,
        at: Location,
        message: impl Into<String>,
    ) -> Self {
        Self {
            code,
            severity,
            message: message.into(),
            at,
            related: Vec::new(),
            help: None,
            cluster: None,
        }
    }

    pub fn related(mut self, at: Location, message: impl Into<String>) -> Self {
        self.related.push(Related {
            at,
            message: message.into(),
        });
        self
    }

    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }
}

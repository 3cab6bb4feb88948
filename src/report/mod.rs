//! Rendering findings: human, concise, json, sarif, github, gitlab.
pub mod concise;
pub mod github;
pub mod gitlab;
pub mod human;
pub mod json;
pub mod sarif;

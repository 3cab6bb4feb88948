//! Turning the cluster model into files.
pub mod schematic;

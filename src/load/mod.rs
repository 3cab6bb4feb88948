//! Reading input files into parsed forms with spans.
pub mod interfaces;
pub mod qmconf;
pub mod storage_cfg;

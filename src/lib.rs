pub mod finding;
pub mod source;
pub mod yaml;

//! Writes the benchmark's synthetic inputs (see `synthetic_tree.rs`).
//!
//! ```sh
//! cargo run --release --example synthetic -- tree DIR FILES    # a GitOps tree of FILES files
//! cargo run --release --example synthetic -- one DIR FILES     # the same files, one cluster
//! cargo run --release --example synthetic -- intent FILE NODES # an intent of NODES nodes
//! ```

#[path = "synthetic_tree.rs"]
mod synthetic_tree;

use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let count = args.get(2).and_then(|n| n.parse::<usize>().ok());
    let result = match (args.first().map(String::as_str), args.get(1), count) {
        (Some("tree"), Some(dir), Some(files)) => {
            synthetic_tree::write_tree(&PathBuf::from(dir), files)
        }
        (Some("one"), Some(dir), Some(files)) => {
            synthetic_tree::write_one_cluster(&PathBuf::from(dir), files)
        }
        (Some("intent"), Some(file), Some(nodes)) => {
            std::fs::write(file, synthetic_tree::intent(nodes))
        }
        _ => {
            eprintln!(
                "usage: synthetic tree DIR FILES | synthetic one DIR FILES | synthetic intent FILE NODES"
            );
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("synthetic: {e}");
            ExitCode::FAILURE
        }
    }
}

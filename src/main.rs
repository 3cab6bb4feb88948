use clap::Parser;

fn main() {
    let cli = talhorn::cli::Cli::parse();
    std::process::exit(talhorn::cli::run(cli));
}

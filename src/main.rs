//! The `spindle` executable: the GUI with no subcommand, the CLI otherwise.

use std::process::ExitCode;

use clap::Parser;

mod cli;

fn main() -> ExitCode {
    let args = cli::Cli::parse();
    cli::run(args)
}

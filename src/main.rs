//! The `spindle` executable: the GUI with no subcommand, the CLI otherwise.

use std::process::ExitCode;

mod cli;

fn main() -> ExitCode {
    let args = cli::Cli::parse_args();
    cli::run(args)
}

//! `preflight`: check and repair media for Kling Motion Control providers.
//! This is the one place where errors become messages and exit codes.

mod cli;
mod cmd;
mod exit;
mod manifest;
mod table;

use clap::Parser;

fn main() {
    let cli = cli::Cli::parse();
    let code = match cmd::run(cli) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("preflight: {err:#}");
            exit::USAGE
        }
    };
    std::process::exit(code);
}

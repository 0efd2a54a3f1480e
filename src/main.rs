//! `preflight`: check and repair media for Kling Motion Control providers.
//! This is the one place where errors become messages and exit codes.

mod cli;
mod cmd;
mod exit;
mod manifest;
mod schedule;
mod shard;
mod table;

use clap::Parser;

fn main() {
    // Panics inside the library are caught per file and reported as that file's
    // error; the default hook would also splash a backtrace notice on stderr.
    std::panic::set_hook(Box::new(|info| {
        if std::env::var_os("PREFLIGHT_DEBUG").is_some() {
            eprintln!("preflight: internal panic: {info}");
        }
    }));
    let cli = cli::Cli::parse();
    let code = match std::panic::catch_unwind(|| cmd::run(cli)) {
        Ok(Ok(code)) => code,
        Ok(Err(err)) => {
            eprintln!("preflight: {err:#}");
            exit::USAGE
        }
        Err(_) => {
            eprintln!("preflight: internal error; run again with PREFLIGHT_DEBUG=1 for details");
            exit::USAGE
        }
    };
    std::process::exit(code);
}

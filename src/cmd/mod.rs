//! One module per subcommand. Each returns the process exit status.

mod check;
mod providers;
pub mod submit;

use anyhow::Result;
use preflight::{Model, Orientation, Provider, Spec};

use crate::cli::{Cli, Command, SpecArgs};

pub fn run(cli: Cli) -> Result<i32> {
    match cli.command {
        Command::Check(args) => check::run(args),
        Command::Providers(args) => providers::run(args),
        Command::Submit(args) => submit::run_submit(args),
        Command::Status(args) => submit::run_status(args),
        Command::Tasks(args) => submit::run_tasks(args),
    }
}

impl SpecArgs {
    pub fn resolve(&self) -> Result<Spec> {
        let provider: Provider = self.provider.parse()?;
        let model: Model = self.model.parse()?;
        let orientation: Orientation = self.orientation.parse()?;
        Ok(Spec::lookup(provider, model, orientation)?)
    }
}

//! One module per subcommand. Each returns the process exit status.

mod base64;
mod check;
mod content;
mod fix;
mod providers;
pub mod submit;

use anyhow::Result;
use preflight::{Model, Orientation, Provider, Spec};

use crate::cli::{Cli, Command, RepairArgs, SpecArgs};

pub fn run(cli: Cli) -> Result<i32> {
    match cli.command {
        Command::Check(args) => check::run(args),
        Command::Fix(args) => fix::run(args),
        Command::Base64(args) => base64::run(args),
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

impl RepairArgs {
    pub fn resolve(&self) -> Result<preflight::FixOptions> {
        let pad = self.pad.parse().map_err(anyhow::Error::msg)?;
        let start_us = match self.start {
            Some(s) if !(s.is_finite() && s >= 0.0) => {
                anyhow::bail!("--start must be a number of seconds, 0 or more")
            }
            Some(s) => Some((s * 1e6).round() as u64),
            None => None,
        };
        if self.max_fps == 0 {
            anyhow::bail!("--max-fps must be at least 1");
        }
        let mut options = preflight::FixOptions::default();
        options.pad = pad;
        options.keep_sound = self.keep_sound == "yes";
        options.start_us = start_us;
        options.segment = match self.segment.as_str() {
            "auto" => preflight::plan::SegmentMode::Auto,
            _ => preflight::plan::SegmentMode::Start,
        };
        options.extend = match self.extend.as_str() {
            "loop" => preflight::plan::ExtendMode::Loop,
            "freeze" => preflight::plan::ExtendMode::Freeze,
            _ => preflight::plan::ExtendMode::Pingpong,
        };
        options.max_fps = self.max_fps;
        options.video_threads = 0;
        options.limits = preflight::DecodeLimits::default();
        Ok(options)
    }
}

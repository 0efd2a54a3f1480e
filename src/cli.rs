//! Command-line arguments.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

#[derive(Parser, Debug)]
#[command(
    name = "preflight",
    version,
    about = "Check and repair reference images and motion videos for Kling Motion Control",
    long_about = "Check and repair reference images and motion videos for Kling Motion Control.\n\n\
        Each provider (Kling, powertokens, novita, highwayapi, aihubmax) has its own limits on \
        size, pixels, aspect ratio, duration and containers. preflight tells you, before you pay \
        for a task, whether your inputs will be accepted and why not.",
    after_help = "Exit status: 0 all files compliant, 1 some file not compliant, 2 some file \
        unreadable or a usage error.\n\nExamples:\n  preflight check photo.jpg dance.mp4\n  \
        preflight check --provider novita --orientation image --json clips/\n  \
        preflight providers"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Check images and videos against a provider's limits, without changing them.
    #[command(
        after_help = "Folders are searched recursively; hidden files are skipped unless \
        --hidden is given. Files are recognised by content, not by extension.\n\n\
        Exit status: 0 all compliant, 1 some file not compliant, 2 some file unreadable."
    )]
    Check(CheckArgs),
    /// List every provider's limits.
    Providers(ProvidersArgs),
    /// Send an image and a motion video to a provider; optionally wait and download.
    #[command(after_help = crate::cmd::submit::submit_after_help())]
    Submit(crate::cmd::submit::SubmitArgs),
    /// Refresh one task from the provider; optionally wait and download the result.
    #[command(after_help = crate::cmd::submit::env_after_help())]
    Status(crate::cmd::submit::StatusArgs),
    /// List the journal of submitted tasks.
    Tasks(crate::cmd::submit::TasksArgs),
}

/// Which rules apply: provider, model and character orientation.
#[derive(Args, Debug, Clone)]
pub struct SpecArgs {
    /// Provider whose limits apply: kling, powertokens, novita, highway, aihubmax.
    #[arg(long, short = 'p', default_value = "kling", env = "PREFLIGHT_PROVIDER")]
    pub provider: String,
    /// Model: kling-v3 or kling-v2-6 (not every provider sells both).
    #[arg(long, short = 'm', default_value = "kling-v3")]
    pub model: String,
    /// character_orientation of the task: `image` allows videos up to 10 s at
    /// Kling, `video` up to 30 s.
    #[arg(long, short = 'o', default_value = "video")]
    pub orientation: String,
}

#[derive(Args, Debug)]
pub struct CheckArgs {
    #[command(flatten)]
    pub spec: SpecArgs,
    /// One JSON object per file per line instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Also look at hidden files and folders.
    #[arg(long)]
    pub hidden: bool,
    /// Files and folders to check.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
}

#[derive(Args, Debug)]
pub struct ProvidersArgs {
    /// Print the limits as JSON.
    #[arg(long)]
    pub json: bool,
}

//! Command-line arguments.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

pub mod submit;

#[derive(Parser, Debug)]
#[command(
    name = "preflight",
    version,
    about = "Check and repair reference images and motion videos for Kling Motion Control",
    long_about = "Check and repair reference images and motion videos for Kling Motion Control.\n\n\
        Each provider (Kling, powertokens, novita, highwayapi, aihubmax, fal, Replicate, kie, \
        PiAPI, WaveSpeed) has its own limits on \
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
    /// Repair images and videos so the provider accepts them, writing results under --out.
    #[command(after_help = FIX_HELP)]
    Fix(FixArgs),
    /// Print the raw base64 of a compliant image (repaired in memory when needed).
    #[command(
        after_help = "No data: prefix and no line breaks, as Kling, powertokens, novita and \
        highwayapi want it. aihubmax takes image URLs only.\n\nExample:\n  \
        preflight base64 --provider novita photo.heic > photo.b64"
    )]
    Base64(Base64Args),
    /// List every provider's limits.
    Providers(ProvidersArgs),
    /// Send an image and a motion video to a provider; optionally wait and download.
    #[command(after_help = self::submit::submit_after_help())]
    Submit(self::submit::SubmitArgs),
    /// Refresh one task from the provider; optionally wait and download the result.
    #[command(after_help = self::submit::env_after_help())]
    Status(self::submit::StatusArgs),
    /// List the journal of submitted tasks.
    Tasks(self::submit::TasksArgs),
}

const FIX_HELP: &str = "Each file is probed, checked, and given the smallest repair that makes it \
compliant: a compliant file is copied byte for byte; otherwise the plan (printed by --dry-run) \
lists each operation and the rule it fixes. Outputs keep their relative path under --out (the \
extension changes when the format does); they are written to a hidden temporary file, checked \
again, then renamed, so an interrupted run leaves no half files. Inputs are never modified.

Padding: the default fill is a solid colour taken from the picture's own border, so the bars do \
not jump out. `blur` and `mirror` copy the picture into the bars: that puts a second, larger \
ghost of the character in the frame, and the model follows the largest person it sees. Use them \
only for pictures without people.

Damaged input: sound the decoder cannot read becomes silence of the same length, and sound that \
is mostly unreadable is left out (`! audio.damaged` says where); frames the decoder concealed are \
delivered with `! video.damaged`. A picture with packets that cannot be decoded fails, saying \
where (with --segment auto, a window clear of it is kept when one fits).

Exit status: 0 every file ended compliant, 1 some file could not be repaired, 2 usage error.

Examples:
  preflight fix --out fixed/ photo.heic dance.mov
  preflight fix --provider novita --orientation image --dry-run clips/
  preflight fix --out fixed/ --segment auto --keep-sound no --json clips/";

/// Which rules apply: provider, model and character orientation.
#[derive(Args, Debug, Clone)]
pub struct SpecArgs {
    /// Provider whose limits apply: kling, powertokens, novita, highway, aihubmax,
    /// fal, replicate, kie, piapi, wavespeed.
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
    /// Also decode every video and its sound (slower): hard cuts, leading
    /// black or frozen frames, damaged sound and frames the decoder concealed
    /// are reported as warnings; a picture with packets that cannot be
    /// decoded (which `fix` refuses) as an error.
    #[arg(long)]
    pub deep: bool,
    /// Also look at what the pictures show, with a pose model: one clearly
    /// visible person (upper or full body, head, upright, large enough; in
    /// videos: always in view, no fast motion, a still camera). Advisories
    /// only (`content.*`): they never change the exit status. Needs the models
    /// `bash scripts/setup.sh` installs.
    #[arg(long)]
    pub content: bool,
    /// Write one PNG per file into DIR with the people, their skeleton and
    /// the verdict drawn on the picture (a contact sheet of the sampled frames
    /// for a video). Implies --content.
    #[arg(long, value_name = "DIR")]
    pub show: Option<PathBuf>,
    /// Files and folders to check.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
}

#[derive(Args, Debug)]
pub struct FixArgs {
    #[command(flatten)]
    pub spec: SpecArgs,
    #[command(flatten)]
    pub repair: RepairArgs,
    /// Folder for the results (same relative paths as the inputs).
    #[arg(long, value_name = "DIR", required_unless_present = "dry_run")]
    pub out: Option<PathBuf>,
    /// Print the plan for each file and write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// One JSON object per file per line: path, output, action, changes, error.
    #[arg(long)]
    pub json: bool,
    /// Also look at hidden files and folders.
    #[arg(long)]
    pub hidden: bool,
    /// Files to work on at once (default: the number of cores). Videos share a
    /// thread budget so that decoders and encoders do not oversubscribe the cores.
    #[arg(long, short = 'j', value_name = "N")]
    pub jobs: Option<usize>,
    /// Also write one JSON document with every file's outcome and the totals.
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,
    /// Work on shard K of N only (1-based, e.g. 2/8): files are split by a hash
    /// of their relative path, so N machines or jobs can share a folder.
    #[arg(long, value_name = "K/N")]
    pub shard: Option<String>,
    /// Redo files the output folder's manifest records as done.
    #[arg(long)]
    pub force: bool,
    /// Crop an image whose person covers under 5 % of the frame
    /// (`content.person.small`) around the person, with a margin, within the
    /// provider's aspect and size limits, before the usual repair. Needs the
    /// pose models `bash scripts/setup.sh` installs. Videos are not cropped.
    #[arg(long)]
    pub frame_person: bool,
    /// Files and folders to repair.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
}

/// How repairs are made; the defaults serve most users.
#[derive(Args, Debug, Clone)]
pub struct RepairArgs {
    /// Fill for bars added to reach an allowed aspect ratio: border (a solid colour
    /// from the picture's edge), black, white, #rrggbb, blur or mirror. blur and
    /// mirror put a ghost copy of the character in the bars; avoid them for people.
    #[arg(long, default_value = "border", value_name = "FILL")]
    pub pad: String,
    /// Keep the video's sound (re-encoded as AAC when needed) or drop it.
    #[arg(long, default_value = "yes", value_parser = ["yes", "no"])]
    pub keep_sound: String,
    /// Where a too-long video starts, in seconds.
    #[arg(long, value_name = "SECONDS")]
    pub start: Option<f64>,
    /// Which window of a too-long video to keep: `auto` (the default: the
    /// longest continuous shot that fits, skipping leading black or frozen frames
    /// and hard cuts, since the service truncates the motion at a cut) or `start`
    /// (from --start or 0; giving --start implies it).
    #[arg(long, default_value = "auto", value_parser = ["start", "auto"])]
    pub segment: String,
    /// How a video shorter than 3 s is lengthened: pingpong (forward then
    /// backward, no jump), loop, or freeze (hold the last frame).
    #[arg(long, default_value = "pingpong", value_parser = ["pingpong", "loop", "freeze"])]
    pub extend: String,
    /// Highest frame rate kept when a video is re-encoded.
    #[arg(long, default_value_t = 30, value_name = "FPS")]
    pub max_fps: u32,
}

#[derive(Args, Debug)]
pub struct Base64Args {
    #[command(flatten)]
    pub spec: SpecArgs,
    #[command(flatten)]
    pub repair: RepairArgs,
    /// The image.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
}

#[derive(Args, Debug)]
pub struct ProvidersArgs {
    /// Print the limits as JSON.
    #[arg(long)]
    pub json: bool,
}

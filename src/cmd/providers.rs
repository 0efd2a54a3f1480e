//! `preflight providers`: every provider's limits side by side.

use std::io::{self, Write};

use anyhow::Result;
use preflight::spec::{Spec, Transport};

use crate::cli::ProvidersArgs;
use crate::{exit, table};

pub fn run(args: ProvidersArgs) -> Result<i32> {
    let specs = Spec::all();
    let stdout = io::stdout();
    let mut out = stdout.lock();
    if args.json {
        serde_json::to_writer_pretty(&mut out, &specs)?;
        writeln!(out)?;
        return Ok(exit::OK);
    }
    writeln!(
        out,
        "{:<12} {:<11} {:<6} | {:<13} {:>8} {:>11} {:<9} {:<10} | {:<16} {:>8} {:>10} {:>8}",
        "PROVIDER",
        "MODEL",
        "ORIENT",
        "IMAGE",
        "MAX",
        "SIDES px",
        "ASPECT",
        "SENT AS",
        "VIDEO",
        "MAX",
        "SIDES px",
        "SECONDS"
    )?;
    for s in &specs {
        let formats: Vec<&str> = s.image.formats.iter().map(|f| f.name()).collect();
        writeln!(
            out,
            "{:<12} {:<11} {:<6} | {:<13} {:>8} {:>11} {:<9} {:<10} | {:<16} {:>8} {:>10} {:>8}",
            s.provider.name(),
            s.model.name(),
            s.orientation.name(),
            formats.join("/"),
            s.image.max_bytes.map_or("-".into(), table::bytes),
            sides(s.image.min_side, s.image.max_side),
            "1:2.5-2.5:1",
            match s.image.transport {
                Transport::UrlOrBase64 => "url/base64",
                Transport::UrlOnly => "url",
            },
            s.video.containers.join("/"),
            s.video.max_bytes.map_or("-".into(), table::bytes),
            sides(s.video.min_side, s.video.max_side),
            format!(
                "{}-{}",
                s.video.min_duration_us / 1_000_000,
                s.video.max_duration_us / 1_000_000
            ),
        )?;
    }
    writeln!(
        out,
        "\nMB = 1,000,000 bytes. Videos are sent as URLs only. Base64 images go without a data: prefix.\n\
         aihubmax documents formats and durations only; Kling's own size limits are applied to it.\n\
         fal, replicate, kie, piapi and wavespeed take links only and host uploads themselves\n\
         (`submit` uploads through them unless --upload or --upload-cmd says otherwise)."
    )?;
    Ok(exit::OK)
}

fn sides(min: u32, max: Option<u32>) -> String {
    match max {
        Some(max) => format!("{min}-{max}"),
        None => format!(">={min}"),
    }
}

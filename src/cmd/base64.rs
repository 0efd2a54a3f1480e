//! `preflight base64`: the raw base64 of a compliant image, for request bodies.

use std::io::Write;

use anyhow::Result;

use crate::cli::Base64Args;
use crate::exit;

pub fn run(args: Base64Args) -> Result<i32> {
    let spec = args.spec.resolve()?;
    let options = args.repair.resolve()?;
    match preflight::base64_image(&args.file, &spec, &options) {
        Ok(encoded) => {
            let mut out = std::io::stdout().lock();
            out.write_all(encoded.as_bytes())?;
            out.flush()?;
            Ok(exit::OK)
        }
        Err(e) => {
            eprintln!("preflight: {}: {e}", args.file.display());
            Ok(exit::NOT_COMPLIANT)
        }
    }
}

//! Repairs every image and video in a folder for Kling v3 into another folder.
//! Usage: `cargo run -p preflight --example fix_folder -- IN_DIR OUT_DIR`

use std::path::PathBuf;

use preflight::walk::{walk, WalkOptions};
use preflight::{repair, FixOptions, Model, Orientation, Provider, Spec};

fn main() {
    let args: Vec<PathBuf> = std::env::args_os().skip(1).map(PathBuf::from).collect();
    let [input, output] = &args[..] else {
        return eprintln!("usage: fix_folder IN_DIR OUT_DIR");
    };
    let spec = Spec::lookup(Provider::Kling, Model::KlingV3, Orientation::Image).unwrap();
    for found in walk(std::slice::from_ref(input), WalkOptions::default())
        .into_iter()
        .flatten()
    {
        let out = output.join(found.relative());
        match repair(&found.path, &out, &spec, &FixOptions::default()) {
            Ok(fixed) => println!("{:<9} {}", fixed.action.name(), fixed.output.display()),
            Err(e) => println!("failed    {}: {e}", found.path.display()),
        }
    }
}

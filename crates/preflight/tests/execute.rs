//! `execute` and `repair` guards: a changed input is reported, a compliant file is copied
//! byte for byte, and nothing is left behind on failure.

use preflight::{execute, plan, probe, repair, Action, FixError, FixOptions, Spec};

use crate::util::fixture;

#[test]
fn an_input_that_changes_after_probing_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("clip.mp4");
    std::fs::copy(fixture("videos/ok_720x1280_5s.mp4"), &input).unwrap();
    let spec = Spec::all().remove(0);
    let facts = probe(&input).unwrap();
    let plan = plan(&facts, &spec, &FixOptions::default());
    // Someone is still writing the file.
    let mut bytes = std::fs::read(&input).unwrap();
    bytes.extend_from_slice(&[0u8; 1000]);
    std::fs::write(&input, bytes).unwrap();
    let out = dir.path().join("out/clip.mp4");
    let err = execute(&input, &facts, &plan, &spec, &out).unwrap_err();
    assert!(matches!(err, FixError::InputChanged(_)), "{err}");
    assert!(err.to_string().contains("changed while it was being read"));
    assert!(!out.exists());
    let leftovers: Vec<_> = std::fs::read_dir(dir.path().join("out"))
        .map(|r| r.flatten().collect())
        .unwrap_or_default();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn a_compliant_file_is_copied_byte_for_byte() {
    let dir = tempfile::tempdir().unwrap();
    let input = fixture("videos/ok_720x1280_5s.mp4");
    let spec = Spec::all().remove(0);
    let out = dir.path().join("ok.mp4");
    let fixed = repair(&input, &out, &spec, &FixOptions::default()).unwrap();
    assert_eq!(fixed.action, Action::Copied);
    assert_eq!(fixed.output, out);
    assert_eq!(std::fs::read(&out).unwrap(), std::fs::read(&input).unwrap());
}

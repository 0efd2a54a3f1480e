//! The command line as a user meets it: exit codes, JSON fields, help.

use crate::util::*;

#[test]
fn exit_status_tells_compliant_from_not() {
    let ok = preflight([
        "check",
        fixture("videos/ok_720x1280_5s.mp4").to_str().unwrap(),
    ]);
    assert_eq!(ok.status.code(), Some(0), "{ok:?}");
    let long = preflight([
        "check",
        fixture("videos/long_45s_360x640.mp4").to_str().unwrap(),
    ]);
    assert_eq!(long.status.code(), Some(1));
    let text = String::from_utf8_lossy(&long.stdout);
    assert!(text.contains("video.duration.max"), "{text}");
}

#[test]
fn orientation_and_provider_change_the_limits() {
    let medium = fixture("videos/medium_12s_480x854.mp4");
    let medium = medium.to_str().unwrap();
    let video = preflight(["check", "--orientation", "video", medium]);
    assert_eq!(video.status.code(), Some(0));
    let image = preflight(["check", "--json", "--orientation", "image", medium]);
    assert_eq!(image.status.code(), Some(1));
    let line = &json_lines(&image)[0];
    let v = &line["violations"][0];
    assert_eq!(v["rule"], "video.duration.max");
    assert_eq!(v["limit"], 10.0);
    assert_eq!(v["actual"], 12.0);
    // novita allows 30 s whatever the orientation.
    let novita = preflight([
        "check",
        "--provider",
        "novita",
        "--orientation",
        "image",
        medium,
    ]);
    assert_eq!(novita.status.code(), Some(0));
}

#[test]
fn json_lines_carry_the_documented_fields() {
    let out = preflight([
        "check",
        "--json",
        fixture("images/tiny_200x150.png").to_str().unwrap(),
        fixture("damaged/empty.mp4").to_str().unwrap(),
    ]);
    let lines = json_lines(&out);
    for field in [
        "path",
        "kind",
        "ok",
        "width",
        "height",
        "duration_s",
        "bytes",
        "format",
        "codec",
        "violations",
        "warnings",
        "error",
    ] {
        assert!(lines[0].get(field).is_some(), "missing {field}");
        assert!(lines[1].get(field).is_some(), "missing {field}");
    }
    let rules: Vec<&str> = lines[0]["violations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["rule"].as_str().unwrap())
        .collect();
    assert_eq!(rules, ["image.width.min", "image.height.min"]);
    assert_eq!(lines[0]["violations"][0]["limit"], 300);
    assert_eq!(lines[0]["violations"][0]["actual"], 200);
    assert!(lines[0]["violations"][0]["message"]
        .as_str()
        .unwrap()
        .contains("200 px"));
}

#[test]
fn usage_errors_exit_2_with_a_message() {
    let out = preflight(["check", "--provider", "nope", "x.mp4"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown provider `nope`"));
    let out = preflight([
        "check",
        "--provider",
        "novita",
        "--model",
        "kling-v2-6",
        "x.mp4",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("novita does not sell kling-v2-6"));
    let out = preflight(["check"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn providers_lists_every_spec() {
    let out = preflight(["providers"]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    for p in [
        "kling",
        "powertokens",
        "novita",
        "highway",
        "aihubmax",
        "fal",
        "replicate",
        "kie",
        "piapi",
        "wavespeed",
    ] {
        assert!(text.contains(p), "{p} missing from\n{text}");
    }
    let json = preflight(["providers", "--json"]);
    let specs: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    // 2 models × 2 orientations at kling, aihubmax and the five marketplaces;
    // kling-v3 only at powertokens, novita and highway.
    assert_eq!(specs.as_array().unwrap().len(), 7 * 4 + 3 * 2);
    let novita = specs
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["provider"] == "novita")
        .unwrap();
    assert_eq!(novita["video"]["max_bytes"], 10_000_000);
}

#[test]
fn help_teaches() {
    let out = preflight(["check", "--help"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("--orientation") && text.contains("Exit status"),
        "{text}"
    );
}

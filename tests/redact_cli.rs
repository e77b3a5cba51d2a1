//! `phiguard redact`: the log filter on top of the PHI engine, driven as a real process.

use std::io::Write;
use std::process::{Command, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_phiguard");

fn redact(args: &[&str], input: &[u8]) -> (i32, Vec<u8>, String) {
    let mut child = Command::new(BIN)
        .arg("redact")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input).unwrap();
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        out.stdout,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn one_line_out_per_line_in_with_phi_masked() {
    let input = b"GET /x?email=jane.doe@example.com&v=2 HTTP/1.1\n\
{\"email\":\"jane.doe@example.com\",\"note\":\"call 555-867-5309\",\"sku\":\"A-100\"}\n\
no phi here\n\
\xff\xfe not utf-8 jane.doe@example.com\n\
last line without newline jane.doe@example.com";
    let (code, out, err) = redact(&[], input);
    assert_eq!(code, 0, "{err}");
    let lines: Vec<&[u8]> = out
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .collect();
    assert_eq!(lines.len(), 5);
    let text = String::from_utf8_lossy(&out);
    assert!(!text.contains("jane.doe"), "{text}");
    assert!(!text.contains("867-5309"), "{text}");
    assert!(text.contains("[REDACTED:EMAIL]"));
    assert_eq!(lines[2], b"no phi here");
    let json: serde_json::Value = serde_json::from_slice(lines[1]).expect("JSON stays JSON");
    assert_eq!(json["sku"], "A-100");
    assert!(err.contains("5 lines"), "{err}");
}

#[test]
fn a_profile_from_a_config_is_used_and_unknown_ones_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("p.yaml");
    std::fs::write(
        &file,
        "listeners: [{name: p, address: \"127.0.0.1:1\"}]\n\
         upstreams: {u: {address: \"127.0.0.1:2\"}}\n\
         routes: [{name: r, upstream: u}]\n\
         redaction_profiles:\n  emails_only: {detectors: [email]}\n",
    )
    .unwrap();
    let config = file.to_str().unwrap();
    let (code, out, _) = redact(
        &["--config", config, "--profile", "emails_only"],
        b"jane.doe@example.com 555-867-5309\n",
    );
    assert_eq!(code, 0);
    let text = String::from_utf8(out).unwrap();
    assert!(
        text.contains("[REDACTED:EMAIL]") && text.contains("555-867-5309"),
        "{text}"
    );

    let (code, _, err) = redact(&["--config", config, "--profile", "nope"], b"x\n");
    assert_eq!(code, 1);
    assert!(
        err.contains("no profile \"nope\" (known: emails_only)"),
        "{err}"
    );
}

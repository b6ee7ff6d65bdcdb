//! The server's log written to a file or a pipe carries no terminal colour
//! codes, and `--log-format json` writes one JSON object per line (time,
//! level, target, message, fields) for log collectors.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use massline_tests::{Township, server_binary};

/// Serves `town` with `args` until it logs that it listens, and returns
/// what it wrote on standard error until then.
fn log_of(town: &Township, args: &[&str]) -> String {
    let mut child = Command::new(server_binary())
        .args(args)
        .args(["serve", "--listen", "127.0.0.1:0", "--no-web", "--data"])
        .arg(&town.data)
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut log = String::new();
    for line in BufReader::new(child.stderr.take().unwrap()).lines() {
        let line = line.unwrap();
        log.push_str(&line);
        log.push('\n');
        if line.contains("listening") {
            break;
        }
    }
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(log.contains("listening"), "the server did not start: {log}");
    log
}

#[test]
fn logs_off_a_terminal_have_no_colour_codes_and_json_lines_parse() {
    let town = Township::new();
    let text = log_of(&town, &[]);
    assert!(!text.trim().is_empty(), "the server logged nothing");
    assert!(
        !text.contains('\u{1b}'),
        "colour codes in a log written to a pipe: {text:?}"
    );
    assert!(text.contains("INFO"), "{text}");

    let json = log_of(&town, &["--log-format", "json"]);
    let mut lines = 0;
    for line in json.lines() {
        let v: serde_json::Value = serde_json::from_str(line)
            .unwrap_or_else(|e| panic!("not a JSON line ({e}): {line:?}"));
        for key in ["timestamp", "level", "target", "message"] {
            assert!(v.get(key).is_some(), "{key} missing: {line}");
        }
        assert!(!line.contains('\u{1b}'), "{line:?}");
        lines += 1;
    }
    assert!(lines >= 1, "{json}");
}

//! `phiguard check`: exit 0 and "ok" for good configs, exit 1 naming file, key path and
//! problem for bad ones; `phiguard run` refuses bad configs the same way.

mod common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use common::*;

const VALID: &str = r#"
listeners:
  - {name: public, address: "127.0.0.1:18080"}
admin: {address: "127.0.0.1:ADMIN_PORT"}
trusted_proxies: ["10.0.0.0/8"]
upstreams:
  shop: {address: "127.0.0.1:3000", connect_timeout_ms: 500}
header_profiles:
  mine:
    extends: portal
    referrer_policy: no-referrer
routes:
  - {name: a, match: {path_prefix: /a}, upstream: shop, headers: mine, clear_site_data: [cache]}
  - {name: b, upstream: shop}
"#;

/// A bad config: `VALID` with one edit, and what `check` must say about it: `key` exactly,
/// then a problem starting with `problem` (`…` matches anything).
struct Case {
    what: &'static str,
    from: &'static str,
    to: &'static str,
    key: &'static str,
    problem: &'static str,
}

const CASES: &[Case] = &[
    Case {
        what: "unknown upstream",
        from: "name: b, upstream: shop",
        to: "name: b, upstream: nope",
        key: "routes[1].upstream",
        problem: "unknown upstream \"nope\" (known: shop)",
    },
    Case {
        what: "bad listener address",
        from: "127.0.0.1:18080",
        to: "localhost:http",
        key: "listeners[0].address",
        problem: "\"localhost:http\" is not an ip:port address",
    },
    Case {
        what: "duplicate route name",
        from: "name: b,",
        to: "name: a,",
        key: "routes[1].name",
        problem: "duplicate route name \"a\"",
    },
    Case {
        what: "unreadable cert file",
        from: "address: \"127.0.0.1:18080\"}",
        to: "address: \"127.0.0.1:18080\", tls: {cert_file: missing.crt, key_file: missing.key}}",
        key: "listeners[0].tls.cert_file",
        problem: "cannot read …/missing.crt: No such file or directory",
    },
    Case {
        what: "invalid header value",
        from: "referrer_policy: no-referrer",
        to: "referrer_policy: \"no\\u0007referrer\"",
        key: "header_profiles.mine.referrer_policy",
        problem: "invalid header value",
    },
    Case {
        what: "unknown key",
        from: "headers: mine",
        to: "hedaers: mine",
        key: "routes[0].hedaers",
        problem: "unknown field `hedaers`, expected one of",
    },
    Case {
        what: "unknown header profile",
        from: "headers: mine",
        to: "headers: mien",
        key: "routes[0].headers",
        problem: "unknown header profile \"mien\"",
    },
    Case {
        what: "unknown preset",
        from: "extends: portal",
        to: "extends: portl",
        key: "header_profiles.mine.extends",
        problem: "unknown preset \"portl\"",
    },
    Case {
        what: "bad trusted_proxies CIDR",
        from: "10.0.0.0/8",
        to: "10.0.0.0/33",
        key: "trusted_proxies[0]",
        problem: "\"10.0.0.0/33\" is not an IP address or CIDR",
    },
    Case {
        what: "wrong type",
        from: "connect_timeout_ms: 500",
        to: "connect_timeout_ms: soon",
        key: "upstreams.shop.connect_timeout_ms",
        problem: "invalid type: string \"soon\", expected u64",
    },
    Case {
        what: "invalid clear_site_data directive",
        from: "clear_site_data: [cache]",
        to: "clear_site_data: [cache, everything]",
        key: "routes[0].clear_site_data[1]",
        problem: "unknown directive \"everything\"",
    },
    Case {
        what: "upstream address without port",
        from: "address: \"127.0.0.1:3000\"",
        to: "address: \"shop.internal\"",
        key: "upstreams.shop.address",
        problem: "\"shop.internal\" is not host:port",
    },
    Case {
        what: "path prefix that is not normalized",
        from: "path_prefix: /a}",
        to: "path_prefix: /a//b/..}",
        key: "routes[0].match.path_prefix",
        problem: "not a normalized path (it would never match); use \"/a/\"",
    },
    Case {
        what: "relative rewrite_prefix",
        from: "path_prefix: /a}",
        to: "path_prefix: /a}, rewrite_prefix: b",
        key: "routes[0].rewrite_prefix",
        problem: "must start with '/'",
    },
    Case {
        what: "malformed YAML",
        from: "{name: b, upstream: shop}",
        to: "{name: b, upstream: shop",
        key: "routes[1]",
        problem: "did not find expected ',' or '}'",
    },
];

/// The case described as `what`.
fn case(what: &str) -> &'static Case {
    CASES.iter().find(|c| c.what == what).unwrap()
}

/// Writes `text` as a config file in `dir`.
fn write_config(dir: &Path, text: &str) -> PathBuf {
    let file = dir.join("phiguard.yaml");
    std::fs::write(&file, text).unwrap();
    file
}

fn check(file: &Path) -> (i32, String, String) {
    run_to_exit(&["check", "--config", file.to_str().unwrap()])
}

/// Whether `text` starts with `pattern`, where `…` stands for any run of characters.
fn matches(text: &str, pattern: &str) -> bool {
    let mut parts = pattern.split('…');
    let Some(rest) = text.strip_prefix(parts.next().unwrap_or_default()) else {
        return false;
    };
    parts
        .try_fold(rest, |rest, part| {
            rest.find(part).map(|at| &rest[at + part.len()..])
        })
        .is_some()
}

/// Asserts `stderr` has a line `file: key: problem` or `file: key (line N): problem` (with
/// `phiguard: ` in front when `run` reports it), for exactly that key.
fn assert_reported(stderr: &str, file: &Path, key: &str, problem: &str) {
    let prefix = format!("{}: {key}", file.display());
    let found = stderr.lines().any(|l| {
        let l = l.strip_prefix("phiguard: ").unwrap_or(l);
        let Some(rest) = l.strip_prefix(&prefix) else {
            return false;
        };
        let rest = match rest.strip_prefix(" (line ") {
            Some(after) => after.split_once(')').map_or("", |(_, r)| r),
            None => rest,
        };
        rest.strip_prefix(": ").is_some_and(|p| matches(p, problem))
    });
    assert!(found, "no {prefix:?} line with {problem:?} in:\n{stderr}");
}

fn valid(admin_port: u16) -> String {
    VALID.replace("ADMIN_PORT", &admin_port.to_string())
}

fn bad(case: &Case, admin_port: u16) -> String {
    let text = valid(admin_port);
    assert!(
        text.contains(case.from),
        "{}: edit does not apply",
        case.what
    );
    text.replacen(case.from, case.to, 1)
}

#[test]
fn valid_config_is_ok() {
    let dir = tempfile::tempdir().unwrap();
    let file = write_config(dir.path(), &valid(9901));
    let (code, stdout, stderr) = check(&file);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        stdout.trim(),
        format!("{}: ok (1 listeners, 2 routes)", file.display())
    );
}

#[test]
fn reference_config_is_ok() {
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/phiguard.yaml");
    // The reference config reads its webhook secret from the environment, as it should.
    let out = std::process::Command::new(BIN)
        .args(["check", "--config", file.to_str().unwrap()])
        .env("SHOPIFY_WEBHOOK_SECRET", "test-secret")
        .output()
        .unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stdout.contains(": ok ("), "{stdout}");
    // Without it, `check` says which variable is missing.
    let (code, _, stderr) = check(&file);
    assert_eq!(code, 1);
    assert!(stderr.contains("routes[3].webhook.secret_env: environment variable \"SHOPIFY_WEBHOOK_SECRET\" is not set"), "{stderr}");
}

#[test]
fn each_bad_config_names_file_key_and_problem() {
    let dir = tempfile::tempdir().unwrap();
    for case in CASES {
        let file = write_config(dir.path(), &bad(case, 9901));
        let (code, stdout, stderr) = check(&file);
        assert_eq!(code, 1, "{}: {stdout}{stderr}", case.what);
        assert!(!stdout.contains("ok"), "{}: {stdout}", case.what);
        assert_reported(&stderr, &file, case.key, case.problem);
    }
}

#[test]
fn missing_config_file_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("absent.yaml");
    let (code, _, stderr) = check(&file);
    assert_eq!(code, 1);
    assert!(
        stderr.starts_with(&format!("{}: cannot read config: ", file.display())),
        "{stderr}"
    );
}

#[test]
fn every_problem_is_listed_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let semantic = [
        "unknown upstream",
        "duplicate route name",
        "unknown header profile",
        "bad trusted_proxies CIDR",
        "invalid clear_site_data directive",
    ]
    .map(case);
    let text = semantic
        .iter()
        .fold(valid(9901), |t, c| t.replacen(c.from, c.to, 1));
    let file = write_config(dir.path(), &text);
    let (code, _, stderr) = check(&file);
    assert_eq!(code, 1);
    for case in semantic {
        assert_reported(&stderr, &file, case.key, case.problem);
    }
}

#[test]
fn run_refuses_a_bad_config_and_never_becomes_ready() {
    let dir = tempfile::tempdir().unwrap();
    for case in ["unknown upstream", "wrong type"].map(case) {
        let admin_port = free_port();
        let file = write_config(dir.path(), &bad(case, admin_port));
        let mut p = Process::spawn(&["run", "--config", file.to_str().unwrap()]);
        let readyz = format!("http://127.0.0.1:{admin_port}/readyz");
        let status = wait_for("phiguard run to exit", Duration::from_secs(10), || {
            assert!(
                try_get(&readyz).map_or(true, |r| r.status != 200),
                "a bad config became ready"
            );
            p.try_status()
        });
        assert!(!status.success(), "{}: {status:?}", case.what);
        std::thread::sleep(Duration::from_millis(50));
        assert_reported(&p.stderr(), &file, case.key, case.problem);
        assert!(try_get(&readyz).is_err());
    }
}

//! Canary PHI driven through every path a request can take (success, 404, 429, 502, egress
//! redaction, egress block, webhook refusal, malformed request, CSP violation reports
//! accepted and refused) appears in none of what the
//! proxy emits: access log, app log, audit log, metrics (names or labels), or the bodies and
//! headers of the proxy's own responses.

mod common;

use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::time::Duration;

use common::*;

/// Synthetic PHI, in the forms it is sent.
const CANARIES: &[&str] = &[
    "jane.canary",
    "536-22-8431",
    "867-5309",
    "4111111111111111",
    "1984-03-07",
    "SECRETCOOKIE",
    "canary-api-key",
];

const QUERY: &str = "email=jane.canary%40example.com&ssn=536-22-8431&phone=555-867-5309&card=4111111111111111&dob=1984-03-07";

fn raw(port: u16, request: &str) -> String {
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s.write_all(request.as_bytes()).unwrap();
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    String::from_utf8_lossy(&out).into_owned()
}

#[test]
fn canary_phi_never_reaches_logs_metrics_audit_or_error_pages() {
    let echo = Echo::start();
    let pg = PhiGuard::start(&format!(
        "upstreams: {{up: {{address: \"{}\"}}, down: {{address: \"{}\"}}}}\n\
         redaction_profiles: {{trackers: {{action: mask}}}}\n\
         audit: {{path: audit.jsonl, hash_chain: true}}\n\
         rate_limits: {{tight: {{key: ['header:x-api-key'], rate: 1/minute, burst: 1}}}}\n\
         fallback_headers: portal\n\
         csp_reports: {{}}\n\
         routes:\n\
         \x20 - {{name: ok, match: {{path_prefix: /ok}}, upstream: up, headers: portal}}\n\
         \x20 - {{name: limited, match: {{path_prefix: /limited}}, upstream: up, rate_limits: [tight]}}\n\
         \x20 - {{name: broken, match: {{path_prefix: /broken}}, upstream: down}}\n\
         \x20 - {{name: tracker, match: {{path_prefix: /t}}, upstream: up, egress: {{profile: trackers}}}}\n\
         \x20 - {{name: hooks, match: {{path_prefix: /webhooks}}, upstream: up, webhook: {{secret: s}}}}\n",
        echo.address(),
        closed_address()
    ));
    let headers = [
        ("cookie", "sid=SECRETCOOKIE"),
        ("x-api-key", "canary-api-key"),
        ("referer", "https://shop/?email=jane.canary@example.com"),
    ];
    let mut own_responses = Vec::new();
    let expect = |path: &str, status: u16| {
        let r = get_with(&pg.url(path), &headers);
        assert_eq!(r.status, status, "{path}");
        r
    };
    expect(&format!("/ok/jane.canary@example.com?{QUERY}"), 200);
    own_responses.push(expect(
        &format!("/nowhere/jane.canary@example.com?{QUERY}"),
        404,
    ));
    expect(&format!("/limited?{QUERY}"), 200);
    own_responses.push(expect(&format!("/limited?{QUERY}"), 429));
    own_responses.push(expect(&format!("/broken/536-22-8431?{QUERY}"), 502));
    expect(&format!("/t/collect?{QUERY}"), 200);
    let blocked = agent()
        .post(&pg.url(&format!("/t/collect?{QUERY}")))
        .set("content-type", "multipart/form-data; boundary=x")
        .send_string("--x\r\n\r\njane.canary@example.com\r\n--x--");
    match blocked {
        Err(ureq::Error::Status(451, r)) => assert!(!r.into_string().unwrap().contains("jane")),
        other => panic!("expected 451, got {other:?}"),
    }
    let hook = agent()
        .post(&pg.url("/webhooks/orders"))
        .set("x-shopify-hmac-sha256", "AAAA")
        .send_string("{\"email\":\"jane.canary@example.com\"}");
    assert!(matches!(hook, Err(ureq::Error::Status(401, _))));
    // CSP violation reports: page URL, blocked URL, source file and sample all carry PHI.
    let report = format!(
        r#"{{"csp-report": {{"document-uri": "https://shop.example/ok/jane.canary@example.com?{QUERY}",
            "referrer": "https://shop.example/?{QUERY}",
            "blocked-uri": "https://evil.example/x.js?{QUERY}",
            "source-file": "https://shop.example/ok/a.js?{QUERY}",
            "script-sample": "send('jane.canary@example.com', '536-22-8431')",
            "effective-directive": "script-src-elem"}}}}"#
    );
    let accepted = read(
        agent()
            .post(&pg.url("/_phiguard/csp-report"))
            .set("content-type", "application/csp-report")
            .send_string(&report),
    )
    .unwrap();
    assert_eq!(accepted.status, 204);
    let refused = read(
        agent()
            .post(&pg.url("/_phiguard/csp-report"))
            .set("content-type", "application/csp-report")
            .send_string(&report.replace("}}", "")),
    )
    .unwrap();
    assert_eq!(refused.status, 400);
    own_responses.push(accepted);
    own_responses.push(refused);
    // Requests pingora itself rejects as malformed.
    let bad = raw(
        pg.port,
        &format!(
            "GET /ok?{QUERY} HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n"
        ),
    );
    assert!(bad.starts_with("HTTP/1.1 400"), "{bad}");
    assert!(!bad.contains("jane"));

    // The tracker got the beacon, masked.
    assert!(echo
        .seen()
        .iter()
        .filter(|s| s.path == "/t/collect")
        .all(|s| !s.query.contains("jane")));

    let metrics = pg.metrics();
    let audit = wait_for("audit events", Duration::from_secs(5), || {
        std::fs::read_to_string(pg.config_file.parent().unwrap().join("audit.jsonl"))
            .ok()
            .filter(|t| t.lines().count() >= 7 && t.contains("csp_violation"))
    });
    let stdout = pg.process.stdout();
    let stderr = pg.stderr();
    assert_none_emitted(
        &[
            ("access log", &stdout),
            ("app log", &stderr),
            ("metrics", &metrics),
            ("audit log", &audit),
        ],
        CANARIES,
    );
    for r in &own_responses {
        for canary in CANARIES {
            assert!(!r.body.contains(canary), "{canary} in a {} body", r.status);
            assert!(
                r.headers.iter().all(|(_, v)| !v.contains(canary)),
                "{canary} in {} headers",
                r.status
            );
        }
    }

    // Every label value on /metrics comes from a bounded set: config names, fixed words,
    // engine type labels, or hex (version, config hash).
    let allowed: BTreeSet<&str> = [
        "ok",
        "limited",
        "broken",
        "tracker",
        "hooks",
        "-",
        "up",
        "down",
        "tight",
        "1xx",
        "2xx",
        "3xx",
        "4xx",
        "5xx",
        "connect",
        "timeout",
        "other",
        "allowed",
        "dry_run_limited",
        "success",
        "failure",
        "mask",
        "drop",
        "pseudonymize",
        "generalize",
        "block",
        "blocked_type",
        "unscannable",
        "too_large",
        "unsupported_encoding",
        "multipart",
        "bad_json",
        "content_type",
        "method",
        "rewritten",
        "decoded",
        "undecodable",
        "decode_error",
    ]
    .into_iter()
    .collect();
    for line in metrics.lines().filter(|l| !l.starts_with('#')) {
        let Some(labels) = line
            .split_once('{')
            .and_then(|(_, rest)| rest.split_once('}'))
            .map(|(l, _)| l)
        else {
            continue;
        };
        for pair in labels.split("\",").filter(|p| !p.is_empty()) {
            let (name, value) = pair.split_once("=\"").unwrap();
            let value = value.trim_end_matches('"');
            let ok = match name {
                "le" => value == "+Inf" || value.parse::<f64>().is_ok(),
                "version" | "hash" => value.bytes().all(|b| b.is_ascii_hexdigit() || b == b'.'),
                "type" => value
                    .bytes()
                    .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_'),
                "directive" => phiguard::telemetry::metrics::CSP_DIRECTIVES.contains(&value),
                _ => allowed.contains(value),
            };
            assert!(
                ok,
                "label {name}={value:?} is not from a bounded set: {line}"
            );
        }
    }
}

//! The CSP report endpoint: the real binary with a real upstream. Reports in both formats are
//! answered by phiguard (never forwarded), counted by route and directive, audited without
//! PHI; malformed, oversize, wrongly typed and non-POST requests are refused and counted;
//! `csp_reports.rate_limits` applies.

mod common;

use std::time::Duration;

use common::*;
use serde_json::Value;

const PATH: &str = "/_phiguard/csp-report";

/// Synthetic PHI the reports carry; none of it may appear in anything phiguard emits.
const PHI: &[&str] = &["jane.doe", "555-867-5309", "867-5309", "1980-01-02", "Doe"];

fn config(echo: &Echo, extra: &str) -> String {
    format!(
        "upstreams: {{site: {{address: \"{}\"}}}}\n\
         audit: {{path: audit.jsonl}}\n\
         csp_reports: {{max_body_bytes: 2048{extra}}}\n\
         header_profiles:\n\
         \x20 reporting: {{extends: portal, csp_report: {PATH}}}\n\
         routes:\n\
         \x20 - {{name: portal, match: {{path_prefix: /portal}}, upstream: site, headers: reporting}}\n\
         \x20 - {{name: shop, upstream: site}}\n",
        echo.address()
    )
}

fn post(pg: &PhiGuard, content_type: &str, body: &str) -> Resp {
    read(
        agent()
            .post(&pg.url(PATH))
            .set("content-type", content_type)
            .send_string(body),
    )
    .unwrap()
}

const REPORT_URI: &str = r#"{"csp-report": {
  "document-uri": "https://shop.example/portal/patients/jane.doe@example.com?phone=555-867-5309",
  "referrer": "https://shop.example/search?q=Jane+Doe",
  "violated-directive": "script-src-elem",
  "effective-directive": "script-src-elem",
  "original-policy": "default-src 'self'",
  "blocked-uri": "https://tracker.example/t.js?email=jane.doe@example.com",
  "source-file": "https://shop.example/portal/app.js?email=jane.doe%40example.com",
  "script-sample": "fetch('/t?phone=555-867-5309')",
  "disposition": "enforce",
  "status-code": 200
}}"#;

const REPORTS_JSON: &str = r#"[
  {"type": "csp-violation", "age": 10, "url": "https://shop.example/portal/visit?dob=1980-01-02",
   "user_agent": "Mozilla/5.0",
   "body": {"documentURL": "https://shop.example/portal/visit?dob=1980-01-02&name=Jane+Doe",
            "referrer": "https://shop.example/?email=jane.doe@example.com",
            "effectiveDirective": "script-src-elem", "blockedURL": "inline",
            "sourceFile": "https://shop.example/portal/visit?dob=1980-01-02",
            "sample": "var email = 'jane.doe@example.com'", "disposition": "enforce",
            "lineNumber": 3, "columnNumber": 7, "statusCode": 200}},
  {"type": "csp-violation", "age": 11, "url": "https://shop.example/cart",
   "body": {"documentURL": "https://shop.example/cart?phone=555-867-5309",
            "effectiveDirective": "img-src", "blockedURL": "https://pixel.example/p.gif?e=jane.doe@example.com",
            "disposition": "report"}},
  {"type": "deprecation", "url": "https://shop.example/", "body": {"id": "x", "message": "y"}}
]"#;

#[test]
fn profiles_point_the_policy_at_the_endpoint() {
    let echo = Echo::start();
    let pg = PhiGuard::start(&config(&echo, ""));
    let r = get(&pg.url("/portal/home"));
    assert_eq!(r.status, 200);
    let csp = r.must("content-security-policy");
    assert!(
        csp.ends_with("; report-uri /_phiguard/csp-report; report-to phiguard-csp"),
        "{csp}"
    );
    assert_eq!(
        r.must("reporting-endpoints"),
        "phiguard-csp=\"/_phiguard/csp-report\""
    );
}

#[test]
fn reports_in_both_formats_are_counted_audited_and_never_forwarded() {
    let echo = Echo::start();
    let pg = PhiGuard::start(&config(&echo, ""));

    let r = post(&pg, "application/csp-report", REPORT_URI);
    assert_eq!((r.status, r.body.as_str()), (204, ""));
    let r = post(&pg, "application/reports+json", REPORTS_JSON);
    assert_eq!(r.status, 204);
    let r = post(&pg, "application/json", REPORT_URI);
    assert_eq!(r.status, 204);
    assert!(echo.seen().is_empty(), "a report reached the upstream");

    let metrics = pg.metrics();
    let count = |series: &str| metric_value(&metrics, series);
    assert_eq!(
        count("phiguard_csp_violations_total{directive=\"script-src-elem\",route=\"portal\"}"),
        Some(3.0)
    );
    assert_eq!(
        count("phiguard_csp_violations_total{directive=\"img-src\",route=\"shop\"}"),
        Some(1.0)
    );

    let events = pg.wait_audit_log(4).1;
    let csp: Vec<&Value> = events
        .iter()
        .filter(|e| e["event"] == "csp_violation")
        .collect();
    assert_eq!(csp.len(), 4, "{events:#?}");
    let first = csp[0];
    assert_eq!(first["route"], "portal");
    assert_eq!(first["directive"], "script-src-elem");
    assert_eq!(first["blocked"], "https://tracker.example");
    assert_eq!(first["source_file"], "https://shop.example/portal/app.js");
    assert_eq!(first["disposition"], "enforce");
    let path = first["document_path"].as_str().unwrap();
    assert!(path.starts_with("/portal/patients/"), "{path}");
    assert!(first["redacted"].as_u64().unwrap() >= 1);
    assert!(first["sample_fingerprint"].as_str().unwrap().len() == 32);
    let inline = csp[1];
    assert_eq!(inline["blocked"], "inline");
    assert_eq!(inline["document_path"], "/portal/visit");
    let pixel = csp[2];
    assert_eq!(
        (&pixel["route"], &pixel["blocked"], &pixel["document_path"]),
        (
            &Value::from("shop"),
            &Value::from("https://pixel.example"),
            &Value::from("/cart")
        )
    );
    assert_eq!(pixel["sample_fingerprint"], Value::Null);

    let (audit, _) = pg.wait_audit_log(4);
    let log_lines = pg.wait_access_log(3);
    assert!(log_lines.iter().all(|l| l["route"] == "(csp-report)"));
    let (stdout, stderr) = (pg.process.stdout(), pg.stderr());
    assert_none_emitted(
        &[
            ("audit log", &audit),
            ("access log", &stdout),
            ("app log", &stderr),
            ("metrics", &metrics),
        ],
        PHI,
    );
}

#[test]
fn refusals_get_their_status_and_are_counted() {
    let echo = Echo::start();
    let pg = PhiGuard::start(&config(&echo, ""));
    let get_it = get(&pg.url(PATH));
    assert_eq!(get_it.status, 405);
    assert_eq!(get_it.header("allow"), Some("POST"));
    assert_eq!(post(&pg, "text/plain", REPORT_URI).status, 415);
    assert_eq!(post(&pg, "application/csp-report", "{not json").status, 400);
    assert_eq!(
        post(&pg, "application/csp-report", "{\"csp\": 1}").status,
        400
    );
    assert_eq!(post(&pg, "application/reports+json", "{}").status, 400);
    let big = format!("[{}]", vec!["{\"type\": \"x\"}"; 200].join(","));
    assert_eq!(post(&pg, "application/reports+json", &big).status, 413);
    assert!(
        echo.seen().is_empty(),
        "a refused report reached the upstream"
    );

    let metrics = pg.metrics();
    for (reason, n) in [
        ("method", 1.0),
        ("content_type", 1.0),
        ("bad_json", 3.0),
        ("too_large", 1.0),
    ] {
        assert_eq!(
            metric_value(
                &metrics,
                &format!("phiguard_csp_reports_rejected_total{{reason=\"{reason}\"}}")
            ),
            Some(n),
            "{reason}"
        );
    }
    // Report posts are not counted as unmatched requests.
    assert_eq!(
        metric_value(
            &metrics,
            "phiguard_requests_total{route=\"-\",status_class=\"4xx\"}"
        ),
        Some(0.0)
    );
}

#[test]
fn a_body_without_declared_length_is_bounded_too() {
    let echo = Echo::start();
    let pg = PhiGuard::start(&config(&echo, ""));
    let body = format!("[{}]", vec!["{\"type\": \"x\"}"; 200].join(","));
    let chunked = |body: &str| {
        let mut out = String::new();
        for piece in body.as_bytes().chunks(500) {
            out.push_str(&format!(
                "{:x}\r\n{}\r\n",
                piece.len(),
                String::from_utf8_lossy(piece)
            ));
        }
        out.push_str("0\r\n\r\n");
        out
    };
    let head = format!(
        "POST {PATH} HTTP/1.1\r\nHost: x\r\nContent-Type: application/reports+json\r\n\
         Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n{}",
        chunked(&body)
    );
    let answer = raw_exchange(pg.port, &head);
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    let small = format!(
        "POST {PATH} HTTP/1.1\r\nHost: x\r\nContent-Type: application/csp-report\r\n\
         Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n{}",
        chunked(REPORT_URI)
    );
    let answer = raw_exchange(pg.port, &small);
    assert!(answer.starts_with("HTTP/1.1 204"), "{answer}");
}

#[test]
fn rate_limit_rules_apply_to_reports() {
    let echo = Echo::start();
    let pg = PhiGuard::start(&format!(
        "rate_limits: {{reports: {{rate: 2/minute, burst: 2}}}}\n{}",
        config(&echo, ", rate_limits: [reports]")
    ));
    for _ in 0..2 {
        assert_eq!(post(&pg, "application/csp-report", REPORT_URI).status, 204);
    }
    let refused = post(&pg, "application/csp-report", REPORT_URI);
    assert_eq!(refused.status, 429);
    assert!(refused.header("retry-after").is_some());
    assert_eq!(
        pg.metric("phiguard_csp_violations_total{directive=\"script-src-elem\",route=\"portal\"}"),
        Some(2.0)
    );
}

#[test]
fn status_filtered_rules_count_the_answer_given() {
    let echo = Echo::start();
    let pg = PhiGuard::start(&format!(
        "rate_limits: {{bad_reports: {{rate: 1/minute, burst: 1, count_statuses: [400]}}}}\n{}",
        config(&echo, ", rate_limits: [bad_reports]")
    ));
    // Accepted reports are free under a rule that counts only 400s.
    for _ in 0..3 {
        assert_eq!(post(&pg, "application/csp-report", REPORT_URI).status, 204);
    }
    assert_eq!(post(&pg, "application/csp-report", "{oops").status, 400);
    // The 400 used the burst: the next post is refused before its body is read.
    assert_eq!(post(&pg, "application/csp-report", REPORT_URI).status, 429);
}

fn raw_exchange(port: u16, request: &str) -> String {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s.write_all(request.as_bytes()).unwrap();
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    String::from_utf8_lossy(&out).into_owned()
}

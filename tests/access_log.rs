//! The JSON access log: one line per request with the documented fields; the query string
//! only with PHI and credentials masked, and no cookie or other request data in stdout,
//! stderr or `/metrics`.

mod common;

use common::*;

fn setup() -> (Echo, PhiGuard) {
    let echo = Echo::start();
    let pg = PhiGuard::start(&format!(
        "upstreams:\n  up: {{address: \"{}\"}}\n  down: {{address: \"{}\"}}\n\
         routes:\n\
         \x20 - {{name: down, match: {{path_prefix: /down}}, upstream: down}}\n\
         \x20 - {{name: portal, match: {{path_prefix: /portal}}, upstream: up}}\n",
        echo.address(),
        closed_address()
    ));
    (echo, pg)
}

#[test]
fn one_json_line_per_request_with_its_fields() {
    let (_echo, pg) = setup();
    let ok = get(&pg.url("/portal/%61ccount?x=1"));
    let missing = get(&pg.url("/nope"));
    let failed = get(&pg.url("/down"));
    let lines = pg.wait_access_log(3);
    assert_eq!(lines.len(), 3, "{lines:#?}");

    let line = pg.log_line_for(&ok);
    assert_eq!(line["route"], "portal");
    assert_eq!(line["method"], "GET");
    assert_eq!(line["path"], "/portal/account");
    assert_eq!(line["status"], 200);
    assert_eq!(line["upstream"], "up");
    assert_eq!(line["bytes_sent"].as_u64(), Some(ok.body.len() as u64));
    assert!(line["duration_ms"].as_f64().is_some_and(|d| d >= 0.0));
    assert!(line["time"].as_str().is_some_and(|t| t.ends_with('Z')));

    let line = pg.log_line_for(&missing);
    assert_eq!(
        (line["route"].as_str(), line["upstream"].as_str()),
        (Some("-"), Some("-"))
    );
    assert_eq!(line["status"], 404);
    assert_eq!(line["bytes_sent"].as_u64(), Some(missing.body.len() as u64));

    let line = pg.log_line_for(&failed);
    assert_eq!(
        (line["route"].as_str(), line["upstream"].as_str()),
        (Some("down"), Some("down"))
    );
    assert_eq!(line["status"], 502);
}

#[test]
fn no_request_data_in_logs_or_metrics() {
    let (echo, pg) = setup();
    let query = "?email=jane.doe@example.com&token=SECRET";
    let cookie = [("Cookie", "sid=SECRETCOOKIE")];
    let statuses: Vec<u16> = ["/portal/page", "/nope", "/down/page"]
        .iter()
        .map(|path| get_with(&pg.url(&format!("{path}{query}")), &cookie).status)
        .collect();
    assert_eq!(statuses, [200, 404, 502]);
    // The upstream did get the query and the cookie: the proxy is not just dropping them.
    assert_eq!(echo.last().query, "email=jane.doe@example.com&token=SECRET");
    assert_eq!(echo.last().header("cookie"), Some("sid=SECRETCOOKIE"));

    pg.wait_access_log(3);
    assert_none_emitted(
        &[
            ("access log", &pg.process.stdout()),
            ("app log", &pg.stderr()),
            ("metrics", &pg.metrics()),
        ],
        &["jane.doe", "SECRET", "example.com&"],
    );
    // The query is logged, with the PHI and the credential masked.
    let line = &pg.access_log_lines()[0];
    assert_eq!(
        line["query"],
        "email=[REDACTED:EMAIL]&token=[REDACTED:CREDENTIAL]"
    );
}

#[test]
fn access_log_can_be_switched_off() {
    let echo = Echo::start();
    let body = one_upstream(&echo.address(), "  - {name: all, upstream: up}\n");
    let pg = PhiGuard::start(&format!("access_log: {{enabled: false}}\n{body}"));
    assert_eq!(get(&pg.url("/x")).status, 200);
    assert_eq!(get(&pg.url("/y")).status, 200);
    // Metrics still count. Once they do, a line would have been queued; an absence cannot
    // be polled, so give the writer thread a moment before checking there is none.
    let series = r#"phiguard_requests_total{route="all",status_class="2xx"}"#;
    assert_eq!(pg.metric(series), Some(2.0));
    std::thread::sleep(std::time::Duration::from_millis(200));
    assert_eq!(pg.process.stdout(), "");
}

#[test]
fn an_egress_route_logs_its_scanned_query_or_scans_it_with_the_default_profile() {
    let echo = Echo::start();
    let key = "pseudonym_key: hex:000102030405060708090a0b0c0d0e0f, pseudonym_key_id: k1";
    let pg = PhiGuard::start(&format!(
        "upstreams: {{tracker: {{address: \"{}\"}}}}\n\
         redaction_profiles:\n\
         \x20 same: {{action: pseudonymize, {key}}}\n\
         \x20 extra_key: {{action: pseudonymize, {key}, keys: {{patient_ref: mrn}}}}\n\
         routes:\n\
         \x20 - {{name: same, match: {{path_prefix: /same}}, upstream: tracker, egress: {{profile: same}}}}\n\
         \x20 - {{name: extra, match: {{path_prefix: /extra}}, upstream: tracker, egress: {{profile: extra_key}}}}\n",
        echo.address()
    ));
    let query = "?v=2&em=jane.doe%40example.com&token=SECRET";

    // A profile that detects as the default one: the log shows the query as forwarded
    // (its pseudonym), credentials masked, without a second scan.
    let same = get(&pg.url(&format!("/same/collect{query}")));
    assert_eq!(same.status, 200);
    let forwarded = echo.last().query;
    let pseudonym = forwarded
        .split('&')
        .find_map(|pair| pair.strip_prefix("em="))
        .expect("em forwarded");
    assert!(pseudonym.starts_with("PSEUDO_EMAIL_k1_"), "{forwarded}");

    // Any other profile: the log scans the received query with the default profile.
    let extra = get(&pg.url(&format!("/extra/collect{query}")));
    assert_eq!(extra.status, 200);

    pg.wait_access_log(2);
    assert_eq!(
        pg.log_line_for(&same)["query"],
        format!("v=2&em={pseudonym}&token=[REDACTED:CREDENTIAL]")
    );
    assert_eq!(
        pg.log_line_for(&extra)["query"],
        "v=2&em=[REDACTED:EMAIL]&token=[REDACTED:CREDENTIAL]"
    );
    assert_none_emitted(
        &[("access log", &pg.process.stdout())],
        &["jane.doe", "SECRET"],
    );
}

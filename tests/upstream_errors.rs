//! Upstream failures: a closed port answers 502, a slow upstream 504; both short fixed
//! bodies without upstream details, with the route's security headers, counted by kind.

mod common;

use common::*;

const SLOW_MS: u64 = 1500;

fn setup() -> (Echo, String, PhiGuard) {
    let echo = Echo::start();
    let down = closed_address();
    let pg = PhiGuard::start(&format!(
        "upstreams:\n\
         \x20 down: {{address: \"{down}\", connect_timeout_ms: 1000}}\n\
         \x20 slow: {{address: \"{up}\", read_timeout_ms: 300}}\n\
         routes:\n\
         \x20 - {{name: down, match: {{path_prefix: /down}}, upstream: down, headers: telehealth}}\n\
         \x20 - {{name: slow, match: {{path_prefix: /slow}}, upstream: slow, headers: checkout}}\n",
        up = echo.address(),
    ));
    (echo, down, pg)
}

#[test]
fn closed_port_answers_502_without_details() {
    let (_echo, down, pg) = setup();
    let port = down.rsplit(':').next().unwrap();
    let resp = get(&pg.url("/down/page"));
    assert_eq!(resp.status, 502);
    assert_eq!(resp.body, "bad gateway\n");
    assert!(!resp.body.contains(port) && !resp.body.contains("127.0.0.1"));
    for (_, value) in &resp.headers {
        assert!(
            !value.contains(&down),
            "upstream address in a header: {value}"
        );
    }
    // The route's (telehealth) headers, not a bare error page.
    assert!(resp.must("permissions-policy").contains("camera=(self)"));
    assert!(resp
        .must("content-security-policy")
        .contains("frame-ancestors 'none'"));
    assert_eq!(resp.header("cache-control"), Some("no-store"));

    let log = pg.log_line_for(&resp);
    assert_eq!(
        (log["route"].as_str(), log["status"].as_u64()),
        (Some("down"), Some(502))
    );
    let metrics = pg.metrics();
    assert_eq!(
        metric_value(
            &metrics,
            r#"phiguard_upstream_errors_total{kind="connect",route="down"}"#
        ),
        Some(1.0),
        "{metrics}"
    );
    assert_eq!(
        metric_value(
            &metrics,
            r#"phiguard_requests_total{route="down",status_class="5xx"}"#
        ),
        Some(1.0)
    );
}

#[test]
fn slow_upstream_answers_504() {
    let (echo, _down, pg) = setup();
    let started = std::time::Instant::now();
    let resp = get(&pg.url(&format!("/slow/slow?ms={SLOW_MS}")));
    assert!(
        started.elapsed().as_millis() < u128::from(SLOW_MS),
        "no timeout applied"
    );
    assert_eq!(resp.status, 504);
    assert_eq!(resp.body, "gateway timeout\n");
    assert_eq!(
        echo.last().path,
        "/slow/slow",
        "the request did reach the upstream"
    );
    assert!(resp.must("permissions-policy").contains("payment=(self)"));
    assert_eq!(resp.header("x-frame-options"), Some("DENY"));

    let metrics = pg.metrics();
    assert_eq!(
        metric_value(
            &metrics,
            r#"phiguard_upstream_errors_total{kind="timeout",route="slow"}"#
        ),
        Some(1.0),
        "{metrics}"
    );
    assert_eq!(
        metric_value(
            &metrics,
            r#"phiguard_upstream_errors_total{kind="connect",route="slow"}"#
        ),
        Some(0.0)
    );
}

#[test]
fn host_name_upstreams_resolve_when_used() {
    let echo = Echo::start();
    let pg = PhiGuard::start(&format!(
        "upstreams:\n\
         \x20 named: {{address: \"localhost:{port}\"}}\n\
         \x20 nodns: {{address: \"does-not-exist.invalid:80\"}}\n\
         routes:\n\
         \x20 - {{name: named, match: {{path_prefix: /named}}, upstream: named}}\n\
         \x20 - {{name: nodns, match: {{path_prefix: /nodns}}, upstream: nodns}}\n",
        port = echo.addr.port(),
    ));
    // A host name that does not resolve does not keep the proxy from starting...
    let resp = get(&pg.url("/named/x"));
    assert_eq!(resp.status, 200, "{resp:?}");
    assert_eq!(echo.last().path, "/named/x");
    // ...its routes answer 502 until it does.
    let resp = get(&pg.url("/nodns/x"));
    assert_eq!((resp.status, resp.body.as_str()), (502, "bad gateway\n"));
    assert!(!resp.body.contains("does-not-exist"));
    assert_eq!(
        pg.metric(r#"phiguard_upstream_errors_total{kind="connect",route="nodns"}"#),
        Some(1.0)
    );
}

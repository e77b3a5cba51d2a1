//! The admin listener (`/livez`, `/readyz`, `/metrics`) and the SIGTERM drain.

mod common;

use std::time::{Duration, Instant};

use common::*;

fn setup(options: Options) -> (Echo, PhiGuard) {
    let echo = Echo::start();
    let body = one_upstream(&echo.address(), "  - {name: all, upstream: up}\n");
    (echo, PhiGuard::start_with(&body, options))
}

#[test]
fn admin_endpoints() {
    let (_echo, pg) = setup(Options::default());
    let livez = get(&pg.admin_url("/livez"));
    assert_eq!((livez.status, livez.body.as_str()), (200, "ok\n"));
    let readyz = get(&pg.admin_url("/readyz"));
    assert_eq!((readyz.status, readyz.body.as_str()), (200, "ready\n"));
    // Ready means the public listener accepts connections.
    std::net::TcpStream::connect(("127.0.0.1", pg.port)).unwrap();

    let series = r#"phiguard_requests_total{route="all",status_class="2xx"}"#;
    assert_eq!(pg.metric(series), Some(0.0));
    assert_eq!(get(&pg.url("/x")).status, 200);
    let content_type = get(&pg.admin_url("/metrics"));
    assert!(content_type
        .must("content-type")
        .starts_with("text/plain; version=0.0.4"));
    let text = pg.metrics();
    assert_eq!(metric_value(&text, series), Some(1.0), "{text}");
    assert!(text.contains("# TYPE phiguard_requests_total counter"));
    let version = env!("CARGO_PKG_VERSION");
    assert_eq!(
        metric_value(
            &text,
            &format!(r#"phiguard_build_info{{version="{version}"}}"#)
        ),
        Some(1.0),
        "{text}"
    );
    assert!(text.contains(r#"phiguard_request_duration_seconds_count{route="all"} 1"#));
}

#[test]
fn sigterm_drains_in_flight_requests_then_exits_cleanly() {
    const GRACE_SECS: u64 = 2;
    const TIMEOUT_SECS: u64 = 1;
    let server = format!(
        "{{threads: 1, grace_period_secs: {GRACE_SECS}, shutdown_timeout_secs: {TIMEOUT_SECS}}}"
    );
    let (_echo, mut pg) = setup(Options {
        server: Some(server),
        ..Options::default()
    });

    let slow_url = pg.url("/drain/slow?ms=1500");
    let slow = std::thread::spawn(move || get(&slow_url));
    wait_for("the slow request in flight", Duration::from_secs(5), || {
        (metric_value(&pg.metrics_now(), "phiguard_requests_in_flight") == Some(1.0)).then_some(())
    });

    pg.process.signal(libc::SIGTERM);
    let signalled = Instant::now();
    let readyz = wait_for("/readyz to turn 503", Duration::from_secs(2), || {
        let r = get(&pg.admin_url("/readyz"));
        (r.status == 503).then_some(r)
    });
    assert_eq!(readyz.body, "draining\n");
    assert!(
        !slow.is_finished(),
        "readiness must drop while requests are in flight"
    );
    assert_eq!(
        metric_value(&pg.metrics_now(), "phiguard_requests_in_flight"),
        Some(1.0)
    );

    let resp = slow.join().unwrap();
    assert_eq!(resp.status, 200, "the in-flight request was cut: {resp:?}");
    assert_eq!(resp.json()["path"], "/drain/slow");

    let status = pg
        .process
        .wait_exit(Duration::from_secs(GRACE_SECS + TIMEOUT_SECS + 3));
    assert!(status.success(), "{status:?}\n{}", pg.stderr());
    assert!(signalled.elapsed() < Duration::from_secs(GRACE_SECS + TIMEOUT_SECS + 3));
}

#[test]
fn sigint_stops_at_once() {
    let server = "{threads: 1, grace_period_secs: 30, shutdown_timeout_secs: 30}".to_owned();
    let (_echo, mut pg) = setup(Options {
        server: Some(server),
        ..Options::default()
    });
    pg.process.signal(libc::SIGINT);
    let status = pg.process.wait_exit(Duration::from_secs(5));
    assert!(status.success(), "{status:?}\n{}", pg.stderr());
}

#[test]
fn sigterm_keeps_serving_new_connections_during_the_drain_delay() {
    let server =
        "{threads: 1, drain_delay_secs: 2, grace_period_secs: 1, shutdown_timeout_secs: 1}";
    let (_echo, mut pg) = setup(Options {
        server: Some(server.to_owned()),
        ..Options::default()
    });
    pg.process.signal(libc::SIGTERM);
    let signalled = Instant::now();
    wait_for("/readyz to turn 503", Duration::from_secs(1), || {
        (get(&pg.admin_url("/readyz")).status == 503).then_some(())
    });
    // Not ready, yet a load balancer that has not noticed still gets answers.
    let resp = get(&pg.url("/drain/after-sigterm"));
    assert_eq!(resp.status, 200);
    assert!(signalled.elapsed() < Duration::from_secs(2));
    let status = pg.process.wait_exit(Duration::from_secs(8));
    assert!(status.success(), "{status:?}");
    assert!(
        signalled.elapsed() >= Duration::from_secs(2),
        "left before the drain delay"
    );
}

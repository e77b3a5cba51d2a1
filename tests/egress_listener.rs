//! The sidecar egress listener: server-side code sends plain HTTP with the real destination
//! in `Host`; only allowlisted destinations (routes naming the listener) are served, always
//! redacted, and any other host is refused with 403 and counted.

mod common;

use std::time::Duration;

use common::*;

#[test]
fn only_allowlisted_destinations_leave_and_they_leave_redacted() {
    let echo = Echo::start();
    let [public, egress, admin] = free_ports();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("phiguard.yaml");
    std::fs::write(
        &file,
        format!(
            "listeners:\n\
             \x20 - {{name: public, address: \"127.0.0.1:{public}\"}}\n\
             \x20 - {{name: egress, address: \"127.0.0.1:{egress}\", egress: true}}\n\
             admin: {{address: \"127.0.0.1:{admin}\"}}\n\
             server: {FAST_SERVER}\n\
             upstreams: {{segment: {{address: \"{echo}\"}}, site: {{address: \"{echo}\"}}}}\n\
             redaction_profiles: {{trackers: {{action: mask}}}}\n\
             routes:\n\
             \x20 - {{name: segment, match: {{listener: egress, host: api.segment.test}}, upstream: segment, egress: {{profile: trackers}}}}\n\
             \x20 - {{name: site, upstream: site}}\n",
            echo = echo.address()
        ),
    )
    .unwrap();
    let _process = Process::spawn(&["run", "--config", file.to_str().unwrap()]);
    wait_for("ready", READY_TIMEOUT, || {
        try_get(&format!("http://127.0.0.1:{admin}/readyz"))
            .ok()
            .filter(|r| r.status == 200)
    });
    let on_egress = |host: &str, path: &str| {
        get_with(
            &format!("http://127.0.0.1:{egress}{path}"),
            &[("host", host)],
        )
    };

    let ok = on_egress(
        "api.segment.test",
        "/v1/track?userId=u1&email=jane.doe%40example.com",
    );
    assert_eq!(ok.status, 200);
    let seen = echo.last();
    assert_eq!(seen.path, "/v1/track");
    assert!(
        seen.query.contains("userId=u1") && !seen.query.contains("jane"),
        "{}",
        seen.query
    );

    let before = echo.seen().len();
    let refused = on_egress("evil.example.net", "/collect?email=jane.doe%40example.com");
    assert_eq!(
        (refused.status, refused.body.as_str()),
        (403, "destination not allowed\n")
    );
    // The public catch-all never serves the egress listener.
    assert_eq!(on_egress("shop.example.com", "/").status, 403);
    assert_eq!(
        echo.seen().len(),
        before,
        "nothing went to an unknown destination"
    );
    // ...while on the public listener it serves as usual.
    assert_eq!(get(&format!("http://127.0.0.1:{public}/")).status, 200);

    let metrics = wait_for("metrics", Duration::from_secs(5), || {
        try_get(&format!("http://127.0.0.1:{admin}/metrics")).ok()
    });
    assert_eq!(
        metric_value(
            &metrics.body,
            "phiguard_egress_blocked_total{destination=\"-\",reason=\"unknown_destination\",route=\"-\"}"
        ),
        Some(2.0)
    );
}

#[test]
fn routes_on_an_egress_listener_must_redact() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("p.yaml");
    std::fs::write(
        &file,
        "listeners: [{name: out, address: \"127.0.0.1:1\", egress: true}]\n\
         upstreams: {u: {address: \"127.0.0.1:2\"}}\n\
         routes: [{name: r, match: {listener: out}, upstream: u}, {name: s, match: {listener: nope}, upstream: u}]\n",
    )
    .unwrap();
    let (code, _, stderr) = run_to_exit(&["check", "--config", file.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(
        stderr.contains(
            "routes[0].egress: routes on the egress listener \"out\" must be egress routes"
        ),
        "{stderr}"
    );
    assert!(
        stderr.contains("routes[1].match.listener: unknown listener \"nope\" (known: out)"),
        "{stderr}"
    );
}

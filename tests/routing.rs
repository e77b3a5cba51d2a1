//! Routing: first match wins; host (exact and wildcard), whole-segment path prefixes and
//! methods; `rewrite_prefix`; path normalization; unmatched requests never leave the proxy.

mod common;

use common::*;

/// Routes in an order where first-match-wins matters (`api` shadows `api_v2`).
const ROUTES: &str = r#"
  - {name: portal_host, match: {host: portal.example.com, path_prefix: /apps}, upstream: up}
  - {name: wildcard, match: {host: "*.clinic.example"}, upstream: up}
  - {name: appointments, match: {path_prefix: /apps/appointments, methods: [GET, POST]}, upstream: up}
  - {name: ga4, match: {path_prefix: /t/ga4}, upstream: up, rewrite_prefix: /g/collect}
  - {name: api, match: {path_prefix: /api}, upstream: up}
  - {name: api_v2, match: {path_prefix: /api/v2}, upstream: up}
"#;

fn setup() -> (Echo, PhiGuard) {
    let echo = Echo::start();
    let pg = PhiGuard::start(&one_upstream(&echo.address(), ROUTES));
    (echo, pg)
}

/// Asserts that `resp` came from `route` and that the upstream saw `path`.
fn assert_routed(pg: &PhiGuard, echo: &Echo, resp: &Resp, route: &str, path: &str) {
    assert_eq!(resp.status, 200, "{resp:?}");
    assert_eq!(pg.route_of(resp), route);
    assert_eq!(echo.last().path, path);
    assert_eq!(resp.json()["path"], path);
}

/// Asserts the proxy answered 404 itself and the upstream got nothing new.
fn assert_not_forwarded(echo: &Echo, before: usize, resp: &Resp) {
    assert_eq!(resp.status, 404, "{resp:?}");
    assert_eq!(resp.body, "not found\n");
    assert_eq!(
        echo.seen().len(),
        before,
        "an unmatched request reached the upstream"
    );
}

#[test]
fn first_matching_route_wins() {
    let (echo, pg) = setup();
    let resp = get(&pg.url("/api/v2/items"));
    assert_routed(&pg, &echo, &resp, "api", "/api/v2/items");
}

#[test]
fn host_exact_and_wildcard() {
    let (echo, pg) = setup();
    for host in [
        "portal.example.com",
        "PORTAL.Example.com:8443",
        "portal.example.com.",
    ] {
        let resp = get_with(&pg.url("/apps/home"), &[("Host", host)]);
        assert_routed(&pg, &echo, &resp, "portal_host", "/apps/home");
    }
    let resp = get_with(&pg.url("/anything"), &[("Host", "a.clinic.example")]);
    assert_routed(&pg, &echo, &resp, "wildcard", "/anything");
    let resp = get_with(&pg.url("/anything"), &[("Host", "b.a.clinic.example.:80")]);
    assert_routed(&pg, &echo, &resp, "wildcard", "/anything");

    let before = echo.seen().len();
    for host in ["clinic.example", "other.example", "portal.example.com.evil"] {
        let resp = get_with(&pg.url("/anything"), &[("Host", host)]);
        assert_not_forwarded(&echo, before, &resp);
    }
    // portal_host needs /apps; another host with /apps/home matches nothing.
    let resp = get_with(&pg.url("/apps/home"), &[("Host", "other.example")]);
    assert_not_forwarded(&echo, before, &resp);
}

#[test]
fn path_prefix_matches_whole_segments() {
    let (echo, pg) = setup();
    for path in ["/apps/appointments", "/apps/appointments/17"] {
        let resp = get(&pg.url(path));
        assert_routed(&pg, &echo, &resp, "appointments", path);
    }
    let before = echo.seen().len();
    for path in ["/apps/appointmentsX", "/apps", "/ap", "/"] {
        assert_not_forwarded(&echo, before, &get(&pg.url(path)));
    }
}

#[test]
fn methods_are_matched() {
    let (echo, pg) = setup();
    let resp = request("POST", &pg.url("/apps/appointments/3"), &[]);
    assert_routed(&pg, &echo, &resp, "appointments", "/apps/appointments/3");
    assert_eq!(echo.last().method, "POST");
    let before = echo.seen().len();
    for method in ["DELETE", "PUT"] {
        let resp = request(method, &pg.url("/apps/appointments/3"), &[]);
        assert_not_forwarded(&echo, before, &resp);
    }
}

#[test]
fn rewrite_prefix_replaces_the_matched_prefix_and_keeps_the_query() {
    let (echo, pg) = setup();
    let resp = get(&pg.url("/t/ga4/x/y?v=2&en=page_view"));
    assert_routed(&pg, &echo, &resp, "ga4", "/g/collect/x/y");
    assert_eq!(echo.last().query, "v=2&en=page_view");
    let resp = get(&pg.url("/t/ga4?v=1"));
    assert_routed(&pg, &echo, &resp, "ga4", "/g/collect");
    assert_eq!(echo.last().query, "v=1");
}

#[test]
fn normalized_paths_match_and_are_forwarded_normalized() {
    let (echo, pg) = setup();
    for (raw, normalized) in [
        ("/apps/%61ppointments/5", "/apps/appointments/5"),
        ("/apps//appointments/6", "/apps/appointments/6"),
        ("/x/../apps/appointments/7", "/apps/appointments/7"),
        (
            "/apps/./appointments/../appointments/8?q=1",
            "/apps/appointments/8",
        ),
    ] {
        let resp = raw_get(pg.port, &format!("GET {raw} HTTP/1.1\r\nHost: localhost"));
        assert_routed(&pg, &echo, &resp, "appointments", normalized);
    }
    assert_eq!(echo.last().query, "q=1");
    // A normalized path that matches nothing is still refused.
    let before = echo.seen().len();
    let resp = raw_get(
        pg.port,
        "GET /apps/appointments/../x HTTP/1.1\r\nHost: localhost",
    );
    assert_not_forwarded(&echo, before, &resp);
}

#[test]
fn unmatched_request_gets_the_proxys_404() {
    let (echo, pg) = setup();
    let resp = get(&pg.url("/nothing/here?x=1"));
    assert_not_forwarded(&echo, 0, &resp);
    assert_eq!(pg.route_of(&resp), "-");
    assert!(echo.seen().is_empty());
    assert_eq!(
        pg.metric(r#"phiguard_requests_total{route="-",status_class="4xx"}"#),
        Some(1.0)
    );
}

//! `phiguard demo --port-base N`: the banner, the tracker sink behind the proxy, and the
//! hardened account page.

mod common;

use std::net::TcpListener;
use std::time::Duration;

use common::*;

/// A base port N with N..N+3 all free a moment ago.
fn free_port_base() -> u16 {
    for _ in 0..50 {
        let base = free_port();
        let Some(last) = base.checked_add(3) else {
            continue;
        };
        let held: Vec<_> = (base..=last)
            .map_while(|p| TcpListener::bind(("127.0.0.1", p)).ok())
            .collect();
        if held.len() == 4 {
            return base;
        }
    }
    panic!("no four consecutive free ports");
}

struct Demo {
    process: Process,
    base: u16,
}

impl Demo {
    /// Starts the demo and waits until it is ready, retrying when a port got taken.
    fn start() -> Self {
        let mut stderr = String::new();
        for _ in 0..3 {
            let base = free_port_base();
            let mut process = Process::spawn(&["demo", "--port-base", &base.to_string()]);
            let readyz = format!("http://127.0.0.1:{}/readyz", base + 1);
            let ready = wait_for("the demo to become ready", READY_TIMEOUT, || {
                if process.try_status().is_some() {
                    return Some(false);
                }
                try_get(&readyz)
                    .is_ok_and(|r| r.status == 200)
                    .then_some(true)
            });
            if ready {
                return Demo { process, base };
            }
            stderr = process.stderr();
            if !stderr.contains("in use") {
                break;
            }
        }
        panic!("the demo did not start:\n{stderr}");
    }

    /// A URL on port base+`offset` (0 proxy, 1 admin, 2 origin, 3 sink).
    fn url(&self, offset: u16, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.base + offset)
    }
}

#[test]
fn banner_lists_the_four_urls_first() {
    let demo = Demo::start();
    let stdout = wait_for("the banner", Duration::from_secs(5), || {
        let out = demo.process.stdout();
        (out.lines().count() >= 4).then_some(out)
    });
    let lines: Vec<&str> = stdout.lines().take(4).collect();
    let n = demo.base;
    assert_eq!(
        lines,
        [
            format!("proxy http://127.0.0.1:{n}"),
            format!("admin http://127.0.0.1:{}", n + 1),
            format!("origin http://127.0.0.1:{}", n + 2),
            format!("sink http://127.0.0.1:{}", n + 3),
        ]
    );
}

#[test]
fn tracker_requests_reach_the_sink() {
    let demo = Demo::start();
    let resp = get(&demo.url(0, "/t/collect?x=1"));
    assert_eq!(resp.status, 200, "{resp:?}");
    let recorded = get(&demo.url(3, "/_sink/requests")).json();
    let all = recorded.as_array().expect("a JSON array");
    let hit = all
        .iter()
        .find(|r| r["path"] == "/collect")
        .unwrap_or_else(|| panic!("not recorded: {recorded:#}"));
    assert_eq!(hit["method"], "GET");
    assert_eq!(hit["query"], "x=1");
    assert_eq!(hit["body"], "");
    assert_eq!(hit["headers"]["x-forwarded-for"], "127.0.0.1");
    assert!(hit["headers"]["x-request-id"].is_string());
}

#[test]
fn account_page_is_hardened() {
    let demo = Demo::start();
    // The origin alone is leaky and cacheable.
    let direct = get(&demo.url(2, "/account"));
    assert_eq!(direct.header("cache-control"), Some("public, max-age=3600"));
    assert!(direct.header("server").is_some());

    let resp = get(&demo.url(0, "/account"));
    assert_eq!(resp.status, 200);
    assert_eq!(resp.header("cache-control"), Some("no-store, private"));
    assert_eq!(resp.header("server"), None);
    assert_eq!(resp.header("x-powered-by"), None);
    assert!(resp
        .must("content-security-policy")
        .contains("frame-ancestors 'none'"));
    let cookies = resp.all("set-cookie");
    assert_eq!(cookies.len(), 2, "{cookies:?}");
    for cookie in cookies {
        let attrs: Vec<String> = cookie
            .split(';')
            .skip(1)
            .map(|a| a.trim().to_ascii_lowercase())
            .collect();
        for wanted in ["secure", "httponly", "samesite=lax"] {
            assert!(
                attrs.iter().any(|a| a == wanted),
                "{wanted} missing: {cookie}"
            );
        }
        assert!(!attrs.iter().any(|a| a == "samesite=none"), "{cookie}");
    }
}

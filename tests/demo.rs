//! `phiguard demo --port-base N`: the banner, the tracker sink behind the proxy, and the
//! hardened account page.

mod common;
#[path = "common/portal_demo.rs"]
mod portal_demo;

use std::time::Duration;

use common::*;
use portal_demo::Demo;

#[test]
fn banner_lists_the_four_urls_first() {
    let demo = Demo::start();
    let stdout = wait_for("the banner", Duration::from_secs(5), || {
        let out = demo.stdout();
        (out.lines().count() >= 4).then_some(out)
    });
    let lines: Vec<&str> = stdout.lines().take(4).collect();
    let n = demo.base();
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
    let resp = get(&demo.proxy("/t/collect?x=1"));
    assert_eq!(resp.status, 200, "{resp:?}");
    let recorded = get(&demo.sink("/_sink/requests")).json();
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
    let direct = get(&demo.origin("/account"));
    assert_eq!(direct.header("cache-control"), Some("public, max-age=3600"));
    assert!(direct.header("server").is_some());

    let resp = get(&demo.proxy("/account"));
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

//! Header presets and profiles on upstream responses and on the proxy's own 404 and 502:
//! the distinguishing security headers, leaky header removal, `set` vs `add_if_absent`,
//! `csp_report_only`.

mod common;

use common::*;

/// What distinguishes one preset on the wire.
struct Preset {
    name: &'static str,
    csp: &'static [&'static str],
    permissions: &'static [&'static str],
    x_frame_options: &'static str,
    referrer_policy: &'static str,
    /// Whether the preset forces `no-store, private` on upstream responses.
    no_store: bool,
}

const PORTAL: Preset = Preset {
    name: "portal",
    csp: &["frame-ancestors 'none'", "default-src 'self'"],
    permissions: &["camera=()", "microphone=()"],
    x_frame_options: "DENY",
    referrer_policy: "no-referrer",
    no_store: true,
};

const TELEHEALTH: Preset = Preset {
    name: "telehealth",
    csp: &["frame-ancestors 'none'", "media-src 'self' blob:"],
    permissions: &[
        "camera=(self)",
        "microphone=(self)",
        "display-capture=(self)",
    ],
    x_frame_options: "DENY",
    referrer_policy: "no-referrer",
    no_store: true,
};

const CHECKOUT: Preset = Preset {
    name: "checkout",
    csp: &["frame-ancestors 'none'", "default-src 'self' https:"],
    permissions: &["payment=(self)", "camera=()"],
    x_frame_options: "DENY",
    referrer_policy: "strict-origin-when-cross-origin",
    no_store: true,
};

const CATALOG: Preset = Preset {
    name: "catalog",
    csp: &["object-src 'none'", "frame-ancestors 'self'"],
    permissions: &["camera=()", "microphone=()"],
    x_frame_options: "SAMEORIGIN",
    referrer_policy: "strict-origin-when-cross-origin",
    no_store: false,
};

const LEAKY: &[&str] = &["server", "x-powered-by", "x-magento-cache-debug"];

fn assert_contains_all(resp: &Resp, header: &str, parts: &[&str]) {
    let value = resp.must(header);
    for part in parts {
        assert!(value.contains(part), "{header}: {value:?} lacks {part:?}");
    }
}

/// The headers every response under preset `p` carries, upstream's or the proxy's own.
fn assert_preset_headers(resp: &Resp, p: &Preset) {
    assert_contains_all(resp, "content-security-policy", p.csp);
    assert_contains_all(resp, "permissions-policy", p.permissions);
    assert_eq!(resp.header("x-frame-options"), Some(p.x_frame_options));
    assert_eq!(resp.header("referrer-policy"), Some(p.referrer_policy));
    assert_eq!(resp.header("x-content-type-options"), Some("nosniff"));
    assert_eq!(
        resp.header("strict-transport-security"),
        Some("max-age=63072000; includeSubDomains")
    );
    for leaky in LEAKY {
        assert_eq!(resp.header(leaky), None, "{leaky} leaked: {resp:#?}");
    }
    assert_eq!(resp.all("content-security-policy").len(), 1);
}

/// Starts phiguard with preset `p` on a working route, a route to a closed port and the
/// 404 fallback, and checks all three kinds of response.
fn check_preset(p: &Preset) {
    let echo = Echo::start();
    let pg = PhiGuard::start(&format!(
        "fallback_headers: {name}\n\
         upstreams:\n  up: {{address: \"{up}\"}}\n  down: {{address: \"{down}\"}}\n\
         routes:\n\
         \x20 - {{name: ok, match: {{path_prefix: /ok}}, upstream: up, headers: {name}}}\n\
         \x20 - {{name: down, match: {{path_prefix: /down}}, upstream: down, headers: {name}}}\n",
        name = p.name,
        up = echo.address(),
        down = closed_address(),
    ));

    // The upstream really sends the leaky headers and a public Cache-Control.
    let direct = get(&format!("http://{}/ok/public", echo.address()));
    assert!(LEAKY.iter().all(|h| direct.header(h).is_some()));

    let ok = get(&pg.url("/ok/public"));
    assert_eq!(ok.status, 200);
    assert_preset_headers(&ok, p);
    let cache = ok.must("cache-control");
    if p.no_store {
        assert_eq!(cache, "no-store, private");
    } else {
        assert_eq!(
            cache, "public, max-age=600",
            "catalog keeps the upstream's caching"
        );
    }

    let not_found = get(&pg.url("/elsewhere"));
    assert_eq!(
        (not_found.status, not_found.body.as_str()),
        (404, "not found\n")
    );
    assert_preset_headers(&not_found, p);
    assert_eq!(not_found.header("cache-control"), Some("no-store"));

    let bad_gateway = get(&pg.url("/down/x"));
    assert_eq!(
        (bad_gateway.status, bad_gateway.body.as_str()),
        (502, "bad gateway\n")
    );
    assert_preset_headers(&bad_gateway, p);
    assert_eq!(bad_gateway.header("cache-control"), Some("no-store"));
}

#[test]
fn portal_preset() {
    check_preset(&PORTAL);
}

#[test]
fn telehealth_preset() {
    check_preset(&TELEHEALTH);
}

#[test]
fn checkout_preset() {
    check_preset(&CHECKOUT);
}

#[test]
fn catalog_preset() {
    check_preset(&CATALOG);
}

#[test]
fn catalog_adds_csp_only_when_the_upstream_sent_none() {
    let echo = Echo::start();
    let pg = PhiGuard::start(&one_upstream(
        &echo.address(),
        "  - {name: shop, upstream: up, headers: catalog}\n",
    ));
    let own_csp = get(&pg.url("/csp"));
    assert_eq!(own_csp.all("content-security-policy"), [UPSTREAM_CSP]);
    let added = get(&pg.url("/plain"));
    assert_eq!(
        added.all("content-security-policy"),
        ["object-src 'none'; base-uri 'self'; frame-ancestors 'self'"]
    );
}

const CUSTOM_PROFILES: &str = r#"
header_profiles:
  modes:
    extends: portal
    content_security_policy: {value: "default-src 'none'", mode: add_if_absent}
    cross_origin_resource_policy: same-site
    x_frame_options: {mode: off}
    extra:
      X-Permitted-Cross-Domain-Policies: none
      X-Robots-Tag: {value: noindex, mode: add_if_absent}
    remove: [Server, X-Magento-*]
  report:
    extends: portal
    csp_report_only: true
"#;

fn custom_setup() -> (Echo, PhiGuard) {
    let echo = Echo::start();
    let body = one_upstream(
        &echo.address(),
        "  - {name: modes, match: {path_prefix: /modes}, upstream: up, headers: modes}\n\
         \x20 - {name: report, match: {path_prefix: /report}, upstream: up, headers: report}\n",
    );
    (echo, PhiGuard::start(&format!("{CUSTOM_PROFILES}{body}")))
}

#[test]
fn set_replaces_and_add_if_absent_keeps_upstream_values() {
    let (_echo, pg) = custom_setup();
    // The upstream sent a CSP and `Cross-Origin-Resource-Policy: cross-origin`.
    let resp = get(&pg.url("/modes/csp"));
    assert_eq!(resp.all("content-security-policy"), [UPSTREAM_CSP]);
    assert_eq!(resp.all("cross-origin-resource-policy"), ["same-site"]);
    // The upstream sent neither: both are added.
    let resp = get(&pg.url("/modes/plain"));
    assert_eq!(resp.all("content-security-policy"), ["default-src 'none'"]);
    assert_eq!(resp.all("cross-origin-resource-policy"), ["same-site"]);
    assert_eq!(
        resp.header("x-permitted-cross-domain-policies"),
        Some("none")
    );
    assert_eq!(resp.header("x-robots-tag"), Some("noindex"));
    // `mode: off` switched the preset's X-Frame-Options off; the rest of portal stays.
    assert_eq!(resp.header("x-frame-options"), None);
    assert_eq!(resp.header("referrer-policy"), Some("no-referrer"));
    // `remove` replaced the preset's list: X-Powered-By is no longer removed.
    assert_eq!(resp.header("server"), None);
    assert_eq!(resp.header("x-magento-cache-debug"), None);
    assert_eq!(resp.header("x-powered-by"), Some("PHP/8.1.2"));
}

#[test]
fn csp_report_only_uses_the_report_only_header() {
    let (_echo, pg) = custom_setup();
    let resp = get(&pg.url("/report/plain"));
    assert_eq!(resp.header("content-security-policy"), None);
    assert_contains_all(
        &resp,
        "content-security-policy-report-only",
        &["frame-ancestors 'none'"],
    );
    // The fallback (portal) on the same proxy still enforces its CSP.
    let resp = get(&pg.url("/elsewhere"));
    assert_eq!(resp.status, 404);
    assert_eq!(resp.header("content-security-policy-report-only"), None);
    assert_contains_all(
        &resp,
        "content-security-policy",
        &["frame-ancestors 'none'"],
    );
}

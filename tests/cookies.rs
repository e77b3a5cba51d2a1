//! Cookie hardening end to end, and PHI page hygiene (`phi: true`, `clear_site_data`).

mod common;

use std::collections::BTreeMap;

use common::*;

/// A `Set-Cookie` value split into `name=value` and its attributes (lowercase names).
#[derive(Debug, PartialEq)]
struct Cookie {
    pair: String,
    attrs: BTreeMap<String, String>,
}

impl Cookie {
    fn parse(header: &str) -> Self {
        let mut parts = header.split(';').map(str::trim);
        let pair = parts.next().unwrap().to_owned();
        let attrs = parts
            .filter(|p| !p.is_empty())
            .map(|p| match p.split_once('=') {
                Some((n, v)) => (n.to_ascii_lowercase(), v.to_owned()),
                None => (p.to_ascii_lowercase(), String::new()),
            })
            .collect();
        Self { pair, attrs }
    }

    fn has(&self, attr: &str) -> bool {
        self.attrs.contains_key(attr)
    }

    fn same_site(&self) -> Option<&str> {
        self.attrs.get("samesite").map(String::as_str)
    }
}

/// The `Set-Cookie` headers of `resp`, by cookie name, checking none was lost or merged.
fn cookies(resp: &Resp) -> BTreeMap<String, Cookie> {
    let all = resp.all("set-cookie");
    assert_eq!(all.len(), UPSTREAM_COOKIES.len(), "{all:?}");
    all.iter()
        .map(|h| {
            let c = Cookie::parse(h);
            (c.pair.split('=').next().unwrap().to_owned(), c)
        })
        .collect()
}

/// Asserts `c` has `Secure`, `HttpOnly` (or not) and `SameSite=same_site`, once each, with
/// its Path kept.
fn assert_cookie(c: &Cookie, http_only: bool, same_site: &str) {
    assert!(c.has("secure"), "{c:?}");
    assert_eq!(c.has("httponly"), http_only, "{c:?}");
    assert_eq!(c.same_site(), Some(same_site), "{c:?}");
    assert_eq!(c.attrs.get("path").map(String::as_str), Some("/"), "{c:?}");
}

const ROUTES: &str = r#"
header_profiles:
  jar:
    extends: portal
    cookies:
      - {name: "_session*", secure: true, http_only: true, same_site: Strict}
      - {name: "*", secure: true, http_only: false, same_site: Lax}
upstreams:
  up: {address: "UPSTREAM"}
routes:
  - {name: logout, match: {path_prefix: /account/logout}, upstream: up, headers: catalog, phi: true, clear_site_data: [cache, cookies, storage]}
  - {name: account, match: {path_prefix: /account}, upstream: up, headers: catalog, phi: true}
  - {name: portal, match: {path_prefix: /portal}, upstream: up, headers: portal}
  - {name: jar, match: {path_prefix: /jar}, upstream: up, headers: jar}
  - {name: shop, match: {path_prefix: /}, upstream: up, headers: catalog}
"#;

fn setup() -> (Echo, PhiGuard) {
    let echo = Echo::start();
    let pg = PhiGuard::start(&ROUTES.replace("UPSTREAM", &echo.address()));
    (echo, pg)
}

#[test]
fn preset_rule_adds_missing_attributes_and_keeps_stricter_ones() {
    let (_echo, pg) = setup();
    let c = cookies(&get(&pg.url("/portal/cookies")));
    for name in ["plain", "_session_id"] {
        assert_cookie(&c[name], true, "Lax");
    }
    assert_cookie(&c["strict"], true, "Strict");
    // SameSite=None is below the floor: raised to Lax, and the old value is gone.
    assert_cookie(&c["lax_none"], true, "Lax");
    assert!(!c["lax_none"].attrs.values().any(|v| v == "None"));
    // Already hardened: passed through byte for byte.
    assert_eq!(
        get(&pg.url("/portal/cookies")).all("set-cookie")[4],
        UPSTREAM_COOKIES[4]
    );
    // Cookie values are untouched.
    assert_eq!(c["plain"].pair, "plain=1");
}

#[test]
fn per_name_rules_first_match_wins() {
    let (_echo, pg) = setup();
    let c = cookies(&get(&pg.url("/jar/cookies")));
    // `_session*` comes first: HttpOnly and Strict.
    assert_cookie(&c["_session_id"], true, "Strict");
    // Everything else falls to `*`: Secure and Lax, no HttpOnly added.
    assert_cookie(&c["plain"], false, "Lax");
    assert_cookie(&c["lax_none"], false, "Lax");
    assert_cookie(&c["strict"], false, "Strict");
    assert_cookie(&c["hardened"], true, "Strict");
}

#[test]
fn set_cookie_headers_keep_their_order() {
    let (_echo, pg) = setup();
    let names: Vec<String> = get(&pg.url("/jar/cookies"))
        .all("set-cookie")
        .iter()
        .map(|h| h.split('=').next().unwrap().to_owned())
        .collect();
    let upstream: Vec<&str> = UPSTREAM_COOKIES
        .iter()
        .map(|h| h.split('=').next().unwrap())
        .collect();
    assert_eq!(names, upstream);
}

#[test]
fn phi_routes_are_never_cached() {
    let (_echo, pg) = setup();
    // The catalog profile alone keeps the upstream's public caching...
    let shop = get(&pg.url("/shop/public"));
    assert_eq!(shop.header("cache-control"), Some("public, max-age=600"));
    // ...but `phi: true` overrides it on the same profile.
    let account = get(&pg.url("/account/public"));
    assert_eq!(account.status, 200);
    assert_eq!(account.all("cache-control"), ["no-store, private"]);
    assert_eq!(account.header("clear-site-data"), None);
}

#[test]
fn logout_clears_site_data() {
    let (echo, pg) = setup();
    let resp = get(&pg.url("/account/logout"));
    assert_eq!(resp.status, 200);
    assert_eq!(echo.last().path, "/account/logout");
    assert_eq!(
        resp.all("clear-site-data"),
        ["\"cache\", \"cookies\", \"storage\""]
    );
    assert_eq!(resp.header("cache-control"), Some("no-store, private"));
}

//! Forwarding headers: `X-Forwarded-For`, `X-Forwarded-Proto`, `X-Forwarded-Host`,
//! `X-Request-Id` and other client-address claims, believed only from trusted proxies;
//! hop-by-hop headers never forwarded; bodies intact.

mod common;

use common::*;

const CLIENT_ID: &str = "client-chosen-id.42";

fn setup(trusted_proxies: &str) -> (Echo, PhiGuard) {
    let echo = Echo::start();
    let body = one_upstream(&echo.address(), "  - {name: all, upstream: up}\n");
    let pg = PhiGuard::start(&format!("trusted_proxies: {trusted_proxies}\n{body}"));
    (echo, pg)
}

/// Client-address claims besides `X-Forwarded-For` that upstream frameworks read.
const OTHER_CLAIMS: &[(&str, &str)] = &[
    ("Forwarded", "for=6.6.6.6;proto=https"),
    ("X-Real-IP", "6.6.6.6"),
    ("X-Client-IP", "6.6.6.6"),
    ("True-Client-IP", "6.6.6.6"),
];

/// Sends a request that claims an earlier hop, a request id and https.
fn spoofing_request(pg: &PhiGuard) -> Resp {
    let mut headers = OTHER_CLAIMS.to_vec();
    headers.extend([
        ("X-Forwarded-For", "6.6.6.6"),
        ("X-Request-Id", CLIENT_ID),
        ("X-Forwarded-Proto", "https"),
        ("Host", "shop.example.com"),
    ]);
    let resp = get_with(&pg.url("/fwd"), &headers);
    assert_eq!(resp.status, 200, "{resp:?}");
    resp
}

fn is_fresh_id(id: &str) -> bool {
    id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit())
}

#[test]
fn untrusted_peer_cannot_spoof_forwarding_headers() {
    let (echo, pg) = setup("[]");
    let resp = spoofing_request(&pg);
    let seen = echo.last();
    assert_eq!(seen.headers["x-forwarded-for"], ["127.0.0.1"]);
    assert_eq!(seen.headers["x-forwarded-proto"], ["http"]);
    assert_eq!(seen.headers["x-forwarded-host"], ["shop.example.com"]);
    let id = seen.header("x-request-id").unwrap();
    assert!(is_fresh_id(id), "{id:?}");
    assert_eq!(seen.headers["x-request-id"].len(), 1);
    assert_eq!(
        resp.all("x-request-id"),
        [id],
        "the response echoes the id sent upstream"
    );
    assert_eq!(pg.log_line_for(&resp)["request_id"], id);
    for (name, _) in OTHER_CLAIMS {
        let name = name.to_ascii_lowercase();
        assert!(
            !seen.headers.contains_key(&name),
            "{name} passed on: {seen:?}"
        );
    }
}

#[test]
fn trusted_peer_chain_is_appended_and_its_request_id_kept() {
    let (echo, pg) = setup(r#"["127.0.0.1"]"#);
    let resp = spoofing_request(&pg);
    let seen = echo.last();
    assert_eq!(seen.headers["x-forwarded-for"], ["6.6.6.6, 127.0.0.1"]);
    assert_eq!(seen.headers["x-forwarded-proto"], ["https"]);
    assert_eq!(seen.headers["x-request-id"], [CLIENT_ID]);
    assert_eq!(resp.all("x-request-id"), [CLIENT_ID]);
    for (name, value) in OTHER_CLAIMS {
        assert_eq!(seen.headers[&name.to_ascii_lowercase()], [*value]);
    }

    // Even a trusted peer's request id must be well formed.
    let resp = get_with(&pg.url("/fwd"), &[("X-Request-Id", "two words")]);
    let id = echo.last().header("x-request-id").unwrap().to_owned();
    assert!(is_fresh_id(&id), "{id:?}");
    assert_eq!(resp.header("x-request-id"), Some(id.as_str()));
}

#[test]
fn plain_listener_forwards_proto_http() {
    let (echo, pg) = setup(r#"["127.0.0.1"]"#);
    get(&pg.url("/fwd"));
    assert_eq!(echo.last().headers["x-forwarded-proto"], ["http"]);
    assert_eq!(echo.last().headers["x-forwarded-for"], ["127.0.0.1"]);
}

#[test]
fn hop_by_hop_headers_do_not_reach_the_upstream() {
    let (echo, pg) = setup("[]");
    let resp = get_with(
        &pg.url("/fwd"),
        &[
            ("Connection", "X-Hop"),
            ("X-Hop", "secret-hop"),
            ("Keep-Alive", "timeout=5"),
            ("Proxy-Authorization", "Basic c2VjcmV0"),
            ("TE", "gzip"),
            ("X-Kept", "1"),
        ],
    );
    assert_eq!(resp.status, 200);
    let seen = echo.last();
    for gone in ["x-hop", "keep-alive", "proxy-authorization", "te"] {
        assert!(
            !seen.headers.contains_key(gone),
            "{gone} forwarded: {seen:?}"
        );
    }
    if let Some(connection) = seen.header("connection") {
        assert!(
            !connection.to_ascii_lowercase().contains("x-hop"),
            "{seen:?}"
        );
    }
    assert_eq!(seen.headers["x-kept"], ["1"]);
}

#[test]
fn forwarded_host_is_believed_only_from_trusted_peers() {
    // HTTP/1.0 without Host: there is no Host to overwrite the claim with.
    let head = "GET /fwd HTTP/1.0\r\nX-Forwarded-Host: evil.example";
    let (echo, pg) = setup("[]");
    assert_eq!(raw_get(pg.port, head).status, 200);
    assert_eq!(echo.last().header("x-forwarded-host"), None);

    let (echo, pg) = setup(r#"["127.0.0.1"]"#);
    assert_eq!(raw_get(pg.port, head).status, 200);
    assert_eq!(echo.last().headers["x-forwarded-host"], ["evil.example"]);
}

#[test]
fn only_websocket_upgrades_are_forwarded() {
    let (echo, pg) = setup("[]");
    // h2c smuggling: an upgraded connection would bypass every route after this request.
    let resp = get_with(
        &pg.url("/fwd"),
        &[
            ("Connection", "Upgrade, HTTP2-Settings"),
            ("Upgrade", "h2c"),
            ("HTTP2-Settings", "AAMAAABkAARAAAAAAAIAAAAA"),
        ],
    );
    assert_eq!(resp.status, 200);
    let seen = echo.last();
    for gone in ["upgrade", "http2-settings", "connection"] {
        assert!(
            !seen.headers.contains_key(gone),
            "{gone} forwarded: {seen:?}"
        );
    }

    let resp = get_with(
        &pg.url("/fwd"),
        &[
            ("Connection", "Upgrade"),
            ("Upgrade", "websocket"),
            ("Sec-WebSocket-Version", "13"),
            ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="),
        ],
    );
    assert_eq!(resp.status, 200);
    let seen = echo.last();
    assert_eq!(seen.headers["upgrade"], ["websocket"]);
    assert!(seen
        .header("connection")
        .unwrap()
        .eq_ignore_ascii_case("upgrade"));
    assert_eq!(
        seen.headers["sec-websocket-key"],
        ["dGhlIHNhbXBsZSBub25jZQ=="]
    );
}

#[test]
fn upstream_host_header_overrides_the_clients() {
    let echo = Echo::start();
    let pg = PhiGuard::start(&format!(
        "upstreams:\n\
         \x20 plain: {{address: \"{up}\"}}\n\
         \x20 named: {{address: \"{up}\", host_header: shop.internal}}\n\
         routes:\n\
         \x20 - {{name: named, match: {{path_prefix: /named}}, upstream: named}}\n\
         \x20 - {{name: plain, upstream: plain}}\n",
        up = echo.address()
    ));
    get_with(&pg.url("/plain"), &[("Host", "shop.example.com")]);
    assert_eq!(echo.last().headers["host"], ["shop.example.com"]);
    get_with(&pg.url("/named"), &[("Host", "shop.example.com")]);
    let seen = echo.last();
    assert_eq!(seen.headers["host"], ["shop.internal"]);
    assert_eq!(seen.headers["x-forwarded-host"], ["shop.example.com"]);
}

#[test]
fn bodies_pass_intact_both_ways() {
    let (echo, pg) = setup("[]");
    let sized = read(
        agent()
            .post(&pg.url("/fwd/form"))
            .send_string("hello=world"),
    )
    .unwrap();
    assert_eq!(sized.status, 200);
    assert_eq!(echo.last().body, "hello=world");

    // No Content-Length: the client sends the body chunked.
    let large = big_body(200_000);
    let chunked = read(agent().put(&pg.url("/fwd/upload")).send(large.as_bytes())).unwrap();
    assert_eq!(chunked.status, 200);
    let seen = echo.last();
    assert_eq!(
        (seen.method.as_str(), seen.body.len()),
        ("PUT", large.len())
    );
    assert!(seen.body == large, "the request body was altered");

    let len = 3_000_000;
    let resp = get(&pg.url(&format!("/fwd/big?bytes={len}")));
    assert_eq!(resp.status, 200);
    assert_eq!(resp.body.len(), len);
    assert!(resp.body == big_body(len), "the response body was altered");
    assert_eq!(
        pg.log_line_for(&resp)["bytes_sent"].as_u64(),
        Some(len as u64)
    );
}

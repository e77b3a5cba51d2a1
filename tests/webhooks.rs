//! Shopify-style webhook verification end to end: signed deliveries pass (never limited),
//! unsigned or forged ones are refused and limited hard, repeats are acknowledged once.

mod common;

use std::sync::{Arc, Mutex};

use base64::Engine;
use bytes::Bytes;
use hmac::{Hmac, Mac};
use http::{Response, StatusCode};
use http_body_util::Full;
use phiguard::serve::{respond, Handler, SimpleRequest};
use sha2::Sha256;

use common::*;

const SECRET: &str = "whsec-test-secret";

/// An upstream that records the bodies it receives.
#[derive(Clone, Default)]
struct Bodies(Arc<Mutex<Vec<Vec<u8>>>>);

impl Handler for Bodies {
    fn handle(&self, req: SimpleRequest) -> Response<Full<Bytes>> {
        self.0.lock().unwrap().push(req.body.to_vec());
        respond(
            StatusCode::OK,
            "application/json",
            Bytes::from_static(b"{\"ok\":true}"),
        )
    }
}

impl Bodies {
    fn received(&self) -> Vec<Vec<u8>> {
        self.0.lock().unwrap().clone()
    }
}

fn sign(body: &[u8]) -> String {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(body);
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

fn post(url: &str, headers: &[(&str, &str)], body: &[u8]) -> (u16, String) {
    let mut req = agent().post(url);
    for (k, v) in headers {
        req = req.set(k, v);
    }
    match req.send_bytes(body) {
        Ok(r) => (r.status(), r.into_string().unwrap()),
        Err(ureq::Error::Status(code, r)) => (code, r.into_string().unwrap()),
        Err(e) => panic!("POST {url}: {e}"),
    }
}

fn setup() -> (PhiGuard, Bodies) {
    let bodies = Bodies::default();
    let upstream = phiguard::serve::spawn(
        "webhook-upstream",
        "127.0.0.1:0".parse().unwrap(),
        bodies.clone(),
    )
    .unwrap();
    let pg = PhiGuard::start(&format!(
        "upstreams: {{shop: {{address: \"{}\"}}}}\n\
         rate_limits: {{unsigned: {{rate: 2/minute, burst: 2}}}}\n\
         routes:\n\
         \x20 - name: webhooks\n\
         \x20   match: {{path_prefix: /webhooks, methods: [POST]}}\n\
         \x20   upstream: shop\n\
         \x20   webhook: {{secret: {SECRET}, dedupe_window_secs: 60, max_body_bytes: 300000}}\n\
         \x20   rate_limits: [unsigned]\n",
        upstream.address
    ));
    (pg, bodies)
}

#[test]
fn signed_deliveries_pass_unchanged_and_are_never_rate_limited() {
    let (pg, bodies) = setup();
    let url = pg.url("/webhooks/orders");
    let mut sent = Vec::new();
    for i in 0..6 {
        let body = format!("{{\"id\":{i},\"total_price\":\"{i}0.00\"}}");
        let sig = sign(body.as_bytes());
        let id = format!("delivery-{i}");
        let (status, _) = post(
            &url,
            &[
                ("x-shopify-hmac-sha256", &sig),
                ("x-shopify-webhook-id", &id),
            ],
            body.as_bytes(),
        );
        assert_eq!(status, 200, "signed delivery {i}");
        sent.push(body.into_bytes());
    }
    assert_eq!(
        bodies.received(),
        sent,
        "six signed deliveries past a 2/minute limit, bodies intact"
    );
}

#[test]
fn a_large_signed_body_is_held_back_and_forwarded_whole() {
    let (pg, bodies) = setup();
    // Bigger than pingora's 64 KiB retry buffer, so it arrives in many chunks.
    let body: Vec<u8> = (0..200_000u32).map(|i| b'a' + (i % 26) as u8).collect();
    let sig = sign(&body);
    let (status, _) = post(
        &pg.url("/webhooks/orders"),
        &[("x-shopify-hmac-sha256", &sig)],
        &body,
    );
    assert_eq!(status, 200);
    assert_eq!(bodies.received(), vec![body]);
    // Over max_body_bytes: refused from the declared length before any body is read. (A
    // client still writing a body would see the connection close, so only the head is sent.)
    let too_big = raw_get(
        pg.port,
        "POST /webhooks/orders HTTP/1.1\r\nHost: shop\r\nX-Shopify-Hmac-Sha256: AAAA\r\nContent-Length: 300001",
    );
    assert_eq!(
        (too_big.status, too_big.body.as_str()),
        (413, "payload too large\n")
    );
    assert_eq!(bodies.received().len(), 1);
}

#[test]
fn unsigned_and_forged_deliveries_are_refused_and_limited_hard() {
    let (pg, bodies) = setup();
    let url = pg.url("/webhooks/orders");
    let body = br#"{"id":1}"#;
    let (status, text) = post(&url, &[], body);
    assert_eq!((status, text.as_str()), (401, "unauthorized\n"));
    let forged = sign(b"{\"id\":2}");
    let (status, _) = post(&url, &[("x-shopify-hmac-sha256", &forged)], body);
    assert_eq!(status, 401, "a signature over another body");
    let (status, _) = post(&url, &[], body);
    assert_eq!(
        status, 429,
        "the third bad delivery is over the 2/minute limit"
    );
    assert!(
        bodies.received().is_empty(),
        "no unverified body ever reached the upstream"
    );
    // A genuine delivery still passes.
    let (status, _) = post(&url, &[("x-shopify-hmac-sha256", &sign(body))], body);
    assert_eq!(status, 200);
    assert_eq!(bodies.received(), vec![body.to_vec()]);
}

#[test]
fn a_repeated_delivery_id_is_acknowledged_but_forwarded_once() {
    let (pg, bodies) = setup();
    let url = pg.url("/webhooks/orders");
    let body = br#"{"id":77}"#;
    let sig = sign(body);
    let headers = [
        ("x-shopify-hmac-sha256", sig.as_str()),
        ("x-shopify-webhook-id", "same-id"),
    ];
    assert_eq!(post(&url, &headers, body).0, 200);
    let (status, text) = post(&url, &headers, body);
    assert_eq!((status, text.as_str()), (200, "duplicate delivery\n"));
    assert_eq!(bodies.received().len(), 1);
}

//! Egress routes end to end: what reaches the third party carries no PHI, non-PHI fields
//! arrive byte-identical, and what cannot be scanned is refused, never forwarded.

mod common;

use common::*;

const PROFILE: &str = "redaction_profiles:\n  trackers: {action: mask}\n  strict: {action: mask, actions: {ssn: block}}\n";

fn setup() -> (Echo, PhiGuard) {
    let echo = Echo::start();
    let pg = PhiGuard::start(&format!(
        "upstreams: {{tracker: {{address: \"{}\"}}}}\n{PROFILE}\
         routes:\n\
         \x20 - {{name: ga4, match: {{path_prefix: /t/ga4}}, upstream: tracker, rewrite_prefix: /g/collect, egress: {{profile: trackers, max_body_bytes: 4096}}}}\n\
         \x20 - {{name: strict, match: {{path_prefix: /t/strict}}, upstream: tracker, egress: {{profile: strict, referer: drop, forward_cookies: true}}}}\n",
        echo.address()
    ));
    (echo, pg)
}

fn post(url: &str, content_type: &str, body: &[u8]) -> Resp {
    let req = agent().post(url).set("content-type", content_type);
    let resp = match req.send_bytes(body) {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(e) => panic!("POST {url}: {e}"),
    };
    Resp {
        status: resp.status(),
        headers: Vec::new(),
        body: resp.into_string().unwrap(),
    }
}

#[test]
fn ga4_query_beacon_arrives_masked_with_other_parameters_intact() {
    let (echo, pg) = setup();
    let resp = get_with(
        &pg.url("/t/ga4?v=2&tid=G-ABC123&cid=123456789.1700000000&en=page_view&uid=jane.doe%40example.com&ep.phone=%28555%29%20867-5309"),
        &[
            ("referer", "https://shop.example.com/account/orders?email=jane.doe@example.com"),
            ("cookie", "_ga=GA1.1.123; sid=SECRETSESSION"),
        ],
    );
    assert_eq!(resp.status, 200);
    let seen = echo.last();
    assert_eq!(seen.path, "/g/collect");
    assert!(!seen.query.contains("jane"), "{}", seen.query);
    assert!(!seen.query.contains("867"), "{}", seen.query);
    assert!(seen.query.contains("REDACTED"), "{}", seen.query);
    for kept in [
        "v=2",
        "tid=G-ABC123",
        "cid=123456789.1700000000",
        "en=page_view",
    ] {
        assert!(seen.query.contains(kept), "{kept} lost: {}", seen.query);
    }
    assert_eq!(seen.header("referer"), Some("https://shop.example.com/"));
    assert_eq!(
        seen.header("cookie"),
        None,
        "cookies never leave for a tracker by default"
    );
    let m = pg.metrics();
    assert_eq!(
        metric_value(&m, "phiguard_phi_redactions_total{action=\"mask\",destination=\"tracker\",route=\"ga4\",type=\"EMAIL\"}"),
        Some(1.0)
    );
}

#[test]
fn json_and_form_and_ndjson_bodies_are_redacted_and_stay_well_formed() {
    let (echo, pg) = setup();
    let json = br#"{"event":"Order Completed","userId":"u-42","properties":{"email":"jane.doe@example.com","total":99.5,"sku":"SKU-1"}}"#;
    assert_eq!(
        post(&pg.url("/t/ga4/json"), "application/json", json).status,
        200
    );
    let seen: serde_json::Value = serde_json::from_str(&echo.last().body).expect("still JSON");
    assert_eq!(seen["event"], "Order Completed");
    assert_eq!(seen["properties"]["total"], 99.5);
    assert_eq!(seen["properties"]["sku"], "SKU-1");
    assert!(!seen["properties"]["email"]
        .as_str()
        .unwrap()
        .contains("jane"));

    let form = b"en=purchase&ep.email=jane.doe%40example.com&value=10.00";
    assert_eq!(
        post(
            &pg.url("/t/ga4/form"),
            "application/x-www-form-urlencoded",
            form
        )
        .status,
        200
    );
    let body = echo.last().body;
    assert!(
        !body.contains("jane") && body.contains("en=purchase") && body.contains("value=10.00"),
        "{body}"
    );

    let ndjson =
        b"{\"msg\":\"login\",\"email\":\"jane.doe@example.com\"}\n{\"msg\":\"ok\",\"n\":1}\n";
    assert_eq!(
        post(&pg.url("/t/ga4/logs"), "application/x-ndjson", ndjson).status,
        200
    );
    let body = echo.last().body;
    let lines: Vec<serde_json::Value> = body
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[1], serde_json::json!({"msg": "ok", "n": 1}));
    assert!(!body.contains("jane"));
}

#[test]
fn what_cannot_be_scanned_is_refused_and_never_forwarded() {
    let (echo, pg) = setup();
    let before = echo.seen().len();
    let cases: [(&str, &str, Vec<u8>, &str); 3] = [
        (
            "application/json",
            "malformed JSON",
            b"{\"email\":\"jane.doe@example.com\"".to_vec(),
            "unscannable",
        ),
        (
            "multipart/form-data; boundary=x",
            "multipart",
            b"--x\r\n\r\njane.doe@example.com\r\n--x--".to_vec(),
            "multipart",
        ),
        (
            "text/plain",
            "over max_body_bytes",
            vec![b'a'; 5000],
            "too_large",
        ),
    ];
    for (content_type, what, body, reason) in &cases {
        let resp = if *reason == "too_large" {
            // Refused from the declared length before the body is read; a client still
            // writing would see the connection close, so only the head is sent.
            raw_get(
                pg.port,
                &format!("POST /t/ga4 HTTP/1.1\r\nHost: shop\r\nContent-Type: {content_type}\r\nContent-Length: {}", body.len()),
            )
        } else {
            post(&pg.url("/t/ga4"), content_type, body)
        };
        assert_eq!(resp.status, 451, "{what}");
        assert_eq!(
            resp.body, "blocked: this request was not forwarded\n",
            "{what}"
        );
        assert!(!resp.body.contains("jane"));
    }
    let gz = agent()
        .post(&pg.url("/t/ga4"))
        .set("content-encoding", "gzip")
        .send_bytes(b"\x1f\x8b not really gzip");
    assert!(
        matches!(gz, Err(ureq::Error::Status(451, _))),
        "unknown encodings fail closed"
    );
    assert_eq!(echo.seen().len(), before, "nothing reached the tracker");
    let m = pg.metrics();
    for (_, _, _, reason) in &cases {
        let series = format!("phiguard_egress_blocked_total{{destination=\"tracker\",reason=\"{reason}\",route=\"ga4\"}}");
        assert_eq!(metric_value(&m, &series), Some(1.0), "{series}");
    }
}

#[test]
fn a_block_action_refuses_the_whole_request() {
    let (echo, pg) = setup();
    let before = echo.seen().len();
    let resp = get(&pg.url("/t/strict?ssn=536-22-8431&x=1"));
    assert_eq!(resp.status, 451);
    assert_eq!(echo.seen().len(), before);
    // The same route forwards clean requests, with its own header policy.
    let resp = get_with(
        &pg.url("/t/strict?x=1"),
        &[("referer", "https://shop/"), ("cookie", "a=1")],
    );
    assert_eq!(resp.status, 200);
    let seen = echo.last();
    assert_eq!(seen.header("referer"), None);
    assert_eq!(seen.header("cookie"), Some("a=1"));
}

#[test]
fn a_profile_that_would_let_phi_through_is_refused_by_the_canary_self_test() {
    let echo = Echo::start();
    let weak = "redaction_profiles: {weak: {detectors: [email]}, full: {action: mask}}\n";
    let routes = |profile: &str| {
        format!(
            "upstreams: {{tracker: {{address: \"{}\"}}}}\n{weak}\
             routes: [{{name: t, upstream: tracker, egress: {{profile: {profile}}}}}]\n",
            echo.address()
        )
    };
    let pg = PhiGuard::start(&routes("full"));
    // A reload to the weak profile is refused and the full one keeps redacting.
    let head = std::fs::read_to_string(&pg.config_file).unwrap();
    let head = &head[..head.find("upstreams:").unwrap()];
    std::fs::write(&pg.config_file, format!("{head}{}", routes("weak"))).unwrap();
    let resp = request("POST", &pg.admin_url("/reload"), &[]);
    assert_eq!(resp.status, 422, "{}", resp.body);
    assert!(
        resp.body.contains("routes[0].egress.profile: \\\"weak\\\": canary self-test: PHONE in a query string came through unredacted"),
        "{}",
        resp.body
    );
    assert_eq!(get(&pg.url("/t?phone=%28555%29%20867-5309")).status, 200);
    assert!(!echo.last().query.contains("867"));
}

#[test]
fn compressed_bodies_are_decoded_scanned_and_sent_identity() {
    use std::io::Write;
    let (echo, pg) = setup();
    let batch = br#"{"batch":[{"type":"track","event":"Signed Up","properties":{"email":"jane.doe@example.com","plan":"basic"}}]}"#;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(batch).unwrap();
    let resp = agent()
        .post(&pg.url("/t/ga4/batch"))
        .set("content-type", "application/json")
        .set("content-encoding", "gzip")
        .send_bytes(&gz.finish().unwrap())
        .unwrap();
    assert_eq!(resp.status(), 200);
    let seen = echo.last();
    assert_eq!(
        seen.header("content-encoding"),
        None,
        "forwarded as identity"
    );
    let json: serde_json::Value = serde_json::from_str(&seen.body).expect("decoded JSON");
    assert_eq!(json["batch"][0]["properties"]["plan"], "basic");
    assert!(!seen.body.contains("jane"), "{}", seen.body);

    let mut br = Vec::new();
    brotli::CompressorWriter::new(&mut br, 4096, 5, 22)
        .write_all(b"en=x&uid=jane.doe%40example.com")
        .unwrap();
    let resp = agent()
        .post(&pg.url("/t/ga4/br"))
        .set("content-type", "application/x-www-form-urlencoded")
        .set("content-encoding", "br")
        .send_bytes(&br)
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert!(!echo.last().body.contains("jane"));

    // Unknown or stacked encodings and a decompression bomb fail closed.
    let before = echo.seen().len();
    for (encoding, body) in [("compress", b"x".to_vec()), ("gzip, br", b"x".to_vec())] {
        let r = agent()
            .post(&pg.url("/t/ga4"))
            .set("content-encoding", encoding)
            .send_bytes(&body);
        assert!(matches!(r, Err(ureq::Error::Status(451, _))), "{encoding}");
    }
    let mut bomb = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    bomb.write_all(&vec![b'a'; 1_000_000]).unwrap();
    let r = agent()
        .post(&pg.url("/t/ga4"))
        .set("content-encoding", "gzip")
        .send_bytes(&bomb.finish().unwrap());
    assert!(
        matches!(r, Err(ureq::Error::Status(451, _))),
        "a 1 MB body in a 1 KB gzip is over max_body_bytes"
    );
    assert_eq!(echo.seen().len(), before);
    let m = pg.metrics();
    assert_eq!(
        metric_value(&m, "phiguard_egress_blocked_total{destination=\"tracker\",reason=\"unsupported_encoding\",route=\"ga4\"}"),
        Some(2.0)
    );
}

#[test]
fn a_parameter_allowlist_forwards_only_listed_fields() {
    let echo = Echo::start();
    let pg = PhiGuard::start(&format!(
        "upstreams: {{tracker: {{address: \"{}\"}}}}\n{PROFILE}\
         routes: [{{name: meta, upstream: tracker, egress: {{profile: trackers, allow_params: [id, ev, data, event_name, custom_data, value, currency]}}}}]\n",
        echo.address()
    ));
    let resp = get(&pg.url("/tr?id=123&ev=Purchase&fn=Jane&ln=Doe&note=hello&value=10.00"));
    assert_eq!(resp.status, 200);
    assert_eq!(echo.last().query, "id=123&ev=Purchase&value=10.00");

    let capi = br#"{"data":[{"event_name":"Purchase","user_data":{"em":"abc","client_ip_address":"203.0.113.7"},"custom_data":{"value":10,"currency":"USD","content_name":"HIV test kit"}}]}"#;
    assert_eq!(
        post(&pg.url("/events"), "application/json", capi).status,
        200
    );
    let seen: serde_json::Value = serde_json::from_str(&echo.last().body).unwrap();
    assert_eq!(
        seen,
        serde_json::json!({"data":[{"event_name":"Purchase","custom_data":{"value":10,"currency":"USD"}}]})
    );
}

#[test]
fn beacons_from_health_context_pages_lose_their_url_and_title() {
    let echo = Echo::start();
    let pg = PhiGuard::start(&format!(
        "upstreams: {{tracker: {{address: \"{a}\"}}, shop: {{address: \"{a}\"}}}}\n{PROFILE}\
         routes:\n\
         \x20 - {{name: conditions, match: {{path_prefix: /conditions}}, upstream: shop, health_context: true}}\n\
         \x20 - {{name: ga4, match: {{path_prefix: /t}}, upstream: tracker, egress: {{profile: trackers}}}}\n",
        a = echo.address()
    ));
    let resp = get(&pg.url(
        "/t/collect?v=2&en=page_view&dl=https%3A%2F%2Fshop.example.com%2Fconditions%2Fhiv%2Fprep&dt=PrEP%20for%20HIV&sid=1",
    ));
    assert_eq!(resp.status, 200);
    let q = echo.last().query;
    assert_eq!(
        q,
        "v=2&en=page_view&dl=https%3A%2F%2Fshop.example.com%2Fconditions&sid=1"
    );
    // A product page keeps its URL and title.
    get(&pg.url("/t/collect?dl=https%3A%2F%2Fshop.example.com%2Fproducts%2Fsocks&dt=Socks"));
    assert!(echo.last().query.contains("products") && echo.last().query.contains("dt=Socks"));

    let segment = br#"{"event":"Viewed","context":{"page":{"url":"https://shop.example.com/conditions/diabetes/type-2","title":"Type 2 diabetes","path":"/conditions/diabetes/type-2"}}}"#;
    assert_eq!(
        post(&pg.url("/t/events"), "application/json", segment).status,
        200
    );
    let page = serde_json::from_str::<serde_json::Value>(&echo.last().body).unwrap()["context"]
        ["page"]
        .clone();
    assert_eq!(
        page,
        serde_json::json!({"url": "https://shop.example.com/conditions", "path": "/conditions"})
    );
    assert_eq!(
        pg.metric("phiguard_phi_redactions_total{action=\"generalize\",destination=\"tracker\",route=\"ga4\",type=\"HEALTH_CONTEXT\"}"),
        Some(3.0)
    );
}

/// One beacon: what it is, method, path, content type, content encoding, body, and a non-PHI
/// fragment that must arrive unchanged.
type Beacon = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    Option<&'static str>,
    Vec<u8>,
    &'static str,
);

/// Every beacon kind the field sends, each carrying PHI: the tracker gets none of it (also
/// not in encoded form), keeps its other fields, and the audit log and metrics count it.
#[test]
fn every_beacon_kind_arrives_clean_and_is_audited() {
    use std::io::Write;
    let echo = Echo::start();
    let pg = PhiGuard::start(&format!(
        "upstreams: {{tracker: {{address: \"{}\"}}}}\n{PROFILE}\
         audit: {{path: audit.jsonl}}\n\
         routes: [{{name: beacons, match: {{path_prefix: /t}}, upstream: tracker, egress: {{profile: trackers}}}}]\n",
        echo.address()
    ));
    let gzip = |body: &[u8]| {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(body).unwrap();
        gz.finish().unwrap()
    };
    let beacons: Vec<Beacon> = vec![
        ("GA4 collect (query)", "GET", "/t/g/collect?v=2&tid=G-XYZ&en=sign_up&ep.email=jane.roe%40example.com&up.phone=%2B1%20555%20867%205309", "", None, vec![], "tid=G-XYZ"),
        ("GA4 collect (POST body)", "POST", "/t/g/collect?v=2&tid=G-XYZ", "text/plain", None, b"en=purchase&ep.customer_email=jane.roe%40example.com&epn.value=42\nen=scroll&epn.percent=90".to_vec(), "epn.value=42"),
        ("Meta pixel", "GET", "/t/tr?id=987654321&ev=Lead&ud%5Bem%5D=jane.roe%40example.com&ud%5Bph%5D=15558675309&cd%5Bvalue%5D=9", "", None, vec![], "ev=Lead"),
        ("Conversions API JSON", "POST", "/t/v18.0/123/events", "application/json", None, br#"{"data":[{"event_name":"Purchase","event_time":1732456789,"user_data":{"em":["jane.roe@example.com"],"ph":["+1 555 867 5309"],"client_ip_address":"198.51.100.23"},"custom_data":{"currency":"USD","value":42.5}}]}"#.to_vec(), "\"currency\":\"USD\""),
        ("Segment batch (gzip)", "POST", "/t/v1/batch", "application/json", Some("gzip"), gzip(br#"{"batch":[{"type":"identify","userId":"u-77","traits":{"email":"jane.roe@example.com","birthday":"1984-03-07","plan":"gold"}}]}"#), "\"plan\":\"gold\""),
        ("form beacon", "POST", "/t/form", "application/x-www-form-urlencoded", None, b"event=checkout&email=jane.roe%2540example.com&sku=SKU-9".to_vec(), "sku=SKU-9"),
        ("NDJSON log shipment", "POST", "/t/logs", "application/x-ndjson", None, b"{\"level\":\"info\",\"msg\":\"login ok for jane.roe@example.com\"}\n{\"level\":\"warn\",\"msg\":\"slow db\",\"ms\":912}\n".to_vec(), "\"ms\":912"),
    ];
    for (what, method, path, content_type, encoding, body, kept) in &beacons {
        let mut req = agent().request(method, &pg.url(path));
        if !content_type.is_empty() {
            req = req.set("content-type", content_type);
        }
        if let Some(e) = encoding {
            req = req.set("content-encoding", e);
        }
        let status = if body.is_empty() {
            req.call()
        } else {
            req.send_bytes(body)
        }
        .map(|r| r.status())
        .unwrap_or_else(|e| panic!("{what}: {e}"));
        assert_eq!(status, 200, "{what}");
        let seen = echo.last();
        let received = format!("{}\n{}", seen.query, seen.body);
        for phi in [
            "jane.roe",
            "867-5309",
            "867 5309",
            "8675309",
            "1984-03-07",
            "198.51.100.23",
            "jane.roe%40",
            "jane.roe%2540",
        ] {
            assert!(
                !received.contains(phi),
                "{what}: {phi} reached the tracker:\n{received}"
            );
        }
        assert!(received.contains(kept), "{what}: lost {kept}:\n{received}");
    }
    let audit = wait_for(
        "one audit event per beacon",
        std::time::Duration::from_secs(5),
        || {
            let text =
                std::fs::read_to_string(pg.config_file.parent().unwrap().join("audit.jsonl"))
                    .ok()?;
            let ids: std::collections::BTreeSet<String> = text
                .lines()
                .map(|l| {
                    serde_json::from_str::<serde_json::Value>(l).unwrap()["request_id"]
                        .as_str()
                        .unwrap()
                        .to_owned()
                })
                .collect();
            (ids.len() >= beacons.len()).then_some(text)
        },
    );
    assert!(!audit.contains("jane.roe"));
    let counted: f64 = pg
        .metrics()
        .lines()
        .filter(|l| {
            l.starts_with("phiguard_phi_redactions_total{") && l.contains("route=\"beacons\"")
        })
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum();
    assert!(counted >= beacons.len() as f64, "{counted}");
}

#[test]
fn a_charset_the_detectors_cannot_read_is_refused() {
    let (echo, pg) = setup();
    let before = echo.seen().len();
    // "jane.doe@example.com" in UTF-16LE would slip past byte patterns.
    let utf16: Vec<u8> = "{\"email\":\"jane.doe@example.com\"}"
        .encode_utf16()
        .flat_map(|u| u.to_le_bytes())
        .collect();
    let resp = post(
        &pg.url("/t/ga4"),
        "application/json; charset=utf-16le",
        &utf16,
    );
    assert_eq!(resp.status, 451);
    assert_eq!(echo.seen().len(), before);
    let ok = post(
        &pg.url("/t/ga4"),
        "application/json; charset=UTF-8",
        b"{\"a\":1}",
    );
    assert_eq!(ok.status, 200);
    let m = pg.metrics();
    assert_eq!(
        metric_value(&m, "phiguard_egress_blocked_total{destination=\"tracker\",reason=\"charset\",route=\"ga4\"}"),
        Some(1.0)
    );
    assert!(metric_value(&m, "phiguard_egress_scanned_bytes_total{route=\"ga4\"}").unwrap() >= 7.0);
}

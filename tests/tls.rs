//! TLS termination on a listener, and TLS to an upstream (certificate verified against a
//! configured CA) using a second phiguard as the TLS server.

mod common;

use common::*;

/// A phiguard terminating TLS with `pki`'s leaf, in front of `echo`.
fn tls_front(pki: &Pki, echo: &Echo) -> PhiGuard {
    let body = one_upstream(&echo.address(), "  - {name: all, upstream: up}\n");
    PhiGuard::start_with(&body, pki.listener())
}

#[test]
fn tls_termination() {
    let pki = Pki::generate();
    let echo = Echo::start();
    let pg = tls_front(&pki, &echo);
    let client = tls_agent(&pki.ca_file);
    for url in [
        pg.url("/secure?x=1"),
        format!("https://localhost:{}/secure?x=1", pg.port),
    ] {
        let resp = send(client.get(&url)).unwrap();
        assert_eq!(resp.status, 200, "{url}");
        let seen = echo.last();
        assert_eq!(
            (seen.path.as_str(), seen.query.as_str()),
            ("/secure", "x=1")
        );
        assert_eq!(seen.headers["x-forwarded-proto"], ["https"]);
        assert!(resp.header("strict-transport-security").is_some());
    }
    // Plain HTTP on the TLS port gets no answer from the upstream.
    let before = echo.seen().len();
    let plain = try_get(&format!("http://127.0.0.1:{}/secure", pg.port));
    assert!(!matches!(plain, Ok(ref r) if r.status == 200), "{plain:?}");
    assert_eq!(echo.seen().len(), before);
    // A client that does not trust the test CA refuses the certificate.
    let other = Pki::generate();
    assert!(send(tls_agent(&other.ca_file).get(&pg.url("/secure"))).is_err());
}

/// A phiguard forwarding to `server` over TLS, trusting `ca_file`, expecting `sni`.
fn tls_client(server: &PhiGuard, ca_file: &std::path::Path, sni: &str) -> PhiGuard {
    PhiGuard::start(&format!(
        "upstreams:\n  origin: {{address: \"127.0.0.1:{port}\", tls: true, sni: {sni}, \
         ca_file: {ca:?}, connect_timeout_ms: 2000}}\n\
         routes:\n  - {{name: origin, upstream: origin, headers: portal}}\n",
        port = server.port,
        ca = ca_file.display(),
    ))
}

#[test]
fn tls_upstream_with_configured_ca() {
    let pki = Pki::generate();
    let echo = Echo::start();
    let server = tls_front(&pki, &echo);
    let pg = tls_client(&server, &pki.ca_file, "localhost");

    let resp = get(&pg.url("/over-tls?q=1"));
    assert_eq!(resp.status, 200, "{resp:?}\n{}", pg.stderr());
    let seen = echo.last();
    assert_eq!(
        (seen.path.as_str(), seen.query.as_str()),
        ("/over-tls", "q=1")
    );
    // The second phiguard received the request over TLS, with the SNI name as Host.
    assert_eq!(seen.headers["x-forwarded-proto"], ["https"]);
    assert_eq!(seen.header("host"), Some("localhost"));
    assert_eq!(pg.route_of(&resp), "origin");
}

/// Asserts that a request through `pg` to `server` fails with 502 and never arrives.
fn assert_tls_refused(pg: &PhiGuard, echo: &Echo) {
    let resp = get(&pg.url("/over-tls"));
    assert_eq!((resp.status, resp.body.as_str()), (502, "bad gateway\n"));
    assert!(resp
        .must("content-security-policy")
        .contains("frame-ancestors 'none'"));
    assert!(
        echo.seen().is_empty(),
        "the request passed an untrusted TLS hop"
    );
    assert_eq!(
        pg.metric(r#"phiguard_upstream_errors_total{kind="connect",route="origin"}"#),
        Some(1.0)
    );
}

#[test]
fn tls_upstream_with_an_untrusted_certificate_fails() {
    let pki = Pki::generate();
    let other = Pki::generate();
    let echo = Echo::start();
    let server = tls_front(&pki, &echo);
    assert_tls_refused(&tls_client(&server, &other.ca_file, "localhost"), &echo);
}

#[test]
fn tls_upstream_with_a_wrong_server_name_fails() {
    let pki = Pki::generate();
    let echo = Echo::start();
    let server = tls_front(&pki, &echo);
    assert_tls_refused(
        &tls_client(&server, &pki.ca_file, "shop.example.com"),
        &echo,
    );
}

/// Runs curl (which `scripts/test.sh` installs) with `args`: (exit code, stdout).
fn curl(args: &[&str]) -> (i32, String) {
    let out = std::process::Command::new("curl")
        .args(["-sS", "-i", "--max-time", "10"])
        .args(args)
        .output()
        .expect("curl is needed for the HTTP/2 test (scripts/test.sh installs it)");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    (out.status.code().unwrap_or(-1), stdout)
}

#[test]
fn http2_requests_are_routed_by_authority_and_forwarded() {
    let pki = Pki::generate();
    let echo = Echo::start();
    let body = one_upstream(
        &echo.address(),
        "  - {name: portal, match: {host: portal.example.com}, upstream: up, headers: portal}\n\
         \x20 - {name: shop, upstream: up, headers: catalog}\n",
    );
    let pg = PhiGuard::start_with(&body, pki.listener());
    let authority = format!("portal.example.com:{}", pg.port);
    let (code, out) = curl(&[
        "--http2",
        "--cacert",
        pki.ca_file.to_str().unwrap(),
        "--resolve",
        &format!("{authority}:127.0.0.1"),
        "-H",
        "X-Forwarded-Host: evil.example",
        &format!("https://{authority}/h2?q=1"),
    ]);
    assert_eq!(code, 0, "{out}");
    assert!(out.starts_with("HTTP/2 200"), "{out}");
    assert!(
        out.contains("x-frame-options: DENY"),
        "not the portal route: {out}"
    );
    let seen = echo.last();
    assert_eq!((seen.path.as_str(), seen.query.as_str()), ("/h2", "q=1"));
    assert_eq!(seen.headers["host"], [authority.as_str()]);
    assert_eq!(seen.headers["x-forwarded-host"], [authority.as_str()]);
    assert_eq!(seen.headers["x-forwarded-proto"], ["https"]);
}

//! A healthy TLS start logs no error: the readiness probe does not open connections that
//! a TLS listener would report as failed handshakes.

mod common;

use common::*;

#[test]
fn a_healthy_tls_start_logs_no_error() {
    let pki = Pki::generate();
    let echo = Echo::start();
    let body = one_upstream(&echo.address(), "  - {name: all, upstream: up}\n");
    let pg = PhiGuard::start_with(&body, pki.listener());
    let resp = send(tls_agent(&pki.ca_file).get(&pg.url("/x"))).unwrap();
    assert_eq!(resp.status, 200);
    std::thread::sleep(std::time::Duration::from_millis(100));
    let stderr = pg.stderr();
    assert!(!stderr.contains("ERROR"), "{stderr}");
}

//! Start-up failures are loud and quick: a public listener whose port is taken by another
//! process stops phiguard with exit 1 naming the listener, instead of a "ready" process with
//! no listener.

mod common;

use std::time::{Duration, Instant};

use common::*;

#[test]
fn readyz_stays_unready_when_the_listener_port_is_taken() {
    let squatter = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = squatter.local_addr().unwrap().port();
    let admin_port = free_port();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("phiguard.yaml");
    std::fs::write(
        &file,
        format!(
            "listeners: [{{name: public, address: \"127.0.0.1:{port}\"}}]\n\
             admin: {{address: \"127.0.0.1:{admin_port}\"}}\n\
             server: {FAST_SERVER}\n\
             upstreams: {{up: {{address: \"{}\"}}}}\n\
             routes: [{{name: all, upstream: up}}]\n",
            closed_address()
        ),
    )
    .unwrap();
    let mut p = Process::spawn(&["run", "--config", file.to_str().unwrap()]);
    let readyz = format!("http://127.0.0.1:{admin_port}/readyz");
    let deadline = Instant::now() + Duration::from_secs(3);
    while Instant::now() < deadline && p.try_status().is_none() {
        if let Ok(r) = try_get(&readyz) {
            assert_ne!(r.status, 200, "ready while another process holds the port");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let status = p.wait_exit(Duration::from_secs(5));
    assert_eq!(status.code(), Some(1));
    let stderr = p.stderr();
    assert!(
        stderr.contains(&format!(
            "listener public: cannot listen on 127.0.0.1:{port}"
        )),
        "{stderr}"
    );
    drop(squatter);
}

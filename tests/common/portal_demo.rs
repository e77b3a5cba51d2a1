//! The demo under test for the browser suite: `phiguard demo --port-base N` (proxy N, admin
//! N+1, origin N+2, sink N+3), and [`TlsFront`], the same demo config served over TLS for
//! what browsers only do on https pages (Reporting API uploads). Also used by `tests/demo.rs`.

#![allow(dead_code)] // each test file uses a different part of it

use std::net::TcpListener;
use std::time::Duration;

use serde_json::Value;

use crate::common::{free_port, get, try_get, wait_for, PhiGuard, Pki, Process, READY_TIMEOUT};

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

/// A running `phiguard demo` (killed on drop).
pub struct Demo {
    process: Process,
    base: u16,
}

impl Demo {
    /// Starts the demo and waits until it is ready, retrying when a port got taken.
    pub fn start() -> Self {
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

    /// A URL on the proxy (phiguard in front of the origin).
    pub fn proxy(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.base)
    }

    /// A URL on the admin listener.
    pub fn admin(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.base + 1)
    }

    /// A URL on the origin itself (no phiguard).
    pub fn origin(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.base + 2)
    }

    /// A URL on the tracker sink.
    pub fn sink(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.base + 3)
    }

    /// The base port (the proxy's).
    pub fn base(&self) -> u16 {
        self.base
    }

    /// Everything the demo printed on stdout so far (banner first).
    pub fn stdout(&self) -> String {
        self.process.stdout()
    }

    /// The origin's port.
    pub fn origin_port(&self) -> u16 {
        self.base + 2
    }

    /// The sink's port.
    pub fn sink_port(&self) -> u16 {
        self.base + 3
    }

    /// What the sink recorded so far.
    pub fn sink_requests(&self) -> Vec<Value> {
        let recorded = get(&self.sink("/_sink/requests")).json();
        recorded
            .as_array()
            .expect("the sink answers a JSON array")
            .clone()
    }

    /// What phiguard emitted so far: the access-log and audit lines on stdout (JSON, after
    /// the banner, whose curl examples carry synthetic PHI on purpose), then the log on
    /// stderr.
    pub fn emitted(&self) -> String {
        let stdout = self.process.stdout();
        let mut out: String = stdout
            .lines()
            .filter(|l| l.starts_with('{'))
            .flat_map(|l| [l, "\n"])
            .collect();
        out.push_str(&self.process.stderr());
        out
    }
}

/// The demo's own config (with its audit trail on stdout) on a TLS listener, in front of a
/// running [`Demo`]'s origin and sink. Chromium uploads Reporting API reports (CSP
/// `report-to`) only from https pages; this front lets the suite watch them arrive.
pub struct TlsFront {
    /// The phiguard process (`phiguard run`).
    pub phiguard: PhiGuard,
}

impl TlsFront {
    /// Starts phiguard with the embedded demo config, its upstreams pointing at `demo`, its
    /// TLS listener serving `pki`'s leaf certificate.
    pub fn start(demo: &Demo, pki: Pki) -> Self {
        let text = phiguard::demo::DEMO_CONFIG
            .replace("${ORIGIN_PORT}", &demo.origin_port().to_string())
            .replace("${SINK_PORT}", &demo.sink_port().to_string());
        let mut config: serde_yaml::Value =
            serde_yaml::from_str(&text).expect("the demo config is YAML");
        let map = config.as_mapping_mut().expect("the demo config is a map");
        // PhiGuard::start_with writes its own listener (TLS), admin and server blocks.
        for key in ["listeners", "admin", "server"] {
            map.remove(key);
        }
        let body = serde_yaml::to_string(&config).unwrap();
        let phiguard = PhiGuard::start_with(&body, pki.listener());
        Self { phiguard }
    }

    /// A URL on the TLS listener.
    pub fn url(&self, path: &str) -> String {
        self.phiguard.url(path)
    }

    /// Everything this phiguard wrote so far (stdout: access log and audit trail, then
    /// stderr).
    pub fn output(&self) -> String {
        format!(
            "{}{}",
            self.phiguard.process.stdout(),
            self.phiguard.process.stderr()
        )
    }
}

/// The Chromium switch that trusts `pki`'s leaf key and no other certificate:
/// `--ignore-certificate-errors-spki-list=<base64 SHA-256 of its SubjectPublicKeyInfo>`.
pub fn trust_switch(pki: &Pki) -> String {
    use base64::Engine as _;
    use sha2::Digest as _;
    let pem = std::fs::read_to_string(&pki.key_file).unwrap();
    let key = rcgen::KeyPair::from_pem(&pem).unwrap();
    let spki = sha2::Sha256::digest(key.public_key_der());
    format!(
        "--ignore-certificate-errors-spki-list={}",
        base64::engine::general_purpose::STANDARD.encode(spki)
    )
}

/// How long the suite waits for something the browser does in the background (a beacon, a
/// report upload).
pub const BACKGROUND_TIMEOUT: Duration = Duration::from_secs(15);

//! Shared harness for the integration tests: runs the real `phiguard` binary against real
//! upstreams on 127.0.0.1 and talks to it over HTTP(S).
//!
//! Everything is bounded: every client call has a timeout, every wait has a deadline and
//! every child process is killed when its handle drops.

#![allow(dead_code)] // each test file uses a different part of the harness

use std::collections::BTreeMap;
use std::io::Read;
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{HeaderValue, Response, StatusCode};
use http_body_util::Full;
use phiguard::serve::{respond, Handler, SimpleRequest};
use serde_json::{json, Value};

/// The binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_phiguard");

/// How long a process may take to become ready.
pub const READY_TIMEOUT: Duration = Duration::from_secs(20);

/// The `server:` block test configs use unless a test needs other timings.
pub const FAST_SERVER: &str = "{threads: 1, grace_period_secs: 1, shutdown_timeout_secs: 1}";

/// A port that was free a moment ago.
pub fn free_port() -> u16 {
    let [port] = free_ports();
    port
}

/// `N` distinct ports that were free a moment ago. Every socket is held until all
/// are picked: ports taken one after another can repeat, and a config naming one
/// port twice is refused.
pub fn free_ports<const N: usize>() -> [u16; N] {
    let held: Vec<TcpListener> = (0..N)
        .map(|_| TcpListener::bind("127.0.0.1:0").unwrap())
        .collect();
    std::array::from_fn(|i| held[i].local_addr().unwrap().port())
}

/// Polls `f` every 20 ms until it returns `Some`, or panics after `timeout` with `what`.
pub fn wait_for<T>(what: &str, timeout: Duration, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

// ---------------------------------------------------------------------------------------
// Child processes
// ---------------------------------------------------------------------------------------

/// A child process whose stdout and stderr are collected by reader threads. Killed on drop.
pub struct Process {
    child: Child,
    stdout: Arc<Mutex<Vec<u8>>>,
    stderr: Arc<Mutex<Vec<u8>>>,
    status: Option<ExitStatus>,
}

fn collect(from: impl Read + Send + 'static) -> Arc<Mutex<Vec<u8>>> {
    let buf = Arc::new(Mutex::new(Vec::new()));
    collect_into(from, buf.clone());
    buf
}

/// Appends everything `from` yields to `sink`, on a thread of its own, until end of file.
pub fn collect_into(mut from: impl Read + Send + 'static, sink: Arc<Mutex<Vec<u8>>>) {
    std::thread::spawn(move || {
        let mut chunk = [0u8; 8192];
        while let Ok(n) = from.read(&mut chunk) {
            if n == 0 {
                break;
            }
            sink.lock().unwrap().extend_from_slice(&chunk[..n]);
        }
    });
}

/// Asserts that none of `secrets` occurs in any of the named `outputs` (what the proxy
/// emitted: logs, metrics, audit trail), naming the output and showing it when one does.
pub fn assert_none_emitted(outputs: &[(&str, &str)], secrets: &[&str]) {
    for (what, text) in outputs {
        for secret in secrets {
            assert!(!text.contains(secret), "{secret} in the {what}:\n{text}");
        }
    }
}

impl Process {
    /// Starts `phiguard args...`.
    pub fn spawn(args: &[&str]) -> Self {
        let mut child = Command::new(BIN)
            .args(args)
            .env("RUST_LOG", "info,pingora=warn")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stdout = collect(child.stdout.take().unwrap());
        let stderr = collect(child.stderr.take().unwrap());
        Self {
            child,
            stdout,
            stderr,
            status: None,
        }
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Everything written to stdout so far.
    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.stdout.lock().unwrap()).into_owned()
    }

    /// Everything written to stderr so far.
    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.stderr.lock().unwrap()).into_owned()
    }

    /// The exit status, if the process has exited.
    pub fn try_status(&mut self) -> Option<ExitStatus> {
        if self.status.is_none() {
            self.status = self.child.try_wait().unwrap();
        }
        self.status
    }

    /// Waits up to `timeout` for the process to exit; panics when it does not.
    pub fn wait_exit(&mut self, timeout: Duration) -> ExitStatus {
        let status = wait_for("the process to exit", timeout, || self.try_status());
        // Let the reader threads drain the pipes.
        std::thread::sleep(Duration::from_millis(50));
        status
    }

    /// Sends `signal` (e.g. `libc::SIGTERM`) to the process.
    pub fn signal(&self, signal: i32) {
        let pid = libc::pid_t::try_from(self.pid()).unwrap();
        // SAFETY: kill(2) with a pid we spawned and have not reaped.
        assert_eq!(unsafe { libc::kill(pid, signal) }, 0);
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        if self.try_status().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Runs `phiguard args...` to completion (at most 20 s): (exit code, stdout, stderr).
pub fn run_to_exit(args: &[&str]) -> (i32, String, String) {
    let mut p = Process::spawn(args);
    let status = p.wait_exit(Duration::from_secs(20));
    (status.code().unwrap_or(-1), p.stdout(), p.stderr())
}

// ---------------------------------------------------------------------------------------
// phiguard under test
// ---------------------------------------------------------------------------------------

/// How to start a [`PhiGuard`].
#[derive(Default)]
pub struct Options {
    /// Terminate TLS on the public listener with these (cert, key) files.
    pub tls: Option<(PathBuf, PathBuf)>,
    /// The `server:` block; [`FAST_SERVER`] when `None`.
    pub server: Option<String>,
}

/// A running `phiguard run` with its own config in a temporary directory.
pub struct PhiGuard {
    /// The process (killed on drop).
    pub process: Process,
    /// The public listener.
    pub port: u16,
    /// The admin listener.
    pub admin_port: u16,
    /// Whether the public listener is TLS.
    pub tls: bool,
    /// The config file.
    pub config_file: PathBuf,
    _dir: tempfile::TempDir,
}

impl PhiGuard {
    /// Starts phiguard with `body` (upstreams, routes, profiles, ...) after a generated
    /// listener, admin and server block, and waits until `/readyz` says 200.
    pub fn start(body: &str) -> Self {
        Self::start_with(body, Options::default())
    }

    /// Like [`PhiGuard::start`], with options.
    pub fn start_with(body: &str, options: Options) -> Self {
        // Ports are picked free but could be taken in between: retry on a bind failure.
        let mut last_stderr = String::new();
        for _ in 0..3 {
            let dir = tempfile::tempdir().unwrap();
            let [port, admin_port] = free_ports();
            let tls = match &options.tls {
                Some((cert, key)) => format!(
                    ", tls: {{cert_file: {:?}, key_file: {:?}}}",
                    cert.display(),
                    key.display()
                ),
                None => String::new(),
            };
            let server = options.server.as_deref().unwrap_or(FAST_SERVER);
            let yaml = format!(
                "listeners: [{{name: public, address: \"127.0.0.1:{port}\"{tls}}}]\n\
                 admin: {{address: \"127.0.0.1:{admin_port}\"}}\n\
                 server: {server}\n{body}"
            );
            let config_file = dir.path().join("phiguard.yaml");
            std::fs::write(&config_file, yaml).unwrap();
            let mut process = Process::spawn(&["run", "--config", config_file.to_str().unwrap()]);
            let readyz = format!("http://127.0.0.1:{admin_port}/readyz");
            let deadline = Instant::now() + READY_TIMEOUT;
            // pingora retries a taken port for 30 s: give up on it at once instead.
            while Instant::now() < deadline
                && process.try_status().is_none()
                && !process.stderr().contains(" is in use")
            {
                if try_get(&readyz).is_ok_and(|r| r.status == 200) {
                    return PhiGuard {
                        process,
                        port,
                        admin_port,
                        tls: options.tls.is_some(),
                        config_file,
                        _dir: dir,
                    };
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            if process.try_status().is_none() {
                process.signal(libc::SIGKILL);
            }
            process.wait_exit(Duration::from_secs(5));
            last_stderr = process.stderr();
            if !last_stderr.contains("in use") {
                break;
            }
        }
        panic!("phiguard did not become ready; stderr:\n{last_stderr}");
    }

    /// A URL on the public listener.
    pub fn url(&self, path: &str) -> String {
        let scheme = if self.tls { "https" } else { "http" };
        format!("{scheme}://127.0.0.1:{}{path}", self.port)
    }

    /// A URL on the admin listener.
    pub fn admin_url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.admin_port)
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.process.pid()
    }

    /// The application log (stderr) so far.
    pub fn stderr(&self) -> String {
        self.process.stderr()
    }

    /// Access log lines (stdout) so far, parsed as JSON.
    pub fn access_log_lines(&self) -> Vec<Value> {
        self.process
            .stdout()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l:?}")))
            .collect()
    }

    /// Waits until the audit trail (`audit.jsonl` beside the config, as test configs name
    /// it) holds at least `n` events; returns its text and the events parsed.
    pub fn wait_audit_log(&self, n: usize) -> (String, Vec<Value>) {
        let file = self.config_file.parent().unwrap().join("audit.jsonl");
        wait_for("audit events", Duration::from_secs(5), || {
            let text = std::fs::read_to_string(&file).ok()?;
            let events: Vec<Value> = text
                .lines()
                .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l:?}")))
                .collect();
            (events.len() >= n).then_some((text, events))
        })
    }

    /// Waits until the access log holds at least `n` lines and returns them.
    pub fn wait_access_log(&self, n: usize) -> Vec<Value> {
        wait_for("access log lines", Duration::from_secs(5), || {
            let lines = self.access_log_lines();
            (lines.len() >= n).then_some(lines)
        })
    }

    /// The access log line of the request that got `resp` (matched by `X-Request-Id`).
    pub fn log_line_for(&self, resp: &Resp) -> Value {
        let id = resp.must("x-request-id");
        wait_for("the access log line", Duration::from_secs(5), || {
            self.access_log_lines()
                .into_iter()
                .find(|l| l["request_id"] == id)
        })
    }

    /// The route that answered `resp`, according to the access log.
    pub fn route_of(&self, resp: &Resp) -> String {
        self.log_line_for(resp)["route"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// The `/metrics` text as it is now.
    pub fn metrics_now(&self) -> String {
        let r = get(&self.admin_url("/metrics"));
        assert_eq!(r.status, 200);
        r.body
    }

    /// The `/metrics` text once no request is in flight. A request is counted after its
    /// response went out, so a client can see the response a moment before the metrics
    /// do; waiting for `phiguard_requests_in_flight 0` closes that gap exactly.
    pub fn metrics(&self) -> String {
        wait_for("no request in flight", Duration::from_secs(5), || {
            let text = self.metrics_now();
            (metric_value(&text, "phiguard_requests_in_flight") == Some(0.0)).then_some(text)
        })
    }

    /// The value of sample `series` (e.g. `name{a="b"}`) once no request is in flight.
    pub fn metric(&self, series: &str) -> Option<f64> {
        metric_value(&self.metrics(), series)
    }
}

/// The value of sample `series` in Prometheus text `text`.
pub fn metric_value(text: &str, series: &str) -> Option<f64> {
    text.lines().filter(|l| !l.starts_with('#')).find_map(|l| {
        l.strip_prefix(series)?
            .strip_prefix(' ')?
            .trim()
            .parse()
            .ok()
    })
}

// ---------------------------------------------------------------------------------------
// HTTP client
// ---------------------------------------------------------------------------------------

/// A response of any status.
#[derive(Debug)]
pub struct Resp {
    /// Status code.
    pub status: u16,
    /// Headers in order, names lowercase.
    pub headers: Vec<(String, String)>,
    /// Body text.
    pub body: String,
}

impl Resp {
    /// The first value of header `name`.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.all(name).into_iter().next()
    }

    /// Every value of header `name`.
    pub fn all(&self, name: &str) -> Vec<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .filter(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// The first value of header `name`, which must be present.
    pub fn must(&self, name: &str) -> &str {
        self.header(name)
            .unwrap_or_else(|| panic!("no {name} header in {:#?}", self.headers))
    }

    /// The body as JSON.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("body is not JSON ({e}): {:?}", self.body))
    }
}

fn agent_builder() -> ureq::AgentBuilder {
    ureq::AgentBuilder::new()
        .redirects(0)
        .timeout(Duration::from_secs(10))
}

/// A plain HTTP client that follows no redirects.
pub fn agent() -> ureq::Agent {
    agent_builder().build()
}

/// An HTTPS client trusting only the PEM CA in `ca_file`.
pub fn tls_agent(ca_file: &Path) -> ureq::Agent {
    agent_builder()
        .tls_config(client_tls_config(ca_file))
        .build()
}

/// A rustls client config trusting only the PEM CA in `ca_file`.
pub fn client_tls_config(ca_file: &Path) -> Arc<rustls::ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    let pem = std::fs::read(ca_file).unwrap();
    for cert in rustls_pemfile::certs(&mut pem.as_slice()) {
        roots.add(cert.unwrap()).unwrap();
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    Arc::new(config)
}

/// Sends `req`, turning any status into a [`Resp`]; transport errors are `Err`.
pub fn send(req: ureq::Request) -> Result<Resp, String> {
    read(req.call())
}

/// The outcome of a ureq call (`call`, `send_string`, ...) as a [`Resp`] of any status;
/// transport errors are `Err`.
pub fn read(result: Result<ureq::Response, ureq::Error>) -> Result<Resp, String> {
    let resp = match result {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(e) => return Err(e.to_string()),
    };
    let mut headers = Vec::new();
    let mut names = resp.headers_names();
    names.dedup();
    for name in names {
        for value in resp.all(&name) {
            headers.push((name.to_ascii_lowercase(), value.to_owned()));
        }
    }
    let status = resp.status();
    let body = resp.into_string().unwrap();
    Ok(Resp {
        status,
        headers,
        body,
    })
}

/// `GET url`, any status; `Err` on transport errors.
pub fn try_get(url: &str) -> Result<Resp, String> {
    send(agent().get(url))
}

/// `GET url`, any status.
pub fn get(url: &str) -> Resp {
    try_get(url).unwrap_or_else(|e| panic!("GET {url}: {e}"))
}

/// `GET url` with extra request headers, any status.
pub fn get_with(url: &str, headers: &[(&str, &str)]) -> Resp {
    request("GET", url, headers)
}

/// `method url` with extra request headers, any status.
pub fn request(method: &str, url: &str, headers: &[(&str, &str)]) -> Resp {
    let mut req = agent().request(method, url);
    for (name, value) in headers {
        req = req.set(name, value);
    }
    send(req).unwrap_or_else(|e| panic!("{method} {url}: {e}"))
}

/// Sends `head` (request line and headers, CRLF-separated, without the final blank line)
/// over a fresh TCP connection to 127.0.0.1:`port` exactly as written, with
/// `Connection: close`; for requests an HTTP client library would normalize.
pub fn raw_get(port: u16, head: &str) -> Resp {
    use std::io::Write;
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    write!(stream, "{head}\r\nConnection: close\r\n\r\n").unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).unwrap();
    let text = String::from_utf8_lossy(&raw);
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    Resp {
        status,
        headers,
        body: body.to_owned(),
    }
}

// ---------------------------------------------------------------------------------------
// Upstreams
// ---------------------------------------------------------------------------------------

/// What an upstream received.
#[derive(Debug, Clone)]
pub struct Seen {
    /// Method.
    pub method: String,
    /// Path.
    pub path: String,
    /// Query string ("" when none).
    pub query: String,
    /// Headers by lowercase name, every value.
    pub headers: BTreeMap<String, Vec<String>>,
    /// The body, lossily decoded.
    pub body: String,
}

impl Seen {
    /// The first value of header `name`.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(|v| v[0].as_str())
    }
}

/// The `Set-Cookie` headers the echo upstream sends on paths ending in `/cookies`.
pub const UPSTREAM_COOKIES: &[&str] = &[
    "plain=1; Path=/",
    "strict=2; Path=/; SameSite=Strict",
    "lax_none=3; Path=/; SameSite=None",
    "_session_id=4; Path=/",
    "hardened=5; Path=/; Secure; HttpOnly; SameSite=Strict",
];

/// The upstream's own CSP on paths ending in `/csp`.
pub const UPSTREAM_CSP: &str = "default-src https://upstream.example";

/// An echo upstream: answers 200 with JSON of what it received and records it. Every
/// response carries leaky headers (`Server`, `X-Powered-By`, `X-Magento-Cache-Debug`). The
/// last path segment selects extra behaviour:
///
/// - `cookies`: the [`UPSTREAM_COOKIES`] `Set-Cookie` headers
/// - `public`: `Cache-Control: public, max-age=600`
/// - `csp`: its own `Content-Security-Policy` ([`UPSTREAM_CSP`]) and
///   `Cross-Origin-Resource-Policy: cross-origin`
/// - `slow`: answers after `?ms=N` milliseconds
/// - `big`: answers `?bytes=N` bytes of text ([`big_body`]) instead of JSON
pub struct Echo {
    /// Where it listens.
    pub addr: SocketAddr,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl Echo {
    /// Starts an echo upstream on a free port.
    pub fn start() -> Self {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let handler = EchoHandler { seen: seen.clone() };
        let server =
            phiguard::serve::spawn("test-upstream", "127.0.0.1:0".parse().unwrap(), handler)
                .unwrap();
        Self {
            addr: server.address,
            seen,
        }
    }

    /// Its `host:port`.
    pub fn address(&self) -> String {
        self.addr.to_string()
    }

    /// Every request received so far.
    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    /// The last request received (panics when none).
    pub fn last(&self) -> Seen {
        self.seen().pop().expect("the upstream received no request")
    }
}

struct EchoHandler {
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl Handler for EchoHandler {
    fn handle(&self, req: SimpleRequest) -> Response<Full<Bytes>> {
        let mut headers: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (name, value) in &req.headers {
            headers
                .entry(name.as_str().to_owned())
                .or_default()
                .push(String::from_utf8_lossy(value.as_bytes()).into_owned());
        }
        let path = req.uri.path().to_owned();
        let query = req.uri.query().unwrap_or_default().to_owned();
        let seen = Seen {
            method: req.method.to_string(),
            path: path.clone(),
            query: query.clone(),
            headers: headers.clone(),
            body: String::from_utf8_lossy(&req.body).into_owned(),
        };
        self.seen.lock().unwrap().push(seen.clone());
        let number = |name: &str| {
            query
                .split('&')
                .find_map(|kv| kv.strip_prefix(name)?.strip_prefix('='))
                .and_then(|v| v.parse::<usize>().ok())
        };

        let behaviour = path.rsplit('/').next().unwrap_or_default();
        if behaviour == "slow" {
            let ms = number("ms").unwrap_or(1000) as u64;
            std::thread::sleep(Duration::from_millis(ms));
        }
        let mut resp = if behaviour == "big" {
            respond(
                StatusCode::OK,
                "text/plain",
                Bytes::from(big_body(number("bytes").unwrap_or(1 << 20))),
            )
        } else {
            let body = json!({
                "method": req.method.as_str(),
                "path": path,
                "query": query,
                "headers": headers,
                "body": seen.body,
            });
            respond(
                StatusCode::OK,
                "application/json",
                Bytes::from(body.to_string()),
            )
        };
        let h = resp.headers_mut();
        let mut add = |name: &'static str, value: &'static str| {
            h.append(name, HeaderValue::from_static(value));
        };
        add("server", "EchoServer/1.0");
        add("x-powered-by", "PHP/8.1.2");
        add("x-magento-cache-debug", "HIT");
        match behaviour {
            "cookies" => UPSTREAM_COOKIES.iter().for_each(|c| add("set-cookie", c)),
            "public" => add("cache-control", "public, max-age=600"),
            "csp" => {
                add("content-security-policy", UPSTREAM_CSP);
                add("cross-origin-resource-policy", "cross-origin");
            }
            _ => {}
        }
        resp
    }
}

/// The body the echo upstream sends on paths ending in `/big?bytes=N`.
pub fn big_body(len: usize) -> String {
    (0..len)
        .map(|i| char::from(b'a' + (i % 26) as u8))
        .collect()
}

/// A `host:port` on 127.0.0.1 where nothing listens, and nothing can start listening while
/// the test process runs: the port is held by a bound TCP socket that never listens, so
/// connections are refused (a merely "free" port could be taken by another test's server).
pub fn closed_address() -> String {
    // SAFETY: plain socket/bind/getsockname calls on a local fd with correctly sized buffers.
    unsafe {
        let fd = libc::socket(libc::AF_INET, libc::SOCK_STREAM, 0);
        assert!(fd >= 0, "socket");
        let mut addr: libc::sockaddr_in = std::mem::zeroed();
        addr.sin_family = libc::AF_INET as libc::sa_family_t;
        addr.sin_addr.s_addr = u32::from_ne_bytes([127, 0, 0, 1]);
        let len = std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t;
        assert_eq!(
            libc::bind(fd, std::ptr::addr_of!(addr).cast(), len),
            0,
            "bind"
        );
        let mut bound: libc::sockaddr_in = std::mem::zeroed();
        let mut bound_len = len;
        assert_eq!(
            libc::getsockname(fd, std::ptr::addr_of_mut!(bound).cast(), &mut bound_len),
            0,
            "getsockname"
        );
        // The fd stays open (and the port reserved) until the test process exits.
        format!("127.0.0.1:{}", u16::from_be(bound.sin_port))
    }
}

// ---------------------------------------------------------------------------------------
// TLS material
// ---------------------------------------------------------------------------------------

/// A test CA and a leaf certificate for `localhost`, `portal.example.com` and 127.0.0.1
/// signed by it, as PEM files.
pub struct Pki {
    /// The CA certificate.
    pub ca_file: PathBuf,
    /// The leaf certificate chain (leaf first).
    pub cert_file: PathBuf,
    /// The leaf's private key.
    pub key_file: PathBuf,
    _dir: tempfile::TempDir,
}

impl Pki {
    /// Generates a fresh CA and leaf.
    pub fn generate() -> Self {
        use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair, SanType};
        let dir = tempfile::tempdir().unwrap();
        let ca_key = KeyPair::generate().unwrap();
        let mut ca_params = CertificateParams::default();
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(DnType::CommonName, "phiguard test CA");
        let ca = ca_params.self_signed(&ca_key).unwrap();

        let leaf_key = KeyPair::generate().unwrap();
        let names = vec!["localhost".to_owned(), "portal.example.com".to_owned()];
        let mut leaf_params = CertificateParams::new(names).unwrap();
        leaf_params
            .subject_alt_names
            .push(SanType::IpAddress([127, 0, 0, 1].into()));
        leaf_params
            .distinguished_name
            .push(DnType::CommonName, "localhost");
        let leaf = leaf_params.signed_by(&leaf_key, &ca, &ca_key).unwrap();

        let write = |name: &str, pem: String| {
            let path = dir.path().join(name);
            std::fs::write(&path, pem).unwrap();
            path
        };
        Self {
            ca_file: write("ca.pem", ca.pem()),
            cert_file: write("tls.crt", leaf.pem()),
            key_file: write("tls.key", leaf_key.serialize_pem()),
            _dir: dir,
        }
    }

    /// Options for a TLS listener with this leaf.
    pub fn listener(&self) -> Options {
        Options {
            tls: Some((self.cert_file.clone(), self.key_file.clone())),
            server: None,
        }
    }
}

// ---------------------------------------------------------------------------------------
// Config helpers
// ---------------------------------------------------------------------------------------

/// A config body with one upstream `up` at `address` and `routes` (a YAML list body, each
/// route on its own line starting with `- `).
pub fn one_upstream(address: &str, routes: &str) -> String {
    format!("upstreams:\n  up: {{address: \"{address}\"}}\nroutes:\n{routes}")
}

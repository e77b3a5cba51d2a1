//! Headless Chromium for the browser suite: a chromedriver started per browser on a free
//! loopback port, a fresh profile in a temporary directory, and a blocking facade over the
//! `fantoccini` WebDriver client so tests read like the rest of the harness.
//!
//! Every call has a deadline; chromedriver (and with it Chromium) is stopped when the
//! [`Browser`] drops. At most [`PARALLEL_BROWSERS`] tests of a binary hold a browser at once
//! ([`browser_slot`]): the machines have two cores, and more Chromiums at once only make
//! each slower.

use std::io::Read;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use fantoccini::wd::WebDriverCompatibleCommand;
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{json, Value};

/// How long one WebDriver command (a page load, a script, a screenshot) may take.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(30);

/// How long chromedriver may take to answer `/status`.
const DRIVER_READY_TIMEOUT: Duration = Duration::from_secs(20);

/// The switches every browser starts with: headless, no sandbox (tests run as root), and
/// nothing that talks to the network on its own (the machine has none but loopback).
const CHROMIUM_ARGS: &[&str] = &[
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--window-size=1000,800",
];

/// How many browser tests of one test binary run at once.
pub const PARALLEL_BROWSERS: usize = 2;

/// Browser tests running now.
static RUNNING: (Mutex<usize>, Condvar) = (Mutex::new(0), Condvar::new());

/// A place among the [`PARALLEL_BROWSERS`] browser tests that run at once; freed on drop
/// (also when the test panics).
pub struct BrowserSlot(());

/// Waits for a free [`BrowserSlot`]; hold it for the length of the test.
pub fn browser_slot() -> BrowserSlot {
    let (count, freed) = &RUNNING;
    let mut running = count.lock().unwrap_or_else(|p| p.into_inner());
    while *running >= PARALLEL_BROWSERS {
        running = freed.wait(running).unwrap_or_else(|p| p.into_inner());
    }
    *running += 1;
    BrowserSlot(())
}

impl Drop for BrowserSlot {
    fn drop(&mut self) {
        let (count, freed) = &RUNNING;
        let mut running = count.lock().unwrap_or_else(|p| p.into_inner());
        *running -= 1;
        freed.notify_one();
    }
}

/// The first of `names` found on `PATH`.
fn on_path(names: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|dir| names.iter().map(move |n| dir.join(n)))
        .find(|p| p.is_file())
}

fn must_find(names: &[&str], package: &str) -> PathBuf {
    on_path(names).unwrap_or_else(|| {
        panic!(
            "none of {names:?} is on PATH: install Debian's `{package}` \
             (bash scripts/test.sh does it when missing)"
        )
    })
}

/// A running chromedriver, killed on drop.
struct Driver {
    child: Child,
    port: u16,
    log: Arc<Mutex<Vec<u8>>>,
}

impl Driver {
    /// Starts chromedriver on a free port and waits until it says it is ready; retries when
    /// the port got taken in between.
    fn start(binary: &Path) -> Self {
        let mut last_log = String::new();
        for _ in 0..3 {
            let port = TcpListener::bind("127.0.0.1:0")
                .unwrap()
                .local_addr()
                .unwrap()
                .port();
            let mut child = Command::new(binary)
                .arg(format!("--port={port}"))
                .arg("--allowed-ips=127.0.0.1")
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap_or_else(|e| panic!("cannot start {}: {e}", binary.display()));
            let log = Arc::new(Mutex::new(Vec::new()));
            for pipe in [
                Box::new(child.stdout.take().unwrap()) as Box<dyn Read + Send>,
                Box::new(child.stderr.take().unwrap()),
            ] {
                crate::common::collect_into(pipe, log.clone());
            }
            let mut driver = Driver { child, port, log };
            let status = format!("http://127.0.0.1:{port}/status");
            let deadline = Instant::now() + DRIVER_READY_TIMEOUT;
            while Instant::now() < deadline && driver.child.try_wait().unwrap().is_none() {
                let ready = ureq::get(&status)
                    .timeout(Duration::from_secs(2))
                    .call()
                    .ok()
                    .and_then(|r| r.into_json::<Value>().ok())
                    .is_some_and(|v| v["value"]["ready"] == true);
                if ready {
                    return driver;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            last_log = driver.log();
            drop(driver);
        }
        panic!("chromedriver did not become ready:\n{last_log}");
    }

    fn log(&self) -> String {
        String::from_utf8_lossy(&self.log.lock().unwrap()).into_owned()
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// chromedriver's `POST /session/{id}/goog/cdp/execute`: one Chrome DevTools Protocol
/// command (used for what WebDriver does not show, e.g. a cookie's declared `SameSite`).
#[derive(Debug)]
struct CdpCommand {
    cmd: String,
    params: Value,
}

impl WebDriverCompatibleCommand for CdpCommand {
    fn endpoint(
        &self,
        base_url: &url::Url,
        session_id: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        let id = session_id.unwrap_or_default();
        base_url.join(&format!("session/{id}/goog/cdp/execute"))
    }

    fn method_and_body(&self, _request_url: &url::Url) -> (http::Method, Option<String>) {
        let body = json!({"cmd": self.cmd, "params": self.params});
        (http::Method::POST, Some(body.to_string()))
    }
}

/// Headless Chromium with a fresh profile, driven through its own chromedriver.
pub struct Browser {
    runtime: tokio::runtime::Runtime,
    client: Option<Client>,
    driver: Driver,
    _profile: tempfile::TempDir,
}

impl Browser {
    /// Starts Chromium with the standard switches plus `extra_args`.
    pub fn start(extra_args: &[&str]) -> Self {
        let chromium = must_find(&["chromium", "chromium-browser"], "chromium");
        let chromedriver = must_find(&["chromedriver"], "chromium-driver");
        let driver = Driver::start(&chromedriver);
        let profile = tempfile::tempdir().unwrap();
        let mut args: Vec<String> = CHROMIUM_ARGS.iter().map(|a| (*a).to_owned()).collect();
        args.push(format!("--user-data-dir={}", profile.path().display()));
        args.extend(extra_args.iter().map(|a| (*a).to_owned()));
        let capabilities = json!({
            "browserName": "chrome",
            "pageLoadStrategy": "normal",
            "timeouts": {"pageLoad": 20_000, "script": 10_000},
            "goog:chromeOptions": {"binary": chromium, "args": args},
        });
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let url = format!("http://127.0.0.1:{}", driver.port);
        let capabilities = match capabilities {
            Value::Object(map) => map,
            _ => unreachable!(),
        };
        let connect = async {
            ClientBuilder::new(HttpConnector::new())
                .capabilities(capabilities)
                .connect(&url)
                .await
        };
        let client = match runtime
            .block_on(async { tokio::time::timeout(COMMAND_TIMEOUT, connect).await })
        {
            Ok(Ok(client)) => client,
            Ok(Err(e)) => panic!("chromedriver refused a session: {e}\n{}", driver.log()),
            Err(_) => panic!(
                "no browser session within {COMMAND_TIMEOUT:?}\n{}",
                driver.log()
            ),
        };
        Browser {
            runtime,
            client: Some(client),
            driver,
            _profile: profile,
        }
    }

    fn client(&self) -> &Client {
        self.client.as_ref().expect("the session is open")
    }

    /// Runs one WebDriver command with a deadline; panics with `what` on failure.
    fn run<T, E: std::fmt::Display>(
        &self,
        what: &str,
        command: impl std::future::Future<Output = Result<T, E>>,
    ) -> T {
        // The timer is created inside the runtime (tokio's timers need one).
        match self
            .runtime
            .block_on(async { tokio::time::timeout(COMMAND_TIMEOUT, command).await })
        {
            Ok(Ok(v)) => v,
            Ok(Err(e)) => panic!("browser: {what}: {e}\nchromedriver:\n{}", self.driver.log()),
            Err(_) => panic!(
                "browser: {what}: no answer within {COMMAND_TIMEOUT:?}\nchromedriver:\n{}",
                self.driver.log()
            ),
        }
    }

    /// Loads `url` and waits for its `load` event.
    pub fn goto(&self, url: &str) {
        self.run(&format!("load {url}"), self.client().goto(url));
    }

    /// Evaluates `script` (a function body; `return` gives the value) in the page.
    pub fn execute(&self, script: &str) -> Value {
        self.run(
            &format!("run {script:?}"),
            self.client().execute(script, Vec::new()),
        )
    }

    /// Polls `expression` in the page every 20 ms until it is truthy and returns its value;
    /// panics after `timeout` with `what` and the last value.
    pub fn wait_for(&self, what: &str, timeout: Duration, expression: &str) -> Value {
        let script = format!("return ({expression});");
        let deadline = Instant::now() + timeout;
        loop {
            let value = self.execute(&script);
            let truthy = match &value {
                Value::Null | Value::Bool(false) => false,
                Value::String(s) => !s.is_empty(),
                Value::Number(n) => n.as_f64() != Some(0.0),
                _ => true,
            };
            if truthy {
                return value;
            }
            assert!(
                Instant::now() < deadline,
                "timed out after {timeout:?} waiting for {what} (`{expression}` was {value})"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Clicks the element `css` selects.
    pub fn click(&self, css: &str) {
        let element = self.run(
            &format!("find {css}"),
            self.client().find(Locator::Css(css)),
        );
        self.run(&format!("click {css}"), element.click());
    }

    /// One Chrome DevTools Protocol command; its result.
    pub fn cdp(&self, cmd: &str, params: Value) -> Value {
        let command = CdpCommand {
            cmd: cmd.to_owned(),
            params,
        };
        self.run(&format!("CDP {cmd}"), self.client().issue_cmd(command))
    }

    /// Every cookie in the browser's cookie jar, as CDP `Network.getAllCookies` shows them
    /// (`sameSite` is absent when the cookie declared none).
    pub fn cookie_jar(&self) -> Vec<Value> {
        let all = self.cdp("Network.getAllCookies", json!({}));
        all["cookies"]
            .as_array()
            .unwrap_or_else(|| panic!("Network.getAllCookies: no cookies array: {all}"))
            .clone()
    }

    /// A PNG of the viewport.
    pub fn screenshot(&self) -> Vec<u8> {
        self.run("take a screenshot", self.client().screenshot())
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if let Some(client) = self.client.take() {
            let close =
                async { tokio::time::timeout(Duration::from_secs(10), client.close()).await };
            let _ = self.runtime.block_on(close);
        }
    }
}

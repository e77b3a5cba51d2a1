//! The JSON access log: one line per request on stdout. Lines are formatted on the request
//! path and written by a background thread, so a slow stdout never stalls a request; when
//! the queue is full, lines are dropped and counted instead.
//!
//! A line holds no query string, no cookies, no bodies and no client address.

use std::io::Write;
use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TrySendError};
use std::time::SystemTime;

use prometheus::IntCounter;
use serde::Serialize;

/// How many formatted lines may wait for the writer thread.
const QUEUE_LINES: usize = 16 * 1024;

/// One access log record. Every field is safe to log: `path` has no query string.
#[derive(Debug, Serialize)]
pub struct AccessRecord<'a> {
    /// Request id (as sent upstream in `X-Request-Id`).
    pub request_id: &'a str,
    /// Route name, or `-` when no route matched.
    pub route: &'a str,
    /// Request method.
    pub method: &'a str,
    /// Normalized request path, without query string.
    pub path: &'a str,
    /// Response status sent to the client (0 when none could be sent).
    pub status: u16,
    /// Time from request header to the end of the response, in milliseconds.
    pub duration_ms: f64,
    /// Response body bytes sent to the client.
    pub bytes_sent: usize,
    /// Upstream name, or `-` when the request was not forwarded.
    pub upstream: &'a str,
}

#[derive(Serialize)]
struct Line<'a> {
    time: String,
    #[serde(flatten)]
    record: &'a AccessRecord<'a>,
}

/// A handle that queues access log lines for the writer thread.
#[derive(Clone)]
pub struct AccessLog {
    tx: Option<SyncSender<Vec<u8>>>,
    dropped: IntCounter,
}

impl AccessLog {
    /// Starts a writer thread that writes lines to `out`. `dropped` counts lines lost to a
    /// full queue.
    pub fn spawn<W: Write + Send + 'static>(out: W, dropped: IntCounter) -> Self {
        let (tx, rx) = sync_channel::<Vec<u8>>(QUEUE_LINES);
        let spawned = std::thread::Builder::new()
            .name("access-log".into())
            .spawn(move || write_lines(rx, out));
        match spawned {
            Ok(_) => Self {
                tx: Some(tx),
                dropped,
            },
            Err(e) => {
                log::error!("access log disabled: cannot start writer thread: {e}");
                Self { tx: None, dropped }
            }
        }
    }

    /// A log that writes nothing (access log disabled in the config).
    pub fn disabled(dropped: IntCounter) -> Self {
        Self { tx: None, dropped }
    }

    /// Queues one record.
    pub fn log(&self, record: &AccessRecord<'_>) {
        let Some(tx) = &self.tx else { return };
        let line = Line {
            time: humantime::format_rfc3339_millis(SystemTime::now()).to_string(),
            record,
        };
        let mut buf = Vec::with_capacity(256);
        if serde_json::to_writer(&mut buf, &line).is_err() {
            return;
        }
        buf.push(b'\n');
        match tx.try_send(buf) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) | Err(TrySendError::Disconnected(_)) => self.dropped.inc(),
        }
    }
}

fn write_lines<W: Write>(rx: Receiver<Vec<u8>>, out: W) {
    let mut out = std::io::BufWriter::with_capacity(64 * 1024, out);
    while let Ok(line) = rx.recv() {
        let mut ok = out.write_all(&line).is_ok();
        // Drain what is already queued, then flush once.
        while let Ok(line) = rx.try_recv() {
            ok &= out.write_all(&line).is_ok();
        }
        if !ok || out.flush().is_err() {
            // stdout is gone (closed pipe); keep draining so senders never block.
            continue;
        }
    }
    let _ = out.flush();
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    #[derive(Clone, Default)]
    struct Shared(Arc<Mutex<Vec<u8>>>);
    impl Write for Shared {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn writes_one_json_line_per_record() {
        let sink = Shared::default();
        let dropped = IntCounter::new("d", "d").unwrap();
        let log = AccessLog::spawn(sink.clone(), dropped);
        log.log(&AccessRecord {
            request_id: "r1",
            route: "portal",
            method: "GET",
            path: "/a\"b",
            status: 200,
            duration_ms: 1.5,
            bytes_sent: 10,
            upstream: "shop",
        });
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        loop {
            let text = String::from_utf8(sink.0.lock().unwrap().clone()).unwrap();
            if text.ends_with('\n') {
                let v: serde_json::Value = serde_json::from_str(text.trim()).unwrap();
                assert_eq!(v["route"], "portal");
                assert_eq!(v["path"], "/a\"b");
                assert!(v["time"].as_str().unwrap().ends_with('Z'));
                break;
            }
            assert!(std::time::Instant::now() < deadline, "no line written");
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
    }
}

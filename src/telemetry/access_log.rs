//! The JSON access log: one line per request on stdout, written through a [`LineSink`].
//!
//! A line holds no cookies, no bodies and no client address; the path and the query string
//! are logged with PHI and credentials masked.

use std::io::Write;
use std::time::SystemTime;

use prometheus::IntCounter;
use serde::Serialize;

use super::lines::LineSink;

/// One access log record. Every field is safe to log: `path` has no query string.
#[derive(Debug, Serialize)]
pub struct AccessRecord<'a> {
    /// Request id (as sent upstream in `X-Request-Id`).
    pub request_id: &'a str,
    /// Route name, or `-` when no route matched.
    pub route: &'a str,
    /// Request method.
    pub method: &'a str,
    /// Normalized request path, PHI masked.
    pub path: &'a str,
    /// The query string with PHI and credentials masked (`None` when there was none).
    pub query: Option<&'a str>,
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
    sink: LineSink,
}

impl AccessLog {
    /// Starts a writer thread that writes lines to `out`. `dropped` counts lines lost to a
    /// full queue.
    pub fn spawn<W: Write + Send + 'static>(out: W, dropped: IntCounter) -> Self {
        Self {
            sink: LineSink::spawn("access-log", out, dropped),
        }
    }

    /// Queues one record.
    pub fn log(&self, record: &AccessRecord<'_>) {
        if !self.sink.is_enabled() {
            return;
        }
        let line = Line {
            time: humantime::format_rfc3339_millis(SystemTime::now()).to_string(),
            record,
        };
        let mut buf = Vec::with_capacity(256);
        if serde_json::to_writer(&mut buf, &line).is_ok() {
            buf.push(b'\n');
            self.sink.send(buf);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::telemetry::lines::test_support::MemoryWriter;

    #[test]
    fn writes_one_json_line_per_record() {
        let sink = MemoryWriter::default();
        let log = AccessLog::spawn(sink.clone(), IntCounter::new("d", "d").unwrap());
        log.log(&AccessRecord {
            request_id: "r1",
            route: "portal",
            method: "GET",
            path: "/a\"b",
            query: None,
            status: 200,
            duration_ms: 1.5,
            bytes_sent: 10,
            upstream: "shop",
        });
        let text = sink.wait_lines(1);
        let v: serde_json::Value = serde_json::from_str(text.trim()).unwrap();
        assert_eq!(v["route"], "portal");
        assert_eq!(v["path"], "/a\"b");
        assert!(v["time"].as_str().unwrap().ends_with('Z'));
    }
}

//! The audit trail: one JSON line per PHI redaction or block on an egress route, and per CSP
//! violation report received (`csp_violation`), written to its own stream. An event names the request id, route, destination, field path,
//! detector type, action and how many values, plus a keyed fingerprint (HMAC-SHA256 under
//! the audit key) so repeats correlate across events without the value. It never holds the
//! value. Optionally hash-chained: each event carries the SHA-256 of the previous line, so
//! a removed or edited line shows.

use std::sync::Mutex;
use std::time::SystemTime;

use hmac::{Hmac, Mac};
use prometheus::IntCounter;
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::lines::LineSink;

/// One audited decision.
#[derive(Debug, Serialize)]
pub struct AuditEvent<'a> {
    /// `redaction` or `block`.
    pub event: &'static str,
    /// The request id (as sent upstream and to the client).
    pub request_id: &'a str,
    /// The route.
    pub route: &'a str,
    /// The upstream the payload was for.
    pub destination: &'a str,
    /// Where: `query`, `body`, `header:NAME`, with the key path when the value sat in a field.
    pub field: &'a str,
    /// The detector type (`EMAIL`, ...), or `-` for blocks without a finding.
    #[serde(rename = "type")]
    pub phi_type: &'a str,
    /// `mask`, `drop`, `pseudonymize`, `block`.
    pub action: &'a str,
    /// How many values this event stands for.
    pub count: u32,
    /// HMAC-SHA256 of the value under the audit key (16 bytes, hex); `None` for blocks
    /// without a value.
    pub fingerprint: Option<String>,
    /// Why a request was blocked.
    pub reason: Option<&'a str>,
}

/// One CSP violation report a browser sent to phiguard's report endpoint, reduced to what
/// cannot carry PHI: the directive (from a fixed list), the blocked target reduced to an
/// origin or a keyword, and the document path and source file scrubbed by the PHI engine
/// with their query strings dropped. The script sample is never written, only its keyed
/// fingerprint.
#[derive(Debug, Serialize)]
pub struct CspViolationEvent<'a> {
    /// Always `csp_violation`.
    pub event: &'static str,
    /// The request id of the report POST.
    pub request_id: &'a str,
    /// The route whose path matches the report's document URL, `-` when none.
    pub route: &'a str,
    /// The violated directive (`script-src-elem`, ...; `other` when not on the list).
    pub directive: &'a str,
    /// The blocked target: `scheme://host[:port]`, or `inline`, `eval`, `wasm-eval`,
    /// `data`, `blob`, ...; `other` when unrecognised, `-` when absent.
    pub blocked: &'a str,
    /// The document's path, PHI masked, no query or fragment; `-` when absent.
    pub document_path: &'a str,
    /// The script's `origin/path`, PHI masked, no query or fragment; `-` when absent.
    pub source_file: &'a str,
    /// `enforce` or `report` (report-only policy); `-` when absent.
    pub disposition: &'a str,
    /// HMAC-SHA256 of the script sample under the audit key (16 bytes, hex), when the report
    /// had one: repeats correlate, the sample itself is never written.
    pub sample_fingerprint: Option<String>,
    /// How many PHI values were masked in the fields above.
    pub redacted: u32,
}

/// An event the audit log can record.
pub trait AuditRecord: Serialize + sealed::Sealed {}

impl AuditRecord for AuditEvent<'_> {}
impl AuditRecord for CspViolationEvent<'_> {}

mod sealed {
    pub trait Sealed {}
    impl Sealed for super::AuditEvent<'_> {}
    impl Sealed for super::CspViolationEvent<'_> {}
}

#[derive(Serialize)]
struct Line<'a, E: Serialize> {
    time: String,
    #[serde(flatten)]
    event: &'a E,
    #[serde(skip_serializing_if = "Option::is_none")]
    prev: Option<String>,
}

/// The audit log.
pub struct AuditLog {
    sink: LineSink,
    key: Vec<u8>,
    /// SHA-256 of the previous line, when hash-chained. Lines are queued under this lock,
    /// so the file order is the chain order.
    chain: Option<Mutex<[u8; 32]>>,
}

impl AuditLog {
    /// An audit log writing to `sink`, fingerprinting with `key`, chained when `hash_chain`.
    pub fn new(sink: LineSink, key: Vec<u8>, hash_chain: bool) -> Self {
        Self {
            sink,
            key,
            chain: hash_chain.then(|| Mutex::new([0; 32])),
        }
    }

    /// An audit log that records nothing.
    pub fn disabled(dropped: IntCounter) -> Self {
        Self::new(LineSink::disabled(dropped), Vec::new(), false)
    }

    /// Whether events are written.
    pub fn is_enabled(&self) -> bool {
        self.sink.is_enabled()
    }

    /// The keyed fingerprint of a value.
    pub fn fingerprint(&self, value: &[u8]) -> String {
        let Ok(mut mac) = <Hmac<Sha256> as Mac>::new_from_slice(&self.key) else {
            return String::new();
        };
        mac.update(value);
        mac.finalize().into_bytes()[..16]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    /// Records one event.
    pub fn record<E: AuditRecord>(&self, event: &E) {
        if !self.sink.is_enabled() {
            return;
        }
        let time = humantime::format_rfc3339_millis(SystemTime::now()).to_string();
        match &self.chain {
            None => {
                if let Some(line) = render(&Line {
                    time,
                    event,
                    prev: None,
                }) {
                    self.sink.send(line);
                }
            }
            Some(chain) => {
                let mut prev = chain.lock().unwrap_or_else(|p| p.into_inner());
                let prev_hex: String = prev.iter().map(|b| format!("{b:02x}")).collect();
                if let Some(line) = render(&Line {
                    time,
                    event,
                    prev: Some(prev_hex),
                }) {
                    *prev = Sha256::digest(&line[..line.len() - 1]).into();
                    self.sink.send(line);
                }
            }
        }
    }
}

fn render<E: Serialize>(line: &Line<'_, E>) -> Option<Vec<u8>> {
    let mut buf = Vec::with_capacity(320);
    serde_json::to_writer(&mut buf, line).ok()?;
    buf.push(b'\n');
    Some(buf)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::telemetry::lines::test_support::MemoryWriter;

    fn event<'a>(fp: &'a str) -> AuditEvent<'a> {
        AuditEvent {
            event: "redaction",
            request_id: "r1",
            route: "ga4",
            destination: "analytics",
            field: "query.uid",
            phi_type: "EMAIL",
            action: "mask",
            count: 1,
            fingerprint: Some(fp.to_owned()),
            reason: None,
        }
    }

    #[test]
    fn events_are_chained_and_never_hold_the_value() {
        let out = MemoryWriter::default();
        let log = AuditLog::new(
            LineSink::spawn(
                "audit-test",
                out.clone(),
                IntCounter::new("d", "d").unwrap(),
            ),
            b"audit-key".to_vec(),
            true,
        );
        let fp = log.fingerprint(b"jane.doe@example.com");
        assert_eq!(
            fp,
            log.fingerprint(b"jane.doe@example.com"),
            "stable per key"
        );
        assert_ne!(fp, log.fingerprint(b"john@example.com"));
        log.record(&event(&fp));
        log.record(&event(&fp));
        let text = out.wait_lines(2);
        assert!(!text.contains("jane"));
        let lines: Vec<&str> = text.lines().collect();
        let second: serde_json::Value = serde_json::from_str(lines[1]).unwrap();
        let expected: String = Sha256::digest(lines[0].as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(second["prev"], expected.as_str());
        assert_eq!(second["type"], "EMAIL");
    }
}

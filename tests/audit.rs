//! The audit trail: an event per PHI redaction or block on an egress route, keyed
//! fingerprints that correlate repeats, a hash chain, and never the value itself.

mod common;

use serde_json::Value;
use sha2::{Digest, Sha256};

use common::*;

#[test]
fn redactions_and_blocks_are_audited_without_the_values() {
    let echo = Echo::start();
    let pg = PhiGuard::start(&format!(
        "upstreams: {{tracker: {{address: \"{}\"}}}}\n\
         redaction_profiles: {{trackers: {{action: mask}}}}\n\
         audit: {{path: audit.jsonl, hash_chain: true}}\n\
         routes: [{{name: ga4, match: {{path_prefix: /t}}, upstream: tracker, egress: {{profile: trackers}}}}]\n",
        echo.address()
    ));
    for _ in 0..2 {
        let resp = get(&pg.url(
            "/t/collect?en=page_view&uid=jane.doe%40example.com&ep.alt=jane.doe%40example.com",
        ));
        assert_eq!(resp.status, 200);
    }
    let other = get(&pg.url("/t/collect?uid=john.roe%40example.org"));
    assert_eq!(other.status, 200);
    let refused = agent()
        .post(&pg.url("/t/collect"))
        .set("content-type", "application/json")
        .send_string("{\"email\": \"jane.doe@example.com\"");
    assert!(matches!(refused, Err(ureq::Error::Status(451, _))));

    let (text, events) = pg.wait_audit_log(6);
    assert_none_emitted(
        &[("audit log", &text)],
        &["jane.doe", "john.roe", "example.com", "example.org"],
    );
    let redactions: Vec<&Value> = events
        .iter()
        .filter(|e| e["event"] == "redaction")
        .collect();
    assert!(redactions
        .iter()
        .all(|e| e["type"] == "EMAIL" && e["action"] == "mask" && e["route"] == "ga4"));
    assert!(redactions.iter().all(|e| e["destination"] == "tracker"));
    assert!(redactions
        .iter()
        .all(|e| e["field"].as_str().unwrap().starts_with("query")));
    // The same value gets the same fingerprint in every event; another value another.
    let jane: Vec<&str> = redactions[..4]
        .iter()
        .map(|e| e["fingerprint"].as_str().unwrap())
        .collect();
    assert!(
        jane.iter().all(|f| *f == jane[0] && f.len() == 32),
        "{jane:?}"
    );
    assert_ne!(redactions[4]["fingerprint"], jane[0]);
    let block = events
        .iter()
        .find(|e| e["event"] == "block")
        .expect("a block event");
    assert_eq!(block["reason"], "unscannable");
    assert!(block["request_id"].as_str().unwrap().len() == 32);

    // Each line carries the SHA-256 of the previous one.
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(events[0]["prev"], "0".repeat(64));
    for (i, e) in events.iter().enumerate().skip(1) {
        let expected: String = Sha256::digest(lines[i - 1].as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(e["prev"], expected.as_str(), "chain broken at line {i}");
    }
}

//! The tracker sink: stands in for a third-party tracker and vendor. It records every request
//! it receives (the last 1,000) and shows them as JSON at `GET /_sink/requests`;
//! `DELETE /_sink/requests` forgets them. It also serves the demo portal's third-party
//! "chat vendor" script at `GET /vendor.js` (recorded too, as a vendor sees it).

use std::collections::{BTreeMap, VecDeque};
use std::sync::Mutex;

use bytes::Bytes;
use http::{Method, Response, StatusCode};
use http_body_util::Full;
use serde::Serialize;

use crate::serve::{respond, text, Handler, SimpleRequest};

const KEEP: usize = 1000;

/// The chat vendor's script: it marks that it ran (and could read the page it runs in).
const VENDOR_JS: &[u8] = b"// Demo chat vendor (synthetic): runs with full access to the page.\n\
window.chatVendorRan = true;\n";

/// One recorded request.
#[derive(Debug, Clone, Serialize)]
pub struct Recorded {
    /// Method.
    pub method: String,
    /// Path.
    pub path: String,
    /// Query string ("" when none).
    pub query: String,
    /// Headers by lowercase name; repeated headers joined with ", " (values lossily decoded).
    pub headers: BTreeMap<String, String>,
    /// Body, lossily decoded as UTF-8.
    pub body: String,
}

/// The tracker sink's request handler.
#[derive(Debug, Default)]
pub struct TrackerSink {
    recorded: Mutex<VecDeque<Recorded>>,
}

impl Handler for TrackerSink {
    fn handle(&self, req: SimpleRequest) -> Response<Full<Bytes>> {
        let mut recorded = match self.recorded.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        match (&req.method, req.uri.path()) {
            (&Method::GET, "/_sink/requests") => {
                let all: Vec<&Recorded> = recorded.iter().collect();
                match serde_json::to_vec(&all) {
                    Ok(body) => respond(StatusCode::OK, "application/json", Bytes::from(body)),
                    Err(_) => text(StatusCode::INTERNAL_SERVER_ERROR, "cannot render\n"),
                }
            }
            (&Method::DELETE, "/_sink/requests") => {
                recorded.clear();
                text(StatusCode::OK, "cleared\n")
            }
            _ => {
                if recorded.len() == KEEP {
                    recorded.pop_front();
                }
                recorded.push_back(Recorded {
                    method: req.method.to_string(),
                    path: req.uri.path().to_owned(),
                    query: req.uri.query().unwrap_or_default().to_owned(),
                    headers: header_map(&req.headers),
                    body: String::from_utf8_lossy(&req.body).into_owned(),
                });
                if req.method == Method::GET && req.uri.path() == "/vendor.js" {
                    return respond(
                        StatusCode::OK,
                        "text/javascript; charset=utf-8",
                        Bytes::from_static(VENDOR_JS),
                    );
                }
                respond(
                    StatusCode::OK,
                    "application/json",
                    Bytes::from_static(b"{\"recorded\":true}\n"),
                )
            }
        }
    }
}

fn header_map(headers: &http::HeaderMap) -> BTreeMap<String, String> {
    let mut out: BTreeMap<String, String> = BTreeMap::new();
    for (name, value) in headers {
        let value = String::from_utf8_lossy(value.as_bytes());
        out.entry(name.as_str().to_owned())
            .and_modify(|v| {
                v.push_str(", ");
                v.push_str(&value);
            })
            .or_insert_with(|| value.into_owned());
    }
    out
}

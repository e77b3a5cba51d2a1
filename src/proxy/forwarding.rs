//! What the proxy learns from a request once (host, normalized path, client address, request
//! id) and how it prepares the upstream request: path rewrite, `Host`, forwarding headers and
//! hop-by-hop header removal (RFC 9110 7.6.1).

use std::net::IpAddr;

use http::header::{HeaderName, CONNECTION, HOST, TE, TRAILER, UPGRADE};
use http::Uri;
use pingora::http::{RequestHeader, ResponseHeader};
use pingora::prelude::*;
use pingora::proxy::Session;
use pingora::ErrorType;

use crate::policy::routes::{host_without_port, normalize_path, rewrite};
use crate::policy::{Policy, Route};

static X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");
static X_FORWARDED_PROTO: HeaderName = HeaderName::from_static("x-forwarded-proto");
static X_FORWARDED_HOST: HeaderName = HeaderName::from_static("x-forwarded-host");
static X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

// The names the upstream request gets, as pingora's `insert_header` wants them: a
// `&'static str` is kept as the header's wire case without a copy, while a `HeaderName` is
// copied into a new buffer on every insert (pingora title-cases only a dozen standard names).
const X_FORWARDED_FOR_WIRE: &str = "X-Forwarded-For";
const X_FORWARDED_PROTO_WIRE: &str = "X-Forwarded-Proto";
const X_FORWARDED_HOST_WIRE: &str = "X-Forwarded-Host";
const X_REQUEST_ID_WIRE: &str = "X-Request-Id";

/// Other client-address claims that upstream frameworks read; only a trusted proxy's are
/// passed on.
const OTHER_ADDRESS_CLAIMS: &[&str] = &["forwarded", "x-real-ip", "x-client-ip", "true-client-ip"];

/// Hop-by-hop headers that are never forwarded, besides those named in `Connection`.
/// `Transfer-Encoding` is left to pingora, which re-frames bodies itself.
const HOP_BY_HOP: &[&str] = &[
    "keep-alive",
    "proxy-connection",
    "proxy-authorization",
    "proxy-authenticate",
];

/// Facts about a request, read once in `request_filter`.
#[derive(Debug)]
pub struct RequestFacts {
    /// Lowercase host without port, from `Host` or the absolute URI.
    pub host: Option<String>,
    /// Normalized path, no query string.
    pub path: String,
    /// The client address, as decided by `trusted_proxies`.
    pub client_ip: Option<IpAddr>,
    /// Whether the direct peer is a trusted proxy.
    pub peer_trusted: bool,
    /// The request id sent upstream and back to the client.
    pub request_id: String,
    /// `http` or `https`, as seen by the first proxy.
    pub proto: &'static str,
    /// The listener the request arrived on (index into the policy's listeners).
    pub listener: Option<usize>,
}

impl RequestFacts {
    /// Reads the facts of the request in `session` under `policy`.
    pub fn read(session: &Session, policy: &Policy) -> Self {
        let req = session.req_header();
        let host = req
            .headers
            .get(HOST)
            .and_then(|h| h.to_str().ok())
            .or_else(|| req.uri.host())
            .map(|h| host_without_port(h).into_owned());
        let path = normalize_path(req.uri.path()).into_owned();
        let peer = session
            .client_addr()
            .and_then(|a| a.as_inet())
            .map(|a| a.ip());
        let peer_trusted = peer.is_some_and(|ip| policy.trusted_proxies.contains(ip));
        let client_ip = peer.map(|ip| {
            policy
                .trusted_proxies
                .client_ip(ip, joined_xff(req).as_deref())
        });
        let request_id = req
            .headers
            .get(&X_REQUEST_ID)
            .and_then(|v| v.to_str().ok())
            .filter(|v| peer_trusted && valid_request_id(v))
            .map_or_else(new_request_id, str::to_owned);
        let tls = session.digest().is_some_and(|d| d.ssl_digest.is_some());
        let forwarded_proto = req
            .headers
            .get(&X_FORWARDED_PROTO)
            .and_then(|v| v.to_str().ok())
            .filter(|_| peer_trusted);
        let proto = match forwarded_proto {
            Some(p) if p.eq_ignore_ascii_case("https") => "https",
            Some(p) if p.eq_ignore_ascii_case("http") => "http",
            _ if tls => "https",
            _ => "http",
        };
        let listener = policy.listener_at(session.server_addr().and_then(|a| a.as_inet()).copied());
        Self {
            host,
            path,
            client_ip,
            peer_trusted,
            request_id,
            proto,
            listener,
        }
    }
}

fn joined_xff(req: &RequestHeader) -> Option<String> {
    let mut values = req
        .headers
        .get_all(&X_FORWARDED_FOR)
        .iter()
        .filter_map(|v| v.to_str().ok());
    let first = values.next()?;
    let mut out = first.to_owned();
    for v in values {
        out.push(',');
        out.push_str(v);
    }
    Some(out)
}

fn valid_request_id(v: &str) -> bool {
    (1..=128).contains(&v.len())
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b))
}

/// 128 random bits as 32 lowercase hex digits, written without the formatting machinery.
fn new_request_id() -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut bits = rand::random::<u128>();
    let mut id = [0u8; 32];
    for digit in id.iter_mut().rev() {
        *digit = HEX[(bits & 0xf) as usize];
        bits >>= 4;
    }
    id.iter().map(|&b| char::from(b)).collect()
}

/// Rewrites the upstream request for `route`: normalized (and rewritten) path, `Host`,
/// forwarding headers, no hop-by-hop headers.
pub fn prepare_upstream_request(
    session: &Session,
    upstream_request: &mut RequestHeader,
    route: &Route,
    facts: &RequestFacts,
) -> Result<()> {
    let new_path = match (&route.rewrite_prefix, route.matcher.path_prefix()) {
        (Some(replacement), Some(prefix)) => Some(rewrite(&facts.path, prefix, replacement)),
        _ if facts.path != upstream_request.uri.path() => Some(facts.path.clone()),
        _ => None,
    };
    if let Some(path) = new_path {
        let path_and_query = match upstream_request.uri.query() {
            Some(q) => format!("{path}?{q}"),
            None => path,
        };
        let uri: Uri = path_and_query.parse().or_err(
            ErrorType::InvalidHTTPHeader,
            "rewritten path is not a valid URI",
        )?;
        upstream_request.set_uri(uri);
    }

    remove_hop_by_hop(upstream_request);

    // HTTP/2 requests carry the host as the `:authority` of the URI, not in a Host header.
    let client_req = session.req_header();
    let original_host = client_req.headers.get(HOST).cloned().or_else(|| {
        client_req
            .uri
            .authority()
            .and_then(|a| http::HeaderValue::from_str(a.as_str()).ok())
    });
    if let Some(host) = &route.upstream.host_header {
        upstream_request.insert_header(HOST, host.clone())?;
    }
    if !facts.peer_trusted {
        // Only a trusted proxy may say what the original host was, also when the request
        // has no Host header (HTTP/1.0) to replace the claim with, or who the client is.
        upstream_request.remove_header(&X_FORWARDED_HOST);
        for name in OTHER_ADDRESS_CLAIMS {
            upstream_request.remove_header(*name);
        }
    }
    if upstream_request.headers.get(&X_FORWARDED_HOST).is_none() {
        if let Some(h) = original_host {
            upstream_request.insert_header(X_FORWARDED_HOST_WIRE, h)?;
        }
    }

    let peer = session
        .client_addr()
        .and_then(|a| a.as_inet())
        .map(|a| a.ip());
    let xff = match (facts.peer_trusted, joined_xff(session.req_header()), peer) {
        (true, Some(chain), Some(peer)) => format!("{chain}, {peer}"),
        (_, _, Some(peer)) => peer.to_string(),
        (_, _, None) => String::new(),
    };
    upstream_request.remove_header(&X_FORWARDED_FOR);
    if !xff.is_empty() {
        upstream_request.insert_header(X_FORWARDED_FOR_WIRE, xff)?;
    }
    upstream_request.insert_header(X_FORWARDED_PROTO_WIRE, facts.proto)?;
    upstream_request.insert_header(X_REQUEST_ID_WIRE, facts.request_id.as_str())?;
    Ok(())
}

/// Removes hop-by-hop headers from a request, keeping a WebSocket/`Upgrade` handshake intact.
fn remove_hop_by_hop(req: &mut RequestHeader) {
    let upgrading = req.headers.contains_key(UPGRADE);
    for name in connection_tokens(&req.headers) {
        if upgrading && name == UPGRADE {
            continue;
        }
        req.remove_header(&name);
    }
    for name in HOP_BY_HOP {
        req.remove_header(*name);
    }
    // `TE: trailers` is the only TE value a proxy may pass on.
    let te_trailers_only = req
        .headers
        .get(TE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("trailers"));
    if !te_trailers_only {
        req.remove_header(&TE);
    }
    req.remove_header(&TRAILER);
    if !upgrading {
        req.remove_header(&CONNECTION);
    }
}

/// Removes hop-by-hop headers from an upstream response.
pub fn strip_hop_by_hop(resp: &mut ResponseHeader) {
    if resp.status.as_u16() == 101 {
        return;
    }
    for name in connection_tokens(&resp.headers) {
        resp.remove_header(&name);
    }
    for name in HOP_BY_HOP {
        resp.remove_header(*name);
    }
}

/// Header names listed in `Connection` (other than `close`/`keep-alive`, which pingora
/// manages itself).
fn connection_tokens(headers: &http::HeaderMap) -> Vec<HeaderName> {
    headers
        .get_all(CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|t| !t.eq_ignore_ascii_case("close") && !t.eq_ignore_ascii_case("keep-alive"))
        .filter_map(|t| HeaderName::from_bytes(t.as_bytes()).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids_are_checked() {
        assert!(valid_request_id("abc-123_x.y:z"));
        assert!(!valid_request_id(""));
        assert!(!valid_request_id("a b"));
        assert!(!valid_request_id(&"a".repeat(129)));
        let id = new_request_id();
        assert_eq!(id.len(), 32);
        assert_ne!(id, new_request_id());
    }

    #[test]
    fn hop_by_hop_headers_are_removed() {
        let mut req = RequestHeader::build("GET", b"/", None).unwrap();
        req.insert_header("Connection", "keep-alive, X-Secret-Hop")
            .unwrap();
        req.insert_header("X-Secret-Hop", "1").unwrap();
        req.insert_header("Keep-Alive", "timeout=5").unwrap();
        req.insert_header("TE", "gzip").unwrap();
        req.insert_header("X-Kept", "1").unwrap();
        remove_hop_by_hop(&mut req);
        for gone in ["connection", "x-secret-hop", "keep-alive", "te"] {
            assert!(!req.headers.contains_key(gone), "{gone} kept");
        }
        assert!(req.headers.contains_key("x-kept"));
    }
}

//! What the proxy learns from a request once (host, normalized path, client address, request
//! id) and how it prepares the upstream request: path rewrite, `Host`, forwarding headers and
//! hop-by-hop header removal (RFC 9110 7.6.1).

use std::net::IpAddr;

use http::header::{HeaderMap, HeaderName, HeaderValue, CONNECTION, HOST, TE, TRAILER, UPGRADE};
use http::{StatusCode, Uri};
use pingora::http::RequestHeader;
use pingora::prelude::*;
use pingora::proxy::Session;
use pingora::ErrorType;

use super::header_edit;
use crate::policy::routes::{host_without_port, normalize_path, rewrite};
use crate::policy::{Policy, Route};

static X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");
static X_FORWARDED_PROTO: HeaderName = HeaderName::from_static("x-forwarded-proto");
static X_FORWARDED_HOST: HeaderName = HeaderName::from_static("x-forwarded-host");
/// The request id header, sent upstream and back to the client.
pub(super) static X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Other client-address claims that upstream frameworks read; only a trusted proxy's are
/// passed on. (Names, not strings: removing by a string parses it on every call.)
static OTHER_ADDRESS_CLAIMS: [HeaderName; 4] = [
    HeaderName::from_static("forwarded"),
    HeaderName::from_static("x-real-ip"),
    HeaderName::from_static("x-client-ip"),
    HeaderName::from_static("true-client-ip"),
];

/// Hop-by-hop headers that are never forwarded, besides those named in `Connection`.
/// `Transfer-Encoding` is left to pingora, which re-frames bodies itself.
static HOP_BY_HOP: [HeaderName; 4] = [
    HeaderName::from_static("keep-alive"),
    HeaderName::from_static("proxy-connection"),
    HeaderName::from_static("proxy-authorization"),
    HeaderName::from_static("proxy-authenticate"),
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
    /// The same id as a header value, built once for the upstream request and the response
    /// (ids are checked or generated as ASCII, so it is always there).
    pub request_id_header: Option<HeaderValue>,
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
        let request_id_header = HeaderValue::from_str(&request_id).ok();
        Self {
            host,
            path,
            client_ip,
            peer_trusted,
            request_id,
            request_id_header,
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
    // Hex digits are ASCII, so this never falls back.
    std::str::from_utf8(&id)
        .map(str::to_owned)
        .unwrap_or_default()
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

    // HTTP/2 requests carry the host as the `:authority` of the URI, not in a Host header.
    let client_req = session.req_header();
    let original_host = client_req.headers.get(HOST).cloned().or_else(|| {
        client_req
            .uri
            .authority()
            .and_then(|a| http::HeaderValue::from_str(a.as_str()).ok())
    });
    let peer = session
        .client_addr()
        .and_then(|a| a.as_inet())
        .map(|a| a.ip());
    // A trusted proxy's chain is extended; anyone else's claim is replaced.
    let forwarded_for = peer.and_then(|peer| {
        let mut xff = match joined_xff(client_req).filter(|_| facts.peer_trusted) {
            Some(mut chain) => {
                chain.push_str(", ");
                chain
            }
            None => String::with_capacity(15),
        };
        push_ip(&mut xff, peer);
        HeaderValue::from_str(&xff).ok()
    });
    let request_id = facts
        .request_id_header
        .clone()
        .or_err(ErrorType::InternalError, "request id is not a header value")?;

    header_edit::request_headers(upstream_request, |headers| {
        remove_hop_by_hop(headers);
        if let Some(host) = &route.upstream.host_header {
            headers.insert(HOST, host.clone());
        }
        if !facts.peer_trusted {
            // Only a trusted proxy may say what the original host was, also when the
            // request has no Host header (HTTP/1.0) to replace the claim with, or who the
            // client is.
            headers.remove(&X_FORWARDED_HOST);
            for name in &OTHER_ADDRESS_CLAIMS {
                headers.remove(name);
            }
        }
        if !headers.contains_key(&X_FORWARDED_HOST) {
            if let Some(h) = original_host {
                headers.insert(X_FORWARDED_HOST.clone(), h);
            }
        }
        headers.remove(&X_FORWARDED_FOR);
        if let Some(xff) = forwarded_for {
            headers.insert(X_FORWARDED_FOR.clone(), xff);
        }
        headers.insert(
            X_FORWARDED_PROTO.clone(),
            HeaderValue::from_static(facts.proto),
        );
        headers.insert(X_REQUEST_ID.clone(), request_id);
    })
}

/// Appends `ip` in its usual text form; IPv4 (every request from a client) without the
/// formatting machinery.
fn push_ip(out: &mut String, ip: IpAddr) {
    match ip {
        IpAddr::V4(v4) => {
            for (i, octet) in v4.octets().into_iter().enumerate() {
                if i > 0 {
                    out.push('.');
                }
                if octet >= 100 {
                    out.push(char::from(b'0' + octet / 100));
                }
                if octet >= 10 {
                    out.push(char::from(b'0' + octet / 10 % 10));
                }
                out.push(char::from(b'0' + octet % 10));
            }
        }
        IpAddr::V6(v6) => {
            use std::fmt::Write;
            let _ = write!(out, "{v6}");
        }
    }
}

/// Removes hop-by-hop headers from a request, keeping a WebSocket/`Upgrade` handshake intact.
fn remove_hop_by_hop(headers: &mut HeaderMap) {
    let upgrading = headers.contains_key(UPGRADE);
    for name in connection_tokens(headers) {
        if upgrading && name == UPGRADE {
            continue;
        }
        headers.remove(&name);
    }
    for name in &HOP_BY_HOP {
        headers.remove(name);
    }
    // `TE: trailers` is the only TE value a proxy may pass on.
    let te_trailers_only = headers
        .get(TE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("trailers"));
    if !te_trailers_only {
        headers.remove(TE);
    }
    headers.remove(TRAILER);
    if !upgrading {
        headers.remove(CONNECTION);
    }
}

/// Removes hop-by-hop headers from an upstream response (`status`, `headers`).
pub fn strip_hop_by_hop(status: StatusCode, headers: &mut HeaderMap) {
    if status == StatusCode::SWITCHING_PROTOCOLS {
        return;
    }
    for name in connection_tokens(headers) {
        headers.remove(&name);
    }
    for name in &HOP_BY_HOP {
        headers.remove(name);
    }
}

/// Header names listed in `Connection` (other than `close`/`keep-alive`, which pingora
/// manages itself).
fn connection_tokens(headers: &HeaderMap) -> Vec<HeaderName> {
    if !headers.contains_key(CONNECTION) {
        return Vec::new();
    }
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
    fn addresses_are_written_like_display() {
        for ip in [
            "0.0.0.0",
            "9.10.99.100",
            "127.0.0.1",
            "255.255.255.255",
            "203.0.113.7",
            "::1",
            "2001:db8::8a2e:370:7334",
            "::ffff:192.0.2.1",
        ] {
            let ip: IpAddr = ip.parse().unwrap();
            let mut out = String::from("x ");
            push_ip(&mut out, ip);
            assert_eq!(out, format!("x {ip}"));
        }
    }

    #[test]
    fn hop_by_hop_headers_are_removed() {
        let mut headers: HeaderMap = [
            ("connection", "keep-alive, X-Secret-Hop"),
            ("x-secret-hop", "1"),
            ("keep-alive", "timeout=5"),
            ("te", "gzip"),
            ("x-kept", "1"),
        ]
        .into_iter()
        .map(|(n, v)| (HeaderName::from_static(n), HeaderValue::from_static(v)))
        .collect();
        remove_hop_by_hop(&mut headers);
        for gone in ["connection", "x-secret-hop", "keep-alive", "te"] {
            assert!(!headers.contains_key(gone), "{gone} kept");
        }
        assert!(headers.contains_key("x-kept"));
    }
}

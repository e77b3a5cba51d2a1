//! Rate-limit keys: which parts of a request identify a client or a resource.

use std::net::IpAddr;

use http::header::{HeaderName, COOKIE};
use http::HeaderMap;

/// One part of a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyPart {
    /// The client address as decided by `trusted_proxies`.
    ClientIp,
    /// A request header's value.
    Header(HeaderName),
    /// A cookie's value.
    Cookie(String),
    /// The Nth (1-based) segment of the normalized path.
    PathSegment(usize),
    /// A query parameter's raw value.
    Query(String),
}

impl KeyPart {
    /// Parses `client_ip`, `header:NAME`, `cookie:NAME`, `path_segment:N`, `query:NAME`.
    pub fn parse(spec: &str) -> Result<KeyPart, String> {
        let (kind, arg) = spec.split_once(':').unwrap_or((spec, ""));
        let need_arg = || format!("{spec:?}: `{kind}:` needs a name after the colon");
        match kind {
            "client_ip" if arg.is_empty() => Ok(KeyPart::ClientIp),
            "header" if !arg.is_empty() => HeaderName::from_bytes(arg.as_bytes())
                .map(KeyPart::Header)
                .map_err(|_| format!("{arg:?} is not a header name")),
            "cookie" if !arg.is_empty() => Ok(KeyPart::Cookie(arg.to_owned())),
            "query" if !arg.is_empty() => Ok(KeyPart::Query(arg.to_owned())),
            "path_segment" => match arg.parse::<usize>() {
                Ok(n) if n >= 1 => Ok(KeyPart::PathSegment(n)),
                _ => Err(format!("{spec:?}: path_segment needs a number from 1")),
            },
            "header" | "cookie" | "query" => Err(need_arg()),
            _ => Err(format!(
                "{spec:?} is not one of client_ip, header:NAME, cookie:NAME, path_segment:N, query:NAME"
            )),
        }
    }
}

/// The parts of a request keys are taken from.
#[derive(Debug, Clone, Copy)]
pub struct RequestView<'a> {
    headers: &'a HeaderMap,
    path: &'a str,
    query: Option<&'a str>,
    client_ip: Option<IpAddr>,
}

impl<'a> RequestView<'a> {
    /// A view of a request: its headers, normalized path, raw query and client address.
    pub fn new(
        headers: &'a HeaderMap,
        path: &'a str,
        query: Option<&'a str>,
        client_ip: Option<IpAddr>,
    ) -> Self {
        Self {
            headers,
            path,
            query,
            client_ip,
        }
    }
}

/// Appends the key for `parts` to `out`. When a part is missing, the client IP is added, so
/// requests without a session cookie do not all share one bucket.
pub fn render(parts: &[KeyPart], req: &RequestView<'_>, out: &mut Vec<u8>) {
    let mut missing = false;
    for part in parts {
        if !render_one(part, req, out) {
            missing = true;
        }
        out.push(0x1f);
    }
    if missing && !parts.contains(&KeyPart::ClientIp) {
        render_one(&KeyPart::ClientIp, req, out);
    }
}

/// Appends one part's value; false when the request does not have it.
pub fn render_one(part: &KeyPart, req: &RequestView<'_>, out: &mut Vec<u8>) -> bool {
    let value: Option<&[u8]> = match part {
        KeyPart::ClientIp => {
            return match req.client_ip {
                Some(IpAddr::V4(ip)) => {
                    out.extend_from_slice(&ip.octets());
                    true
                }
                Some(IpAddr::V6(ip)) => {
                    out.extend_from_slice(&ip.octets());
                    true
                }
                None => false,
            }
        }
        KeyPart::Header(name) => req.headers.get(name).map(|v| v.as_bytes()),
        KeyPart::Cookie(name) => cookie(req.headers, name),
        KeyPart::PathSegment(n) => req
            .path
            .split('/')
            .nth(*n)
            .filter(|s| !s.is_empty())
            .map(str::as_bytes),
        KeyPart::Query(name) => query_param(req.query, name),
    };
    match value {
        Some(v) => {
            out.extend_from_slice(v);
            true
        }
        None => false,
    }
}

fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a [u8]> {
    headers
        .get_all(COOKIE)
        .iter()
        .flat_map(|v| v.as_bytes().split(|&b| b == b';'))
        .find_map(|pair| {
            let pair = pair.trim_ascii();
            let eq = pair.iter().position(|&b| b == b'=')?;
            (pair[..eq].trim_ascii() == name.as_bytes()).then(|| pair[eq + 1..].trim_ascii())
        })
}

fn query_param<'a>(query: Option<&'a str>, name: &str) -> Option<&'a [u8]> {
    query?.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        (k == name && !v.is_empty()).then_some(v.as_bytes())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rendered(spec: &[&str], headers: &HeaderMap, path: &str, query: Option<&str>) -> Vec<u8> {
        let parts: Vec<KeyPart> = spec.iter().map(|s| KeyPart::parse(s).unwrap()).collect();
        let mut out = Vec::new();
        render(
            &parts,
            &RequestView::new(headers, path, query, Some("10.1.2.3".parse().unwrap())),
            &mut out,
        );
        out
    }

    #[test]
    fn parts_are_extracted() {
        let mut h = HeaderMap::new();
        h.insert("x-api-key", "k1".parse().unwrap());
        h.insert(COOKIE, "a=1; _session_id=s9; b=2".parse().unwrap());
        assert_eq!(rendered(&["header:x-api-key"], &h, "/", None), b"k1\x1f");
        assert_eq!(rendered(&["cookie:_session_id"], &h, "/", None), b"s9\x1f");
        assert_eq!(
            rendered(&["path_segment:3"], &h, "/apps/appointments/1001", None),
            b"1001\x1f"
        );
        assert_eq!(
            rendered(&["query:id"], &h, "/", Some("x=1&id=77")),
            b"77\x1f"
        );
        assert_eq!(rendered(&["client_ip"], &h, "/", None), [10, 1, 2, 3, 0x1f]);
    }

    #[test]
    fn a_missing_part_falls_back_to_the_client_ip() {
        let h = HeaderMap::new();
        assert_eq!(
            rendered(&["cookie:sid"], &h, "/", None),
            [0x1f, 10, 1, 2, 3]
        );
    }

    #[test]
    fn bad_specs_are_explained() {
        assert!(KeyPart::parse("header:")
            .unwrap_err()
            .contains("needs a name"));
        assert!(KeyPart::parse("path_segment:0").is_err());
        assert!(KeyPart::parse("ip").unwrap_err().contains("not one of"));
    }
}

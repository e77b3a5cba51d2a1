//! Route matching and path handling. Paths are normalized before matching (percent-encoded
//! unreserved characters decoded, `//` collapsed, dot segments removed) and the normalized
//! path is what goes upstream, so `/apps/%61ppointments` or `/x/../apps//appointments` cannot
//! slip past a route that a rate limit or redaction profile is attached to.

use std::borrow::Cow;

use http::Method;

use crate::config::{ConfigIssue, MatchConfig};

/// The compiled match part of a route.
#[derive(Debug, Clone, Default)]
pub struct RouteMatch {
    host: Option<HostPattern>,
    path_prefix: Option<String>,
    methods: Vec<Method>,
}

#[derive(Debug, Clone)]
enum HostPattern {
    Exact(String),
    /// `*.example.com` stored as `.example.com`.
    Suffix(String),
}

impl RouteMatch {
    /// Compiles `config`, reporting problems under `key` (e.g. `routes[2].match`).
    pub fn compile(config: &MatchConfig, key: &str, issues: &mut Vec<ConfigIssue>) -> Self {
        let host = config.host.as_ref().map(|h| {
            let h = h.to_ascii_lowercase();
            if h.is_empty() || h.contains(['/', ' ', ':']) {
                issues.push(ConfigIssue::new(
                    format!("{key}.host"),
                    "host must be a name like shop.example.com or *.example.com, without port",
                ));
            }
            match h.strip_prefix('*') {
                Some(suffix) if suffix.starts_with('.') => HostPattern::Suffix(suffix.to_owned()),
                _ => HostPattern::Exact(h),
            }
        });
        let path_prefix = config.path_prefix.as_ref().map(|p| {
            if !p.starts_with('/') {
                issues.push(ConfigIssue::new(
                    format!("{key}.path_prefix"),
                    "must start with '/'",
                ));
            } else if normalize_path(p) != p.as_str() {
                issues.push(ConfigIssue::new(
                    format!("{key}.path_prefix"),
                    format!(
                        "not a normalized path (it would never match); use {:?}",
                        normalize_path(p)
                    ),
                ));
            }
            p.clone()
        });
        let mut methods = Vec::with_capacity(config.methods.len());
        for (i, m) in config.methods.iter().enumerate() {
            match Method::from_bytes(m.to_ascii_uppercase().as_bytes()) {
                Ok(method) => methods.push(method),
                Err(_) => issues.push(ConfigIssue::new(
                    format!("{key}.methods[{i}]"),
                    "invalid method",
                )),
            }
        }
        Self {
            host,
            path_prefix,
            methods,
        }
    }

    /// Whether a request with this (port-less, lowercase) host, normalized path and method
    /// matches.
    pub fn matches(&self, host: Option<&str>, path: &str, method: &Method) -> bool {
        if !self.methods.is_empty() && !self.methods.contains(method) {
            return false;
        }
        if let Some(pattern) = &self.host {
            let Some(host) = host else { return false };
            let ok = match pattern {
                HostPattern::Exact(h) => host == h,
                HostPattern::Suffix(s) => host.len() > s.len() && host.ends_with(s.as_str()),
            };
            if !ok {
                return false;
            }
        }
        match &self.path_prefix {
            Some(prefix) => prefix_matches(prefix, path),
            None => true,
        }
    }

    /// The matched path prefix, if the route has one.
    pub fn path_prefix(&self) -> Option<&str> {
        self.path_prefix.as_deref()
    }
}

/// Whole-segment prefix match: `/apps` matches `/apps`, `/apps/` and `/apps/x`, not `/appsx`.
fn prefix_matches(prefix: &str, path: &str) -> bool {
    match path.strip_prefix(prefix) {
        Some(rest) => rest.is_empty() || prefix.ends_with('/') || rest.starts_with('/'),
        None => false,
    }
}

/// Replaces `prefix` at the start of `path` with `replacement`.
pub fn rewrite(path: &str, prefix: &str, replacement: &str) -> String {
    let rest = path.strip_prefix(prefix).unwrap_or(path);
    let mut out = String::with_capacity(replacement.len() + rest.len() + 1);
    out.push_str(replacement);
    if out.ends_with('/') && rest.starts_with('/') {
        out.pop();
    }
    if !out.ends_with('/') && !rest.is_empty() && !rest.starts_with('/') {
        out.push('/');
    }
    out.push_str(rest);
    if out.is_empty() {
        out.push('/');
    }
    out
}

/// The lowercase host of a `Host` header value, without port and without the trailing dot
/// of a fully qualified name (`portal.example.com.` is the same site as
/// `portal.example.com` and must get the same route).
pub fn host_without_port(host: &str) -> Cow<'_, str> {
    let host = if let Some(rest) = host.strip_prefix('[') {
        rest.split(']').next().unwrap_or(rest)
    } else {
        host.rsplit_once(':').map_or(host, |(h, _)| h)
    };
    let host = host.strip_suffix('.').unwrap_or(host);
    if host.bytes().any(|b| b.is_ascii_uppercase()) {
        Cow::Owned(host.to_ascii_lowercase())
    } else {
        Cow::Borrowed(host)
    }
}

/// Normalizes a path (no query): decodes percent-encoded unreserved characters, collapses
/// repeated slashes and removes `.` and `..` segments. Borrowed when already normal.
pub fn normalize_path(path: &str) -> Cow<'_, str> {
    if !path.starts_with('/') {
        return Cow::Borrowed(path);
    }
    let needs_work =
        path.contains('%') || path.contains("//") || path.contains("/.") || path.ends_with("/..");
    if !needs_work {
        return Cow::Borrowed(path);
    }
    let decoded = decode_unreserved(path);
    let mut segments: Vec<&str> = Vec::new();
    for segment in decoded.split('/').skip(1) {
        match segment {
            "" | "." => {}
            ".." => {
                segments.pop();
            }
            s => segments.push(s),
        }
    }
    let trailing = decoded.ends_with('/') || decoded.ends_with("/.") || decoded.ends_with("/..");
    let mut out = String::with_capacity(decoded.len());
    for s in &segments {
        out.push('/');
        out.push_str(s);
    }
    if trailing || out.is_empty() {
        out.push('/');
    }
    if out == path {
        Cow::Borrowed(path)
    } else {
        Cow::Owned(out)
    }
}

/// Decodes `%XX` only where XX is an unreserved character (RFC 3986 2.3); other escapes are
/// kept with uppercase hex so that `%2f` and `%2F` compare equal.
fn decode_unreserved(path: &str) -> String {
    let bytes = path.as_bytes();
    let mut out = String::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                let c = h * 16 + l;
                if c.is_ascii_alphanumeric() || matches!(c, b'-' | b'.' | b'_' | b'~') {
                    out.push(c as char);
                } else {
                    out.push('%');
                    out.push(bytes[i + 1].to_ascii_uppercase() as char);
                    out.push(bytes[i + 2].to_ascii_uppercase() as char);
                }
                i += 3;
                continue;
            }
        }
        // `path` is a &str, so pushing its chars byte-wise is safe only for ASCII; copy the
        // whole UTF-8 sequence otherwise.
        let ch_len = utf8_len(bytes[i]);
        out.push_str(&path[i..(i + ch_len).min(bytes.len())]);
        i += ch_len;
    }
    out
}

fn utf8_len(first: u8) -> usize {
    match first {
        0x00..=0x7f => 1,
        0xc0..=0xdf => 2,
        0xe0..=0xef => 3,
        _ => 4,
    }
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(host: Option<&str>, prefix: Option<&str>, methods: &[&str]) -> RouteMatch {
        let cfg = MatchConfig {
            host: host.map(str::to_owned),
            path_prefix: prefix.map(str::to_owned),
            methods: methods.iter().map(|s| s.to_string()).collect(),
            listener: None,
        };
        let mut issues = Vec::new();
        let r = RouteMatch::compile(&cfg, "routes[0].match", &mut issues);
        assert!(issues.is_empty(), "{issues:?}");
        r
    }

    #[test]
    fn prefix_is_segment_aware() {
        let r = m(None, Some("/apps/appointments"), &[]);
        assert!(r.matches(None, "/apps/appointments", &Method::GET));
        assert!(r.matches(None, "/apps/appointments/17", &Method::GET));
        assert!(!r.matches(None, "/apps/appointmentsX", &Method::GET));
        assert!(m(None, Some("/t/"), &[]).matches(None, "/t/x", &Method::GET));
    }

    #[test]
    fn host_and_method() {
        let r = m(Some("*.Example.com"), None, &["post"]);
        assert!(r.matches(Some("a.example.com"), "/", &Method::POST));
        assert!(!r.matches(Some("example.com"), "/", &Method::POST));
        assert!(!r.matches(Some("a.example.com"), "/", &Method::GET));
        assert!(!r.matches(None, "/", &Method::POST));
        assert_eq!(
            host_without_port("Shop.Example.com:8443"),
            "shop.example.com"
        );
        assert_eq!(host_without_port("[::1]:80"), "::1");
        assert_eq!(
            host_without_port("Portal.Example.com.:443"),
            "portal.example.com"
        );
        assert_eq!(host_without_port("a.example.com."), "a.example.com");
    }

    #[test]
    fn normalization_defeats_bypasses() {
        assert_eq!(
            normalize_path("/apps/%61ppointments/1"),
            "/apps/appointments/1"
        );
        assert_eq!(
            normalize_path("/x/../apps//appointments/"),
            "/apps/appointments/"
        );
        assert_eq!(normalize_path("/a/./b/.."), "/a/");
        assert_eq!(normalize_path("/../.."), "/");
        assert_eq!(normalize_path("/a%2fb"), "/a%2Fb");
        assert_eq!(normalize_path("/caf%C3%A9"), "/caf%C3%A9");
        assert_eq!(normalize_path("/ok/path"), "/ok/path");
        assert!(matches!(normalize_path("/ok/path"), Cow::Borrowed(_)));
        assert_eq!(normalize_path("/%"), "/%");
        assert_eq!(normalize_path("/%4"), "/%4");
    }

    #[test]
    fn rewrite_keeps_the_rest() {
        assert_eq!(rewrite("/t/ga4/g/collect", "/t/ga4", "/"), "/g/collect");
        assert_eq!(rewrite("/t/ga4", "/t/ga4", "/g/collect"), "/g/collect");
        assert_eq!(rewrite("/t/ga4/x", "/t/ga4", "/g/collect"), "/g/collect/x");
        assert_eq!(rewrite("/api/v1", "/api/", "/v2"), "/v2/v1");
    }

    #[test]
    fn bad_match_config_is_reported() {
        let cfg = MatchConfig {
            host: Some("a.com:80".into()),
            path_prefix: Some("apps".into()),
            methods: vec!["GE T".into()],
            listener: None,
        };
        let mut issues = Vec::new();
        RouteMatch::compile(&cfg, "routes[1].match", &mut issues);
        let keys: Vec<_> = issues.iter().map(|i| i.key.as_str()).collect();
        assert_eq!(
            keys,
            [
                "routes[1].match.host",
                "routes[1].match.path_prefix",
                "routes[1].match.methods[0]"
            ]
        );
    }
}

//! The CSP violation report endpoint (`csp_reports`): POSTs to its path on public listeners
//! are answered by phiguard itself, before route matching, and never forwarded.
//!
//! Accepted: `application/csp-report` (`{"csp-report": {...}}`, sent for `report-uri`),
//! `application/reports+json` (the Reporting API: an array of `{type, url, body}`; only
//! `csp-violation` entries count) and `application/json` (either shape). Answers: 204 when
//! accepted; 400 for bad JSON or a wrong shape; 405 for other methods; 413 over
//! `max_body_bytes`; 415 for other content types; 429 when a `rate_limits` rule refuses.
//!
//! Each violation is reduced to PHI-free facts ([`Violation`]) before anything is written:
//! the directive from a fixed list, the blocked target as an origin or keyword, the document
//! path and source file with their queries dropped and PHI masked by the engine, and only a
//! keyed fingerprint of the script sample.

use std::borrow::Cow;

use bytes::BytesMut;
use http::header::{CONTENT_LENGTH, CONTENT_TYPE};
use http::Method;
use phiguard_engine::Profile;
use serde::Deserialize;

use pingora::proxy::Session;

use super::own_response::{self, OwnResponse};
use super::RequestCtx;
use crate::policy::routes::{host_without_port, normalize_path};
use crate::policy::{CspReports, Policy};
use crate::ratelimit::{self, DecisionKey};
use crate::telemetry::CspViolationEvent;

/// The `directive` label values; anything else counts as `other`.
pub use crate::telemetry::metrics::CSP_DIRECTIVES as DIRECTIVES;

/// Why a report was refused (the `reason` label).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rejection {
    /// Not JSON, or not a report's shape: 400.
    BadJson,
    /// Over `max_body_bytes`: 413.
    TooLarge,
    /// A content type that is not a report's: 415.
    ContentType,
    /// Not a POST: 405.
    Method,
}

impl Rejection {
    /// The label value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::BadJson => "bad_json",
            Self::TooLarge => "too_large",
            Self::ContentType => "content_type",
            Self::Method => "method",
        }
    }

    /// The answer sent.
    fn answer(self) -> OwnResponse {
        match self {
            Self::BadJson => OwnResponse::Status(400),
            Self::TooLarge => OwnResponse::PayloadTooLarge,
            Self::ContentType => OwnResponse::UnsupportedMediaType,
            Self::Method => OwnResponse::MethodNotAllowed,
        }
    }
}

/// Checks what can be checked from the request head: method, content type, declared length.
pub fn check_head(
    req: &pingora::http::RequestHeader,
    max_body_bytes: usize,
) -> Result<(), Rejection> {
    if req.method != Method::POST {
        return Err(Rejection::Method);
    }
    let mime = req
        .headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        });
    match mime.as_deref() {
        Some("application/csp-report" | "application/reports+json" | "application/json") => {}
        _ => return Err(Rejection::ContentType),
    }
    let declared = req
        .headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<usize>().ok());
    if declared.is_some_and(|len| len > max_body_bytes) {
        return Err(Rejection::TooLarge);
    }
    Ok(())
}

/// Appends a body chunk, refusing once the body passes `max_body_bytes`.
pub fn collect(buf: &mut BytesMut, chunk: &[u8], max_body_bytes: usize) -> Result<(), Rejection> {
    if buf.len() + chunk.len() > max_body_bytes {
        return Err(Rejection::TooLarge);
    }
    buf.extend_from_slice(chunk);
    Ok(())
}

/// The fields of a violation both formats carry (names of `report-uri` bodies, then of the
/// Reporting API). Unknown fields are ignored; every field may be absent.
#[derive(Debug, Default, Deserialize)]
struct RawViolation<'a> {
    #[serde(borrow, alias = "document-uri", alias = "documentURL", default)]
    document: Option<Cow<'a, str>>,
    #[serde(borrow, alias = "blocked-uri", alias = "blockedURL", default)]
    blocked: Option<Cow<'a, str>>,
    #[serde(
        borrow,
        alias = "effective-directive",
        alias = "effectiveDirective",
        default
    )]
    effective_directive: Option<Cow<'a, str>>,
    #[serde(borrow, rename = "violated-directive", default)]
    violated_directive: Option<Cow<'a, str>>,
    #[serde(borrow, alias = "source-file", alias = "sourceFile", default)]
    source_file: Option<Cow<'a, str>>,
    #[serde(borrow, alias = "script-sample", alias = "sample", default)]
    sample: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    disposition: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct ReportUriBody<'a> {
    #[serde(borrow, rename = "csp-report")]
    report: RawViolation<'a>,
}

#[derive(Deserialize)]
struct ReportingApiEntry<'a> {
    #[serde(borrow, rename = "type")]
    kind: Cow<'a, str>,
    #[serde(borrow, default)]
    body: Option<RawViolation<'a>>,
}

/// A report body, told apart by its first byte: an untagged enum would not do, as serde
/// reads a struct from a sequence too (a one-entry Reporting API array would parse as an
/// empty `report-uri` body).
enum Body<'a> {
    ReportingApi(Vec<ReportingApiEntry<'a>>),
    ReportUri(ReportUriBody<'a>),
}

impl<'a> Body<'a> {
    fn parse(body: &'a [u8]) -> Result<Self, Rejection> {
        let first = body.iter().find(|b| !b.is_ascii_whitespace());
        let parsed = match first {
            Some(b'[') => serde_json::from_slice(body).map(Body::ReportingApi),
            Some(b'{') => serde_json::from_slice(body).map(Body::ReportUri),
            _ => return Err(Rejection::BadJson),
        };
        parsed.map_err(|_| Rejection::BadJson)
    }
}

/// A violation reduced to what may be written and counted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// Index of the route whose path matches the document URL.
    pub route: Option<usize>,
    /// One of [`DIRECTIVES`].
    pub directive: &'static str,
    /// `scheme://host[:port]` or a keyword (`inline`, `eval`, ...), `other` or `-`.
    pub blocked: String,
    /// The document path, PHI masked, no query; `-` when absent.
    pub document_path: String,
    /// The source file as `origin/path`, PHI masked, no query; `-` when absent.
    pub source_file: String,
    /// `enforce`, `report` or `-`.
    pub disposition: &'static str,
    /// The script sample, kept only to be fingerprinted (never written).
    pub sample: Option<String>,
    /// PHI values masked in the fields above.
    pub redacted: u32,
}

/// Parses a report body into violations. Reporting API entries of other types are skipped.
pub fn parse(
    body: &[u8],
    policy: &Policy,
    scrubber: &Profile,
) -> Result<Vec<Violation>, Rejection> {
    let parsed = Body::parse(body)?;
    let raws: Vec<RawViolation<'_>> = match parsed {
        Body::ReportUri(b) => vec![b.report],
        Body::ReportingApi(entries) => entries
            .into_iter()
            .filter(|e| e.kind == "csp-violation")
            .map(|e| e.body.unwrap_or_default())
            .collect(),
    };
    Ok(raws
        .iter()
        .map(|raw| reduce(raw, policy, scrubber))
        .collect())
}

fn reduce(raw: &RawViolation<'_>, policy: &Policy, scrubber: &Profile) -> Violation {
    let mut redacted = 0;
    let directive = directive(
        raw.effective_directive
            .as_deref()
            .or(raw.violated_directive.as_deref()),
    );
    let blocked = raw.blocked.as_deref().map_or_else(
        || "-".to_owned(),
        |b| blocked_target(b, scrubber, &mut redacted),
    );
    let (route, document_path) = match raw.document.as_deref().and_then(split_url) {
        Some(url) => {
            let path = normalize_path(url.path);
            let host = host_without_port(url.host);
            let route = policy.route_index(None, Some(host.as_ref()), &path, &Method::GET);
            (route, scrub(&path, scrubber, &mut redacted))
        }
        None => (None, "-".to_owned()),
    };
    let source_file = match raw.source_file.as_deref().and_then(split_url) {
        Some(url) => {
            let origin = scrub(&url.origin(), scrubber, &mut redacted);
            let path = scrub(&normalize_path(url.path), scrubber, &mut redacted);
            format!("{origin}{path}")
        }
        None => "-".to_owned(),
    };
    let disposition = match raw.disposition.as_deref() {
        Some("enforce") => "enforce",
        Some("report") => "report",
        _ => "-",
    };
    Violation {
        route,
        directive,
        blocked,
        document_path,
        source_file,
        disposition,
        sample: raw
            .sample
            .as_deref()
            .filter(|s| !s.is_empty())
            .map(str::to_owned),
        redacted,
    }
}

/// The directive label: the first token, lowercase, from the fixed list or `other`.
fn directive(raw: Option<&str>) -> &'static str {
    let name = raw
        .and_then(|d| d.split_ascii_whitespace().next())
        .unwrap_or("");
    DIRECTIVES
        .iter()
        .find(|d| d.eq_ignore_ascii_case(name))
        .copied()
        .unwrap_or("other")
}

const BLOCKED_KEYWORDS: &[&str] = &[
    "inline",
    "eval",
    "wasm-eval",
    "trusted-types-policy",
    "trusted-types-sink",
    "self",
];

const SCHEME_ONLY: &[&str] = &["data", "blob", "filesystem", "mediastream", "about"];

/// The blocked target as `scheme://host[:port]` (host PHI-masked) or a keyword.
fn blocked_target(raw: &str, scrubber: &Profile, redacted: &mut u32) -> String {
    let raw = raw.trim();
    if raw.is_empty() {
        return "-".to_owned();
    }
    if let Some(k) = BLOCKED_KEYWORDS
        .iter()
        .find(|k| k.eq_ignore_ascii_case(raw))
    {
        return (*k).to_owned();
    }
    if let Some(url) = split_url(raw) {
        return scrub(&url.origin(), scrubber, redacted);
    }
    let scheme = raw.split(':').next().unwrap_or("");
    match SCHEME_ONLY.iter().find(|s| s.eq_ignore_ascii_case(scheme)) {
        Some(s) => (*s).to_owned(),
        None => "other".to_owned(),
    }
}

/// The parts of an absolute `http(s)`/`ws(s)` URL phiguard keeps.
struct UrlParts<'a> {
    scheme: &'a str,
    /// Host and port, no user info.
    host: &'a str,
    /// Path without query or fragment (`/` when empty).
    path: &'a str,
}

impl UrlParts<'_> {
    fn origin(&self) -> String {
        format!(
            "{}://{}",
            self.scheme.to_ascii_lowercase(),
            self.host.to_ascii_lowercase()
        )
    }
}

fn split_url(url: &str) -> Option<UrlParts<'_>> {
    let (scheme, rest) = url.split_once("://")?;
    if !["http", "https", "ws", "wss"]
        .iter()
        .any(|s| s.eq_ignore_ascii_case(scheme))
    {
        return None;
    }
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..end];
    // User info (`user:password@`) never leaves.
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    if host.is_empty() {
        return None;
    }
    let after = &rest[end..];
    let path_end = after.find(['?', '#']).unwrap_or(after.len());
    let path = match &after[..path_end] {
        "" => "/",
        p => p,
    };
    Some(UrlParts { scheme, host, path })
}

/// Longest scrubbed field written.
const MAX_FIELD_CHARS: usize = 256;

/// `text` with PHI masked by `scrubber`; unscannable text is replaced.
fn scrub(text: &str, scrubber: &Profile, redacted: &mut u32) -> String {
    let outcome = scrubber.redact_text(text.as_bytes());
    *redacted += u32::try_from(outcome.findings().len()).unwrap_or(u32::MAX);
    let out = match outcome.output(text.as_bytes()) {
        Some(bytes) => super::owned_utf8(bytes),
        None => return "[not logged: unscannable]".to_owned(),
    };
    if out.chars().count() > MAX_FIELD_CHARS {
        let cut: String = out.chars().take(MAX_FIELD_CHARS).collect();
        format!("{cut}…")
    } else {
        out
    }
}

impl super::PhiGuardProxy {
    /// Answers a request to the CSP report endpoint (the caller checked the path and
    /// listener): refusals counted, accepted violations counted and audited.
    pub(super) async fn answer_csp_report(
        &self,
        session: &mut Session,
        ctx: &mut RequestCtx,
    ) -> pingora::Result<()> {
        ctx.csp_report = true;
        let mut count_on_response = Vec::new();
        let received = self
            .receive_csp_report(session, ctx, &mut count_on_response)
            .await?;
        let answer = match received {
            Ok(()) => OwnResponse::CspReportAccepted,
            Err(Received::Refused(refusal)) => refusal,
            Err(Received::Rejected(rejection)) => {
                self.metrics.count_csp_report_rejected(rejection.as_str());
                rejection.answer()
            }
        };
        if let Some(reports) = ctx.policy.csp_reports.as_ref() {
            let (status, now) = (answer.status(), ratelimit::now_ns());
            for (i, key) in &count_on_response {
                reports.rate_limits[*i]
                    .count_response(key, status, now)
                    .await;
            }
        }
        own_response::send(session, ctx, answer).await
    }

    async fn receive_csp_report(
        &self,
        session: &mut Session,
        ctx: &mut RequestCtx,
        count_on_response: &mut Vec<(usize, DecisionKey)>,
    ) -> pingora::Result<Result<(), Received>> {
        let policy = ctx.policy.clone();
        let Some(reports) = policy.csp_reports.as_ref() else {
            return Ok(Ok(()));
        };
        if let Err(r) = check_head(session.req_header(), reports.max_body_bytes) {
            return Ok(Err(Received::Rejected(r)));
        }
        if let Some(refusal) = self
            .limit_csp_reports(session, ctx, reports, count_on_response)
            .await
        {
            return Ok(Err(Received::Refused(refusal)));
        }
        let mut body = BytesMut::new();
        while let Some(chunk) = session.read_request_body().await? {
            if let Err(r) = collect(&mut body, &chunk, reports.max_body_bytes) {
                return Ok(Err(Received::Rejected(r)));
            }
        }
        let violations = match parse(&body, &policy, &self.log_redaction) {
            Ok(v) => v,
            Err(r) => return Ok(Err(Received::Rejected(r))),
        };
        let request_id = ctx.facts.as_ref().map_or("-", |f| f.request_id.as_str());
        for v in &violations {
            let route = v.route.map_or("-", |i| policy.routes[i].name.as_str());
            self.metrics.count_csp_violation(route, v.directive);
            self.audit.record(&CspViolationEvent {
                event: "csp_violation",
                request_id,
                route,
                directive: v.directive,
                blocked: &v.blocked,
                document_path: &v.document_path,
                source_file: &v.source_file,
                disposition: v.disposition,
                sample_fingerprint: v
                    .sample
                    .as_ref()
                    .map(|s| self.audit.fingerprint(s.as_bytes())),
                redacted: v.redacted,
            });
        }
        Ok(Ok(()))
    }

    /// The endpoint's rate-limit rules; the first refusal becomes a 429. Status-filtered
    /// rules are noted in `count_on_response`, to count the answer once it is known.
    async fn limit_csp_reports(
        &self,
        session: &Session,
        ctx: &RequestCtx,
        reports: &CspReports,
        count_on_response: &mut Vec<(usize, DecisionKey)>,
    ) -> Option<OwnResponse> {
        let facts = ctx.facts.as_ref()?;
        super::run_rate_limits(&reports.rate_limits, session, facts, count_on_response).await
    }
}

/// Why a report was not accepted.
enum Received {
    /// Counted as a rejection.
    Rejected(Rejection),
    /// A rate limit refused it.
    Refused(OwnResponse),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> Policy {
        let text = r#"
listeners: [{name: public, address: "127.0.0.1:18080"}]
admin: {address: "127.0.0.1:19901"}
upstreams: {shop: {address: "127.0.0.1:3000"}}
csp_reports: {}
routes:
  - {name: portal, match: {path_prefix: /portal}, upstream: shop}
  - {name: all, upstream: shop}
"#;
        let loaded = crate::config::parse(text, std::path::Path::new("t.yaml")).unwrap();
        Policy::compile(&loaded, &crate::policy::Shared::new()).unwrap()
    }

    const PHI: &[&str] = &["jane.doe@example.com", "555-867-5309", "Jane"];

    fn assert_phi_free(v: &Violation) {
        for field in [&v.blocked, &v.document_path, &v.source_file] {
            for phi in PHI {
                assert!(!field.contains(phi), "{field} holds {phi}");
            }
        }
    }

    #[test]
    fn report_uri_bodies_are_reduced() {
        let body = br#"{"csp-report": {
            "document-uri": "https://shop.example/portal/jane.doe@example.com?phone=555-867-5309",
            "referrer": "https://shop.example/?name=Jane",
            "violated-directive": "script-src-elem 'self'",
            "effective-directive": "script-src-elem",
            "blocked-uri": "https://user:pw@evil.example:8443/x.js?email=jane.doe@example.com",
            "source-file": "https://shop.example/portal/app.js?email=jane.doe@example.com",
            "script-sample": "send('jane.doe@example.com')",
            "disposition": "enforce"}}"#;
        let p = policy();
        let v = parse(body, &p, &Profile::builtin_default()).unwrap();
        assert_eq!(v.len(), 1);
        let v = &v[0];
        assert_eq!(v.route, Some(0));
        assert_eq!(v.directive, "script-src-elem");
        assert_eq!(v.blocked, "https://evil.example:8443");
        assert!(
            v.document_path.starts_with("/portal/"),
            "{}",
            v.document_path
        );
        assert!(v.redacted >= 1);
        assert_eq!(v.source_file, "https://shop.example/portal/app.js");
        assert_eq!(v.disposition, "enforce");
        assert_phi_free(v);
    }

    #[test]
    fn reporting_api_arrays_are_reduced() {
        let body = br#"[
          {"type": "csp-violation", "age": 1, "url": "https://shop.example/x",
           "body": {"documentURL": "https://shop.example/account?dob=1980-01-02",
                    "effectiveDirective": "style-src-attr", "blockedURL": "inline",
                    "sample": "color: red", "disposition": "report"}},
          {"type": "deprecation", "url": "https://shop.example/", "body": {"id": "x"}},
          {"type": "csp-violation", "url": "https://shop.example/", "body": {
                    "documentURL": "https://shop.example/portal", "effectiveDirective": "trusted-types",
                    "blockedURL": "data:image/png;base64,AAAA"}}]"#;
        let p = policy();
        let v = parse(body, &p, &Profile::builtin_default()).unwrap();
        assert_eq!(v.len(), 2);
        assert_eq!((v[0].route, v[0].directive), (Some(1), "style-src-attr"));
        assert_eq!(v[0].blocked, "inline");
        assert_eq!(v[0].document_path, "/account");
        assert_eq!(v[0].disposition, "report");
        assert_eq!((v[1].route, v[1].directive), (Some(0), "other"));
        assert_eq!(v[1].blocked, "data");
    }

    #[test]
    fn a_one_entry_reporting_api_array_is_read_as_one() {
        let body = br#"[{"type": "csp-violation", "url": "https://shop.example/portal",
            "body": {"documentURL": "https://shop.example/portal?email=jane.doe@example.com",
                     "effectiveDirective": "script-src-elem",
                     "blockedURL": "http://vendor.example:9003/vendor.js"}}]"#;
        let p = policy();
        let v = parse(body, &p, &Profile::builtin_default()).unwrap();
        assert_eq!(v.len(), 1);
        assert_eq!((v[0].route, v[0].directive), (Some(0), "script-src-elem"));
        assert_eq!(v[0].blocked, "http://vendor.example:9003");
        assert_eq!(v[0].document_path, "/portal");
        assert_phi_free(&v[0]);
    }

    #[test]
    fn wrong_shapes_are_bad_json() {
        let p = policy();
        let scrubber = Profile::builtin_default();
        for body in [
            &b"not json"[..],
            b"{}",
            b"{\"csp-report\": 3}",
            b"\"x\"",
            b"[1]",
            b"[{}]",
            b"[{\"csp-report\": {}}]",
        ] {
            assert_eq!(
                parse(body, &p, &scrubber),
                Err(Rejection::BadJson),
                "{body:?}"
            );
        }
    }

    #[test]
    fn heads_are_checked() {
        let mut req =
            pingora::http::RequestHeader::build("POST", b"/_phiguard/csp-report", None).unwrap();
        assert_eq!(check_head(&req, 10), Err(Rejection::ContentType));
        req.insert_header("content-type", "application/csp-report; charset=utf-8")
            .unwrap();
        assert_eq!(check_head(&req, 10), Ok(()));
        req.insert_header("content-length", "11").unwrap();
        assert_eq!(check_head(&req, 10), Err(Rejection::TooLarge));
        req.set_method(Method::GET);
        assert_eq!(check_head(&req, 10), Err(Rejection::Method));
        let mut buf = BytesMut::new();
        assert!(collect(&mut buf, b"12345", 8).is_ok());
        assert_eq!(collect(&mut buf, b"6789", 8), Err(Rejection::TooLarge));
    }
}

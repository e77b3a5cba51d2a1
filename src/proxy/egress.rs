//! The request side of egress routes: the query string, selected headers and the body are
//! scanned with the route's redaction profile before anything leaves. A payload that
//! cannot be scanned, or that holds a type whose action is `block`, is refused (fail
//! closed); it is never forwarded unscanned.
//!
//! The query and headers are decided in `request_filter`, before the upstream is even
//! connected. The body is held back chunk by chunk (at most `max_body_bytes`), scanned whole
//! and released rewritten; since its length changes, it goes upstream chunked.

use std::borrow::Cow;

use bytes::Bytes;
use http::header::{
    HeaderValue, CONTENT_ENCODING, CONTENT_LENGTH, CONTENT_TYPE, COOKIE, REFERER, TRANSFER_ENCODING,
};
use http::Uri;
use phiguard_engine::{Finding, Outcome, Profile};
use pingora::http::RequestHeader;

use crate::config::RefererPolicy;
use crate::policy::egress::Egress;
use crate::telemetry::{AuditEvent, AuditLog, EgressMetrics};

/// Why an egress request was refused (the `reason` label of `phiguard_egress_blocked_total`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlockReason {
    /// A finding's action is `block`.
    BlockedType,
    /// The engine could not scan the payload completely.
    Unscannable,
    /// The body is over `max_body_bytes`.
    TooLarge,
    /// A `Content-Encoding` phiguard does not decode.
    Encoding,
    /// `multipart/*` bodies are not scanned.
    Multipart,
    /// A gzip/deflate/br body that does not decode.
    CorruptEncoding,
    /// A `charset` the detectors cannot read (UTF-16, ...).
    Charset,
}

impl BlockReason {
    /// The label value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::BlockedType => "blocked_type",
            Self::Unscannable => "unscannable",
            Self::TooLarge => "too_large",
            Self::Encoding => "unsupported_encoding",
            Self::Multipart => "multipart",
            Self::CorruptEncoding => "corrupt_encoding",
            Self::Charset => "charset",
        }
    }
}

/// How a held-back body is decoded and parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BodySpec {
    /// Its `Content-Encoding`.
    pub encoding: BodyEncoding,
    /// Its format.
    pub format: BodyFormat,
}

/// The `Content-Encoding`s phiguard decodes before scanning. A decoded body goes upstream
/// as identity (the header is removed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyEncoding {
    /// None, or `identity`.
    Identity,
    /// `gzip` (or `x-gzip`).
    Gzip,
    /// `deflate` (zlib-wrapped, or raw as some clients send it).
    Deflate,
    /// `br`.
    Brotli,
}

/// How the body is parsed for scanning.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyFormat {
    /// `application/x-www-form-urlencoded`.
    Form,
    /// `application/json` and `+json` types.
    Json,
    /// `application/x-ndjson`, `application/jsonl`.
    Ndjson,
    /// Anything else: scanned as text (a format is detected per line).
    Text,
}

/// What the request side decided for one egress request.
#[derive(Debug, Default)]
pub struct EgressRequest {
    /// The rewritten query string, when it changed.
    pub query: Option<String>,
    /// The query as forwarded (`query`, or the request's own when unchanged) is the client's
    /// whole query scanned by a profile that detects as the engine's default one: the access
    /// log shows it without scanning it again.
    pub query_scanned_as_default: bool,
    /// How the body will be decoded and scanned, when the request has one (it is then held
    /// back and re-framed chunked).
    pub body: Option<BodySpec>,
    /// The declared body length (a buffer size hint), at most `max_body_bytes`.
    pub body_len_hint: usize,
    /// Health-context page URLs generalized in the query.
    pub generalized: usize,
}

/// Where findings were made, for metrics and the audit trail.
pub struct Findings<'a> {
    /// `query`, `body` or `header:NAME`.
    pub field: &'a str,
    /// The scanned input (finding ranges index into it).
    pub input: &'a [u8],
    /// The findings.
    pub findings: &'a [Finding],
}

/// Counts findings in `phiguard_phi_redactions_total`.
pub fn count_findings(metrics: &EgressMetrics, profile: &Profile, findings: &[Finding]) {
    for f in findings {
        metrics.count_redaction(f.phi_type, profile.label(f.phi_type), f.action);
    }
}

/// Writes audit events for findings: one per (field path, type, action, value fingerprint)
/// with its count. Never the value itself.
pub fn audit_findings(
    audit: &AuditLog,
    request_id: &str,
    route: &str,
    destination: &str,
    profile: &Profile,
    at: &Findings<'_>,
) {
    if !audit.is_enabled() {
        return;
    }
    let mut groups: Vec<(String, &str, &'static str, String, u32)> = Vec::new();
    for f in at.findings {
        let value = at.input.get(f.range.clone()).unwrap_or_default();
        let fingerprint = audit.fingerprint(value);
        let field = match &f.key_path {
            Some(path) => format!("{}.{path}", at.field),
            None => at.field.to_owned(),
        };
        let (phi_type, action) = (profile.label(f.phi_type), f.action.name());
        match groups
            .iter_mut()
            .find(|g| g.0 == field && g.1 == phi_type && g.2 == action && g.3 == fingerprint)
        {
            Some(g) => g.4 += 1,
            None => groups.push((field, phi_type, action, fingerprint, 1)),
        }
    }
    for (field, phi_type, action, fingerprint, count) in groups {
        audit.record(&AuditEvent {
            event: if action == "block" {
                "block"
            } else {
                "redaction"
            },
            request_id,
            route,
            destination,
            field: &field,
            phi_type,
            action,
            count,
            fingerprint: Some(fingerprint),
            reason: None,
        });
    }
}

/// The rewritten bytes of `outcome` (`None` when clean), or why the payload is refused.
fn decide<'o>(
    outcome: &'o Outcome,
    field: &str,
    input: &[u8],
    on_findings: &mut dyn FnMut(&Findings<'_>),
) -> Result<Option<&'o [u8]>, BlockReason> {
    match outcome {
        Outcome::Clean => Ok(None),
        Outcome::Redacted { output, findings } => {
            on_findings(&Findings {
                field,
                input,
                findings,
            });
            Ok(Some(output))
        }
        Outcome::Blocked { findings } => {
            on_findings(&Findings {
                field,
                input,
                findings,
            });
            Err(BlockReason::BlockedType)
        }
        Outcome::Unscannable { .. } => Err(BlockReason::Unscannable),
    }
}

/// Scans the query string and checks the body can be scanned; called before connecting.
pub fn admit(
    egress: &Egress,
    req: &RequestHeader,
    on_findings: &mut dyn FnMut(&Findings<'_>),
) -> Result<EgressRequest, BlockReason> {
    let mut decided = EgressRequest::default();
    if let Some(query) = req.uri.query() {
        let allowed = match &egress.allow_params {
            Some(allow) => allow.filter_pairs(query.as_bytes()),
            None => Cow::Borrowed(query.as_bytes()),
        };
        let (allowed, generalized) = match egress.health.apply_pairs(&allowed) {
            (Cow::Borrowed(_), _) => (allowed, 0),
            (Cow::Owned(rewritten), n) => (Cow::Owned(rewritten), n),
        };
        decided.generalized = generalized;
        decided.query_scanned_as_default =
            matches!(allowed, Cow::Borrowed(_)) && egress.profile.detects_as_builtin_default();
        let outcome = egress.profile.redact_query_bytes(&allowed);
        match decide(&outcome, "query", &allowed, &mut *on_findings)? {
            Some(rewritten) => decided.query = Some(super::owned_utf8(rewritten)),
            None if matches!(allowed, Cow::Owned(_)) => {
                decided.query = Some(super::owned_utf8(&allowed))
            }
            None => {}
        }
    }
    for name in &egress.scan_headers {
        for value in req.headers.get_all(name) {
            let field = format!("header:{name}");
            let outcome = egress.profile.redact_text(value.as_bytes());
            decide(&outcome, &field, value.as_bytes(), &mut *on_findings)?;
        }
    }
    let encoding = match req
        .headers
        .get(CONTENT_ENCODING)
        .map(|v| v.as_bytes().trim_ascii().to_ascii_lowercase())
    {
        None => BodyEncoding::Identity,
        Some(e) if e == b"identity" => BodyEncoding::Identity,
        Some(e) if e == b"gzip" || e == b"x-gzip" => BodyEncoding::Gzip,
        Some(e) if e == b"deflate" => BodyEncoding::Deflate,
        Some(e) if e == b"br" => BodyEncoding::Brotli,
        // Anything else, including stacked encodings ("gzip, br"), is refused.
        Some(_) => return Err(BlockReason::Encoding),
    };
    let content_type = req
        .headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase();
    let format = match content_type.split(';').next().unwrap_or_default().trim() {
        "application/x-www-form-urlencoded" => BodyFormat::Form,
        "application/x-ndjson" | "application/jsonl" | "application/jsonlines" => {
            BodyFormat::Ndjson
        }
        t if t == "application/json" || t.ends_with("+json") => BodyFormat::Json,
        t if t.starts_with("multipart/") => return Err(BlockReason::Multipart),
        _ => BodyFormat::Text,
    };
    // The detectors read UTF-8 (and its ASCII and Latin-1 look-alikes). A body in UTF-16 or
    // another charset would hide PHI from them: refuse it.
    let charset = content_type
        .split(';')
        .skip(1)
        .filter_map(|p| p.trim().strip_prefix("charset="))
        .map(|c| c.trim_matches('"'))
        .next();
    if charset.is_some_and(|c| {
        !matches!(
            c,
            "utf-8" | "utf8" | "us-ascii" | "ascii" | "iso-8859-1" | "latin1"
        )
    }) {
        return Err(BlockReason::Charset);
    }
    let declared = req
        .headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<usize>().ok());
    let chunked = req.headers.contains_key(TRANSFER_ENCODING);
    if declared.is_some_and(|len| len > egress.max_body_bytes) {
        return Err(BlockReason::TooLarge);
    }
    if chunked || declared.is_some_and(|len| len > 0) {
        decided.body = Some(BodySpec { encoding, format });
        decided.body_len_hint = declared.unwrap_or(4096).min(egress.max_body_bytes);
    }
    Ok(decided)
}

/// Rewrites the upstream request: redacted query and headers, `Referer` per policy, no
/// cookies unless allowed, and chunked framing when a (rewritten) body follows.
pub fn prepare_upstream(
    egress: &Egress,
    decided: &EgressRequest,
    upstream_request: &mut RequestHeader,
) -> pingora::Result<()> {
    if let Some(query) = &decided.query {
        let path = upstream_request.uri.path();
        let rebuilt = if query.is_empty() {
            path.to_owned()
        } else {
            format!("{path}?{query}")
        };
        let uri: Uri = rebuilt.parse().map_err(|_| {
            pingora::Error::explain(
                pingora::ErrorType::InternalError,
                "redacted query is not a valid URI",
            )
        })?;
        upstream_request.set_uri(uri);
    }
    for name in &egress.scan_headers {
        let values: Vec<HeaderValue> = upstream_request
            .headers
            .get_all(name)
            .iter()
            .cloned()
            .collect();
        if values.is_empty() {
            continue;
        }
        upstream_request.remove_header(name);
        for v in values {
            let outcome = egress.profile.redact_text(v.as_bytes());
            let bytes = outcome.output(v.as_bytes()).unwrap_or_default();
            if let Ok(value) = HeaderValue::from_bytes(bytes) {
                upstream_request.append_header(name.clone(), value)?;
            }
        }
    }
    if let Some(referer) = upstream_request.headers.get(REFERER).cloned() {
        upstream_request.remove_header(&REFERER);
        let kept = match egress.referer {
            RefererPolicy::Drop => None,
            RefererPolicy::Origin => origin_of(referer.as_bytes()),
            RefererPolicy::Redact => {
                let outcome = egress.profile.redact_text(referer.as_bytes());
                outcome
                    .output(referer.as_bytes())
                    .and_then(|b| HeaderValue::from_bytes(b).ok())
            }
        };
        if let Some(value) = kept {
            upstream_request.insert_header(REFERER, value)?;
        }
    }
    if !egress.forward_cookies {
        upstream_request.remove_header(&COOKIE);
    }
    if decided.body.is_some() {
        // The body goes on decoded (identity), rewritten and chunked.
        upstream_request.remove_header(&CONTENT_ENCODING);
        upstream_request.remove_header(&CONTENT_LENGTH);
        upstream_request.insert_header(TRANSFER_ENCODING, "chunked")?;
    }
    Ok(())
}

/// `scheme://host[:port]/` of a URL, or `None` when it is not an absolute http(s) URL.
fn origin_of(url: &[u8]) -> Option<HeaderValue> {
    let text = std::str::from_utf8(url).ok()?;
    let uri: Uri = text.parse().ok()?;
    let scheme = uri.scheme_str().filter(|s| *s == "http" || *s == "https")?;
    let authority = uri.authority()?.as_str();
    // Userinfo (`user:pass@host`) never leaves.
    let host = authority.rsplit('@').next()?;
    HeaderValue::from_str(&format!("{scheme}://{host}/")).ok()
}

/// Scans a whole held-back body: the bytes to send and how many health-context page URLs
/// were generalized, or why it is refused.
pub fn finish_body(
    egress: &Egress,
    spec: BodySpec,
    body: Bytes,
    on_findings: &mut dyn FnMut(&Findings<'_>),
) -> Result<(Bytes, usize), BlockReason> {
    let body = decode(spec.encoding, body, egress.max_body_bytes)?;
    let body = match (&egress.allow_params, spec.format) {
        (None, _) | (Some(_), BodyFormat::Text) => body,
        (Some(allow), BodyFormat::Form) => match allow.filter_pairs(&body) {
            Cow::Borrowed(_) => body,
            Cow::Owned(kept) => Bytes::from(kept),
        },
        (Some(allow), BodyFormat::Json) => Bytes::from(
            allow
                .filter_json(&body)
                .map_err(|_| BlockReason::Unscannable)?,
        ),
        (Some(allow), BodyFormat::Ndjson) => Bytes::from(
            allow
                .filter_ndjson(&body)
                .map_err(|_| BlockReason::Unscannable)?,
        ),
    };
    let (body, generalized) = match spec.format {
        BodyFormat::Form => match egress.health.apply_pairs(&body) {
            (Cow::Owned(rewritten), n) => (Bytes::from(rewritten), n),
            (Cow::Borrowed(_), _) => (body, 0),
        },
        BodyFormat::Json => match egress.health.apply_json(&body) {
            (Cow::Owned(rewritten), n) => (Bytes::from(rewritten), n),
            (Cow::Borrowed(_), _) => (body, 0),
        },
        BodyFormat::Ndjson | BodyFormat::Text => (body, 0),
    };
    let p = &egress.profile;
    let outcome = match spec.format {
        BodyFormat::Form => p.redact_query_bytes(&body),
        BodyFormat::Json => p.redact_json(&body),
        BodyFormat::Ndjson => p.redact_ndjson(&body),
        BodyFormat::Text => p.redact_text(&body),
    };
    match decide(&outcome, "body", &body, on_findings)? {
        Some(rewritten) => Ok((Bytes::copy_from_slice(rewritten), generalized)),
        None => Ok((body, generalized)),
    }
}

/// Decodes `body`; the decoded size is bounded by `limit` (a small bomb cannot expand past it).
fn decode(encoding: BodyEncoding, body: Bytes, limit: usize) -> Result<Bytes, BlockReason> {
    use std::io::Read;
    fn read_bounded(mut reader: impl Read, limit: usize) -> Result<Bytes, BlockReason> {
        let mut out = Vec::new();
        let cap = u64::try_from(limit).unwrap_or(u64::MAX).saturating_add(1);
        reader
            .by_ref()
            .take(cap)
            .read_to_end(&mut out)
            .map_err(|_| BlockReason::CorruptEncoding)?;
        if out.len() > limit {
            return Err(BlockReason::TooLarge);
        }
        Ok(Bytes::from(out))
    }
    match encoding {
        BodyEncoding::Identity => Ok(body),
        BodyEncoding::Gzip => read_bounded(flate2::read::MultiGzDecoder::new(&body[..]), limit),
        BodyEncoding::Deflate => read_bounded(flate2::read::ZlibDecoder::new(&body[..]), limit)
            .or_else(|_| read_bounded(flate2::read::DeflateDecoder::new(&body[..]), limit)),
        BodyEncoding::Brotli => read_bounded(brotli::Decompressor::new(&body[..], 4096), limit),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_decode_within_their_bound() {
        use std::io::Write;
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(b"hello").unwrap();
        let gz = Bytes::from(gz.finish().unwrap());
        assert_eq!(
            decode(BodyEncoding::Gzip, gz.clone(), 100).unwrap(),
            "hello"
        );
        assert_eq!(
            decode(BodyEncoding::Gzip, gz, 4),
            Err(BlockReason::TooLarge)
        );
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        z.write_all(b"zlib").unwrap();
        assert_eq!(
            decode(BodyEncoding::Deflate, Bytes::from(z.finish().unwrap()), 100).unwrap(),
            "zlib"
        );
        let mut raw =
            flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
        raw.write_all(b"raw").unwrap();
        assert_eq!(
            decode(
                BodyEncoding::Deflate,
                Bytes::from(raw.finish().unwrap()),
                100
            )
            .unwrap(),
            "raw"
        );
        let mut br = Vec::new();
        brotli::CompressorWriter::new(&mut br, 4096, 5, 22)
            .write_all(b"brotli")
            .unwrap();
        assert_eq!(
            decode(BodyEncoding::Brotli, Bytes::from(br), 100).unwrap(),
            "brotli"
        );
        assert_eq!(
            decode(
                BodyEncoding::Gzip,
                Bytes::from_static(b"\x1f\x8b garbage"),
                100
            ),
            Err(BlockReason::CorruptEncoding)
        );
    }

    #[test]
    fn referer_origin_drops_path_query_and_userinfo() {
        let o =
            origin_of(b"https://user:pw@shop.example.com:8443/account?email=jane@x.org").unwrap();
        assert_eq!(o, "https://shop.example.com:8443/");
        assert!(origin_of(b"/relative/path").is_none());
        assert!(origin_of(b"ftp://x/").is_none());
    }
}

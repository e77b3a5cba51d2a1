//! Responses the proxy writes itself. They carry the route's (or the fallback) security
//! headers, are never cached, and have short fixed bodies with no request data and no
//! upstream details.

use bytes::Bytes;
use http::header::{
    HeaderName, HeaderValue, CACHE_CONTROL, CONTENT_LENGTH, CONTENT_TYPE, RETRY_AFTER,
};
use pingora::http::ResponseHeader;
use pingora::prelude::*;
use pingora::proxy::Session;
use pingora::ErrorType;

use super::forwarding::X_REQUEST_ID;
use super::{header_edit, RequestCtx};

static RATELIMIT_POLICY: HeaderName = HeaderName::from_static("ratelimit-policy");
static RATELIMIT: HeaderName = HeaderName::from_static("ratelimit");

/// A response the proxy generates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OwnResponse {
    /// A rate limit or enumeration guard refused the request.
    RateLimited {
        /// Seconds until a retry may pass.
        retry_after_secs: u64,
        /// `RateLimit-Policy` of the refusing rule.
        policy: HeaderValue,
        /// `RateLimit` of the refusing rule.
        state: HeaderValue,
    },
    /// No route matched.
    NotFound,
    /// On an egress listener: the destination host is not on the allowlist.
    UnknownDestination,
    /// A fail-closed rate limit could not reach its shared backend.
    LimiterUnavailable,
    /// A webhook without a valid signature.
    Unauthorized,
    /// A webhook body over the verification bound.
    PayloadTooLarge,
    /// A webhook delivery already forwarded: acknowledged, not forwarded again.
    DuplicateDelivery,
    /// An egress request refused (PHI the policy blocks, or a payload it cannot scan).
    EgressBlocked {
        /// The route's `block_status`.
        status: u16,
    },
    /// The upstream could not be reached or broke the exchange.
    BadGateway,
    /// The upstream timed out.
    GatewayTimeout,
    /// A CSP violation report accepted (204, no body).
    CspReportAccepted,
    /// A method the endpoint does not take (405, `Allow: POST`).
    MethodNotAllowed,
    /// A content type the endpoint does not take (415).
    UnsupportedMediaType,
    /// Any other status with a generic body.
    Status(u16),
}

impl OwnResponse {
    /// The status code.
    pub fn status(&self) -> u16 {
        match self {
            Self::RateLimited { .. } => 429,
            Self::NotFound => 404,
            Self::UnknownDestination => 403,
            Self::LimiterUnavailable => 503,
            Self::Unauthorized => 401,
            Self::PayloadTooLarge => 413,
            Self::DuplicateDelivery => 200,
            Self::EgressBlocked { status } => *status,
            Self::BadGateway => 502,
            Self::GatewayTimeout => 504,
            Self::CspReportAccepted => 204,
            Self::MethodNotAllowed => 405,
            Self::UnsupportedMediaType => 415,
            Self::Status(code) => *code,
        }
    }

    fn body(&self) -> &'static str {
        match self {
            Self::RateLimited { .. } => "too many requests\n",
            Self::NotFound => "not found\n",
            Self::UnknownDestination => "destination not allowed\n",
            Self::LimiterUnavailable => "service unavailable\n",
            Self::Unauthorized => "unauthorized\n",
            Self::PayloadTooLarge => "payload too large\n",
            Self::DuplicateDelivery => "duplicate delivery\n",
            Self::EgressBlocked { .. } => "blocked: this request was not forwarded\n",
            Self::BadGateway => "bad gateway\n",
            Self::GatewayTimeout => "gateway timeout\n",
            Self::CspReportAccepted => "",
            Self::MethodNotAllowed => "method not allowed\n",
            Self::UnsupportedMediaType => "unsupported media type\n",
            Self::Status(400) => "bad request\n",
            Self::Status(408) => "request timeout\n",
            Self::Status(503) => "service unavailable\n",
            Self::Status(_) => "error\n",
        }
    }
}

/// Writes `response` with the security headers of the request's route (or the fallback).
pub async fn send(session: &mut Session, ctx: &RequestCtx, response: OwnResponse) -> Result<()> {
    let body = response.body();
    let mut parts = header_edit::empty_response_parts();
    parts.status = http::StatusCode::from_u16(response.status()).or_err(
        ErrorType::InternalError,
        "invalid status for an own response",
    )?;
    let headers = &mut parts.headers;
    if !body.is_empty() {
        headers.insert(
            CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        );
        headers.insert(CONTENT_LENGTH, HeaderValue::from(body.len()));
    }
    let profile = ctx
        .route()
        .map_or(&ctx.policy.fallback_headers, |r| &r.headers);
    profile.apply_own(headers);
    // Error responses are never stored, whatever the profile says about caching.
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Some(id) = ctx.facts.as_ref().and_then(|f| f.request_id_header.clone()) {
        headers.insert(X_REQUEST_ID.clone(), id);
    }
    if let OwnResponse::RateLimited {
        retry_after_secs,
        policy,
        state,
    } = &response
    {
        headers.insert(RETRY_AFTER, HeaderValue::from(*retry_after_secs));
        headers.insert(RATELIMIT_POLICY.clone(), policy.clone());
        headers.insert(RATELIMIT.clone(), state.clone());
    }
    if response == OwnResponse::LimiterUnavailable {
        headers.insert(RETRY_AFTER, HeaderValue::from_static("1"));
    }
    if response == OwnResponse::MethodNotAllowed {
        headers.insert(http::header::ALLOW, HeaderValue::from_static("POST"));
    }
    let resp = ResponseHeader::from(parts);
    session.set_keepalive(None);
    if body.is_empty() {
        return session.write_response_header(Box::new(resp), true).await;
    }
    session.write_response_header(Box::new(resp), false).await?;
    session
        .write_response_body(Some(Bytes::from_static(body.as_bytes())), true)
        .await
}

//! The pingora `ProxyHttp` service: per request it takes one policy snapshot, matches a
//! route, forwards with the forwarding headers set and hop-by-hop headers removed, and applies
//! the route's header profile, cookie hardening and PHI-page hygiene to the response. The
//! proxy's own responses (404, 502, 504) carry the same security headers.

mod csp_report;
mod egress;
mod forwarding;
pub mod header_edit;
pub mod html_nonce;
mod loggable;
mod nonce_body;
mod own_response;

use std::sync::Arc;
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;
use async_trait::async_trait;
use bytes::{Bytes, BytesMut};
use http::header::{HeaderMap, HeaderName, HeaderValue, CACHE_CONTROL, EXPIRES, PRAGMA};
use phiguard_engine::Profile;
use pingora::http::{RequestHeader, ResponseHeader};
use pingora::prelude::*;
use pingora::proxy::{FailToProxy, ProxyHttp, Session};
use pingora::ErrorType;

use crate::policy::{Policy, Route};
use crate::ratelimit::{self, webhook, DecisionKey, Refusal, RequestView};
use crate::telemetry::{AccessLog, AccessRecord, AuditEvent, AuditLog, Metrics, UpstreamErrorKind};
use egress::BlockReason;
use forwarding::{RequestFacts, X_REQUEST_ID};
pub use own_response::OwnResponse;

static CLEAR_SITE_DATA: HeaderName = HeaderName::from_static("clear-site-data");

/// The current policy; swapped atomically on reload, read once per request.
pub type PolicyCell = Arc<ArcSwap<Policy>>;

/// `bytes` as an owned string: copied after std's UTF-8 check, which is fast on the ASCII the
/// engine writes; converted lossily only when that check fails.
fn owned_utf8(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(text) => text.to_owned(),
        Err(_) => String::from_utf8_lossy(bytes).into_owned(),
    }
}

/// phiguard's proxy service.
pub struct PhiGuardProxy {
    policy: PolicyCell,
    access_log: AccessLog,
    audit: AuditLog,
    metrics: Metrics,
    /// The engine's built-in default profile: what the proxy's own logs are redacted with.
    log_redaction: Profile,
}

impl PhiGuardProxy {
    /// A proxy serving whatever policy `policy` holds.
    pub fn new(
        policy: PolicyCell,
        access_log: AccessLog,
        audit: AuditLog,
        metrics: Metrics,
    ) -> Self {
        Self {
            policy,
            access_log,
            audit,
            metrics,
            log_redaction: Profile::builtin_default(),
        }
    }
}

/// Per-request state.
pub struct RequestCtx {
    policy: Arc<Policy>,
    route: Option<usize>,
    start: Instant,
    facts: Option<RequestFacts>,
    upstream_error: Option<UpstreamErrorKind>,
    /// When the upstream was chosen (the request side of the proxy's work ends here).
    upstream_start: Option<Instant>,
    /// The proxy's own processing time so far.
    proxy_added: Duration,
    /// (index into the route's rules, client key) of status-filtered rules to count at the end.
    count_on_response: Vec<(usize, DecisionKey)>,
    /// A request body held back until it is verified (webhooks) or scanned (egress).
    held_body: Option<HeldBody>,
    /// The egress decision for the query and headers.
    egress: Option<egress::EgressRequest>,
    /// The answer to send when a body filter refuses the request.
    refusal: Option<OwnResponse>,
    /// The HTML body being rewritten with the response's CSP nonce.
    nonce_body: Option<nonce_body::NonceBody>,
    /// The request went to the CSP report endpoint (answered by phiguard).
    csp_report: bool,
    _in_flight: InFlight,
}

impl RequestCtx {
    fn route(&self) -> Option<&Route> {
        self.route.map(|i| &self.policy.routes[i])
    }

    /// The client address as decided by `trusted_proxies` (the key for rate limits).
    pub fn client_ip(&self) -> Option<std::net::IpAddr> {
        self.facts.as_ref().and_then(|f| f.client_ip)
    }
}

/// Why a request body is held back.
#[derive(Debug, Clone, Copy)]
enum HoldFor {
    /// Until the webhook signature over the whole body verifies.
    Webhook,
    /// Until the whole body has been scanned for PHI.
    Egress(egress::BodySpec),
}

/// A request body held back from the upstream.
struct HeldBody {
    purpose: HoldFor,
    buf: BytesMut,
    limit: usize,
}

/// Records `refusal` as the answer for `fail_to_proxy` and returns the error that aborts
/// the upstream request.
fn refuse(ctx: &mut RequestCtx, refusal: OwnResponse, why: &'static str) -> Box<Error> {
    let status = refusal.status();
    ctx.refusal = Some(refusal);
    Error::explain(ErrorType::HTTPStatus(status), why)
}

/// Counts a request in `phiguard_requests_in_flight` for as long as it lives.
struct InFlight(prometheus::IntGauge);

impl InFlight {
    fn new(gauge: &prometheus::IntGauge) -> Self {
        gauge.inc();
        Self(gauge.clone())
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.dec();
    }
}

#[async_trait]
impl ProxyHttp for PhiGuardProxy {
    type CTX = RequestCtx;

    fn new_ctx(&self) -> RequestCtx {
        RequestCtx {
            policy: self.policy.load_full(),
            route: None,
            start: Instant::now(),
            facts: None,
            upstream_error: None,
            upstream_start: None,
            proxy_added: Duration::ZERO,
            count_on_response: Vec::new(),
            held_body: None,
            egress: None,
            refusal: None,
            nonce_body: None,
            csp_report: false,
            _in_flight: InFlight::new(&self.metrics.in_flight),
        }
    }

    async fn request_filter(&self, session: &mut Session, ctx: &mut RequestCtx) -> Result<bool> {
        let facts = RequestFacts::read(session, &ctx.policy);
        let route = ctx.policy.route_index(
            facts.listener,
            facts.host.as_deref(),
            &facts.path,
            &session.req_header().method,
        );
        let on_egress_listener = facts
            .listener
            .is_some_and(|i| ctx.policy.listeners.get(i).is_some_and(|l| l.egress));
        let is_csp_report = !on_egress_listener
            && ctx
                .policy
                .csp_reports
                .as_ref()
                .is_some_and(|r| r.path == facts.path);
        ctx.facts = Some(facts);
        if is_csp_report {
            self.answer_csp_report(session, ctx).await?;
            return Ok(true);
        }
        ctx.route = route;
        if route.is_none() {
            let answer = if on_egress_listener {
                // A destination not on the allowlist: nothing is forwarded to it.
                self.metrics
                    .count_egress_block("-", "-", "unknown_destination");
                self.audit.record(&AuditEvent {
                    event: "block",
                    request_id: ctx.facts.as_ref().map_or("-", |f| f.request_id.as_str()),
                    route: "-",
                    destination: "-",
                    field: "host",
                    phi_type: "-",
                    action: "block",
                    count: 1,
                    fingerprint: None,
                    reason: Some("unknown_destination"),
                });
                OwnResponse::UnknownDestination
            } else {
                OwnResponse::NotFound
            };
            own_response::send(session, ctx, answer).await?;
            return Ok(true);
        }
        let is_webhook = ctx.route().is_some_and(|r| r.webhook.is_some());
        let refused = if is_webhook {
            self.admit_webhook(session, ctx).await
        } else {
            self.check_rate_limits(session, ctx).await
        };
        let refused = match refused {
            None => self.admit_egress(session, ctx),
            some => some,
        };
        if let Some(refused) = refused {
            own_response::send(session, ctx, refused).await?;
            return Ok(true);
        }
        Ok(false)
    }

    async fn request_body_filter(
        &self,
        session: &mut Session,
        body: &mut Option<Bytes>,
        end_of_stream: bool,
        ctx: &mut RequestCtx,
    ) -> Result<()> {
        let Some(held) = ctx.held_body.as_mut() else {
            return Ok(());
        };
        if let Some(chunk) = body.take() {
            if held.buf.len() + chunk.len() > held.limit {
                let refusal = match held.purpose {
                    HoldFor::Webhook => OwnResponse::PayloadTooLarge,
                    HoldFor::Egress(_) => self.block_egress(ctx, BlockReason::TooLarge),
                };
                return Err(refuse(ctx, refusal, "held-back body over its bound"));
            }
            held.buf.extend_from_slice(&chunk);
        }
        if !end_of_stream {
            // Hold the chunk back; an empty chunk tells pingora there is nothing to send yet.
            *body = Some(Bytes::new());
            return Ok(());
        }
        let Some(held) = ctx.held_body.take() else {
            return Ok(());
        };
        let whole = held.buf.freeze();
        match held.purpose {
            HoldFor::Webhook => {
                if self.verify_webhook(session, ctx, &whole) {
                    *body = Some(whole);
                    return Ok(());
                }
                let refusal = self
                    .check_rate_limits(session, ctx)
                    .await
                    .unwrap_or(OwnResponse::Unauthorized);
                Err(refuse(ctx, refusal, "webhook signature did not verify"))
            }
            HoldFor::Egress(spec) => {
                let Some(route) = ctx.route() else {
                    return Error::e_explain(ErrorType::InternalError, "egress state lost");
                };
                let Some(egress) = route.egress.as_ref() else {
                    return Error::e_explain(ErrorType::InternalError, "egress state lost");
                };
                let request_id = ctx.facts.as_ref().map_or("-", |f| f.request_id.as_str());
                let mut count =
                    |at: &egress::Findings<'_>| self.report_findings(request_id, route, at);
                let (scan_start, scanned) = (Instant::now(), whole.len());
                let finished = egress::finish_body(egress, spec, whole, &mut count);
                egress
                    .metrics
                    .observe_scan(scanned, scan_start.elapsed().as_secs_f64());
                match finished {
                    Ok((clean, generalized)) => {
                        self.count_generalized(route, generalized);
                        *body = Some(clean);
                        Ok(())
                    }
                    Err(reason) => {
                        let refusal = self.block_egress(ctx, reason);
                        Err(refuse(ctx, refusal, "egress body refused"))
                    }
                }
            }
        }
    }

    async fn upstream_peer(
        &self,
        _session: &mut Session,
        ctx: &mut RequestCtx,
    ) -> Result<Box<HttpPeer>> {
        let now = Instant::now();
        ctx.proxy_added = now - ctx.start;
        ctx.upstream_start = Some(now);
        let Some(route) = ctx.route() else {
            // request_filter answers unmatched requests itself, so this is unreachable.
            return Error::e_explain(ErrorType::InternalError, "no route selected");
        };
        match route.upstream.peer().await {
            Ok(peer) => Ok(peer),
            Err(e) => {
                let mut err = Error::new_up(ErrorType::ConnectNoRoute);
                err.context = Some(e.to_string().into());
                Err(err)
            }
        }
    }

    async fn upstream_request_filter(
        &self,
        session: &mut Session,
        upstream_request: &mut RequestHeader,
        ctx: &mut RequestCtx,
    ) -> Result<()> {
        let (Some(route), Some(facts)) = (ctx.route(), ctx.facts.as_ref()) else {
            return Error::e_explain(ErrorType::InternalError, "no route selected");
        };
        forwarding::prepare_upstream_request(session, upstream_request, route, facts)?;
        if let (Some(egress), Some(decided)) = (route.egress.as_ref(), ctx.egress.as_ref()) {
            egress::prepare_upstream(egress, decided, upstream_request)?;
        }
        if route.headers.has_nonce() {
            nonce_body::prefer_identity(session.req_header(), upstream_request);
        }
        Ok(())
    }

    async fn response_filter(
        &self,
        session: &mut Session,
        upstream_response: &mut ResponseHeader,
        ctx: &mut RequestCtx,
    ) -> Result<()> {
        let filter_start = Instant::now();
        if let (Some(route), Some(start)) = (ctx.route(), ctx.upstream_start) {
            route
                .metrics
                .observe_upstream((filter_start - start).as_secs_f64());
        }
        let method = &session.req_header().method;
        let (route, facts) = (ctx.route(), ctx.facts.as_ref());
        let (rewriter, nonce_outcome) = header_edit::response(upstream_response, |resp| {
            forwarding::strip_hop_by_hop(resp.status, &mut resp.headers);
            let mut nonce_result = (None, None);
            if let Some(route) = route {
                if let Some(nonce) = route.headers.apply(&mut resp.headers) {
                    nonce_result = nonce_body::prepare(resp, method, &nonce);
                }
                if route.phi {
                    force_no_store(&mut resp.headers);
                }
                if let Some(csd) = &route.clear_site_data {
                    resp.headers.insert(CLEAR_SITE_DATA.clone(), csd.clone());
                }
            }
            if let Some(id) = facts.and_then(|f| f.request_id_header.clone()) {
                resp.headers.insert(X_REQUEST_ID.clone(), id);
            }
            nonce_result
        });
        if let Some(outcome) = nonce_outcome {
            self.metrics.count_csp_nonce(outcome.as_str());
        }
        ctx.nonce_body = rewriter;
        ctx.proxy_added += filter_start.elapsed();
        if let Some(route) = ctx.route() {
            route
                .metrics
                .observe_proxy_added(ctx.proxy_added.as_secs_f64());
        }
        Ok(())
    }

    fn response_body_filter(
        &self,
        _session: &mut Session,
        body: &mut Option<Bytes>,
        end_of_stream: bool,
        ctx: &mut RequestCtx,
    ) -> Result<Option<Duration>> {
        let Some(rewriter) = ctx.nonce_body.as_mut() else {
            return Ok(None);
        };
        let failed_before = rewriter.is_failed();
        if rewriter.filter(body, end_of_stream).is_err() {
            // The rewriter stays failed: nothing more of this body is sent.
            if !failed_before {
                self.metrics
                    .count_csp_nonce(nonce_body::Outcome::DecodeError.as_str());
            }
            return Error::e_explain(
                ErrorType::InternalError,
                "compressed HTML could not be decoded for nonce insertion",
            );
        }
        Ok(None)
    }

    fn fail_to_connect(
        &self,
        _session: &mut Session,
        _peer: &HttpPeer,
        ctx: &mut RequestCtx,
        e: Box<Error>,
    ) -> Box<Error> {
        ctx.upstream_error = Some(classify_upstream_error(e.etype()));
        e
    }

    async fn fail_to_proxy(
        &self,
        session: &mut Session,
        e: &Error,
        ctx: &mut RequestCtx,
    ) -> FailToProxy {
        let response = if let Some(refusal) = ctx.refusal.take() {
            refusal
        } else {
            match (e.etype(), e.esource()) {
                (ErrorType::HTTPStatus(code), _) => OwnResponse::Status(*code),
                (_, ErrorSource::Upstream) => {
                    let kind = classify_upstream_error(e.etype());
                    ctx.upstream_error = Some(kind);
                    if kind == UpstreamErrorKind::Timeout {
                        OwnResponse::GatewayTimeout
                    } else {
                        OwnResponse::BadGateway
                    }
                }
                (
                    ErrorType::ReadError | ErrorType::WriteError | ErrorType::ConnectionClosed,
                    ErrorSource::Downstream,
                ) => {
                    // The client is gone; there is nobody to answer.
                    return FailToProxy {
                        error_code: 0,
                        can_reuse_downstream: false,
                    };
                }
                (ErrorType::ReadTimedout, ErrorSource::Downstream) => OwnResponse::Status(408),
                (_, ErrorSource::Downstream) => OwnResponse::Status(400),
                _ => OwnResponse::Status(500),
            }
        };
        let code = response.status();
        if session.response_written().is_none() {
            if let Err(err) = own_response::send(session, ctx, response).await {
                log::debug!("could not send error response: {}", err.etype().as_str());
            }
        }
        FailToProxy {
            error_code: code,
            can_reuse_downstream: false,
        }
    }

    async fn logging(&self, session: &mut Session, _e: Option<&Error>, ctx: &mut RequestCtx) {
        let status = session.response_written().map_or(0, |r| r.status.as_u16());
        let elapsed = ctx.start.elapsed();
        let route = ctx.route();
        let metrics = route.map_or(&ctx.policy.unmatched_metrics, |r| &r.metrics);
        if !ctx.csp_report {
            // Report posts are counted by the CSP report metrics, not as unmatched requests.
            metrics.observe(status, elapsed.as_secs_f64());
        }
        if let Some(route) = route {
            let now = ratelimit::now_ns();
            for (i, key) in &ctx.count_on_response {
                route.rate_limits[*i].count_response(key, status, now).await;
            }
        }
        if let Some(kind) = ctx.upstream_error {
            metrics.upstream_error(kind);
        }
        if !ctx.policy.access_log {
            return;
        }
        let facts = ctx.facts.as_ref();
        let path = loggable::path(&self.log_redaction, facts.map_or("-", |f| f.path.as_str()));
        let received = session.req_header().uri.query();
        let query = match ctx.egress.as_ref() {
            Some(decided) if decided.query_scanned_as_default => decided
                .query
                .as_deref()
                .or(received)
                .map(|q| loggable::query(&self.log_redaction, q, true)),
            _ => received.map(|q| loggable::query(&self.log_redaction, q, false)),
        };
        self.access_log.log(&AccessRecord {
            request_id: facts.map_or("-", |f| f.request_id.as_str()),
            route: match route {
                Some(r) => r.name.as_str(),
                None if ctx.csp_report => "(csp-report)",
                None => "-",
            },
            method: session.req_header().method.as_str(),
            path: &path,
            query: query.as_deref(),
            status,
            duration_ms: elapsed.as_secs_f64() * 1000.0,
            bytes_sent: session.body_bytes_sent(),
            upstream: route.map_or("-", |r| r.upstream.name.as_str()),
        });
    }

    /// pingora's default summary holds the full URI, query string included: that can carry
    /// PHI into the error log. Ours names only the method, route and normalized path.
    fn request_summary(&self, session: &Session, ctx: &RequestCtx) -> String {
        format!(
            "{} {} route={}",
            session.req_header().method,
            loggable::path(
                &self.log_redaction,
                ctx.facts.as_ref().map_or("-", |f| f.path.as_str())
            ),
            ctx.route().map_or("-", |r| r.name.as_str())
        )
    }
}

impl PhiGuardProxy {
    /// Webhook routes: a repeat delivery is acknowledged, an unsigned one refused (and
    /// rate-limited); a signed one goes on, its body held back until it verifies.
    async fn admit_webhook(&self, session: &Session, ctx: &mut RequestCtx) -> Option<OwnResponse> {
        let verifier = ctx.route()?.webhook.as_ref()?;
        let req = session.req_header();
        if let Some(id) = req.headers.get(webhook::ID_HEADER) {
            if verifier.is_duplicate(id.as_bytes(), ratelimit::now_ns()) {
                return Some(OwnResponse::DuplicateDelivery);
            }
        }
        if !req.headers.contains_key(webhook::SIGNATURE_HEADER) {
            return Some(
                self.check_rate_limits(session, ctx)
                    .await
                    .unwrap_or(OwnResponse::Unauthorized),
            );
        }
        let declared = req
            .headers
            .get(http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<usize>().ok());
        let max = verifier.max_body_bytes;
        if declared.is_some_and(|len| len > max) {
            return Some(OwnResponse::PayloadTooLarge);
        }
        ctx.held_body = Some(HeldBody {
            purpose: HoldFor::Webhook,
            buf: BytesMut::with_capacity(declared.unwrap_or(4096).min(max)),
            limit: max,
        });
        None
    }

    /// Egress routes: scans the query and headers now (before connecting) and arranges for
    /// the body to be held back and scanned; `Some` refuses the request.
    fn admit_egress(&self, session: &Session, ctx: &mut RequestCtx) -> Option<OwnResponse> {
        let route = ctx.route()?;
        let egress = route.egress.as_ref()?;
        let request_id = ctx.facts.as_ref().map_or("-", |f| f.request_id.as_str());
        let mut count = |at: &egress::Findings<'_>| self.report_findings(request_id, route, at);
        let scan_start = Instant::now();
        let admitted = egress::admit(egress, session.req_header(), &mut count);
        let scanned = session.req_header().uri.query().map_or(0, str::len);
        egress
            .metrics
            .observe_scan(scanned, scan_start.elapsed().as_secs_f64());
        match admitted {
            Ok(decided) => {
                self.count_generalized(route, decided.generalized);
                ctx.held_body = decided.body.map(|spec| HeldBody {
                    purpose: HoldFor::Egress(spec),
                    buf: BytesMut::with_capacity(decided.body_len_hint),
                    limit: egress.max_body_bytes,
                });
                ctx.egress = Some(decided);
                None
            }
            Err(reason) => Some(self.block_egress(ctx, reason)),
        }
    }

    /// Counts health-context page URLs generalized on an egress route.
    fn count_generalized(&self, route: &Route, n: usize) {
        for _ in 0..n {
            self.metrics.count_redaction(
                &route.name,
                &route.upstream.name,
                "HEALTH_CONTEXT",
                "generalize",
            );
        }
    }

    /// Counts findings and writes their audit events.
    fn report_findings(&self, request_id: &str, route: &Route, at: &egress::Findings<'_>) {
        let Some(egress) = route.egress.as_ref() else {
            return;
        };
        egress::count_findings(&egress.metrics, &egress.profile, at.findings);
        egress::audit_findings(
            &self.audit,
            request_id,
            &route.name,
            &route.upstream.name,
            &egress.profile,
            at,
        );
    }

    /// Counts a refused egress request, audits it, and gives the answer for it.
    fn block_egress(&self, ctx: &RequestCtx, reason: BlockReason) -> OwnResponse {
        let status = match ctx.route() {
            Some(route) => {
                self.metrics
                    .count_egress_block(&route.name, &route.upstream.name, reason.as_str());
                self.audit.record(&AuditEvent {
                    event: "block",
                    request_id: ctx.facts.as_ref().map_or("-", |f| f.request_id.as_str()),
                    route: &route.name,
                    destination: &route.upstream.name,
                    field: "-",
                    phi_type: "-",
                    action: "block",
                    count: 1,
                    fingerprint: None,
                    reason: Some(reason.as_str()),
                });
                route.egress.as_ref().map_or(451, |e| e.block_status)
            }
            None => 451,
        };
        OwnResponse::EgressBlocked { status }
    }

    /// Whether the held-back webhook body carries a valid signature; remembers its id.
    fn verify_webhook(&self, session: &Session, ctx: &RequestCtx, whole: &[u8]) -> bool {
        let req = session.req_header();
        match (
            ctx.route().and_then(|r| r.webhook.as_ref()),
            req.headers.get(webhook::SIGNATURE_HEADER),
        ) {
            (Some(verifier), Some(signature)) if verifier.verify(whole, signature.as_bytes()) => {
                if let Some(id) = req.headers.get(webhook::ID_HEADER) {
                    verifier.remember(id.as_bytes(), ratelimit::now_ns());
                }
                true
            }
            _ => false,
        }
    }

    /// Runs the route's rate-limit rules; the first refusal becomes a 429.
    async fn check_rate_limits(
        &self,
        session: &Session,
        ctx: &mut RequestCtx,
    ) -> Option<OwnResponse> {
        let (route, facts) = (
            ctx.route.map(|i| &ctx.policy.routes[i])?,
            ctx.facts.as_ref()?,
        );
        if route.rate_limits.is_empty() {
            return None;
        }
        run_rate_limits(
            &route.rate_limits,
            session,
            facts,
            &mut ctx.count_on_response,
        )
        .await
    }
}

/// Runs `rules` in order for the request; the first refusal becomes a 429 (or 503 when the
/// shared limiter is unreachable). Status-filtered rules are noted in `count_on_response`
/// as (rule index, client key), to be counted once the answer is known.
async fn run_rate_limits(
    rules: &[Arc<ratelimit::Rule>],
    session: &Session,
    facts: &RequestFacts,
    count_on_response: &mut Vec<(usize, DecisionKey)>,
) -> Option<OwnResponse> {
    let req = session.req_header();
    let view = RequestView::new(&req.headers, &facts.path, req.uri.query(), facts.client_ip);
    let now = ratelimit::now_ns();
    for (i, rule) in rules.iter().enumerate() {
        let decision = rule.check(&view, now).await;
        if let Some(key) = decision.count_on_response {
            count_on_response.push((i, key));
        }
        if let Some(refusal) = decision.refusal {
            if refusal == Refusal::BackendUnavailable {
                return Some(OwnResponse::LimiterUnavailable);
            }
            let retry_after_secs = refusal.retry_after_secs();
            return Some(OwnResponse::RateLimited {
                retry_after_secs,
                policy: rule.policy_header.clone(),
                state: rule.state_header(retry_after_secs),
            });
        }
    }
    None
}

/// `Cache-Control: no-store, private` for pages that carry PHI.
fn force_no_store(headers: &mut HeaderMap) {
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store, private"));
    headers.insert(PRAGMA, HeaderValue::from_static("no-cache"));
    headers.remove(EXPIRES);
}

fn classify_upstream_error(etype: &ErrorType) -> UpstreamErrorKind {
    match etype {
        ErrorType::ConnectTimedout
        | ErrorType::TLSHandshakeTimedout
        | ErrorType::ReadTimedout
        | ErrorType::WriteTimedout => UpstreamErrorKind::Timeout,
        ErrorType::ConnectRefused
        | ErrorType::ConnectNoRoute
        | ErrorType::TLSHandshakeFailure
        | ErrorType::InvalidCert
        | ErrorType::HandshakeError
        | ErrorType::ConnectError
        | ErrorType::BindError
        | ErrorType::SocketError => UpstreamErrorKind::Connect,
        _ => UpstreamErrorKind::Other,
    }
}

#[cfg(test)]
mod tests {
    use super::owned_utf8;

    #[test]
    fn owned_utf8_copies_valid_text_and_replaces_invalid_bytes() {
        assert_eq!(owned_utf8(b"a=%40&b=\xc3\xa9"), "a=%40&b=\u{e9}");
        assert_eq!(owned_utf8(b"a=\xff"), "a=\u{fffd}");
    }
}

//! The admin listener: `/metrics` (Prometheus text format), `/livez`, `/readyz`,
//! `GET /config` (the serving config's hash and the last reload result) and `POST /reload`.
//! Readiness is a latch: not ready until the config is loaded and every public listener
//! accepts connections, and not ready again from the moment shutdown starts.

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;

use bytes::Bytes;
use http::{Method, Response, StatusCode};
use http_body_util::Full;

use crate::reload::{ReloadError, ReloadOutcome, Reloader, Trigger};
use crate::serve::{respond, text, Handler, SimpleRequest};
use crate::telemetry::Metrics;

const STARTING: u8 = 0;
const READY: u8 = 1;
const DRAINING: u8 = 2;

/// The process's readiness, shared by the admin listener, startup and shutdown.
#[derive(Debug, Clone, Default)]
pub struct Readiness(Arc<AtomicU8>);

impl Readiness {
    /// Listeners are bound: ready (unless already draining).
    pub fn set_ready(&self) {
        let _ = self
            .0
            .compare_exchange(STARTING, READY, Ordering::SeqCst, Ordering::SeqCst);
    }

    /// Shutdown started: not ready, for good.
    pub fn set_draining(&self) {
        self.0.store(DRAINING, Ordering::SeqCst);
    }

    /// Whether `/readyz` says ready.
    pub fn is_ready(&self) -> bool {
        self.0.load(Ordering::SeqCst) == READY
    }

    fn state(&self) -> &'static str {
        match self.0.load(Ordering::SeqCst) {
            STARTING => "starting\n",
            READY => "ready\n",
            _ => "draining\n",
        }
    }
}

/// The admin request handler.
pub struct AdminHandler {
    metrics: Metrics,
    readiness: Readiness,
    reloader: Option<Arc<Reloader>>,
}

impl AdminHandler {
    /// A handler reporting `metrics` and `readiness`, and reloading through `reloader` when
    /// the config came from a file.
    pub fn new(metrics: Metrics, readiness: Readiness, reloader: Option<Arc<Reloader>>) -> Self {
        Self {
            metrics,
            readiness,
            reloader,
        }
    }

    fn reload(&self) -> Response<Full<Bytes>> {
        let Some(reloader) = &self.reloader else {
            return text(
                StatusCode::NOT_FOUND,
                "this config is embedded: nothing to reload\n",
            );
        };
        let (status, body) = match reloader.reload(Trigger::Admin) {
            Ok(ReloadOutcome::Applied { hash }) => (
                StatusCode::OK,
                serde_json::json!({"result": "applied", "hash": hash}),
            ),
            Ok(ReloadOutcome::Unchanged) => {
                (StatusCode::OK, serde_json::json!({"result": "unchanged"}))
            }
            Err(ReloadError::Refused { source: e, .. }) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                serde_json::json!({"result": "refused", "problems": e.to_string().lines().collect::<Vec<_>>()}),
            ),
        };
        json(status, &body)
    }

    fn config_status(&self) -> Response<Full<Bytes>> {
        match &self.reloader {
            Some(r) => json(StatusCode::OK, &*r.status()),
            None => json(
                StatusCode::OK,
                &serde_json::json!({"file": null, "reload": "unavailable (embedded config)"}),
            ),
        }
    }
}

fn json<T: serde::Serialize + ?Sized>(status: StatusCode, value: &T) -> Response<Full<Bytes>> {
    match serde_json::to_vec_pretty(value) {
        Ok(body) => respond(status, "application/json", Bytes::from(body)),
        Err(_) => text(StatusCode::INTERNAL_SERVER_ERROR, "cannot render\n"),
    }
}

impl Handler for AdminHandler {
    fn handle(&self, req: SimpleRequest) -> Response<Full<Bytes>> {
        if req.method == Method::POST && req.uri.path() == "/reload" {
            return self.reload();
        }
        if req.method != Method::GET && req.method != Method::HEAD {
            return text(StatusCode::METHOD_NOT_ALLOWED, "method not allowed\n");
        }
        match req.uri.path() {
            "/config" => self.config_status(),
            "/metrics" => respond(
                StatusCode::OK,
                "text/plain; version=0.0.4; charset=utf-8",
                Bytes::from(self.metrics.render()),
            ),
            "/livez" => text(StatusCode::OK, "ok\n"),
            "/readyz" => {
                let status = if self.readiness.is_ready() {
                    StatusCode::OK
                } else {
                    StatusCode::SERVICE_UNAVAILABLE
                };
                text(status, self.readiness.state())
            }
            _ => text(StatusCode::NOT_FOUND, "not found\n"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readiness_is_a_latch() {
        let r = Readiness::default();
        assert!(!r.is_ready());
        r.set_ready();
        assert!(r.is_ready());
        r.set_draining();
        assert!(!r.is_ready());
        r.set_ready();
        assert!(!r.is_ready(), "draining never goes back to ready");
    }
}

//! The demo origin: a tiny patient portal that behaves like many real ones do, badly. It
//! sends a `Server` and `X-Powered-By` header, session cookies without `Secure`/`HttpOnly`/
//! `SameSite`, cacheable account pages, no CSP and no `Clear-Site-Data`, serves pages whose
//! scripts leak (see [`super::pages`]) and relays its own `/t/collect` to the tracker sink
//! unredacted, so the proxy's fixes are visible. All data is synthetic.

use std::net::SocketAddr;

use bytes::Bytes;
use http::header::{CACHE_CONTROL, SET_COOKIE};
use http::{HeaderValue, Method, Response, StatusCode};
use http_body_util::Full;

use super::pages::Pages;
use super::relay::relay_to_sink;
use crate::serve::{respond, text, Handler, SimpleRequest};

const PORTAL_PAGE: &str = r#"<!doctype html>
<html><head><meta charset="utf-8"><title>Demo Patient Portal</title></head>
<body>
<h1>Demo Patient Portal</h1>
<p>Everything on this page is synthetic.</p>
<ul>
  <li><a href="/portal">Patient portal</a></li>
  <li><a href="/account">My account</a></li>
  <li><a href="/apps/appointments/1001">Appointment 1001</a></li>
  <li><a href="/account/logout">Log out</a></li>
</ul>
</body></html>
"#;

/// The portal's session cookie, as the origin sets it: no `Secure`, `HttpOnly` or `SameSite`.
const PORTAL_SESSION_COOKIE: &str = "_session_id=demo-portal-session-7f3a; Path=/";

/// The demo origin's request handler.
#[derive(Debug)]
pub struct DemoOrigin {
    pages: Pages,
    sink: SocketAddr,
}

impl DemoOrigin {
    /// An origin whose pages load their vendor script from `sink` (another origin) and whose
    /// `/t/collect` is relayed to the tracker sink at `sink`.
    pub fn new(sink: SocketAddr) -> Self {
        Self {
            pages: Pages::render(sink),
            sink,
        }
    }
}

fn html(body: &Bytes) -> Response<Full<Bytes>> {
    respond(StatusCode::OK, "text/html; charset=utf-8", body.clone())
}

impl Handler for DemoOrigin {
    fn handle(&self, req: SimpleRequest) -> Response<Full<Bytes>> {
        let path = req.uri.path();
        let mut resp = match (&req.method, path) {
            (&Method::GET, "/") => respond(
                StatusCode::OK,
                "text/html; charset=utf-8",
                Bytes::from_static(PORTAL_PAGE.as_bytes()),
            ),
            (&Method::GET, "/portal") => {
                let mut r = html(&self.pages.portal);
                r.headers_mut()
                    .append(SET_COOKIE, HeaderValue::from_static(PORTAL_SESSION_COOKIE));
                r
            }
            (&Method::GET, "/portal/checkout") => html(&self.pages.checkout),
            (&Method::GET, "/portal/checkout/complete") => html(&self.pages.checkout_complete),
            (&Method::GET | &Method::POST, "/t/collect") => match relay_to_sink(self.sink, &req) {
                Ok(()) => text(StatusCode::NO_CONTENT, ""),
                Err(e) => {
                    log::warn!("demo origin: {e}");
                    text(StatusCode::BAD_GATEWAY, "tracker unavailable\n")
                }
            },
            (&Method::GET, "/account") => {
                let mut r = respond(
                    StatusCode::OK,
                    "text/html; charset=utf-8",
                    Bytes::from_static(
                        b"<!doctype html><h1>Account of Demo Patient</h1><p>MRN: DEMO-0000</p>\n",
                    ),
                );
                let h = r.headers_mut();
                h.append(
                    SET_COOKIE,
                    HeaderValue::from_static("_session_id=demo-session-1; Path=/"),
                );
                h.append(
                    SET_COOKIE,
                    HeaderValue::from_static("cart=demo-cart; Path=/; SameSite=None"),
                );
                h.insert(
                    CACHE_CONTROL,
                    HeaderValue::from_static("public, max-age=3600"),
                );
                r
            }
            (&Method::GET, "/account/logout") => text(StatusCode::OK, "logged out\n"),
            (&Method::GET, p) if p.starts_with("/apps/appointments/") => {
                let id = &p["/apps/appointments/".len()..];
                if !id.is_empty() && id.len() <= 12 && id.bytes().all(|b| b.is_ascii_digit()) {
                    let body = format!(
                        "{{\"id\":{id},\"patient\":\"Demo Patient\",\"when\":\"2026-12-01T09:30:00Z\",\"clinic\":\"Demo Clinic\"}}\n"
                    );
                    respond(StatusCode::OK, "application/json", Bytes::from(body))
                } else {
                    text(StatusCode::NOT_FOUND, "no such appointment\n")
                }
            }
            (&Method::POST, p) if p.starts_with("/webhooks/") => respond(
                StatusCode::OK,
                "application/json",
                Bytes::from_static(b"{\"ok\":true}\n"),
            ),
            (&Method::GET, "/echo") => {
                // Shows what the origin received: forwarding headers and the path.
                let mut lines = format!("path {}\n", req.uri.path());
                for name in [
                    "host",
                    "x-forwarded-for",
                    "x-forwarded-proto",
                    "x-forwarded-host",
                    "x-request-id",
                ] {
                    if let Some(v) = req.headers.get(name).and_then(|v| v.to_str().ok()) {
                        lines.push_str(&format!("{name} {v}\n"));
                    }
                }
                respond(
                    StatusCode::OK,
                    "text/plain; charset=utf-8",
                    Bytes::from(lines),
                )
            }
            _ => text(StatusCode::NOT_FOUND, "not found on the demo origin\n"),
        };
        let h = resp.headers_mut();
        h.insert("server", HeaderValue::from_static("DemoOrigin/1.0"));
        h.insert("x-powered-by", HeaderValue::from_static("PHP/8.1.2"));
        resp
    }
}

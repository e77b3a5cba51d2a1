//! A small HTTP/1.1 server (hyper) for the admin listener and the demo backends. Each server
//! runs on its own thread with a single-threaded runtime, so it keeps answering while the
//! proxy's runtimes drain on shutdown (that is how `/readyz` can report "draining").

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use http::{HeaderMap, Method, Response, StatusCode, Uri};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;

/// Largest request body a [`Handler`] is given; larger requests get 413.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// A request with its body collected.
#[derive(Debug)]
pub struct SimpleRequest {
    /// Method.
    pub method: Method,
    /// Request target.
    pub uri: Uri,
    /// Headers.
    pub headers: HeaderMap,
    /// The whole body.
    pub body: Bytes,
    /// The peer address.
    pub peer: SocketAddr,
}

/// Something that answers requests.
pub trait Handler: Send + Sync + 'static {
    /// Answers one request.
    fn handle(&self, req: SimpleRequest) -> Response<Full<Bytes>>;
}

/// Errors starting a server.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The address could not be bound.
    #[error("cannot listen on {address}: {source}")]
    Bind {
        /// The address.
        address: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// The server thread or runtime could not be started.
    #[error("cannot start the {name} server: {source}")]
    Start {
        /// Which server.
        name: &'static str,
        /// Why.
        source: std::io::Error,
    },
}

/// A running server.
#[derive(Debug)]
pub struct RunningServer {
    /// The bound address (useful with port 0).
    pub address: SocketAddr,
}

/// Binds `address` now (so errors surface at once) and serves `handler` on a new thread.
pub fn spawn<H: Handler>(
    name: &'static str,
    address: SocketAddr,
    handler: H,
) -> Result<RunningServer, ServeError> {
    let listener = std::net::TcpListener::bind(address)
        .map_err(|source| ServeError::Bind { address, source })?;
    let bound = listener
        .local_addr()
        .map_err(|source| ServeError::Bind { address, source })?;
    listener
        .set_nonblocking(true)
        .map_err(|source| ServeError::Start { name, source })?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|source| ServeError::Start { name, source })?;
    let handler = Arc::new(handler);
    std::thread::Builder::new()
        .name(format!("{name}-server"))
        .spawn(move || runtime.block_on(accept_loop(name, listener, handler)))
        .map_err(|source| ServeError::Start { name, source })?;
    Ok(RunningServer { address: bound })
}

async fn accept_loop<H: Handler>(
    name: &'static str,
    listener: std::net::TcpListener,
    handler: Arc<H>,
) {
    let listener = match tokio::net::TcpListener::from_std(listener) {
        Ok(l) => l,
        Err(e) => {
            log::error!("{name} server stopped: {e}");
            return;
        }
    };
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(conn) => conn,
            Err(e) => {
                log::warn!("{name} server accept failed: {e}");
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                continue;
            }
        };
        let handler = handler.clone();
        tokio::spawn(async move {
            let service = service_fn(move |req| {
                let handler = handler.clone();
                async move { Ok::<_, Infallible>(answer(handler.as_ref(), req, peer).await) }
            });
            let _ = http1::Builder::new()
                .keep_alive(true)
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

async fn answer<H: Handler>(
    handler: &H,
    req: hyper::Request<Incoming>,
    peer: SocketAddr,
) -> Response<Full<Bytes>> {
    let (parts, body) = req.into_parts();
    let body = match Limited::new(body, MAX_BODY_BYTES).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(_) => return text(StatusCode::PAYLOAD_TOO_LARGE, "request body too large\n"),
    };
    handler.handle(SimpleRequest {
        method: parts.method,
        uri: parts.uri,
        headers: parts.headers,
        body,
        peer,
    })
}

/// A plain-text response.
pub fn text(status: StatusCode, body: &'static str) -> Response<Full<Bytes>> {
    respond(
        status,
        "text/plain; charset=utf-8",
        Bytes::from_static(body.as_bytes()),
    )
}

/// A response with the given content type and body.
pub fn respond(
    status: StatusCode,
    content_type: &'static str,
    body: Bytes,
) -> Response<Full<Bytes>> {
    let mut resp = Response::new(Full::new(body));
    *resp.status_mut() = status;
    resp.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static(content_type),
    );
    resp
}

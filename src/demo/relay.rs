//! The demo origin's server-side tracking endpoint: `/t/collect` relayed to the tracker sink
//! as it came, PHI and all, the way many storefronts proxy analytics through their own domain.
//! Behind phiguard the `/t` route goes to the sink through egress redaction instead, so the
//! origin's relay only runs when the origin is used directly.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use crate::serve::SimpleRequest;

/// How long the relay waits to connect to, write to or read from the sink.
const SINK_TIMEOUT: Duration = Duration::from_secs(2);

/// Why a relay failed.
#[derive(Debug, thiserror::Error)]
pub enum RelayError {
    /// The sink could not be reached or did not answer.
    #[error("tracker sink {sink}: {source}")]
    Io {
        /// The sink.
        sink: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
}

/// Sends `req` to the sink at `sink` as `<method> /collect?<query>` with its body, content
/// type and user agent, and waits for the sink's answer (the status is not checked: a
/// tracking endpoint answers the browser regardless).
pub fn relay_to_sink(sink: SocketAddr, req: &SimpleRequest) -> Result<(), RelayError> {
    let io = |source| RelayError::Io { sink, source };
    let mut stream = TcpStream::connect_timeout(&sink, SINK_TIMEOUT).map_err(io)?;
    stream.set_read_timeout(Some(SINK_TIMEOUT)).map_err(io)?;
    stream.set_write_timeout(Some(SINK_TIMEOUT)).map_err(io)?;
    let mut head = format!("{} /collect", req.method);
    if let Some(query) = req.uri.query() {
        head.push('?');
        head.push_str(query);
    }
    head.push_str(" HTTP/1.1\r\nhost: ");
    head.push_str(&sink.to_string());
    head.push_str("\r\nconnection: close\r\n");
    for name in ["content-type", "user-agent", "referer"] {
        if let Some(value) = req.headers.get(name).and_then(|v| v.to_str().ok()) {
            head.push_str(name);
            head.push_str(": ");
            head.push_str(value);
            head.push_str("\r\n");
        }
    }
    head.push_str(&format!("content-length: {}\r\n\r\n", req.body.len()));
    stream.write_all(head.as_bytes()).map_err(io)?;
    stream.write_all(&req.body).map_err(io)?;
    // Read the answer to its end (the sink closes the connection) so the request is recorded
    // before the browser hears back.
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).map_err(io)?;
    Ok(())
}

//! Upstreams: resolved once at config load into a ready-made pingora peer that each request
//! clones, so no request does DNS or parses an address.

use std::net::{SocketAddr, ToSocketAddrs};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use pingora::tls::RootCertStore;
use pingora::upstreams::peer::HttpPeer;
use pingora::utils::tls::{parse_x509, WrappedX509};

use crate::config::{ConfigIssue, UpstreamConfig};

/// A compiled upstream.
#[derive(Debug)]
pub struct Upstream {
    /// The upstream's name in the config (a metric label).
    pub name: String,
    /// The `Host` header to send, when the config or TLS decides it.
    pub host_header: Option<http::HeaderValue>,
    /// Whether the connection uses TLS.
    pub tls: bool,
    peer: HttpPeer,
}

impl Upstream {
    /// Compiles `config`, reporting problems under `key` (e.g. `upstreams.storefront`).
    /// Relative `ca_file` paths are resolved against `base_dir`.
    pub fn compile(
        name: &str,
        config: &UpstreamConfig,
        key: &str,
        base_dir: &Path,
        issues: &mut Vec<ConfigIssue>,
    ) -> Option<Upstream> {
        let before = issues.len();
        let (host, addr) = match resolve(&config.address) {
            Ok(v) => v,
            Err(problem) => {
                issues.push(ConfigIssue::new(format!("{key}.address"), problem));
                return None;
            }
        };
        let sni = config.sni.clone().unwrap_or_else(|| host.clone());
        if config.tls && sni.is_empty() {
            issues.push(ConfigIssue::new(
                format!("{key}.sni"),
                "TLS upstreams need a server name",
            ));
        }
        let mut peer = HttpPeer::new(addr, config.tls, sni.clone());
        let opts = &mut peer.options;
        opts.connection_timeout = Some(Duration::from_millis(config.connect_timeout_ms));
        opts.total_connection_timeout = Some(Duration::from_millis(config.connect_timeout_ms * 2));
        opts.read_timeout = Some(Duration::from_millis(config.read_timeout_ms));
        opts.write_timeout = Some(Duration::from_millis(config.write_timeout_ms));
        opts.idle_timeout = Some(Duration::from_millis(config.idle_timeout_ms));
        opts.verify_cert = true;
        opts.verify_hostname = true;
        for (field, value) in [
            ("connect_timeout_ms", config.connect_timeout_ms),
            ("read_timeout_ms", config.read_timeout_ms),
            ("write_timeout_ms", config.write_timeout_ms),
        ] {
            if value == 0 {
                issues.push(ConfigIssue::new(
                    format!("{key}.{field}"),
                    "must be greater than 0",
                ));
            }
        }
        if let Some(ca_file) = &config.ca_file {
            if !config.tls {
                issues.push(ConfigIssue::new(
                    format!("{key}.ca_file"),
                    "ca_file needs tls: true",
                ));
            }
            match load_ca(&base_dir.join(ca_file)) {
                Ok(cas) => peer.options.ca = Some(cas),
                Err(problem) => issues.push(ConfigIssue::new(format!("{key}.ca_file"), problem)),
            }
        }
        let host_header = match &config.host_header {
            Some(h) => match http::HeaderValue::from_str(h) {
                Ok(v) if !h.is_empty() => Some(v),
                _ => {
                    issues.push(ConfigIssue::new(
                        format!("{key}.host_header"),
                        "invalid header value",
                    ));
                    None
                }
            },
            None if config.tls => http::HeaderValue::from_str(&sni).ok(),
            None => None,
        };
        (issues.len() == before).then(|| Upstream {
            name: name.to_owned(),
            host_header,
            tls: config.tls,
            peer,
        })
    }

    /// A fresh peer for one request.
    pub fn peer(&self) -> Box<HttpPeer> {
        Box::new(self.peer.clone())
    }
}

/// Splits `host:port` and resolves it (once, at load).
fn resolve(address: &str) -> Result<(String, SocketAddr), String> {
    let (host, port) = address
        .rsplit_once(':')
        .ok_or_else(|| format!("{address:?} is not host:port"))?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if host.is_empty() {
        return Err(format!("{address:?} has no host"));
    }
    let port: u16 = port
        .parse()
        .map_err(|_| format!("{address:?} has an invalid port"))?;
    if port == 0 {
        return Err(format!("{address:?} has port 0"));
    }
    let addr = (host, port)
        .to_socket_addrs()
        .map_err(|e| format!("cannot resolve {host:?}: {e}"))?
        .next()
        .ok_or_else(|| format!("{host:?} resolves to no address"))?;
    Ok((host.to_owned(), addr))
}

/// Loads a PEM CA bundle, checking each certificate parses (pingora would panic later).
fn load_ca(path: &Path) -> Result<Arc<[WrappedX509]>, String> {
    let file =
        std::fs::File::open(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let mut reader = std::io::BufReader::new(file);
    let mut store = RootCertStore::empty();
    let mut cas = Vec::new();
    for cert in rustls_pemfile::certs(&mut reader) {
        let cert = cert.map_err(|e| format!("{}: bad PEM: {e}", path.display()))?;
        store
            .add(cert.clone())
            .map_err(|e| format!("{}: not a usable CA certificate: {e}", path.display()))?;
        cas.push(WrappedX509::new(cert.to_vec(), parse_x509));
    }
    if cas.is_empty() {
        return Err(format!("{} holds no PEM certificate", path.display()));
    }
    Ok(cas.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolve_checks_form() {
        assert!(resolve("127.0.0.1:80").is_ok());
        assert!(resolve("localhost:8080").is_ok());
        assert!(resolve("nohost").unwrap_err().contains("not host:port"));
        assert!(resolve(":80").unwrap_err().contains("no host"));
        assert!(resolve("127.0.0.1:99999")
            .unwrap_err()
            .contains("invalid port"));
    }

    #[test]
    fn missing_ca_file_is_reported() {
        let cfg: UpstreamConfig =
            serde_yaml::from_str("{address: \"127.0.0.1:443\", tls: true, ca_file: missing.pem}")
                .unwrap();
        let mut issues = Vec::new();
        assert!(Upstream::compile("u", &cfg, "upstreams.u", Path::new("."), &mut issues).is_none());
        assert_eq!(issues[0].key, "upstreams.u.ca_file");
        assert!(issues[0].problem.contains("cannot read"));
    }
}

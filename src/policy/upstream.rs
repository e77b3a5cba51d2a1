//! Upstreams: compiled once at config load into a ready-made pingora peer that each request
//! clones. An upstream given by IP is used as is; one given by host name is resolved on
//! first use and re-resolved every [`DNS_TTL`], asynchronously, so that a DNS change is
//! followed without a reload and a name that does not resolve at startup (a third-party
//! host while the pod's DNS warms up) does not stop the proxy. When a re-resolution fails,
//! the last good address keeps being used.

use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use arc_swap::ArcSwapOption;

use pingora::tls::RootCertStore;
use pingora::upstreams::peer::HttpPeer;
use pingora::utils::tls::{parse_x509, WrappedX509};

use crate::config::{ConfigIssue, UpstreamConfig};

/// How long a resolved upstream address is used before it is looked up again.
pub const DNS_TTL: Duration = Duration::from_secs(30);

/// A compiled upstream.
#[derive(Debug)]
pub struct Upstream {
    /// The upstream's name in the config (a metric label).
    pub name: String,
    /// The `Host` header to send, when the config or TLS decides it.
    pub host_header: Option<http::HeaderValue>,
    /// Whether the connection uses TLS.
    pub tls: bool,
    target: Target,
    peer: HttpPeer,
}

#[derive(Debug)]
enum Target {
    /// An IP address: no resolution needed.
    Ip,
    /// A host name, resolved lazily and cached.
    Name {
        host: String,
        port: u16,
        cache: ArcSwapOption<Resolved>,
    },
}

#[derive(Debug)]
struct Resolved {
    addr: SocketAddr,
    expires: Instant,
}

/// An upstream host name did not resolve (and no earlier address is known).
#[derive(Debug, thiserror::Error)]
#[error("upstream {upstream}: host name does not resolve")]
pub struct ResolveError {
    /// The upstream's name.
    pub upstream: String,
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
        let (host, port) = match split_host_port(&config.address) {
            Ok(v) => v,
            Err(problem) => {
                issues.push(ConfigIssue::new(format!("{key}.address"), problem));
                return None;
            }
        };
        let (target, addr) = match host.parse::<IpAddr>() {
            Ok(ip) => (Target::Ip, SocketAddr::new(ip, port)),
            Err(_) => (
                Target::Name {
                    host: host.clone(),
                    port,
                    cache: ArcSwapOption::empty(),
                },
                // Replaced by the resolved address before any connection is made.
                SocketAddr::from(([0, 0, 0, 0], port)),
            ),
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
            target,
            peer,
        })
    }

    /// A fresh peer for one request; resolves the host name when its cached address expired.
    pub async fn peer(&self) -> Result<Box<HttpPeer>, ResolveError> {
        let mut peer = Box::new(self.peer.clone());
        if let Target::Name { host, port, cache } = &self.target {
            let cached = cache.load_full();
            let addr = match cached.as_deref() {
                Some(r) if r.expires > Instant::now() => r.addr,
                stale => match lookup(host, *port).await {
                    Some(addr) => {
                        cache.store(Some(Arc::new(Resolved {
                            addr,
                            expires: Instant::now() + DNS_TTL,
                        })));
                        addr
                    }
                    None => match stale {
                        Some(r) => {
                            log::warn!(
                                "upstream {}: re-resolution failed; using the last address",
                                self.name
                            );
                            r.addr
                        }
                        None => {
                            return Err(ResolveError {
                                upstream: self.name.clone(),
                            })
                        }
                    },
                },
            };
            peer._address = pingora::protocols::l4::socket::SocketAddr::Inet(addr);
        }
        Ok(peer)
    }
}

async fn lookup(host: &str, port: u16) -> Option<SocketAddr> {
    match tokio::net::lookup_host((host, port)).await {
        Ok(mut addrs) => addrs.next(),
        Err(e) => {
            log::warn!("cannot resolve upstream host {host:?}: {e}");
            None
        }
    }
}

/// Splits `host:port`, checking both parts.
fn split_host_port(address: &str) -> Result<(String, u16), String> {
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
    let valid_name = host.len() <= 253
        && host.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        });
    if host.parse::<IpAddr>().is_err() && !valid_name {
        return Err(format!("{host:?} is neither an IP address nor a host name"));
    }
    Ok((host.to_owned(), port))
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
    fn addresses_are_checked() {
        assert_eq!(
            split_host_port("127.0.0.1:80").unwrap(),
            ("127.0.0.1".to_owned(), 80)
        );
        assert_eq!(split_host_port("[::1]:80").unwrap(), ("::1".to_owned(), 80));
        assert!(split_host_port("www.example.com:443").is_ok());
        assert!(split_host_port("nohost")
            .unwrap_err()
            .contains("not host:port"));
        assert!(split_host_port(":80").unwrap_err().contains("no host"));
        assert!(split_host_port("127.0.0.1:99999")
            .unwrap_err()
            .contains("invalid port"));
        assert!(split_host_port("bad host:80")
            .unwrap_err()
            .contains("neither"));
    }

    #[tokio::test]
    async fn host_names_resolve_lazily_and_are_cached() {
        let cfg: UpstreamConfig = serde_yaml::from_str("{address: \"localhost:8080\"}").unwrap();
        let mut issues = Vec::new();
        let up = Upstream::compile("u", &cfg, "upstreams.u", Path::new("."), &mut issues).unwrap();
        let first = up.peer().await.unwrap();
        assert_eq!(first._address.as_inet().unwrap().port(), 8080);
        assert!(first._address.as_inet().unwrap().ip().is_loopback());
        let Target::Name { cache, .. } = &up.target else {
            panic!("expected a name target")
        };
        assert!(cache.load().is_some());

        let cfg: UpstreamConfig =
            serde_yaml::from_str("{address: \"does-not-exist.invalid:80\"}").unwrap();
        let up =
            Upstream::compile("gone", &cfg, "upstreams.gone", Path::new("."), &mut issues).unwrap();
        assert!(issues.is_empty());
        assert_eq!(
            up.peer().await.unwrap_err().to_string(),
            "upstream gone: host name does not resolve"
        );
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

//! Assembles and runs the whole process for `phiguard run` and `phiguard demo`: metrics,
//! access log, admin listener, the pingora proxy service on every public listener, the
//! readiness latch and signal handling.

use std::collections::HashSet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwap;
use async_trait::async_trait;
use pingora::listeners::tls::TlsSettings;
use pingora::listeners::{L4BufferSettings, ListenerConfig};
use pingora::proxy::http_proxy_service_with_name;
use pingora::server::configuration::ServerConf;
use pingora::server::{RunArgs, Server, ShutdownSignal, ShutdownSignalWatch, ShutdownWatch};
use pingora::services::background::{background_service, BackgroundService};

use crate::admin::{AdminHandler, Readiness};
use crate::config::{ConfigError, LoadedConfig};
use crate::policy::{Policy, Shared};
use crate::proxy::PhiGuardProxy;
use crate::reload::{self, Reloader};
use crate::serve::{self, ServeError};
use crate::telemetry::{AccessLog, AuditLog, LineSink};

/// Why the proxy could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The config is invalid.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The admin listener could not start.
    #[error("admin listener: {0}")]
    Admin(#[from] ServeError),
    /// A public listener's address cannot be bound (in use, or not ours).
    #[error("listener {listener}: cannot listen on {address}: {source}")]
    Bind {
        /// Listener name.
        listener: String,
        /// The address.
        address: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// The audit file cannot be opened for appending.
    #[error("audit.path: cannot append to {}: {source}", path.display())]
    Audit {
        /// The file.
        path: std::path::PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The reload triggers (SIGHUP, file watch) could not start.
    #[error("cannot watch the config for reloads: {0}")]
    Reload(std::io::Error),
    /// A TLS listener could not be set up.
    #[error("listener {listener}: TLS setup failed: {reason}")]
    Tls {
        /// Listener name.
        listener: String,
        /// What failed.
        reason: String,
    },
}

/// Where the config came from, which decides whether it can be reloaded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfigSource {
    /// A file: reloadable by SIGHUP, file change and `POST /reload`.
    File,
    /// Built into the binary (`phiguard demo`): fixed.
    Embedded,
}

/// Compiles `loaded` and runs the proxy until a shutdown signal. Returns once the runtimes
/// have stopped.
pub fn run(loaded: LoadedConfig, source: ConfigSource) -> Result<(), StartError> {
    let shared = Shared::new();
    let metrics = shared.metrics.clone();
    let policy = Policy::compile(&loaded, &shared)?;
    let readiness = Readiness::default();
    let admin_address = policy.admin_address;
    let listeners = policy.listeners.clone();
    let server_settings = policy.server.clone();
    let audit_settings = policy.audit.clone();
    // pingora retries a failed bind for 30 s and then gives up on the service while the
    // process lives on; check every address can be bound first, and fail at once if not.
    for listener in &listeners {
        std::net::TcpListener::bind(listener.address).map_err(|source| StartError::Bind {
            listener: listener.name.clone(),
            address: listener.address,
            source,
        })?;
    }
    let policy_cell = Arc::new(ArcSwap::from_pointee(policy));

    let reloader = match source {
        ConfigSource::File => {
            let reloader = Arc::new(Reloader::new(
                &loaded.file,
                loaded.hash.clone(),
                policy_cell.clone(),
                shared.clone(),
            ));
            reload::spawn_triggers(reloader.clone()).map_err(StartError::Reload)?;
            Some(reloader)
        }
        ConfigSource::Embedded => {
            metrics.set_config_info(&loaded.hash, unix_now());
            None
        }
    };

    let admin = serve::spawn(
        "admin",
        admin_address,
        AdminHandler::new(metrics.clone(), readiness.clone(), reloader),
    )?;
    log::info!("admin listener on http://{}", admin.address);

    // Always started: `access_log.enabled` is checked per request, so a reload can turn it on.
    let access_log = AccessLog::spawn(std::io::stdout(), metrics.access_log_dropped.clone());
    let audit = match &audit_settings {
        None => AuditLog::disabled(metrics.audit_dropped.clone()),
        Some(a) => {
            let sink = match &a.file {
                None => LineSink::spawn(
                    "audit-log",
                    std::io::stdout(),
                    metrics.audit_dropped.clone(),
                ),
                Some(path) => {
                    let file = std::fs::OpenOptions::new()
                        .create(true)
                        .append(true)
                        .open(path)
                        .map_err(|source| StartError::Audit {
                            path: path.clone(),
                            source,
                        })?;
                    LineSink::spawn("audit-log", file, metrics.audit_dropped.clone())
                }
            };
            AuditLog::new(sink, a.key.clone(), a.hash_chain)
        }
    };

    let conf = ServerConf {
        threads: server_settings.threads,
        // With one worker thread there is nothing to steal from: pingora then runs a
        // current-thread tokio runtime, which wakes tasks without cross-thread handoffs.
        work_stealing: server_settings.threads > 1,
        grace_period_seconds: Some(server_settings.grace_period_secs),
        graceful_shutdown_timeout_seconds: Some(server_settings.shutdown_timeout_secs),
        ..ServerConf::default()
    };
    let mut server = Server::new_with_opt_and_conf(None, conf);
    server.bootstrap();

    let proxy = PhiGuardProxy::new(policy_cell, access_log, audit, metrics);
    let mut service = http_proxy_service_with_name(&server.configuration, proxy, "phiguard proxy");
    for listener in &listeners {
        let address = listener.address.to_string();
        let endpoint = ListenerConfig::tcp(address.as_str()).l4_buffer(client_socket_buffers());
        match &listener.tls {
            None => service.add_listener(endpoint),
            Some(files) => {
                let tls_error = |reason: String| StartError::Tls {
                    listener: listener.name.clone(),
                    reason,
                };
                let cert = files
                    .cert_file
                    .to_str()
                    .ok_or_else(|| tls_error("cert path is not UTF-8".into()))?;
                let key = files
                    .key_file
                    .to_str()
                    .ok_or_else(|| tls_error("key path is not UTF-8".into()))?;
                let mut settings =
                    TlsSettings::intermediate(cert, key).map_err(|e| tls_error(e.to_string()))?;
                settings.enable_h2();
                service.add_listener(endpoint.tls(settings));
            }
        }
        log::info!("listener {} on {}", listener.name, listener.address);
    }
    server.add_service(service);
    server.add_service(background_service(
        "readiness",
        ReadinessProbe {
            addresses: listeners.iter().map(|l| l.address).collect(),
            readiness: readiness.clone(),
        },
    ));

    server.run(RunArgs {
        shutdown_signal: Box::new(Signals {
            readiness,
            drain_delay: Duration::from_secs(server_settings.drain_delay_secs),
        }),
    });
    Ok(())
}

/// The buffers pingora puts in front of each client connection. Its defaults are a 64 KiB
/// read buffer (zeroed, so resident, for every open connection: 64 MB at 1,000 keep-alive
/// clients, while the HTTP/1 parser reads into buffers of its own anyway) and a 1,460-byte
/// write buffer (a response header and a small body then leave in two `send`s). No read
/// buffer and 16 KiB for writes: a header and a body of up to ~15 KiB leave in one.
fn client_socket_buffers() -> L4BufferSettings {
    const WRITE_BUFFER_BYTES: usize = 16 * 1024;
    L4BufferSettings::new(0, WRITE_BUFFER_BYTES)
}

/// Flips readiness once every public listener is listening. On Linux it looks for the
/// listening socket in `/proc/net/tcp{,6}` (a connection would make a TLS listener log a
/// handshake error at every start); elsewhere it connects.
struct ReadinessProbe {
    addresses: Vec<SocketAddr>,
    readiness: Readiness,
}

#[async_trait]
impl BackgroundService for ReadinessProbe {
    async fn start(&self, mut shutdown: ShutdownWatch) {
        for address in &self.addresses {
            loop {
                let listening = match listening_in_procfs(*address) {
                    Some(found) => found,
                    None => tokio::net::TcpStream::connect(connectable(*address))
                        .await
                        .is_ok(),
                };
                if listening {
                    break;
                }
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_millis(20)) => {}
                    _ = shutdown.changed() => return,
                }
            }
        }
        self.readiness.set_ready();
        log::info!("ready: every listener accepts connections");
    }
}

/// Whether one of this process's sockets listens on `address`'s port, per
/// `/proc/net/tcp` and `tcp6` and the socket inodes in `/proc/self/fd` (`None` when procfs
/// is not there). The port was bind-checked free before pingora started, but another
/// process can take it before pingora binds (pingora then retries): its listener must not
/// make phiguard ready. Without `/proc/self/fd`, any listener on the port counts.
fn listening_in_procfs(address: SocketAddr) -> Option<bool> {
    let own = own_socket_inodes();
    let mut seen_any_table = false;
    for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
        let Ok(text) = std::fs::read_to_string(table) else {
            continue;
        };
        seen_any_table = true;
        if table_has_listener(&text, address.port(), own.as_ref()) {
            return Some(true);
        }
    }
    seen_any_table.then_some(false)
}

/// Whether a `/proc/net/tcp`-format `table` lists a listening socket on `port` whose inode
/// is in `own` (any inode when `own` is `None`).
fn table_has_listener(table: &str, port: u16, own: Option<&HashSet<u64>>) -> bool {
    const LISTEN: &str = "0A";
    let port = format!(":{port:04X}");
    table.lines().skip(1).any(|line| {
        let mut cols = line.split_whitespace();
        let local = cols.nth(1).unwrap_or_default();
        let state = cols.nth(1).unwrap_or_default();
        // Columns after `st`: tx/rx queue, timer, retransmits, uid, timeout, inode.
        let inode = cols.nth(5).and_then(|i| i.parse::<u64>().ok());
        state == LISTEN
            && local.ends_with(&port)
            && own.map_or(true, |own| inode.is_some_and(|i| own.contains(&i)))
    })
}

/// The inodes of this process's sockets (`/proc/self/fd/N` → `socket:[inode]`), or
/// `None` when they cannot be listed.
fn own_socket_inodes() -> Option<HashSet<u64>> {
    let fds = std::fs::read_dir("/proc/self/fd").ok()?;
    Some(
        fds.filter_map(|fd| std::fs::read_link(fd.ok()?.path()).ok())
            .filter_map(|target| {
                let target = target.to_str()?;
                target
                    .strip_prefix("socket:[")?
                    .strip_suffix(']')?
                    .parse()
                    .ok()
            })
            .collect(),
    )
}

/// The address to probe a listener at: wildcard binds are probed on loopback.
fn connectable(address: SocketAddr) -> SocketAddr {
    match address.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => {
            SocketAddr::new(Ipv4Addr::LOCALHOST.into(), address.port())
        }
        IpAddr::V6(ip) if ip.is_unspecified() => {
            SocketAddr::new(Ipv6Addr::LOCALHOST.into(), address.port())
        }
        _ => address,
    }
}

/// SIGTERM: readiness goes false first; new connections are still served for
/// `drain_delay_secs` (so load balancers see the 503 and stop sending); then pingora stops
/// accepting and in-flight requests get the grace period. SIGINT: fast shutdown. SIGQUIT
/// (pingora's upgrade signal) is treated as SIGTERM: phiguard does not hand sockets over.
struct Signals {
    readiness: Readiness,
    drain_delay: Duration,
}

#[async_trait]
impl ShutdownSignalWatch for Signals {
    async fn recv(&self) -> ShutdownSignal {
        use tokio::signal::unix::{signal, SignalKind};
        let (Ok(mut term), Ok(mut int), Ok(mut quit)) = (
            signal(SignalKind::terminate()),
            signal(SignalKind::interrupt()),
            signal(SignalKind::quit()),
        ) else {
            log::error!("cannot install signal handlers; shutting down");
            return ShutdownSignal::FastShutdown;
        };
        let graceful = tokio::select! {
            _ = term.recv() => true,
            _ = quit.recv() => true,
            _ = int.recv() => false,
        };
        self.readiness.set_draining();
        if graceful {
            log::info!(
                "SIGTERM: not ready; still accepting for {:?}",
                self.drain_delay
            );
            tokio::time::sleep(self.drain_delay).await;
            log::info!("draining in-flight requests");
            ShutdownSignal::GracefulTerminate
        } else {
            log::info!("SIGINT: shutting down now");
            ShutdownSignal::FastShutdown
        }
    }
}

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `/proc/net/tcp` as Linux writes it: a header, then one socket a line.
    const TABLE: &str = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n\
   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4242 1 0000000000000000 100 0 0 10 0\n\
   1: 0100007F:1F91 0100007F:D431 01 00000000:00000000 00:00000000 00000000     0        0 4343 1 0000000000000000 20 4 30 10 -1\n";

    #[test]
    fn only_this_process_listening_sockets_make_it_ready() {
        let own: HashSet<u64> = [4242, 4343].into();
        let foreign: HashSet<u64> = [7].into();
        // 0x1F90 = 8080 listens (state 0A) with inode 4242.
        assert!(table_has_listener(TABLE, 8080, Some(&own)));
        assert!(table_has_listener(TABLE, 8080, None));
        // Another process's listener on the port is not ours.
        assert!(!table_has_listener(TABLE, 8080, Some(&foreign)));
        // 0x1F91 = 8081 is an established connection, not a listener.
        assert!(!table_has_listener(TABLE, 8081, Some(&own)));
        assert!(!table_has_listener(TABLE, 9999, None));
    }

    #[test]
    fn a_listener_of_this_process_is_found_in_procfs() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let address = listener.local_addr().unwrap();
        assert_eq!(listening_in_procfs(address), Some(true));
    }
}

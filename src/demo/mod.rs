//! `phiguard demo`: an embedded demo origin (a small patient portal with an appointment API
//! and a webhook endpoint), a tracker sink that records what reaches it, and the proxy in
//! front of both, all on 127.0.0.1 with the embedded `config/demo.yaml`.

mod origin;
mod pages;
mod relay;
mod sink;

use std::net::{Ipv4Addr, SocketAddr};
use std::path::Path;

use crate::config::{self, ConfigError, LoadedConfig};
use crate::serve::{self, ServeError};
pub use origin::DemoOrigin;
pub use sink::TrackerSink;

/// The embedded demo config, with `${..._PORT}` placeholders.
pub const DEMO_CONFIG: &str = include_str!("../../config/demo.yaml");

/// The demo's ports, derived from one base port.
#[derive(Debug, Clone, Copy)]
pub struct DemoPorts {
    /// The proxy's public listener.
    pub proxy: u16,
    /// The admin listener.
    pub admin: u16,
    /// The demo origin.
    pub origin: u16,
    /// The tracker sink.
    pub sink: u16,
}

impl DemoPorts {
    /// Ports `base`, `base+1`, `base+2`, `base+3`; `None` when they would pass 65535.
    pub fn from_base(base: u16) -> Option<Self> {
        Some(Self {
            proxy: base,
            admin: base.checked_add(1)?,
            origin: base.checked_add(2)?,
            sink: base.checked_add(3)?,
        })
    }
}

/// Why the demo could not start.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    /// The embedded config did not load (a bug).
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// A demo backend could not start.
    #[error(transparent)]
    Serve(#[from] ServeError),
}

/// The demo config for `ports`.
pub fn config(ports: DemoPorts) -> Result<LoadedConfig, ConfigError> {
    let text = DEMO_CONFIG
        .replace("${PROXY_PORT}", &ports.proxy.to_string())
        .replace("${ADMIN_PORT}", &ports.admin.to_string())
        .replace("${ORIGIN_PORT}", &ports.origin.to_string())
        .replace("${SINK_PORT}", &ports.sink.to_string());
    config::parse(&text, Path::new("<embedded demo config>"))
}

/// Starts the demo origin and the tracker sink.
pub fn start_backends(ports: DemoPorts) -> Result<(), DemoError> {
    let local = |port| SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    serve::spawn(
        "demo-origin",
        local(ports.origin),
        DemoOrigin::new(local(ports.sink)),
    )?;
    serve::spawn("tracker-sink", local(ports.sink), TrackerSink::default())?;
    Ok(())
}

/// The banner `phiguard demo` prints: the four URLs first, one per line, then curl commands.
pub fn banner(ports: DemoPorts) -> String {
    let p = ports.proxy;
    format!(
        "proxy http://127.0.0.1:{p}\n\
         admin http://127.0.0.1:{a}\n\
         origin http://127.0.0.1:{o}\n\
         sink http://127.0.0.1:{s}\n\
         \n\
         Open http://127.0.0.1:{p}/portal in a browser, and http://127.0.0.1:{o}/portal (no phiguard) to compare.\n\
         \n\
         Try:\n\
         \x20 curl -si http://127.0.0.1:{p}/account          # security headers, hardened cookies, no-store\n\
         \x20 curl -s 'http://127.0.0.1:{p}/t/collect?v=2&en=page_view&uid=jane.doe@example.com' && curl -s http://127.0.0.1:{s}/_sink/requests\n\
         \x20 curl -s http://127.0.0.1:{a}/metrics | grep phiguard_requests_total\n",
        a = ports.admin,
        o = ports.origin,
        s = ports.sink,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_config_is_valid() {
        let ports = DemoPorts::from_base(18080).unwrap();
        let loaded = config(ports).unwrap();
        crate::policy::Policy::compile(&loaded, &crate::policy::Shared::new()).unwrap();
        assert!(DemoPorts::from_base(65534).is_none());
    }

    #[test]
    fn banner_starts_with_the_four_urls() {
        let b = banner(DemoPorts::from_base(9000).unwrap());
        let lines: Vec<&str> = b.lines().take(4).collect();
        assert_eq!(
            lines,
            [
                "proxy http://127.0.0.1:9000",
                "admin http://127.0.0.1:9001",
                "origin http://127.0.0.1:9002",
                "sink http://127.0.0.1:9003"
            ]
        );
    }
}

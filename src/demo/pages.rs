//! The demo origin's HTML pages, rendered once when the origin starts. They behave like the
//! pages of many real storefronts and portals, badly: inline scripts, a tag manager that
//! injects scripts, a third-party vendor script, an analytics snippet that copies form fields
//! into a beacon, and a checkout that keeps the patient's details in `localStorage`. All data
//! is synthetic.

use std::net::SocketAddr;

use bytes::Bytes;

const PORTAL: &str = include_str!("pages/portal.html");
const CHECKOUT: &str = include_str!("pages/checkout.html");
const CHECKOUT_COMPLETE: &str = include_str!("pages/checkout_complete.html");

/// The rendered pages.
#[derive(Debug, Clone)]
pub struct Pages {
    /// `/portal`: the patient-portal page.
    pub portal: Bytes,
    /// `/portal/checkout`: writes the patient's details into `localStorage`.
    pub checkout: Bytes,
    /// `/portal/checkout/complete`: the order confirmation.
    pub checkout_complete: Bytes,
}

impl Pages {
    /// The pages, with the third-party vendor script loaded from `vendor` (another origin).
    pub fn render(vendor: SocketAddr) -> Self {
        Self {
            portal: Bytes::from(PORTAL.replace("{{VENDOR_PORT}}", &vendor.port().to_string())),
            checkout: Bytes::from_static(CHECKOUT.as_bytes()),
            checkout_complete: Bytes::from_static(CHECKOUT_COMPLETE.as_bytes()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn portal_loads_the_vendor_script_from_the_vendor_port() {
        let pages = Pages::render(SocketAddr::from(([127, 0, 0, 1], 9003)));
        let portal = std::str::from_utf8(&pages.portal).unwrap();
        assert!(portal.contains("src=\"http://127.0.0.1:9003/vendor.js?"));
        assert!(!portal.contains("{{"));
        // The origin sends no nonces: phiguard adds them.
        assert!(!portal.contains("nonce="));
    }
}

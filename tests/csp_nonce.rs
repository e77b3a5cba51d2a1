//! `csp_nonce`: the real binary in front of a real HTML upstream (plain, chunked, gzip, br,
//! an encoding phiguard cannot decode, and non-HTML) on 127.0.0.1. Each response's CSP
//! nonce is fresh, and the same nonce is on every inline `<script>` and `<style>` start tag
//! of its body and nowhere else.

mod common;

use std::collections::HashSet;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::*;

/// A page with every case: real tags (an external script carrying a stale nonce, which gets
/// none, and one split by the chunked upstream mid-name), and `<script` inside a comment, an attribute value and a script body.
const PAGE: &str = "<!doctype html><html><head>\
<style>body{color:#333}</style>\
<script>window.ok = 1;</script>\
<script nonce=\"stale\" src=\"/app.js\"></script>\
</head><body>\
<!-- <script>commented()</script> -->\
<a title=\"<script>attr()</script>\" href=\"/x\">x</a>\
<script>var s = '<script>inner()</script' + '>';</script>\
<p>hello</p>\
<SCRIPT type=module>late()</SCRIPT>\
</body></html>";

/// What `PAGE` must become, with `N` for the nonce.
const EXPECTED: &str = "<!doctype html><html><head>\
<style nonce=\"N\">body{color:#333}</style>\
<script nonce=\"N\">window.ok = 1;</script>\
<script nonce=\"stale\" src=\"/app.js\"></script>\
</head><body>\
<!-- <script>commented()</script> -->\
<a title=\"<script>attr()</script>\" href=\"/x\">x</a>\
<script nonce=\"N\">var s = '<script>inner()</script' + '>';</script>\
<p>hello</p>\
<SCRIPT type=module nonce=\"N\">late()</SCRIPT>\
</body></html>";

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

fn brotli(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    {
        let mut w = brotli::CompressorWriter::new(&mut out, 4096, 5, 22);
        w.write_all(data).unwrap();
    }
    out
}

/// An upstream that speaks HTTP/1.1 by hand, so it can send chunked bodies in pieces and
/// compressed bodies whatever the request asked for. Records every request head.
struct HtmlOrigin {
    address: String,
    heads: Arc<Mutex<Vec<String>>>,
}

impl HtmlOrigin {
    fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let address = listener.local_addr().unwrap().to_string();
        let heads = Arc::new(Mutex::new(Vec::new()));
        let seen = heads.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let seen = seen.clone();
                std::thread::spawn(move || serve(stream, &seen));
            }
        });
        Self { address, heads }
    }

    /// The head of the last request for `path`.
    fn head_for(&self, path: &str) -> String {
        self.heads
            .lock()
            .unwrap()
            .iter()
            .rev()
            .find(|h| h.starts_with(&format!("GET {path} ")))
            .cloned()
            .unwrap_or_else(|| panic!("the origin never saw {path}"))
    }
}

fn serve(stream: TcpStream, seen: &Mutex<Vec<String>>) {
    stream.set_nodelay(true).unwrap();
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut stream = stream;
    loop {
        let mut head = String::new();
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                return;
            }
            if line == "\r\n" {
                break;
            }
            head.push_str(&line);
        }
        seen.lock().unwrap().push(head.clone());
        let path = head.split(' ').nth(1).unwrap_or("/").to_owned();
        let fixed = |ctype: &str, encoding: Option<&str>, body: &[u8]| {
            let mut out = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: {ctype}\r\ncontent-length: {}\r\n\
                 etag: \"v1\"\r\n",
                body.len()
            );
            if let Some(e) = encoding {
                out.push_str(&format!("content-encoding: {e}\r\n"));
            }
            out.push_str("\r\n");
            let mut out = out.into_bytes();
            out.extend_from_slice(body);
            out
        };
        match path.as_str() {
            "/page" => stream.write_all(&fixed("text/html; charset=utf-8", None, PAGE.as_bytes())),
            "/gzip" => stream.write_all(&fixed("text/html", Some("gzip"), &gzip(PAGE.as_bytes()))),
            "/br" => stream.write_all(&fixed("text/html", Some("br"), &brotli(PAGE.as_bytes()))),
            "/corrupt" => stream.write_all(&fixed(
                "text/html",
                Some("gzip"),
                b"<script>this is not gzip</script>",
            )),
            "/zstd" => stream.write_all(&fixed("text/html", Some("zstd"), b"not-really-zstd")),
            "/data.json" => stream.write_all(&fixed(
                "application/json",
                None,
                b"{\"html\": \"<script>x()</script>\"}",
            )),
            "/chunked" => {
                // Pieces cut inside `<scr|ipt`, inside an attribute value and inside a
                // comment, each written and flushed on its own.
                let cuts = [60, 63, 130, 155, 190, 200, 260];
                let bytes = PAGE.as_bytes();
                let mut pieces = Vec::new();
                let mut from = 0;
                for c in cuts {
                    pieces.push(&bytes[from..c]);
                    from = c;
                }
                pieces.push(&bytes[from..]);
                let _ = stream.write_all(
                    b"HTTP/1.1 200 OK\r\ncontent-type: text/html\r\ntransfer-encoding: chunked\r\n\r\n",
                );
                for p in pieces {
                    let _ = stream.write_all(format!("{:x}\r\n", p.len()).as_bytes());
                    let _ = stream.write_all(p);
                    let _ = stream.write_all(b"\r\n");
                    let _ = stream.flush();
                    std::thread::sleep(Duration::from_millis(5));
                }
                stream.write_all(b"0\r\n\r\n")
            }
            _ => stream.write_all(b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n"),
        }
        .ok();
    }
}

const CSP: &str = "default-src 'self'; img-src 'self' data:; object-src 'none'";

fn start(origin: &HtmlOrigin) -> PhiGuard {
    PhiGuard::start(&format!(
        "upstreams: {{site: {{address: \"{}\"}}}}\n\
         header_profiles:\n\
         \x20 nonced: {{extends: portal, content_security_policy: \"{CSP}\", csp_nonce: true}}\n\
         routes:\n\
         \x20 - {{name: pages, upstream: site, headers: nonced}}\n",
        origin.address
    ))
}

const BROWSER: &[(&str, &str)] = &[
    ("accept", "text/html,application/xhtml+xml,*/*;q=0.8"),
    ("accept-encoding", "gzip, deflate, br"),
];

/// The nonce in the CSP's script-src, checked to be the same in style-src.
fn header_nonce(r: &Resp) -> String {
    let csp = r.must("content-security-policy");
    let nonce_in = |directive: &str| -> String {
        let d = csp
            .split(';')
            .map(str::trim)
            .find(|d| d.starts_with(&format!("{directive} ")))
            .unwrap_or_else(|| panic!("no {directive} in {csp}"));
        let at = d
            .find("'nonce-")
            .unwrap_or_else(|| panic!("no nonce in {d}"));
        d[at + 7..].split('\'').next().unwrap().to_owned()
    };
    let script = nonce_in("script-src");
    assert_eq!(nonce_in("style-src"), script, "{csp}");
    assert!(csp.starts_with("default-src 'self'; img-src 'self' data:; object-src 'none'; "));
    assert!(script.len() >= 22, "a nonce of at least 128 bits: {script}");
    script
}

fn assert_rewritten(r: &Resp) -> String {
    assert_eq!(r.status, 200);
    let nonce = header_nonce(r);
    assert_eq!(
        r.body,
        EXPECTED.replace("nonce=\"N\"", &format!("nonce=\"{nonce}\""))
    );
    assert_eq!(r.header("content-length"), None, "Content-Length must go");
    assert_eq!(r.header("content-encoding"), None, "sent as identity");
    assert_eq!(r.header("etag"), None);
    assert_eq!(r.header("cache-control"), Some("no-store"));
    nonce
}

#[test]
fn header_and_body_nonces_agree_and_never_repeat() {
    let origin = HtmlOrigin::start();
    let pg = start(&origin);
    let mut seen = HashSet::new();
    for _ in 0..200 {
        let r = get_with(&pg.url("/page"), BROWSER);
        let nonce = assert_rewritten(&r);
        assert!(seen.insert(nonce), "a nonce repeated");
    }
    assert_eq!(
        pg.metric("phiguard_csp_nonce_responses_total{outcome=\"rewritten\"}"),
        Some(200.0)
    );
}

#[test]
fn chunked_html_is_rewritten_across_chunk_boundaries() {
    let origin = HtmlOrigin::start();
    let pg = start(&origin);
    let r = get_with(&pg.url("/chunked"), BROWSER);
    assert_rewritten(&r);
}

#[test]
fn compressed_html_is_decoded_rewritten_and_sent_identity() {
    let origin = HtmlOrigin::start();
    let pg = start(&origin);
    for path in ["/gzip", "/br"] {
        let r = get_with(&pg.url(path), BROWSER);
        assert_rewritten(&r);
        // The upstream was asked for identity (it answered compressed anyway).
        let head = origin.head_for(path).to_ascii_lowercase();
        assert!(head.contains("accept-encoding: identity\r\n"), "{head}");
    }
    assert_eq!(
        pg.metric("phiguard_csp_nonce_responses_total{outcome=\"decoded\"}"),
        Some(2.0)
    );
}

#[test]
fn undecodable_html_is_sent_as_is_under_the_nonce_csp() {
    let origin = HtmlOrigin::start();
    let pg = start(&origin);
    let r = get_with(&pg.url("/zstd"), BROWSER);
    assert_eq!(r.status, 200);
    // Fail closed: the CSP still carries a nonce no tag has, so inline scripts are blocked.
    header_nonce(&r);
    assert_eq!(r.header("content-encoding"), Some("zstd"));
    assert!(!r.body.contains("nonce="));
    assert_eq!(
        pg.metric("phiguard_csp_nonce_responses_total{outcome=\"undecodable\"}"),
        Some(1.0)
    );
}

#[test]
fn corrupt_compressed_html_is_cut_off_not_sent_undecoded() {
    let origin = HtmlOrigin::start();
    let pg = start(&origin);
    let mut s = TcpStream::connect(("127.0.0.1", pg.port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s.write_all(
        b"GET /corrupt HTTP/1.1\r\nHost: x\r\nAccept: text/html\r\nConnection: close\r\n\r\n",
    )
    .unwrap();
    let mut raw = Vec::new();
    let _ = std::io::Read::read_to_end(&mut s, &mut raw);
    let raw = String::from_utf8_lossy(&raw);
    assert!(!raw.contains("not gzip"), "undecoded bytes went out: {raw}");
    assert!(
        !raw.ends_with("0\r\n\r\n"),
        "the body must not look complete: {raw}"
    );
    assert_eq!(
        pg.metric("phiguard_csp_nonce_responses_total{outcome=\"decode_error\"}"),
        Some(1.0)
    );
}

#[test]
fn non_html_is_untouched() {
    let origin = HtmlOrigin::start();
    let pg = start(&origin);
    let r = get_with(
        &pg.url("/data.json"),
        &[("accept", "*/*"), ("accept-encoding", "gzip")],
    );
    assert_eq!(r.status, 200);
    header_nonce(&r);
    assert_eq!(r.body, "{\"html\": \"<script>x()</script>\"}");
    assert_eq!(r.header("content-length"), Some("32"));
    assert_eq!(r.header("etag"), Some("\"v1\""));
    // Not a navigation: the client's Accept-Encoding went upstream unchanged.
    let head = origin.head_for("/data.json").to_ascii_lowercase();
    assert!(head.contains("accept-encoding: gzip\r\n"), "{head}");
}

#[test]
fn a_nonce_without_a_policy_is_a_config_error() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("p.yaml");
    std::fs::write(
        &file,
        "listeners: [{name: public, address: \"127.0.0.1:1\"}]\n\
         upstreams: {site: {address: \"127.0.0.1:2\"}}\n\
         header_profiles:\n\
         \x20 bare: {csp_nonce: true}\n\
         \x20 noscript: {content_security_policy: \"object-src 'none'\", csp_nonce: true}\n\
         \x20 reports: {content_security_policy: \"default-src 'self'\", csp_report: /r}\n\
         routes: [{name: all, upstream: site, headers: bare}]\n",
    )
    .unwrap();
    let (code, _, stderr) = run_to_exit(&["check", "--config", file.to_str().unwrap()]);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("header_profiles.bare.csp_nonce: needs content_security_policy"),
        "{stderr}"
    );
    assert!(
        stderr.contains("header_profiles.noscript.csp_nonce: the policy has no script-src"),
        "{stderr}"
    );
    assert!(
        stderr.contains("header_profiles.reports.csp_report: needs the top-level csp_reports"),
        "{stderr}"
    );
}

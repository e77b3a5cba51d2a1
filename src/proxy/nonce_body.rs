//! The response side of `csp_nonce`: which responses get their HTML rewritten, and the
//! streaming decode (gzip, deflate, br) → nonce insertion → identity pipeline.
//!
//! - Requests on nonce routes that accept `text/html` ask the upstream for
//!   `Accept-Encoding: identity`, so HTML normally arrives plain.
//! - A `text/html` response (not to `HEAD`, not 1xx/204/206/304) is rewritten chunk by chunk;
//!   `Content-Length` goes (the length changes), and so do `ETag` and `Last-Modified`, with
//!   `Cache-Control: no-store` set: a stored copy would replay an old nonce.
//! - If it arrives as `gzip`, `x-gzip`, `deflate` or `br` anyway, it is decoded as it
//!   streams, rewritten and sent as identity (`Content-Encoding` removed). One input chunk
//!   may not inflate past [`MAX_INFLATE_BYTES`]; a body that breaks that or fails to decode
//!   is cut off (the connection is closed; nothing undecoded is sent as identity).
//! - Any other encoding (`zstd`, `compress`, stacked encodings) is not rewritten: the body is
//!   sent as the upstream sent it, with the nonce CSP, so the page's inline scripts and
//!   styles are blocked (fail closed), and the response is counted as `undecodable`.

use std::io::Write;

use bytes::{Bytes, BytesMut};
use http::header::{
    ACCEPT, ACCEPT_ENCODING, CACHE_CONTROL, CONTENT_ENCODING, CONTENT_LENGTH, CONTENT_TYPE, ETAG,
    LAST_MODIFIED, TRANSFER_ENCODING,
};
use http::response::Parts;
use http::{HeaderMap, HeaderValue, Method};
use pingora::http::RequestHeader;

use super::html_nonce::NonceInjector;
use crate::policy::csp::Nonce;

/// Most bytes one upstream chunk may inflate to (a decompression bomb is cut off here).
pub const MAX_INFLATE_BYTES: usize = 16 * 1024 * 1024;

/// What happened to an HTML response on a nonce route (the `outcome` label).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Plain HTML, rewritten.
    Rewritten,
    /// Compressed HTML, decoded, rewritten and sent as identity.
    Decoded,
    /// An encoding phiguard cannot decode: sent unchanged; its inline tags lack the nonce.
    Undecodable,
    /// The compressed body failed to decode (or inflated too far): cut off.
    DecodeError,
}

impl Outcome {
    /// The label value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Rewritten => "rewritten",
            Self::Decoded => "decoded",
            Self::Undecodable => "undecodable",
            Self::DecodeError => "decode_error",
        }
    }
}

/// On a nonce route: asks the upstream for identity when the client wants HTML.
pub fn prefer_identity(client: &RequestHeader, upstream: &mut RequestHeader) {
    let wants_html = client
        .headers
        .get_all(ACCEPT)
        .iter()
        .any(|v| contains_ignore_case(v.as_bytes(), b"text/html"));
    if wants_html {
        let _ = upstream.insert_header(ACCEPT_ENCODING, "identity");
    }
}

fn contains_ignore_case(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w.eq_ignore_ascii_case(needle))
}

fn is_html(headers: &HeaderMap) -> bool {
    headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.split(';').next().unwrap_or("").trim())
        .is_some_and(|mime| mime.eq_ignore_ascii_case("text/html"))
}

/// A bounded output buffer for the decoders.
#[derive(Default)]
struct Inflated(Vec<u8>);

impl Write for Inflated {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.0.len() + buf.len() > MAX_INFLATE_BYTES {
            return Err(std::io::Error::other("inflated past the bound"));
        }
        self.0.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

enum Decoder {
    Identity,
    Gzip(Box<flate2::write::MultiGzDecoder<Inflated>>),
    /// `deflate` before its first two bytes tell zlib from raw deflate.
    DeflatePending(Vec<u8>),
    Zlib(Box<flate2::write::ZlibDecoder<Inflated>>),
    RawDeflate(Box<flate2::write::DeflateDecoder<Inflated>>),
    Brotli(Box<brotli::DecompressorWriter<Inflated>>),
}

fn zlib_header(first: u8, second: u8) -> bool {
    first & 0x0f == 8 && (u16::from(first) << 8 | u16::from(second)) % 31 == 0
}

impl Decoder {
    /// Feeds compressed bytes; returns what they inflated to.
    fn feed(&mut self, input: &[u8], last: bool) -> std::io::Result<Vec<u8>> {
        if let Self::DeflatePending(held) = self {
            held.extend_from_slice(input);
            if held.len() < 2 && !last {
                return Ok(Vec::new());
            }
            let held = std::mem::take(held);
            *self = if held.len() >= 2 && zlib_header(held[0], held[1]) {
                Self::Zlib(Box::new(flate2::write::ZlibDecoder::new(
                    Inflated::default(),
                )))
            } else {
                Self::RawDeflate(Box::new(flate2::write::DeflateDecoder::new(
                    Inflated::default(),
                )))
            };
            return self.feed(&held, last);
        }
        fn pump(w: &mut impl Write, input: &[u8]) -> std::io::Result<()> {
            w.write_all(input)?;
            w.flush()
        }
        let inflated = match self {
            Self::Identity => return Ok(input.to_vec()),
            Self::DeflatePending(_) => return Ok(Vec::new()),
            Self::Gzip(d) => {
                pump(d.as_mut(), input)?;
                if last {
                    d.try_finish()?;
                }
                d.get_mut()
            }
            Self::Zlib(d) => {
                pump(d.as_mut(), input)?;
                if last {
                    d.try_finish()?;
                }
                d.get_mut()
            }
            Self::RawDeflate(d) => {
                pump(d.as_mut(), input)?;
                if last {
                    d.try_finish()?;
                }
                d.get_mut()
            }
            Self::Brotli(d) => {
                pump(d.as_mut(), input)?;
                if last {
                    d.close()?;
                }
                d.get_mut()
            }
        };
        Ok(std::mem::take(&mut inflated.0))
    }
}

/// A compressed body could not be decoded (or inflated past its bound): the response must
/// be cut off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecodeFailed;

/// One HTML response being rewritten.
pub struct NonceBody {
    injector: NonceInjector,
    decoder: Decoder,
    failed: bool,
}

/// Decides what happens to a response on a nonce route whose CSP carries `nonce`, adjusting
/// its headers. `Some` when the body is to be rewritten; the outcome is counted by the caller.
pub fn prepare(
    resp: &mut Parts,
    method: &Method,
    nonce: &Nonce,
) -> (Option<NonceBody>, Option<Outcome>) {
    let status = resp.status.as_u16();
    if *method == Method::HEAD
        || status < 200
        || matches!(status, 204 | 206 | 304)
        || !is_html(&resp.headers)
    {
        return (None, None);
    }
    let encoding = resp
        .headers
        .get(CONTENT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.trim().to_ascii_lowercase());
    let (decoder, outcome) = match encoding.as_deref() {
        None | Some("") | Some("identity") => (Decoder::Identity, Outcome::Rewritten),
        Some("gzip") | Some("x-gzip") => (
            Decoder::Gzip(Box::new(flate2::write::MultiGzDecoder::new(
                Inflated::default(),
            ))),
            Outcome::Decoded,
        ),
        Some("deflate") => (Decoder::DeflatePending(Vec::new()), Outcome::Decoded),
        Some("br") => (
            Decoder::Brotli(Box::new(brotli::DecompressorWriter::new(
                Inflated::default(),
                4096,
            ))),
            Outcome::Decoded,
        ),
        Some(_) => return (None, Some(Outcome::Undecodable)),
    };
    let headers = &mut resp.headers;
    headers.remove(CONTENT_LENGTH);
    headers.remove(CONTENT_ENCODING);
    headers.remove(ETAG);
    headers.remove(LAST_MODIFIED);
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if resp.version == http::Version::HTTP_11 {
        headers.insert(TRANSFER_ENCODING, HeaderValue::from_static("chunked"));
    }
    let body = NonceBody {
        injector: NonceInjector::new(nonce),
        decoder,
        failed: false,
    };
    (Some(body), Some(outcome))
}

impl NonceBody {
    /// Whether decoding failed (the rest of the body is dropped).
    pub fn is_failed(&self) -> bool {
        self.failed
    }

    /// Rewrites the next body chunk in place. `Err` when a compressed body cannot be decoded:
    /// the response must be cut off.
    pub fn filter(
        &mut self,
        body: &mut Option<Bytes>,
        end_of_stream: bool,
    ) -> Result<(), DecodeFailed> {
        if self.failed {
            *body = None;
            return Err(DecodeFailed);
        }
        if let Decoder::Identity = self.decoder {
            if let Some(chunk) = body.take() {
                *body = Some(self.injector.rewrite(chunk));
            }
            return Ok(());
        }
        let input = body.take().unwrap_or_default();
        match self.decoder.feed(&input, end_of_stream) {
            Ok(plain) => {
                let mut out = BytesMut::with_capacity(plain.len() + 64);
                self.injector.rewrite_into(&plain, &mut out);
                *body = Some(out.freeze());
                Ok(())
            }
            Err(_) => {
                self.failed = true;
                *body = None;
                Err(DecodeFailed)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn html_response(encoding: Option<&str>) -> Parts {
        let mut resp = http::Response::builder()
            .header("content-type", "text/html; charset=utf-8")
            .header("content-length", "100")
            .header("etag", "\"x\"");
        if let Some(e) = encoding {
            resp = resp.header("content-encoding", e);
        }
        resp.body(()).unwrap().into_parts().0
    }

    const PAGE: &[u8] = b"<html><script>a()</script><p>hello</p><style>p{}</style></html>";

    fn run(encoding: Option<&str>, body: Vec<u8>, chunk: usize) -> (Vec<u8>, Nonce) {
        let nonce = Nonce::generate();
        let mut resp = html_response(encoding);
        let (rewriter, outcome) = prepare(&mut resp, &Method::GET, &nonce);
        assert!(outcome.is_some());
        let mut rewriter = rewriter.unwrap();
        assert!(resp.headers.get("content-length").is_none());
        assert!(resp.headers.get("content-encoding").is_none());
        assert!(resp.headers.get("etag").is_none());
        let mut out = Vec::new();
        let chunks: Vec<&[u8]> = body.chunks(chunk).collect();
        for (i, c) in chunks.iter().enumerate() {
            let mut b = Some(Bytes::copy_from_slice(c));
            rewriter.filter(&mut b, i + 1 == chunks.len()).unwrap();
            out.extend_from_slice(&b.unwrap_or_default());
        }
        (out, nonce)
    }

    fn expected(nonce: &Nonce) -> Vec<u8> {
        String::from_utf8_lossy(PAGE)
            .replace(
                "<script>",
                &format!("<script nonce=\"{}\">", nonce.as_str()),
            )
            .replace("<style>", &format!("<style nonce=\"{}\">", nonce.as_str()))
            .into_bytes()
    }

    #[test]
    fn every_decodable_encoding_comes_out_rewritten_identity() {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(PAGE).unwrap();
        let gz = gz.finish().unwrap();
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        z.write_all(PAGE).unwrap();
        let z = z.finish().unwrap();
        let mut raw =
            flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
        raw.write_all(PAGE).unwrap();
        let raw = raw.finish().unwrap();
        let mut br = Vec::new();
        {
            let mut w = brotli::CompressorWriter::new(&mut br, 4096, 5, 22);
            w.write_all(PAGE).unwrap();
        }
        for (enc, body) in [
            (None, PAGE.to_vec()),
            (Some("gzip"), gz),
            (Some("deflate"), z),
            (Some("deflate"), raw),
            (Some("br"), br),
        ] {
            for chunk in [1, 3, 7, 4096] {
                let (out, nonce) = run(enc, body.clone(), chunk);
                assert_eq!(out, expected(&nonce), "{enc:?} in chunks of {chunk}");
            }
        }
    }

    #[test]
    fn other_encodings_and_non_html_are_left_alone() {
        let nonce = Nonce::generate();
        let mut resp = html_response(Some("zstd"));
        let (r, outcome) = prepare(&mut resp, &Method::GET, &nonce);
        assert!(r.is_none());
        assert_eq!(outcome, Some(Outcome::Undecodable));
        assert_eq!(resp.headers.get("content-encoding").unwrap(), "zstd");
        assert!(resp.headers.get("content-length").is_some());

        let mut resp = html_response(None);
        resp.headers
            .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        assert!(matches!(
            prepare(&mut resp, &Method::GET, &nonce),
            (None, None)
        ));
        let mut resp = html_response(None);
        assert!(matches!(
            prepare(&mut resp, &Method::HEAD, &nonce),
            (None, None)
        ));
    }

    #[test]
    fn corrupt_compressed_html_is_cut_off() {
        let nonce = Nonce::generate();
        let mut resp = html_response(Some("gzip"));
        let (r, _) = prepare(&mut resp, &Method::GET, &nonce);
        let mut r = r.unwrap();
        let mut body = Some(Bytes::from_static(b"this is not gzip at all"));
        assert!(r.filter(&mut body, false).is_err());
        let mut next = Some(Bytes::from_static(b"more"));
        assert!(r.filter(&mut next, true).is_err());
        assert!(next.is_none());
    }

    #[test]
    fn a_bomb_is_cut_off() {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        let zeros = vec![b' '; 1024 * 1024];
        for _ in 0..(MAX_INFLATE_BYTES / zeros.len() + 2) {
            gz.write_all(&zeros).unwrap();
        }
        let bomb = gz.finish().unwrap();
        let nonce = Nonce::generate();
        let mut resp = html_response(Some("gzip"));
        let (r, _) = prepare(&mut resp, &Method::GET, &nonce);
        let mut body = Some(Bytes::from(bomb));
        assert!(r.unwrap().filter(&mut body, true).is_err());
    }

    #[test]
    fn only_html_navigations_ask_for_identity() {
        let mut client = RequestHeader::build("GET", b"/", None).unwrap();
        client
            .insert_header("accept", "text/html,application/xhtml+xml")
            .unwrap();
        let mut up = client.clone();
        up.insert_header("accept-encoding", "gzip, br").unwrap();
        prefer_identity(&client, &mut up);
        assert_eq!(up.headers.get("accept-encoding").unwrap(), "identity");
        let mut client = RequestHeader::build("GET", b"/a.js", None).unwrap();
        client.insert_header("accept", "*/*").unwrap();
        let mut up = client.clone();
        up.insert_header("accept-encoding", "gzip").unwrap();
        prefer_identity(&client, &mut up);
        assert_eq!(up.headers.get("accept-encoding").unwrap(), "gzip");
    }
}

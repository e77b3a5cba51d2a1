//! Editing request and response headers as plain `http` parts.
//!
//! pingora keeps a second, case-preserving map beside each header's `HeaderMap`, and every
//! `insert_header`/`remove_header` call re-parses the name (allocating it when it is not a
//! standard one) and updates both maps: about 1,300 instructions per header, a sixth of the
//! proxy's user-space work for a storefront page with the `portal` profile (callgrind,
//! docs/BENCHMARKS.md). The proxy therefore takes the parts out, edits the `HeaderMap`
//! directly with names built once, and puts them back without the case map. Header names
//! then go out as pingora writes them without one: a dozen common names title-cased
//! (`Content-Type`), the rest in lower case, as HTTP/2 and Envoy send them; field names are
//! case-insensitive (RFC 9110 5.1).

use http::request::Parts as RequestParts;
use http::response::Parts as ResponseParts;
use http::HeaderMap;
use pingora::http::{RequestHeader, ResponseHeader};
use pingora::prelude::*;

/// Runs `edit` on the parts of `resp` (status, version, headers) and puts them back. A
/// non-standard reason phrase is kept.
pub fn response<R>(resp: &mut ResponseHeader, edit: impl FnOnce(&mut ResponseParts) -> R) -> R {
    let custom_reason = resp
        .get_reason_phrase()
        .filter(|r| Some(*r) != resp.status.canonical_reason())
        .map(str::to_owned);
    let placeholder = ResponseHeader::from(empty_response_parts());
    let mut parts: ResponseParts = std::mem::replace(resp, placeholder).into();
    let out = edit(&mut parts);
    *resp = ResponseHeader::from(parts);
    if let Some(reason) = custom_reason {
        // The phrase came from a parsed response, so it is still a valid one.
        let _ = resp.set_reason_phrase(Some(&reason));
    }
    out
}

/// Runs `edit` on the headers of `req` and puts them back. Method, URI, version and the
/// request-target bytes sent upstream stay exactly as they were: a target the URI does not
/// reproduce byte for byte (absolute-form, non-UTF-8) is stored again after the edit.
pub fn request_headers<R>(
    req: &mut RequestHeader,
    edit: impl FnOnce(&mut HeaderMap) -> R,
) -> Result<R> {
    let raw_target = req.raw_path();
    let from_uri = req
        .uri
        .path_and_query()
        .map_or(&b""[..], |p| p.as_str().as_bytes());
    let keep_target = (raw_target != from_uri).then(|| raw_target.to_vec());
    let send_end_stream = req.send_end_stream();
    let placeholder = RequestHeader::from(http::Request::new(()).into_parts().0);
    let mut parts: RequestParts = std::mem::replace(req, placeholder).into();
    let out = edit(&mut parts.headers);
    *req = RequestHeader::from(parts);
    if let Some(target) = keep_target {
        req.set_raw_path(&target)?;
    }
    if let Some(end_stream) = send_end_stream {
        req.set_send_end_stream(end_stream);
    }
    Ok(out)
}

/// Parts of a `200` response without headers (an empty `HeaderMap` does not allocate).
pub fn empty_response_parts() -> ResponseParts {
    http::Response::new(()).into_parts().0
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::header::{HeaderName, HeaderValue};

    #[test]
    fn edits_keep_status_version_reason_and_other_headers() {
        let mut resp = ResponseHeader::build(299, None).unwrap();
        resp.set_reason_phrase(Some("Fine Thanks")).unwrap();
        resp.set_version(http::Version::HTTP_10);
        resp.append_header("Set-Cookie", "a=1").unwrap();
        resp.append_header("Set-Cookie", "b=2").unwrap();
        resp.insert_header("X-Gone", "1").unwrap();
        response(&mut resp, |parts| {
            parts.headers.remove("x-gone");
            parts.headers.insert(
                HeaderName::from_static("x-new"),
                HeaderValue::from_static("2"),
            );
        });
        assert_eq!(resp.status.as_u16(), 299);
        assert_eq!(resp.version, http::Version::HTTP_10);
        assert_eq!(resp.get_reason_phrase(), Some("Fine Thanks"));
        let cookies: Vec<_> = resp.headers.get_all("set-cookie").iter().collect();
        assert_eq!(cookies, ["a=1", "b=2"]);
        assert!(!resp.headers.contains_key("x-gone"));
        assert_eq!(resp.headers["x-new"], "2");
        // pingora's own edits still work afterwards, and the wire form has every header.
        resp.insert_header("X-Later", "3").unwrap();
        let mut wire = Vec::new();
        resp.header_to_h1_wire(&mut wire);
        let wire = String::from_utf8(wire).unwrap();
        for line in [
            "Set-Cookie: a=1\r\n",
            "Set-Cookie: b=2\r\n",
            "x-new: 2\r\n",
            "3\r\n",
        ] {
            assert!(wire.contains(line), "{line:?} missing from {wire:?}");
        }
    }
}

#[cfg(test)]
mod request_tests {
    use super::*;
    use http::header::{HeaderName, HeaderValue};

    fn edited(target: &[u8]) -> (RequestHeader, RequestHeader) {
        let mut req = RequestHeader::build("GET", target, None).unwrap();
        req.insert_header("X-Old", "1").unwrap();
        let before = req.clone();
        request_headers(&mut req, |headers| {
            headers.insert(
                HeaderName::from_static("x-new"),
                HeaderValue::from_static("2"),
            );
        })
        .unwrap();
        (before, req)
    }

    #[test]
    fn targets_are_sent_byte_for_byte() {
        for target in [
            &b"/"[..],
            b"/a/b?x=1&y=%20z",
            b"http://shop.example.com/p?q=1",
            b"/caf\xc3\xa9?n=\xff",
            b"*",
        ] {
            let (before, after) = edited(target);
            assert_eq!(after.raw_path(), before.raw_path(), "{target:?}");
            assert_eq!(after.raw_path_is_utf8(), before.raw_path_is_utf8());
            assert_eq!(after.uri, before.uri);
            assert_eq!(after.method, before.method);
            assert_eq!(after.headers["x-old"], "1");
            assert_eq!(after.headers["x-new"], "2");
        }
    }
}

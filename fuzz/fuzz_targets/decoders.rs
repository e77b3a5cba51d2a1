//! Decoders never panic, and decoding is consistent with its sniffers.
#![no_main]

use libfuzzer_sys::fuzz_target;
use phiguard_engine::codec;

fuzz_target!(|data: &[u8]| {
    let once = codec::percent_decode(data, true);
    assert!(once.len() <= data.len());
    let mut encoded = Vec::new();
    codec::percent_encode(&once, &mut encoded);
    assert_eq!(&*codec::percent_decode(&encoded, false), &*once);
    if codec::looks_like_base64(data) {
        if let Some(text) = codec::base64_text(data) {
            assert!(std::str::from_utf8(&text).is_ok());
        }
    }
    if let Some(unescaped) = codec::json_unescape(data) {
        let mut quoted = Vec::new();
        codec::json_quote(&unescaped, &mut quoted);
        assert!(serde_json::from_slice::<String>(&quoted).is_ok());
    }
});

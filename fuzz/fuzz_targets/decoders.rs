//! Decoders never panic, and decoding is consistent with its sniffers.
#![no_main]

use libfuzzer_sys::fuzz_target;
use phiguard_engine::codec;

fuzz_target!(|data: &[u8]| {
    let once = codec::percent_decode(data, true);
    assert!(once.len() <= data.len());
    // The walkers' decoder, in a scratch buffer that holds older bytes.
    let mut scratch = vec![b'%'; data.len() % 23];
    assert_eq!(codec::percent_decode_in(data, true, &mut scratch), &*once);
    let without_plus = codec::percent_decode(data, false);
    assert_eq!(codec::percent_decode_in(data, false, &mut scratch), &*without_plus);
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

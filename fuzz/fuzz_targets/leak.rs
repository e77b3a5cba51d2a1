//! The leak property both walker targets check: a found value must not be
//! left in the output, outside the masks that replaced it.

/// Whether `value` (found once in the input) is still in `output` once its
/// `[REDACTED:TYPE]` masks are taken out: a value can spell the start of
/// its own mask (`fn=[REDACT` → `fn=[REDACTED:PERSON_NAME]`), which is no
/// leak. With `decode`, it must also survive percent-decoding, layer after
/// layer until decoding changes nothing: re-encoding can make neighbouring
/// bytes spell the value (`\x15`+`55.555.5534` → `%1555.555.5534`), and a
/// nested query's bytes are encoded once per layer (a NUL before `:c::c`
/// comes out as `%2500:c::c`, whose first decoding still reads `0:c::c`
/// in the escape `%00`, gone at the next layer, as the NUL it stands for).
pub fn leaked(output: &[u8], value: &[u8], decode: bool) -> bool {
    outside_masks(output).iter().any(|part| {
        let mut layer = part.to_vec();
        // Bounded: a decoding that changes anything shortens the bytes, or
        // only turns `+` into spaces, which the next one leaves alone.
        loop {
            if memchr::memmem::find(&layer, value).is_none() {
                return false;
            }
            if !decode {
                return true;
            }
            let next = phiguard_engine::codec::percent_decode(&layer, true).into_owned();
            if next == layer {
                return true;
            }
            layer = next;
        }
    })
}

/// The pieces of `output` between its `[REDACTED:TYPE]` masks (a value
/// cannot span a mask, so each piece is searched alone).
fn outside_masks(output: &[u8]) -> Vec<&[u8]> {
    const OPEN: &[u8] = b"[REDACTED:";
    let mut parts = Vec::new();
    let (mut start, mut from) = (0, 0);
    while let Some(i) = memchr::memmem::find(&output[from..], OPEN).map(|i| from + i) {
        let name = &output[i + OPEN.len()..];
        let len = name
            .iter()
            .take_while(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || **b == b'_')
            .count();
        if len > 0 && name.get(len) == Some(&b']') {
            parts.push(&output[start..i]);
            start = i + OPEN.len() + len + 1;
            from = start;
        } else {
            from = i + 1;
        }
    }
    parts.push(&output[start..]);
    parts
}

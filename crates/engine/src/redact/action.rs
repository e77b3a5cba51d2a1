//! Rendering replacements: masks, Safe-Harbor ZIP prefixes and keyed pseudonyms.

use std::fmt;

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::profile::Profile;
use crate::spec::MaskStyle;
use crate::types::{Action, PhiType};

/// 3-digit ZIP prefixes with 20,000 or fewer people (HHS Safe Harbor list, 2000
/// census); they are replaced by `000`.
const RESTRICTED_ZIP3: [&[u8; 3]; 17] = [
    b"036", b"059", b"063", b"102", b"203", b"556", b"692", b"790", b"821", b"823", b"830", b"831",
    b"878", b"879", b"884", b"890", b"893",
];

/// A keyed HMAC-SHA256 pseudonymizer. Its Debug output never shows the key.
#[derive(Clone)]
pub struct Pseudonymizer {
    mac: Hmac<Sha256>,
    key_id: String,
}

impl fmt::Debug for Pseudonymizer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pseudonymizer")
            .field("key_id", &self.key_id)
            .finish_non_exhaustive()
    }
}

impl Pseudonymizer {
    /// Builds a pseudonymizer from raw key bytes and a key id.
    pub fn new(key: &[u8], key_id: String) -> Option<Pseudonymizer> {
        let mac = Hmac::<Sha256>::new_from_slice(key).ok()?;
        Some(Pseudonymizer { mac, key_id })
    }

    /// `PSEUDO_<LABEL>_<keyid>_<16 hex>`: HMAC over the label and the normalised
    /// value (e-mail lower-cased, numbers reduced to digits), so equal values map
    /// to equal tokens and different types never collide.
    pub fn write(&self, label: &str, ty: PhiType, value: &[u8], out: &mut Vec<u8>) {
        let mut mac = self.mac.clone();
        mac.update(label.as_bytes());
        mac.update(&[0]);
        let numeric = matches!(
            ty,
            PhiType::Phone | PhiType::Ssn | PhiType::CreditCard | PhiType::Npi | PhiType::Zip
        );
        let trimmed = value.trim_ascii();
        for &b in trimmed {
            if numeric {
                if b.is_ascii_digit() {
                    mac.update(&[b]);
                }
            } else {
                mac.update(&[b.to_ascii_lowercase()]);
            }
        }
        let tag = mac.finalize().into_bytes();
        out.extend_from_slice(b"PSEUDO_");
        out.extend_from_slice(label.as_bytes());
        out.push(b'_');
        out.extend_from_slice(self.key_id.as_bytes());
        out.push(b'_');
        const HEX: &[u8; 16] = b"0123456789abcdef";
        for &b in &tag[..8] {
            out.push(HEX[usize::from(b >> 4)]);
            out.push(HEX[usize::from(b & 15)]);
        }
    }
}

/// Writes the replacement of `value` for `action` (nothing for `drop`;
/// `block` renders a mask so a caller that forwards anyway leaks nothing).
pub fn render(profile: &Profile, ty: PhiType, action: Action, value: &[u8], out: &mut Vec<u8>) {
    let label = profile.label(ty);
    match action {
        Action::Drop => {}
        Action::Pseudonymize => match &profile.pseudonymizer {
            Some(p) => p.write(label, ty, value, out),
            None => write_label(label, out),
        },
        Action::Mask | Action::Block => {
            if ty == PhiType::Zip && profile.zip_keep_prefix && action == Action::Mask {
                let t = value.trim_ascii();
                if t.len() >= 5 && t[..3].iter().all(u8::is_ascii_digit) {
                    let zip3: &[u8] = if RESTRICTED_ZIP3.iter().any(|r| &t[..3] == *r) {
                        b"000"
                    } else {
                        &t[..3]
                    };
                    out.extend_from_slice(zip3);
                    out.extend_from_slice(b"**");
                    return;
                }
            }
            match profile.mask_style {
                MaskStyle::Label => write_label(label, out),
                MaskStyle::Preserve => {
                    for chunk in value.utf8_chunks() {
                        for c in chunk.valid().chars() {
                            if c.is_ascii_punctuation() || c.is_whitespace() {
                                let mut buf = [0u8; 4];
                                out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                            } else {
                                out.push(b'*');
                            }
                        }
                        if !chunk.invalid().is_empty() {
                            out.push(b'*');
                        }
                    }
                }
            }
        }
    }
}

/// Whether a whole value is already a mask or pseudonym this engine wrote
/// (so redacting twice changes nothing and reports nothing).
pub fn is_marker(v: &[u8]) -> bool {
    // Most values start with neither marker's first byte: one compare.
    if !matches!(v.first(), Some(b'[' | b'P')) {
        return false;
    }
    (v.starts_with(b"[REDACTED:") && v.ends_with(b"]") && !v[1..v.len() - 1].contains(&b'['))
        || (v.starts_with(b"PSEUDO_")
            && v.len() <= 96
            && v.iter().all(|b| b.is_ascii_alphanumeric() || *b == b'_'))
}

fn write_label(label: &str, out: &mut Vec<u8>) {
    out.extend_from_slice(b"[REDACTED:");
    out.extend_from_slice(label.as_bytes());
    out.push(b']');
}

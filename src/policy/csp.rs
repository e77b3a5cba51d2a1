//! Content-Security-Policy rewriting done once per config: the per-response nonce template
//! (`csp_nonce`) and the report directives (`csp_report`).
//!
//! A nonce policy is split at config load into the literal pieces around the places the
//! nonce goes, so a response only concatenates pieces and its fresh nonce.
//!
//! Where the nonce goes (`'nonce-N'` appended to the source list):
//! - `script-src` and `style-src`. When one is absent but `default-src` is present, it is
//!   added as `default-src`'s sources plus the nonce (what the browser would have fallen back
//!   to, so nothing else changes). When neither it nor `default-src` is present, that
//!   resource type is unrestricted and stays so (no directive is added).
//! - `script-src-elem` and `style-src-elem` when the policy has them (they take precedence for
//!   `<script>`/`<style>` elements); they are not added when absent.
//! - A `'none'` source is dropped from a list the nonce joins (`'none'` with other sources
//!   is ignored by browsers anyway, and the intent "nothing but the nonced tags" stays).
//! - Browsers ignore `'unsafe-inline'` in a list with a nonce. Where the (original or
//!   derived) `script-src`/`style-src` list had it and the policy has no
//!   `script-src-attr`/`style-src-attr`, that directive is added with the original list, so
//!   inline event handlers and `style=` attributes stay allowed as the policy said. (Inline
//!   `<script>`/`<style>` elements all get the nonce, so they stay allowed too.)
//!
//! `csp_report` removes any `report-uri`/`report-to` the policy has (reports must reach
//! phiguard's endpoint, not an origin- or third-party collector) and appends
//! `report-uri <path>; report-to phiguard-csp`.

use base64::Engine as _;
use http::HeaderValue;

/// The `Reporting-Endpoints` group name phiguard's `report-to` names.
pub const REPORT_GROUP: &str = "phiguard-csp";

/// Length of a rendered nonce: 18 random bytes (144 bits) in base64 without padding.
pub const NONCE_LEN: usize = 24;

/// A fresh per-response nonce: 144 bits from the thread's CSPRNG (`rand::rng()`, ChaCha12
/// seeded and periodically reseeded from the OS), standard base64, 24 ASCII characters.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Nonce([u8; NONCE_LEN]);

impl Nonce {
    /// Draws a new nonce.
    pub fn generate() -> Self {
        let raw: [u8; 18] = rand::random();
        let mut out = [0u8; NONCE_LEN];
        // 18 bytes encode to exactly 24 base64 characters: the slice always fits.
        let _ = base64::engine::general_purpose::STANDARD.encode_slice(raw, &mut out);
        Self(out)
    }

    /// The nonce as text.
    pub fn as_str(&self) -> &str {
        // Base64 output is ASCII.
        std::str::from_utf8(&self.0).unwrap_or("")
    }

    /// The nonce's bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl std::fmt::Debug for Nonce {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Nonce(..)")
    }
}

/// A CSP header value with places for a nonce, pre-split at config load.
#[derive(Debug, Clone)]
pub struct NonceCsp {
    /// Literal pieces; the nonce goes between each two.
    pieces: Vec<String>,
    /// Length of the rendered value.
    rendered_len: usize,
}

impl NonceCsp {
    /// The header value with `nonce` in every place.
    pub fn render(&self, nonce: &Nonce) -> Option<HeaderValue> {
        let mut out = Vec::with_capacity(self.rendered_len);
        for (i, piece) in self.pieces.iter().enumerate() {
            if i > 0 {
                out.extend_from_slice(nonce.as_bytes());
            }
            out.extend_from_slice(piece.as_bytes());
        }
        HeaderValue::from_maybe_shared(bytes::Bytes::from(out)).ok()
    }

    /// How many places the nonce fills.
    pub fn places(&self) -> usize {
        self.pieces.len().saturating_sub(1)
    }
}

/// Why a CSP cannot take a nonce.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CspError {
    /// No directive the nonce could restrict.
    #[error(
        "the policy has no script-src, style-src or default-src, so a nonce would restrict \
         nothing; give at least one of them"
    )]
    NothingToNonce,
}

/// One directive: name (lowercase) and its source tokens.
struct Directive<'a> {
    name: String,
    sources: Vec<&'a str>,
}

fn parse(policy: &str) -> Vec<Directive<'_>> {
    policy
        .split(';')
        .filter_map(|d| {
            let mut tokens = d.split_ascii_whitespace();
            let name = tokens.next()?.to_ascii_lowercase();
            Some(Directive {
                name,
                sources: tokens.collect(),
            })
        })
        .collect()
}

/// Marker for where the nonce goes while the policy is being assembled; never valid CSP.
const SLOT: &str = "\u{0}";

fn with_nonce<'a>(sources: &[&'a str]) -> Vec<&'a str> {
    let mut out: Vec<&str> = sources
        .iter()
        .copied()
        .filter(|s| !s.eq_ignore_ascii_case("'none'"))
        .collect();
    out.push(SLOT);
    out
}

/// Rewrites `policy` for the profile's options: the nonce places when `nonce`, the report
/// directives when `report_path` is given. Returns the pieces around the nonce places (one
/// piece when there is no nonce).
pub fn rewrite<'a>(
    policy: &'a str,
    nonce: bool,
    report_path: Option<&'a str>,
) -> Result<Vec<String>, CspError> {
    let mut directives = parse(policy);
    // Browsers honour the first of duplicate directives; later ones are dropped here so the
    // nonce goes into the one that counts.
    let mut seen = std::collections::HashSet::new();
    directives.retain(|d| seen.insert(d.name.clone()));
    if nonce {
        let default_src = directives
            .iter()
            .find(|d| d.name == "default-src")
            .map(|d| d.sources.clone());
        let mut placed = false;
        for (name, attr) in [
            ("script-src", "script-src-attr"),
            ("style-src", "style-src-attr"),
        ] {
            let original = match directives.iter_mut().find(|d| d.name == name) {
                Some(d) => {
                    let original = d.sources.clone();
                    d.sources = with_nonce(&d.sources);
                    original
                }
                None => match &default_src {
                    Some(default) => {
                        directives.push(Directive {
                            name: name.to_owned(),
                            sources: with_nonce(default),
                        });
                        default.clone()
                    }
                    None => continue,
                },
            };
            placed = true;
            // A nonce makes browsers ignore 'unsafe-inline' in the same list: inline
            // attributes (`onclick=`, `style=`) the policy allowed keep their permission in
            // their own directive.
            let allows_inline_attributes = original
                .iter()
                .any(|s| s.eq_ignore_ascii_case("'unsafe-inline'"));
            if allows_inline_attributes && !directives.iter().any(|d| d.name == attr) {
                directives.push(Directive {
                    name: attr.to_owned(),
                    sources: original,
                });
            }
        }
        for d in directives
            .iter_mut()
            .filter(|d| d.name == "script-src-elem" || d.name == "style-src-elem")
        {
            d.sources = with_nonce(&d.sources);
        }
        if !placed {
            return Err(CspError::NothingToNonce);
        }
    }
    if let Some(path) = report_path {
        directives.retain(|d| d.name != "report-uri" && d.name != "report-to");
        directives.push(Directive {
            name: "report-uri".to_owned(),
            sources: vec![path],
        });
        directives.push(Directive {
            name: "report-to".to_owned(),
            sources: vec![REPORT_GROUP],
        });
    }
    let mut text = String::with_capacity(policy.len() + 96);
    for (i, d) in directives.iter().enumerate() {
        if i > 0 {
            text.push_str("; ");
        }
        text.push_str(&d.name);
        for s in &d.sources {
            text.push(' ');
            if *s == SLOT {
                text.push_str("'nonce-");
                text.push_str(SLOT);
                text.push('\'');
            } else {
                text.push_str(s);
            }
        }
    }
    Ok(text.split(SLOT).map(str::to_owned).collect())
}

/// Compiles the nonce template from rewritten pieces.
pub fn nonce_template(pieces: Vec<String>) -> NonceCsp {
    let rendered_len =
        pieces.iter().map(String::len).sum::<usize>() + pieces.len().saturating_sub(1) * NONCE_LEN;
    NonceCsp {
        pieces,
        rendered_len,
    }
}

/// Whether `path` may be used as a report path: absolute, and nothing that would end the
/// directive or the header (`;`, `,`, whitespace, quotes, control characters).
pub fn valid_report_path(path: &str) -> bool {
    path.starts_with('/')
        && path
            .bytes()
            .all(|b| b.is_ascii_graphic() && !matches!(b, b';' | b',' | b'"' | b'\''))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(policy: &str, report: Option<&str>) -> String {
        let pieces = rewrite(policy, true, report).unwrap();
        let t = nonce_template(pieces);
        let n = Nonce::generate();
        t.render(&n)
            .unwrap()
            .to_str()
            .unwrap()
            .replace(n.as_str(), "N")
    }

    #[test]
    fn nonce_joins_existing_directives() {
        assert_eq!(
            render("default-src 'self'; script-src 'self' https://cdn.example; style-src 'self'", None),
            "default-src 'self'; script-src 'self' https://cdn.example 'nonce-N'; style-src 'self' 'nonce-N'"
        );
    }

    #[test]
    fn absent_directives_are_derived_from_default_src() {
        assert_eq!(
            render("default-src 'self' https:; img-src data:", None),
            "default-src 'self' https:; img-src data:; script-src 'self' https: 'nonce-N'; \
             style-src 'self' https: 'nonce-N'"
        );
        assert_eq!(
            render("default-src 'none'", None),
            "default-src 'none'; script-src 'nonce-N'; style-src 'nonce-N'"
        );
    }

    #[test]
    fn without_default_src_an_absent_type_stays_unrestricted() {
        assert_eq!(
            render("script-src 'self'; object-src 'none'", None),
            "script-src 'self' 'nonce-N'; object-src 'none'"
        );
        assert_eq!(
            rewrite("object-src 'none'", true, None),
            Err(CspError::NothingToNonce)
        );
    }

    #[test]
    fn inline_attributes_the_policy_allowed_stay_allowed() {
        assert_eq!(
            render("default-src 'self'; style-src 'self' 'unsafe-inline'", None),
            "default-src 'self'; style-src 'self' 'unsafe-inline' 'nonce-N'; \
             script-src 'self' 'nonce-N'; style-src-attr 'self' 'unsafe-inline'"
        );
        assert_eq!(
            render(
                "default-src 'self' 'unsafe-inline'; script-src-attr 'none'",
                None
            ),
            "default-src 'self' 'unsafe-inline'; script-src-attr 'none'; \
             script-src 'self' 'unsafe-inline' 'nonce-N'; \
             style-src 'self' 'unsafe-inline' 'nonce-N'; style-src-attr 'self' 'unsafe-inline'"
        );
    }

    #[test]
    fn elem_directives_get_it_and_duplicates_go() {
        assert_eq!(
            render(
                "script-src 'self'; script-src-elem 'self'; script-src *",
                None
            ),
            "script-src 'self' 'nonce-N'; script-src-elem 'self' 'nonce-N'"
        );
    }

    #[test]
    fn report_directives_replace_the_policys_own() {
        assert_eq!(
            render(
                "default-src 'self'; report-uri https://collector.example/r; report-to x",
                Some("/_phiguard/csp-report")
            ),
            "default-src 'self'; script-src 'self' 'nonce-N'; style-src 'self' 'nonce-N'; \
             report-uri /_phiguard/csp-report; report-to phiguard-csp"
        );
        let plain = rewrite("default-src 'self'", false, Some("/r")).unwrap();
        assert_eq!(
            plain,
            vec!["default-src 'self'; report-uri /r; report-to phiguard-csp".to_owned()]
        );
    }

    #[test]
    fn nonces_are_fresh_and_well_formed() {
        let mut seen = std::collections::HashSet::new();
        for _ in 0..10_000 {
            let n = Nonce::generate();
            assert_eq!(n.as_str().len(), NONCE_LEN);
            assert!(n
                .as_str()
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/'));
            assert!(seen.insert(n.as_str().to_owned()));
        }
    }

    #[test]
    fn report_paths_are_checked() {
        assert!(valid_report_path("/_phiguard/csp-report"));
        assert!(!valid_report_path("relative"));
        assert!(!valid_report_path("/a; script-src *"));
        assert!(!valid_report_path("/a b"));
    }
}

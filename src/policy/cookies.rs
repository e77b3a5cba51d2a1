//! Cookie hardening: adds `Secure`, `HttpOnly` and a `SameSite` floor to upstream
//! `Set-Cookie` headers, per cookie name or glob. What is already stricter is left alone.
//! Cookie values are never logged or copied anywhere but the rewritten header.

use http::header::{Entry, HeaderMap, HeaderValue, SET_COOKIE};

use crate::config::{ConfigIssue, CookieRuleConfig, SameSite};

/// A compiled cookie rule.
#[derive(Debug, Clone)]
struct CookieRule {
    pattern: Glob,
    secure: bool,
    http_only: bool,
    same_site: Option<SameSite>,
}

/// The cookie rules of one header profile, first match wins.
#[derive(Debug, Clone, Default)]
pub struct CookieHardening {
    rules: Vec<CookieRule>,
}

impl CookieHardening {
    /// Compiles `rules`, reporting problems under `key` (e.g. `header_profiles.portal.cookies`).
    pub fn compile(rules: &[CookieRuleConfig], key: &str, issues: &mut Vec<ConfigIssue>) -> Self {
        let mut out = Vec::with_capacity(rules.len());
        for (i, rule) in rules.iter().enumerate() {
            if rule.name.is_empty()
                || rule
                    .name
                    .bytes()
                    .any(|b| b <= b' ' || b == b'=' || b == b';')
            {
                issues.push(ConfigIssue::new(
                    format!("{key}[{i}].name"),
                    "cookie name pattern must be non-empty, without spaces, '=' or ';'",
                ));
                continue;
            }
            out.push(CookieRule {
                pattern: Glob::new(&rule.name),
                secure: rule.secure,
                http_only: rule.http_only,
                same_site: rule.same_site,
            });
        }
        Self { rules: out }
    }

    /// Rewrites, in place and in order, every `Set-Cookie` value that a rule matches.
    pub fn apply(&self, headers: &mut HeaderMap) {
        if self.rules.is_empty() || !headers.contains_key(SET_COOKIE) {
            return;
        }
        if let Entry::Occupied(mut cookies) = headers.entry(SET_COOKIE) {
            for value in cookies.iter_mut() {
                if let Some(hardened) = self.harden(value.as_bytes()) {
                    *value = hardened;
                }
            }
        }
    }

    /// The hardened form of one `Set-Cookie` value, or `None` when it needs no change.
    pub fn harden(&self, set_cookie: &[u8]) -> Option<HeaderValue> {
        let first = set_cookie.split(|&b| b == b';').next().unwrap_or_default();
        let name = first
            .split(|&b| b == b'=')
            .next()
            .unwrap_or_default()
            .trim_ascii();
        let rule = self.rules.iter().find(|r| r.pattern.matches(name))?;

        let mut has_secure = false;
        let mut has_http_only = false;
        let mut same_site: Option<Option<SameSite>> = None; // Some(None) = present but unknown value
        for attr in set_cookie.split(|&b| b == b';').skip(1) {
            let attr = attr.trim_ascii();
            let (attr_name, attr_value) = match attr.iter().position(|&b| b == b'=') {
                Some(eq) => (attr[..eq].trim_ascii(), attr[eq + 1..].trim_ascii()),
                None => (attr, &[][..]),
            };
            if attr_name.eq_ignore_ascii_case(b"secure") {
                has_secure = true;
            } else if attr_name.eq_ignore_ascii_case(b"httponly") {
                has_http_only = true;
            } else if attr_name.eq_ignore_ascii_case(b"samesite") {
                same_site = Some(parse_same_site(attr_value));
            }
        }

        let add_secure = rule.secure && !has_secure;
        let add_http_only = rule.http_only && !has_http_only;
        let raise_same_site = match (rule.same_site, same_site) {
            (Some(floor), Some(Some(current))) => (current < floor).then_some(floor),
            (Some(floor), _) => Some(floor),
            (None, _) => None,
        };
        if !add_secure && !add_http_only && raise_same_site.is_none() {
            return None;
        }

        let mut out = Vec::with_capacity(set_cookie.len() + 40);
        for (i, part) in set_cookie.split(|&b| b == b';').enumerate() {
            let trimmed = part.trim_ascii();
            let is_same_site = i > 0
                && trimmed
                    .split(|&b| b == b'=')
                    .next()
                    .is_some_and(|n| n.trim_ascii().eq_ignore_ascii_case(b"samesite"));
            if (is_same_site && raise_same_site.is_some()) || (i > 0 && trimmed.is_empty()) {
                continue;
            }
            if i > 0 {
                out.extend_from_slice(b"; ");
                out.extend_from_slice(trimmed);
            } else {
                out.extend_from_slice(part.trim_ascii_end());
            }
        }
        // SameSite=None is only accepted by browsers together with Secure.
        let needs_secure = add_secure || (raise_same_site == Some(SameSite::None) && !has_secure);
        if needs_secure {
            out.extend_from_slice(b"; Secure");
        }
        if add_http_only {
            out.extend_from_slice(b"; HttpOnly");
        }
        if let Some(level) = raise_same_site {
            out.extend_from_slice(match level {
                SameSite::None => b"; SameSite=None".as_slice(),
                SameSite::Lax => b"; SameSite=Lax",
                SameSite::Strict => b"; SameSite=Strict",
            });
        }
        HeaderValue::from_bytes(&out).ok()
    }
}

fn parse_same_site(value: &[u8]) -> Option<SameSite> {
    if value.eq_ignore_ascii_case(b"strict") {
        Some(SameSite::Strict)
    } else if value.eq_ignore_ascii_case(b"lax") {
        Some(SameSite::Lax)
    } else if value.eq_ignore_ascii_case(b"none") {
        Some(SameSite::None)
    } else {
        None
    }
}

/// A cookie-name glob where `*` matches any run of bytes.
#[derive(Debug, Clone)]
struct Glob {
    parts: Vec<Vec<u8>>,
    anchored_start: bool,
    anchored_end: bool,
}

impl Glob {
    fn new(pattern: &str) -> Self {
        Self {
            parts: pattern
                .split('*')
                .filter(|p| !p.is_empty())
                .map(|p| p.as_bytes().to_vec())
                .collect(),
            anchored_start: !pattern.starts_with('*'),
            anchored_end: !pattern.ends_with('*'),
        }
    }

    fn matches(&self, name: &[u8]) -> bool {
        if self.parts.is_empty() {
            return !self.anchored_start || name.is_empty();
        }
        let mut rest = name;
        let last = self.parts.len() - 1;
        for (i, part) in self.parts.iter().enumerate() {
            if i == 0 && self.anchored_start {
                if !rest.starts_with(part) {
                    return false;
                }
                rest = &rest[part.len()..];
                if i == last && self.anchored_end {
                    return rest.is_empty();
                }
                continue;
            }
            if i == last && self.anchored_end {
                return rest.len() >= part.len() && rest.ends_with(part);
            }
            match memchr::memmem::find(rest, part) {
                Some(at) => rest = &rest[at + part.len()..],
                None => return false,
            }
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hardening(rules: &[(&str, bool, bool, Option<SameSite>)]) -> CookieHardening {
        let configs: Vec<CookieRuleConfig> = rules
            .iter()
            .map(|(n, s, h, ss)| CookieRuleConfig {
                name: (*n).into(),
                secure: *s,
                http_only: *h,
                same_site: *ss,
            })
            .collect();
        let mut issues = Vec::new();
        let c = CookieHardening::compile(&configs, "k", &mut issues);
        assert!(issues.is_empty());
        c
    }

    fn harden(c: &CookieHardening, v: &str) -> String {
        c.harden(v.as_bytes())
            .map(|h| h.to_str().unwrap().to_owned())
            .unwrap_or_else(|| v.to_owned())
    }

    #[test]
    fn adds_missing_attributes() {
        let c = hardening(&[("*", true, true, Some(SameSite::Lax))]);
        assert_eq!(
            harden(&c, "sid=abc; Path=/"),
            "sid=abc; Path=/; Secure; HttpOnly; SameSite=Lax"
        );
    }

    #[test]
    fn keeps_stricter_and_leaves_hardened_alone() {
        let c = hardening(&[("*", true, true, Some(SameSite::Lax))]);
        let strict = "sid=abc; Secure; HttpOnly; SameSite=Strict";
        assert!(c.harden(strict.as_bytes()).is_none());
        assert_eq!(
            harden(&c, "sid=abc; secure; SameSite=None; httponly"),
            "sid=abc; secure; httponly; SameSite=Lax"
        );
    }

    #[test]
    fn first_matching_rule_wins_and_globs_work() {
        let c = hardening(&[
            ("_session*", true, true, Some(SameSite::Strict)),
            ("cart", true, false, None),
        ]);
        assert_eq!(
            harden(&c, "_session_id=1"),
            "_session_id=1; Secure; HttpOnly; SameSite=Strict"
        );
        assert_eq!(harden(&c, "cart=2; Path=/"), "cart=2; Path=/; Secure");
        assert_eq!(harden(&c, "other=3"), "other=3");
        assert!(Glob::new("*_token").matches(b"csrf_token"));
        assert!(!Glob::new("*_token").matches(b"token_x"));
        assert!(Glob::new("a*c*e").matches(b"abcde"));
        assert!(!Glob::new("a*c*e").matches(b"abcdef"));
    }

    #[test]
    fn rejects_bad_patterns() {
        let mut issues = Vec::new();
        let bad = CookieRuleConfig {
            name: "a b".into(),
            secure: true,
            http_only: false,
            same_site: None,
        };
        CookieHardening::compile(&[bad], "p.cookies", &mut issues);
        assert_eq!(issues[0].key, "p.cookies[0].name");
    }
}

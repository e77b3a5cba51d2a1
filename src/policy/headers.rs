//! Header profiles: the security headers a route's responses get, the leaky upstream headers
//! they lose, and the cookie hardening they receive. Compiled once per config; applying a
//! profile to a response only clones pre-built names and values.

use std::collections::BTreeMap;

use http::header::{HeaderMap, HeaderName, HeaderValue};

use super::cookies::CookieHardening;
use super::csp::{self, Nonce, NonceCsp};
use crate::config::ConfigIssue;
use crate::config::{CookieRuleConfig, HeaderMode, HeaderProfileConfig, HeaderSetting, SameSite};

/// Names of the built-in presets, usable as profile names without defining them.
pub const PRESETS: &[&str] = &["portal", "telehealth", "checkout", "catalog"];

/// Upstream headers that disclose the software stack; removed by every preset.
const LEAKY_HEADERS: &[&str] = &[
    "Server",
    "X-Powered-By",
    "X-AspNet-Version",
    "X-AspNetMvc-Version",
    "X-Magento-*",
    "X-Runtime",
    "X-Generator",
    "X-Drupal-*",
    "X-Debug-Token*",
    "X-Backend-Server",
    "X-Served-By",
];

const HSTS: &str = "max-age=63072000; includeSubDomains";

/// The built-in preset `name`, as a config that user profiles can extend.
pub fn preset(name: &str) -> Option<HeaderProfileConfig> {
    let set = |v: &str| Some(HeaderSetting::Value(v.to_owned()));
    let base = HeaderProfileConfig {
        extends: None,
        content_security_policy: None,
        csp_report_only: Some(false),
        csp_nonce: None,
        csp_report: None,
        strict_transport_security: set(HSTS),
        x_content_type_options: set("nosniff"),
        x_frame_options: set("DENY"),
        referrer_policy: set("no-referrer"),
        permissions_policy: None,
        cross_origin_opener_policy: set("same-origin"),
        cross_origin_resource_policy: set("same-origin"),
        cross_origin_embedder_policy: None,
        cache_control: set("no-store, private"),
        extra: BTreeMap::new(),
        remove: Some(LEAKY_HEADERS.iter().map(|s| (*s).to_owned()).collect()),
        cookies: Some(vec![cookie_rule("*", true, true, SameSite::Lax)]),
    };
    let profile = match name {
        "portal" => HeaderProfileConfig {
            content_security_policy: set(
                "default-src 'self'; script-src 'self'; object-src 'none'; base-uri 'self'; \
                 form-action 'self'; frame-ancestors 'none'; upgrade-insecure-requests",
            ),
            permissions_policy: set(
                "camera=(), microphone=(), geolocation=(), payment=(), usb=(), \
                 display-capture=(), browsing-topics=()",
            ),
            cross_origin_embedder_policy: set("credentialless"),
            ..base
        },
        "telehealth" => HeaderProfileConfig {
            content_security_policy: set(
                "default-src 'self'; script-src 'self'; connect-src 'self' wss:; \
                 media-src 'self' blob:; object-src 'none'; base-uri 'self'; \
                 form-action 'self'; frame-ancestors 'none'; upgrade-insecure-requests",
            ),
            permissions_policy: set(
                "camera=(self), microphone=(self), display-capture=(self), geolocation=(), \
                 payment=(), usb=(), browsing-topics=()",
            ),
            cross_origin_embedder_policy: set("credentialless"),
            ..base
        },
        "checkout" => HeaderProfileConfig {
            content_security_policy: set(
                "default-src 'self' https:; object-src 'none'; base-uri 'self'; \
                 frame-ancestors 'none'; upgrade-insecure-requests",
            ),
            permissions_policy: set(
                "payment=(self), camera=(), microphone=(), geolocation=(), usb=(), \
                 browsing-topics=()",
            ),
            referrer_policy: set("strict-origin-when-cross-origin"),
            cookies: Some(vec![
                cookie_rule("*session*", true, true, SameSite::Lax),
                cookie_rule("PHPSESSID", true, true, SameSite::Lax),
                cookie_rule("frontend", true, true, SameSite::Lax),
                cookie_rule("*", true, false, SameSite::Lax),
            ]),
            ..base
        },
        "catalog" => HeaderProfileConfig {
            content_security_policy: Some(HeaderSetting::Full {
                value: "object-src 'none'; base-uri 'self'; frame-ancestors 'self'".to_owned(),
                mode: HeaderMode::AddIfAbsent,
            }),
            permissions_policy: set("camera=(), microphone=(), geolocation=(), browsing-topics=()"),
            x_frame_options: set("SAMEORIGIN"),
            referrer_policy: set("strict-origin-when-cross-origin"),
            cross_origin_resource_policy: set("same-site"),
            cache_control: Some(HeaderSetting::Full {
                value: String::new(),
                mode: HeaderMode::Off,
            }),
            cookies: Some(vec![cookie_rule("*", true, false, SameSite::Lax)]),
            ..base
        },
        _ => return None,
    };
    Some(profile)
}

fn cookie_rule(name: &str, secure: bool, http_only: bool, same_site: SameSite) -> CookieRuleConfig {
    CookieRuleConfig {
        name: name.to_owned(),
        secure,
        http_only,
        same_site: Some(same_site),
    }
}

/// Overlays `over` on `base`: every field `over` gives wins.
fn overlay(base: HeaderProfileConfig, over: &HeaderProfileConfig) -> HeaderProfileConfig {
    let pick = |b: Option<HeaderSetting>, o: &Option<HeaderSetting>| o.clone().or(b);
    let mut extra = base.extra;
    extra.extend(over.extra.iter().map(|(k, v)| (k.clone(), v.clone())));
    HeaderProfileConfig {
        extends: None,
        content_security_policy: pick(base.content_security_policy, &over.content_security_policy),
        csp_report_only: over.csp_report_only.or(base.csp_report_only),
        csp_nonce: over.csp_nonce.or(base.csp_nonce),
        csp_report: over.csp_report.clone().or(base.csp_report),
        strict_transport_security: pick(
            base.strict_transport_security,
            &over.strict_transport_security,
        ),
        x_content_type_options: pick(base.x_content_type_options, &over.x_content_type_options),
        x_frame_options: pick(base.x_frame_options, &over.x_frame_options),
        referrer_policy: pick(base.referrer_policy, &over.referrer_policy),
        permissions_policy: pick(base.permissions_policy, &over.permissions_policy),
        cross_origin_opener_policy: pick(
            base.cross_origin_opener_policy,
            &over.cross_origin_opener_policy,
        ),
        cross_origin_resource_policy: pick(
            base.cross_origin_resource_policy,
            &over.cross_origin_resource_policy,
        ),
        cross_origin_embedder_policy: pick(
            base.cross_origin_embedder_policy,
            &over.cross_origin_embedder_policy,
        ),
        cache_control: pick(base.cache_control, &over.cache_control),
        extra,
        remove: over.remove.clone().or(base.remove),
        cookies: over.cookies.clone().or(base.cookies),
    }
}

/// A compiled header profile.
#[derive(Debug, Clone)]
pub struct HeaderProfile {
    /// The profile's name (as referenced by routes).
    pub name: String,
    set: Vec<(HeaderName, HeaderValue)>,
    add_if_absent: Vec<(HeaderName, HeaderValue)>,
    remove_exact: Vec<HeaderName>,
    remove_prefixes: Vec<String>,
    /// First bytes of the removed names and prefixes (a 256-bit set): most response headers
    /// are ruled out by one bit test.
    dropped_first_bytes: [u64; 4],
    cookies: CookieHardening,
    /// The CSP header (name and template) when each response gets a fresh nonce.
    nonce_csp: Option<(HeaderName, NonceCsp)>,
}

impl HeaderProfile {
    /// Compiles profile `name` from `config` (resolving `extends`), reporting problems under
    /// `key` (e.g. `header_profiles.portal`).
    pub fn compile(
        name: &str,
        config: &HeaderProfileConfig,
        key: &str,
        issues: &mut Vec<ConfigIssue>,
    ) -> Option<HeaderProfile> {
        let resolved = match &config.extends {
            None => config.clone(),
            Some(base) => match preset(base) {
                Some(preset) => overlay(preset, config),
                None => {
                    issues.push(ConfigIssue::new(
                        format!("{key}.extends"),
                        format!("unknown preset {base:?} (presets: {})", PRESETS.join(", ")),
                    ));
                    return None;
                }
            },
        };
        Self::from_resolved(name, &resolved, key, issues)
    }

    fn from_resolved(
        name: &str,
        c: &HeaderProfileConfig,
        key: &str,
        issues: &mut Vec<ConfigIssue>,
    ) -> Option<HeaderProfile> {
        let before = issues.len();
        let mut profile = HeaderProfile {
            name: name.to_owned(),
            set: Vec::new(),
            add_if_absent: Vec::new(),
            remove_exact: Vec::new(),
            remove_prefixes: Vec::new(),
            dropped_first_bytes: [0; 4],
            cookies: CookieHardening::default(),
            nonce_csp: None,
        };
        let csp_name = if c.csp_report_only.unwrap_or(false) {
            "content-security-policy-report-only"
        } else {
            "content-security-policy"
        };
        let named: [(&str, &str, &Option<HeaderSetting>); 10] = [
            (
                "content_security_policy",
                csp_name,
                &c.content_security_policy,
            ),
            (
                "strict_transport_security",
                "strict-transport-security",
                &c.strict_transport_security,
            ),
            (
                "x_content_type_options",
                "x-content-type-options",
                &c.x_content_type_options,
            ),
            ("x_frame_options", "x-frame-options", &c.x_frame_options),
            ("referrer_policy", "referrer-policy", &c.referrer_policy),
            (
                "permissions_policy",
                "permissions-policy",
                &c.permissions_policy,
            ),
            (
                "cross_origin_opener_policy",
                "cross-origin-opener-policy",
                &c.cross_origin_opener_policy,
            ),
            (
                "cross_origin_resource_policy",
                "cross-origin-resource-policy",
                &c.cross_origin_resource_policy,
            ),
            (
                "cross_origin_embedder_policy",
                "cross-origin-embedder-policy",
                &c.cross_origin_embedder_policy,
            ),
            ("cache_control", "cache-control", &c.cache_control),
        ];
        let csp = profile.compile_csp(c, csp_name, key, issues);
        for (field, header, setting) in named {
            let setting = if field == "content_security_policy" {
                &csp
            } else {
                setting
            };
            if let Some(setting) = setting {
                profile.add(header, setting, &format!("{key}.{field}"), issues);
            }
        }
        for (header, setting) in &c.extra {
            profile.add(header, setting, &format!("{key}.extra.{header}"), issues);
        }
        for (i, pattern) in c.remove.iter().flatten().enumerate() {
            let pattern_key = format!("{key}.remove[{i}]");
            match pattern.strip_suffix('*') {
                Some(prefix)
                    if HeaderName::from_bytes(prefix.trim_end_matches('-').as_bytes()).is_ok() =>
                {
                    profile.remove_prefixes.push(prefix.to_ascii_lowercase())
                }
                None => match HeaderName::from_bytes(pattern.as_bytes()) {
                    Ok(h) => profile.remove_exact.push(h),
                    Err(_) => issues.push(ConfigIssue::new(pattern_key, "invalid header name")),
                },
                Some(_) => issues.push(ConfigIssue::new(pattern_key, "invalid header name prefix")),
            }
        }
        profile.dropped_first_bytes = first_byte_set(
            profile
                .remove_exact
                .iter()
                .map(|n| n.as_str())
                .chain(profile.remove_prefixes.iter().map(String::as_str)),
        );
        profile.cookies = CookieHardening::compile(
            c.cookies.as_deref().unwrap_or(&[]),
            &format!("{key}.cookies"),
            issues,
        );
        (issues.len() == before).then_some(profile)
    }

    /// Applies `csp_nonce` and `csp_report` to the profile's CSP. Returns the setting that
    /// goes into the static headers: `None` when a nonce template replaces it.
    fn compile_csp(
        &mut self,
        c: &HeaderProfileConfig,
        header: &'static str,
        key: &str,
        issues: &mut Vec<ConfigIssue>,
    ) -> Option<HeaderSetting> {
        let nonce = c.csp_nonce.unwrap_or(false);
        let report = c.csp_report.as_deref();
        if let Some(path) = report {
            if !csp::valid_report_path(path) {
                issues.push(ConfigIssue::new(
                    format!("{key}.csp_report"),
                    "must be an absolute path without spaces, quotes, ';' or ','",
                ));
                return None;
            }
            let endpoints = HeaderSetting::Value(format!("{}=\"{path}\"", csp::REPORT_GROUP));
            self.add(
                "reporting-endpoints",
                &endpoints,
                &format!("{key}.csp_report"),
                issues,
            );
        }
        let Some(setting) = c.content_security_policy.clone() else {
            for (on, field) in [(nonce, "csp_nonce"), (report.is_some(), "csp_report")] {
                if on {
                    issues.push(ConfigIssue::new(
                        format!("{key}.{field}"),
                        "needs content_security_policy (the policy it goes into)",
                    ));
                }
            }
            return None;
        };
        if !nonce && report.is_none() {
            return Some(setting);
        }
        let (value, mode) = match &setting {
            HeaderSetting::Value(v) => (v.as_str(), HeaderMode::Set),
            HeaderSetting::Full { value, mode } => (value.as_str(), *mode),
        };
        if nonce && mode != HeaderMode::Set {
            issues.push(ConfigIssue::new(
                format!("{key}.csp_nonce"),
                "needs content_security_policy in mode `set` (phiguard must own the policy \
                 the nonce goes into)",
            ));
            return None;
        }
        if mode == HeaderMode::Off {
            return Some(setting);
        }
        let pieces = match csp::rewrite(value, nonce, report) {
            Ok(p) => p,
            Err(e) => {
                issues.push(ConfigIssue::new(format!("{key}.csp_nonce"), e.to_string()));
                return None;
            }
        };
        if !nonce {
            let value = pieces.concat();
            return Some(HeaderSetting::Full { value, mode });
        }
        let template = csp::nonce_template(pieces);
        if template.render(&Nonce::generate()).is_none() {
            issues.push(ConfigIssue::new(
                format!("{key}.content_security_policy"),
                "invalid header value (contains control characters or non-ASCII)",
            ));
            return None;
        }
        self.nonce_csp = Some((HeaderName::from_static(header), template));
        None
    }

    /// Whether responses get a fresh CSP nonce (and HTML bodies must be rewritten).
    pub fn has_nonce(&self) -> bool {
        self.nonce_csp.is_some()
    }

    fn add(
        &mut self,
        header: &str,
        setting: &HeaderSetting,
        key: &str,
        issues: &mut Vec<ConfigIssue>,
    ) {
        let (value, mode) = match setting {
            HeaderSetting::Value(v) => (v.as_str(), HeaderMode::Set),
            HeaderSetting::Full { value, mode } => (value.as_str(), *mode),
        };
        if mode == HeaderMode::Off {
            return;
        }
        let Ok(name) = HeaderName::from_bytes(header.as_bytes()) else {
            issues.push(ConfigIssue::new(
                key,
                format!("invalid header name {header:?}"),
            ));
            return;
        };
        let value = match HeaderValue::from_str(value) {
            Ok(v) if !value.is_empty() => v,
            _ => {
                issues.push(ConfigIssue::new(
                    key,
                    "invalid header value (empty, or contains control characters or non-ASCII)",
                ));
                return;
            }
        };
        // A later setting of the same header replaces an earlier one.
        self.set.retain(|(n, _)| n != name);
        self.add_if_absent.retain(|(n, _)| n != name);
        match mode {
            HeaderMode::Set => self.set.push((name, value)),
            HeaderMode::AddIfAbsent => self.add_if_absent.push((name, value)),
            HeaderMode::Off => {}
        }
    }

    /// Applies the profile to an upstream response's headers: removes leaky headers, sets and
    /// adds the security headers and hardens `Set-Cookie`. With `csp_nonce`, returns the fresh
    /// nonce the CSP now carries (the body's inline tags must get it).
    pub fn apply(&self, headers: &mut HeaderMap) -> Option<Nonce> {
        self.remove_leaky(headers);
        let nonce = self.apply_own(headers);
        self.cookies.apply(headers);
        nonce
    }

    /// Removes the headers the profile drops, in one pass over the names present (a response
    /// seldom has any of them).
    fn remove_leaky(&self, headers: &mut HeaderMap) {
        if self.remove_exact.is_empty() && self.remove_prefixes.is_empty() {
            return;
        }
        let doomed: Vec<HeaderName> = headers
            .keys()
            .filter(|k| self.drops(k.as_str()))
            .cloned()
            .collect();
        for name in &doomed {
            headers.remove(name);
        }
    }

    fn drops(&self, name: &str) -> bool {
        let first = name.as_bytes().first().copied().unwrap_or_default();
        if self.dropped_first_bytes[usize::from(first >> 6)] & (1 << (first & 63)) == 0 {
            return false;
        }
        self.remove_exact.iter().any(|n| n.as_str() == name)
            || self
                .remove_prefixes
                .iter()
                .any(|p| name.starts_with(p.as_str()))
    }

    /// Applies only the security headers: for responses the proxy generates itself. With
    /// `csp_nonce`, returns the fresh nonce the CSP carries.
    pub fn apply_own(&self, headers: &mut HeaderMap) -> Option<Nonce> {
        // One growth of the map instead of one per insert past its capacity.
        headers.reserve(self.set.len() + self.add_if_absent.len() + 1);
        for (name, value) in &self.set {
            headers.insert(name.clone(), value.clone());
        }
        let nonce = self.nonce_csp.as_ref().and_then(|(name, template)| {
            let nonce = Nonce::generate();
            // The template rendered to a valid value at compile time; a nonce is base64.
            let value = template.render(&nonce)?;
            headers.insert(name.clone(), value);
            Some(nonce)
        });
        for (name, value) in &self.add_if_absent {
            if !headers.contains_key(name) {
                headers.insert(name.clone(), value.clone());
            }
        }
        nonce
    }
}

/// The set of first bytes of `names` (lower-case header names), as 256 bits; an empty
/// name (which no valid prefix is) would put every byte in.
fn first_byte_set<'a>(names: impl Iterator<Item = &'a str>) -> [u64; 4] {
    let mut set = [0u64; 4];
    for name in names {
        match name.as_bytes().first() {
            Some(&b) => set[usize::from(b >> 6)] |= 1 << (b & 63),
            None => set = [u64::MAX; 4],
        }
    }
    set
}

#[cfg(test)]
mod tests {
    use super::*;

    fn compiled(name: &str) -> HeaderProfile {
        let mut issues = Vec::new();
        let p = HeaderProfile::compile(name, &preset(name).unwrap(), "x", &mut issues);
        assert!(issues.is_empty(), "{issues:?}");
        p.unwrap()
    }

    fn header<'a>(resp: &'a HeaderMap, name: &str) -> Option<&'a str> {
        resp.get(name).map(|v| v.to_str().unwrap())
    }

    fn with(headers: &[(&'static str, &'static str)]) -> HeaderMap {
        headers
            .iter()
            .map(|(n, v)| (HeaderName::from_static(n), HeaderValue::from_static(v)))
            .collect()
    }

    #[test]
    fn every_preset_compiles() {
        for name in PRESETS {
            compiled(name);
        }
    }

    #[test]
    fn portal_sets_and_removes() {
        let mut resp = with(&[
            ("server", "nginx/1.2"),
            ("x-magento-tags", "cat_1"),
            ("x-powered-by", "PHP/8.2"),
            ("x-debug-token-link", "/_profiler/1"),
            ("content-type", "text/html"),
            ("cache-control", "public, max-age=600"),
        ]);
        compiled("portal").apply(&mut resp);
        assert_eq!(header(&resp, "server"), None);
        assert_eq!(header(&resp, "x-magento-tags"), None);
        assert_eq!(header(&resp, "x-powered-by"), None);
        assert_eq!(header(&resp, "x-debug-token-link"), None);
        assert_eq!(header(&resp, "content-type"), Some("text/html"));
        assert_eq!(header(&resp, "cache-control"), Some("no-store, private"));
        assert!(header(&resp, "content-security-policy")
            .unwrap()
            .contains("frame-ancestors 'none'"));
        assert!(header(&resp, "permissions-policy")
            .unwrap()
            .contains("camera=()"));
    }

    #[test]
    fn catalog_keeps_upstream_cache_and_csp() {
        let mut resp = with(&[
            ("cache-control", "public, max-age=600"),
            ("content-security-policy", "default-src *"),
        ]);
        compiled("catalog").apply(&mut resp);
        assert_eq!(header(&resp, "cache-control"), Some("public, max-age=600"));
        assert_eq!(
            header(&resp, "content-security-policy"),
            Some("default-src *")
        );
    }

    #[test]
    fn removal_by_name_and_prefix_keeps_neighbours() {
        let cfg = HeaderProfileConfig {
            remove: Some(vec!["Via".into(), "X-Cache-*".into()]),
            ..Default::default()
        };
        let mut issues = Vec::new();
        let p = HeaderProfile::compile("mine", &cfg, "header_profiles.mine", &mut issues).unwrap();
        let mut resp = with(&[
            ("via", "1.1 cdn"),
            ("vary", "accept"),
            ("x-cache-status", "HIT"),
            ("x-cache", "HIT"),
            ("x-cachet", "kept"),
            ("content-type", "text/html"),
        ]);
        p.apply(&mut resp);
        let mut left: Vec<_> = resp.keys().map(|k| k.as_str()).collect();
        left.sort_unstable();
        assert_eq!(left, ["content-type", "vary", "x-cache", "x-cachet"]);
    }

    #[test]
    fn extends_overrides_and_reports_bad_values() {
        let mut cfg = HeaderProfileConfig {
            extends: Some("portal".into()),
            csp_report_only: Some(true),
            ..Default::default()
        };
        let mut issues = Vec::new();
        let p = HeaderProfile::compile("mine", &cfg, "header_profiles.mine", &mut issues).unwrap();
        let mut resp = HeaderMap::new();
        p.apply(&mut resp);
        assert!(header(&resp, "content-security-policy-report-only").is_some());
        assert!(header(&resp, "content-security-policy").is_none());

        cfg.referrer_policy = Some(HeaderSetting::Value("bad\nvalue".into()));
        cfg.extends = Some("nope".into());
        assert!(
            HeaderProfile::compile("mine", &cfg, "header_profiles.mine", &mut issues).is_none()
        );
        assert_eq!(issues[0].key, "header_profiles.mine.extends");
        cfg.extends = Some("portal".into());
        assert!(
            HeaderProfile::compile("mine", &cfg, "header_profiles.mine", &mut issues).is_none()
        );
        assert_eq!(issues[1].key, "header_profiles.mine.referrer_policy");
    }
}

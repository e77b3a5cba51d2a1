//! Health context: a beacon from a page about a condition, a treatment or a booking reveals
//! health information by its URL and title alone, even when no detector fires. Routes marked
//! `health_context: true` name such pages; on egress, a page URL (`dl`, `page_location`,
//! `url`, ... and referrers) that points at one is generalized to the route's template
//! (`https://shop.example.com/conditions/`) and the page title (`dt`, `page_title`, ...) is
//! dropped.

use std::borrow::Cow;

use phiguard_engine::codec;
use serde_json::Value;

use super::routes::normalize_path;

/// Keys that carry a page URL.
const URL_KEYS: &[&str] = &[
    "dl",
    "dr",
    "page_location",
    "page_referrer",
    "page_url",
    "url",
    "referrer",
    "document_location",
    "href",
    "path",
    "page_path",
];
/// Keys that carry a page title.
const TITLE_KEYS: &[&str] = &["dt", "page_title", "title", "document_title"];

/// The health-context page templates (path prefixes) of a config.
#[derive(Debug, Clone, Default)]
pub struct HealthContext {
    prefixes: Vec<String>,
}

impl HealthContext {
    /// From the path prefixes of the routes marked `health_context`.
    pub fn new(prefixes: Vec<String>) -> Self {
        Self { prefixes }
    }

    /// Whether no route is marked.
    pub fn is_empty(&self) -> bool {
        self.prefixes.is_empty()
    }

    /// The template for `url` when it points at a health-context page.
    fn generalize(&self, url: &str) -> Option<String> {
        let (origin, rest) = match url.find("://") {
            Some(at) => {
                let after = &url[at + 3..];
                let path_start = after.find('/').map_or(after.len(), |i| i);
                (&url[..at + 3 + path_start], &after[path_start..])
            }
            None => ("", url),
        };
        let path = rest.split(['?', '#']).next().unwrap_or_default();
        let path = normalize_path(if path.is_empty() { "/" } else { path });
        let prefix = self.prefixes.iter().find(|p| {
            path.strip_prefix(p.as_str())
                .is_some_and(|r| r.is_empty() || p.ends_with('/') || r.starts_with('/'))
        })?;
        Some(format!("{origin}{prefix}"))
    }

    /// Generalizes a query string or form body; returns the rewrite and how many pages it
    /// generalized (borrowed and 0 when none).
    pub fn apply_pairs<'a>(&self, input: &'a [u8]) -> (Cow<'a, [u8]>, usize) {
        if self.is_empty() {
            return (Cow::Borrowed(input), 0);
        }
        let pairs: Vec<&[u8]> = input.split(|&b| b == b'&').collect();
        let mut templates: Vec<Option<String>> = Vec::with_capacity(pairs.len());
        let mut health_page = false;
        for pair in &pairs {
            let (key, value) = split_pair(pair);
            let template = URL_KEYS
                .contains(&key.as_ref())
                .then(|| self.generalize(&value))
                .flatten();
            health_page |= template.is_some();
            templates.push(template);
        }
        if !health_page {
            return (Cow::Borrowed(input), 0);
        }
        let mut out: Vec<Vec<u8>> = Vec::with_capacity(pairs.len());
        let mut count = 0;
        for (pair, template) in pairs.iter().zip(templates) {
            let (key, _) = split_pair(pair);
            if TITLE_KEYS.contains(&key.as_ref()) {
                continue;
            }
            match template {
                Some(t) => {
                    count += 1;
                    let raw_key = pair.split(|&b| b == b'=').next().unwrap_or_default();
                    let mut p = raw_key.to_vec();
                    p.push(b'=');
                    p.extend_from_slice(percent_encode(&t).as_bytes());
                    out.push(p);
                }
                None => out.push(pair.to_vec()),
            }
        }
        (Cow::Owned(out.join(&b'&')), count)
    }

    /// Generalizes URL fields (and drops titles next to them) in every JSON object.
    pub fn apply_json<'a>(&self, body: &'a [u8]) -> (Cow<'a, [u8]>, usize) {
        if self.is_empty()
            || !URL_KEYS
                .iter()
                .any(|k| memchr::memmem::find(body, k.as_bytes()).is_some())
        {
            return (Cow::Borrowed(body), 0);
        }
        let Ok(mut value) = serde_json::from_slice::<Value>(body) else {
            // Not JSON: the engine's JSON walker will refuse it as unscannable.
            return (Cow::Borrowed(body), 0);
        };
        let count = self.walk(&mut value);
        match (count, serde_json::to_vec(&value)) {
            (0, _) | (_, Err(_)) => (Cow::Borrowed(body), 0),
            (n, Ok(out)) => (Cow::Owned(out), n),
        }
    }

    fn walk(&self, value: &mut Value) -> usize {
        match value {
            Value::Object(map) => {
                let mut count = 0;
                let mut health_page = false;
                for key in URL_KEYS {
                    if let Some(Value::String(url)) = map.get_mut(*key) {
                        if let Some(t) = self.generalize(url) {
                            *url = t;
                            health_page = true;
                            count += 1;
                        }
                    }
                }
                if health_page {
                    map.retain(|k, _| !TITLE_KEYS.contains(&k.as_str()));
                }
                count + map.values_mut().map(|v| self.walk(v)).sum::<usize>()
            }
            Value::Array(items) => items.iter_mut().map(|v| self.walk(v)).sum(),
            _ => 0,
        }
    }
}

/// (decoded key, decoded value) of a `k=v` pair.
fn split_pair(pair: &[u8]) -> (Cow<'_, str>, String) {
    let mut it = pair.splitn(2, |&b| b == b'=');
    let key = it.next().unwrap_or_default();
    let value = it.next().unwrap_or_default();
    (
        Cow::Owned(percent_decode(key)),
        // Beacon URLs are often encoded twice; decode until stable (bounded).
        (0..3).fold(String::from_utf8_lossy(value).into_owned(), |v, _| {
            percent_decode(v.as_bytes())
        }),
    )
}

/// Percent-decodes (`+` as space) into a string, lossily.
fn percent_decode(raw: &[u8]) -> String {
    String::from_utf8_lossy(&codec::percent_decode(raw, true)).into_owned()
}

fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hc() -> HealthContext {
        HealthContext::new(vec!["/conditions".into(), "/book/".into()])
    }

    #[test]
    fn page_urls_on_health_pages_are_generalized_and_titles_dropped() {
        let (out, n) = hc().apply_pairs(
            b"v=2&dl=https%3A%2F%2Fshop.example.com%2Fconditions%2Fhiv%2Ftreatment%3Fref%3Dad&dt=HIV%20treatment%20options&en=page_view",
        );
        assert_eq!(n, 1);
        assert_eq!(
            std::str::from_utf8(&out).unwrap(),
            "v=2&dl=https%3A%2F%2Fshop.example.com%2Fconditions&en=page_view"
        );
    }

    #[test]
    fn other_pages_are_left_alone() {
        let input = b"dl=https%3A%2F%2Fshop.example.com%2Fproducts%2Fshirt&dt=Blue%20shirt";
        let (out, n) = hc().apply_pairs(input);
        assert_eq!((n, &*out), (0, &input[..]));
        assert!(hc().generalize("https://x/conditionsX").is_none());
        assert_eq!(
            hc().generalize("/book/slot/9?x=1").as_deref(),
            Some("/book/")
        );
    }

    #[test]
    fn json_beacons_are_generalized() {
        let body = br#"{"context":{"page":{"url":"https://shop.example.com/conditions/diabetes","title":"Living with diabetes","path":"/x"}},"event":"Viewed"}"#;
        let (out, n) = hc().apply_json(body);
        assert_eq!(n, 1);
        let v: Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(
            v["context"]["page"]["url"],
            "https://shop.example.com/conditions"
        );
        assert!(v["context"]["page"].get("title").is_none());
        assert_eq!(v["event"], "Viewed");
    }
}

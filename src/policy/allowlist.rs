//! Per-destination parameter allowlists (default deny): only listed query/form parameters
//! and JSON keys go on to the third party; everything else is dropped before the detectors
//! even run on what remains.

use std::borrow::Cow;
use std::collections::HashSet;

use phiguard_engine::codec::percent_decode;
use serde_json::Value;

/// The parameters and JSON keys a destination may receive.
#[derive(Debug, Clone)]
pub struct ParamAllowlist {
    names: HashSet<String>,
}

/// A body that should be JSON is not: the caller fails closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotJson;

impl ParamAllowlist {
    /// An allowlist of these names (compared after percent-decoding, case-sensitive).
    pub fn new(names: &[String]) -> Self {
        Self {
            names: names.iter().cloned().collect(),
        }
    }

    fn allows(&self, raw_key: &[u8]) -> bool {
        let decoded = percent_decode(raw_key, true);
        std::str::from_utf8(&decoded).is_ok_and(|k| self.names.contains(k))
    }

    /// Keeps only allowed `key=value` pairs of a query string or form body. Borrowed when
    /// nothing was dropped.
    pub fn filter_pairs<'a>(&self, input: &'a [u8]) -> Cow<'a, [u8]> {
        let keep = |pair: &&[u8]| {
            let key = pair.split(|&b| b == b'=').next().unwrap_or_default();
            !pair.is_empty() && self.allows(key)
        };
        let pairs: Vec<&[u8]> = input.split(|&b| b == b'&').collect();
        if pairs.iter().all(|p| p.is_empty() || keep(p)) {
            return Cow::Borrowed(input);
        }
        Cow::Owned(
            pairs
                .into_iter()
                .filter(keep)
                .collect::<Vec<_>>()
                .join(&b'&'),
        )
    }

    /// Keeps only allowed keys of every JSON object, at any depth (arrays are walked).
    pub fn filter_json(&self, body: &[u8]) -> Result<Vec<u8>, NotJson> {
        let mut value: Value = serde_json::from_slice(body).map_err(|_| NotJson)?;
        self.retain(&mut value);
        serde_json::to_vec(&value).map_err(|_| NotJson)
    }

    /// [`Self::filter_json`] for each non-empty line.
    pub fn filter_ndjson(&self, body: &[u8]) -> Result<Vec<u8>, NotJson> {
        let mut out = Vec::with_capacity(body.len());
        for line in body.split(|&b| b == b'\n') {
            if line.trim_ascii().is_empty() {
                continue;
            }
            out.extend_from_slice(&self.filter_json(line)?);
            out.push(b'\n');
        }
        Ok(out)
    }

    fn retain(&self, value: &mut Value) {
        match value {
            Value::Object(map) => {
                map.retain(|k, _| self.names.contains(k));
                map.values_mut().for_each(|v| self.retain(v));
            }
            Value::Array(items) => items.iter_mut().for_each(|v| self.retain(v)),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(names: &[&str]) -> ParamAllowlist {
        ParamAllowlist::new(&names.iter().map(|s| s.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn pairs_outside_the_list_are_dropped() {
        let a = list(&["v", "tid", "en", "ep.value"]);
        assert_eq!(
            &*a.filter_pairs(b"v=2&tid=G-1&uid=jane%40x.org&en=purchase"),
            b"v=2&tid=G-1&en=purchase"
        );
        assert_eq!(&*a.filter_pairs(b"ep%2Evalue=10&dl=x"), b"ep%2Evalue=10");
        assert!(matches!(a.filter_pairs(b"v=2&en=x"), Cow::Borrowed(_)));
    }

    #[test]
    fn json_keys_outside_the_list_are_dropped_at_any_depth() {
        let a = list(&["event", "properties", "plan", "batch"]);
        let out = a
            .filter_json(br#"{"event":"x","email":"j@x.org","properties":{"plan":"p","phone":"1"},"batch":[{"event":"y","name":"n"}]}"#)
            .unwrap();
        let v: Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"event":"x","properties":{"plan":"p"},"batch":[{"event":"y"}]})
        );
        assert_eq!(a.filter_json(b"{oops"), Err(NotJson));
    }
}

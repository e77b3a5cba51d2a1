//! A compiled profile: every regex, automaton, key table and key is built
//! here once; the `redact_*` entry points only run them.

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

use base64::Engine;

use crate::detect::keys::{KeyClass, KeyTable};
use crate::detect::patterns::{self, CONTEXT_TYPES};
use crate::detect::{shape, Scanner, ScannerConfig};
use crate::error::EngineError;
use crate::redact::action::Pseudonymizer;
use crate::redact::{json, query, run_with, text, Origin, Traits};
use crate::spec::{Limits, MaskStyle, ProfileSpec};
use crate::types::{Action, Outcome, PhiType, UnscannableReason, BUILTIN_TYPES};

/// Group names accepted in `detectors` and `actions`.
const GROUPS: [(&str, &[PhiType]); 2] = [
    ("ip", &[PhiType::Ipv4, PhiType::Ipv6]),
    (
        "secrets",
        &[
            PhiType::AwsAccessKey,
            PhiType::StripeSecretKey,
            PhiType::ShopifyToken,
            PhiType::BearerToken,
            PhiType::Jwt,
        ],
    ),
];

/// A compiled redaction profile. Cheap to share (`&Profile` across threads).
#[derive(Clone, Debug)]
pub struct Profile {
    pub(crate) scanner: Arc<Scanner>,
    pub(crate) keys: KeyTable,
    enabled: [bool; BUILTIN_TYPES.len()],
    actions: [Action; BUILTIN_TYPES.len()],
    custom_actions: Vec<Action>,
    custom_labels: Vec<String>,
    pub(crate) mask_style: MaskStyle,
    pub(crate) pseudonymizer: Option<Pseudonymizer>,
    pub(crate) zip_keep_prefix: bool,
    pub(crate) limits: Limits,
    /// Values shorter than this without `@`, `%` or `:` hold nothing the
    /// scanner can find ([`shape::shortest_plain_hit`]).
    pub(crate) plain_min_len: usize,
    /// A value without a digit holds a hit only if its traits have one of
    /// these bits ([`Traits::digitless_hits_need`]; `None`: any value may).
    pub(crate) digitless_hits_need: Option<u16>,
    /// Detection is the built-in default's (see [`Profile::detects_as_builtin_default`]).
    default_detection: bool,
}

fn type_index(ty: PhiType) -> Option<usize> {
    BUILTIN_TYPES.iter().position(|t| *t == ty)
}

/// Resolves a name to built-in types (a type, alias or group).
fn resolve(name: &str) -> Option<Vec<PhiType>> {
    if let Some((_, types)) = GROUPS.iter().find(|(g, _)| g.eq_ignore_ascii_case(name)) {
        return Some(types.to_vec());
    }
    PhiType::from_config_name(name).map(|t| vec![t])
}

impl Profile {
    /// Compiles a profile spec. Errors name the key path inside the profile.
    pub fn compile(spec: &ProfileSpec) -> Result<Profile, EngineError> {
        let custom_labels = custom_labels(spec)?;
        let custom_index = |name: &str| {
            spec.custom
                .iter()
                .position(|c| c.name.eq_ignore_ascii_case(name))
        };

        let mut enabled = [spec.detectors.is_empty(); BUILTIN_TYPES.len()];
        for (i, name) in spec.detectors.iter().enumerate() {
            if let Some(types) = resolve(name) {
                for t in types {
                    if let Some(ix) = type_index(t) {
                        enabled[ix] = true;
                    }
                }
            } else if custom_index(name).is_none() {
                return Err(EngineError::UnknownType {
                    path: format!("detectors[{i}]"),
                    name: name.clone(),
                });
            }
        }
        let is_enabled = |t: PhiType| type_index(t).is_some_and(|i| enabled[i]);

        let mut actions = [spec.action; BUILTIN_TYPES.len()];
        let mut custom_actions = vec![spec.action; spec.custom.len()];
        for (name, action) in &spec.actions {
            if let Some(types) = resolve(name) {
                for t in types {
                    if let Some(ix) = type_index(t) {
                        actions[ix] = *action;
                    }
                }
            } else if let Some(ci) = custom_index(name) {
                custom_actions[ci] = *action;
            } else {
                return Err(EngineError::UnknownType {
                    path: format!("actions.{name}"),
                    name: name.clone(),
                });
            }
        }

        let mut keys = KeyTable::with_defaults(is_enabled);
        for (key, ty_name) in &spec.keys {
            let class = if let Some(ci) = custom_index(ty_name) {
                KeyClass::Custom(ci as u16)
            } else {
                match PhiType::from_config_name(ty_name) {
                    Some(t) => KeyClass::Builtin(t),
                    None => {
                        return Err(EngineError::UnknownType {
                            path: format!("keys.{key}"),
                            name: ty_name.clone(),
                        })
                    }
                }
            };
            keys.insert(key, class);
        }
        for (i, c) in spec.custom.iter().enumerate() {
            for k in &c.keys {
                keys.insert(k, KeyClass::Custom(i as u16));
            }
        }

        let keywords = context_keywords(&spec.context)?;
        let keyword_fn = |t: PhiType| keywords.get(&t).cloned().unwrap_or_default();
        let scanner = Scanner::compile(&ScannerConfig {
            enabled: &is_enabled,
            keywords: &keyword_fn,
            custom: &spec.custom,
        })?;

        let pseudonymizer = pseudonymizer(spec, &actions, &custom_actions)?;
        check_limits(&spec.limits)?;

        Ok(Profile {
            plain_min_len: shape::shortest_plain_hit(&scanner),
            digitless_hits_need: Traits::digitless_hits_need(&scanner),
            scanner: Arc::new(scanner),
            keys,
            enabled,
            actions,
            custom_actions,
            custom_labels,
            mask_style: spec.mask_style,
            pseudonymizer,
            zip_keep_prefix: spec.zip_keep_prefix,
            limits: spec.limits,
            default_detection: spec.detectors.is_empty()
                && spec.keys.is_empty()
                && spec.custom.is_empty()
                && spec.context.is_empty()
                && !spec.zip_keep_prefix,
        })
    }

    /// Whether this profile finds what [`Profile::builtin_default`] finds: every built-in
    /// detector with its built-in keys and context keywords, no ZIP prefix kept, nothing
    /// custom. Only its actions, mask style, pseudonym key and limits may differ, and every
    /// action removes the value, so its output holds nothing for the default profile to find
    /// but its own pseudonyms: a caller can skip a second pass with the default profile.
    pub fn detects_as_builtin_default(&self) -> bool {
        self.default_detection
    }

    /// Every built-in detector, action `mask` (the `phiguard redact` default and
    /// the access-log profile).
    /// Compiled once per process; later calls clone it cheaply.
    pub fn builtin_default() -> Profile {
        static DEFAULT: OnceLock<Profile> = OnceLock::new();
        DEFAULT
            .get_or_init(|| {
                // The default spec uses only built-in patterns; a failure here is a
                // bug caught by the unit tests, never something input can cause.
                Profile::compile(&ProfileSpec::default())
                    .expect("built-in default profile compiles")
            })
            .clone()
    }

    /// The same profile with the scanner's prefilters switched off (every
    /// pattern group runs over every value in full). A testing aid (feature
    /// `corpus`): redaction must not change when the prefilters are off.
    #[cfg(feature = "corpus")]
    pub fn without_prefilters(&self) -> Profile {
        let mut p = self.clone();
        Arc::make_mut(&mut p.scanner).set_prefilter(false);
        p.plain_min_len = shape::shortest_plain_hit(&p.scanner);
        p.digitless_hits_need = Traits::digitless_hits_need(&p.scanner);
        p
    }

    /// Whether a built-in type is enabled (custom types always are).
    pub fn enabled(&self, ty: PhiType) -> bool {
        match ty {
            PhiType::Custom(i) => usize::from(i) < self.custom_labels.len(),
            t => type_index(t).is_some_and(|i| self.enabled[i]),
        }
    }

    /// The action configured for a type.
    pub fn action_for(&self, ty: PhiType) -> Action {
        match ty {
            PhiType::Custom(i) => self
                .custom_actions
                .get(usize::from(i))
                .copied()
                .unwrap_or(Action::Mask),
            t => type_index(t).map_or(Action::Mask, |i| self.actions[i]),
        }
    }

    /// The mask label of a type (custom detectors: their upper-cased name).
    pub fn label(&self, ty: PhiType) -> &str {
        match ty {
            PhiType::Custom(i) => self
                .custom_labels
                .get(usize::from(i))
                .map_or("CUSTOM", String::as_str),
            t => t.label(),
        }
    }

    /// Redacts a query string or `application/x-www-form-urlencoded` body
    /// (without the leading `?`).
    pub fn redact_query(&self, q: &str) -> Outcome {
        self.redact_query_bytes(q.as_bytes())
    }

    /// [`Profile::redact_query`] on bytes.
    pub fn redact_query_bytes(&self, q: &[u8]) -> Outcome {
        if !self.scanner.prefilter() {
            return self.settle(q, Self::query_once);
        }
        // Later passes walk only the pairs the previous one rewrote.
        let mut rescan = query::Rescan::default();
        self.settle_with(q, |p, q| {
            let out = run_with(p, q.len(), |run| query::walk_rescan(run, q, &mut rescan));
            rescan.next_pass();
            out
        })
    }

    fn query_once(&self, q: &[u8]) -> Outcome {
        run_with(self, q.len(), |run| {
            query::walk(run, q, &Origin::Exact(0), "", 0)
        })
    }

    /// Redacts one JSON document; malformed JSON is [`Outcome::Unscannable`].
    pub fn redact_json(&self, body: &[u8]) -> Outcome {
        if !self.scanner.prefilter() {
            return self.settle(body, Self::json_once);
        }
        // After a pass that only replaced values, the next redacts only those.
        let mut rescan = json::Rescan::default();
        self.settle_with(body, |p, body| {
            let out = run_with(p, body.len(), |run| {
                json_result(json::walk_rescan(run, body, &mut rescan))
            });
            rescan.next_pass();
            out
        })
    }

    fn json_once(&self, body: &[u8]) -> Outcome {
        run_with(self, body.len(), |run| {
            json_result(json::walk(run, body, &Origin::Exact(0), "", 0))
        })
    }

    /// Redacts newline-delimited JSON (blank lines kept); any malformed line
    /// makes the whole body unscannable.
    pub fn redact_ndjson(&self, body: &[u8]) -> Outcome {
        self.settle(body, Self::ndjson_once)
    }

    fn ndjson_once(&self, body: &[u8]) -> Outcome {
        run_with(self, body.len(), |run| {
            let mut out: Option<Vec<u8>> = None;
            let mut start = 0;
            for line in body.split(|&b| b == b'\n') {
                let here = start;
                start += line.len() + 1;
                let content = line.strip_suffix(b"\r").unwrap_or(line);
                let edited = if content.trim_ascii().is_empty() {
                    None
                } else {
                    match json::walk(run, content, &Origin::Exact(here), "", 0) {
                        Ok(o) => o,
                        Err(json::WalkError::Malformed) => {
                            return Err(UnscannableReason::MalformedJson)
                        }
                        Err(json::WalkError::Unscannable(r)) => return Err(r),
                    }
                };
                if let Some(new) = edited {
                    let buf = out.get_or_insert_with(|| body[..here].to_vec());
                    buf.extend_from_slice(&new);
                    buf.extend_from_slice(&line[content.len()..]);
                } else if let Some(buf) = out.as_mut() {
                    buf.extend_from_slice(line);
                }
                if start <= body.len() {
                    if let Some(buf) = out.as_mut() {
                        buf.push(b'\n');
                    }
                }
            }
            Ok(out)
        })
    }

    /// Redacts plain text or a log line (nginx/Apache combined, logfmt, free text).
    pub fn redact_text(&self, t: &[u8]) -> Outcome {
        self.settle(t, Self::text_once)
    }

    fn text_once(&self, t: &[u8]) -> Outcome {
        run_with(self, t.len(), |run| {
            text::walk(run, t, &Origin::Exact(0), 0)
        })
    }

    /// Detects the format of one line (JSON, query/form, access-log or text) and redacts it.
    pub fn redact_auto(&self, line: &[u8]) -> Outcome {
        self.settle(line, Self::auto_once)
    }

    fn auto_once(&self, line: &[u8]) -> Outcome {
        let t = line.trim_ascii();
        if matches!(t.first(), Some(b'{' | b'[')) {
            let out = self.json_once(line);
            if out
                != (Outcome::Unscannable {
                    reason: UnscannableReason::MalformedJson,
                })
            {
                return out;
            }
        } else if looks_like_query(t) {
            return self.query_once(line);
        }
        self.text_once(line)
    }

    /// Re-scans a rewritten payload until nothing new is found (at most
    /// [`SETTLE_PASSES`] more passes): a mask can separate a candidate from the
    /// word it was glued to (`b:A::46eU@x.io` → `b:A::[REDACTED:EMAIL]`), and
    /// the output must be final. Findings of later passes carry the whole input
    /// as their range (their coordinates are in the rewritten bytes).
    fn settle(&self, input: &[u8], once: fn(&Profile, &[u8]) -> Outcome) -> Outcome {
        self.settle_with(input, once)
    }

    /// [`Profile::settle`] with a pass that may carry state from one pass
    /// to the next (which parts of its output it rewrote).
    fn settle_with(
        &self,
        input: &[u8],
        mut once: impl FnMut(&Profile, &[u8]) -> Outcome,
    ) -> Outcome {
        let (mut output, mut findings) = match once(self, input) {
            Outcome::Redacted { output, findings } => (output, findings),
            other => return other,
        };
        for _ in 0..SETTLE_PASSES {
            let widen = |f: Vec<crate::Finding>| {
                f.into_iter().map(|mut f| {
                    f.range = 0..input.len();
                    f
                })
            };
            match once(self, &output) {
                Outcome::Clean => break,
                Outcome::Redacted {
                    output: again,
                    findings: more,
                } => {
                    findings.extend(widen(more));
                    output = again;
                }
                Outcome::Blocked { findings: more } => {
                    findings.extend(widen(more));
                    return Outcome::Blocked { findings };
                }
                unscannable @ Outcome::Unscannable { .. } => return unscannable,
            }
        }
        Outcome::Redacted { output, findings }
    }

    /// Redacts `body` as `format` (`Auto` sniffs one line).
    pub fn redact(&self, format: crate::Format, body: &[u8]) -> Outcome {
        match format {
            crate::Format::Query => self.redact_query_bytes(body),
            crate::Format::Json => self.redact_json(body),
            crate::Format::Ndjson => self.redact_ndjson(body),
            crate::Format::Text => self.redact_text(body),
            crate::Format::Auto => self.redact_auto(body),
        }
    }
}

/// A JSON walk's result as a run's.
fn json_result(
    walked: Result<Option<Vec<u8>>, json::WalkError>,
) -> Result<Option<Vec<u8>>, UnscannableReason> {
    match walked {
        Ok(out) => Ok(out),
        Err(json::WalkError::Malformed) => Err(UnscannableReason::MalformedJson),
        Err(json::WalkError::Unscannable(r)) => Err(r),
    }
}

/// Extra passes [`Profile::settle`] may make over a rewritten payload.
const SETTLE_PASSES: usize = 2;

/// `a=1&b=2`-shaped: no whitespace, starts with a key then `=`.
fn looks_like_query(t: &[u8]) -> bool {
    let Some(eq) = memchr::memchr(b'=', t) else {
        return false;
    };
    eq > 0
        && !t.iter().any(|b| b.is_ascii_whitespace() || *b == b'"')
        && t[..eq].iter().all(|&b| {
            b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b'[' | b']' | b'%')
        })
}

fn custom_labels(spec: &ProfileSpec) -> Result<Vec<String>, EngineError> {
    let mut labels: Vec<String> = Vec::with_capacity(spec.custom.len());
    for (i, c) in spec.custom.iter().enumerate() {
        let ok = !c.name.is_empty()
            && c.name.len() <= 32
            && c.name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_');
        if !ok {
            return Err(EngineError::Invalid {
                path: format!("custom[{i}].name"),
                problem: "must be 1-32 characters of [A-Za-z0-9_]".into(),
            });
        }
        let label = c.name.to_ascii_uppercase();
        if labels.contains(&label) || PhiType::from_config_name(&c.name).is_some() {
            return Err(EngineError::Invalid {
                path: format!("custom[{i}].name"),
                problem: "duplicates another detector name".into(),
            });
        }
        labels.push(label);
    }
    Ok(labels)
}

fn context_keywords(
    spec: &BTreeMap<String, Vec<String>>,
) -> Result<BTreeMap<PhiType, Vec<String>>, EngineError> {
    let mut out: BTreeMap<PhiType, Vec<String>> = CONTEXT_TYPES
        .iter()
        .map(|&t| {
            (
                t,
                patterns::default_keywords(t)
                    .iter()
                    .map(|s| (*s).to_string())
                    .collect(),
            )
        })
        .collect();
    for (name, words) in spec {
        let ty = PhiType::from_config_name(name)
            .filter(|t| CONTEXT_TYPES.contains(t))
            .ok_or_else(|| EngineError::UnknownType {
                path: format!("context.{name}"),
                name: name.clone(),
            })?;
        if let Some(i) = words.iter().position(|w| w.trim().is_empty()) {
            return Err(EngineError::Invalid {
                path: format!("context.{name}[{i}]"),
                problem: "empty keyword".into(),
            });
        }
        let mut words = words.clone();
        words.sort_by_key(|w| std::cmp::Reverse(w.len()));
        out.insert(ty, words);
    }
    Ok(out)
}

fn pseudonymizer(
    spec: &ProfileSpec,
    actions: &[Action],
    custom_actions: &[Action],
) -> Result<Option<Pseudonymizer>, EngineError> {
    let needed = spec.action == Action::Pseudonymize
        || actions.contains(&Action::Pseudonymize)
        || custom_actions.contains(&Action::Pseudonymize);
    let configured = spec.pseudonym_key.is_some() || spec.pseudonym_key_env.is_some();
    if !needed && !configured {
        return Ok(None);
    }
    let (raw, path) = match (&spec.pseudonym_key, &spec.pseudonym_key_env) {
        (Some(k), None) => (k.clone(), "pseudonym_key"),
        (None, Some(var)) => (
            std::env::var(var).map_err(|_| EngineError::InvalidPseudonymKey {
                path: "pseudonym_key_env".into(),
                problem: "environment variable is not set or not UTF-8",
            })?,
            "pseudonym_key_env",
        ),
        (Some(_), Some(_)) => {
            return Err(EngineError::InvalidPseudonymKey {
                path: "pseudonym_key".into(),
                problem: "set only one of pseudonym_key and pseudonym_key_env",
            })
        }
        (None, None) => {
            return Err(EngineError::MissingPseudonymKey {
                path: if spec.action == Action::Pseudonymize {
                    "action".into()
                } else {
                    "actions".into()
                },
            })
        }
    };
    let key = decode_key(raw.trim()).map_err(|problem| EngineError::InvalidPseudonymKey {
        path: path.into(),
        problem,
    })?;
    let key_id = spec
        .pseudonym_key_id
        .clone()
        .ok_or(EngineError::InvalidPseudonymKey {
            path: "pseudonym_key_id".into(),
            problem: "required with a pseudonym key",
        })?;
    if key_id.is_empty() || key_id.len() > 16 || !key_id.bytes().all(|b| b.is_ascii_alphanumeric())
    {
        return Err(EngineError::InvalidPseudonymKey {
            path: "pseudonym_key_id".into(),
            problem: "must be 1-16 characters of [A-Za-z0-9]",
        });
    }
    Pseudonymizer::new(&key, key_id)
        .map(Some)
        .ok_or(EngineError::InvalidPseudonymKey {
            path: path.into(),
            problem: "unusable HMAC key",
        })
}

/// `hex:<hex>` or `base64:<base64>`, at least 16 bytes.
fn decode_key(s: &str) -> Result<Vec<u8>, &'static str> {
    let key = if let Some(h) = s.strip_prefix("hex:") {
        if h.len() % 2 != 0 || !h.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err("hex key must be an even number of hex digits");
        }
        (0..h.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&h[i..i + 2], 16).map_err(|_| "invalid hex key"))
            .collect::<Result<Vec<u8>, _>>()?
    } else if let Some(b) = s.strip_prefix("base64:") {
        base64::engine::general_purpose::STANDARD
            .decode(b)
            .map_err(|_| "invalid base64 key")?
    } else {
        return Err("key must start with hex: or base64:");
    };
    if key.len() < 16 {
        return Err("key must be at least 16 bytes");
    }
    Ok(key)
}

fn check_limits(l: &Limits) -> Result<(), EngineError> {
    let bad = |path: &str, problem: &str| {
        Err(EngineError::Invalid {
            path: format!("limits.{path}"),
            problem: problem.into(),
        })
    };
    if l.max_decode_depth == 0 || l.max_decode_depth > 16 {
        return bad("max_decode_depth", "must be 1-16");
    }
    if l.max_json_depth == 0 || l.max_json_depth > 512 {
        return bad("max_json_depth", "must be 1-512");
    }
    if l.max_expansion_bytes == 0 {
        return bad("max_expansion_bytes", "must be positive");
    }
    if l.max_input_bytes == 0 {
        return bad("max_input_bytes", "must be positive");
    }
    Ok(())
}

//! Key-name rules: which field names carry which identifier type.
//!
//! Names are normalised (ASCII lower-case, `_ - . space` removed) so `firstName`,
//! `first_name`, `First-Name` and `FIRSTNAME` are one key. A rule is a last-segment
//! name (`fn`), a dotted suffix (`customer.name`), or `$.name`: a top-level
//! field of a query string / form body / log `key=value` pair (not JSON, where a
//! root `name` is usually an event or page name).

use std::collections::HashMap;
use std::sync::OnceLock;

use crate::types::PhiType;

/// Longest key segment that is normalised (longer keys never match a rule).
const MAX_KEY: usize = 64;

/// Segments of a query-string key used for classification (`a[b][c]`).
pub const MAX_FORM_SEGMENTS: usize = 8;

/// Built-in key rules (`$.` = only at the root of the document / query).
const DEFAULT_KEYS: &[(&str, PhiType)] = &[
    ("first_name", PhiType::PersonName),
    ("fname", PhiType::PersonName),
    ("fn", PhiType::PersonName),
    ("last_name", PhiType::PersonName),
    ("lname", PhiType::PersonName),
    ("ln", PhiType::PersonName),
    ("middle_name", PhiType::PersonName),
    ("full_name", PhiType::PersonName),
    ("given_name", PhiType::PersonName),
    ("family_name", PhiType::PersonName),
    ("surname", PhiType::PersonName),
    ("patient_name", PhiType::PersonName),
    ("customer_name", PhiType::PersonName),
    ("billing_name", PhiType::PersonName),
    ("shipping_name", PhiType::PersonName),
    ("cardholder_name", PhiType::PersonName),
    ("contact_name", PhiType::PersonName),
    ("$.name", PhiType::PersonName),
    ("customer.name", PhiType::PersonName),
    ("patient.name", PhiType::PersonName),
    ("user.name", PhiType::PersonName),
    ("billing.name", PhiType::PersonName),
    ("shipping.name", PhiType::PersonName),
    ("billing_address.name", PhiType::PersonName),
    ("shipping_address.name", PhiType::PersonName),
    ("contact.name", PhiType::PersonName),
    ("member.name", PhiType::PersonName),
    ("recipient.name", PhiType::PersonName),
    ("dob", PhiType::DateOfBirth),
    ("db", PhiType::DateOfBirth),
    ("birthdate", PhiType::DateOfBirth),
    ("birth_date", PhiType::DateOfBirth),
    ("date_of_birth", PhiType::DateOfBirth),
    ("birthday", PhiType::DateOfBirth),
    ("bday", PhiType::DateOfBirth),
    ("email", PhiType::Email),
    ("em", PhiType::Email),
    ("email_address", PhiType::Email),
    ("phone", PhiType::Phone),
    ("ph", PhiType::Phone),
    ("phone_number", PhiType::Phone),
    ("tel", PhiType::Phone),
    ("telephone", PhiType::Phone),
    ("mobile", PhiType::Phone),
    ("mobile_phone", PhiType::Phone),
    ("cell", PhiType::Phone),
    ("cell_phone", PhiType::Phone),
    ("home_phone", PhiType::Phone),
    ("fax", PhiType::Phone),
    ("ssn", PhiType::Ssn),
    ("social_security_number", PhiType::Ssn),
    ("social_security", PhiType::Ssn),
    ("mrn", PhiType::Mrn),
    ("medical_record_number", PhiType::Mrn),
    ("medical_record", PhiType::Mrn),
    ("patient_id", PhiType::Mrn),
    ("chart_number", PhiType::Mrn),
    ("member_id", PhiType::InsuranceId),
    ("subscriber_id", PhiType::InsuranceId),
    ("insurance_id", PhiType::InsuranceId),
    ("insurance_member_id", PhiType::InsuranceId),
    ("policy_number", PhiType::InsuranceId),
    ("policy_id", PhiType::InsuranceId),
    ("medicaid_id", PhiType::InsuranceId),
    ("health_plan_id", PhiType::InsuranceId),
    ("passport", PhiType::Passport),
    ("passport_number", PhiType::Passport),
    ("passport_no", PhiType::Passport),
    ("drivers_license", PhiType::DriverLicense),
    ("driver_license", PhiType::DriverLicense),
    ("drivers_license_number", PhiType::DriverLicense),
    ("driver_license_number", PhiType::DriverLicense),
    ("dl_number", PhiType::DriverLicense),
    ("dln", PhiType::DriverLicense),
    ("npi", PhiType::Npi),
    ("npi_number", PhiType::Npi),
    ("provider_npi", PhiType::Npi),
    ("mbi", PhiType::Mbi),
    ("medicare_id", PhiType::Mbi),
    ("zip", PhiType::Zip),
    ("zipcode", PhiType::Zip),
    ("zip_code", PhiType::Zip),
    ("postal_code", PhiType::Zip),
    ("postcode", PhiType::Zip),
    ("zp", PhiType::Zip),
    ("address", PhiType::StreetAddress),
    ("address1", PhiType::StreetAddress),
    ("address2", PhiType::StreetAddress),
    ("address_line1", PhiType::StreetAddress),
    ("address_line2", PhiType::StreetAddress),
    ("street_address", PhiType::StreetAddress),
    ("street", PhiType::StreetAddress),
    ("street1", PhiType::StreetAddress),
    ("street2", PhiType::StreetAddress),
    ("addr", PhiType::StreetAddress),
    ("addr1", PhiType::StreetAddress),
    ("icd10", PhiType::Icd10),
    ("icd", PhiType::Icd10),
    ("icd10_code", PhiType::Icd10),
    ("icd_code", PhiType::Icd10),
    ("diagnosis", PhiType::Icd10),
    ("diagnosis_code", PhiType::Icd10),
    ("diagnosis_codes", PhiType::Icd10),
    ("dx", PhiType::Icd10),
    ("dx_code", PhiType::Icd10),
    ("external_id", PhiType::HashedId),
    ("hashed_email", PhiType::HashedId),
    ("email_hash", PhiType::HashedId),
    ("email_sha256", PhiType::HashedId),
    ("sha256_email_address", PhiType::HashedId),
    ("sha256_phone_number", PhiType::HashedId),
    ("phone_hash", PhiType::HashedId),
    ("hashed_phone", PhiType::HashedId),
    ("ge", PhiType::HashedId),
    ("ct", PhiType::HashedId),
    ("st", PhiType::HashedId),
    ("country", PhiType::HashedId),
];

/// Normalises one key segment into `buf`; `None` if it is too long.
pub fn normalize<'b>(key: &[u8], buf: &'b mut [u8; MAX_KEY]) -> Option<&'b [u8]> {
    let mut n = 0;
    for &b in key {
        if matches!(b, b'_' | b'-' | b'.' | b' ') {
            continue;
        }
        if n == MAX_KEY {
            return None;
        }
        buf[n] = b.to_ascii_lowercase();
        n += 1;
    }
    Some(&buf[..n])
}

/// One rule attached to a last-segment name.
#[derive(Clone, Debug)]
struct Rule {
    /// Normalised parent segments that must precede the last one (innermost last).
    parents: Vec<Vec<u8>>,
    /// The rule only applies at the root (`$.name`).
    rooted: bool,
    /// What a value under this key is.
    class: KeyClass,
}

/// What a keyed field holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyClass {
    /// A built-in type.
    Builtin(PhiType),
    /// Context for custom detector `n`.
    Custom(u16),
}

/// Compiled key rules, looked up by normalised last segment.
#[derive(Clone, Debug, Default)]
pub struct KeyTable {
    /// Rules by normalised last segment (the source the automaton is built from).
    rules: HashMap<Vec<u8>, Vec<Rule>>,
    /// The rules as an automaton over raw key bytes, built on first use
    /// after the last [`KeyTable::insert`].
    automaton: OnceLock<KeyAutomaton>,
}

/// A trie of the normalised rule names as a dense transition table over
/// raw bytes: `_ - . space` loop on their state and upper-case ASCII
/// steps like lower-case, so a key is classified in one pass with one
/// table load per byte, without normalising it into a buffer. Most field
/// names fall off the trie within two or three bytes.
#[derive(Clone, Debug)]
struct KeyAutomaton {
    /// Column of each byte; 0 for bytes that occur in no rule name
    /// (always the dead state).
    column: [u8; 256],
    /// Columns per state.
    width: usize,
    /// `next[state + column]`: the next state, pre-multiplied by `width`;
    /// 0 is the dead state.
    next: Vec<u32>,
    /// Per state (`state / width`): the index into `lists` + 1 of the rules
    /// whose normalised name ends there, or 0.
    accept: Vec<u32>,
    /// Rule lists, innermost-match order as in [`KeyTable::rules`].
    lists: Vec<Vec<Rule>>,
}

/// The state a lookup starts in (state 1, pre-multiplied).
fn root(width: usize) -> u32 {
    width as u32
}

impl KeyAutomaton {
    fn build(rules: &HashMap<Vec<u8>, Vec<Rule>>) -> KeyAutomaton {
        // Column 0: bytes in no name (dead); 1: separators (stay); then one
        // per distinct byte of the normalised names.
        let mut column = [0u8; 256];
        for b in [b'_', b'-', b'.', b' '] {
            column[usize::from(b)] = 1;
        }
        let mut width = 2usize;
        let mut names: Vec<(&Vec<u8>, &Vec<Rule>)> = rules
            .iter()
            .filter(|(name, _)| !name.is_empty() && name.len() <= MAX_KEY)
            .collect();
        // A fixed order keeps the table the same from run to run.
        names.sort_by(|a, b| a.0.cmp(b.0));
        for (name, _) in &names {
            for &b in name.iter() {
                if column[usize::from(b)] == 0 {
                    // Normalised names hold no separator or upper-case ASCII
                    // byte, so at most 226 distinct bytes: the column
                    // (< 228) fits in a u8.
                    column[usize::from(b)] = u8::try_from(width).unwrap_or(u8::MAX);
                    width += 1;
                }
            }
        }
        for b in b'A'..=b'Z' {
            column[usize::from(b)] = column[usize::from(b.to_ascii_lowercase())];
        }
        // State 0 dead (all zeros), state 1 the root.
        let mut next = vec![0u32; 2 * width];
        let mut accept = vec![0u32; 2];
        let stay = |next: &mut Vec<u32>, state: u32| next[state as usize + 1] = state;
        stay(&mut next, root(width));
        let mut lists = Vec::with_capacity(names.len());
        for (name, list) in names {
            let mut state = root(width);
            for &b in name {
                let at = state as usize + usize::from(column[usize::from(b)]);
                if next[at] == 0 {
                    let new = next.len() as u32;
                    next.resize(next.len() + width, 0);
                    accept.push(0);
                    stay(&mut next, new);
                    next[at] = new;
                }
                state = next[at];
            }
            lists.push(list.clone());
            accept[state as usize / width] = lists.len() as u32;
        }
        KeyAutomaton {
            column,
            width,
            next,
            accept,
            lists,
        }
    }

    /// [`KeyAutomaton::lookup`] for a query-string key, in one pass. A key
    /// holding `[`, `]` or `.` has segments: `Segmented` (classify them one
    /// by one) only when the segment [`KeyTable::classify_form_key`] looks
    /// up under the others — the last, among the first
    /// [`MAX_FORM_SEGMENTS`] — names a rule, else `None` (`ep.currency`).
    #[inline]
    fn lookup_form(&self, key: &[u8]) -> FormLookup<'_> {
        // Most keys have one segment and fall off the trie within a few
        // bytes (`tid`, `_p`): walk until the state dies, then only a
        // segment separator later on can still name a rule.
        let mut state = root(self.width);
        for (i, &b) in key.iter().enumerate() {
            if is_segment_separator(b) {
                return self.lookup_segments(key);
            }
            let at = state as usize + usize::from(self.column[usize::from(b)]);
            state = self.next.get(at).copied().unwrap_or(0);
            if state == 0 {
                let rest = key.get(i + 1..).unwrap_or_default();
                return if rest.iter().any(|&b| is_segment_separator(b)) {
                    self.lookup_segments(key)
                } else {
                    FormLookup::None
                };
            }
        }
        match self.accepted(state) {
            Some(rules) => FormLookup::Rules(rules),
            None => FormLookup::None,
        }
    }

    /// [`KeyAutomaton::lookup_form`] for a key with a segment separator:
    /// the segments one by one.
    fn lookup_segments(&self, key: &[u8]) -> FormLookup<'_> {
        let root = root(self.width);
        let mut state = root;
        let mut segmented = false;
        // Whether the current segment has a byte; the non-empty segments
        // ended so far, and the state the last one ended in.
        let mut in_segment = false;
        let mut segments = 0;
        let mut last = 0;
        for &b in key {
            if is_segment_separator(b) {
                segmented = true;
                if in_segment {
                    segments += 1;
                    last = state;
                    state = root;
                    in_segment = false;
                }
                continue;
            }
            if !in_segment && segments == MAX_FORM_SEGMENTS {
                // A segment past those that count.
                return FormLookup::Segmented;
            }
            in_segment = true;
            if state != 0 {
                let at = state as usize + usize::from(self.column[usize::from(b)]);
                state = self.next.get(at).copied().unwrap_or(0);
            }
        }
        if !segmented {
            return match self.accepted(state) {
                Some(rules) => FormLookup::Rules(rules),
                None => FormLookup::None,
            };
        }
        if in_segment {
            last = state;
        }
        match self.accepted(last) {
            Some(_) => FormLookup::Segmented,
            None => FormLookup::None,
        }
    }

    /// The rules accepted in `state`, if any.
    #[inline]
    fn accepted(&self, state: u32) -> Option<&[Rule]> {
        let list = *self.accept.get(state as usize / self.width)?;
        let i = (list as usize).checked_sub(1)?;
        self.lists.get(i).map(Vec::as_slice)
    }

    /// The rules whose normalised name equals `key` normalised.
    #[inline]
    fn lookup(&self, key: &[u8]) -> Option<&[Rule]> {
        let mut state = root(self.width);
        for &b in key {
            let at = state as usize + usize::from(self.column[usize::from(b)]);
            state = *self.next.get(at)?;
            if state == 0 {
                return None;
            }
        }
        self.accepted(state)
    }
}

/// Whether `b` separates the segments of a query-string key (`a[b]`, `ep.name`).
#[inline]
fn is_segment_separator(b: u8) -> bool {
    matches!(b, b'[' | b']' | b'.')
}

/// What [`KeyAutomaton::lookup_form`] found.
enum FormLookup<'a> {
    /// The rules for the (unsegmented) key.
    Rules(&'a [Rule]),
    /// No rule.
    None,
    /// The key has segments: classify them one by one.
    Segmented,
}

impl KeyTable {
    /// The built-in rules restricted to `enabled` types.
    pub fn with_defaults(enabled: impl Fn(PhiType) -> bool) -> KeyTable {
        let mut table = KeyTable::default();
        for &(name, ty) in DEFAULT_KEYS {
            if enabled(ty) {
                table.insert(name, KeyClass::Builtin(ty));
            }
        }
        table
    }

    /// Adds a rule; later rules for the same key take precedence.
    pub fn insert(&mut self, name: &str, class: KeyClass) {
        let (rooted, name) = match name.strip_prefix("$.") {
            Some(rest) => (true, rest),
            None => (false, name),
        };
        let mut segs: Vec<Vec<u8>> = name
            .split('.')
            .filter(|s| !s.is_empty())
            .map(|s| {
                let mut buf = [0u8; MAX_KEY];
                normalize(s.as_bytes(), &mut buf)
                    .unwrap_or_default()
                    .to_vec()
            })
            .collect();
        let Some(last) = segs.pop() else { return };
        self.automaton = OnceLock::new();
        let rules = self.rules.entry(last).or_default();
        rules.insert(
            0,
            Rule {
                parents: segs,
                rooted,
                class,
            },
        );
    }

    /// Classifies a key: `last` is the innermost key, `parents` the enclosing
    /// keys outermost first (array indices left out).
    /// `form` enables the `$.` (top-level form field) rules.
    pub fn classify<'s, I>(&self, last: &[u8], parents: I, form: bool) -> Option<KeyClass>
    where
        I: DoubleEndedIterator<Item = &'s [u8]> + ExactSizeIterator + Clone,
    {
        let rules = self
            .automaton
            .get_or_init(|| KeyAutomaton::build(&self.rules))
            .lookup(last)?;
        rules
            .iter()
            .find(|r| (form || !r.rooted) && r.matches(parents.clone()))
            .map(|r| r.class)
    }

    /// Classifies a query-string key (`form` rules apply): its segments
    /// are split at `[`, `]` and `.` (`a[b][c]`, `ep.name`; the first
    /// [`MAX_FORM_SEGMENTS`] count, the rest are ignored) and the last one
    /// is classified under the others.
    #[inline]
    pub fn classify_form_key(&self, key: &[u8]) -> Option<KeyClass> {
        let automaton = self
            .automaton
            .get_or_init(|| KeyAutomaton::build(&self.rules));
        match automaton.lookup_form(key) {
            FormLookup::Rules(rules) => {
                rules.iter().find(|r| r.parents.is_empty()).map(|r| r.class)
            }
            FormLookup::None => None,
            FormLookup::Segmented => self.classify_segments(key),
        }
    }

    /// [`KeyTable::classify_form_key`] for a caller that knows from the
    /// key's bytes whether it `may_have_segments` (holds a `[`, `]` or `.`):
    /// without, the key has one segment, so its lookup is one trie walk
    /// that stops where the key falls off the trie, with no look for
    /// separators on the way or after it.
    #[inline]
    pub fn classify_query_key(&self, key: &[u8], may_have_segments: bool) -> Option<KeyClass> {
        if may_have_segments {
            self.classify_form_key(key)
        } else {
            self.classify_unsegmented_key(key)
        }
    }

    /// [`KeyTable::classify_query_key`] for a key without segments.
    #[inline]
    fn classify_unsegmented_key(&self, key: &[u8]) -> Option<KeyClass> {
        debug_assert!(!key.iter().any(|&b| is_segment_separator(b)));
        let automaton = self
            .automaton
            .get_or_init(|| KeyAutomaton::build(&self.rules));
        let rules = automaton.lookup(key)?;
        rules.iter().find(|r| r.parents.is_empty()).map(|r| r.class)
    }

    /// [`KeyTable::classify_form_key`] for a key holding `[`, `]` or `.`.
    fn classify_segments(&self, key: &[u8]) -> Option<KeyClass> {
        let mut segs: [&[u8]; MAX_FORM_SEGMENTS] = [&[]; MAX_FORM_SEGMENTS];
        let mut n = 0;
        for seg in key
            .split(|&b| is_segment_separator(b))
            .filter(|s| !s.is_empty())
        {
            if n == MAX_FORM_SEGMENTS {
                break;
            }
            segs[n] = seg;
            n += 1;
        }
        let (last, parents) = segs[..n].split_last()?;
        self.classify(last, parents.iter().copied(), true)
    }

    /// True when no rules are configured.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }
}

impl Rule {
    fn matches<'s, I>(&self, parents: I) -> bool
    where
        I: DoubleEndedIterator<Item = &'s [u8]> + ExactSizeIterator,
    {
        if self.rooted && parents.len() != self.parents.len() {
            return false;
        }
        if parents.len() < self.parents.len() {
            return false;
        }
        parents
            .rev()
            .zip(self.parents.iter().rev())
            .all(|(seg, want)| {
                let mut buf = [0u8; MAX_KEY];
                normalize(seg, &mut buf).is_some_and(|n| n == want.as_slice())
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn class(t: &KeyTable, path: &[&str]) -> Option<KeyClass> {
        let segs: Vec<&[u8]> = path.iter().map(|s| s.as_bytes()).collect();
        let (last, parents) = segs.split_last().unwrap();
        t.classify(last, parents.iter().copied(), true)
    }

    /// The rules for `key` found the slow way: normalise, then look up.
    fn reference(t: &KeyTable, key: &[u8]) -> Option<Vec<KeyClass>> {
        let mut buf = [0u8; MAX_KEY];
        let norm = normalize(key, &mut buf)?;
        if norm.is_empty() {
            return None;
        }
        t.rules
            .get(norm)
            .map(|rules| rules.iter().map(|r| r.class).collect())
    }

    fn automaton(t: &KeyTable, key: &[u8]) -> Option<Vec<KeyClass>> {
        KeyAutomaton::build(&t.rules)
            .lookup(key)
            .map(|rules| rules.iter().map(|r| r.class).collect())
    }

    /// Keys near the rule names: names, their prefixes and extensions,
    /// case and separator variants, stray bytes.
    fn near_key() -> impl proptest::strategy::Strategy<Value = Vec<u8>> {
        use proptest::prelude::*;
        let name = proptest::sample::select(DEFAULT_KEYS.iter().map(|k| k.0).collect::<Vec<_>>());
        (
            name,
            proptest::collection::vec((any::<u8>(), 0u8..8), 0..6),
            0usize..70,
        )
            .prop_map(|(name, edits, cut)| {
                let mut k: Vec<u8> = name.trim_start_matches("$.").bytes().collect();
                for (b, how) in edits {
                    let at = usize::from(b) % (k.len() + 1);
                    match how {
                        0 => k.insert(at, b),
                        1 => k.insert(at, [b'_', b'-', b'.', b' '][usize::from(b) % 4]),
                        2 if at < k.len() => k[at] = k[at].to_ascii_uppercase(),
                        3 if at < k.len() => {
                            k.remove(at);
                        }
                        4 => k.extend(std::iter::repeat_n(b'_', usize::from(b) % 70)),
                        5 => k.push(b'a' + b % 26),
                        _ => {}
                    }
                }
                if cut < k.len() && cut % 3 == 0 {
                    k.truncate(cut);
                }
                k
            })
    }

    proptest::proptest! {
        #[test]
        fn automaton_equals_normalised_lookup(key in near_key()) {
            let t = KeyTable::with_defaults(|_| true);
            proptest::prop_assert_eq!(automaton(&t, &key), reference(&t, &key));
        }

        #[test]
        fn automaton_equals_normalised_lookup_on_any_bytes(
            key in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..80),
        ) {
            let mut t = KeyTable::with_defaults(|_| true);
            t.insert("Über_Name", KeyClass::Custom(0));
            t.insert("x\u{ff}y", KeyClass::Custom(1));
            proptest::prop_assert_eq!(automaton(&t, &key), reference(&t, &key));
        }
    }

    proptest::proptest! {
        #[test]
        fn form_key_fast_path_equals_segment_split(
            key in near_key(),
            seps in proptest::collection::vec((0usize..80, 0u8..3), 0..12),
        ) {
            let t = KeyTable::with_defaults(|_| true);
            let mut key = key;
            for (at, which) in seps {
                key.insert(at % (key.len() + 1), [b'[', b']', b'.'][usize::from(which)]);
            }
            proptest::prop_assert_eq!(t.classify_form_key(&key), t.classify_segments(&key));
        }

        #[test]
        fn unsegmented_keys_classify_as_form_keys(key in near_key()) {
            // Any key without `[`, `]` or `.`, not just word bytes.
            let t = KeyTable::with_defaults(|_| true);
            let key: Vec<u8> = key.into_iter().filter(|&b| !is_segment_separator(b)).collect();
            proptest::prop_assert_eq!(t.classify_query_key(&key, false), t.classify_form_key(&key));
        }
    }

    #[test]
    fn long_and_non_ascii_keys() {
        let mut t = KeyTable::with_defaults(|_| true);
        let long = "a".repeat(MAX_KEY);
        t.insert(&long, KeyClass::Custom(0));
        t.insert(&"b".repeat(MAX_KEY + 1), KeyClass::Custom(1));
        t.insert("Über_Name", KeyClass::Custom(2));
        for key in [
            long.clone(),
            format!("{long}_"),
            format!("{long}a"),
            "b".repeat(MAX_KEY + 1),
            "b".repeat(MAX_KEY),
            "ÜBER-name".to_string(),
            "über_name".to_string(),
            String::new(),
            "___".to_string(),
            "FIRST_NAME".to_string(),
            "first_nam".to_string(),
        ] {
            assert_eq!(
                automaton(&t, key.as_bytes()),
                reference(&t, key.as_bytes()),
                "{key}"
            );
        }
        assert_eq!(class(&t, &[long.as_str()]), Some(KeyClass::Custom(0)));
        assert_eq!(
            class(&t, &["first__name"]),
            Some(KeyClass::Builtin(PhiType::PersonName))
        );
        assert_eq!(
            t.classify_form_key(b"ep.first_name"),
            Some(KeyClass::Builtin(PhiType::PersonName))
        );
        assert_eq!(t.classify_form_key(b"product[name]"), None);
        assert_eq!(t.classify_form_key(b"ep.currency"), None);
        // Only the first eight segments count: the eighth is classified.
        let name = Some(KeyClass::Builtin(PhiType::PersonName));
        assert_eq!(t.classify_form_key(b"a.b.c.d.e.f.g.customer.name"), None);
        assert_eq!(t.classify_form_key(b"a.b.c.d.e.f.customer.name.x"), name);
        assert_eq!(t.classify_form_key(b"a..b.c.d.e.f.customer.name]["), name);
        assert_eq!(
            t.classify_form_key(b"name"),
            Some(KeyClass::Builtin(PhiType::PersonName))
        );
        assert_eq!(
            t.classify_form_key(b"user_data[fn]"),
            Some(KeyClass::Builtin(PhiType::PersonName))
        );
        assert_eq!(
            t.classify_form_key(b"Customer.Name"),
            Some(KeyClass::Builtin(PhiType::PersonName))
        );
    }

    #[test]
    fn naming_styles_and_paths() {
        let t = KeyTable::with_defaults(|_| true);
        let name = Some(KeyClass::Builtin(PhiType::PersonName));
        assert_eq!(class(&t, &["firstName"]), name);
        assert_eq!(class(&t, &["FIRST-NAME"]), name);
        assert_eq!(class(&t, &["user_data", "fn"]), name);
        assert_eq!(class(&t, &["customer", "name"]), name);
        assert_eq!(class(&t, &["Customer", "Name"]), name);
        assert_eq!(class(&t, &["name"]), name);
        assert_eq!(t.classify(b"name", std::iter::empty(), false), None);
        assert_eq!(class(&t, &["events", "name"]), None);
        assert_eq!(class(&t, &["product", "name"]), None);
        assert_eq!(class(&t, &["iphone_model"]), None);
    }
}

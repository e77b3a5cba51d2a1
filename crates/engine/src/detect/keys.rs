//! Key-name rules: which field names carry which identifier type.
//!
//! Names are normalised (ASCII lower-case, `_ - . space` removed) so `firstName`,
//! `first_name`, `First-Name` and `FIRSTNAME` are one key. A rule is a last-segment
//! name (`fn`), a dotted suffix (`customer.name`), or `$.name`: a top-level
//! field of a query string / form body / log `key=value` pair (not JSON, where a
//! root `name` is usually an event or page name).

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use crate::types::PhiType;

/// Longest key segment that is normalised (longer keys never match a rule).
const MAX_KEY: usize = 64;

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

/// FNV-1a: keys are short, so a tiny hash beats SipHash on the per-field hot
/// path. The table is fixed when the profile is compiled, so lookups of
/// attacker-chosen keys cannot grow or degrade it.
#[derive(Default)]
struct Fnv(u64);

impl Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        let mut h = if self.0 == 0 {
            0xcbf2_9ce4_8422_2325
        } else {
            self.0
        };
        for &b in bytes {
            h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
        self.0 = h;
    }
}

/// Compiled key rules, looked up by normalised last segment.
#[derive(Clone, Debug, Default)]
pub struct KeyTable {
    rules: HashMap<Vec<u8>, Vec<Rule>, BuildHasherDefault<Fnv>>,
    /// Bit `last byte & 63` of `seen[len][first byte & 63]` is set for every
    /// normalised key: most field names are rejected without hashing.
    seen: Vec<[u64; 64]>,
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
        if let (Some(&f), Some(&l)) = (last.first(), last.last()) {
            if self.seen.len() <= last.len() {
                self.seen.resize(last.len() + 1, [0; 64]);
            }
            self.seen[last.len()][usize::from(f & 63)] |= 1 << (l & 63);
        }
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
        let mut buf = [0u8; MAX_KEY];
        let norm = normalize(last, &mut buf)?;
        let (&f, &l) = (norm.first()?, norm.last()?);
        let row = self.seen.get(norm.len())?;
        if row[usize::from(f & 63)] & (1 << (l & 63)) == 0 {
            return None;
        }
        let rules = self.rules.get(norm)?;
        rules
            .iter()
            .find(|r| (form || !r.rooted) && r.matches(parents.clone()))
            .map(|r| r.class)
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

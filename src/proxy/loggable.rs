//! What the proxy's own logs may show of a request's path and query: credential-looking
//! values and PHI masked (the engine's default profile), nothing when it cannot be scanned.

use std::borrow::Cow;
use std::sync::LazyLock;

use aho_corasick::AhoCorasick;
use phiguard_engine::{Outcome, Profile};

use super::owned_utf8;

/// Parameter names whose values the access log never shows, matched anywhere in the name
/// and in any ASCII case (`api_key`, `X-Session-Token`, `pwd`...).
static CREDENTIAL_KEYS: LazyLock<AhoCorasick> = LazyLock::new(|| {
    AhoCorasick::builder()
        .ascii_case_insensitive(true)
        .build([
            "token", "secret", "passw", "pwd", "key", "auth", "session", "sig", "code", "otp",
            "jwt", "bearer",
        ])
        .expect("fixed credential key patterns compile")
});

/// A query string fit for the proxy's own logs: values of credential-looking parameters
/// (`token`, `password`, `api_key`, `session`, `sig`, ...) masked, then PHI masked with
/// `profile` unless `scanned` says that was done already (an egress route's forwarded
/// query); a query the engine cannot scan is not logged.
pub(super) fn query(profile: &Profile, query: &str, scanned: bool) -> String {
    let masked = mask_credentials(query);
    if scanned {
        return masked;
    }
    match profile.redact_query(&masked) {
        Outcome::Clean => masked,
        outcome => match outcome.output(masked.as_bytes()) {
            Some(bytes) => owned_utf8(bytes),
            None => "[query not logged: unscannable]".to_owned(),
        },
    }
}

/// A path fit for the proxy's own logs: PHI in it (`/patients/jane@x.org`) masked with
/// `profile`; a path the engine cannot scan is not logged at all.
pub(super) fn path<'a>(profile: &Profile, path: &'a str) -> Cow<'a, str> {
    let outcome = profile.redact_text(path.as_bytes());
    match outcome.output(path.as_bytes()) {
        Some(bytes) if bytes == path.as_bytes() => Cow::Borrowed(path),
        Some(bytes) => Cow::Owned(owned_utf8(bytes)),
        None => Cow::Borrowed("[path not logged: unscannable]"),
    }
}

/// Whether a query parameter's name looks like it holds a credential.
fn is_credential_key(name: &str) -> bool {
    CREDENTIAL_KEYS.is_match(name)
}

/// `query` with the values of credential-looking parameters replaced by
/// `[REDACTED:CREDENTIAL]`; everything else byte for byte.
fn mask_credentials(query: &str) -> String {
    let mut masked = String::with_capacity(query.len());
    let mut start = 0;
    // `&` and `=` are ASCII, so every cut below falls on a character boundary.
    let ends = memchr::memchr_iter(b'&', query.as_bytes()).chain([query.len()]);
    for end in ends {
        if start > 0 {
            masked.push('&');
        }
        let pair = &query[start..end];
        match memchr::memchr(b'=', pair.as_bytes()).map(|eq| &pair[..eq]) {
            Some(key) if is_credential_key(key) => {
                masked.push_str(key);
                masked.push_str("=[REDACTED:CREDENTIAL]");
            }
            _ => masked.push_str(pair),
        }
        start = end + 1;
    }
    masked
}

#[cfg(test)]
mod tests {
    use super::{is_credential_key, mask_credentials};

    #[test]
    fn credentials_are_masked_and_everything_else_kept() {
        assert_eq!(
            mask_credentials("a=1&API_KEY=s3cr3t&&=x&Token&sid=9&b"),
            "a=1&API_KEY=[REDACTED:CREDENTIAL]&&=x&Token&sid=9&b"
        );
        assert_eq!(
            mask_credentials("&session=abc&"),
            "&session=[REDACTED:CREDENTIAL]&"
        );
        assert_eq!(mask_credentials(""), "");
    }

    #[test]
    fn credential_keys_match_anywhere_in_any_ascii_case() {
        for name in [
            "token",
            "api_key",
            "X-Session-Id",
            "PASSWORD",
            "otp",
            "Sig",
            "authCode",
        ] {
            assert!(is_credential_key(name), "{name}");
        }
        for name in ["email", "dl", "cid", "en", "ep.value", "page"] {
            assert!(!is_credential_key(name), "{name}");
        }
    }
}

//! Reading a config file into the [`Config`] schema, with errors that name the file, the key
//! path and the problem.

mod error;
mod schema;

use std::path::{Path, PathBuf};

pub use error::{ConfigError, ConfigIssue};
pub use schema::*;

/// A parsed config together with where it came from.
#[derive(Debug, Clone)]
pub struct LoadedConfig {
    /// The parsed config.
    pub config: Config,
    /// The file it was read from (for error messages and relative paths).
    pub file: PathBuf,
    /// Short SHA-256 of the text it was parsed from.
    pub hash: String,
}

impl LoadedConfig {
    /// The directory relative paths in the config are resolved against.
    pub fn base_dir(&self) -> &Path {
        self.file.parent().unwrap_or_else(|| Path::new("."))
    }
}

/// Reads and parses `file`. Semantic validation happens in `Policy::compile`.
pub fn load(file: &Path) -> Result<LoadedConfig, ConfigError> {
    let text = std::fs::read_to_string(file).map_err(|source| ConfigError::Read {
        file: file.to_path_buf(),
        source,
    })?;
    parse(&text, file)
}

/// Parses YAML `text` as if read from `file`.
pub fn parse(text: &str, file: &Path) -> Result<LoadedConfig, ConfigError> {
    let deserializer = serde_yaml::Deserializer::from_str(text);
    match serde_path_to_error::deserialize::<_, Config>(deserializer) {
        Ok(config) => Ok(LoadedConfig {
            config,
            file: file.to_path_buf(),
            hash: content_hash(text),
        }),
        Err(err) => {
            // A syntax error inside a flow mapping leaves an unknown segment (`.?`) at the end.
            let path = err.path().to_string();
            let key = match path.trim_end_matches(".?") {
                "" | "." | "?" => "(top level)".to_owned(),
                path => path.to_owned(),
            };
            let inner = err.into_inner();
            let line = inner.location().map(|l| l.line());
            let problem = tidy_problem(&inner.to_string(), &key);
            Err(ConfigError::Invalid {
                file: file.to_path_buf(),
                issues: vec![ConfigIssue { key, problem, line }],
            })
        }
    }
}

/// A short SHA-256 (16 hex digits) of a config text: the `hash` label of
/// `phiguard_config_info`, and how a reload tells an unchanged file.
pub fn content_hash(text: &str) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(text.as_bytes());
    digest.iter().take(8).map(|b| format!("{b:02x}")).collect()
}

/// serde_yaml prefixes its messages with the key path (`"routes[0]: "`) and appends
/// " at line L column C"; the key and the line are reported separately, so both go.
fn tidy_problem(message: &str, key: &str) -> String {
    let message = match message.find(" at line ") {
        Some(at) => &message[..at],
        None => message,
    };
    match message.split_once(": ") {
        Some((path, rest)) if !path.is_empty() && key.starts_with(path) => rest.to_owned(),
        _ => message.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = r#"
listeners: [{name: public, address: "127.0.0.1:8080"}]
upstreams: {shop: {address: "127.0.0.1:3000"}}
routes: [{name: all, upstream: shop}]
"#;

    #[test]
    fn minimal_config_gets_defaults() {
        let loaded = parse(MINIMAL, Path::new("x.yaml")).unwrap();
        assert_eq!(loaded.config.admin.address, "127.0.0.1:9901");
        assert_eq!(loaded.config.server.grace_period_secs, 10);
        assert_eq!(loaded.config.upstreams["shop"].connect_timeout_ms, 2_000);
        assert!(loaded.config.access_log.enabled);
    }

    #[test]
    fn unknown_key_names_file_and_path() {
        let text = MINIMAL.replace("upstream: shop}", "upstream: shop, upstrem: x}");
        let err = parse(&text, Path::new("conf/p.yaml"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("conf/p.yaml"), "{err}");
        assert!(err.contains("routes[0]"), "{err}");
        assert!(err.contains("unknown field `upstrem`"), "{err}");
    }

    #[test]
    fn wrong_type_names_the_key() {
        let text = MINIMAL.replace(
            "{address: \"127.0.0.1:3000\"}",
            "{address: \"a:1\", connect_timeout_ms: soon}",
        );
        let err = parse(&text, Path::new("p.yaml")).unwrap_err().to_string();
        assert!(err.contains("upstreams.shop.connect_timeout_ms"), "{err}");
    }

    #[test]
    fn key_and_line_are_not_repeated_in_the_problem() {
        let text = MINIMAL.replace("upstream: shop}", "upstream: shop, upstrem: x}");
        let err = parse(&text, Path::new("p.yaml")).unwrap_err().to_string();
        assert!(
            err.starts_with("p.yaml: routes[0].upstrem (line 4): unknown field `upstrem`"),
            "{err}"
        );
        let text = MINIMAL.replace("3000\"}", "3000\", connect_timeout_ms: soon}");
        let err = parse(&text, Path::new("p.yaml")).unwrap_err().to_string();
        assert_eq!(
            err,
            "p.yaml: upstreams.shop.connect_timeout_ms (line 3): \
             invalid type: string \"soon\", expected u64"
        );
        let text = MINIMAL.replace("upstream: shop}]", "upstream: shop]");
        let err = parse(&text, Path::new("p.yaml")).unwrap_err().to_string();
        assert!(
            err.starts_with("p.yaml: routes[0] (line 4): did not find expected"),
            "{err}"
        );
    }
}

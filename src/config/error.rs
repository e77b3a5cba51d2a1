//! Config errors: every one names the file, the key path and the problem.

use std::fmt;
use std::path::PathBuf;

/// One problem found in a config, at a key path such as `routes[3].upstream`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigIssue {
    /// Dotted key path with indexes, e.g. `upstreams.ga4.ca_file`.
    pub key: String,
    /// What is wrong, in words an operator can act on.
    pub problem: String,
    /// The line in the file, when the parser knows it.
    pub line: Option<usize>,
}

impl ConfigIssue {
    /// An issue at `key`.
    pub fn new(key: impl Into<String>, problem: impl Into<String>) -> Self {
        Self {
            key: key.into(),
            problem: problem.into(),
            line: None,
        }
    }
}

impl fmt::Display for ConfigIssue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{} (line {}): {}", self.key, line, self.problem),
            None => write!(f, "{}: {}", self.key, self.problem),
        }
    }
}

/// Why a config could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("{}: cannot read config: {source}", file.display())]
    Read {
        /// The config file.
        file: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file was read but is not a valid config.
    #[error("{}", render_issues(file, issues))]
    Invalid {
        /// The config file.
        file: PathBuf,
        /// Every problem found (at least one).
        issues: Vec<ConfigIssue>,
    },
}

fn render_issues(file: &std::path::Path, issues: &[ConfigIssue]) -> String {
    let mut out = String::new();
    for (i, issue) in issues.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        out.push_str(&format!("{}: {}", file.display(), issue));
    }
    out
}

//! Live reload: SIGHUP, a change of the config file (watched through its directory, so a
//! Kubernetes ConfigMap `..data` symlink swap is seen), or `POST /reload` on the admin
//! listener. A reload parses, validates and compiles the whole file; only then is the new
//! policy swapped in atomically. Requests in flight finish on the policy they started with.
//! A config that fails, or that changes what cannot change live (listeners, admin address,
//! server settings), is refused: the old policy keeps serving and the reason is kept for
//! `/config` and logged.

mod watch;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use arc_swap::ArcSwap;
use serde::Serialize;

use crate::config::{self, ConfigError, ConfigIssue};
use crate::policy::{Policy, Shared};
use crate::proxy::PolicyCell;
pub use watch::spawn_triggers;

/// What started a reload (for logs and `/config`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Trigger {
    /// SIGHUP.
    Signal,
    /// The config file changed.
    FileChange,
    /// `POST /reload` on the admin listener.
    Admin,
}

/// The result of the last reload attempt, as shown at `/config`.
#[derive(Debug, Clone, Serialize)]
pub struct ReloadStatus {
    /// The config file.
    pub file: String,
    /// Short SHA-256 of the config that is serving.
    pub active_hash: String,
    /// When the serving config was loaded (Unix seconds).
    pub active_since: u64,
    /// Successful reloads since start.
    pub reloads_ok: u64,
    /// Refused reloads since start.
    pub reloads_failed: u64,
    /// The last refused reload, if the latest attempt failed.
    pub last_error: Option<ReloadFailure>,
}

/// A refused reload.
#[derive(Debug, Clone, Serialize)]
pub struct ReloadFailure {
    /// What started it.
    pub trigger: Trigger,
    /// When (Unix seconds).
    pub at: u64,
    /// Every problem, as `file: key: problem` lines.
    pub problems: Vec<String>,
}

/// The outcome of one reload attempt.
#[derive(Debug, PartialEq, Eq)]
pub enum ReloadOutcome {
    /// The new config is serving.
    Applied {
        /// Its short hash.
        hash: String,
    },
    /// The file has not changed since the serving config was loaded.
    Unchanged,
}

/// Why a reload was refused.
#[derive(Debug, thiserror::Error)]
pub enum ReloadError {
    /// The new config is unreadable, invalid, or changes what needs a restart.
    #[error("{source}")]
    Refused {
        /// Hash of the refused text (`None` when it could not be read).
        hash: Option<String>,
        /// The problems.
        #[source]
        source: ConfigError,
    },
}

/// Performs reloads of one config file into one policy cell.
pub struct Reloader {
    file: PathBuf,
    cell: PolicyCell,
    shared: Shared,
    status: ArcSwap<ReloadStatus>,
    /// Serializes reloads (two triggers at once must not interleave) and holds the hash of
    /// the last refused content, so a file watch does not refuse the same text again.
    lock: Mutex<Option<String>>,
}

impl Reloader {
    /// A reloader for `file`, whose current content (with `hash`) is serving from `cell`.
    pub fn new(file: &Path, hash: String, cell: PolicyCell, shared: Shared) -> Self {
        shared.metrics.set_config_info(&hash, now_secs());
        Self {
            file: file.to_path_buf(),
            cell,
            shared,
            status: ArcSwap::from_pointee(ReloadStatus {
                file: file.display().to_string(),
                active_hash: hash,
                active_since: now_secs(),
                reloads_ok: 0,
                reloads_failed: 0,
                last_error: None,
            }),
            lock: Mutex::new(None),
        }
    }

    /// The config file.
    pub fn file(&self) -> &Path {
        &self.file
    }

    /// The status shown at `/config`.
    pub fn status(&self) -> Arc<ReloadStatus> {
        self.status.load_full()
    }

    /// Reloads the file now.
    pub fn reload(&self, trigger: Trigger) -> Result<ReloadOutcome, ReloadError> {
        let mut refused_hash = self.lock.lock().unwrap_or_else(|p| p.into_inner());
        // A file watch sees every write; an explicit trigger (SIGHUP, POST) always retries.
        let skip = match trigger {
            Trigger::FileChange => refused_hash.clone(),
            Trigger::Signal | Trigger::Admin => None,
        };
        let result = self.try_reload(skip.as_deref());
        let mut status = (*self.status.load_full()).clone();
        match &result {
            Ok(ReloadOutcome::Unchanged) => return result,
            Ok(ReloadOutcome::Applied { hash }) => {
                log::info!(
                    "config reloaded ({trigger:?}): {} hash {hash}",
                    self.file.display()
                );
                self.shared.metrics.config_reload(true);
                self.shared.metrics.set_config_info(hash, now_secs());
                *refused_hash = None;
                status.active_hash = hash.clone();
                status.active_since = now_secs();
                status.reloads_ok += 1;
                status.last_error = None;
            }
            Err(err @ ReloadError::Refused { hash, .. }) => {
                let problems: Vec<String> = err.to_string().lines().map(str::to_owned).collect();
                for p in &problems {
                    log::error!(
                        "config reload refused ({trigger:?}); still serving hash {}: {p}",
                        status.active_hash
                    );
                }
                self.shared.metrics.config_reload(false);
                *refused_hash = hash.clone();
                status.reloads_failed += 1;
                status.last_error = Some(ReloadFailure {
                    trigger,
                    at: now_secs(),
                    problems,
                });
            }
        }
        self.status.store(Arc::new(status));
        result
    }

    fn try_reload(&self, skip_if: Option<&str>) -> Result<ReloadOutcome, ReloadError> {
        let text = std::fs::read_to_string(&self.file).map_err(|source| ReloadError::Refused {
            hash: None,
            source: ConfigError::Read {
                file: self.file.clone(),
                source,
            },
        })?;
        let hash = config::content_hash(&text);
        if hash == self.status.load().active_hash || skip_if == Some(hash.as_str()) {
            return Ok(ReloadOutcome::Unchanged);
        }
        let refused = |source| ReloadError::Refused {
            hash: Some(hash.clone()),
            source,
        };
        let loaded = config::parse(&text, &self.file).map_err(refused)?;
        let policy = Policy::compile(&loaded, &self.shared).map_err(refused)?;
        let issues = restart_only_changes(&self.cell.load(), &policy);
        if !issues.is_empty() {
            return Err(refused(ConfigError::Invalid {
                file: self.file.clone(),
                issues,
            }));
        }
        self.cell.store(Arc::new(policy));
        Ok(ReloadOutcome::Applied { hash })
    }
}

/// Settings that are bound at startup; changing them needs a restart, so a reload that
/// changes them is refused rather than half-applied.
fn restart_only_changes(old: &Policy, new: &Policy) -> Vec<ConfigIssue> {
    let mut issues = Vec::new();
    let listeners = |p: &Policy| {
        p.listeners
            .iter()
            .map(|l| {
                (
                    l.name.clone(),
                    l.address,
                    l.tls
                        .as_ref()
                        .map(|t| (t.cert_file.clone(), t.key_file.clone())),
                )
            })
            .collect::<Vec<_>>()
    };
    if listeners(old) != listeners(new) {
        issues.push(ConfigIssue::new(
            "listeners",
            "listeners changed: this needs a restart, not a reload",
        ));
    }
    if old.admin_address != new.admin_address {
        issues.push(ConfigIssue::new(
            "admin.address",
            "admin address changed: this needs a restart",
        ));
    }
    let audit_target = |p: &Policy| {
        p.audit
            .as_ref()
            .map(|a| (a.file.clone(), a.hash_chain, a.key.len()))
    };
    if audit_target(old) != audit_target(new) {
        issues.push(ConfigIssue::new(
            "audit",
            "audit settings changed: this needs a restart",
        ));
    }
    if old.server != new.server {
        issues.push(ConfigIssue::new(
            "server",
            "server settings changed: this needs a restart",
        ));
    }
    issues
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = r#"
listeners: [{name: public, address: "127.0.0.1:18990"}]
admin: {address: "127.0.0.1:18991"}
upstreams: {shop: {address: "127.0.0.1:3000"}}
routes: [{name: first, upstream: shop}]
"#;

    fn setup() -> (tempfile::TempDir, Reloader, PolicyCell) {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("phiguard.yaml");
        std::fs::write(&file, BASE).unwrap();
        let shared = Shared::new();
        let loaded = config::load(&file).unwrap();
        let cell: PolicyCell = Arc::new(ArcSwap::from_pointee(
            Policy::compile(&loaded, &shared).unwrap(),
        ));
        let reloader = Reloader::new(&file, loaded.hash, cell.clone(), shared);
        (dir, reloader, cell)
    }

    fn route_name(cell: &PolicyCell) -> String {
        cell.load().routes[0].name.clone()
    }

    #[test]
    fn valid_change_is_applied_and_unchanged_is_a_no_op() {
        let (_dir, reloader, cell) = setup();
        assert_eq!(
            reloader.reload(Trigger::Admin).unwrap(),
            ReloadOutcome::Unchanged
        );
        std::fs::write(reloader.file(), BASE.replace("first", "second")).unwrap();
        assert!(matches!(
            reloader.reload(Trigger::Signal).unwrap(),
            ReloadOutcome::Applied { .. }
        ));
        assert_eq!(route_name(&cell), "second");
        assert_eq!(reloader.status().reloads_ok, 1);
    }

    #[test]
    fn invalid_config_is_refused_and_the_old_one_keeps_serving() {
        let (_dir, reloader, cell) = setup();
        std::fs::write(
            reloader.file(),
            BASE.replace("upstream: shop", "upstream: nowhere"),
        )
        .unwrap();
        let err = reloader.reload(Trigger::Admin).unwrap_err().to_string();
        assert!(err.contains("routes[0].upstream"), "{err}");
        assert_eq!(route_name(&cell), "first");
        let status = reloader.status();
        assert_eq!(status.reloads_failed, 1);
        assert!(status.last_error.as_ref().unwrap().problems[0].contains("unknown upstream"));
        // The file watch does not refuse the same text twice; SIGHUP retries it.
        assert_eq!(
            reloader.reload(Trigger::FileChange).unwrap(),
            ReloadOutcome::Unchanged
        );
        assert!(reloader.reload(Trigger::Signal).is_err());
        assert_eq!(reloader.status().reloads_failed, 2);
    }

    #[test]
    fn listener_changes_need_a_restart() {
        let (_dir, reloader, cell) = setup();
        std::fs::write(
            reloader.file(),
            BASE.replace("18990", "18992").replace("first", "second"),
        )
        .unwrap();
        let err = reloader.reload(Trigger::Admin).unwrap_err().to_string();
        assert!(err.contains("listeners: listeners changed"), "{err}");
        assert_eq!(route_name(&cell), "first");
    }
}

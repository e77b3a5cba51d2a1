//! What starts a reload without an admin request: SIGHUP, and changes in the config file's
//! directory. Watching the directory (not the file) is what sees a Kubernetes ConfigMap
//! update, which swaps the `..data` symlink atomically and never writes the file itself.

use std::sync::mpsc::{channel, RecvTimeoutError};
use std::sync::Arc;
use std::time::Duration;

use notify::{RecursiveMode, Watcher};

use super::{Reloader, Trigger};

/// Events closer together than this are one change (editors write in several steps).
const DEBOUNCE: Duration = Duration::from_millis(250);

/// Starts the SIGHUP handler and the directory watcher. Must run before anything could send
/// SIGHUP: its default action ends the process.
pub fn spawn_triggers(reloader: Arc<Reloader>) -> std::io::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let mut hup = {
        let _guard = runtime.enter();
        tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())?
    };
    let on_signal = reloader.clone();
    std::thread::Builder::new()
        .name("reload-signal".into())
        .spawn(move || {
            runtime.block_on(async move {
                while hup.recv().await.is_some() {
                    let r = on_signal.clone();
                    // Compiling a config is blocking work; keep it off this signal loop.
                    let _ = tokio::task::spawn_blocking(move || r.reload(Trigger::Signal)).await;
                }
            })
        })?;

    let dir = match reloader.file().parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    };
    let (tx, rx) = channel();
    let mut watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        if event.is_ok() {
            let _ = tx.send(());
        }
    })
    .map_err(std::io::Error::other)?;
    watcher
        .watch(&dir, RecursiveMode::NonRecursive)
        .map_err(std::io::Error::other)?;
    std::thread::Builder::new()
        .name("reload-watch".into())
        .spawn(move || {
            let _watcher = watcher; // dropping it stops the watch
            while rx.recv().is_ok() {
                // Debounce: wait until the directory has been quiet for DEBOUNCE.
                loop {
                    match rx.recv_timeout(DEBOUNCE) {
                        Ok(()) => continue,
                        Err(RecvTimeoutError::Timeout) => break,
                        Err(RecvTimeoutError::Disconnected) => return,
                    }
                }
                // Unchanged content (an unrelated file in the directory) is a no-op.
                let _ = reloader.reload(Trigger::FileChange);
            }
        })?;
    Ok(())
}

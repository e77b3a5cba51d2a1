//! A background writer of text lines: the request path formats a line and queues it; one
//! thread writes and flushes in batches, so a slow stdout or disk never stalls a request.
//! When the bounded queue is full, lines are dropped and counted instead.

use std::io::Write;
use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TrySendError};

use prometheus::IntCounter;

/// How many lines may wait for the writer thread.
const QUEUE_LINES: usize = 16 * 1024;

/// After the first line of a batch arrives, the writer waits this long for more before
/// writing: under load it wakes a few hundred times a second instead of once per line (a
/// wake-up per request cost ~15 µs of CPU per request on a shared core), and a line reaches
/// the output at most this much later.
const BATCH_WINDOW: std::time::Duration = std::time::Duration::from_millis(5);

/// A handle that queues lines for one writer thread.
#[derive(Clone)]
pub struct LineSink {
    tx: Option<SyncSender<Vec<u8>>>,
    dropped: IntCounter,
}

impl LineSink {
    /// Starts a writer thread named `name` writing to `out`; `dropped` counts lost lines.
    pub fn spawn<W: Write + Send + 'static>(name: &str, out: W, dropped: IntCounter) -> Self {
        let (tx, rx) = sync_channel::<Vec<u8>>(QUEUE_LINES);
        match std::thread::Builder::new()
            .name(name.to_owned())
            .spawn(move || write_lines(rx, out))
        {
            Ok(_) => Self {
                tx: Some(tx),
                dropped,
            },
            Err(e) => {
                log::error!("{name} disabled: cannot start its writer thread: {e}");
                Self { tx: None, dropped }
            }
        }
    }

    /// A sink that writes nothing.
    pub fn disabled(dropped: IntCounter) -> Self {
        Self { tx: None, dropped }
    }

    /// Whether lines go anywhere.
    pub fn is_enabled(&self) -> bool {
        self.tx.is_some()
    }

    /// Queues one line (which must end with `\n`).
    pub fn send(&self, line: Vec<u8>) {
        let Some(tx) = &self.tx else { return };
        match tx.try_send(line) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) | Err(TrySendError::Disconnected(_)) => self.dropped.inc(),
        }
    }
}

fn write_lines<W: Write>(rx: Receiver<Vec<u8>>, out: W) {
    let mut out = std::io::BufWriter::with_capacity(64 * 1024, out);
    while let Ok(line) = rx.recv() {
        let mut ok = out.write_all(&line).is_ok();
        // This thread only writes logs; sleeping here never blocks a request.
        std::thread::sleep(BATCH_WINDOW);
        // Drain what is already queued, then flush once.
        while let Ok(line) = rx.try_recv() {
            ok &= out.write_all(&line).is_ok();
        }
        if !ok || out.flush().is_err() {
            // The output is gone (closed pipe, full disk); keep draining so senders never block.
            continue;
        }
    }
    let _ = out.flush();
}

/// An in-memory writer for tests of the line writers.
#[cfg(test)]
pub(crate) mod test_support {
    use std::io::Write;
    use std::sync::{Arc, Mutex};
    use std::time::{Duration, Instant};

    /// Collects everything written to it; clones share the buffer.
    #[derive(Clone, Default)]
    pub(crate) struct MemoryWriter(Arc<Mutex<Vec<u8>>>);

    impl Write for MemoryWriter {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl MemoryWriter {
        /// The text written once it holds `lines` lines (panics after 5 s).
        pub(crate) fn wait_lines(&self, lines: usize) -> String {
            let deadline = Instant::now() + Duration::from_secs(5);
            loop {
                let text = String::from_utf8(self.0.lock().unwrap().clone()).unwrap();
                if text.lines().count() >= lines {
                    return text;
                }
                assert!(
                    Instant::now() < deadline,
                    "only {} lines written",
                    text.lines().count()
                );
                std::thread::sleep(Duration::from_millis(5));
            }
        }
    }
}

//! Fixed-iteration driver over the benchmark payloads, for `perf record` and
//! `valgrind --tool=callgrind` (criterion's adaptive loop makes instruction
//! counts hard to compare):
//!
//! ```sh
//! cargo run -p phiguard-engine --release --example throughput -- [CASE|all] [ITERS]
//! ```
//!
//! Prints MiB/s per case measured by the process's CPU time, so other load on
//! the machine inflates the numbers less than wall time would, and the MiB/s
//! of the fastest single iteration (wall time): on a shared VM whose host
//! preempts it, the best iteration is the steadiest figure of what the code
//! can do.

use std::time::{Duration, Instant};

use phiguard_engine::Profile;

#[path = "../benches/payloads/mod.rs"]
mod payloads;

/// CPU time consumed by this process so far.
fn cpu_time() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // utime and stime are fields 14 and 15, after the parenthesised name.
    let rest = stat.rsplit(')').next().unwrap_or("");
    let fields: Vec<u64> = rest
        .split_whitespace()
        .skip(11)
        .take(2)
        .filter_map(|f| f.parse().ok())
        .collect();
    let ticks: u64 = fields.iter().sum();
    Duration::from_millis(ticks * 10)
}

fn main() {
    let mut args = std::env::args().skip(1);
    let which = args.next().unwrap_or_else(|| "all".to_string());
    let iters: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(20);
    let profile = Profile::builtin_default();
    for (name, format, data) in payloads::cases() {
        if which != "all" && which != name {
            continue;
        }
        let lines = payloads::lines(&data);
        let bytes: usize = lines.iter().map(|l| l.len()).sum();
        let before = cpu_time();
        let mut findings = 0;
        let mut best = Duration::MAX;
        for _ in 0..iters {
            let start = Instant::now();
            for line in &lines {
                findings += profile.redact(format, line).findings().len();
            }
            best = best.min(start.elapsed());
        }
        let cpu = (cpu_time() - before).as_secs_f64().max(1e-3);
        let mib = (bytes * iters) as f64 / (1 << 20) as f64;
        let best_mib = bytes as f64 / (1 << 20) as f64 / best.as_secs_f64().max(1e-9);
        println!(
            "{name:<20} {:>8.1} MiB/s (cpu)  findings/iter {}  bytes/iter {bytes}  best iter {best_mib:.1} MiB/s",
            mib / cpu,
            findings / iters.max(1)
        );
    }
}

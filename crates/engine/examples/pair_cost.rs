//! Redacts one query string a fixed number of times, for per-pair
//! instruction counts under callgrind (`scripts/engine-paircost.sh`):
//!
//! ```sh
//! cargo run -p phiguard-engine --release --example pair_cost -- [QUERY] [ITERS]
//! cargo run -p phiguard-engine --release --example pair_cost -- --print-default
//! ```
//!
//! Without a query (or with an empty one), the benchmark's clean GA4 hit
//! (`query_clean`'s first payload), which `--print-default` prints. Prints
//! the findings of the last run. `PAIR_COST_FORMAT=json` (or `text`)
//! redacts the argument as that format instead of a query string.

use phiguard_engine::{Format, Profile};

#[path = "../benches/payloads/mod.rs"]
#[allow(dead_code)]
mod payloads;

fn main() {
    let mut args = std::env::args().skip(1).peekable();
    if args.peek().map(String::as_str) == Some("--print-default") {
        println!("{}", payloads::tracker_query(0, false));
        return;
    }
    let query = args
        .next()
        .filter(|q| !q.is_empty())
        .unwrap_or_else(|| payloads::tracker_query(0, false));
    let iters: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(1);
    let format = match std::env::var("PAIR_COST_FORMAT").as_deref() {
        Ok("json") => Format::Json,
        Ok("text") => Format::Text,
        _ => Format::Query,
    };
    let profile = Profile::builtin_default();
    let mut findings = 0;
    for _ in 0..iters {
        findings = profile.redact(format, query.as_bytes()).findings().len();
    }
    println!("findings {findings}");
}

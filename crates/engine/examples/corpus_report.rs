//! Prints recall per type and the non-PHI change rate on the synthetic corpus:
//! `cargo run -p phiguard-engine --release --example corpus_report [-- SEED PER_CASE]`.

use phiguard_engine::corpus::{evaluate, generate};
use phiguard_engine::Profile;

fn main() {
    let mut args = std::env::args().skip(1);
    let seed = args
        .next()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x5eed_2026);
    let per_case = args.next().and_then(|s| s.parse().ok()).unwrap_or(100);
    let samples = generate(seed, per_case);
    let report = evaluate(&Profile::builtin_default(), &samples);
    println!(
        "seed {seed:#x}, {} samples ({per_case} per type and case)\n",
        samples.len()
    );
    print!("{report}");
}

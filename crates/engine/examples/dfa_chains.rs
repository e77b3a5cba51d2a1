//! The numeric patterns' dense DFA over the benchmark payloads, searched as
//! the scanner does when every candidate fails its validator (search, then
//! again from one past the match start, until nothing is left): plain
//! searches against plain searches preceded by `detect::chains` (four
//! searches walked in lockstep ruling out the last, empty one). Both must
//! find the same match starts:
//!
//! ```sh
//! cargo run -p phiguard-engine --release --example dfa_chains -- [CASE|all] [ITERS]
//! ```
//!
//! The DFA holds the patterns the scanner compiles densely in release
//! builds (cards, SSN, phone, IPv4, NPI, MBI, DEA, ZIP, dates, addresses).
//! Prints MiB/s (wall time) for each way.

use std::time::{Duration, Instant};

use phiguard_engine::detect::chains::Chains;
use phiguard_engine::detect::patterns;
use phiguard_engine::PhiType;
use regex_automata::dfa::{dense, regex::Regex};
use regex_automata::util::syntax;
use regex_automata::{Input, MatchKind};

#[path = "../benches/payloads/mod.rs"]
mod payloads;

fn numeric_dfa() -> Regex {
    let sources: Vec<String> = patterns::builtin()
        .into_iter()
        .filter(|d| {
            d.numeric
                || matches!(
                    d.ty,
                    PhiType::Mbi | PhiType::Dea | PhiType::Zip | PhiType::StreetAddress
                )
        })
        .map(|d| match d.ty {
            PhiType::StreetAddress => patterns::address_regex(),
            PhiType::DateOfBirth => patterns::date_regex(),
            _ => d.regex.to_string(),
        })
        .collect();
    Regex::builder()
        .syntax(syntax::Config::new().unicode(false).utf8(false))
        .dense(
            dense::Config::new()
                .match_kind(MatchKind::LeftmostFirst)
                .starts_for_each_pattern(true),
        )
        .build_many(&sources)
        .expect("the built-in patterns compile")
}

/// Every match start, each search beginning one past the previous start;
/// with `chains`, a search only where they say a match may be left.
fn starts(re: &Regex, chains: Option<&Chains>, hay: &[u8]) -> Vec<usize> {
    let mut out = Vec::new();
    let mut at = 0;
    while at < hay.len() {
        if chains.is_some_and(|c| !c.may_match(re.forward(), hay, at)) {
            break;
        }
        let Some(m) = re.try_search(&Input::new(hay).range(at..)).ok().flatten() else {
            break;
        };
        out.push(m.start());
        at = m.start() + 1;
    }
    out
}

fn timed(iters: usize, mut f: impl FnMut() -> usize) -> (Duration, usize) {
    let t = Instant::now();
    let mut found = 0;
    for _ in 0..iters {
        found += f();
    }
    (t.elapsed(), found / iters.max(1))
}

fn main() {
    let mut args = std::env::args().skip(1);
    let which = args.next().unwrap_or_else(|| "all".to_string());
    let iters: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(50);
    let re = numeric_dfa();
    let chains = Chains::new(re.forward()).expect("an unanchored DFA");
    for (name, _, data) in payloads::cases() {
        if which != "all" && which != name {
            continue;
        }
        let lines = payloads::lines(&data);
        for line in &lines {
            assert_eq!(starts(&re, Some(&chains), line), starts(&re, None, line));
        }
        let mib = (data.len() * iters) as f64 / (1 << 20) as f64;
        let (plain, n) = timed(iters, || {
            lines.iter().map(|l| starts(&re, None, l).len()).sum()
        });
        let (chained, m) = timed(iters, || {
            lines
                .iter()
                .map(|l| starts(&re, Some(&chains), l).len())
                .sum()
        });
        println!(
            "{name:<20} plain {:>7.1} MiB/s  chains {:>7.1} MiB/s  match starts {n} / {m}",
            mib / plain.as_secs_f64(),
            mib / chained.as_secs_f64(),
        );
    }
}

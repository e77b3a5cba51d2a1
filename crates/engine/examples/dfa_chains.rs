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
//! Prints MiB/s (wall time) for each way; then, for 1 MiB haystacks that
//! keep a partial match alive everywhere (where chains give up and the
//! plain search decides) and for plain text, the time of one plain search
//! against chains followed by the plain search where they say "maybe".

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
        if chains.is_some_and(|c| !c.may_match(hay, at)) {
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

/// One search over `hay`: plain, or chains first and the plain search only
/// where they say there may be a match. Returns (plain, chained) times.
fn one_search(re: &Regex, chains: &Chains, hay: &[u8]) -> (Duration, Duration) {
    let t = Instant::now();
    let plain = re.try_search(&Input::new(hay)).ok().flatten();
    let plain_time = t.elapsed();
    let t = Instant::now();
    let chained = if chains.may_match(hay, 0) {
        re.try_search(&Input::new(hay)).ok().flatten()
    } else {
        None
    };
    let chained_time = t.elapsed();
    assert_eq!(plain, chained);
    (plain_time, chained_time)
}

fn main() {
    let mut args = std::env::args().skip(1);
    let which = args.next().unwrap_or_else(|| "all".to_string());
    let iters: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(50);
    let re = numeric_dfa();
    let chains = Chains::new(re.clone()).expect("an unanchored DFA");
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
    if which != "all" {
        return;
    }
    let n = 1 << 20;
    let cases: [(&str, Vec<u8>); 4] = [
        ("1 MiB of `1 `", b"1 ".repeat(n / 2)),
        ("`12 Main Stx `", b"12 Main Stx ".repeat(n / 12)),
        ("digits", vec![b'7'; n]),
        (
            "plain text",
            b"the quick brown fox jumps over the lazy dog ".repeat(n / 44),
        ),
    ];
    for (name, hay) in cases {
        let (plain, chained) = one_search(&re, &chains, &hay);
        println!(
            "{name:<20} one search: plain {:>6.2} ms  chains (+ plain if maybe) {:>6.2} ms",
            plain.as_secs_f64() * 1e3,
            chained.as_secs_f64() * 1e3,
        );
    }
}

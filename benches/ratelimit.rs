//! Cost of one rate-limit decision (local backend, and the Redis backend when
//! `PHIGUARD_BENCH_REDIS=redis://127.0.0.1:PORT/` is set), and the memory the local key table
//! uses at one million distinct keys. Run: `cargo bench --bench ratelimit`.

use std::net::{IpAddr, Ipv4Addr};
use std::path::Path;

use criterion::{Criterion, Throughput};
use http::HeaderMap;

use phiguard::config;
use phiguard::policy::{Policy, Shared};
use phiguard::ratelimit::{now_ns, RequestView, Rule};

fn rule(yaml_rules: &str, name: &str) -> std::sync::Arc<Rule> {
    let text = format!(
        "listeners: [{{name: p, address: \"127.0.0.1:1\"}}]\nupstreams: {{u: {{address: \"127.0.0.1:2\"}}}}\n{yaml_rules}\n\
         routes: [{{name: r, upstream: u, rate_limits: [{name}]}}]\n"
    );
    let loaded = config::parse(&text, Path::new("bench.yaml")).expect("parses");
    let policy = Policy::compile(&loaded, &Shared::new()).expect("compiles");
    policy.routes[0].rate_limits[0].clone()
}

fn rss_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    pages * 4096
}

fn key_table_memory(rt: &tokio::runtime::Runtime) {
    const KEYS: u32 = 1_000_000;
    let r = rule(
        "rate_limits: {big: {rate: 10/minute, max_keys: 2000000}}",
        "big",
    );
    let headers = HeaderMap::new();
    let before = rss_bytes();
    let now = now_ns();
    rt.block_on(async {
        for i in 0..KEYS {
            let ip = IpAddr::V4(Ipv4Addr::from(0x0a00_0000 + i));
            r.check(&RequestView::new(&headers, "/", None, Some(ip)), now)
                .await;
        }
    });
    let grown = rss_bytes().saturating_sub(before);
    println!(
        "key table: {} keys held, RSS grew {:.1} MiB ({} bytes per key)",
        r.keys(),
        grown as f64 / (1024.0 * 1024.0),
        grown / u64::from(KEYS)
    );
}

fn main() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    key_table_memory(&rt);

    let mut c = Criterion::default().configure_from_args();
    let mut group = c.benchmark_group("ratelimit");
    group.throughput(Throughput::Elements(1));
    let headers = HeaderMap::new();
    let local = rule(
        "rate_limits: {l: {rate: 1000000/second, burst: 1000000}}",
        "l",
    );
    let ip = Some(IpAddr::V4(Ipv4Addr::new(10, 1, 2, 3)));
    group.bench_function("local_decision", |b| {
        b.to_async(&rt).iter(|| async {
            local
                .check(
                    &RequestView::new(&headers, "/apps/appointments/1001", None, ip),
                    now_ns(),
                )
                .await
        })
    });
    let guarded = rule(
        "rate_limits: {g: {rate: 1000000/second, burst: 1000000, enumeration: {id: 'path_segment:3', max_distinct: 30, window_secs: 600, cooldown_secs: 60}}}",
        "g",
    );
    group.bench_function("local_decision_with_enumeration_guard", |b| {
        b.to_async(&rt).iter(|| async {
            guarded
                .check(
                    &RequestView::new(&headers, "/apps/appointments/1001", None, ip),
                    now_ns(),
                )
                .await
        })
    });
    if let Ok(url) = std::env::var("PHIGUARD_BENCH_REDIS") {
        let shared = rule(
            &format!("redis: {{url: \"{url}\", timeout_ms: 1000}}\nrate_limits: {{s: {{rate: 1000000/second, burst: 1000000, backend: redis}}}}"),
            "s",
        );
        group.bench_function("redis_decision_round_trip", |b| {
            b.to_async(&rt).iter(|| async {
                shared
                    .check(&RequestView::new(&headers, "/x", None, ip), now_ns())
                    .await
            })
        });
    }
    group.finish();
    c.final_summary();
}

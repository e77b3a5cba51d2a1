//! Rate limits and the enumeration guard, end to end through the real proxy (local backend).

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use common::*;

fn proxy_with(echo: &Echo, rules: &str, routes: &str) -> PhiGuard {
    PhiGuard::start(&format!(
        "upstreams:\n  echo: {{address: \"{}\"}}\n  down: {{address: \"{}\"}}\n\
         rate_limits:\n{rules}\nroutes:\n{routes}",
        echo.address(),
        closed_address()
    ))
}

fn statuses(pg: &PhiGuard, path: &str, headers: &[(&str, &str)], n: usize) -> Vec<u16> {
    (0..n)
        .map(|_| get_with(&pg.url(path), headers).status)
        .collect()
}

#[test]
fn burst_then_429_with_ratelimit_headers_and_security_headers() {
    let echo = Echo::start();
    let pg = proxy_with(
        &echo,
        "  api: {rate: 3/minute, burst: 3}",
        "  - {name: appts, match: {path_prefix: /apps}, upstream: echo, headers: portal, rate_limits: [api]}",
    );
    assert_eq!(
        statuses(&pg, "/apps/x?email=jane.doe@example.com", &[], 3),
        [200, 200, 200]
    );
    let seen_before = echo.seen().len();
    let refused = get(&pg.url("/apps/x?email=jane.doe@example.com"));
    assert_eq!(refused.status, 429);
    assert_eq!(
        echo.seen().len(),
        seen_before,
        "a refused request never reaches the upstream"
    );
    let retry: u64 = refused.must("retry-after").parse().unwrap();
    assert!(
        (1..=20).contains(&retry),
        "one slot frees every 20 s: {retry}"
    );
    assert_eq!(refused.must("ratelimit-policy"), "\"api\";q=3;w=60");
    assert_eq!(refused.must("ratelimit"), format!("\"api\";r=0;t={retry}"));
    assert!(refused
        .must("content-security-policy")
        .contains("frame-ancestors 'none'"));
    assert_eq!(refused.must("cache-control"), "no-store");
    assert_eq!(refused.body, "too many requests\n");
    assert!(!refused.body.contains("jane"));
    let metrics = pg.metrics();
    assert_eq!(
        metric_value(
            &metrics,
            "phiguard_ratelimit_decisions_total{decision=\"allowed\",rule=\"api\"}"
        ),
        Some(3.0)
    );
    assert_eq!(
        metric_value(
            &metrics,
            "phiguard_ratelimit_decisions_total{decision=\"limited\",rule=\"api\"}"
        ),
        Some(1.0)
    );
}

#[test]
fn each_key_kind_gets_its_own_buckets() {
    let echo = Echo::start();
    let pg = proxy_with(
        &echo,
        "  by_header: {key: ['header:x-api-key'], rate: 2/minute, burst: 2}\n\
         \x20 by_cookie: {key: ['cookie:sid'], rate: 2/minute, burst: 2}\n\
         \x20 by_query: {key: ['query:shop'], rate: 2/minute, burst: 2}\n\
         \x20 by_segment: {key: ['path_segment:2'], rate: 2/minute, burst: 2}",
        "  - {name: h, match: {path_prefix: /h}, upstream: echo, rate_limits: [by_header]}\n\
         \x20 - {name: c, match: {path_prefix: /c}, upstream: echo, rate_limits: [by_cookie]}\n\
         \x20 - {name: q, match: {path_prefix: /q}, upstream: echo, rate_limits: [by_query]}\n\
         \x20 - {name: s, match: {path_prefix: /s}, upstream: echo, rate_limits: [by_segment]}",
    );
    assert_eq!(
        statuses(&pg, "/h", &[("x-api-key", "a")], 3),
        [200, 200, 429]
    );
    assert_eq!(statuses(&pg, "/h", &[("x-api-key", "b")], 1), [200]);
    assert_eq!(
        statuses(&pg, "/c", &[("cookie", "x=1; sid=s1")], 3),
        [200, 200, 429]
    );
    assert_eq!(statuses(&pg, "/c", &[("cookie", "sid=s2")], 1), [200]);
    assert_eq!(
        statuses(&pg, "/q?shop=a.myshopify.com", &[], 3),
        [200, 200, 429]
    );
    assert_eq!(statuses(&pg, "/q?shop=b.myshopify.com", &[], 1), [200]);
    assert_eq!(statuses(&pg, "/s/one", &[], 3), [200, 200, 429]);
    assert_eq!(statuses(&pg, "/s/two", &[], 1), [200]);
}

#[test]
fn status_filtered_rules_count_only_listed_statuses() {
    let echo = Echo::start();
    let pg = proxy_with(
        &echo,
        "  failures: {rate: 2/minute, burst: 2, count_statuses: [502]}",
        "  - {name: ok, match: {path_prefix: /ok}, upstream: echo, rate_limits: [failures]}\n\
         \x20 - {name: broken, match: {path_prefix: /broken}, upstream: down, rate_limits: [failures]}",
    );
    assert!(
        statuses(&pg, "/ok", &[], 10).iter().all(|&s| s == 200),
        "200s are free"
    );
    assert_eq!(statuses(&pg, "/broken", &[], 2), [502, 502]);
    assert_eq!(
        get(&pg.url("/ok")).status,
        429,
        "two counted 502s used the burst"
    );
}

#[test]
fn enumeration_walk_is_blocked_but_repeat_visits_are_not() {
    let echo = Echo::start();
    let pg = proxy_with(
        &echo,
        "  appts: {rate: 1000/minute, enumeration: {id: 'path_segment:3', max_distinct: 5, window_secs: 600, cooldown_secs: 120}}",
        "  - {name: appts, match: {path_prefix: /apps/appointments}, upstream: echo, rate_limits: [appts]}",
    );
    // A patient reloading their own appointment is never blocked.
    assert!(statuses(&pg, "/apps/appointments/1001", &[], 30)
        .iter()
        .all(|&s| s == 200));
    // Walking ids: 1001 plus four new ones pass, the sixth distinct id is refused.
    let walk: Vec<u16> = (1002..=1010)
        .map(|id| get(&pg.url(&format!("/apps/appointments/{id}"))).status)
        .collect();
    assert_eq!(walk, [200, 200, 200, 200, 429, 429, 429, 429, 429]);
    let blocked = get(&pg.url("/apps/appointments/1001"));
    assert_eq!(blocked.status, 429, "the cooldown applies to every id");
    assert!(blocked.must("retry-after").parse::<u64>().unwrap() > 100);
    assert_eq!(
        pg.metric("phiguard_enumeration_blocks_total{rule=\"appts\"}"),
        Some(1.0)
    );
}

#[test]
fn dry_run_counts_but_never_refuses() {
    let echo = Echo::start();
    let pg = proxy_with(
        &echo,
        "  trial: {rate: 1/minute, burst: 1, dry_run: true}",
        "  - {name: all, upstream: echo, rate_limits: [trial]}",
    );
    assert!(statuses(&pg, "/x", &[], 5).iter().all(|&s| s == 200));
    assert_eq!(
        pg.metric(
            "phiguard_ratelimit_decisions_total{decision=\"dry_run_limited\",rule=\"trial\"}"
        ),
        Some(4.0)
    );
}

#[test]
fn concurrent_clients_get_exactly_the_burst() {
    let echo = Echo::start();
    let pg = Arc::new(proxy_with(
        &echo,
        "  shared: {key: ['header:x-tenant'], rate: 40/hour, burst: 40}",
        "  - {name: all, upstream: echo, rate_limits: [shared]}",
    ));
    let allowed = Arc::new(AtomicUsize::new(0));
    let threads: Vec<_> = (0..8)
        .map(|_| {
            let (pg, allowed) = (pg.clone(), allowed.clone());
            std::thread::spawn(move || {
                for _ in 0..15 {
                    if get_with(&pg.url("/x"), &[("x-tenant", "t1")]).status == 200 {
                        allowed.fetch_add(1, Ordering::SeqCst);
                    }
                }
            })
        })
        .collect();
    threads.into_iter().for_each(|t| t.join().unwrap());
    assert_eq!(allowed.load(Ordering::SeqCst), 40);
}

#[test]
fn key_table_stays_bounded_under_a_flood_of_distinct_keys() {
    let echo = Echo::start();
    let pg = proxy_with(
        &echo,
        "  flood: {key: ['header:x-k'], rate: 10/minute, max_keys: 128}",
        "  - {name: all, upstream: echo, rate_limits: [flood]}",
    );
    for i in 0..1500 {
        let key = format!("k{i}");
        assert_eq!(get_with(&pg.url("/x"), &[("x-k", &key)]).status, 200);
    }
    let held = pg
        .metric("phiguard_ratelimit_keys{rule=\"flood\"}")
        .unwrap();
    assert!(held <= 128.0 && held > 0.0, "{held}");
}

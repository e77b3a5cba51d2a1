//! Rate limits shared across replicas through a real `redis-server` on 127.0.0.1.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::*;

/// A throwaway `redis-server` on a free loopback port, without persistence.
struct Redis {
    port: u16,
    child: Option<Child>,
}

impl Redis {
    fn start() -> Self {
        let mut redis = Redis {
            port: free_port(),
            child: None,
        };
        redis.restart();
        redis
    }

    fn restart(&mut self) {
        let child = Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server is installed (scripts/test.sh installs it)");
        self.child = Some(child);
        let port = self.port;
        wait_for("redis PONG", Duration::from_secs(10), || {
            let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
            s.set_read_timeout(Some(Duration::from_millis(500))).ok()?;
            s.write_all(b"PING\r\n").ok()?;
            let mut buf = [0u8; 7];
            s.read_exact(&mut buf).ok()?;
            (&buf == b"+PONG\r\n").then_some(())
        });
    }

    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        self.kill();
    }
}

fn replica(echo: &Echo, redis: &Redis, on_error: &str) -> PhiGuard {
    PhiGuard::start(&format!(
        "upstreams: {{echo: {{address: \"{}\"}}}}\n\
         redis: {{url: \"{}\", timeout_ms: 200}}\n\
         rate_limits:\n\
         \x20 shared: {{rate: 4/hour, burst: 4, backend: redis, on_backend_error: {on_error}}}\n\
         \x20 walk: {{rate: 1000/minute, backend: redis, enumeration: {{id: 'path_segment:2', max_distinct: 3, window_secs: 600, cooldown_secs: 60}}}}\n\
         routes:\n\
         \x20 - {{name: limited, match: {{path_prefix: /limited}}, upstream: echo, rate_limits: [shared]}}\n\
         \x20 - {{name: items, match: {{path_prefix: /items}}, upstream: echo, rate_limits: [walk]}}",
        echo.address(),
        redis.url()
    ))
}

/// Alternates requests between the replicas and returns the statuses.
fn alternate(replicas: &[&PhiGuard], path: &str, n: usize) -> Vec<u16> {
    (0..n)
        .map(|i| get(&replicas[i % replicas.len()].url(path)).status)
        .collect()
}

#[test]
fn replicas_share_one_limit_and_survive_a_redis_outage() {
    let echo = Echo::start();
    let mut redis = Redis::start();
    let (a, b) = (
        replica(&echo, &redis, "local"),
        replica(&echo, &redis, "local"),
    );

    // One combined limit: 4 requests across both replicas, not 4 each.
    assert_eq!(
        alternate(&[&a, &b], "/limited", 6),
        [200, 200, 200, 200, 429, 429]
    );

    // Redis goes away: each replica falls back to its own local limiter, answers promptly,
    // and counts the failures.
    redis.kill();
    let started = std::time::Instant::now();
    let during = alternate(&[&a, &b], "/limited", 12);
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "requests hung: {:?}",
        started.elapsed()
    );
    assert_eq!(
        during.iter().filter(|&&s| s == 200).count(),
        8,
        "4 per replica: {during:?}"
    );
    assert!(during.iter().all(|&s| s == 200 || s == 429), "{during:?}");
    assert!(
        a.metric("phiguard_ratelimit_backend_errors_total{rule=\"shared\"}")
            .unwrap()
            > 0.0
    );

    // Redis is back (empty): shared limiting resumes by itself.
    redis.restart();
    let after = wait_for("shared limiting to resume", Duration::from_secs(15), || {
        let statuses = alternate(&[&a, &b], "/limited", 6);
        (statuses == [200, 200, 200, 200, 429, 429]).then_some(statuses)
    });
    assert_eq!(after.len(), 6);
}

#[test]
fn enumeration_is_guarded_across_replicas() {
    let echo = Echo::start();
    let redis = Redis::start();
    let (a, b) = (
        replica(&echo, &redis, "local"),
        replica(&echo, &redis, "local"),
    );
    let walk: Vec<u16> = (1..=5)
        .map(|id| get(&[&a, &b][id % 2].url(&format!("/items/{id}"))).status)
        .collect();
    assert_eq!(walk, [200, 200, 200, 429, 429]);
    assert_eq!(
        get(&a.url("/items/1")).status,
        429,
        "blocked on every replica"
    );
    let blocks = a
        .metric("phiguard_enumeration_blocks_total{rule=\"walk\"}")
        .unwrap()
        + b.metric("phiguard_enumeration_blocks_total{rule=\"walk\"}")
            .unwrap();
    assert_eq!(blocks, 1.0);
}

#[test]
fn fail_closed_rules_refuse_while_redis_is_down() {
    let echo = Echo::start();
    let mut redis = Redis::start();
    let a = replica(&echo, &redis, "deny");
    assert_eq!(get(&a.url("/limited")).status, 200);
    redis.kill();
    let refused = get(&a.url("/limited"));
    assert_eq!(refused.status, 503);
    assert_eq!(refused.must("retry-after"), "1");
    assert_eq!(refused.body, "service unavailable\n");
}

//! Live reload under load: no request fails, every response comes from the policy it should,
//! and invalid configs never go live. Plus a Kubernetes ConfigMap-style `..data` swap.

mod common;

use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::*;

/// A config body whose responses carry `X-Policy: <tag>`.
fn body(echo: &Echo, tag: &str) -> String {
    format!(
        "upstreams: {{echo: {{address: \"{}\"}}}}\n\
         header_profiles: {{tagged: {{extends: catalog, extra: {{X-Policy: \"{tag}\"}}}}}}\n\
         routes: [{{name: all, upstream: echo, headers: tagged}}]\n",
        echo.address()
    )
}

fn post_reload(pg: &PhiGuard) -> Resp {
    request("POST", &pg.admin_url("/reload"), &[])
}

/// Which policy is live: a generation number that changes on every applied reload, and the
/// tag its responses carry.
#[derive(Clone, Copy)]
struct Live {
    generation: u64,
    tag: char,
}

#[test]
fn fifty_reloads_under_load_drop_nothing_and_never_serve_an_invalid_config() {
    let echo = Echo::start();
    let pg = Arc::new(PhiGuard::start(&body(&echo, "A")));
    let head = std::fs::read_to_string(&pg.config_file).unwrap();
    let head = &head[..head.find("upstreams:").unwrap()];
    let write = |tag: &str, valid: bool| {
        let mut text = format!("{head}{}", body(&echo, tag));
        if !valid {
            text = text.replace("upstream: echo", "upstream: nowhere");
        }
        // Write then rename, as an editor or a ConfigMap update would: never a torn file.
        let tmp = pg.config_file.with_extension("tmp");
        std::fs::write(&tmp, text).unwrap();
        std::fs::rename(&tmp, &pg.config_file).unwrap();
    };

    let live = Arc::new(Mutex::new(Live {
        generation: 0,
        tag: 'A',
    }));
    let stop = Arc::new(AtomicBool::new(false));
    let (served, checked) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let load: Vec<_> = (0..4)
        .map(|_| {
            let (pg, live, stop) = (pg.clone(), live.clone(), stop.clone());
            let (served, checked) = (served.clone(), checked.clone());
            std::thread::spawn(move || {
                let agent = agent(); // keep-alive connections survive reloads
                let deadline = Instant::now() + Duration::from_secs(60);
                while !stop.load(Ordering::SeqCst) && Instant::now() < deadline {
                    let before = *live.lock().unwrap();
                    let resp =
                        send(agent.get(&pg.url("/x"))).expect("no request may fail during reloads");
                    let after = *live.lock().unwrap();
                    assert_eq!(resp.status, 200);
                    let tag = resp.must("x-policy").to_owned();
                    assert!(
                        tag == "A" || tag == "B",
                        "served by an invalid config: {tag}"
                    );
                    if before.generation == after.generation {
                        assert_eq!(
                            tag,
                            before.tag.to_string(),
                            "a request started after a reload saw the old policy"
                        );
                        checked.fetch_add(1, Ordering::SeqCst);
                    }
                    served.fetch_add(1, Ordering::SeqCst);
                }
            })
        })
        .collect();

    let (mut applied, mut refused) = (0, 0);
    for i in 0..60 {
        if i % 6 == 5 {
            write("C", false);
            let resp = post_reload(&pg);
            assert_eq!(resp.status, 422, "{}", resp.body);
            assert!(resp.body.contains("routes[0].upstream"), "{}", resp.body);
            refused += 1;
        } else {
            let tag = if live.lock().unwrap().tag == 'A' {
                'B'
            } else {
                'A'
            };
            // Hold the lock across the swap so no request can start in between.
            let mut state = live.lock().unwrap();
            write(&tag.to_string(), true);
            let resp = post_reload(&pg);
            assert_eq!(resp.status, 200, "{}", resp.body);
            if resp.body.contains("applied") {
                *state = Live {
                    generation: state.generation + 1,
                    tag,
                };
                applied += 1;
            }
        }
        std::thread::sleep(Duration::from_millis(15));
    }
    stop.store(true, Ordering::SeqCst);
    load.into_iter().for_each(|t| t.join().unwrap());

    let served = served.load(Ordering::SeqCst);
    let checked = checked.load(Ordering::SeqCst);
    eprintln!("reloads applied {applied}, refused {refused}; requests served {served}, checked exactly {checked}");
    assert!(applied >= 45, "{applied}");
    assert_eq!(refused, 10);
    assert!(
        served >= 200 && checked >= 100,
        "served {served}, checked {checked}"
    );
    let metrics = pg.metrics();
    // The file watch may also have picked some writes up before POST /reload did.
    assert!(
        metric_value(
            &metrics,
            "phiguard_config_reloads_total{result=\"success\"}"
        )
        .unwrap()
            >= applied as f64
    );
    assert!(
        metric_value(
            &metrics,
            "phiguard_config_reloads_total{result=\"failure\"}"
        )
        .unwrap()
            >= 10.0
    );
    assert_eq!(
        metric_value(
            &metrics,
            "phiguard_requests_total{route=\"all\",status_class=\"5xx\"}"
        ),
        Some(0.0)
    );
}

/// Lays out `dir` like a mounted ConfigMap: `phiguard.yaml -> ..data/phiguard.yaml`,
/// `..data -> ..<version>/`, and swaps `..data` atomically like the kubelet does.
struct ConfigMapDir {
    dir: tempfile::TempDir,
    version: u32,
}

impl ConfigMapDir {
    fn new(text: &str) -> Self {
        let mut d = ConfigMapDir {
            dir: tempfile::tempdir().unwrap(),
            version: 0,
        };
        d.publish(text);
        std::os::unix::fs::symlink("..data/phiguard.yaml", d.file()).unwrap();
        d
    }

    fn file(&self) -> std::path::PathBuf {
        self.dir.path().join("phiguard.yaml")
    }

    fn publish(&mut self, text: &str) {
        self.version += 1;
        let versioned = format!("..2026_11_24_{:04}", self.version);
        std::fs::create_dir(self.dir.path().join(&versioned)).unwrap();
        std::fs::write(self.dir.path().join(&versioned).join("phiguard.yaml"), text).unwrap();
        let tmp = self.dir.path().join("..data_tmp");
        std::os::unix::fs::symlink(&versioned, &tmp).unwrap();
        std::fs::rename(&tmp, self.dir.path().join("..data")).unwrap();
    }
}

fn start_with_file(file: &Path, admin_port: u16) -> Process {
    let process = Process::spawn(&["run", "--config", file.to_str().unwrap()]);
    let readyz = format!("http://127.0.0.1:{admin_port}/readyz");
    wait_for("phiguard ready", READY_TIMEOUT, || {
        try_get(&readyz).ok().filter(|r| r.status == 200)
    });
    process
}

#[test]
fn a_configmap_symlink_swap_is_picked_up_without_a_signal() {
    let echo = Echo::start();
    let [port, admin_port] = free_ports();
    let head = format!(
        "listeners: [{{name: public, address: \"127.0.0.1:{port}\"}}]\n\
         admin: {{address: \"127.0.0.1:{admin_port}\"}}\nserver: {FAST_SERVER}\n"
    );
    let mut cm = ConfigMapDir::new(&format!("{head}{}", body(&echo, "A")));
    let _process = start_with_file(&cm.file(), admin_port);
    let url = format!("http://127.0.0.1:{port}/x");
    assert_eq!(get(&url).must("x-policy"), "A");

    let swapped = Instant::now();
    cm.publish(&format!("{head}{}", body(&echo, "B")));
    wait_for(
        "the swapped config to serve",
        Duration::from_secs(10),
        || (get(&url).must("x-policy") == "B").then_some(()),
    );
    eprintln!(
        "ConfigMap swap to new policy serving: {:?}",
        swapped.elapsed()
    );

    // A broken ConfigMap update is refused and the old config keeps serving.
    cm.publish(&format!("{head}{}", body(&echo, "C")).replace("upstream: echo", "upstream: gone"));
    let config = wait_for(
        "the refusal to show at /config",
        Duration::from_secs(10),
        || {
            let status = get(&format!("http://127.0.0.1:{admin_port}/config"));
            status.body.contains("unknown upstream").then_some(status)
        },
    );
    assert!(
        config.body.contains("\"trigger\": \"file_change\""),
        "{}",
        config.body
    );
    assert_eq!(get(&url).must("x-policy"), "B");
}

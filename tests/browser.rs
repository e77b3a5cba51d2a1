//! End to end in headless Chromium: the demo portal page (`phiguard demo`) loaded through
//! phiguard and straight from the origin. Each protection is one test through phiguard and
//! one straight from the origin, which must fail the same check: that proves phiguard is what
//! makes the difference.
//!
//! 1. CSP: the site's inline script runs with phiguard's nonce; the tag manager's injected
//!    nonce-less script and the third-party vendor script are blocked; violation reports
//!    reach phiguard's report endpoint and are scrubbed of PHI.
//! 2. The analytics beacon built from the form's fields reaches the tracker sink with no PHI
//!    and its harmless parameters intact.
//! 3. The session cookie is `HttpOnly` (not in `document.cookie`) and `Secure` with a declared
//!    `SameSite` in the browser's cookie jar.
//! 4. Visiting checkout-complete clears the PHI the checkout left in `localStorage`.
//!
//! Needs Debian's `chromium` and `chromium-driver` (`bash scripts/test.sh` installs them).
//! Each test prints what it saw (`cargo test --test browser -- --nocapture`).

#[path = "common/browser.rs"]
mod browser;
mod common;
#[path = "common/portal_demo.rs"]
mod portal_demo;

use std::time::Duration;

use browser::{browser_slot, Browser};
use common::Pki;
use portal_demo::{trust_switch, Demo, TlsFront, BACKGROUND_TIMEOUT};
use serde_json::Value;

/// The synthetic PHI the demo pages carry, as it appears in pages, URLs and reports.
const PHI: &[&str] = &[
    "Jane Q. Doe",
    "Jane+Q.+Doe",
    "Jane%20Q.%20Doe",
    "jane.doe@example.com",
    "jane.doe%40example.com",
    "555-867-5309",
    "1984-07-12",
];

/// The PHI values in `text`.
fn phi_in(text: &str) -> Vec<&'static str> {
    PHI.iter().copied().filter(|p| text.contains(p)).collect()
}

// ---------------------------------------------------------------------------------------
// What a page load shows
// ---------------------------------------------------------------------------------------

/// What ran on the portal page and what the browser blocked.
#[derive(Debug)]
struct Scripts {
    /// The site's inline script ran.
    site_ran: bool,
    /// The nonce the site's inline script element carries ("" when none).
    site_nonce: String,
    /// The tag manager's injected, nonce-less script ran.
    injected_ran: bool,
    /// The third-party vendor script ran.
    vendor_ran: bool,
    /// The `securitypolicyviolation` events the page saw: {directive, blocked, document}.
    violations: Vec<Value>,
}

/// Loads `url` (the portal page) and reads what ran.
fn load_portal(browser: &Browser, url: &str) -> Scripts {
    browser.goto(url);
    // The page renders its result table on `load`; the table is what the screenshot shows.
    browser.wait_for(
        "the portal page to render",
        Duration::from_secs(10),
        "document.readyState === 'complete' && document.getElementById('r-site').textContent !== '?'",
    );
    let seen = browser.execute(
        "var site = document.querySelector('head script');
         return {
           site_ran: !!(window.portal && window.portal.siteScriptRan),
           site_nonce: site ? site.nonce : '',
           injected_ran: !!window.tagManagerInjectedRan,
           vendor_ran: !!window.chatVendorRan,
           violations: window.portal ? window.portal.violations : []
         };",
    );
    Scripts {
        site_ran: seen["site_ran"] == true,
        site_nonce: seen["site_nonce"].as_str().unwrap_or_default().to_owned(),
        injected_ran: seen["injected_ran"] == true,
        vendor_ran: seen["vendor_ran"] == true,
        violations: seen["violations"].as_array().cloned().unwrap_or_default(),
    }
}

/// Fills nothing in (the form comes filled), submits the portal's form and waits until the
/// analytics snippet has sent its beacon; returns what the page says about it.
fn submit_profile_form(browser: &Browser) -> String {
    browser.click("#save");
    let status = browser.wait_for(
        "the analytics beacon to be sent",
        BACKGROUND_TIMEOUT,
        "window.portal.beacon.indexOf('sent') === 0 || window.portal.beacon.indexOf('failed') === 0 ? window.portal.beacon : ''",
    );
    status.as_str().unwrap_or_default().to_owned()
}

/// The beacon the sink recorded (`/collect`), waiting for it.
fn recorded_beacon(demo: &Demo) -> Value {
    common::wait_for("the beacon at the sink", BACKGROUND_TIMEOUT, || {
        demo.sink_requests()
            .into_iter()
            .find(|r| r["path"] == "/collect")
    })
}

/// The query parameters of a recorded request, percent-decoded.
fn params(recorded: &Value) -> Vec<(String, String)> {
    let query = recorded["query"].as_str().unwrap_or_default();
    url::form_urlencoded::parse(query.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

fn param<'a>(params: &'a [(String, String)], key: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

/// The beacon's harmless parameters as the page builds them.
const HARMLESS: &[(&str, &str)] = &[
    ("v", "2"),
    ("tid", "G-DEMO4PORTAL"),
    ("cid", "1806412346.1764460800"),
    ("en", "form_submit"),
    ("ep.form_id", "profile"),
];

/// The beacon's PHI parameters and the values the form holds.
const FORM_PHI: &[(&str, &str)] = &[
    ("up.full_name", "Jane Q. Doe"),
    ("up.email", "jane.doe@example.com"),
    ("up.phone", "555-867-5309"),
    ("up.dob", "1984-07-12"),
];

/// The session cookie as the page's scripts and the cookie jar see it.
#[derive(Debug)]
struct SessionCookie {
    /// `document.cookie` on the portal page.
    document_cookie: String,
    /// The jar's `_session_id` cookie (CDP `Network.getAllCookies`).
    jar: Value,
}

fn session_cookie(browser: &Browser, portal_url: &str) -> SessionCookie {
    load_portal(browser, portal_url);
    let document_cookie = browser.execute("return document.cookie;");
    let jar = browser
        .cookie_jar()
        .into_iter()
        .find(|c| c["name"] == "_session_id")
        .unwrap_or_else(|| panic!("no _session_id cookie in the browser's jar"));
    SessionCookie {
        document_cookie: document_cookie.as_str().unwrap_or_default().to_owned(),
        jar,
    }
}

/// `localStorage.checkout_draft` after the checkout page and after checkout-complete.
#[derive(Debug)]
struct Storage {
    after_checkout: Value,
    after_complete: Value,
}

fn checkout(browser: &Browser, base: impl Fn(&str) -> String) -> Storage {
    browser.goto(&base("/portal/checkout"));
    let read = "return localStorage.getItem('checkout_draft');";
    let after_checkout = browser.execute(read);
    browser.click("#place-order");
    browser.wait_for(
        "checkout-complete to load",
        Duration::from_secs(10),
        "location.pathname === '/portal/checkout/complete' && document.readyState === 'complete'",
    );
    let after_complete = browser.execute(read);
    Storage {
        after_checkout,
        after_complete,
    }
}

/// Starts the demo and a browser side by side (each takes seconds; together they take the
/// longer of the two).
fn start() -> (Demo, Browser) {
    std::thread::scope(|s| {
        let demo = s.spawn(Demo::start);
        let browser = Browser::start(&[]);
        (demo.join().expect("the demo started"), browser)
    })
}

// ---------------------------------------------------------------------------------------
// 1. CSP
// ---------------------------------------------------------------------------------------

#[test]
fn csp_runs_the_nonced_site_script_and_blocks_injected_and_vendor_scripts() {
    let _slot = browser_slot();
    let (demo, browser) = start();
    let seen = load_portal(&browser, &demo.proxy("/portal"));
    println!("through phiguard: {seen:#?}");
    assert!(
        seen.site_ran,
        "the site's inline script did not run through phiguard (its nonce is missing or \
         does not match the CSP): {seen:#?}"
    );
    assert!(
        !seen.site_nonce.is_empty(),
        "the site's inline script carries no nonce through phiguard: {seen:#?}"
    );
    assert!(
        !seen.injected_ran,
        "the tag manager's injected nonce-less inline script ran through phiguard: {seen:#?}"
    );
    assert!(
        !seen.vendor_ran,
        "the third-party vendor script (another origin) ran through phiguard: {seen:#?}"
    );
    let vendor_origin = format!("http://127.0.0.1:{}", demo.sink_port());
    let blocked: Vec<&str> = seen
        .violations
        .iter()
        .filter_map(|v| v["blocked"].as_str())
        .collect();
    assert!(
        blocked.contains(&"inline"),
        "the browser reported no CSP violation for the injected inline script: {seen:#?}"
    );
    assert!(
        blocked.iter().any(|b| b.starts_with(&vendor_origin)),
        "the browser reported no CSP violation for the vendor script: {seen:#?}"
    );
    // The scripts ran once per page view: a second load gets a different nonce.
    let again = load_portal(&browser, &demo.proxy("/portal"));
    assert!(
        again.site_ran,
        "the site's script did not run on reload: {again:#?}"
    );
    assert_ne!(
        again.site_nonce, seen.site_nonce,
        "two page views got the same nonce"
    );
}

#[test]
fn csp_violation_reports_reach_phiguard_scrubbed() {
    let _slot = browser_slot();
    let pki = Pki::generate();
    let trust = trust_switch(&pki);
    let (demo, front, browser) = std::thread::scope(|s| {
        let servers = s.spawn(|| {
            let demo = Demo::start();
            let front = TlsFront::start(&demo, pki);
            (demo, front)
        });
        // Chromium's Reporting API batches reports for a minute unless told otherwise.
        let browser = Browser::start(&[&trust, "--short-reporting-delay"]);
        let (demo, front) = servers.join().expect("the demo and its TLS front started");
        (demo, front, browser)
    });
    // A page URL carrying PHI (as magic links and badly built portals do): the browser puts
    // it into every violation report it sends.
    let url = front.url("/portal?email=jane.doe%40example.com&dob=1984-07-12");
    let seen = load_portal(&browser, &url);
    println!("through phiguard (TLS): {seen:#?}");
    // (Which scripts run is the previous test's subject; here a violation must happen.)
    assert!(
        seen.site_ran && !seen.injected_ran,
        "CSP not enforced on the TLS front: {seen:#?}"
    );
    assert!(
        seen.violations.iter().any(|v| v["document"]
            .as_str()
            .is_some_and(|d| d.contains("jane.doe%40example.com"))),
        "the browser's violations do not carry the page URL with its PHI, so this test \
         would not show scrubbing: {seen:#?}"
    );
    let metrics = poll(
        "phiguard to count the browser's CSP violation reports",
        || {
            let text = front.phiguard.metrics_now();
            let labels = [r#"route="portal""#, r#"directive="script-src-elem""#];
            (labelled_sample(&text, "phiguard_csp_violations_total", &labels) >= 1.0)
                .then_some(text)
        },
        || front.output(),
    );
    let counted: Vec<&str> = metrics
        .lines()
        .filter(|l| l.starts_with("phiguard_csp_violations_total") && !l.ends_with(" 0"))
        .collect();
    println!("phiguard counted: {counted:#?}");
    let audit = poll(
        "the csp_violation audit event of the blocked inline script",
        || {
            front
                .phiguard
                .process
                .stdout()
                .lines()
                .filter_map(|l| serde_json::from_str::<Value>(l).ok())
                .find(|e| {
                    e["event"] == "csp_violation"
                        && e["route"] == "portal"
                        && e["directive"] == "script-src-elem"
                        && e["blocked"] == "inline"
                })
        },
        || front.output(),
    );
    println!("phiguard audited: {audit:#}");
    assert_eq!(
        audit["document_path"], "/portal",
        "the audit event should keep the page path without its query: {audit:#}"
    );
    let output = front.output();
    assert!(
        phi_in(&output).is_empty(),
        "phiguard's output (access log, audit trail, log) carries PHI from the reports: {:?}\n{output}",
        phi_in(&output)
    );
    assert!(
        phi_in(&metrics).is_empty(),
        "phiguard's metrics carry PHI: {:?}",
        phi_in(&metrics)
    );
    // Reports are answered by phiguard, never forwarded: the origin and the sink saw none.
    let at_sink: Vec<Value> = demo
        .sink_requests()
        .into_iter()
        .filter(|r| r["path"].as_str().is_some_and(|p| p.contains("csp")))
        .collect();
    assert!(at_sink.is_empty(), "reports reached the sink: {at_sink:#?}");
}

#[test]
fn without_phiguard_injected_and_vendor_scripts_run() {
    let _slot = browser_slot();
    let (demo, browser) = start();
    let seen = load_portal(&browser, &demo.origin("/portal"));
    println!("straight from the origin: {seen:#?}");
    assert!(
        seen.site_ran,
        "the site's own script did not run: {seen:#?}"
    );
    assert!(
        seen.injected_ran,
        "without phiguard the injected nonce-less script should run (no CSP): {seen:#?}"
    );
    assert!(
        seen.vendor_ran,
        "without phiguard the third-party vendor script should run (no CSP): {seen:#?}"
    );
    assert!(
        seen.violations.is_empty(),
        "without phiguard there is no CSP to violate: {seen:#?}"
    );
    let metrics = ureq_text(&demo.admin("/metrics"));
    assert_eq!(
        metric_sum(&metrics, "phiguard_csp_violations_total"),
        0.0,
        "without phiguard in the page's path no report reaches phiguard"
    );
}

// ---------------------------------------------------------------------------------------
// 2. The beacon
// ---------------------------------------------------------------------------------------

#[test]
fn form_beacon_reaches_the_sink_without_phi() {
    let _slot = browser_slot();
    let (demo, browser) = start();
    load_portal(&browser, &demo.proxy("/portal"));
    let status = submit_profile_form(&browser);
    save_screenshot(&browser);
    assert!(
        status.starts_with("sent"),
        "the page could not send its beacon through phiguard: {status}"
    );
    let beacon = recorded_beacon(&demo);
    println!("the sink received through phiguard: {beacon:#}");
    let got = params(&beacon);
    for (key, value) in HARMLESS {
        assert_eq!(
            param(&got, key),
            Some(*value),
            "harmless parameter {key} changed on the way: {beacon:#}"
        );
    }
    for (key, value) in FORM_PHI {
        let sent = param(&got, key).unwrap_or_else(|| panic!("{key} missing: {beacon:#}"));
        assert!(
            sent != *value && sent.contains("[REDACTED:"),
            "{key} reached the sink unredacted ({sent:?}): {beacon:#}"
        );
    }
    let everything = beacon.to_string();
    assert!(
        phi_in(&everything).is_empty(),
        "PHI reached the sink (query, headers or body): {:?}\n{beacon:#}",
        phi_in(&everything)
    );
    let emitted = demo.emitted();
    assert!(
        phi_in(&emitted).is_empty(),
        "the demo's access log, audit trail or log carries PHI: {:?}\n{emitted}",
        phi_in(&emitted)
    );
}

#[test]
fn without_phiguard_the_beacon_carries_phi_to_the_sink() {
    let _slot = browser_slot();
    let (demo, browser) = start();
    load_portal(&browser, &demo.origin("/portal"));
    let status = submit_profile_form(&browser);
    assert!(
        status.starts_with("sent"),
        "the origin relay failed: {status}"
    );
    let beacon = recorded_beacon(&demo);
    println!("the sink received straight from the origin: {beacon:#}");
    let got = params(&beacon);
    for (key, value) in FORM_PHI.iter().chain(HARMLESS) {
        assert_eq!(
            param(&got, key),
            Some(*value),
            "without phiguard the origin relays {key} as the page sent it: {beacon:#}"
        );
    }
}

// ---------------------------------------------------------------------------------------
// 3. The session cookie
// ---------------------------------------------------------------------------------------

#[test]
fn session_cookie_is_httponly_secure_and_samesite() {
    let _slot = browser_slot();
    let (demo, browser) = start();
    let cookie = session_cookie(&browser, &demo.proxy("/portal"));
    println!("through phiguard: {cookie:#?}");
    assert!(
        !cookie.document_cookie.contains("_session_id"),
        "the page's scripts can read the session cookie (not HttpOnly): document.cookie = {:?}",
        cookie.document_cookie
    );
    assert_eq!(
        cookie.jar["httpOnly"], true,
        "the jar's session cookie is not HttpOnly: {:#}",
        cookie.jar
    );
    assert_eq!(
        cookie.jar["secure"], true,
        "the jar's session cookie is not Secure: {:#}",
        cookie.jar
    );
    assert!(
        matches!(cookie.jar["sameSite"].as_str(), Some("Lax" | "Strict")),
        "the jar's session cookie declares no SameSite=Lax/Strict: {:#}",
        cookie.jar
    );
}

#[test]
fn without_phiguard_the_session_cookie_is_readable_and_unflagged() {
    let _slot = browser_slot();
    let (demo, browser) = start();
    let cookie = session_cookie(&browser, &demo.origin("/portal"));
    println!("straight from the origin: {cookie:#?}");
    assert!(
        cookie.document_cookie.contains("_session_id="),
        "without phiguard the page's scripts should read the session cookie: {:?}",
        cookie.document_cookie
    );
    assert_eq!(cookie.jar["httpOnly"], false, "{:#}", cookie.jar);
    assert_eq!(cookie.jar["secure"], false, "{:#}", cookie.jar);
    assert!(
        cookie.jar.get("sameSite").is_none(),
        "without phiguard the session cookie declares no SameSite: {:#}",
        cookie.jar
    );
}

// ---------------------------------------------------------------------------------------
// 4. localStorage after checkout
// ---------------------------------------------------------------------------------------

#[test]
fn checkout_complete_clears_the_phi_left_in_local_storage() {
    let _slot = browser_slot();
    let (demo, browser) = start();
    let storage = checkout(&browser, |p| demo.proxy(p));
    println!("through phiguard: {storage:#?}");
    assert!(
        storage
            .after_checkout
            .as_str()
            .is_some_and(|d| d.contains("jane.doe@example.com")),
        "the checkout page did not leave its PHI in localStorage: {storage:#?}"
    );
    assert_eq!(
        storage.after_complete,
        Value::Null,
        "the PHI is still in localStorage after checkout-complete (no Clear-Site-Data?)"
    );
    let left = browser.execute("return localStorage.length;");
    assert_eq!(left, 0, "localStorage is not empty after checkout-complete");
}

#[test]
fn without_phiguard_checkout_complete_leaves_the_phi_in_local_storage() {
    let _slot = browser_slot();
    let (demo, browser) = start();
    let storage = checkout(&browser, |p| demo.origin(p));
    println!("straight from the origin: {storage:#?}");
    assert!(
        storage
            .after_complete
            .as_str()
            .is_some_and(|d| d.contains("jane.doe@example.com")),
        "without phiguard the PHI should still be in localStorage: {storage:#?}"
    );
}

// ---------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------

/// Polls `f` every 20 ms until it returns `Some`; after [`BACKGROUND_TIMEOUT`] panics with
/// `what` and `context()` (e.g. the process output that shows why).
fn poll<T>(what: &str, mut f: impl FnMut() -> Option<T>, context: impl Fn() -> String) -> T {
    let deadline = std::time::Instant::now() + BACKGROUND_TIMEOUT;
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "timed out after {BACKGROUND_TIMEOUT:?} waiting for {what}\n{}",
            context()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn ureq_text(url: &str) -> String {
    common::get(url).body
}

/// The sample of `name` carrying every one of `labels` (`key="value"`, in any order) in
/// Prometheus text; 0 when none.
fn labelled_sample(text: &str, name: &str, labels: &[&str]) -> f64 {
    text.lines()
        .filter(|l| {
            l.strip_prefix(name)
                .is_some_and(|rest| rest.starts_with('{'))
        })
        .filter(|l| labels.iter().all(|label| l.contains(label)))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

/// The sum of every sample of `name` in Prometheus text (0 when none).
fn metric_sum(text: &str, name: &str) -> f64 {
    text.lines()
        .filter(|l| l.starts_with(name) && !l.starts_with('#'))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

/// Keeps the screenshot of the portal page (after the beacon went out) in
/// `docs/screenshots/portal.png` (the README shows it), writing only when the picture
/// changed so a test run leaves the work tree clean.
fn save_screenshot(browser: &Browser) {
    let png = browser.screenshot();
    assert!(
        png.starts_with(b"\x89PNG\r\n\x1a\n") && png.len() > 10_000,
        "the screenshot is not a PNG of a page ({} bytes)",
        png.len()
    );
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/screenshots/portal.png");
    if std::fs::read(&path).ok().as_deref() != Some(png.as_slice()) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &png).unwrap();
    }
}

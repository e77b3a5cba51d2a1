//! Per-request work the proxy does besides moving bytes: route matching with path
//! normalization, applying a header profile (security headers, leaky header removal, cookie
//! hardening). Run: `cargo bench --bench request_path`.

use std::hint::black_box;
use std::path::Path;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use http::Method;
use pingora::http::ResponseHeader;

use phiguard::config;
use phiguard::policy::routes::normalize_path;
use phiguard::policy::{Policy, Shared};
use phiguard::proxy::header_edit;

const CONFIG: &str = r#"
listeners: [{name: public, address: "127.0.0.1:18080"}]
upstreams: {shop: {address: "127.0.0.1:3000"}}
routes:
  - {name: logout, match: {path_prefix: /account/logout}, upstream: shop, headers: portal, phi: true, clear_site_data: [cache, cookies]}
  - {name: account, match: {path_prefix: /account}, upstream: shop, headers: portal, phi: true}
  - {name: appointments, match: {path_prefix: /apps/appointments}, upstream: shop, headers: portal}
  - {name: webhooks, match: {path_prefix: /webhooks, methods: [POST]}, upstream: shop}
  - {name: ga4, match: {path_prefix: /t/ga4}, upstream: shop, rewrite_prefix: /g/collect}
  - {name: checkout, match: {path_prefix: /checkouts}, upstream: shop, headers: checkout}
  - {name: storefront, match: {path_prefix: /}, upstream: shop, headers: catalog}
"#;

fn policy() -> Policy {
    let loaded = config::parse(CONFIG, Path::new("bench.yaml")).expect("bench config parses");
    Policy::compile(&loaded, &Shared::new()).expect("bench config compiles")
}

fn upstream_response() -> ResponseHeader {
    let mut resp = ResponseHeader::build(200, Some(12)).expect("status");
    for (k, v) in [
        ("Content-Type", "text/html; charset=utf-8"),
        ("Server", "nginx"),
        ("X-Powered-By", "PHP/8.1"),
        ("X-Magento-Tags", "cat_p_1,cat_c_2"),
        ("Cache-Control", "public, max-age=600"),
        ("Set-Cookie", "_session_id=abc123; Path=/"),
        ("Set-Cookie", "cart=xyz; Path=/; SameSite=None"),
    ] {
        resp.append_header(k, v).expect("header");
    }
    resp
}

fn bench(c: &mut Criterion) {
    let policy = policy();
    let mut group = c.benchmark_group("request_path");
    group.throughput(Throughput::Elements(1));
    group.bench_function("route_match_last_route", |b| {
        b.iter(|| {
            policy.route_for(
                Some("shop.example.com"),
                black_box("/products/blue-shirt"),
                &Method::GET,
            )
        })
    });
    group.bench_function("normalize_clean_path", |b| {
        b.iter(|| normalize_path(black_box("/apps/appointments/1001")))
    });
    group.bench_function("normalize_dirty_path", |b| {
        b.iter(|| normalize_path(black_box("/apps//%61ppointments/./1001")))
    });
    let portal = policy
        .route_for(None, "/account", &Method::GET)
        .expect("route");
    let template = upstream_response();
    group.bench_function("portal_profile_apply", |b| {
        b.iter_batched(
            || template.clone(),
            |mut resp| {
                header_edit::response(&mut resp, |parts| portal.headers.apply(&mut parts.headers));
                resp
            },
            criterion::BatchSize::SmallInput,
        )
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

//! The per-response cost of `csp_nonce`: streaming nonce insertion into HTML (MB/s) and
//! rendering a nonce CSP while applying a header profile. Run:
//! `cargo bench --bench csp_nonce`.

use std::hint::black_box;
use std::path::Path;

use bytes::Bytes;
use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use http::Method;
use pingora::http::ResponseHeader;

use phiguard::config;
use phiguard::policy::csp::Nonce;
use phiguard::policy::{Policy, Shared};
use phiguard::proxy::header_edit;
use phiguard::proxy::html_nonce::NonceInjector;

/// One block of a storefront page: markup with attributes, a comment, an inline script
/// whose body holds `<` and quotes, a style, an external script.
const BLOCK: &str = r#"<div class="product-card" data-id="1001" data-json='{"a":"<b>"}'>
  <!-- price block: <script> in a comment is not a tag -->
  <a href="/products/blue-shirt?variant=42" title="Blue shirt &amp; more">Blue shirt</a>
  <img src="/img/blue.jpg" alt="a blue shirt" loading=lazy width=300 height=300>
  <span class=price>$19.99</span>
  <script>window.dataLayer = window.dataLayer || []; if (a < b && "</div>") { push({id: 1001}); }</script>
  <style>.product-card > a { color: #333 } .price::after { content: "<" }</style>
  <script src="/assets/app.js" defer></script>
  <p>Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt
  ut labore et dolore magna aliqua. Ut enim ad minim veniam, quis nostrud exercitation.</p>
</div>
"#;

/// Mostly text: a long article with one script at the end.
const TEXT_BLOCK: &str = "<p>Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do \
eiusmod tempor incididunt ut labore et dolore magna aliqua. Ut enim ad minim veniam, quis \
nostrud exercitation ullamco laboris nisi ut aliquip ex ea commodo consequat.</p>\n";

fn page(block: &str, bytes: usize) -> Vec<u8> {
    let mut out = String::from("<!doctype html><html><head><title>Shop</title></head><body>\n");
    while out.len() < bytes {
        out.push_str(block);
    }
    out.push_str("<script>done()</script></body></html>\n");
    out.into_bytes()
}

/// The body in chunks of `chunk` bytes, as an upstream would deliver it.
fn chunks(body: &[u8], chunk: usize) -> Vec<Bytes> {
    body.chunks(chunk).map(Bytes::copy_from_slice).collect()
}

fn rewrite_all(chunks: &[Bytes]) -> usize {
    let mut injector = NonceInjector::new(&Nonce::generate());
    let mut total = 0;
    for c in chunks {
        total += injector.rewrite(c.clone()).len();
    }
    total
}

const CONFIG: &str = r#"
listeners: [{name: public, address: "127.0.0.1:18080"}]
upstreams: {shop: {address: "127.0.0.1:3000"}}
header_profiles:
  nonced: {extends: portal, csp_nonce: true}
routes:
  - {name: portal, upstream: shop, headers: nonced}
"#;

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("html_nonce");
    for (name, block) in [("storefront_markup", BLOCK), ("text_heavy", TEXT_BLOCK)] {
        let body = page(block, 256 * 1024);
        let pieces = chunks(&body, 16 * 1024);
        group.throughput(Throughput::Bytes(body.len() as u64));
        group.bench_function(format!("{name}_256KiB_in_16KiB_chunks"), |b| {
            b.iter(|| rewrite_all(black_box(&pieces)))
        });
    }
    group.finish();

    let loaded = config::parse(CONFIG, Path::new("bench.yaml")).expect("bench config parses");
    let policy = Policy::compile(&loaded, &Shared::new()).expect("bench config compiles");
    let route = policy.route_for(None, "/", &Method::GET).expect("route");
    let mut template = ResponseHeader::build(200, Some(8)).expect("status");
    template
        .append_header("Content-Type", "text/html")
        .expect("header");
    let mut group = c.benchmark_group("csp_nonce");
    group.throughput(Throughput::Elements(1));
    group.bench_function("nonced_profile_apply", |b| {
        b.iter_batched(
            || template.clone(),
            |mut resp| {
                let nonce = header_edit::response(&mut resp, |parts| {
                    route.headers.apply(&mut parts.headers)
                });
                (resp, nonce)
            },
            BatchSize::SmallInput,
        )
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

//! The benchmark payloads, shared by `benches/engine.rs` and
//! `examples/throughput.rs` (a fixed-iteration driver for perf/callgrind).

use phiguard_engine::Format;

/// Repeats lines from `make` until about `target` bytes, one per line.
pub fn build(target: usize, mut make: impl FnMut(usize) -> String) -> Vec<u8> {
    let mut out = Vec::with_capacity(target + 1024);
    let mut i = 0;
    while out.len() < target {
        out.extend_from_slice(make(i).as_bytes());
        out.push(b'\n');
        i += 1;
    }
    out
}

pub fn access_line(i: usize, phi: bool) -> String {
    let q = if phi && i.is_multiple_of(4) {
        format!("step=2&email=jane.doe{i}%40example.com&sku=WX-2291-L")
    } else {
        format!(
            "step=2&utm_source=newsletter&sku=WX-{}-L&page={}",
            1000 + i % 9000,
            i % 50
        )
    };
    format!(
        "10.1.{}.{}-lb - - [10/Oct/2023:13:55:{:02} +0000] \"GET /products/running-shoes?{q} HTTP/1.1\" 200 {} \"https://shop.example/collections/all?page=2\" \"Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15\"",
        300 + i % 100,
        i % 256,
        i % 60,
        1000 + i % 9000
    )
}

pub fn tracker_query(i: usize, phi: bool) -> String {
    let extra = if phi && i.is_multiple_of(2) {
        format!(
            "&ep.customer_phone=%2B1%20212%20555%20{:04}",
            1000 + i % 8999
        )
    } else {
        String::new()
    };
    format!(
        "v=2&tid=G-8XK2P1QZ7&gtm=45je3b10&_p=1700000000{i:03}&cid=123456789.1700000000&ul=en-us&sr=1920x1080&_s={}&sid=1700000000&sct=4&seg=1&dl=https%3A%2F%2Fshop.example%2Fproducts%2Frunning-shoes%3Fvariant%3D4412&dt=Running%20Shoes%20%7C%20Shop&en=view_item&pr1=idWX-2291-L~nmRunning%20Shoes~pr129.99~qt1&ep.currency=USD&epn.value=129.99{extra}",
        i % 20
    )
}

pub fn tracker_json(i: usize, phi: bool) -> String {
    let user = if phi && i.is_multiple_of(2) {
        format!(
            ",\"user_data\":{{\"em\":[\"{:064x}\"],\"client_ip_address\":\"203.0.113.{}\"}}",
            i,
            i % 250
        )
    } else {
        String::new()
    };
    format!(
        "{{\"event_name\":\"ViewContent\",\"event_time\":1700000{i:03},\"event_id\":\"550e8400-e29b-41d4-a716-44665544{:04}\",\"action_source\":\"website\",\"event_source_url\":\"https://shop.example/products/running-shoes?variant=4412\",\"custom_data\":{{\"currency\":\"USD\",\"value\":129.99,\"content_ids\":[\"WX-2291-L\"],\"content_type\":\"product\",\"contents\":[{{\"id\":\"WX-2291-L\",\"quantity\":1,\"item_price\":129.99}}]}}{user}}}",
        i % 10000
    )
}

/// The six benchmark cases: name, format, ~1 MiB of newline-separated payloads.
pub fn cases() -> Vec<(&'static str, Format, Vec<u8>)> {
    vec![
        (
            "log_clean",
            Format::Text,
            build(1 << 20, |i| access_line(i, false)),
        ),
        (
            "log_phi_1_per_kib",
            Format::Text,
            build(1 << 20, |i| access_line(i, true)),
        ),
        (
            "query_clean",
            Format::Query,
            build(1 << 20, |i| tracker_query(i, false)),
        ),
        (
            "query_phi",
            Format::Query,
            build(1 << 20, |i| tracker_query(i, true)),
        ),
        (
            "json_clean",
            Format::Json,
            build(1 << 20, |i| tracker_json(i, false)),
        ),
        (
            "json_phi",
            Format::Json,
            build(1 << 20, |i| tracker_json(i, true)),
        ),
    ]
}

/// Splits a case's data into its payloads (one per line).
pub fn lines(data: &[u8]) -> Vec<&[u8]> {
    data.split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .collect()
}

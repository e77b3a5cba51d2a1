//! Throughput on realistic tracker payloads and log lines, clean and with PHI:
//! `cargo bench -p phiguard-engine --bench engine`.

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use phiguard_engine::Profile;

mod payloads;

fn bench(c: &mut Criterion) {
    let profile = Profile::builtin_default();
    let cases = payloads::cases();
    let mut group = c.benchmark_group("engine");
    group.sample_size(10);
    for (name, format, data) in &cases {
        // Each payload is one line/document, as the proxy and the filter see them.
        let lines = payloads::lines(data);
        group.throughput(Throughput::Bytes(
            lines.iter().map(|l| l.len() as u64).sum(),
        ));
        group.bench_function(*name, |b| {
            b.iter(|| {
                let mut findings = 0;
                for line in &lines {
                    findings += profile.redact(*format, black_box(line)).findings().len();
                }
                findings
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

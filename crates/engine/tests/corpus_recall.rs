//! Recall and false-change targets on the seeded synthetic corpus.

use phiguard_engine::corpus::{evaluate, generate};
use phiguard_engine::{Profile, BUILTIN_TYPES};

#[test]
fn recall_and_false_change_targets() {
    let samples = generate(0x5eed_2026, 12);
    let report = evaluate(&Profile::builtin_default(), &samples);
    println!("{report}");
    for ty in BUILTIN_TYPES {
        assert!(
            report.recall(ty) >= 0.99,
            "{}: recall {:.4}\n{report}",
            ty.label(),
            report.recall(ty)
        );
    }
    assert!(report.false_change() <= 0.005, "{report}");
    assert_eq!(report.not_redacted, 0, "{report}");
}

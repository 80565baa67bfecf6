//! The `events.tsv` label sidecar (and the label CSV that shares its table
//! parser): the input is the whole file.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let path = spindle_fuzz::write_scratch("input_events.tsv", data);
    if let Ok(set) = spindle_signals::recording::read_events_tsv(&path) {
        for label in &set.labels {
            assert!(label.duration_s >= 0.0, "negative duration {label:?}");
            assert!(
                label.extra.len() <= set.extra_columns.len(),
                "more extra values than extra columns: {label:?}"
            );
        }
    }
    let _ = spindle_signals::recording::read_labels_csv(&path);
});

//! EDF/BDF read on demand (what the viewer, `spindle inspect` and the folder
//! listing use for big files): whatever the input, opening it on demand must
//! agree with reading it whole — the same header facts, annotations and
//! segments, and every span, streamed pass and channel subset equal to the
//! whole read's samples — or both must refuse it.
#![no_main]

use libfuzzer_sys::fuzz_target;
use spindle_signals::recording::{
    open_edf_paged, read_edf, read_recording, read_recording_channels, read_summary,
};

fuzz_target!(|data: &[u8]| {
    let path = spindle_fuzz::write_scratch("input.edf", data);
    let whole = read_edf(&path);
    let paged = open_edf_paged(&path);
    let (whole, (header, paged)) = match (whole, paged) {
        (Ok(w), Ok(p)) => (w, p),
        (Err(_), Err(_)) => return,
        (w, p) => panic!(
            "whole read and read on demand disagree: {:?} vs {:?}",
            w.err(),
            p.err()
        ),
    };
    spindle_fuzz::check_recording(&whole, data.len());
    assert_eq!(header.annotations, whole.annotations);
    assert_eq!(header.segments, whole.segments);
    assert_eq!(header.channels.len(), whole.channels.len());
    for (c, ch) in whole.channels.iter().enumerate() {
        let n = ch.samples.len();
        assert_eq!(paged.len(c), n);
        for range in [0..n.min(7), n / 3..n, n.saturating_sub(5)..n + 5] {
            let mut out = Vec::new();
            paged.read(c, range.clone(), &mut out).unwrap();
            let end = range.end.min(n);
            let start = range.start.min(end);
            assert!(
                out.iter().zip(&ch.samples[start..end]).all(|(a, b)| a.to_bits() == b.to_bits()),
                "channel {c} {range:?}"
            );
            assert_eq!(out.len(), end - start);
        }
    }
    let mut streamed = vec![0usize; whole.channels.len()];
    paged
        .stream(|piece| {
            for (n, p) in streamed.iter_mut().zip(piece) {
                *n += p.len();
            }
            true
        })
        .unwrap();
    for (n, ch) in streamed.iter().zip(&whole.channels) {
        assert_eq!(*n, ch.samples.len());
    }
    // The entry points that recognize the format first (by the version
    // field) agree too, for the files they take as EDF/BDF.
    if read_recording(&path).is_err() {
        return;
    }
    if let Some(first) = whole.channels.first() {
        let some = read_recording_channels(&path, std::slice::from_ref(&first.label)).unwrap();
        assert!(some.channels.iter().all(|c| c.label == first.label));
    }
    let summary = read_summary(&path).unwrap();
    assert_eq!(summary.channels, whole.channels.len());
    assert_eq!(summary.annotations, whole.annotations);
});

//! Damaged inputs met while fuzzing the readers (`fuzz/`), each with what the
//! reader must do with it now. The fuzz runs themselves found no crash; these
//! came from reading the code the fuzzers drive and from
//! `tests/alloc_bounded.rs` (of this crate). The far record onset, the
//! malformed TALs and the repeated cue ids fail without their fixes
//! (overflow, whole chunks quoted, 500 copies of a label); the BrainVision
//! cases pin the messages that stayed the same while the memory behind them
//! shrank (measured in `tests/alloc_bounded.rs`). A crash a later fuzz run
//! finds belongs here too, its bytes inline or under `tests/data/fuzz/`.

use std::path::{Path, PathBuf};

use spindle_signals::recording::{read_brainvision, read_recording};

use crate::support::file;
use crate::support::files::{MARKER_HEAD, brainvision, edf_bytes, vhdr, wav_bytes};

/// An EDF+C file of one record: a 1-sample data signal and an annotation
/// signal holding `tal` (padded with NULs).
fn edf_plus(tal: &[u8]) -> Vec<u8> {
    let annotation_spr = tal.len().div_ceil(2);
    let mut body = vec![0, 0];
    body.extend_from_slice(tal);
    body.resize(2 + annotation_spr * 2, 0);
    edf_bytes(
        false,
        "EDF+C",
        "1",
        None,
        &[("A", 1), ("EDF Annotations", annotation_spr)],
        &body,
    )
}

#[test]
fn a_record_onset_of_9e23_seconds_gives_a_clamped_start_not_an_overflow() {
    // The day count of 9e23 s overflowed i64 arithmetic in the calendar.
    let dir = tempfile::tempdir().unwrap();
    let path = file(
        dir.path(),
        "far.edf",
        &edf_plus(b"+900000000000000000000000\x14\x14\x00"),
    );
    let rec = read_recording(&path).unwrap();
    let start = rec.start.unwrap();
    // 1e9 days after 1970 at most: about 2.74 million years on.
    assert!((2_700_000..2_800_000).contains(&start.year), "{start:?}");
    assert!((1..=12).contains(&start.month) && (1..=31).contains(&start.day));
    assert!(start.hour < 24 && start.minute < 60 && (0.0..60.0).contains(&start.second));
}

#[test]
fn malformed_tals_are_counted_and_only_the_first_is_quoted_briefly() {
    // 20000 malformed TALs used to be 20000 messages, each quoting its chunk.
    let mut tal = b"+0\x14\x14\x00".to_vec();
    tal.extend_from_slice(&[b'y'; 100]);
    tal.push(0);
    for _ in 0..20_000 {
        tal.extend_from_slice(b"x\x00");
    }
    let dir = tempfile::tempdir().unwrap();
    let path = file(dir.path(), "bad-tals.edf", &edf_plus(&tal));
    let rec = read_recording(&path).unwrap();
    let warning = rec
        .warnings
        .iter()
        .find(|w| w.contains("malformed annotation"))
        .unwrap();
    assert!(
        warning.starts_with("20001 malformed annotation(s) skipped"),
        "{warning}"
    );
    let quoted = format!("\"{}…\"", "y".repeat(40));
    assert!(warning.contains(&quoted), "{warning}");
    assert!(warning.len() < 200, "{warning}");
}

/// A BrainVision triple of 4 `INT_16` samples in `dir/name`.
fn brainvision_triple(dir: &Path, name: &str, header: &str, markers: &str) -> PathBuf {
    brainvision(
        dir,
        name,
        header,
        markers.as_bytes(),
        &[1, 0, 2, 0, 3, 0, 4, 0],
    )
}

/// A multiplexed header claiming `n_channels` with `lines` channel lines.
fn multiplexed(n_channels: usize, lines: usize) -> String {
    vhdr(&n_channels.to_string(), "MULTIPLEXED", None, lines)
}

#[test]
fn ten_thousand_claimed_channels_with_one_line_are_refused_by_count() {
    // The slots for 10000 channels were allocated before the lines were
    // found missing; the message is the same as before.
    let dir = tempfile::tempdir().unwrap();
    let path = brainvision_triple(dir.path(), "claims", &multiplexed(10_000, 1), "");
    let err = read_brainvision(&path).unwrap_err().to_string();
    assert!(
        err.ends_with(
            "NumberOfChannels is 10000 but 9999 channel(s) have no Ch<n>= line in [Channel Infos] (the first: Ch2)"
        ),
        "{err}"
    );
    // A gap in the middle is named too.
    let header = multiplexed(3, 3).replace("Ch2=C2,,1,uV\r\n", "");
    let path = brainvision_triple(dir.path(), "gap", &header, "");
    let err = read_brainvision(&path).unwrap_err().to_string();
    assert!(err.ends_with("(the first: Ch2)"), "{err}");
}

#[test]
fn thousands_of_bad_markers_give_a_few_warnings() {
    let mut markers = format!("{MARKER_HEAD}Mk1=Stimulus,S1,2,1,0\r\n");
    for i in 2..10_000 {
        markers.push_str(&format!("Mk{i}=x\r\n"));
    }
    let dir = tempfile::tempdir().unwrap();
    let path = brainvision_triple(dir.path(), "markers", &multiplexed(2, 2), &markers);
    let rec = read_brainvision(&path).unwrap();
    assert_eq!(rec.annotations.len(), 1);
    assert_eq!(rec.warnings.len(), 6, "{:?}", rec.warnings);
    assert!(
        rec.warnings[5].ends_with("9993 more marker problem(s) not listed"),
        "{:?}",
        rec.warnings
    );
}

#[test]
fn cue_points_repeating_an_id_do_not_repeat_its_label() {
    // 500 cue points with id 7 and one 1000-byte label for id 7 made 500
    // copies of the label.
    let mut cues = 500u32.to_le_bytes().to_vec();
    for k in 0..500u32 {
        let mut point = [0u8; 24];
        point[0..4].copy_from_slice(&7u32.to_le_bytes());
        point[20..24].copy_from_slice(&k.to_le_bytes());
        cues.extend_from_slice(&point);
    }
    let mut list = b"adtllabl".to_vec();
    list.extend_from_slice(&1006u32.to_le_bytes());
    list.extend_from_slice(&7u32.to_le_bytes());
    list.extend_from_slice(&[b'L'; 1000]);
    list.extend_from_slice(&[0, 0]);
    let wav = wav_bytes(
        1,
        1,
        8,
        &[
            (b"cue ", cues.len() as u32, &cues),
            (b"LIST", list.len() as u32, &list),
            (b"data", 600, &[128u8; 600]),
        ],
    );
    let dir = tempfile::tempdir().unwrap();
    let path = file(dir.path(), "cues.wav", &wav);
    let rec = read_recording(&path).unwrap();
    assert_eq!(rec.annotations.len(), 1);
    assert_eq!(rec.annotations[0].text, "L".repeat(1000));
    assert_eq!(rec.annotations[0].onset_s, 0.0);
    assert!(
        rec.warnings
            .iter()
            .any(|w| w == "ignored 499 cue point(s) repeating the id of an earlier one"),
        "{:?}",
        rec.warnings
    );
}

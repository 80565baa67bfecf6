//! Tests of the label model and its files.

use std::fs;
use std::path::{Path, PathBuf};

use super::read::split_csv_line;
use super::*;
use crate::recording::{Annotation, LabelSource, RecordingError, labels_for_recording};

fn write_file(dir: &Path, name: &str, content: &[u8]) -> PathBuf {
    let path = dir.join(name);
    fs::write(&path, content).unwrap();
    path
}

fn reason(err: RecordingError) -> String {
    match err {
        RecordingError::Invalid { reason, .. } => reason,
        other => panic!("expected an Invalid error, got {other:?}"),
    }
}

#[test]
fn set_is_sorted_with_classes_and_counts() {
    let set = LabelSet::new(vec![
        Label::new(2.0, 1.0, "b"),
        Label::new(1.0, 2.0, "a"),
        Label::new(1.0, 1.0, "b"),
        Label::new(1.0, 1.0, "a"),
    ]);
    let order: Vec<(f64, f64, &str)> = set
        .labels
        .iter()
        .map(|l| (l.onset_s, l.duration_s, l.trial_type.as_str()))
        .collect();
    assert_eq!(
        order,
        [
            (1.0, 1.0, "a"),
            (1.0, 1.0, "b"),
            (1.0, 2.0, "a"),
            (2.0, 1.0, "b")
        ]
    );
    assert_eq!(set.classes(), ["a", "b"]);
    assert_eq!(
        set.counts(),
        BTreeMap::from([("a".to_owned(), 2), ("b".to_owned(), 2)])
    );
    assert_eq!(set.len(), 4);
    assert!(LabelSet::default().is_empty());
}

#[test]
fn annotations_convert_both_ways() {
    let annotations = vec![
        Annotation {
            onset_s: 3.0,
            duration_s: None,
            text: "spike".into(),
        },
        Annotation {
            onset_s: 1.5,
            duration_s: Some(0.25),
            text: "blink".into(),
        },
    ];
    let set = LabelSet::from_annotations(&annotations);
    assert_eq!(
        set.labels,
        [
            Label::new(1.5, 0.25, "blink"),
            Label::new(3.0, 0.0, "spike")
        ]
    );
    let back = set.to_annotations();
    assert_eq!(back, [annotations[1].clone(), annotations[0].clone()]);
}

#[test]
fn round_trip_keeps_labels_and_extra_columns() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("x_events.tsv");
    let set = LabelSet {
        labels: vec![
            Label {
                onset_s: 10.125,
                duration_s: 0.0,
                trial_type: "ShortBlink".into(),
                extra: vec!["r2".into(), "7".into()],
            },
            Label {
                onset_s: 0.5,
                duration_s: 2.0,
                trial_type: "Long Blink".into(),
                extra: vec!["r1".into(), "3".into()],
            },
        ],
        extra_columns: vec!["rater".into(), "value".into()],
    };
    write_events_tsv(&path, &set).unwrap();
    let text = fs::read_to_string(&path).unwrap();
    assert_eq!(
        text,
        "onset\tduration\ttrial_type\trater\tvalue\n\
         0.500\t2.000\tLong Blink\tr1\t3\n\
         10.125\t0.000\tShortBlink\tr2\t7\n"
    );
    let read = read_events_tsv(&path).unwrap();
    assert_eq!(read, set.clone().sorted());
    // Writing what was read gives the same bytes.
    write_events_tsv(&path, &read).unwrap();
    assert_eq!(fs::read_to_string(&path).unwrap(), text);
    assert_eq!(
        fs::read_dir(dir.path()).unwrap().count(),
        1,
        "no temp file left"
    );
}

#[test]
fn write_cleans_text_and_fills_missing_extras() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("x_events.tsv");
    let mut label = Label::new(-0.0001, 1.23456, "a\tb\nc\r");
    label.extra = vec!["x\ty".into()];
    let set = LabelSet {
        labels: vec![label, Label::new(1.0, 0.0, "")],
        extra_columns: vec!["note".into(), "other".into()],
    };
    write_events_tsv(&path, &set).unwrap();
    assert_eq!(
        fs::read_to_string(&path).unwrap(),
        "onset\tduration\ttrial_type\tnote\tother\n\
         0.000\t1.235\ta b c \tx y\tn/a\n\
         1.000\t0.000\tn/a\tn/a\tn/a\n"
    );
}

#[test]
fn write_rejects_bad_labels() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("x_events.tsv");
    let bad = [
        LabelSet::new(vec![Label::new(f64::NAN, 1.0, "a")]),
        LabelSet::new(vec![Label::new(1.0, -1.0, "a")]),
        LabelSet {
            labels: vec![Label {
                extra: vec!["1".into()],
                ..Label::new(1.0, 1.0, "a")
            }],
            extra_columns: vec![],
        },
        LabelSet {
            labels: vec![],
            extra_columns: vec!["onset".into()],
        },
    ];
    for set in bad {
        let err = write_events_tsv(&path, &set).unwrap_err();
        assert!(matches!(err, RecordingError::Invalid { .. }), "{err}");
        assert!(!path.exists());
    }
}

#[test]
fn write_replaces_an_existing_sidecar() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_file(dir.path(), "x_events.tsv", b"old");
    write_events_tsv(&path, &LabelSet::new(vec![Label::new(1.0, 2.0, "a")])).unwrap();
    assert_eq!(
        fs::read_to_string(&path).unwrap(),
        "onset\tduration\ttrial_type\n1.000\t2.000\ta\n"
    );
}

#[test]
fn replacing_a_sidecar_keeps_the_previous_version_as_backup() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("x_events.tsv");
    let bak = backup_path(&path);
    assert_eq!(bak, dir.path().join("x_events.tsv.bak"));
    let (a, b, c) = (
        LabelSet::new(vec![Label::new(1.0, 2.0, "a")]),
        LabelSet::new(vec![Label::new(3.0, 1.0, "b")]),
        LabelSet::new(vec![Label::new(5.0, 0.0, "c")]),
    );
    write_events_tsv(&path, &a).unwrap();
    assert!(!bak.exists(), "nothing to back up yet");
    write_events_tsv(&path, &b).unwrap();
    assert_eq!(read_events_tsv(&bak).unwrap(), a);
    // Writing the same labels again keeps the older backup.
    write_events_tsv(&path, &b).unwrap();
    assert_eq!(read_events_tsv(&bak).unwrap(), a);
    write_events_tsv(&path, &c).unwrap();
    assert_eq!(read_events_tsv(&path).unwrap(), c);
    assert_eq!(read_events_tsv(&bak).unwrap(), b);
    assert_eq!(
        fs::read_dir(dir.path()).unwrap().count(),
        2,
        "no temp file left"
    );
    // A damaged file is replaced, but never becomes the backup.
    fs::write(&path, b"onset\tduration\n1\n").unwrap();
    write_events_tsv(&path, &a).unwrap();
    assert_eq!(read_events_tsv(&path).unwrap(), a);
    assert_eq!(read_events_tsv(&bak).unwrap(), b);
}

#[cfg(unix)]
#[test]
fn an_unreadable_old_sidecar_is_an_error_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("x_events.tsv");
    fs::create_dir(&path).unwrap();
    let err = write_events_tsv(&path, &LabelSet::new(vec![Label::new(1.0, 2.0, "a")])).unwrap_err();
    assert!(matches!(err, RecordingError::Io { .. }), "{err}");
    assert_eq!(err.path(), path);
    assert!(path.is_dir() && !backup_path(&path).exists());
}

#[test]
fn reads_columns_in_any_order_with_na() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_file(
        dir.path(),
        "x_events.tsv",
        b"trial_type\tsample\tduration\tonset\n\
          b\t10\tn/a\t3.5\n\
          a\tn/a\t1\tn/a\n\
          \n\
          a\t20\t0.5\t1.25\n",
    );
    let set = read_events_tsv(&path).unwrap();
    assert_eq!(set.extra_columns, ["sample"]);
    assert_eq!(
        set.labels,
        [
            Label {
                extra: vec!["20".into()],
                ..Label::new(1.25, 0.5, "a")
            },
            Label {
                extra: vec!["10".into()],
                ..Label::new(3.5, 0.0, "b")
            },
        ]
    );
}

#[test]
fn class_falls_back_to_value_then_event() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_file(
        dir.path(),
        "v_events.tsv",
        b"onset\tduration\tvalue\n1\t0\tS 1\n",
    );
    let set = read_events_tsv(&path).unwrap();
    assert_eq!(set.extra_columns, ["value"]);
    assert_eq!(set.labels[0].trial_type, "S 1");
    assert_eq!(set.labels[0].extra, ["S 1"]);

    let path = write_file(dir.path(), "e_events.tsv", b"onset\tduration\n1\t0\n");
    let set = read_events_tsv(&path).unwrap();
    assert!(set.extra_columns.is_empty());
    assert_eq!(set.labels, [Label::new(1.0, 0.0, "event")]);
}

#[test]
fn tolerates_crlf_and_bom() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_file(
        dir.path(),
        "x_events.tsv",
        b"\xEF\xBB\xBFonset\tduration\ttrial_type\r\n0.5\t1\tblink\r\n\r\n",
    );
    let set = read_events_tsv(&path).unwrap();
    assert!(set.extra_columns.is_empty());
    assert_eq!(set.labels, [Label::new(0.5, 1.0, "blink")]);
}

#[test]
fn header_only_file_is_an_empty_set() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_file(dir.path(), "x_events.tsv", b"onset\tduration\ttrial_type\n");
    assert_eq!(read_events_tsv(&path).unwrap(), LabelSet::default());
}

#[test]
fn errors_name_the_file_and_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let cases: [(&[u8], &str); 9] = [
        (b"", "empty file"),
        (
            b"onset\ttrial_type\n1\ta\n",
            "line 1: the header has no `duration` column",
        ),
        (
            b"onset_s,duration_s,label\n",
            "line 1: the header has no `onset` column",
        ),
        (
            b"onset\tduration\n1\t0\nx\t0\n",
            "line 3: onset `x` is not a number",
        ),
        (
            b"onset\tduration\n\t0\n",
            "line 2: onset `` is not a number",
        ),
        (
            b"onset\tduration\n1\t0\n\n1\t0\tz\n",
            "line 4: 3 columns, but the header has 2",
        ),
        (
            b"onset\tduration\n1\tabc\n",
            "line 2: duration `abc` is not a number",
        ),
        (
            b"onset\tduration\n1\t-0.5\n",
            "line 2: negative duration -0.5",
        ),
        (
            b"onset\tduration\nNaN\t1\n",
            "line 2: onset `NaN` is not a number",
        ),
    ];
    for (i, (content, expected)) in cases.into_iter().enumerate() {
        let path = write_file(dir.path(), &format!("{i}_events.tsv"), content);
        let err = read_events_tsv(&path).unwrap_err();
        assert_eq!(err.path(), path);
        assert!(err.to_string().contains(&path.display().to_string()));
        let reason = reason(err);
        assert!(reason.starts_with(expected), "{reason:?} vs {expected:?}");
    }
}

#[test]
fn invalid_utf8_names_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_file(
        dir.path(),
        "x_events.tsv",
        b"onset\tduration\ttrial_type\n1\t0\tbad\xFF\n",
    );
    assert_eq!(
        reason(read_events_tsv(&path).unwrap_err()),
        "line 2: not UTF-8 text"
    );
}

#[test]
fn missing_file_is_an_io_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("none_events.tsv");
    let err = read_events_tsv(&path).unwrap_err();
    assert!(matches!(err, RecordingError::Io { .. }));
    assert_eq!(err.path(), path);
}

#[test]
fn sidecar_wins_over_file_annotations() {
    let dir = tempfile::tempdir().unwrap();
    let recording = dir.path().join("rec.edf");
    let annotations = [Annotation {
        onset_s: 1.0,
        duration_s: Some(2.0),
        text: "from file".into(),
    }];

    let (set, source) = labels_for_recording(&recording, &[]).unwrap();
    assert_eq!((set, source), (LabelSet::default(), LabelSource::None));

    let (set, source) = labels_for_recording(&recording, &annotations).unwrap();
    assert_eq!(source, LabelSource::FileAnnotations);
    assert_eq!(set.labels, [Label::new(1.0, 2.0, "from file")]);

    let sidecar = write_file(
        dir.path(),
        "rec_events.tsv",
        b"onset\tduration\ttrial_type\n5\t1\tfrom sidecar\n",
    );
    let (set, source) = labels_for_recording(&recording, &annotations).unwrap();
    assert_eq!(source, LabelSource::Sidecar(sidecar.clone()));
    assert_eq!(set.labels, [Label::new(5.0, 1.0, "from sidecar")]);

    fs::write(&sidecar, b"onset\tduration\tx\n1\n").unwrap();
    let err = labels_for_recording(&recording, &annotations).unwrap_err();
    assert_eq!(err.path(), sidecar);
}

#[test]
fn csv_reads_quotes_and_any_column_order() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_file(
        dir.path(),
        "x_labels.csv",
        b"label,onset_s,note,duration_s\r\n\"a, b\",2.5,\"say \"\"hi\"\"\",1\r\nc,1,,n/a\r\n",
    );
    let set = read_labels_csv(&path).unwrap();
    assert_eq!(set.extra_columns, ["note"]);
    assert_eq!(
        set.labels,
        [
            Label {
                extra: vec![String::new()],
                ..Label::new(1.0, 0.0, "c")
            },
            Label {
                extra: vec!["say \"hi\"".into()],
                ..Label::new(2.5, 1.0, "a, b")
            },
        ]
    );
}

#[test]
fn csv_requires_its_header() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_file(dir.path(), "x.csv", b"onset_s,duration_s\n1,2\n");
    assert!(reason(read_labels_csv(&path).unwrap_err()).contains("no `label` column"));
    let path = write_file(
        dir.path(),
        "y.csv",
        b"onset\tduration\ttrial_type\n1\t2\ta\n",
    );
    assert!(reason(read_labels_csv(&path).unwrap_err()).contains("no `onset_s` column"));
    let path = write_file(dir.path(), "z.csv", b"onset_s,duration_s,label\n1,2\n");
    assert_eq!(
        reason(read_labels_csv(&path).unwrap_err()),
        "line 2: 2 columns, but the header has 3"
    );
}

#[test]
fn split_csv_line_cases() {
    assert_eq!(split_csv_line("a,b,,c"), ["a", "b", "", "c"]);
    assert_eq!(split_csv_line("\"x,y\",z"), ["x,y", "z"]);
    assert_eq!(split_csv_line("\"a\"\"b\""), ["a\"b"]);
    assert_eq!(split_csv_line(""), [""]);
}

#[test]
fn real_blink_label_csv_files() {
    let (Some(train), Some(test)) = (
        crate::testdata::path("eeg-blink/blink_train_labels.csv"),
        crate::testdata::path("eeg-blink/blink_test_labels.csv"),
    ) else {
        return;
    };
    let set = read_labels_csv(&train).unwrap();
    assert_eq!(set.len(), 500);
    assert!(set.extra_columns.is_empty());
    assert_eq!(set.classes(), ["LongBlink", "ShortBlink"]);
    assert_eq!(
        set.counts(),
        BTreeMap::from([
            ("LongBlink".to_owned(), 250),
            ("ShortBlink".to_owned(), 250)
        ])
    );
    assert_eq!(set.labels[0], Label::new(0.0, 2.0, "LongBlink"));
    assert!(set.labels.iter().all(|l| l.duration_s == 2.0));
    assert!(set.labels.windows(2).all(|w| w[0].order(&w[1]).is_le()));

    let set = read_labels_csv(&test).unwrap();
    assert_eq!(
        set.counts(),
        BTreeMap::from([
            ("LongBlink".to_owned(), 200),
            ("ShortBlink".to_owned(), 250)
        ])
    );

    // The CSV converts to an events.tsv and back without loss.
    let out = tempfile::tempdir().unwrap();
    let path = out.path().join("blink_test_events.tsv");
    write_events_tsv(&path, &set).unwrap();
    assert_eq!(read_events_tsv(&path).unwrap(), set);
}

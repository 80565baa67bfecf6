//! Tests of the workers.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use crossbeam_channel::bounded;
use eframe::egui;
use spindle_signals::recording::{Recording, write_edf};

use super::image::encode_png;
use super::run::run;
use super::waker::Waker;
use super::*;

#[test]
fn a_scan_lists_from_headers_and_stops_when_a_newer_one_is_asked_for() {
    use spindle_signals::recording::{Channel, EdfWriteOptions, Format, Segment};
    let dir = tempfile::tempdir().unwrap();
    for name in ["a.edf", "b.edf", "c.edf"] {
        let path = dir.path().join(name);
        let rec = Recording {
            path: path.clone(),
            format: Format::EdfPlusC,
            patient: String::new(),
            recording_id: String::new(),
            start: None,
            channels: vec![Channel {
                label: "Cz".into(),
                unit: "uV".into(),
                rate_hz: 100.0,
                physical_min: -1.0,
                physical_max: 1.0,
                transducer: String::new(),
                prefilter: String::new(),
                samples: vec![0.0; 1000],
            }],
            annotations: Vec::new(),
            segments: vec![Segment {
                onset_s: 0.0,
                duration_s: 10.0,
            }],
            warnings: Vec::new(),
        };
        write_edf(&path, &rec, &EdfWriteOptions::default()).unwrap();
    }
    let latest = Arc::new(AtomicU64::new(1));
    let ticket = || ScanTicket {
        mine: 1,
        latest: latest.clone(),
    };
    let root = dir.path().to_path_buf();
    let (tx, rx) = bounded(16);
    assert!(run(
        Command::Scan(root.clone(), ticket()),
        &tx,
        &Waker::default()
    ));
    let found: Vec<Entry> = rx
        .try_iter()
        .filter_map(|e| match e {
            Event::Found(_, entry) => Some(entry),
            _ => None,
        })
        .collect();
    assert_eq!(found.len(), 3);
    assert!(
        found
            .iter()
            .all(|e| e.channels == 1 && e.duration_s == 10.0)
    );
    // A newer scan was asked for: this one reports only that it ended.
    latest.store(2, Ordering::Relaxed);
    assert!(run(
        Command::Scan(root.clone(), ticket()),
        &tx,
        &Waker::default()
    ));
    let events: Vec<Event> = rx.try_iter().collect();
    assert!(matches!(events.as_slice(), [Event::ScanDone(r)] if *r == root));
}

#[test]
fn a_panic_while_saving_a_chart_is_reported_and_the_worker_goes_on() {
    // A chart region reaching past the screenshot makes egui's
    // `ColorImage::region` panic on a slice index.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("loss.png");
    let image = Arc::new(egui::ColorImage::filled([4, 4], egui::Color32::BLUE));
    let rect = egui::Rect::from_min_max(egui::pos2(0.0, 0.0), egui::pos2(40.0, 40.0));
    let (tx, rx) = bounded(4);
    let command = Command::SavePng {
        image,
        rect,
        pixels_per_point: 1.0,
        path: path.clone(),
    };
    assert!(run_guarded(command, &tx, &Waker::default()));
    match rx.try_recv().unwrap() {
        Event::WriteFailed { path: p, error } => {
            assert_eq!(p, path);
            let expected = format!(
                "{}: saving the chart as PNG stopped on an internal error (a bug in Spindle; please report it with this message): ",
                path.display()
            );
            assert!(error.starts_with(&expected), "{error}");
            assert!(error.contains("out of range"), "{error}");
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(!path.exists());
    // The same worker handles the next command.
    let bytes = b"ok".to_vec();
    let next = dir.path().join("next.csv");
    assert!(run_guarded(
        Command::WriteFile(next.clone(), bytes),
        &tx,
        &Waker::default()
    ));
    assert!(matches!(rx.try_recv().unwrap(), Event::Written(p) if p == next));
}

#[test]
fn a_panicking_scan_still_ends_the_scan() {
    let root = PathBuf::from("/data");
    let events = Task::Scan(root.clone()).failed(spindle_learn::jobs::Panicked {
        path: Some(root.clone()),
        doing: "scanning the folder".into(),
        message: "boom".into(),
    });
    assert!(
        matches!(&events[0], Event::Crashed(e) if e.starts_with("/data: scanning the folder stopped on an internal error"))
    );
    assert!(matches!(&events[1], Event::ScanDone(r) if *r == root));
}

#[test]
fn a_chart_region_is_saved_as_a_png_of_its_pixels() {
    // 4x2 points at 2 pixels per point: an 8x4 image, left half red.
    let mut image = egui::ColorImage::filled([8, 4], egui::Color32::BLUE);
    for y in 0..4 {
        for x in 0..4 {
            image.pixels[y * 8 + x] = egui::Color32::RED;
        }
    }
    let rect = egui::Rect::from_min_max(egui::pos2(0.0, 0.0), egui::pos2(2.0, 2.0));
    let bytes = encode_png(&image.region(&rect, Some(2.0))).unwrap();
    let decoder = png::Decoder::new(std::io::Cursor::new(bytes));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    assert_eq!((info.width, info.height), (4, 4));
    assert!(buf.chunks(4).all(|p| p == [255, 0, 0, 255]));
}

//! Tests of the scheduler: results reach the app in order, a panic becomes
//! a message naming the file and the work, a full lane refuses at once,
//! a newer scan makes an older one stale, and charts encode as PNG.

use std::path::Path;
use std::time::{Duration, Instant};

use crossbeam_channel::bounded;
use eframe::egui;

use super::*;

/// A stand-in for the app: what reached it.
#[derive(Default)]
struct Log(Vec<String>);

impl Host for Log {
    fn panicked(&mut self, panic: Panicked) {
        self.0.push(format!("panicked: {panic}"));
    }
}

/// Folds results into `log` until it holds `n` lines (at most 10 s).
fn wait(scheduler: &Scheduler<Log>, log: &mut Log, n: usize) {
    let started = Instant::now();
    while log.0.len() < n {
        assert!(started.elapsed() < Duration::from_secs(10), "{:?}", log.0);
        for done in scheduler.drain() {
            done(log);
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}

#[test]
fn results_are_folded_in_on_the_ui_side_in_order_and_busy_until_then() {
    let scheduler = Scheduler::<Log>::spawn();
    let mut log = Log::default();
    for k in 0..5 {
        scheduler
            .run(
                Lane::Work,
                None,
                "counting",
                move || k * 10,
                |log, v| {
                    log.0.push(v.to_string());
                },
            )
            .unwrap();
    }
    assert!(scheduler.is_busy(Lane::Work));
    assert!(!scheduler.is_busy(Lane::Scan));
    wait(&scheduler, &mut log, 5);
    assert_eq!(log.0, ["0", "10", "20", "30", "40"]);
    assert!(!scheduler.is_busy(Lane::Work));
}

#[test]
fn a_panic_names_the_file_and_the_work_and_the_lane_goes_on() {
    let scheduler = Scheduler::<Log>::spawn();
    let mut log = Log::default();
    let file = Path::new("/data/night.edf");
    scheduler
        .run(
            Lane::Load,
            Some(file),
            "opening the recording",
            || -> usize {
                let v: Vec<usize> = Vec::new();
                v[3]
            },
            |log, v| log.0.push(v.to_string()),
        )
        .unwrap();
    // A task with a failure value of its own gets the panic instead.
    scheduler
        .run_or(
            Lane::Load,
            Some(file),
            "exporting the recording",
            || panic!("boom"),
            |log: &mut Log, r: Result<(), Panicked>| {
                log.0.push(format!("own: {}", r.unwrap_err()));
            },
        )
        .unwrap();
    scheduler
        .run(
            Lane::Load,
            None,
            "next",
            || "next",
            |log, v| log.0.push(v.into()),
        )
        .unwrap();
    wait(&scheduler, &mut log, 3);
    assert_eq!(
        log.0[0],
        "panicked: /data/night.edf: opening the recording stopped on an internal error (a bug in Spindle; please report it with this message): index out of bounds: the len is 0 but the index is 3"
    );
    assert!(
        log.0[1].starts_with(
            "own: /data/night.edf: exporting the recording stopped on an internal error"
        ) && log.0[1].ends_with(": boom"),
        "{}",
        log.0[1]
    );
    assert_eq!(log.0[2], "next");
    assert!(!scheduler.is_busy(Lane::Load));
}

#[test]
fn a_full_lane_refuses_at_once_and_takes_work_again_once_drained() {
    let scheduler = Scheduler::<Log>::spawn();
    let mut log = Log::default();
    let (release, hold) = bounded::<()>(1);
    let (taken, on_thread) = bounded::<()>(1);
    // The first task holds the lane's thread; 16 more fill its queue.
    scheduler
        .run(
            Lane::Work,
            None,
            "waiting",
            move || {
                let _ = taken.send(());
                hold.recv().is_ok()
            },
            |log, _| log.0.push("held".into()),
        )
        .unwrap();
    on_thread.recv().unwrap();
    let started = Instant::now();
    let mut queued = 0;
    let refused = loop {
        match scheduler.run(
            Lane::Work,
            None,
            "filling",
            || (),
            |log, ()| {
                log.0.push("filled".into());
            },
        ) {
            Ok(()) => queued += 1,
            Err(e) => break e,
        }
        assert!(queued <= LANE_CAPACITY, "the queue is bounded");
    };
    assert!(started.elapsed() < Duration::from_secs(1), "no wait");
    assert_eq!(refused, "too many jobs queued; try again in a moment");
    assert_eq!(queued, LANE_CAPACITY);
    // Other lanes are not held up.
    scheduler
        .run(
            Lane::Read,
            None,
            "reading",
            || (),
            |log, ()| log.0.push("read".into()),
        )
        .unwrap();
    wait(&scheduler, &mut log, 1);
    assert_eq!(log.0, ["read"]);
    release.send(()).unwrap();
    wait(&scheduler, &mut log, 2 + LANE_CAPACITY);
    scheduler
        .run(
            Lane::Work,
            None,
            "again",
            || (),
            |log, ()| log.0.push("again".into()),
        )
        .unwrap();
    wait(&scheduler, &mut log, 3 + LANE_CAPACITY);
    assert_eq!(log.0.last().unwrap(), "again");
}

#[test]
fn a_streaming_task_delivers_as_it_goes_and_a_newer_scan_makes_the_older_stale() {
    let scheduler = Scheduler::<Log>::spawn();
    let mut log = Log::default();
    let older = scheduler.newer_scan();
    assert!(!older.is_stale());
    scheduler
        .stream(
            Lane::Scan,
            Some(Path::new("/data")),
            "scanning the folder",
            |delivery| {
                for k in 0..3 {
                    delivery.send(move |log: &mut Log| log.0.push(format!("found {k}")));
                }
                Box::new(|log: &mut Log| log.0.push("done".into()))
            },
            |panic| Box::new(move |log: &mut Log| log.0.push(panic.to_string())),
        )
        .unwrap();
    wait(&scheduler, &mut log, 4);
    assert_eq!(log.0, ["found 0", "found 1", "found 2", "done"]);
    let newer = scheduler.newer_scan();
    assert!(older.is_stale() && !newer.is_stale());
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

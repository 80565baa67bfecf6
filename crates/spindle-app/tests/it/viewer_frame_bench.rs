//! Frame time of the real app's viewer with display filters on: a 10-s
//! window of 64 channels scrolled a tenth of a second per frame, timing the
//! whole frame as eframe runs it (logic, drawing, and egui's tessellation of
//! the shapes into triangles) but not the GPU's painting. A timing
//! benchmark, not a check:
//!
//!     cargo test --release -p spindle-app --test it viewer_frame_bench -- --ignored --nocapture

use std::path::{Path, PathBuf};
use std::time::Instant;

use eframe::egui;
use spindle_app::gui::{AppCommand, Settings, SpindleApp};
use spindle_signals::dsp::DisplayFilter;

use crate::support::write_64_channels;

/// Ten minutes of 64 channels at 256 Hz (read whole: under the on-demand size).
fn write_recording(dir: &Path) -> PathBuf {
    let path = dir.join("64ch.edf");
    let rate_hz = 256.0;
    write_64_channels(&path, 600.0, |c, i| {
        let t = i as f64 / rate_hz;
        (30.0 * (t * 10.0 * std::f64::consts::TAU).sin()
            + 20.0 * (t * 50.0 * std::f64::consts::TAU).sin()
            + 10.0 * ((i * 7919 + c * 104_729) % 1000) as f64 / 1000.0) as f32
    });
    path
}

fn percentile(sorted_ms: &[f64], p: f64) -> f64 {
    sorted_ms[((sorted_ms.len() - 1) as f64 * p).round() as usize]
}

#[test]
#[ignore = "a timing benchmark; run it with --ignored --nocapture"]
fn viewer_frames_with_filters_on_64_channels() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_recording(dir.path());
    let on = DisplayFilter {
        highpass_hz: Some(0.5),
        lowpass_hz: Some(35.0),
        notch_hz: Some(50.0),
    };
    for (title, filter) in [
        ("filters on (0.5-35 Hz + 50 Hz notch)", on),
        ("filters off", DisplayFilter::default()),
    ] {
        println!("10-s window, 64 channels, scrolling, {title}:");
        frames(&path, filter);
    }
}

/// Opens `path` in the app with `filter` and prints the frame times of
/// 300 frames scrolling a 10-s window.
fn frames(path: &Path, filter: DisplayFilter) {
    let path = path.to_path_buf();
    let settings = Settings {
        filter,
        ..Settings::default()
    };
    let mut app = SpindleApp::new(vec![path.clone()], settings);
    let ctx = egui::Context::default();
    let input = || egui::RawInput {
        screen_rect: Some(egui::Rect::from_min_size(
            egui::Pos2::ZERO,
            egui::vec2(1600.0, 1000.0),
        )),
        ..Default::default()
    };
    let started = Instant::now();
    while app.parts().recording.path().is_none() || app.is_busy() {
        assert!(
            started.elapsed().as_secs() < 30,
            "the recording did not open"
        );
        let _ = ctx.run_ui(input(), |ui| {
            app.run_logic(ui.ctx());
            app.show(ui);
        });
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    let span_s = 10.0;
    let (mut ui_ms, mut tess_ms, mut frame_ms) = (Vec::new(), Vec::new(), Vec::new());
    for frame in 0..300 {
        let start_s = 10.0 + frame as f64 * 0.1;
        // JumpTo shows three times the duration, starting one duration early.
        app.command(AppCommand::JumpTo {
            file: path.clone(),
            onset_s: start_s + span_s / 3.0,
            duration_s: span_s / 3.0,
        });
        let t0 = Instant::now();
        let output = ctx.run_ui(input(), |ui| {
            app.run_logic(ui.ctx());
            app.show(ui);
        });
        let t1 = Instant::now();
        let triangles = ctx.tessellate(output.shapes, output.pixels_per_point);
        let t2 = Instant::now();
        assert!(!triangles.is_empty());
        ui_ms.push((t1 - t0).as_secs_f64() * 1e3);
        tess_ms.push((t2 - t1).as_secs_f64() * 1e3);
        frame_ms.push((t2 - t0).as_secs_f64() * 1e3);
    }
    assert_eq!(app.parts().recording.visible_channels().len(), 64);
    for (name, v) in [
        ("logic + ui", &mut ui_ms),
        ("tessellation", &mut tess_ms),
        ("whole frame", &mut frame_ms),
    ] {
        // The first frames warm caches and fonts.
        let v = &mut v[20..].to_vec();
        v.sort_by(f64::total_cmp);
        let mean = v.iter().sum::<f64>() / v.len() as f64;
        println!(
            "{name:>13}: mean {mean:.2} ms, median {:.2}, p99 {:.2}, worst {:.2} ({} frames)",
            percentile(v, 0.5),
            percentile(v, 0.99),
            v[v.len() - 1],
            v.len()
        );
    }
}

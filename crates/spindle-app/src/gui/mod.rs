//! The desktop app (eframe): a recordings browser, a signal viewer built on
//! [`spindle_signals::dsp`] pyramids, labeling built on [`spindle_signals::labeling`], and
//! training, results and runs built on [`spindle_learn::jobs`], [`spindle_learn::train`] and
//! [`spindle_learn::runs`]. One module per panel; panels push [`AppCommand`]s that
//! the shell drains (errors too, as [`AppError`] values); no computation here
//! beyond drawing.

mod about;
mod app;
mod browser;
mod channels;
pub mod command;
mod compare;
mod cv_table;
mod error;
mod explain;
mod frame_stats;
mod glossary;
mod hypnogram;
mod keys;
mod labels;
mod lanes;
mod listen;
mod palette;
mod recovery;
mod results;
mod ribbons;
mod runs;
mod runs_list;
mod session;
mod settings;
mod spectrum;
mod start;
mod suggestions;
pub mod sweep_view;
mod tracked;
pub mod training;
mod viewer;
mod worker;

use std::path::PathBuf;

pub use app::{
    CrossValidation, Derived, LaneInfo, OpenRecording, Parts, RunsPart, Shell, SpindleApp,
    TrainingPart,
};
pub use command::{AppCommand, ReviewStep, Tab};
pub use compare::{Agreement, Comparison, Review};
pub use error::AppError;
pub use frame_stats::FrameStats;
pub use glossary::TERMS;
pub use hypnogram::Night;
pub use runs_list::SortKey;
pub use settings::{RunsListSettings, Settings, ThemeChoice};
pub use spindle_signals::viewing::Entry;
pub use viewer::{Ribbon, RibbonSpan};

/// How the app starts.
#[derive(Debug, Clone, Default)]
pub struct Launch {
    /// Recordings or folders to open (the start screen when empty).
    pub paths: Vec<PathBuf>,
    /// The runs folder given on the command line; `None`: the one in the
    /// settings, else the platform data folder.
    pub runs_dir: Option<PathBuf>,
    /// Start the demo at once, in presentation mode.
    pub demo: bool,
    /// Print frame-time statistics when the window closes.
    pub frame_stats: bool,
}

/// The sample data the app opens (the user's writable copy of an installed
/// one; see [`spindle_learn::sample_data::for_app`]), or `None` when it can
/// be neither found nor written.
pub fn find_sample_data() -> Option<PathBuf> {
    spindle_learn::sample_data::for_app().ok()
}

/// The window icon: the project's icon (`assets/spindle.svg`, rendered by
/// `packaging/render-icons.sh`) at 128 px.
fn window_icon() -> Option<std::sync::Arc<eframe::egui::IconData>> {
    const PNG: &[u8] = include_bytes!("../../../../assets/icons/spindle-128.png");
    eframe::icon_data::from_png_bytes(PNG)
        .ok()
        .map(std::sync::Arc::new)
}

/// Caps glibc's malloc at two arenas. The app's threads (loading, the
/// overview, read-ahead, training) each free large buffers into an arena
/// of their own by default, which then stays mapped. Measured with
/// `tools/measure_open.sh` on a 1-hour 64-channel file (three runs each),
/// the peak resident memory while scrolling fell from 247-256 MB to
/// 190-237 MB.
///
/// Also keeps the buffers a frame allocates and frees (the app's and egui's
/// vertex lists, Mesa's software renderer's) mapped from one frame to the
/// next: allocations up to 8 MiB come from the heap, and up to 32 MiB of
/// free heap stay mapped. By default glibc returned them to the system at
/// each frame's end and page-faulted them back in the next (half of the UI
/// thread's time went to the kernel): measured with `tools/measure_open.sh`
/// and display filters on (four alternating pairs, a loaded 2-core
/// machine), the median UI-thread CPU time per frame fell from 11.8-21.8 ms
/// to 10.1-14.2 ms, for about 20 MB more peak resident memory.
fn tune_malloc() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes tuning parameters of the allocator; it is
    // called before the app starts its threads.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 2);
        libc::mallopt(libc::M_MMAP_THRESHOLD, 8 << 20);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 32 << 20);
        libc::mallopt(libc::M_TOP_PAD, 8 << 20);
    }
}

/// Opens the main window as `launch` says and returns when it is closed.
pub fn run(launch: Launch) -> anyhow::Result<()> {
    let Launch {
        paths,
        runs_dir,
        demo,
        frame_stats,
    } = launch;
    tune_malloc();
    let mut options = eframe::NativeOptions {
        viewport: eframe::egui::ViewportBuilder::default()
            .with_title("Spindle")
            // The desktop entry's StartupWMClass, so the window gets its
            // icon and groups with the launcher.
            .with_app_id("spindle")
            .with_inner_size([1280.0, 800.0])
            .with_drag_and_drop(true),
        ..Default::default()
    };
    if let Some(icon) = window_icon() {
        options.viewport = options.viewport.with_icon(icon);
    }
    eframe::run_native(
        "Spindle",
        options,
        Box::new(move |cc| {
            let settings = cc
                .storage
                .and_then(|s| eframe::get_value(s, eframe::APP_KEY))
                .unwrap_or_default();
            let mut app = SpindleApp::new(paths, settings).with_runs_dir(runs_dir);
            if frame_stats {
                app = app.with_frame_stats();
            }
            if demo {
                app.start_demo();
            }
            Ok(Box::new(app))
        }),
    )
    .map_err(|e| anyhow::anyhow!("could not open the window: {e}"))
}

//! UI settings kept between runs (eframe persistence).

use std::path::{Path, PathBuf};

use spindle_signals::dsp::DisplayFilter;

use super::runs_list::SortKey;

/// How many recent files and folders are remembered.
const MAX_RECENT: usize = 10;

/// The color theme.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub enum ThemeChoice {
    /// Follow the operating system.
    #[default]
    System,
    /// Light.
    Light,
    /// Dark.
    Dark,
}

/// Everything the app remembers between runs.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct Settings {
    /// The color theme.
    pub theme: ThemeChoice,
    /// Recently opened files and folders, newest first.
    pub recent: Vec<PathBuf>,
    /// The viewer's display filters.
    pub filter: DisplayFilter,
    /// Seconds shown across the viewer when a recording opens.
    pub window_s: f64,
    /// Page length of epoch-scoring mode, seconds.
    pub page_s: f64,
    /// Whether scoring an epoch moves to the next one.
    pub auto_advance: bool,
    /// Whether the spectrum panel is shown.
    pub show_spectrum: bool,
    /// Whether the label panel is shown.
    pub show_labels: bool,
    /// The runs folder; `None`: the platform data folder.
    pub runs_dir: Option<PathBuf>,
    /// The audio output device (an ALSA PCM name on Linux); `None`: the default.
    pub audio_device: Option<String>,
    /// The Runs view's list as the user left it.
    pub runs_list: RunsListSettings,
}

/// The Runs view's order and filter, kept between sessions.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct RunsListSettings {
    /// The column sorted by.
    pub sort: SortKey,
    /// Largest (newest, best) first.
    pub descending: bool,
    /// What the filter field held.
    pub filter: String,
}

impl Default for RunsListSettings {
    fn default() -> Self {
        Self {
            sort: SortKey::Date,
            descending: true,
            filter: String::new(),
        }
    }
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            theme: ThemeChoice::System,
            recent: Vec::new(),
            filter: DisplayFilter::default(),
            window_s: 10.0,
            page_s: 30.0,
            auto_advance: true,
            show_spectrum: false,
            show_labels: true,
            runs_dir: None,
            audio_device: None,
            runs_list: RunsListSettings::default(),
        }
    }
}

impl Settings {
    /// Puts `path` first in the recent list (once), keeping at most ten.
    pub fn push_recent(&mut self, path: &Path) {
        self.recent.retain(|p| p != path);
        self.recent.insert(0, path.to_path_buf());
        self.recent.truncate(MAX_RECENT);
    }
}

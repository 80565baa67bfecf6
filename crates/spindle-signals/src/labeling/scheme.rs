//! The label set of a folder: class names, colors and hotkeys 1-9, saved as
//! `spindle_labels.json` in the folder.

use std::path::{Path, PathBuf};

use crate::recording::{RecordingError, write_atomic};

/// File name of a folder's label scheme.
pub const SCHEME_FILE: &str = "spindle_labels.json";

/// One class of label.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LabelClass {
    /// The name written as `trial_type`.
    pub name: String,
    /// Display color, sRGB.
    pub color: [u8; 3],
    /// Hotkey digit 0-9, if any (new classes get 1-9; 0 is for schemes
    /// such as the sleep stages', where W is 0).
    pub hotkey: Option<u8>,
}

/// The classes a folder's labels use, in display order.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct LabelScheme {
    /// The classes; names are unique.
    pub classes: Vec<LabelClass>,
}

/// Distinct colors for new classes, sRGB.
const PALETTE: [[u8; 3]; 10] = [
    [31, 119, 180],
    [255, 127, 14],
    [44, 160, 44],
    [214, 39, 40],
    [148, 103, 189],
    [140, 86, 75],
    [227, 119, 194],
    [127, 127, 127],
    [188, 189, 34],
    [23, 190, 207],
];

impl LabelScheme {
    /// The scheme file of `folder`.
    pub fn path_in(folder: &Path) -> PathBuf {
        folder.join(SCHEME_FILE)
    }

    /// Reads `folder`'s scheme; an absent file gives an empty scheme.
    pub fn load(folder: &Path) -> Result<Self, RecordingError> {
        crate::io_guard::note(folder);
        let path = Self::path_in(folder);
        match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map_err(|e| RecordingError::invalid(&path, format!("not a label scheme: {e}"))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Self::default()),
            Err(e) => Err(RecordingError::io(&path, e)),
        }
    }

    /// Writes the scheme into `folder`, atomically.
    pub fn save(&self, folder: &Path) -> Result<(), RecordingError> {
        crate::io_guard::note(folder);
        let path = Self::path_in(folder);
        let text = serde_json::to_string_pretty(self)
            .map_err(|e| RecordingError::invalid(&path, e.to_string()))?;
        write_atomic(&path, text.as_bytes())
    }

    /// The class named `name`, if present.
    pub fn get(&self, name: &str) -> Option<&LabelClass> {
        self.classes.iter().find(|c| c.name == name)
    }

    /// The class with hotkey `digit` (0-9), if any.
    pub fn by_hotkey(&self, digit: u8) -> Option<&LabelClass> {
        self.classes.iter().find(|c| c.hotkey == Some(digit))
    }

    /// Adds a class named `name` (with the next palette color and the lowest
    /// free hotkey) unless present; true when added.
    pub fn ensure(&mut self, name: &str) -> bool {
        if name.is_empty() || self.get(name).is_some() {
            return false;
        }
        let color = PALETTE[self.classes.len() % PALETTE.len()];
        let hotkey = (1..=9u8).find(|d| self.by_hotkey(*d).is_none());
        self.classes.push(LabelClass {
            name: name.to_owned(),
            color,
            hotkey,
        });
        true
    }

    /// The color of class `name`: its own, or gray for unknown classes.
    pub fn color_of(&self, name: &str) -> [u8; 3] {
        self.get(name).map_or([128, 128, 128], |c| c.color)
    }

    /// Sets the hotkey of class `index` to `digit`, taking it from any other class.
    pub fn set_hotkey(&mut self, index: usize, digit: Option<u8>) {
        if digit.is_some() {
            for c in &mut self.classes {
                if c.hotkey == digit {
                    c.hotkey = None;
                }
            }
        }
        if let Some(c) = self.classes.get_mut(index) {
            c.hotkey = digit;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ensure_assigns_hotkeys_and_round_trips() {
        let mut s = LabelScheme::default();
        assert!(s.ensure("blink"));
        assert!(!s.ensure("blink"));
        s.ensure("jaw");
        assert_eq!(s.by_hotkey(2).map(|c| c.name.as_str()), Some("jaw"));
        s.set_hotkey(0, Some(2));
        assert_eq!(s.by_hotkey(2).map(|c| c.name.as_str()), Some("blink"));
        assert_eq!(s.get("jaw").and_then(|c| c.hotkey), None);
        let dir = tempfile::tempdir().unwrap();
        s.save(dir.path()).unwrap();
        assert_eq!(LabelScheme::load(dir.path()).unwrap(), s);
        assert_eq!(
            LabelScheme::load(&dir.path().join("none")).unwrap(),
            LabelScheme::default()
        );
    }
}

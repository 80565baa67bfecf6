//! The sleep lab's label scheme: W, N1, N2, N3 and REM in hypnogram order,
//! with the colors of [`SleepStage::color`] and the keys sleep labs use
//! ([`SleepStage::hotkey`]: W 0, N1 1, N2 2, N3 3, REM 5), instead of the
//! alphabetical 1-5 that adding the classes one by one gives.

use super::stage::{SleepStage, StageName, parse_stage};
use crate::labeling::{LabelClass, LabelScheme};

/// The sleep-stage classes alone.
pub fn sleep_label_scheme() -> LabelScheme {
    LabelScheme {
        classes: SleepStage::ALL
            .into_iter()
            .map(|s| LabelClass {
                name: s.name().to_owned(),
                color: s.color(),
                hotkey: Some(s.hotkey()),
            })
            .collect(),
    }
}

/// `scheme` with the sleep-stage classes first (their conventional colors
/// and keys), then its other classes in their order, keeping their colors;
/// a hotkey of theirs that a stage now uses is dropped.
pub fn with_sleep_stages(scheme: &LabelScheme) -> LabelScheme {
    let mut out = sleep_label_scheme();
    for class in &scheme.classes {
        if out.get(&class.name).is_some() {
            continue;
        }
        let hotkey = class.hotkey.filter(|d| out.by_hotkey(*d).is_none());
        out.classes.push(LabelClass {
            hotkey,
            ..class.clone()
        });
    }
    out
}

/// Whether one of `classes` (label names) names a sleep stage
/// ([`parse_stage`]): labels with such a class are a sleep scoring.
pub fn names_a_stage(classes: &[String]) -> bool {
    classes
        .iter()
        .any(|c| matches!(parse_stage(c), Some(StageName::Stage(_))))
}

/// The classes a recording offers: its folder's `saved` scheme, with the
/// sleep stages first ([`with_sleep_stages`]) when its label `classes` are a
/// sleep scoring ([`names_a_stage`]) and `saved` lacks a stage, then the
/// labels' other classes (each with the next free hotkey).
pub fn recording_scheme(saved: &LabelScheme, classes: &[String]) -> LabelScheme {
    let has_stages = SleepStage::ALL
        .iter()
        .all(|s| saved.get(s.name()).is_some());
    let mut scheme = if names_a_stage(classes) && !has_stages {
        with_sleep_stages(saved)
    } else {
        saved.clone()
    };
    for class in classes {
        scheme.ensure(class);
    }
    scheme
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stages_get_the_keys_of_sleep_labs_and_other_classes_follow() {
        let s = sleep_label_scheme();
        let keys: Vec<(&str, Option<u8>)> = s
            .classes
            .iter()
            .map(|c| (c.name.as_str(), c.hotkey))
            .collect();
        assert_eq!(
            keys,
            [
                ("W", Some(0)),
                ("N1", Some(1)),
                ("N2", Some(2)),
                ("N3", Some(3)),
                ("REM", Some(5))
            ]
        );
        assert_eq!(s.by_hotkey(0).map(|c| c.name.as_str()), Some("W"));
        assert_eq!(s.by_hotkey(4), None);
        // What the app builds today from a night's labels: alphabetical.
        let mut today = LabelScheme::default();
        for c in ["N1", "N2", "N3", "REM", "W", "arousal"] {
            today.ensure(c);
        }
        let merged = with_sleep_stages(&today);
        assert_eq!(merged.classes.len(), 6);
        assert_eq!(merged.get("W").and_then(|c| c.hotkey), Some(0));
        let arousal = merged.get("arousal").unwrap();
        assert_eq!(arousal.hotkey, Some(6), "its 6 is free");
        assert_eq!(arousal.color, today.get("arousal").unwrap().color);
        let mut clash = LabelScheme::default();
        clash.ensure("spindle");
        assert_eq!(
            with_sleep_stages(&clash).get("spindle").unwrap().hotkey,
            None
        );
    }

    #[test]
    fn a_recording_offers_its_folders_scheme_and_its_own_classes() {
        let names = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        let night = recording_scheme(
            &LabelScheme::default(),
            &names(&["N1", "N2", "N3", "REM", "W"]),
        );
        assert_eq!(night, sleep_label_scheme());
        let hypnogram = recording_scheme(&LabelScheme::default(), &names(&["Sleep stage W"]));
        assert_eq!(hypnogram.by_hotkey(0).map(|c| c.name.as_str()), Some("W"));
        assert_eq!(hypnogram.classes[5].name, "Sleep stage W");
        let calls = recording_scheme(&LabelScheme::default(), &names(&["trill"]));
        assert_eq!(calls.classes.len(), 1);
        assert!(!names_a_stage(&names(&["trill", "blink"])));
        // A folder's own keys for the stages are kept.
        let mut saved = sleep_label_scheme();
        saved.set_hotkey(0, Some(9));
        let kept = recording_scheme(&saved, &names(&["W", "arousal"]));
        assert_eq!(kept.get("W").and_then(|c| c.hotkey), Some(9));
        assert_eq!(kept.get("arousal").and_then(|c| c.hotkey), Some(4));
    }
}

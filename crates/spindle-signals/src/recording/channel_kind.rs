//! What a channel measures (EEG, EOG, EMG, ECG or something else), from a
//! BIDS `channels.tsv` where there is one and otherwise from the channel's
//! name and unit, as sleep and EEG viewers guess it: `EEG Fpz-Cz`,
//! `EOG horizontal`, `EMG submental`, a 10-20/10-10 electrode (`Cz`, `AF3`)
//! or a bipolar pair of them (`Fpz-Cz`, `C4-M1`).

use std::fmt;
use std::path::Path;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::bids::{channels_tsv_path, read_channels_tsv};
use super::{Recording, RecordingError};

/// What a channel measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChannelKind {
    /// Electroencephalogram: the brain.
    Eeg,
    /// Electrooculogram: eye movements and blinks.
    Eog,
    /// Electromyogram: muscle tone (the chin in sleep recordings).
    Emg,
    /// Electrocardiogram: the heart.
    Ecg,
    /// Anything else: respiration, temperature, sound, markers, unknown names.
    Other,
}

impl ChannelKind {
    /// Every kind, in display order.
    pub const ALL: [ChannelKind; 5] = [Self::Eeg, Self::Eog, Self::Emg, Self::Ecg, Self::Other];

    /// The kind a BIDS `channels.tsv` `type` names (`EEG`, `EOG`, `HEOG`,
    /// `VEOG`, `EMG`, `ECG`, `EKG`; any case); `Other` for the rest (`MISC`,
    /// `RESP`, `TRIG`, ...).
    pub fn from_bids_type(kind: &str) -> Self {
        match kind.trim().to_ascii_uppercase().as_str() {
            "EEG" => Self::Eeg,
            "EOG" | "HEOG" | "VEOG" => Self::Eog,
            "EMG" => Self::Emg,
            "ECG" | "EKG" => Self::Ecg,
            _ => Self::Other,
        }
    }

    /// The kind a channel's label and unit suggest. A unit that is not a
    /// voltage (`degC`, `%`, a WAV's none at audio rates is left to the
    /// caller) makes it `Other`; an empty unit does not decide.
    pub fn guess(label: &str, unit: &str) -> Self {
        let unit = unit.trim();
        if !unit.is_empty() && !is_voltage(unit) {
            return Self::Other;
        }
        let lower = label.trim().to_ascii_lowercase();
        let words: Vec<&str> = lower
            .split(|c: char| !c.is_ascii_alphanumeric())
            .filter(|w| !w.is_empty())
            .collect();
        let has = |prefixes: &[&str]| {
            words
                .iter()
                .any(|w| prefixes.iter().any(|p| w.starts_with(p)))
        };
        // The type word, where the file names one, decides first.
        let eye_electrode = words
            .iter()
            .any(|w| matches!(*w, "e1" | "e2" | "loc" | "roc"));
        if eye_electrode || has(&["eog", "heog", "veog"]) {
            return Self::Eog;
        }
        if has(&["emg", "chin", "leg", "submental"]) {
            return Self::Emg;
        }
        if has(&["ecg", "ekg"]) {
            return Self::Ecg;
        }
        if has(&["eeg"]) {
            return Self::Eeg;
        }
        let electrodes: Vec<&str> = label
            .trim()
            .split(['-', ':', '/'])
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .collect();
        if !electrodes.is_empty()
            && electrodes.len() <= 2
            && electrodes.iter().all(|e| is_electrode(e))
        {
            return Self::Eeg;
        }
        Self::Other
    }

    /// The amplitude, in µV, that fills half of a channel's lane when a
    /// recording is first shown, so that the usual waves of each kind stay
    /// inside their lane: EEG 100 µV (the slow waves of deep sleep, over
    /// 75 µV peak to peak, reach the lane's edge), eye movements 100 µV,
    /// chin tone 50 µV, the heart 500 µV. `None` for `Other`, which is
    /// scaled from its samples.
    pub fn standard_half_lane_uv(self) -> Option<f64> {
        match self {
            Self::Eeg => Some(100.0),
            Self::Eog => Some(100.0),
            Self::Emg => Some(50.0),
            Self::Ecg => Some(500.0),
            Self::Other => None,
        }
    }

    /// The kind's usual short name (`EEG`, `EOG`, `EMG`, `ECG`, `other`).
    pub fn name(self) -> &'static str {
        match self {
            Self::Eeg => "EEG",
            Self::Eog => "EOG",
            Self::Emg => "EMG",
            Self::Ecg => "ECG",
            Self::Other => "other",
        }
    }
}

impl fmt::Display for ChannelKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A kind name that is none of `eeg`, `eog`, `emg`, `ecg`, `other`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown channel type {0:?} (expected eeg, eog, emg, ecg or other)")]
pub struct UnknownChannelKind(pub String);

impl FromStr for ChannelKind {
    type Err = UnknownChannelKind;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|k| k.name().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| UnknownChannelKind(s.trim().to_string()))
    }
}

/// The kind of each channel of `recording`, in its order: from the BIDS
/// `channels.tsv` beside it where that names the channel, else guessed from
/// the label and unit ([`ChannelKind::guess`]). Channels at audio rates are
/// `Other`.
pub fn channel_kinds(recording: &Recording) -> Result<Vec<ChannelKind>, RecordingError> {
    let typed = bids_types(&recording.path)?;
    Ok(recording
        .channels
        .iter()
        .map(|c| {
            if c.rate_hz >= super::AUDIO_RATE_HZ {
                return ChannelKind::Other;
            }
            typed
                .iter()
                .find(|(name, _)| name == &c.label)
                .map_or_else(|| ChannelKind::guess(&c.label, &c.unit), |(_, k)| *k)
        })
        .collect())
}

/// The `(name, kind)` pairs a BIDS `channels.tsv` gives for `recording`
/// (empty without one, or for rows without a type).
fn bids_types(recording: &Path) -> Result<Vec<(String, ChannelKind)>, RecordingError> {
    match channels_tsv_path(recording) {
        Some(p) if p.is_file() => Ok(read_channels_tsv(&p)?
            .into_iter()
            .filter(|c| !c.kind.is_empty())
            .map(|c| {
                let kind = ChannelKind::from_bids_type(&c.kind);
                (c.name, kind)
            })
            .collect()),
        _ => Ok(Vec::new()),
    }
}

/// True for volt units with an SI prefix (`uV`, `µV`, `mV`, `V`, `nV`).
fn is_voltage(unit: &str) -> bool {
    microvolts_per_unit(unit).is_some()
}

/// How many µV one `unit` is (`V`: 1,000,000, `mV`: 1,000, `uV`/`µV`: 1,
/// `nV`: 0.001); `None` for a unit that is not a voltage.
pub fn microvolts_per_unit(unit: &str) -> Option<f64> {
    match unit.trim() {
        "V" => Some(1e6),
        "mV" => Some(1e3),
        "uV" | "µV" | "μV" | "microV" | "microvolt" | "microvolts" => Some(1.0),
        "nV" => Some(1e-3),
        _ => None,
    }
}

/// True for a 10-20/10-10 electrode name (`Cz`, `Fp1`, `AF3`, `T3`, `M1`,
/// `A2`, `Iz`, `Nz`; any case; not the eye electrodes `E1`/`E2`): a site prefix, then `z` or a number.
fn is_electrode(name: &str) -> bool {
    const SITES: [&str; 16] = [
        "fp", "af", "ft", "fc", "tp", "cp", "po", "f", "c", "t", "p", "o", "i", "n", "a", "m",
    ];
    let lower = name.to_ascii_lowercase();
    SITES.iter().any(|site| {
        lower.strip_prefix(site).is_some_and(|rest| {
            rest == "z"
                || (!rest.is_empty() && rest.len() <= 2 && rest.bytes().all(|b| b.is_ascii_digit()))
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_of_sleep_and_eeg_files_are_recognized() {
        use ChannelKind::*;
        let cases = [
            ("EEG Fpz-Cz", "uV", Eeg),
            ("Fpz-Cz", "uV", Eeg),
            ("Pz-Oz", "uV", Eeg),
            ("C4-M1", "uV", Eeg),
            ("C3:A2", "", Eeg),
            ("AF3", "uV", Eeg),
            ("Cz", "", Eeg),
            ("T3", "uV", Eeg),
            ("EOG horizontal", "uV", Eog),
            ("E1-M2", "uV", Eog),
            ("LOC-A2", "uV", Eog),
            ("HEOG", "uV", Eog),
            ("EMG submental", "uV", Emg),
            ("Chin1-Chin2", "uV", Emg),
            ("ECG II", "mV", Ecg),
            ("EKG", "uV", Ecg),
            ("Resp oro-nasal", "", Other),
            ("Temp rectal", "DegC", Other),
            ("Event marker", "", Other),
            ("SpO2", "%", Other),
            ("Fp1", "%", Other),
            ("Status", "Boolean", Other),
            ("Channel 1", "", Other),
            ("Fpz-Cz-Oz", "uV", Other),
        ];
        for (label, unit, want) in cases {
            assert_eq!(ChannelKind::guess(label, unit), want, "{label} [{unit}]");
        }
    }

    #[test]
    fn bids_types_map_to_kinds() {
        use ChannelKind::*;
        for (t, want) in [
            ("EEG", Eeg),
            ("veog", Eog),
            ("HEOG", Eog),
            ("EMG", Emg),
            ("ECG", Ecg),
            ("MISC", Other),
            ("", Other),
        ] {
            assert_eq!(ChannelKind::from_bids_type(t), want, "{t}");
        }
    }

    #[test]
    fn kinds_parse_from_their_names() {
        assert_eq!("eeg".parse::<ChannelKind>(), Ok(ChannelKind::Eeg));
        assert_eq!(" EOG ".parse::<ChannelKind>(), Ok(ChannelKind::Eog));
        assert_eq!(
            "eeeg".parse::<ChannelKind>(),
            Err(UnknownChannelKind("eeeg".into()))
        );
        for k in ChannelKind::ALL {
            assert_eq!(k.to_string().parse::<ChannelKind>(), Ok(k));
        }
    }

    #[test]
    fn channels_tsv_types_win_over_names() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub-01_task-x_eeg.edf");
        std::fs::write(
            dir.path().join("sub-01_task-x_channels.tsv"),
            "name\ttype\tunits\nFp1\tEOG\tuV\nX7\tEMG\tuV\n",
        )
        .unwrap();
        let channel = |label: &str, rate_hz: f64| crate::recording::Channel {
            unit: "uV".into(),
            ..crate::recording::Channel::new(label, rate_hz, Vec::new())
        };
        let recording = Recording {
            path,
            ..Recording::from_channels(vec![
                channel("Fp1", 256.0),
                channel("X7", 256.0),
                channel("Cz", 256.0),
                channel("Cz", 44_100.0),
            ])
        };
        use ChannelKind::*;
        assert_eq!(
            channel_kinds(&recording).unwrap(),
            vec![Eog, Emg, Eeg, Other]
        );
    }
}

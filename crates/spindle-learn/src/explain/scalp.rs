//! Standard 10-20 / 10-10 electrode positions by channel label, for scalp
//! maps: the table ships in `assets/electrodes_10-10.tsv` (how it was
//! computed is written at its top).

use std::collections::BTreeMap;
use std::sync::OnceLock;

/// The table: `label x y` lines after `#` comments and a header.
const POSITIONS_TSV: &str = include_str!("../../../../assets/electrodes_10-10.tsv");

/// Older 10-20 names and the 10-10 names of the same places.
const OLD_NAMES: [(&str, &str); 4] = [("t3", "t7"), ("t4", "t8"), ("t5", "p7"), ("t6", "p8")];

/// Positions by lower-case label.
fn table() -> &'static BTreeMap<String, (f32, f32)> {
    static TABLE: OnceLock<BTreeMap<String, (f32, f32)>> = OnceLock::new();
    TABLE.get_or_init(|| {
        POSITIONS_TSV
            .lines()
            .filter(|l| !l.starts_with('#'))
            .skip(1)
            .filter_map(|line| {
                let mut fields = line.split('\t');
                let label = fields.next()?.to_ascii_lowercase();
                let x = fields.next()?.trim().parse().ok()?;
                let y = fields.next()?.trim().parse().ok()?;
                Some((label, (x, y)))
            })
            .collect()
    })
}

/// See [`super::electrode_position`].
pub(super) fn position(label: &str) -> Option<(f32, f32)> {
    let name = electrode_name(label);
    let name = OLD_NAMES
        .iter()
        .find(|(old, _)| *old == name)
        .map_or(name.as_str(), |(_, new)| new);
    table().get(name).copied()
}

/// The electrode a channel label names, lower case: a leading "EEG" and a
/// reference after `-`, `:` or `/` dropped ("EEG Fpz-Cz" -> "fpz",
/// "C3:M2" -> "c3", "Fp1-REF" -> "fp1").
fn electrode_name(label: &str) -> String {
    let lower = label.trim().to_ascii_lowercase();
    let rest = lower
        .strip_prefix("eeg")
        .map_or(lower.as_str(), |r| r.trim_start_matches([' ', '_', '-']));
    rest.split(['-', ':', '/', ' '])
        .next()
        .unwrap_or_default()
        .trim()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_names_sit_where_the_system_puts_them() {
        let Some((x, y)) = position("Cz") else {
            panic!("Cz")
        };
        assert_eq!((x, y), (0.0, 0.0));
        let Some((_, fz)) = position("Fz") else {
            panic!("Fz")
        };
        let Some((_, oz)) = position("Oz") else {
            panic!("Oz")
        };
        assert!(fz > 0.3 && oz < -0.7, "nose up: Fz {fz}, Oz {oz}");
        let (Some(c3), Some(c4)) = (position("C3"), position("C4")) else {
            panic!("C3, C4")
        };
        assert!(c3.0 < -0.3 && c4.0 > 0.3 && (c3.0 + c4.0).abs() < 1e-4);
        assert!(table().values().all(|&(x, y)| x.hypot(y) <= 1.0 + 1e-4));
        assert!(table().len() > 80, "the 10-10 system: {}", table().len());
    }

    #[test]
    fn spellings_and_old_names_find_the_same_electrode() {
        assert_eq!(position("T3"), position("T7"));
        assert_eq!(position("t6"), position("P8"));
        assert_eq!(position("EEG Fpz-Cz"), position("Fpz"));
        assert_eq!(position("FP1"), position("Fp1"));
        assert_eq!(position("C3:M2"), position("C3"));
        assert_eq!(position("eeg_o1-ref"), position("O1"));
        assert!(position("Fp1").is_some());
        assert_eq!(position("EEG1"), None);
        assert_eq!(position("EOG left"), None);
        assert_eq!(position(""), None);
    }
}

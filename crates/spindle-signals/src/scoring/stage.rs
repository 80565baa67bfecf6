//! Sleep stages (AASM: W, N1, N2, N3, REM) and the one place where the
//! names other tools give them are read.
//!
//! # Stage names read
//!
//! Case and surrounding spaces are ignored. Every other name is not a sleep
//! stage (an event label such as `blink` or `arousal`).
//!
//! | stage | names |
//! |---|---|
//! | W | `W`, `Wake`, `0`, `Sleep stage W`, `Stage W` |
//! | N1 | `N1`, `S1`, `1`, `NREM1`, `Sleep stage 1`, `Sleep stage N1`, `Stage 1`, `Stage N1` |
//! | N2 | `N2`, `S2`, `2`, `NREM2`, `Sleep stage 2`, `Sleep stage N2`, `Stage 2`, `Stage N2` |
//! | N3 | `N3`, `S3`, `S4`, `N4`, `3`, `NREM3`, `Sleep stage 3`, `Sleep stage 4`, `Sleep stage N3`, `Stage 3`, `Stage 4`, `Stage N3` |
//! | REM | `REM`, `R`, `Sleep stage R`, `Sleep stage REM`, `Stage R`, `Stage REM` |
//! | unscored | `?`, `Sleep stage ?`, `Unscored`, `Unknown`, `Uns`, `Movement time`, `Movement`, `MT`, `review` |
//!
//! Rechtschaffen & Kales stages 3 and 4 (Sleep-EDF's `Sleep stage 3` and
//! `Sleep stage 4`) are both N3, as the AASM manual (2007) merged them.
//! Movement time, `?` and epochs marked for review count as unscored: they
//! are in the night but in no stage. A bare `4` or `5` is not read as a
//! stage: R&K numbering calls REM 5 and stage 4 is N3, while YASA's integer
//! codes call REM 4 (integer codes are read only from a CSV column of codes,
//! [`SleepStage::from_yasa_code`]).

/// One AASM sleep stage, in the order of the hypnogram (wake first).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SleepStage {
    /// Wake.
    W,
    /// NREM stage 1.
    N1,
    /// NREM stage 2.
    N2,
    /// NREM stage 3 (slow-wave sleep; R&K stages 3 and 4).
    N3,
    /// REM sleep.
    Rem,
}

/// What a label's name says about an epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StageName {
    /// A sleep stage.
    Stage(SleepStage),
    /// In the night but not staged: `?`, movement time, marked for review.
    Unscored,
}

/// YASA's integer code of an unscored epoch (`UNS`); `-1` (`ART`,
/// artefact) reads as unscored too.
pub const UNSCORED_CODE: i32 = -2;

/// The name of an unscored epoch in Sleep-EDF hypnograms.
pub const SLEEP_EDF_UNSCORED: &str = "Sleep stage ?";

/// The label a consensus gives an epoch whose scorers tie.
pub const REVIEW: &str = "review";

impl SleepStage {
    /// All stages in hypnogram order.
    pub const ALL: [SleepStage; 5] = [Self::W, Self::N1, Self::N2, Self::N3, Self::Rem];

    /// The name Spindle writes: `W`, `N1`, `N2`, `N3`, `REM`.
    pub fn name(self) -> &'static str {
        match self {
            Self::W => "W",
            Self::N1 => "N1",
            Self::N2 => "N2",
            Self::N3 => "N3",
            Self::Rem => "REM",
        }
    }

    /// The name Sleep-EDF hypnograms give it (`Sleep stage W`, `Sleep stage
    /// 1`, `Sleep stage 2`, `Sleep stage 3`, `Sleep stage R`).
    pub fn sleep_edf_name(self) -> &'static str {
        match self {
            Self::W => "Sleep stage W",
            Self::N1 => "Sleep stage 1",
            Self::N2 => "Sleep stage 2",
            Self::N3 => "Sleep stage 3",
            Self::Rem => "Sleep stage R",
        }
    }

    /// YASA's integer code (`Hypnogram.as_int()`): W 0, N1 1, N2 2, N3 3, REM 4.
    pub fn yasa_code(self) -> i32 {
        match self {
            Self::W => 0,
            Self::N1 => 1,
            Self::N2 => 2,
            Self::N3 => 3,
            Self::Rem => 4,
        }
    }

    /// The stage of a YASA integer code; `-1` (artefact) and `-2`
    /// (unscored) are [`StageName::Unscored`]; other codes are `None`.
    pub fn from_yasa_code(code: i32) -> Option<StageName> {
        Some(match code {
            0 => StageName::Stage(Self::W),
            1 => StageName::Stage(Self::N1),
            2 => StageName::Stage(Self::N2),
            3 => StageName::Stage(Self::N3),
            4 => StageName::Stage(Self::Rem),
            -1 | -2 => StageName::Unscored,
            _ => return None,
        })
    }

    /// True for N1, N2, N3 and REM.
    pub fn is_sleep(self) -> bool {
        self != Self::W
    }

    /// Position in [`SleepStage::ALL`] (0..5).
    pub fn index(self) -> usize {
        self as usize
    }

    /// The hotkey digit sleep labs use for it: W 0, N1 1, N2 2, N3 3, REM 5
    /// (the R&K numbering of Sleep-EDF, Polyman and most scoring software;
    /// 4 was R&K stage 4, now part of N3, and is left free).
    pub fn hotkey(self) -> u8 {
        match self {
            Self::W => 0,
            Self::N1 => 1,
            Self::N2 => 2,
            Self::N3 => 3,
            Self::Rem => 5,
        }
    }

    /// The stage a key scores: its digit ([`SleepStage::hotkey`]) or the
    /// letter `W` or `R` (either case).
    pub fn from_key(key: char) -> Option<SleepStage> {
        match key.to_ascii_uppercase() {
            '0' | 'W' => Some(Self::W),
            '1' => Some(Self::N1),
            '2' => Some(Self::N2),
            '3' => Some(Self::N3),
            '5' | 'R' => Some(Self::Rem),
            _ => None,
        }
    }

    /// Its color in a hypnogram or ribbon, sRGB: wake amber, NREM from
    /// light blue to indigo with depth (N3 light enough to read on the dark
    /// theme's background), REM red.
    pub fn color(self) -> [u8; 3] {
        match self {
            Self::W => [236, 178, 46],
            Self::N1 => [134, 196, 236],
            Self::N2 => [52, 118, 196],
            Self::N3 => [110, 96, 214],
            Self::Rem => [214, 56, 64],
        }
    }
}

impl std::fmt::Display for SleepStage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// What `text` names (see the module's table), or `None` when it is not a
/// sleep stage.
pub fn parse_stage(text: &str) -> Option<StageName> {
    let lower = text.trim().to_ascii_lowercase();
    let core = lower
        .strip_prefix("sleep stage ")
        .or_else(|| lower.strip_prefix("stage "))
        .unwrap_or(&lower)
        .trim();
    let prefixed = core.len() != lower.len();
    let stage = match core {
        "w" | "wake" => SleepStage::W,
        "n1" | "s1" | "1" | "nrem1" => SleepStage::N1,
        "n2" | "s2" | "2" | "nrem2" => SleepStage::N2,
        "n3" | "s3" | "s4" | "n4" | "3" | "nrem3" => SleepStage::N3,
        // "Sleep stage 4" is R&K's stage 4; a bare "4" is ambiguous.
        "4" if prefixed => SleepStage::N3,
        "r" | "rem" => SleepStage::Rem,
        "0" if !prefixed => SleepStage::W,
        "?" | "unscored" | "unknown" | "uns" | "movement time" | "movement" | "mt" | "review" => {
            return Some(StageName::Unscored);
        }
        _ => return None,
    };
    Some(StageName::Stage(stage))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_names_of_other_tools_read_as_the_stages_of_the_table() {
        let cases = [
            ("W", Some(StageName::Stage(SleepStage::W))),
            (" wake ", Some(StageName::Stage(SleepStage::W))),
            ("0", Some(StageName::Stage(SleepStage::W))),
            ("Sleep stage W", Some(StageName::Stage(SleepStage::W))),
            ("Sleep stage 1", Some(StageName::Stage(SleepStage::N1))),
            ("S1", Some(StageName::Stage(SleepStage::N1))),
            ("N2", Some(StageName::Stage(SleepStage::N2))),
            ("Sleep stage 3", Some(StageName::Stage(SleepStage::N3))),
            ("Sleep stage 4", Some(StageName::Stage(SleepStage::N3))),
            ("Stage 4", Some(StageName::Stage(SleepStage::N3))),
            ("REM", Some(StageName::Stage(SleepStage::Rem))),
            ("Sleep stage R", Some(StageName::Stage(SleepStage::Rem))),
            ("Sleep stage ?", Some(StageName::Unscored)),
            ("Movement time", Some(StageName::Unscored)),
            ("review", Some(StageName::Unscored)),
            ("4", None),
            ("5", None),
            ("blink", None),
            ("Sleep stage 0", None),
        ];
        for (text, want) in cases {
            assert_eq!(parse_stage(text), want, "{text:?}");
        }
    }

    #[test]
    fn every_stage_reads_back_from_the_names_it_writes_and_its_keys() {
        for stage in SleepStage::ALL {
            assert_eq!(parse_stage(stage.name()), Some(StageName::Stage(stage)));
            assert_eq!(
                parse_stage(stage.sleep_edf_name()),
                Some(StageName::Stage(stage))
            );
            assert_eq!(
                SleepStage::from_yasa_code(stage.yasa_code()),
                Some(StageName::Stage(stage))
            );
            let digit = char::from(b'0' + stage.hotkey());
            assert_eq!(SleepStage::from_key(digit), Some(stage));
        }
        assert_eq!(parse_stage(SLEEP_EDF_UNSCORED), Some(StageName::Unscored));
        assert_eq!(
            SleepStage::from_yasa_code(UNSCORED_CODE),
            Some(StageName::Unscored)
        );
        assert_eq!(SleepStage::from_yasa_code(5), None);
        assert_eq!(SleepStage::from_key('r'), Some(SleepStage::Rem));
        assert_eq!(SleepStage::from_key('4'), None);
    }
}

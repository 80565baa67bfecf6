//! Cue points (`cue `) and their labels and lengths (`LIST`/`adtl`), which
//! become annotations.

use std::collections::{HashMap, HashSet};

use super::bytes::le_u32;
use crate::recording::Annotation;

/// A cue point: an id and a position in sample frames.
#[derive(Debug, Clone, Copy)]
pub(super) struct Cue {
    id: u32,
    frame: u32,
}

/// The cue points of a file and the texts and lengths its `LIST` chunks
/// give them.
#[derive(Debug, Default)]
pub(super) struct CueTable {
    pub(super) cues: Vec<Cue>,
    /// Cue id -> label text (`labl`, else `note`).
    pub(super) labels: HashMap<u32, String>,
    /// Cue id -> region length in frames (`ltxt`).
    pub(super) lengths: HashMap<u32, u32>,
}

impl CueTable {
    /// Drops the cue points that repeat the id of an earlier one. Cue ids
    /// are unique; a repeated one would repeat its label's text once per
    /// repetition (a short file could ask for gigabytes of copies).
    pub(super) fn drop_repeated_ids(&mut self, warnings: &mut Vec<String>) {
        let mut seen = HashSet::new();
        let before = self.cues.len();
        self.cues.retain(|c| seen.insert(c.id));
        if self.cues.len() < before {
            warnings.push(format!(
                "ignored {} cue point(s) repeating the id of an earlier one",
                before - self.cues.len()
            ));
        }
    }
}

/// Reads cue points from a `cue ` chunk body.
pub(super) fn parse_cue(b: &[u8], cues: &mut Vec<Cue>, warnings: &mut Vec<String>) {
    if b.len() < 4 {
        warnings.push("ignored a cue chunk too short for its count".to_string());
        return;
    }
    let count = le_u32(b, 0) as usize;
    let room = (b.len() - 4) / 24;
    if count > room {
        warnings.push(format!(
            "cue chunk claims {count} cue points but holds {room}; read {room}"
        ));
    }
    for p in b[4..].chunks_exact(24).take(count.min(room)) {
        cues.push(Cue {
            id: le_u32(p, 0),
            frame: le_u32(p, 20),
        });
    }
}

/// Reads `labl`, `note` and `ltxt` entries from a `LIST` chunk of type `adtl`.
pub(super) fn parse_list(
    b: &[u8],
    labels: &mut HashMap<u32, String>,
    lengths: &mut HashMap<u32, u32>,
) {
    if b.len() < 4 || &b[0..4] != b"adtl" {
        return;
    }
    let mut off = 4usize;
    while off + 8 <= b.len() {
        let id = &b[off..off + 4];
        let size = le_u32(b, off + 4) as usize;
        let start = off + 8;
        let end = start.saturating_add(size).min(b.len());
        let body = &b[start..end];
        match id {
            b"labl" | b"note" if body.len() >= 4 => {
                let text = cstr(&body[4..]);
                let cue = le_u32(body, 0);
                if id == b"labl" || !labels.contains_key(&cue) {
                    labels.insert(cue, text);
                }
            }
            b"ltxt" if body.len() >= 8 => {
                lengths.insert(le_u32(body, 0), le_u32(body, 4));
            }
            _ => {}
        }
        off = start.saturating_add(size).saturating_add(size & 1);
    }
}

/// Text up to the first NUL, lossy UTF-8, trimmed.
fn cstr(b: &[u8]) -> String {
    let end = b.iter().position(|&c| c == 0).unwrap_or(b.len());
    String::from_utf8_lossy(&b[..end]).trim().to_string()
}

/// Cue points as annotations, sorted by onset then text.
pub(super) fn cue_annotations(cues: &CueTable, rate_hz: f64) -> Vec<Annotation> {
    let mut out: Vec<Annotation> = cues
        .cues
        .iter()
        .map(|cue| Annotation {
            onset_s: f64::from(cue.frame) / rate_hz,
            duration_s: cues
                .lengths
                .get(&cue.id)
                .filter(|&&n| n > 0)
                .map(|&n| f64::from(n) / rate_hz),
            text: cues
                .labels
                .get(&cue.id)
                .cloned()
                .unwrap_or_else(|| format!("cue {}", cue.id)),
        })
        .collect();
    out.sort_by(|a, b| {
        a.onset_s
            .total_cmp(&b.onset_s)
            .then_with(|| a.text.cmp(&b.text))
    });
    out
}

//! Which label, and which part of it, is under the pointer.

use crate::recording::LabelSet;

/// The part of a label under the pointer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HitPart {
    /// Inside the span (or on a zero-duration marker).
    Body,
    /// On the start edge.
    Start,
    /// On the end edge.
    End,
}

/// A label under the pointer: its position in the set and the part hit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hit {
    /// Position in [`LabelSet::labels`].
    pub index: usize,
    /// The part hit.
    pub part: HitPart,
}

/// The label at time `t_s` with `tolerance_s` seconds of slack for edges and
/// markers. Edges win over bodies (so a label can be resized from inside a
/// longer one), and among bodies the shortest wins (the innermost).
pub fn hit_test(labels: &LabelSet, t_s: f64, tolerance_s: f64) -> Option<Hit> {
    let mut best_edge: Option<(f64, Hit)> = None;
    let mut best_body: Option<(f64, Hit)> = None;
    for (index, l) in labels.labels.iter().enumerate() {
        if l.onset_s > t_s + tolerance_s {
            break;
        }
        let end = l.onset_s + l.duration_s;
        if l.duration_s == 0.0 {
            let d = (t_s - l.onset_s).abs();
            if d <= tolerance_s && best_edge.is_none_or(|(bd, _)| d < bd) {
                best_edge = Some((
                    d,
                    Hit {
                        index,
                        part: HitPart::Body,
                    },
                ));
            }
            continue;
        }
        for (d, part) in [
            ((t_s - l.onset_s).abs(), HitPart::Start),
            ((t_s - end).abs(), HitPart::End),
        ] {
            if d <= tolerance_s && best_edge.is_none_or(|(bd, _)| d < bd) {
                best_edge = Some((d, Hit { index, part }));
            }
        }
        if t_s >= l.onset_s && t_s <= end && best_body.is_none_or(|(bd, _)| l.duration_s < bd) {
            best_body = Some((
                l.duration_s,
                Hit {
                    index,
                    part: HitPart::Body,
                },
            ));
        }
    }
    best_edge.or(best_body).map(|(_, h)| h)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::recording::Label;

    #[test]
    fn edges_markers_and_bodies() {
        let set = LabelSet::new(vec![
            Label::new(0.0, 10.0, "long"),
            Label::new(2.0, 1.0, "short"),
            Label::new(6.0, 0.0, "mark"),
        ]);
        let hit = |t| hit_test(&set, t, 0.1);
        assert_eq!(
            hit(2.5),
            Some(Hit {
                index: 1,
                part: HitPart::Body
            })
        );
        assert_eq!(
            hit(5.0),
            Some(Hit {
                index: 0,
                part: HitPart::Body
            })
        );
        assert_eq!(
            hit(3.05),
            Some(Hit {
                index: 1,
                part: HitPart::End
            })
        );
        assert_eq!(
            hit(6.05),
            Some(Hit {
                index: 2,
                part: HitPart::Body
            })
        );
        assert_eq!(
            hit(9.95),
            Some(Hit {
                index: 0,
                part: HitPart::End
            })
        );
        assert_eq!(hit(20.0), None);
    }
}

//! Frame-time statistics for `spindle --frame-stats`: how long the app's own
//! work took per frame, and eframe's CPU time per frame (which adds
//! tessellation and painting), overall and while training runs.

/// Collected frame times, seconds.
#[derive(Debug, Default, Clone)]
pub struct FrameStats {
    own: Vec<f64>,
    total: Vec<f64>,
    own_training: Vec<f64>,
    total_training: Vec<f64>,
    /// When the first and the last frame during training began.
    training_span: Option<(std::time::Instant, std::time::Instant)>,
}

impl FrameStats {
    /// Records one frame: `own_s` (logic step + UI pass) and `total_s`
    /// (eframe's CPU time of the previous frame), and whether training ran.
    pub fn record(&mut self, own_s: f64, total_s: Option<f64>, training: bool) {
        self.own.push(own_s);
        if training {
            self.own_training.push(own_s);
            let now = std::time::Instant::now();
            let first = self.training_span.map_or(now, |(first, _)| first);
            self.training_span = Some((first, now));
        }
        if let Some(t) = total_s {
            self.total.push(t);
            if training {
                self.total_training.push(t);
            }
        }
    }

    /// Frames recorded.
    pub fn frames(&self) -> usize {
        self.own.len()
    }

    /// A few lines: median, 99th percentile and worst of each measure, in ms.
    pub fn report(&self) -> String {
        let line = |name: &str, v: &[f64]| {
            if v.is_empty() {
                return format!("{name}: no frames");
            }
            let mut s = v.to_vec();
            s.sort_by(f64::total_cmp);
            let q = |p: f64| s[((s.len() - 1) as f64 * p).round() as usize] * 1000.0;
            format!(
                "{name}: {} frames, median {:.2} ms, p99 {:.2} ms, worst {:.2} ms",
                s.len(),
                q(0.5),
                q(0.99),
                q(1.0)
            )
        };
        let rate = match self.training_span {
            Some((first, last)) if last > first => format!(
                "while training: {:.1} frames per second over {:.1} s",
                (self.own_training.len() - 1) as f64 / (last - first).as_secs_f64(),
                (last - first).as_secs_f64()
            ),
            _ => "while training: no frames".to_string(),
        };
        [
            rate,
            line("frame time (logic + UI pass)", &self.own),
            line(
                "frame CPU time (eframe: + tessellation + painting)",
                &self.total,
            ),
            line("while training: logic + UI pass", &self.own_training),
            line("while training: eframe CPU time", &self.total_training),
        ]
        .join("\n")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_in_milliseconds() {
        let mut f = FrameStats::default();
        for i in 1..=100 {
            f.record(i as f64 / 1000.0, Some(0.002), i > 50);
        }
        let r = f.report();
        assert!(
            r.contains("100 frames, median 51.00 ms, p99 99.00 ms, worst 100.00 ms"),
            "{r}"
        );
        assert!(
            r.contains("while training: logic + UI pass: 50 frames"),
            "{r}"
        );
        assert_eq!(f.frames(), 100);
    }
}

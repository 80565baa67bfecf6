//! Frame-time statistics for `spindle --frame-stats`: how long the app's own
//! work took per frame, and eframe's CPU time per frame (which adds
//! tessellation and painting), overall and while training runs. eframe's
//! figure is wall time, which grows when other processes take the cores;
//! the UI thread's own CPU time per frame is counted beside it.

/// CPU seconds the calling thread has used so far
/// (`CLOCK_THREAD_CPUTIME_ID`); `None` where that is unavailable.
pub fn thread_cpu_seconds() -> Option<f64> {
    #[cfg(unix)]
    {
        let mut t = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: `t` is a valid, writable timespec; clock_gettime only
        // writes it and returns non-zero on failure.
        let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut t) };
        (rc == 0).then_some(t.tv_sec as f64 + t.tv_nsec as f64 * 1e-9)
    }
    #[cfg(not(unix))]
    {
        None
    }
}

/// Collected frame times, seconds.
#[derive(Debug, Default, Clone)]
pub struct FrameStats {
    own: Vec<f64>,
    total: Vec<f64>,
    own_training: Vec<f64>,
    total_training: Vec<f64>,
    thread_cpu: Vec<f64>,
    /// When the first and the last frame during training began.
    training_span: Option<(std::time::Instant, std::time::Instant)>,
    /// The frame (its index in `own`) that drew a recording's first traces.
    first_traces_frame: Option<usize>,
    /// `own` of the frames after that one.
    own_viewing: Vec<f64>,
    /// `total` of the frames after that one.
    total_viewing: Vec<f64>,
}

impl FrameStats {
    /// Records one frame: `own_s` (logic step + UI pass), `total_s`
    /// (eframe's CPU time of the previous frame), `thread_cpu_s` (the CPU
    /// time the UI thread used from the previous frame's start to this
    /// one's) and whether training ran.
    pub fn record(
        &mut self,
        own_s: f64,
        total_s: Option<f64>,
        thread_cpu_s: Option<f64>,
        training: bool,
    ) {
        // This frame's index, and the frame eframe's figure is about.
        let frame = self.own.len();
        let after_first_traces = |f: usize| self.first_traces_frame.is_some_and(|k| f > k);
        if after_first_traces(frame) {
            self.own_viewing.push(own_s);
        }
        if let Some(t) = total_s
            && frame > 0
            && after_first_traces(frame - 1)
        {
            self.total_viewing.push(t);
        }
        self.own.push(own_s);
        self.thread_cpu.extend(thread_cpu_s);
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

    /// Marks the frame that draws an opened recording's first traces: the
    /// frames after it are the viewing (scrolling, zooming) that
    /// `tools/measure_open.sh` measures, apart from opening the file and
    /// the app's first paint (the opening is timed on its own, "first
    /// traces drawn"). Call it before this frame is recorded; only the
    /// first call counts.
    pub fn first_traces_drawn(&mut self) {
        if self.first_traces_frame.is_none() {
            self.first_traces_frame = Some(self.own.len());
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
            line(
                "frame UI-thread CPU time (its CPU clock: logic + UI + tessellation + painting)",
                &self.thread_cpu,
            ),
            line(
                "frame time after the first traces (logic + UI pass)",
                &self.own_viewing,
            ),
            line(
                "frame CPU time after the first traces (eframe)",
                &self.total_viewing,
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
            f.record(i as f64 / 1000.0, Some(0.002), Some(0.001), i > 50);
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
        assert!(
            r.contains("frame UI-thread CPU time (its CPU clock: logic + UI + tessellation + painting): 100 frames, median 1.00 ms"),
            "{r}"
        );
        assert_eq!(f.frames(), 100);
        assert!(r.contains("frame CPU time after the first traces (eframe): no frames"));
    }

    #[test]
    fn frames_after_the_first_traces_leave_out_the_opening() {
        let mut f = FrameStats::default();
        // The first paint, then frames while the file opens; eframe's
        // figure for a frame arrives with the next one.
        f.record(0.030, None, None, false);
        f.record(0.001, Some(0.040), None, false);
        // This frame draws the first traces.
        f.first_traces_drawn();
        f.record(0.020, Some(0.002), None, false);
        f.first_traces_drawn();
        // eframe's figure for the first-traces frame, then two more.
        f.record(0.004, Some(0.100), None, false);
        for _ in 0..2 {
            f.record(0.004, Some(0.025), None, false);
        }
        f.record(0.004, Some(0.005), None, false);
        let r = f.report();
        assert!(
            r.contains("frame time after the first traces (logic + UI pass): 4 frames, median 4.00 ms, p99 4.00 ms"),
            "{r}"
        );
        // The first-traces frame's 100 ms is left out; after it, 25, 25, 5.
        assert!(
            r.contains("frame CPU time after the first traces (eframe): 3 frames, median 25.00 ms, p99 25.00 ms, worst 25.00 ms"),
            "{r}"
        );
        assert!(r.contains("frame CPU time (eframe: + tessellation + painting): 6 frames"));
        // First traces in the very first frame, which has no eframe figure.
        let mut f = FrameStats::default();
        f.first_traces_drawn();
        f.record(0.020, None, None, false);
        f.record(0.004, Some(0.100), None, false);
        f.record(0.004, Some(0.025), None, false);
        assert!(
            f.report().contains(
                "frame CPU time after the first traces (eframe): 1 frames, median 25.00 ms"
            ),
            "{}",
            f.report()
        );
    }

    #[test]
    fn thread_cpu_time_grows_with_work_on_this_thread() {
        let Some(before) = thread_cpu_seconds() else {
            return;
        };
        let t = std::time::Instant::now();
        let mut x = 0u64;
        while t.elapsed().as_millis() < 30 {
            x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(7));
        }
        let after = thread_cpu_seconds().unwrap_or(0.0);
        assert!(after - before > 0.005, "{before} -> {after}");
        // Sleeping uses none.
        let slept = thread_cpu_seconds().unwrap_or(0.0);
        std::thread::sleep(std::time::Duration::from_millis(30));
        let woke = thread_cpu_seconds().unwrap_or(0.0);
        assert!(woke - slept < 0.02, "{slept} -> {woke}");
    }
}

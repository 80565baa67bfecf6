//! Numbers for axes: time labels in h:mm:ss.mmm, "nice" tick steps, and a
//! robust amplitude scale for stacking traces.

/// `t_s` (seconds) as `h:mm:ss.mmm`, e.g. `0:01:05.250`; negative times get a
/// leading `-`.
pub fn format_hms(t_s: f64) -> String {
    let sign = if t_s < 0.0 { "-" } else { "" };
    let total_ms = (t_s.abs() * 1000.0).round() as u64;
    let ms = total_ms % 1000;
    let s = (total_ms / 1000) % 60;
    let m = (total_ms / 60_000) % 60;
    let h = total_ms / 3_600_000;
    format!("{sign}{h}:{m:02}:{s:02}.{ms:03}")
}

/// The smallest 1, 2 or 5 times a power of ten that is at least `raw` (> 0).
pub fn nice_step(raw: f64) -> f64 {
    if !(raw.is_finite() && raw > 0.0) {
        return 1.0;
    }
    let exp = raw.log10().floor();
    let base = 10f64.powf(exp);
    for m in [1.0, 2.0, 5.0, 10.0] {
        if m * base >= raw * (1.0 - 1e-9) {
            return m * base;
        }
    }
    10.0 * base
}

/// Tick times (seconds) for a time axis from `start_s` to `end_s` with about
/// `min_spacing_px` pixels between ticks on an axis `width_px` wide. Steps
/// are nice numbers of seconds (and 10, 15, 30 s, 1, 2, 5, 10, 15, 30 min, 1 h...).
pub fn time_ticks(start_s: f64, end_s: f64, width_px: f64, min_spacing_px: f64) -> Vec<f64> {
    let span = end_s - start_s;
    if !(span > 0.0 && width_px > 0.0) {
        return Vec::new();
    }
    let raw = span * min_spacing_px / width_px;
    let step = if raw <= 5.0 {
        nice_step(raw)
    } else {
        const STEPS: [f64; 12] = [
            10.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 900.0, 1800.0, 3600.0, 7200.0, 21_600.0,
        ];
        STEPS
            .into_iter()
            .find(|&s| s >= raw)
            .unwrap_or_else(|| (raw / 3600.0).ceil() * 3600.0)
    };
    let first = (start_s / step).ceil() as i64;
    let last = (end_s / step).floor() as i64;
    (first..=last).map(|k| k as f64 * step).collect()
}

/// A robust amplitude of `samples` (1.4826 × the median absolute deviation,
/// i.e. the standard deviation for Gaussian data), from at most about 20,000
/// evenly spaced samples; 1.0 when that is zero or not finite.
pub fn robust_amplitude(samples: &[f32]) -> f32 {
    if samples.is_empty() {
        return 1.0;
    }
    let stride = (samples.len() / 20_000).max(1);
    let mut picked: Vec<f32> = samples
        .iter()
        .step_by(stride)
        .copied()
        .filter(|v| v.is_finite())
        .collect();
    if picked.is_empty() {
        return 1.0;
    }
    let median = median_in_place(&mut picked);
    for v in &mut picked {
        *v = (*v - median).abs();
    }
    let mad = median_in_place(&mut picked) * 1.4826;
    if mad.is_finite() && mad > 0.0 {
        mad
    } else {
        1.0
    }
}

/// A third of the largest absolute value of `samples` (so that three of
/// these span the peak, as three [`robust_amplitude`]s span typical data);
/// 1.0 when that is zero or not finite. Suits sparse signals such as audio
/// calls in silence, where the robust amplitude is that of the silence.
pub fn peak_amplitude(samples: &[f32]) -> f32 {
    let peak = samples
        .iter()
        .filter(|v| v.is_finite())
        .fold(0.0f32, |m, v| m.max(v.abs()));
    if peak > 0.0 { peak / 3.0 } else { 1.0 }
}

fn median_in_place(v: &mut [f32]) -> f32 {
    let mid = v.len() / 2;
    let (_, m, _) = v.select_nth_unstable_by(mid, f32::total_cmp);
    *m
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hms_formatting() {
        assert_eq!(format_hms(0.0), "0:00:00.000");
        assert_eq!(format_hms(65.25), "0:01:05.250");
        assert_eq!(format_hms(3600.0 * 2.0 + 59.9996), "2:01:00.000");
        assert_eq!(format_hms(-1.5), "-0:00:01.500");
    }

    #[test]
    fn nice_steps() {
        assert_eq!(nice_step(0.3), 0.5);
        assert_eq!(nice_step(1.0), 1.0);
        assert_eq!(nice_step(1.1), 2.0);
        assert_eq!(nice_step(37.0), 50.0);
    }

    #[test]
    fn ticks_are_in_range_and_evenly_spaced() {
        let t = time_ticks(0.0, 10.0, 1000.0, 80.0);
        assert_eq!(
            t,
            vec![0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0]
        );
        let t = time_ticks(0.0, 3600.0, 1000.0, 80.0);
        assert_eq!(t[1] - t[0], 300.0);
    }

    #[test]
    fn robust_amplitude_of_gaussian_like_data() {
        let x: Vec<f32> = (0..10_001).map(|i| (i as f32 - 5000.0) / 100.0).collect();
        // Uniform on -50..50: MAD = 25.
        assert!((robust_amplitude(&x) - 25.0 * 1.4826).abs() < 0.1);
        let y: Vec<f32> = x.iter().map(|v| v * 3.0 + 7.0).collect();
        assert!((robust_amplitude(&y) - 75.0 * 1.4826).abs() < 0.3);
        assert_eq!(robust_amplitude(&[0.0; 10]), 1.0);
        assert_eq!(peak_amplitude(&[0.0, -3.0, 1.5]), 1.0);
        assert_eq!(peak_amplitude(&[0.0; 4]), 1.0);
    }
}

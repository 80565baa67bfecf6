//! Eye artifacts for the generators: blinks, saccades while looking around,
//! the slow rolling eye movements of drowsiness and the rapid eye movements
//! of REM sleep, each added into a buffer of samples (µV) at `rate_hz`.

use std::f64::consts::TAU;

use crate::rng::Rng;

/// Adds a blink centred at `at_s`: a smooth positive deflection of about 0.3 s.
pub fn add_blink(blink: &mut [f64], at_s: f64, amplitude_uv: f64, rate_hz: f64, rng: &mut Rng) {
    let width_s = rng.range(0.07, 0.1);
    let centre = at_s * rate_hz;
    let reach = (4.0 * width_s * rate_hz) as isize;
    for k in -reach..=reach {
        let i = centre as isize + k;
        if i >= 0 && (i as usize) < blink.len() {
            let d = (i as f64 - centre) / (width_s * rate_hz);
            blink[i as usize] += amplitude_uv * (-0.5 * d * d).exp();
        }
    }
}

/// Adds step-like horizontal eye movements (looking around with eyes open)
/// between samples `from` and `to`.
pub fn add_saccades(saccade: &mut [f64], from: usize, to: usize, rate_hz: f64, rng: &mut Rng) {
    let mut level = 0.0;
    let mut i = from;
    while i < to {
        let hold = ((rng.range(0.3, 0.8) * rate_hz) as usize).max(1);
        level = rng.range(-35.0, 35.0) - 0.3 * level;
        for v in &mut saccade[i..(i + hold).min(to)] {
            *v += level;
        }
        i += hold;
    }
}

/// Adds slow rolling eye movements (drowsiness) between samples `from` and
/// `to`: a 0.2-0.4 Hz swing of `amplitude_uv` under a Hann window.
pub fn add_slow_eye_movements(
    eye: &mut [f64],
    from: usize,
    to: usize,
    amplitude_uv: f64,
    rate_hz: f64,
    rng: &mut Rng,
) {
    let to = to.min(eye.len());
    let span = to.saturating_sub(from) as f64;
    let hz = rng.range(0.2, 0.4);
    let phase = rng.range(0.0, TAU);
    for (k, v) in eye[from.min(to)..to].iter_mut().enumerate() {
        let window = (std::f64::consts::PI * k as f64 / span).sin().powi(2);
        *v += amplitude_uv * window * (TAU * hz * k as f64 / rate_hz + phase).sin();
    }
}

/// Adds a burst of `count` rapid eye movements from `at_s`: sharp steps of
/// 60-150 µV (alternating direction, 40-80 ms rise) 0.25-0.7 s apart, each
/// decaying back as an AC-coupled EOG amplifier shows it.
pub fn add_rapid_eye_movements(
    eye: &mut [f64],
    at_s: f64,
    count: usize,
    rate_hz: f64,
    rng: &mut Rng,
) {
    let mut t_s = at_s;
    let mut sign = if rng.uniform() < 0.5 { -1.0 } else { 1.0 };
    for _ in 0..count {
        let amplitude_uv = sign * rng.range(60.0, 150.0);
        let rise_s = rng.range(0.04, 0.08);
        let decay_s = rng.range(0.6, 1.2);
        let first = (t_s * rate_hz).ceil().max(0.0) as usize;
        let last = (((t_s + rise_s + 5.0 * decay_s) * rate_hz) as usize).min(eye.len());
        for (i, v) in eye.iter_mut().enumerate().take(last).skip(first) {
            let d_s = i as f64 / rate_hz - t_s;
            *v += if d_s < rise_s {
                amplitude_uv * d_s / rise_s
            } else {
                amplitude_uv * (-(d_s - rise_s) / decay_s).exp()
            };
        }
        sign = -sign;
        t_s += rng.range(0.25, 0.7);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eye_movements_land_where_asked() {
        let rate_hz = 100.0;
        let mut rng = Rng::new(3);
        let mut eye = vec![0.0; 1000];
        add_rapid_eye_movements(&mut eye, 2.0, 3, rate_hz, &mut rng);
        assert!(eye[..200].iter().all(|&v| v == 0.0));
        let peak = eye.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        assert!((60.0..300.0).contains(&peak), "{peak}");
        let mut slow = vec![0.0; 1000];
        add_slow_eye_movements(&mut slow, 100, 900, 50.0, rate_hz, &mut rng);
        assert!(slow[..100].iter().chain(&slow[900..]).all(|&v| v == 0.0));
        assert!(slow.iter().any(|v| v.abs() > 20.0));
    }
}

//! Noise processes for the generators.

use crate::rng::Rng;

/// Approximately pink (1/f) noise: a sum of one-pole low-passed white noises
/// with corner frequencies spaced a factor 4 apart, scaled to unit variance.
pub struct PinkNoise {
    poles: Vec<(f64, f64, f64)>, // (coefficient, gain, state)
}

impl PinkNoise {
    /// Pink noise at sample rate `rate_hz` from 0.25 Hz up to about `rate_hz / 4`.
    pub fn new(rate_hz: f64) -> Self {
        let mut poles = Vec::new();
        let mut corner = 0.25;
        while corner < rate_hz / 4.0 {
            let a = (-std::f64::consts::TAU * corner / rate_hz).exp();
            // Each pole gets equal power per octave: variance of an AR(1) with
            // unit input is 1/(1-a^2); weight so each contributes equally.
            let gain = (1.0 - a * a).sqrt();
            poles.push((a, gain, 0.0));
            corner *= 4.0;
        }
        Self { poles }
    }

    /// The next sample (unit variance).
    pub fn next(&mut self, rng: &mut Rng) -> f64 {
        let n = self.poles.len().max(1) as f64;
        let mut sum = 0.0;
        for (a, gain, state) in &mut self.poles {
            *state = *a * *state + *gain * rng.normal();
            sum += *state;
        }
        sum / n.sqrt()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pink_noise_has_unit_variance_and_more_low_than_high_power() {
        let mut rng = Rng::new(5);
        let mut p = PinkNoise::new(256.0);
        let xs: Vec<f64> = (0..50_000).map(|_| p.next(&mut rng)).collect();
        let var = xs.iter().map(|x| x * x).sum::<f64>() / xs.len() as f64;
        assert!((0.6..1.4).contains(&var), "{var}");
        // First differences (a high-pass) carry much less power than the signal.
        let diff = xs.windows(2).map(|w| (w[1] - w[0]).powi(2)).sum::<f64>() / xs.len() as f64;
        assert!(diff < var * 0.5, "{diff} vs {var}");
    }
}

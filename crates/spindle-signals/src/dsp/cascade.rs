//! Zero-phase filtering of several channels at once. An IIR section's output
//! at each sample waits on its output at the sample before, so one channel
//! runs at the latency of that recursion, not at the CPU's throughput:
//! channels interleaved four to a group keep four independent recursions in
//! flight. Four channels take about one and a half times as long as one
//! (a 64-channel span about half the time it took one channel at a time),
//! with the same results, bit for bit.

use super::biquad::Biquad;

/// Channels filtered together, at most.
const MAX_LANES: usize = 4;
/// Samples per channel copied into the interleaved buffer at a time.
const BLOCK: usize = 256;
/// Sections run in one pass over a block, their states held in registers.
const SECTIONS_PER_PASS: usize = 3;

/// Filters each of `xs` in place with zero phase: the cascade of `sections`
/// forward, then backward, each section starting in the steady state for a
/// constant input equal to the first sample it meets. Channels of equal
/// length are filtered four at a time; nothing happens without sections.
pub fn zero_phase_many(sections: &[Biquad], xs: &mut [&mut [f32]]) {
    if sections.is_empty() {
        return;
    }
    for group in xs.chunks_mut(MAX_LANES) {
        let n = group[0].len();
        if group.iter().all(|x| x.len() == n) {
            zero_phase_group(sections, group);
        } else {
            for x in group.iter_mut() {
                zero_phase_group(sections, &mut [&mut **x]);
            }
        }
    }
}

/// Filters one group of one to four channels of equal length, as many lanes
/// wide as the group (a lone channel computes no idle lanes).
fn zero_phase_group(sections: &[Biquad], group: &mut [&mut [f32]]) {
    match group.len() {
        1 => {
            run_cascade::<1>(sections, group, false);
            run_cascade::<1>(sections, group, true);
        }
        2 => {
            run_cascade::<2>(sections, group, false);
            run_cascade::<2>(sections, group, true);
        }
        _ => {
            run_cascade::<MAX_LANES>(sections, group, false);
            run_cascade::<MAX_LANES>(sections, group, true);
        }
    }
}

/// Runs `sections` in series over up to `L` channels of equal length, in
/// place, forward in time or backward.
fn run_cascade<const L: usize>(sections: &[Biquad], xs: &mut [&mut [f32]], backward: bool) {
    debug_assert!(!xs.is_empty() && xs.len() <= L);
    let n = xs[0].len();
    if n == 0 {
        return;
    }
    let first = if backward { n - 1 } else { 0 };
    let mut level = [0.0; L];
    for (l, x) in xs.iter().enumerate() {
        level[l] = f64::from(x[first]);
    }
    let mut state: Vec<[[f64; L]; 2]> = sections
        .iter()
        .map(|s| {
            let (z, out) = steady_state(s, &level);
            level = out;
            z
        })
        .collect();
    let mut buf = [[0.0f64; L]; BLOCK];
    let blocks = n.div_ceil(BLOCK);
    for k in 0..blocks {
        let b = if backward { blocks - 1 - k } else { k };
        let (lo, hi) = (b * BLOCK, ((b + 1) * BLOCK).min(n));
        let block = &mut buf[..hi - lo];
        for (l, x) in xs.iter().enumerate() {
            for (v, &s) in block.iter_mut().zip(&x[lo..hi]) {
                v[l] = f64::from(s);
            }
        }
        for (coefs, z) in sections
            .chunks(SECTIONS_PER_PASS)
            .zip(state.chunks_mut(SECTIONS_PER_PASS))
        {
            match coefs.len() {
                1 => run_block::<L, 1>(coefs, z, block, backward),
                2 => run_block::<L, 2>(coefs, z, block, backward),
                _ => run_block::<L, 3>(coefs, z, block, backward),
            }
        }
        for (l, x) in xs.iter_mut().enumerate() {
            for (s, v) in x[lo..hi].iter_mut().zip(block.iter()) {
                *s = v[l] as f32;
            }
        }
    }
}

/// The state of section `s` (transposed direct form II) in the steady state
/// for a constant input `level`, and its output there.
fn steady_state<const L: usize>(s: &Biquad, level: &[f64; L]) -> ([[f64; L]; 2], [f64; L]) {
    let [b0, b1, b2] = s.b;
    let [a1, a2] = s.a;
    let dc_gain = (b0 + b1 + b2) / (1.0 + a1 + a2);
    let y0: [f64; L] = std::array::from_fn(|l| dc_gain * level[l]);
    let z2: [f64; L] = std::array::from_fn(|l| b2 * level[l] - a2 * y0[l]);
    let z1: [f64; L] = std::array::from_fn(|l| b1 * level[l] - a1 * y0[l] + z2[l]);
    ([z1, z2], y0)
}

/// Runs `S` sections in series over a block of `L` interleaved channels, in
/// place, carrying their states `z` from the block before; `S` and `L` fixed
/// so that the states stay in registers.
fn run_block<const L: usize, const S: usize>(
    coefs: &[Biquad],
    z: &mut [[[f64; L]; 2]],
    block: &mut [[f64; L]],
    backward: bool,
) {
    debug_assert!(coefs.len() == S && z.len() == S);
    let (Ok(coefs), Ok(z)) = (
        <&[Biquad; S]>::try_from(coefs),
        <&mut [[[f64; L]; 2]; S]>::try_from(z),
    ) else {
        return;
    };
    let mut state = *z;
    let mut step = |v: &mut [f64; L]| {
        let mut xn = *v;
        for (s, [z1, z2]) in coefs.iter().zip(state.iter_mut()) {
            let [b0, b1, b2] = s.b;
            let [a1, a2] = s.a;
            let yn: [f64; L] = std::array::from_fn(|l| b0 * xn[l] + z1[l]);
            *z1 = std::array::from_fn(|l| b1 * xn[l] - a1 * yn[l] + z2[l]);
            *z2 = std::array::from_fn(|l| b2 * xn[l] - a2 * yn[l]);
            xn = yn;
        }
        *v = xn;
    };
    if backward {
        block.iter_mut().rev().for_each(&mut step);
    } else {
        block.iter_mut().for_each(&mut step);
    }
    *z = state;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dsp::DisplayFilter;

    /// One channel at a time, as the filter ran before this module (the
    /// old `run_cascade_forward`, copied), over the reversed copy for the
    /// backward pass.
    fn one_at_a_time(sections: &[Biquad], x: &mut [f32]) {
        fn forward(sections: &[Biquad], x: &mut [f32]) {
            let Some(&first) = x.first() else { return };
            let mut state: Vec<[f64; 2]> = Vec::with_capacity(sections.len());
            let mut level = first as f64;
            for s in sections {
                let [b0, b1, b2] = s.b;
                let [a1, a2] = s.a;
                let y0 = (b0 + b1 + b2) / (1.0 + a1 + a2) * level;
                let z2 = b2 * level - a2 * y0;
                let z1 = b1 * level - a1 * y0 + z2;
                state.push([z1, z2]);
                level = y0;
            }
            for v in x.iter_mut() {
                let mut xn = *v as f64;
                for (s, z) in sections.iter().zip(state.iter_mut()) {
                    let yn = s.b[0] * xn + z[0];
                    z[0] = s.b[1] * xn - s.a[0] * yn + z[1];
                    z[1] = s.b[2] * xn - s.a[1] * yn;
                    xn = yn;
                }
                *v = xn as f32;
            }
        }
        forward(sections, x);
        x.reverse();
        forward(sections, x);
        x.reverse();
    }

    fn channel(seed: usize, n: usize) -> Vec<f32> {
        (0..n)
            .map(|i| ((i * 7919 + seed * 104_729) % 113) as f32 - 50.0 + seed as f32)
            .collect()
    }

    #[test]
    fn channels_filtered_together_equal_each_filtered_alone() {
        let filter = DisplayFilter {
            highpass_hz: Some(0.5),
            lowpass_hz: Some(35.0),
            notch_hz: Some(50.0),
        };
        let mut sections = filter.sections(256.0);
        // Five sections: a pass of three, then a pass of two.
        sections.extend(filter.sections(256.0)[..2].iter().copied());
        // Six channels (a group of four, then two), not a whole number of
        // blocks long; three channels of different lengths; groups of one,
        // two and three.
        for lengths in [
            vec![1000; 6],
            vec![700, 1000, 3],
            vec![257],
            vec![513; 2],
            vec![300; 3],
        ] {
            let mut together: Vec<Vec<f32>> = lengths
                .iter()
                .enumerate()
                .map(|(c, &n)| channel(c, n))
                .collect();
            let mut alone = together.clone();
            let mut views: Vec<&mut [f32]> = together.iter_mut().map(|x| &mut x[..]).collect();
            zero_phase_many(&sections, &mut views);
            for x in &mut alone {
                one_at_a_time(&sections, x);
            }
            assert_eq!(together, alone);
        }
    }

    #[test]
    fn empty_channels_and_no_sections_are_left_alone() {
        let filter = DisplayFilter {
            lowpass_hz: Some(30.0),
            ..Default::default()
        };
        let mut empty: Vec<f32> = Vec::new();
        zero_phase_many(&filter.sections(256.0), &mut [&mut empty[..]]);
        assert!(empty.is_empty());
        let mut x = channel(1, 100);
        let before = x.clone();
        zero_phase_many(&[], &mut [&mut x[..]]);
        assert_eq!(x, before);
    }
}

//! Architectures sized to the data (`size_to_window`): the shared pieces.
//!
//! Published architectures give their kernels and poolings in samples at
//! the rate of the paper's data (EEGNet: 64 samples at 128 Hz = 0.5 s;
//! ShallowConvNet: 25 at 250 Hz = 0.1 s, pooling 75 / stride 15;
//! Deep4: 10 at 250 Hz). Sized, a kernel keeps the paper's *duration* at
//! the data's rate ([`scale_samples`]), and poolings shrink
//! ([`shrink_until_fits`]) until the window keeps at least one time step
//! after the last one, so short windows still build. Each architecture's
//! `Hyper::sized_for` applies its rule and says what it chose, one line
//! each, for the layer table and the CLI.
//!
//! A run saved before an architecture was sized reads the setting as off
//! ([`settings_before_sizing`]) and rebuilds as it was trained.

use super::registry::{HyperParam, ParamKind};

/// The architectures (spec `kind`s) that have the `size_to_window` switch.
const SIZED_KINDS: &[&str] = &["cnn1d", "crnn", "eegnet", "shallow", "deep4"];

/// The form's `size_to_window` switch.
pub(crate) const fn size_to_window_param(help: &'static str) -> HyperParam {
    HyperParam {
        key: "size_to_window",
        label: "size to the data",
        help,
        kind: ParamKind::Flag,
        min: 0.0,
        max: 1.0,
        regularizer: false,
    }
}

/// Marks a saved spec (the `model` of a `run.json`) of a sized
/// architecture written before `size_to_window` existed as not sized, so
/// that the run rebuilds as it was trained; a spec made now without the
/// field (by name) is sized.
pub fn settings_before_sizing(model: &mut serde_json::Value) {
    let kind = model.get("kind").and_then(|k| k.as_str());
    if kind.is_some_and(|k| SIZED_KINDS.contains(&k))
        && let Some(m) = model.as_object_mut()
    {
        m.entry("size_to_window")
            .or_insert(serde_json::Value::Bool(false));
    }
}

/// `samples` at `reference_hz` as samples at `rate_hz` (the same duration),
/// rounded and kept within `min..=max`; `samples` itself when the rate is
/// not a positive number.
pub(crate) fn scale_samples(
    samples: usize,
    reference_hz: f64,
    rate_hz: f64,
    min: usize,
    max: usize,
) -> usize {
    if !(rate_hz.is_finite() && rate_hz > 0.0 && reference_hz > 0.0) {
        return samples;
    }
    let scaled = (samples as f64 * rate_hz / reference_hz).round();
    (scaled.max(0.0) as usize).clamp(min, max.max(min))
}

/// One notch smaller for a setting, or `false` when it is already as small
/// as it goes.
pub(crate) type Shrink<T> = fn(&mut T) -> bool;

/// Halves `value` (rounding up) when above 1.
pub(crate) fn halve(value: &mut usize) -> bool {
    if *value <= 1 {
        return false;
    }
    *value = value.div_ceil(2);
    true
}

/// Shrinks `config` one notch at a time, trying the `steps` in order (the
/// first that can still shrink), until `fits` holds; `false` when nothing
/// can shrink further and it still does not fit.
pub(crate) fn shrink_until_fits<T>(
    config: &mut T,
    fits: impl Fn(&T) -> bool,
    steps: &[Shrink<T>],
) -> bool {
    while !fits(config) {
        if !steps.iter().any(|step| step(config)) {
            return false;
        }
    }
    true
}

/// Seconds of `samples` at `rate_hz`, for the sizing notes ("0.25 s").
pub(crate) fn seconds(samples: usize, rate_hz: f64) -> String {
    if rate_hz > 0.0 {
        let s = samples as f64 / rate_hz;
        if s >= 0.1 {
            format!("{s:.2} s")
        } else {
            format!("{:.0} ms", s * 1000.0)
        }
    } else {
        "?".into()
    }
}

/// The note for a kernel sized to the rate, e.g. `temporal kernel 32
/// samples = 0.25 s at 64 Hz (sized to the rate: 64 samples at 128 Hz as
/// published)`.
pub(crate) fn kernel_note(
    what: &str,
    samples: usize,
    rate_hz: f64,
    given: usize,
    reference_hz: f64,
) -> String {
    format!(
        "{what} {samples} samples = {} at {rate_hz:.0} Hz (sized to the rate: {given} samples at {reference_hz:.0} Hz as given)",
        seconds(samples, rate_hz)
    )
}

/// The note for a setting shrunk so the window fits, or `None` when it
/// kept its size.
pub(crate) fn shrunk_note(
    what: &str,
    before: usize,
    after: usize,
    samples: usize,
) -> Option<String> {
    (after != before).then(|| {
        format!(
            "{what} {after} instead of {before}, so that the {samples}-sample window keeps at least one time step"
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scaled_samples_keep_the_duration() {
        assert_eq!(scale_samples(64, 128.0, 128.0, 2, 1024), 64);
        assert_eq!(scale_samples(64, 128.0, 256.0, 2, 1024), 128);
        assert_eq!(scale_samples(64, 128.0, 512.0, 2, 1024), 256);
        assert_eq!(scale_samples(64, 128.0, 64.0, 2, 1024), 32);
        assert_eq!(scale_samples(25, 250.0, 100.0, 2, 256), 10);
        // Bounded, and untouched without a rate.
        assert_eq!(scale_samples(64, 128.0, 16_000.0, 2, 1024), 1024);
        assert_eq!(scale_samples(4, 128.0, 8.0, 1, 16), 1);
        assert_eq!(scale_samples(64, 128.0, 0.0, 2, 1024), 64);
        assert_eq!(scale_samples(64, 128.0, f64::NAN, 2, 1024), 64);
    }

    #[test]
    fn shrinking_tries_the_steps_in_order_until_it_fits() {
        let mut pools = (8usize, 4usize);
        let fits = |p: &(usize, usize)| p.0 * p.1 <= 6;
        let steps: &[Shrink<(usize, usize)>] = &[|p| halve(&mut p.0), |p| halve(&mut p.1)];
        assert!(shrink_until_fits(&mut pools, fits, steps));
        assert_eq!(pools, (1, 4));
        let mut hopeless = (1usize, 1usize);
        assert!(!shrink_until_fits(&mut hopeless, |_| false, steps));
    }

    #[test]
    fn old_specs_of_sized_kinds_read_as_not_sized() {
        for kind in SIZED_KINDS {
            let mut spec = serde_json::json!({ "kind": kind });
            settings_before_sizing(&mut spec);
            assert_eq!(spec["size_to_window"], false, "{kind}");
            let mut sized = serde_json::json!({ "kind": kind, "size_to_window": true });
            settings_before_sizing(&mut sized);
            assert_eq!(sized["size_to_window"], true, "{kind}");
        }
        let mut other = serde_json::json!({ "kind": "m5" });
        settings_before_sizing(&mut other);
        assert!(other.get("size_to_window").is_none());
        let mut not_object = serde_json::json!([1, 2]);
        settings_before_sizing(&mut not_object);
    }
}

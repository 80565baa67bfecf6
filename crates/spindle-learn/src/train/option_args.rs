//! `spindle train`'s options read from words (`--lr 0.01`, `--lr=0.01`,
//! `--class-weights`) without a command-line library, for the grids of
//! sweeps, which the app plans too. The binary parses the same options with
//! clap (`TrainOptions` derives `clap::Args` under the `cli` feature); its
//! tests check that both read every option alike.

use std::str::FromStr;

use super::options::{OptionsError, TrainOptions, bad, parse_key_value};

/// Every option of `spindle train` that [`TrainOptions`] holds, as written on
/// the command line: what [`TrainOptions::from_args`] reads.
pub const TRAIN_OPTION_FLAGS: [&str; 27] = [
    "--model",
    "--model-param",
    "--epochs",
    "--batch",
    "--lr",
    "--weight-decay",
    "--schedule",
    "--patience",
    "--class-weights",
    "--refit",
    "--window",
    "--stride",
    "--classes",
    "--merge",
    "--unlabeled-class",
    "--representation",
    "--normalization",
    "--highpass",
    "--lowpass",
    "--notch",
    "--channels",
    "--channel-types",
    "--regression",
    "--augment",
    "--augment-p",
    "--seed",
    "--device",
];

/// The options that are switches (no value).
const SWITCHES: [&str; 2] = ["--class-weights", "--regression"];

/// The options that may be given more than once (their values add up).
const REPEATABLE: [&str; 6] = [
    "--model-param",
    "--merge",
    "--classes",
    "--channels",
    "--channel-types",
    "--augment",
];

impl TrainOptions {
    /// Reads `args` as `spindle train`'s options (without data and output):
    /// `--option value` or `--option=value` words, switches alone; options
    /// not given keep their defaults, list options (`--classes a,b`) split at
    /// commas and add up when repeated. The options are not checked against
    /// each other here: [`TrainOptions::resolve`] does that.
    ///
    /// The error names the option, e.g. `--lr: "abc" is not a number`.
    ///
    /// ```
    /// use spindle_learn::train::TrainOptions;
    ///
    /// let o = TrainOptions::from_args(&["--model", "mlp", "--lr=0.01", "--class-weights"])?;
    /// assert_eq!((o.model.as_str(), o.lr, o.class_weights), ("mlp", 0.01, true));
    /// assert_eq!(TrainOptions::from_args(&o.to_args())?, o);
    /// let e = TrainOptions::from_args(&["--lr", "abc"]).unwrap_err();
    /// assert_eq!(e.option, "--lr");
    /// # Ok::<(), spindle_learn::train::OptionsError>(())
    /// ```
    pub fn from_args<S: AsRef<str>>(args: &[S]) -> Result<TrainOptions, OptionsError> {
        let mut options = TrainOptions::default();
        let mut seen: Vec<&str> = Vec::new();
        let mut words = args.iter().map(AsRef::as_ref);
        while let Some(word) = words.next() {
            let (flag, inline) = match word.split_once('=') {
                Some((flag, value)) => (flag, Some(value)),
                None => (word, None),
            };
            let Some(flag) = TRAIN_OPTION_FLAGS.iter().copied().find(|f| *f == flag) else {
                return Err(bad(
                    flag,
                    "is not an option of spindle train (see spindle train --help)",
                ));
            };
            if !REPEATABLE.contains(&flag) {
                if seen.contains(&flag) {
                    return Err(bad(flag, "is given more than once"));
                }
                seen.push(flag);
            }
            if SWITCHES.contains(&flag) {
                if inline.is_some() {
                    return Err(bad(flag, "takes no value"));
                }
                set_switch(&mut options, flag);
                continue;
            }
            let value = match inline {
                Some(value) => value,
                None => words.next().ok_or_else(|| bad(flag, "needs a value"))?,
            };
            set_value(&mut options, flag, value).map_err(|reason| bad(flag, reason))?;
        }
        Ok(options)
    }
}

fn set_switch(o: &mut TrainOptions, flag: &str) {
    match flag {
        "--class-weights" => o.class_weights = true,
        _ => o.regression = true,
    }
}

/// Sets the option `flag` (one of [`TRAIN_OPTION_FLAGS`], not a switch) from
/// `value`, or says why the value is wrong.
fn set_value(o: &mut TrainOptions, flag: &str, value: &str) -> Result<(), String> {
    match flag {
        "--model" => o.model = value.to_string(),
        "--model-param" => o.model_params.push(parse_key_value(value)?),
        "--epochs" => o.epochs = number(value)?,
        "--batch" => o.batch = Some(number(value)?),
        "--lr" => o.lr = number(value)?,
        "--weight-decay" => o.weight_decay = number(value)?,
        "--schedule" => o.schedule = value.parse()?,
        "--patience" => o.patience = Some(number(value)?),
        "--refit" => o.refit = value.parse()?,
        "--window" => o.window = Some(number(value)?),
        "--stride" => o.stride = Some(number(value)?),
        "--classes" => o.classes.extend(list(value)),
        "--merge" => o.merge.push(parse_key_value(value)?),
        "--unlabeled-class" => o.unlabeled_class = Some(value.to_string()),
        "--representation" => o.representation = value.parse()?,
        "--normalization" => o.normalization = value.parse()?,
        "--highpass" => o.highpass = Some(number(value)?),
        "--lowpass" => o.lowpass = Some(number(value)?),
        "--notch" => o.notch = Some(number(value)?),
        "--channels" => o.channels.extend(list(value)),
        "--channel-types" => {
            for kind in list(value) {
                o.channel_types
                    .push(kind.parse().map_err(|e| format!("{e}"))?);
            }
        }
        "--augment" => o.augment.extend(list(value)),
        "--augment-p" => o.augment_p = number(value)?,
        "--seed" => o.seed = number(value)?,
        "--device" => o.device = value.parse()?,
        other => return Err(format!("{other} is not an option that takes a value")),
    }
    Ok(())
}

/// A number of type `T` from `text`, or why not.
fn number<T: FromStr>(text: &str) -> Result<T, String> {
    text.parse()
        .map_err(|_| format!("{text:?} is not a valid {}", kind_of::<T>()))
}

/// What a number of type `T` is, in words.
fn kind_of<T>() -> &'static str {
    match std::any::type_name::<T>() {
        "f32" | "f64" => "number",
        _ => "whole number",
    }
}

/// The comma-separated items of `text`.
fn list(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(',').map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dataset::Normalization;
    use crate::train::{DeviceChoice, RepresentationChoice, Schedule};
    use spindle_signals::recording::ChannelKind;

    fn words(line: &str) -> Vec<&str> {
        line.split_whitespace().collect()
    }

    #[test]
    fn every_option_is_read_with_either_spelling() -> Result<(), OptionsError> {
        let o = TrainOptions::from_args(&words(
            "--model crnn --model-param hidden=32 --model-param=filters=8,8 --epochs 3 \
             --batch=16 --lr 0.01 --weight-decay 0 --schedule step:5:0.5 --patience 4 \
             --class-weights --refit off --window 2.5 --stride=1 --classes a,b --classes c \
             --merge x=y --unlabeled-class rest --representation spectrogram \
             --normalization zscore --highpass 0.5 --lowpass=40 --notch 50 \
             --channels Fz,Cz --channel-types eeg,EOG --channel-types=emg --regression --augment shift,noise=0.1 --augment-p 0.3 \
             --seed 7 --device cpu",
        ))?;
        let expected = TrainOptions {
            model: "crnn".into(),
            model_params: vec![
                ("hidden".into(), "32".into()),
                ("filters".into(), "8,8".into()),
            ],
            epochs: 3,
            batch: Some(16),
            lr: 0.01,
            weight_decay: 0.0,
            schedule: Schedule::Step {
                every_epochs: 5,
                gamma: 0.5,
            },
            patience: Some(4),
            class_weights: true,
            refit: super::super::Refit::Off,
            window: Some(2.5),
            stride: Some(1.0),
            classes: vec!["a".into(), "b".into(), "c".into()],
            merge: vec![("x".into(), "y".into())],
            unlabeled_class: Some("rest".into()),
            representation: RepresentationChoice::Spectrogram,
            normalization: Normalization::ZScore,
            highpass: Some(0.5),
            lowpass: Some(40.0),
            notch: Some(50.0),
            channels: vec!["Fz".into(), "Cz".into()],
            channel_types: vec![ChannelKind::Eeg, ChannelKind::Eog, ChannelKind::Emg],
            regression: true,
            augment: vec!["shift".into(), "noise=0.1".into()],
            augment_p: 0.3,
            seed: 7,
            device: DeviceChoice::Cpu,
        };
        assert_eq!(o, expected);
        // `to_args` leaves the device to the machine that runs the options.
        let again = TrainOptions {
            device: DeviceChoice::Auto,
            ..o.clone()
        };
        assert_eq!(TrainOptions::from_args(&o.to_args())?, again);
        assert_eq!(
            TrainOptions::from_args::<&str>(&[])?,
            TrainOptions::default()
        );
        Ok(())
    }

    #[test]
    fn bad_words_name_their_option() {
        let cases: &[(&str, &str)] = &[
            ("--lr abc", "--lr"),
            ("--epochs 2.5", "--epochs"),
            ("--epochs", "--epochs"),
            ("--seed -1", "--seed"),
            ("--schedule wobbly", "--schedule"),
            ("--representation wavelet", "--representation"),
            ("--normalization z", "--normalization"),
            ("--device tpu", "--device"),
            ("--merge nothing", "--merge"),
            ("--class-weights=yes", "--class-weights"),
            ("--lr 0.1 --lr 0.2", "--lr"),
            ("--wobble 3", "--wobble"),
            ("0.1", "0.1"),
        ];
        for (line, option) in cases {
            match TrainOptions::from_args(&words(line)) {
                Err(e) => {
                    assert_eq!(e.option, *option, "{line}: {e}");
                    assert!(!e.reason.is_empty(), "{line}");
                    assert_eq!(e.to_string().lines().count(), 1, "{line}: {e}");
                }
                Ok(o) => panic!("{line}: accepted as {o:?}"),
            }
        }
    }

    #[test]
    fn choices_read_the_names_they_write() {
        for n in Normalization::ALL {
            assert_eq!(n.name().parse(), Ok(n));
        }
        for d in DeviceChoice::ALL {
            assert_eq!(d.name().parse(), Ok(d));
        }
        for r in RepresentationChoice::ALL {
            assert_eq!(r.name().parse(), Ok(r));
        }
    }
}

//! The grid of a sweep: training options with several values each, expanded
//! into every combination, each parsed and checked like `spindle train`'s
//! own options.

use std::collections::BTreeMap;

use super::SweepError;
use crate::train::TrainOptions;

/// One option of the grid with the values it takes, e.g. `--lr` with
/// `0.001` and `0.01`.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct GridAxis {
    /// The option as `spindle train` spells it, e.g. `--lr`.
    pub option: String,
    /// Its values, in the order given.
    pub values: Vec<String>,
}

impl GridAxis {
    /// The option's name without the leading dashes, e.g. `lr`.
    pub fn key(&self) -> &str {
        self.option.trim_start_matches('-')
    }
}

/// One combination of the grid's values.
#[derive(Debug, Clone, PartialEq)]
pub struct GridPoint {
    /// The value of each axis with more than one value, by option name
    /// without dashes (e.g. `lr` -> `0.01`).
    pub settings: BTreeMap<String, String>,
    /// The training options of this combination.
    pub options: TrainOptions,
}

/// Parses `args` as `spindle train` would ([`TrainOptions::from_args`]),
/// then checks that the options resolve into settings; errors name the
/// option.
pub fn parse_options(args: &[String]) -> Result<TrainOptions, SweepError> {
    let options = TrainOptions::from_args(args)?;
    options.resolve()?;
    Ok(options)
}

/// Every combination of `axes` (the last axis changing fastest) added to the
/// options `fixed` (arguments of `spindle train`, without data and output).
/// Axes with one value are options like the fixed ones; an axis without
/// values is refused. Each combination is parsed and checked.
pub fn expand_grid(axes: &[GridAxis], fixed: &[String]) -> Result<Vec<GridPoint>, SweepError> {
    if let Some(empty) = axes.iter().find(|a| a.values.is_empty()) {
        return Err(SweepError::Option {
            option: empty.option.clone(),
            reason: "no values given".into(),
        });
    }
    let mut combos: Vec<Vec<usize>> = vec![Vec::new()];
    for axis in axes {
        combos = combos
            .into_iter()
            .flat_map(|c| {
                (0..axis.values.len()).map(move |i| {
                    let mut next = c.clone();
                    next.push(i);
                    next
                })
            })
            .collect();
    }
    combos
        .into_iter()
        .map(|choice| {
            let mut args = fixed.to_vec();
            let mut settings = BTreeMap::new();
            for (axis, &i) in axes.iter().zip(&choice) {
                let value = &axis.values[i];
                // One `--option=value` word, so that a value starting with
                // `-` is not taken for an option.
                args.push(format!("{}={value}", axis.option));
                if axis.values.len() > 1 {
                    settings.insert(axis.key().to_string(), value.clone());
                }
            }
            Ok(GridPoint {
                settings,
                options: parse_options(&args)?,
            })
        })
        .collect()
}

/// `args` (`spindle train` options as `--flag value` pairs, as
/// `TrainOptions::to_args` writes them) without the options named in
/// `options` and their values, so that grid axes can replace them.
pub fn without_options(args: &[String], options: &[&str]) -> Vec<String> {
    let mut out = Vec::with_capacity(args.len());
    let mut skip_value = false;
    for a in args {
        if skip_value {
            skip_value = false;
        } else if options.contains(&a.as_str()) {
            skip_value = true;
        } else {
            out.push(a.clone());
        }
    }
    out
}

/// The folder name of grid point `index` with `settings`: the index (three
/// digits at least, so that names sort in grid order) then each setting as
/// `key=value`, any character other than letters, digits, `.`, `-` and `+`
/// replaced by `_`, e.g. `002_lr=0.01_model=mlp`.
pub fn point_name(index: usize, settings: &BTreeMap<String, String>) -> String {
    let mut name = format!("{index:03}");
    for (k, v) in settings {
        name.push('_');
        name.push_str(&safe(k));
        name.push('=');
        name.push_str(&safe(v));
    }
    name
}

/// `text` with every character but ASCII letters, digits, `.`, `-` and `+`
/// replaced by `_`, at most 40 characters.
fn safe(text: &str) -> String {
    text.chars()
        .take(40)
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '+') {
                c
            } else {
                '_'
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn axis(option: &str, values: &[&str]) -> GridAxis {
        GridAxis {
            option: option.into(),
            values: values.iter().map(|v| v.to_string()).collect(),
        }
    }

    #[test]
    fn every_combination_in_order_with_the_fixed_options() -> Result<(), SweepError> {
        let fixed = vec!["--epochs".to_string(), "2".to_string()];
        let points = expand_grid(
            &[
                axis("--model", &["mlp", "cnn1d"]),
                axis("--lr", &["0.001", "0.01", "0.1"]),
                axis("--seed", &["7"]),
            ],
            &fixed,
        )?;
        assert_eq!(points.len(), 6);
        let seen: Vec<(String, f64)> = points
            .iter()
            .map(|p| (p.options.model.clone(), p.options.lr))
            .collect();
        assert_eq!(
            seen,
            [
                ("mlp".to_string(), 0.001),
                ("mlp".into(), 0.01),
                ("mlp".into(), 0.1),
                ("cnn1d".into(), 0.001),
                ("cnn1d".into(), 0.01),
                ("cnn1d".into(), 0.1),
            ]
        );
        for p in &points {
            assert_eq!(p.options.epochs, 2);
            assert_eq!(p.options.seed, 7);
            // A single value is a fixed option, not a setting of the grid.
            assert_eq!(p.settings.keys().collect::<Vec<_>>(), ["lr", "model"]);
        }
        assert_eq!(points[4].settings["lr"], "0.01");
        assert_eq!(
            point_name(4, &points[4].settings),
            "004_lr=0.01_model=cnn1d"
        );
        Ok(())
    }

    #[test]
    fn no_axes_is_one_point_of_the_fixed_options() -> Result<(), SweepError> {
        let points = expand_grid(&[], &["--model".into(), "mlp".into()])?;
        assert_eq!(points.len(), 1);
        assert!(points[0].settings.is_empty());
        assert_eq!(point_name(0, &points[0].settings), "000");
        Ok(())
    }

    #[test]
    fn bad_values_name_their_option() {
        let cases: &[(&[GridAxis], &str)] = &[
            (&[axis("--lr", &["0.01", "abc"])], "--lr"),
            (&[axis("--lr", &["0"])], "--lr"),
            (&[axis("--model", &["mlp", "resnet"])], "--model"),
            (&[axis("--epochs", &[])], "--epochs"),
            (&[axis("--window", &["-1"])], "--window"),
        ];
        for (axes, option) in cases {
            match expand_grid(axes, &[]) {
                Err(SweepError::Option { option: o, reason }) => {
                    assert_eq!(o, *option, "{axes:?}: {reason}");
                    assert!(!reason.is_empty());
                }
                other => panic!("{axes:?}: {other:?}"),
            }
        }
    }

    #[test]
    fn axes_replace_the_options_they_vary() -> Result<(), SweepError> {
        let form = TrainOptions {
            model: "mlp".into(),
            lr: 0.05,
            epochs: 3,
            class_weights: true,
            ..TrainOptions::default()
        };
        let fixed = without_options(&form.to_args(), &["--lr", "--seed"]);
        assert!(!fixed.contains(&"--lr".to_string()));
        assert!(fixed.contains(&"--class-weights".to_string()));
        let points = expand_grid(&[axis("--lr", &["0.1", "0.2"])], &fixed)?;
        assert_eq!(points[1].options.lr, 0.2);
        assert_eq!(points[1].options.epochs, 3);
        assert!(points[1].options.class_weights);
        assert_eq!(points[1].options.model, "mlp");
        Ok(())
    }

    #[test]
    fn names_keep_only_safe_characters() {
        let settings = BTreeMap::from([("unlabeled-class".to_string(), "$(rm -rf /)".to_string())]);
        let name = point_name(12, &settings);
        assert_eq!(name, "012_unlabeled-class=__rm_-rf___");
        assert!(!name.contains('/'));
    }
}

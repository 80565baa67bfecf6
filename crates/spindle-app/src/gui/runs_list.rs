//! The Runs view's list as rows: the runs folder's entries filtered by what
//! the user typed, grouped by their sweep or cross-validation folder (a
//! group row with the mean ± sd of its runs' scores, open or closed),
//! pinned runs first, then sorted by the column the user clicked; ties
//! follow the column's direction by name, as `list_runs` orders equal dates
//! (newest first, then name descending). Plain values without egui, so the
//! order is tested on its own.

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};
use std::time::SystemTime;

use spindle_learn::runs::RunEntry;

/// A column the list can be sorted by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub enum SortKey {
    /// When the run last changed (its group: its newest run).
    #[default]
    Date,
    /// The run's folder name.
    Name,
    /// The model's display name.
    Model,
    /// The data files' names.
    Data,
    /// The test score (its group: the mean).
    Score,
    /// Seconds of training (its group: the sum).
    Time,
}

impl SortKey {
    /// Every column, in the list's order.
    pub const ALL: [SortKey; 6] = [
        SortKey::Name,
        SortKey::Date,
        SortKey::Model,
        SortKey::Data,
        SortKey::Score,
        SortKey::Time,
    ];

    /// The column's header.
    pub fn header(self) -> &'static str {
        match self {
            SortKey::Date => "date",
            SortKey::Name => "run",
            SortKey::Model => "model",
            SortKey::Data => "data",
            SortKey::Score => "score",
            SortKey::Time => "time",
        }
    }

    /// Whether a first click sorts this column from the largest down
    /// (dates newest first, scores best first).
    pub fn descending_first(self) -> bool {
        matches!(self, SortKey::Date | SortKey::Score | SortKey::Time)
    }
}

/// How the list is shown: its order, filter and open groups.
#[derive(Debug, Clone, PartialEq)]
pub struct ListView {
    /// The column sorted by.
    pub sort: SortKey,
    /// True for largest (newest, best) first.
    pub descending: bool,
    /// What the user typed: every word must occur (case-insensitively) in
    /// the run's name, model, data files, tags or note.
    pub filter: String,
    /// The groups shown open.
    pub open_groups: BTreeSet<String>,
}

impl Default for ListView {
    fn default() -> Self {
        Self::new()
    }
}

impl ListView {
    /// Newest first, no filter, every group closed.
    pub fn new() -> Self {
        Self {
            sort: SortKey::Date,
            descending: true,
            filter: String::new(),
            open_groups: BTreeSet::new(),
        }
    }

    /// Sorts by `key`; a second click on the same column reverses it.
    pub fn click(&mut self, key: SortKey) {
        if self.sort == key {
            self.descending = !self.descending;
        } else {
            self.sort = key;
            self.descending = key.descending_first();
        }
    }
}

/// The mean ± sd of a group's scores.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Spread {
    /// Mean of the runs with a score.
    pub mean: f64,
    /// Sample standard deviation (n - 1), 0 for a single run.
    pub sd: f64,
    /// Runs with a score.
    pub n: usize,
}

impl Spread {
    /// The spread of `values`; `None` when empty.
    pub fn of(values: &[f64]) -> Option<Self> {
        let n = values.len();
        if n == 0 {
            return None;
        }
        let mean = values.iter().sum::<f64>() / n as f64;
        let sd = if n > 1 {
            (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64).sqrt()
        } else {
            0.0
        };
        Some(Self { mean, sd, n })
    }
}

/// One row of the list.
#[derive(Debug, Clone, PartialEq)]
pub enum Row {
    /// A sweep's or cross-validation's folder.
    Group {
        /// Its path below the runs folder.
        name: String,
        /// Its runs (matching the filter).
        runs: usize,
        /// The mean ± sd of their test scores.
        score: Option<Spread>,
        /// Their training seconds, summed.
        seconds: f64,
        /// Shown open.
        open: bool,
    },
    /// A run: its index in the entries, and whether it sits in a group.
    Run {
        /// Index into the entries listed.
        index: usize,
        /// True for a run shown under its group.
        nested: bool,
    },
}

/// True when every word of `filter` occurs in what `e` shows.
pub fn matches(e: &RunEntry, filter: &str) -> bool {
    let words: Vec<String> = filter.split_whitespace().map(str::to_lowercase).collect();
    if words.is_empty() {
        return true;
    }
    let text = format!(
        "{} {} {} {} {}",
        e.name,
        e.model.as_deref().unwrap_or(""),
        e.data.join(" "),
        e.note.tags.join(" "),
        e.note.note
    )
    .to_lowercase();
    words.iter().all(|w| text.contains(w.as_str()))
}

/// One item at the top of the list: a run alone or a group of runs.
struct Item<'a> {
    group: Option<&'a str>,
    members: Vec<usize>,
}

/// The rows to show for `entries` as `view` says.
pub fn rows(entries: &[RunEntry], view: &ListView) -> Vec<Row> {
    let mut groups: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    let mut items: Vec<Item<'_>> = Vec::new();
    for (i, e) in entries.iter().enumerate() {
        if !matches(e, &view.filter) {
            continue;
        }
        match e.group.as_deref() {
            Some(g) => groups.entry(g).or_default().push(i),
            None => items.push(Item {
                group: None,
                members: vec![i],
            }),
        }
    }
    items.extend(groups.into_iter().map(|(g, members)| Item {
        group: Some(g),
        members,
    }));
    let by = |a: &usize, b: &usize| compare(&entries[*a], &entries[*b], view);
    for item in &mut items {
        item.members.sort_by(|a, b| {
            pinned(&entries[*b])
                .cmp(&pinned(&entries[*a]))
                .then_with(|| by(a, b))
        });
    }
    items.sort_by(|a, b| {
        let pa = a.group.is_none() && pinned(&entries[a.members[0]]);
        let pb = b.group.is_none() && pinned(&entries[b.members[0]]);
        pb.cmp(&pa).then_with(|| compare_items(entries, a, b, view))
    });
    let mut out = Vec::with_capacity(entries.len());
    for item in items {
        let Some(name) = item.group else {
            out.push(Row::Run {
                index: item.members[0],
                nested: false,
            });
            continue;
        };
        let open = view.open_groups.contains(name) || !view.filter.trim().is_empty();
        let scores: Vec<f64> = item
            .members
            .iter()
            .filter_map(|&i| entries[i].test_score)
            .collect();
        out.push(Row::Group {
            name: name.to_string(),
            runs: item.members.len(),
            score: Spread::of(&scores),
            seconds: item
                .members
                .iter()
                .filter_map(|&i| entries[i].train_seconds)
                .sum(),
            open,
        });
        if open {
            out.extend(item.members.iter().map(|&index| Row::Run {
                index,
                nested: true,
            }));
        }
    }
    out
}

fn pinned(e: &RunEntry) -> bool {
    e.note.pinned
}

/// The order of two runs by the view's column (ties: name, in the
/// column's direction).
fn compare(a: &RunEntry, b: &RunEntry, view: &ListView) -> Ordering {
    let o = match view.sort {
        SortKey::Date => a.modified.cmp(&b.modified),
        SortKey::Name => a.name.cmp(&b.name),
        SortKey::Model => a.model.cmp(&b.model),
        SortKey::Data => a.data.cmp(&b.data),
        SortKey::Score => cmp_f64(a.test_score, b.test_score),
        SortKey::Time => cmp_f64(a.train_seconds, b.train_seconds),
    };
    directed(o.then_with(|| a.name.cmp(&b.name)), view.descending)
}

/// The order of two top-level items: a group by its newest run, mean
/// score, summed time, or its first run's model and data.
fn compare_items(entries: &[RunEntry], a: &Item<'_>, b: &Item<'_>, view: &ListView) -> Ordering {
    if a.group.is_none() && b.group.is_none() {
        return compare(&entries[a.members[0]], &entries[b.members[0]], view);
    }
    let name = |x: &Item<'_>| {
        x.group
            .map_or_else(|| entries[x.members[0]].name.clone(), str::to_string)
    };
    let newest = |x: &Item<'_>| {
        x.members
            .iter()
            .map(|&i| entries[i].modified)
            .max()
            .unwrap_or(SystemTime::UNIX_EPOCH)
    };
    let mean = |x: &Item<'_>| {
        let v: Vec<f64> = x
            .members
            .iter()
            .filter_map(|&i| entries[i].test_score)
            .collect();
        Spread::of(&v).map(|s| s.mean)
    };
    let seconds = |x: &Item<'_>| {
        let v: Vec<f64> = x
            .members
            .iter()
            .filter_map(|&i| entries[i].train_seconds)
            .collect();
        (!v.is_empty()).then(|| v.iter().sum())
    };
    let first = |x: &Item<'_>| &entries[x.members[0]];
    let o = match view.sort {
        SortKey::Date => newest(a).cmp(&newest(b)),
        SortKey::Name => name(a).cmp(&name(b)),
        SortKey::Model => first(a).model.cmp(&first(b).model),
        SortKey::Data => first(a).data.cmp(&first(b).data),
        SortKey::Score => cmp_f64(mean(a), mean(b)),
        SortKey::Time => cmp_f64(seconds(a), seconds(b)),
    };
    directed(o.then_with(|| name(a).cmp(&name(b))), view.descending)
}

/// `o` reversed when descending.
fn directed(o: Ordering, descending: bool) -> Ordering {
    if descending { o.reverse() } else { o }
}

/// Numbers in order, a missing one below every number.
fn cmp_f64(a: Option<f64>, b: Option<f64>) -> Ordering {
    match (a, b) {
        (Some(x), Some(y)) => x.total_cmp(&y),
        (Some(_), None) => Ordering::Greater,
        (None, Some(_)) => Ordering::Less,
        (None, None) => Ordering::Equal,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use spindle_learn::runs::{RunNote, RunStatus};
    use std::path::PathBuf;
    use std::time::Duration;

    fn entry(name: &str, age_s: u64, model: &str, score: Option<f64>) -> RunEntry {
        RunEntry {
            dir: PathBuf::from("/runs").join(name),
            name: name.into(),
            status: RunStatus::Complete,
            modified: SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000 - age_s),
            model: Some(model.into()),
            test_score: score,
            train_seconds: score.map(|s| s * 10.0),
            data: vec![format!("{model}.edf")],
            group: name.rsplit_once('/').map(|(g, _)| g.to_string()),
            note: RunNote::default(),
            note_problem: None,
        }
    }

    fn names(entries: &[RunEntry], rows: &[Row]) -> Vec<String> {
        rows.iter()
            .map(|r| match r {
                Row::Group {
                    name, score, runs, ..
                } => format!(
                    "[{name} {runs} {:.2}±{:.2}]",
                    score.map_or(0.0, |s| s.mean),
                    score.map_or(0.0, |s| s.sd)
                ),
                Row::Run { index, nested } => {
                    format!(
                        "{}{}",
                        if *nested { "  " } else { "" },
                        entries[*index].name
                    )
                }
            })
            .collect()
    }

    fn sample() -> Vec<RunEntry> {
        vec![
            entry("a", 10, "EEGNet", Some(0.65)),
            entry("b", 5, "CRNN", Some(0.9)),
            entry("c", 30, "Deep4", None),
            entry("cv/fold-1", 20, "EEGNet", Some(0.8)),
            entry("cv/fold-2", 21, "EEGNet", Some(0.6)),
        ]
    }

    #[test]
    fn sorts_by_any_column_with_groups_as_one_item() {
        let e = sample();
        let mut v = ListView::new();
        assert_eq!(
            names(&e, &rows(&e, &v)),
            ["b", "a", "[cv 2 0.70±0.14]", "c"]
        );
        v.click(SortKey::Score);
        assert!(v.descending);
        assert_eq!(
            names(&e, &rows(&e, &v)),
            ["b", "[cv 2 0.70±0.14]", "a", "c"]
        );
        v.click(SortKey::Score);
        assert_eq!(
            names(&e, &rows(&e, &v)),
            ["c", "a", "[cv 2 0.70±0.14]", "b"]
        );
        v.click(SortKey::Model);
        assert!(!v.descending);
        v.open_groups.insert("cv".into());
        assert_eq!(
            names(&e, &rows(&e, &v)),
            [
                "b",
                "c",
                "a",
                "[cv 2 0.70±0.14]",
                "  cv/fold-1",
                "  cv/fold-2"
            ]
        );
    }

    #[test]
    fn filters_by_words_and_pins_on_top() {
        let mut e = sample();
        e[2].note.tags = vec!["Baseline".into()];
        let mut v = ListView::new();
        v.filter = "baseline".into();
        assert_eq!(names(&e, &rows(&e, &v)), ["c"]);
        v.filter = "eegnet fold-2".into();
        assert_eq!(
            names(&e, &rows(&e, &v)),
            ["[cv 1 0.60±0.00]", "  cv/fold-2"]
        );
        v.filter = "crnn.edf".into();
        assert_eq!(names(&e, &rows(&e, &v)), ["b"]);
        v.filter.clear();
        e[2].note.pinned = true;
        assert_eq!(
            names(&e, &rows(&e, &v)),
            ["c", "b", "a", "[cv 2 0.70±0.14]"]
        );
    }

    #[test]
    fn ties_follow_the_direction_as_list_runs_orders_them() {
        // Three runs written in the same second, as a sweep writes them.
        let e = vec![
            entry("x-1", 7, "EEGNet", Some(0.5)),
            entry("x-3", 7, "EEGNet", Some(0.5)),
            entry("x-2", 7, "EEGNet", Some(0.5)),
        ];
        let mut v = ListView::new();
        // Newest first: equal dates by name descending, as list_runs does.
        assert_eq!(names(&e, &rows(&e, &v)), ["x-3", "x-2", "x-1"]);
        v.click(SortKey::Date);
        assert!(!v.descending);
        assert_eq!(names(&e, &rows(&e, &v)), ["x-1", "x-2", "x-3"]);
        v.click(SortKey::Score);
        assert_eq!(names(&e, &rows(&e, &v)), ["x-3", "x-2", "x-1"]);
        v.click(SortKey::Score);
        assert_eq!(names(&e, &rows(&e, &v)), ["x-1", "x-2", "x-3"]);
    }

    /// What making the rows costs for 400 runs: the work each frame did
    /// before the Runs view kept its rows (it now does it only when the
    /// runs, the filter, the order or the open groups change).
    /// `cargo test --release -p spindle-app --lib rows_cost -- --ignored --nocapture`
    #[test]
    #[ignore = "a measurement; run it on its own"]
    fn rows_cost_for_400_runs() {
        let kinds = ["EEGNet", "CRNN", "Deep4", "ShallowFBCSPNet", "CNN1d", "MLP"];
        let e: Vec<RunEntry> = (0..400)
            .map(|i| {
                let name = if i < 60 {
                    format!("cv-{}/fold-{}", i / 5, i % 5 + 1)
                } else {
                    format!("run-{i:03}_{}", kinds[i % 6])
                };
                entry(
                    &name,
                    (i * 37 % 500) as u64,
                    kinds[i % 6],
                    Some((i % 97) as f64 / 97.0),
                )
            })
            .collect();
        let mut v = ListView::new();
        for (what, sort, filter) in [
            ("by date", SortKey::Date, ""),
            ("by score", SortKey::Score, ""),
            ("filtered by eegnet", SortKey::Date, "eegnet"),
        ] {
            v.sort = sort;
            v.filter = filter.into();
            let started = std::time::Instant::now();
            for _ in 0..100 {
                let rows = rows(&e, &v);
                let matching = e.iter().filter(|x| matches(x, &v.filter)).count();
                std::hint::black_box((rows, matching));
            }
            println!(
                "400 runs {what}: {:.3} ms to make the rows and count the matches",
                started.elapsed().as_secs_f64() * 1e3 / 100.0
            );
        }
    }
}

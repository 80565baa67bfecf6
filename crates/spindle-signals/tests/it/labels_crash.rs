//! Labels survive a crash at any moment: a child process (this test binary,
//! run again with an environment variable) autosaves two label sets in turn
//! as the app does (journal the edit, write the sidecar with its backup,
//! remove the journal), and is killed with SIGKILL at random moments, many
//! times. After each kill the sidecar holds exactly one of the two sets, and
//! the backup and the journal read as one of them too.

#![cfg(unix)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use spindle_signals::labeling::{Edit, EditJournal, journal_path, replay_journal};
use spindle_signals::recording::{
    Label, LabelSet, backup_path, read_events_tsv, sidecar_path, write_events_tsv,
};
use spindle_signals::rng::Rng;

/// Set to the folder to work in when this binary runs as the child.
const CHILD_ENV: &str = "SPINDLE_CRASH_CHILD_DIR";

/// The name of the test that is the child's loop, as the test binary knows
/// it (this file is its module `labels_crash`).
const CHILD_TEST: &str = "labels_crash::child_autosaves_alternating_labels_until_killed";

/// How many times the child is killed.
const KILLS: usize = 150;

/// The two label sets the child writes in turn: many labels (so that a
/// save takes a while and kills land inside it), times in whole
/// milliseconds (so that they read back exactly), one extra column.
fn label_sets() -> (LabelSet, LabelSet) {
    let set = |class: &str, shift_s: f64| LabelSet {
        labels: (0..400)
            .map(|i| Label {
                extra: vec![format!("rater {}", i % 3)],
                ..Label::new(f64::from(i) * 2.5 + shift_s, 1.25, class)
            })
            .collect(),
        extra_columns: vec!["rater".into()],
    };
    (set("LongBlink", 0.0), set("ShortBlink", 0.125))
}

fn recording(dir: &Path) -> PathBuf {
    dir.join("rec.edf")
}

/// The child: saves the other set, again and again, as the app's autosave
/// does, until it is killed. Does nothing unless run by the parent.
#[test]
#[ignore = "run by autosave_survives_sigkill_at_random_moments as its child"]
fn child_autosaves_alternating_labels_until_killed() {
    let Some(dir) = std::env::var_os(CHILD_ENV) else {
        return;
    };
    let sidecar = sidecar_path(&recording(Path::new(&dir)));
    let (a, b) = label_sets();
    let mut labels = read_events_tsv(&sidecar).unwrap();
    let mut journal = EditJournal::new(journal_path(&sidecar));
    // libtest prints this after the test's name, on the same line.
    println!("ready");
    loop {
        let next = if labels == a { b.clone() } else { a.clone() };
        let edit = Edit::Replace {
            before: labels.clone(),
            after: next.clone(),
        };
        edit.apply(&mut labels).unwrap();
        journal.record(Some(&edit), &labels).unwrap();
        write_events_tsv(&sidecar, &labels).unwrap();
        journal.clear().unwrap();
    }
}

/// Which of `a` and `b` `set` is, or a panic naming `what`.
fn which(set: &LabelSet, a: &LabelSet, b: &LabelSet, what: &str) -> char {
    if set == a {
        'a'
    } else if set == b {
        'b'
    } else {
        panic!("{what} holds neither label set: {} labels", set.len())
    }
}

#[test]
fn autosave_survives_sigkill_at_random_moments() {
    if std::env::var_os(CHILD_ENV).is_some() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let sidecar = sidecar_path(&recording(dir.path()));
    let (a, b) = label_sets();
    write_events_tsv(&sidecar, &a).unwrap();
    let exe = std::env::current_exe().unwrap();
    let mut rng = Rng::new(20_261_202);
    let (mut changes, mut backups, mut journals) = (0, 0, 0);
    let mut last = 'a';
    for kill in 0..KILLS {
        let mut child = Command::new(&exe)
            .args([CHILD_TEST, "--exact", "--ignored", "--nocapture"])
            .arg("--test-threads=1")
            .env(CHILD_ENV, dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let ready = BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
            .any(|line| line.ends_with("ready"));
        assert!(ready, "kill {kill}: the child did not start its loop");
        std::thread::sleep(Duration::from_micros(rng.below(80_000) as u64));
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();

        let what = format!("after kill {kill}: {}", sidecar.display());
        let now = which(&read_events_tsv(&sidecar).unwrap(), &a, &b, &what);
        if now != last {
            changes += 1;
            last = now;
        }
        let backup = backup_path(&sidecar);
        if backup.exists() {
            backups += 1;
            let what = format!("after kill {kill}: {}", backup.display());
            which(&read_events_tsv(&backup).unwrap(), &a, &b, &what);
        }
        let journal = journal_path(&sidecar);
        if let Some(replay) = replay_journal(&journal).unwrap() {
            journals += 1;
            let what = format!("after kill {kill}: {}", journal.display());
            which(&replay.labels, &a, &b, &what);
        }
    }
    let temp_files = std::fs::read_dir(dir.path())
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .ends_with(".tmp")
        })
        .count();
    println!(
        "{KILLS} kills: the sidecar changed between kills {changes} times; a backup was there \
         {backups} times, a journal {journals} times; {temp_files} temporary files of \
         interrupted saves left behind"
    );
    // The kills landed while the child was saving, not only before it began.
    assert!(
        changes >= KILLS / 5,
        "only {changes} changes in {KILLS} kills"
    );
    assert!(backups >= KILLS / 2, "{backups}");
}

//! The label files of one recording written on a thread of their own, so
//! that a UI never waits on them: the sidecar with its backup (both
//! fsynced), the edit journal's appends and removal, and setting a damaged
//! sidecar aside, carried out in the order they were asked for, each
//! answered by a [`SaverEvent`].
//!
//! Nothing is lost and nothing blocks: requests go to the thread over a
//! bounded channel with `try_send`; what does not fit waits in the
//! handle's own queue and is handed on by [`LabelSaver::poll`], which the
//! UI calls every frame. [`LabelSaver::flush`] waits, for a bounded time,
//! until every request is answered (when the app closes).

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender, TrySendError, bounded};

use super::{Edit, EditJournal, journal_path, set_aside_damaged};
use crate::recording::{LabelSet, RecordingError, sidecar_path, write_events_tsv};

/// Requests the thread holds before the handle queues them itself.
const CAPACITY: usize = 64;

/// What the label thread is asked to do.
#[derive(Debug)]
enum Request {
    Journal {
        edit: Option<Edit>,
        after: LabelSet,
    },
    Save {
        revision: u64,
        labels: LabelSet,
        clear_journal: bool,
    },
    ClearJournal,
    SetAside(PathBuf),
}

/// What the label thread did, one answer per request, in order.
#[derive(Debug)]
pub enum SaverEvent {
    /// An edit was appended to the journal (or why not).
    Journaled(Result<(), RecordingError>),
    /// The labels of `revision` were written to the sidecar (its old text
    /// kept as the backup), and the journal removed when asked; or why not
    /// (then nothing was removed).
    Saved {
        /// The revision written.
        revision: u64,
        /// The outcome, naming the file.
        result: Result<(), RecordingError>,
    },
    /// The journal was removed (or why not).
    JournalCleared(Result<(), RecordingError>),
    /// The damaged sidecar was set aside under this name (or why not).
    SetAside(Result<PathBuf, RecordingError>),
}

/// The handle of one recording's label thread. Dropping it lets the thread
/// finish what it was handed and end; call [`Self::flush`] first to wait
/// for that.
#[derive(Debug)]
pub struct LabelSaver {
    sidecar: PathBuf,
    tx: Option<Sender<Request>>,
    events: Receiver<SaverEvent>,
    waiting: VecDeque<Request>,
    /// Answers made without the thread (it could not start, or stopped).
    here: Vec<SaverEvent>,
    unanswered: usize,
}

impl LabelSaver {
    /// The label thread of the recording at `recording_path` (its sidecar
    /// and journal beside it), named `spindle-labels`; `on_event` is called
    /// after each answer is queued (to wake a GUI).
    pub fn spawn(recording_path: &Path, on_event: impl Fn() + Send + 'static) -> Self {
        let sidecar = sidecar_path(recording_path);
        let (tx, requests) = bounded::<Request>(CAPACITY);
        let (answers, events) = bounded(CAPACITY);
        let thread_sidecar = sidecar.clone();
        let spawned = std::thread::Builder::new()
            .name("spindle-labels".into())
            .spawn(move || serve(&thread_sidecar, &requests, &answers, &on_event));
        Self {
            sidecar,
            // Without its thread the channel is disconnected and every
            // request is answered with the reason at once.
            tx: spawned.is_ok().then_some(tx),
            events,
            waiting: VecDeque::new(),
            here: Vec::new(),
            unanswered: 0,
        }
    }

    /// The sidecar this thread writes.
    pub fn sidecar(&self) -> &Path {
        &self.sidecar
    }

    /// Appends `edit` (which turned the labels into `after`) to the
    /// journal; `None` after an undo or redo, written as a snapshot.
    pub fn journal(&mut self, edit: Option<Edit>, after: LabelSet) {
        self.ask(Request::Journal { edit, after });
    }

    /// Writes `labels` (the document's `revision`) to the sidecar, then
    /// removes the journal when `clear_journal`.
    pub fn save(&mut self, revision: u64, labels: LabelSet, clear_journal: bool) {
        self.ask(Request::Save {
            revision,
            labels,
            clear_journal,
        });
    }

    /// Removes the journal.
    pub fn clear_journal(&mut self) {
        self.ask(Request::ClearJournal);
    }

    /// Sets the damaged sidecar at `path` aside (see [`set_aside_damaged`]).
    pub fn set_aside(&mut self, path: PathBuf) {
        self.ask(Request::SetAside(path));
    }

    /// True while a request has not been answered.
    pub fn is_busy(&self) -> bool {
        self.unanswered > 0
    }

    /// Hands queued requests on as room allows and returns the answers that
    /// arrived, in order. Never blocks.
    pub fn poll(&mut self) -> Vec<SaverEvent> {
        self.hand_on();
        let mut answers: Vec<SaverEvent> = self.events.try_iter().collect();
        answers.append(&mut self.here);
        self.unanswered = self.unanswered.saturating_sub(answers.len());
        answers
    }

    /// Waits until every request is answered, or `limit` has passed;
    /// returns the answers (for a UI that is closing).
    pub fn flush(&mut self, limit: Duration) -> Vec<SaverEvent> {
        let deadline = Instant::now() + limit;
        let mut answers = Vec::new();
        while self.unanswered > 0 {
            self.hand_on();
            if !self.here.is_empty() {
                self.unanswered = self.unanswered.saturating_sub(self.here.len());
                answers.append(&mut self.here);
                continue;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            match self
                .events
                .recv_timeout(left.min(Duration::from_millis(20)))
            {
                Ok(e) => {
                    answers.push(e);
                    self.unanswered -= 1;
                }
                Err(RecvTimeoutError::Timeout) if Instant::now() < deadline => {}
                Err(_) => break,
            }
        }
        answers
    }

    fn ask(&mut self, request: Request) {
        self.unanswered += 1;
        self.waiting.push_back(request);
        self.hand_on();
    }

    /// Moves waiting requests to the thread while it has room.
    fn hand_on(&mut self) {
        while let Some(request) = self.waiting.pop_front() {
            let Some(tx) = &self.tx else {
                self.answer_here(request, "the label thread could not start");
                continue;
            };
            match tx.try_send(request) {
                Ok(()) => {}
                Err(TrySendError::Full(request)) => {
                    self.waiting.push_front(request);
                    return;
                }
                Err(TrySendError::Disconnected(request)) => {
                    self.answer_here(request, "the label thread stopped");
                }
            }
        }
    }

    /// Answers `request` as failed, without a thread to carry it out.
    fn answer_here(&mut self, request: Request, why: &str) {
        let error = RecordingError::invalid(&self.sidecar, why);
        self.here.push(match request {
            Request::Journal { .. } => SaverEvent::Journaled(Err(error)),
            Request::Save { revision, .. } => SaverEvent::Saved {
                revision,
                result: Err(error),
            },
            Request::ClearJournal => SaverEvent::JournalCleared(Err(error)),
            Request::SetAside(_) => SaverEvent::SetAside(Err(error)),
        });
    }
}

/// The label thread: carries out requests in order until the handle is gone.
fn serve(
    sidecar: &Path,
    requests: &Receiver<Request>,
    answers: &Sender<SaverEvent>,
    on_event: &dyn Fn(),
) {
    let mut journal = EditJournal::new(journal_path(sidecar));
    for request in requests {
        let answer = match request {
            Request::Journal { edit, after } => {
                SaverEvent::Journaled(journal.record(edit.as_ref(), &after))
            }
            Request::Save {
                revision,
                labels,
                clear_journal,
            } => {
                let result = write_events_tsv(sidecar, &labels);
                if result.is_ok() && clear_journal {
                    // Saved: the journal holds nothing new (one left behind
                    // is recognized as saved when next opened).
                    let _ = journal.clear();
                }
                SaverEvent::Saved { revision, result }
            }
            Request::ClearJournal => SaverEvent::JournalCleared(journal.clear()),
            Request::SetAside(path) => SaverEvent::SetAside(set_aside_damaged(&path)),
        };
        // The handle may be gone (the app closing without a flush): the
        // work is done all the same.
        let _ = answers.send(answer);
        on_event();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::labeling::replay_journal;
    use crate::recording::{Label, read_events_tsv};

    fn wait_for(saver: &mut LabelSaver, n: usize) -> Vec<SaverEvent> {
        let mut got = Vec::new();
        let started = Instant::now();
        while got.len() < n {
            assert!(started.elapsed() < Duration::from_secs(10), "{got:?}");
            got.extend(saver.poll());
            std::thread::sleep(Duration::from_millis(2));
        }
        got
    }

    #[test]
    fn requests_are_carried_out_in_order_and_answered() {
        let dir = tempfile::tempdir().unwrap();
        let recording = dir.path().join("x.edf");
        let mut saver = LabelSaver::spawn(&recording, || {});
        let one = LabelSet::new(vec![Label::new(1.0, 1.0, "a")]);
        saver.journal(Some(Edit::Insert(one.labels[0].clone())), one.clone());
        saver.save(1, one.clone(), true);
        assert!(saver.is_busy());
        let got = wait_for(&mut saver, 2);
        assert!(
            matches!(
                got.as_slice(),
                [
                    SaverEvent::Journaled(Ok(())),
                    SaverEvent::Saved {
                        revision: 1,
                        result: Ok(())
                    }
                ]
            ),
            "{got:?}"
        );
        assert!(!saver.is_busy());
        assert_eq!(read_events_tsv(saver.sidecar()).unwrap(), one);
        assert!(
            !journal_path(saver.sidecar()).exists(),
            "cleared after the save"
        );
    }

    #[test]
    fn edits_made_while_a_save_is_in_flight_are_journaled_after_it() {
        let dir = tempfile::tempdir().unwrap();
        let recording = dir.path().join("x.edf");
        let mut saver = LabelSaver::spawn(&recording, || {});
        let one = LabelSet::new(vec![Label::new(1.0, 1.0, "a")]);
        let mut two = one.clone();
        let second = Label::new(5.0, 1.0, "b");
        two.labels.push(second.clone());
        saver.save(1, one.clone(), true);
        // An edit made before the save is answered: journaled after it, so
        // the journal is not removed from under it.
        saver.journal(Some(Edit::Insert(second)), two.clone());
        wait_for(&mut saver, 2);
        assert_eq!(read_events_tsv(saver.sidecar()).unwrap(), one);
        let replay = replay_journal(&journal_path(saver.sidecar()))
            .unwrap()
            .unwrap();
        assert_eq!(replay.labels, two);
    }

    #[test]
    fn more_requests_than_the_channel_holds_all_arrive_and_a_failure_names_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let recording = dir.path().join("x.edf");
        let mut saver = LabelSaver::spawn(&recording, || {});
        // A folder where the sidecar goes: every save fails.
        std::fs::create_dir(saver.sidecar()).unwrap();
        let mut labels = LabelSet::default();
        for k in 0..(3 * CAPACITY) {
            let label = Label::new(k as f64, 0.5, "a");
            labels.labels.push(label.clone());
            saver.journal(Some(Edit::Insert(label)), labels.clone());
        }
        saver.save(7, labels.clone(), true);
        let got = saver.flush(Duration::from_secs(20));
        assert_eq!(got.len(), 3 * CAPACITY + 1);
        assert!(
            got[..3 * CAPACITY]
                .iter()
                .all(|e| matches!(e, SaverEvent::Journaled(Ok(()))))
        );
        match &got[3 * CAPACITY] {
            SaverEvent::Saved {
                revision: 7,
                result: Err(e),
            } => assert!(
                e.to_string()
                    .starts_with(&saver.sidecar().display().to_string())
            ),
            other => panic!("unexpected {other:?}"),
        }
        // Nothing saved, so the journal still holds every edit.
        let replay = replay_journal(&journal_path(saver.sidecar()))
            .unwrap()
            .unwrap();
        assert_eq!(replay.labels, labels);
    }
}

//! Label editing, independent of any GUI: edits as values applied to a
//! [`LabelSet`](crate::recording::LabelSet), undo/redo history, autosave
//! timing, the folder's label scheme (names, colors, hotkeys), epoch scoring,
//! hit testing, a model's suggested labels awaiting acceptance, and what
//! rescues labels after a crash or a damaged file (the edit journal, the
//! sidecar's backup), and the thread that writes a recording's label files
//! so that a UI never waits on them ([`LabelSaver`]).

mod autosave;
mod document;
mod edit;
pub mod epoch;
mod hit;
mod journal;
mod order;
mod recovery;
pub mod rules;
mod saver;
mod scheme;
mod suggestions;
pub mod view;

pub use autosave::{AutosaveClock, DEADLINE_S, QUIET_S};
pub use document::LabelDocument;
pub use edit::{Edit, EditError};
pub use hit::{Hit, HitPart, hit_test};
pub use journal::{EditJournal, JournalReplay, journal_path, replay_journal};
pub use order::{LabelOrder, ordered, rename_class};
pub use recovery::{DamagedSidecar, OpenedLabels, open_labels, set_aside_damaged};
pub use saver::{LabelSaver, SaverEvent};
pub use scheme::{LabelClass, LabelScheme, SCHEME_FILE};
pub use suggestions::{ClassifiedWindow, Suggestion, Suggestions};
pub use view::{TimeView, ViewLimits};

//! A counting guard that proves the UI thread never touches a file.
//!
//! The app marks its UI thread while it runs a frame ([`UiThread::enter`],
//! held around `SpindleApp::run_logic` and `SpindleApp::show`); the
//! library's file entry points (the readers, the on-demand reader's file
//! reads, `write_atomic`, the label files, the label scheme, the edit
//! journal) call [`note`] with the file they are about to touch. A note on
//! a marked thread is counted ([`accesses`], per thread), remembered
//! ([`last_access`]), and in debug builds fails a `debug_assert!` naming
//! the file, so that a test of the app sees the slip at once. The app's
//! tests step the real app and assert that the count stays 0.
//!
//! The guard costs one thread-local read per file operation and never
//! changes what the operation does.

use std::cell::{Cell, RefCell};
use std::marker::PhantomData;
use std::path::{Path, PathBuf};

/// How a marked thread treats a file access.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Count it, and fail a `debug_assert!` in debug builds.
    Strict,
    /// Count it only (the guard's own tests).
    Counting,
}

thread_local! {
    static MODE: Cell<Option<Mode>> = const { Cell::new(None) };
    static ACCESSES: Cell<usize> = const { Cell::new(0) };
    static LAST: RefCell<Option<PathBuf>> = const { RefCell::new(None) };
}

/// Marks the current thread as the UI thread until dropped (restoring what
/// it was before, so that marks nest). Not `Send`: it belongs to the thread
/// that made it.
#[derive(Debug)]
#[must_use = "the thread is marked only while the guard lives"]
pub struct UiThread {
    before: Option<Mode>,
    _thread_bound: PhantomData<*const ()>,
}

impl UiThread {
    /// Marks this thread: a file access is counted and, in debug builds,
    /// fails a `debug_assert!` naming the file.
    pub fn enter() -> Self {
        Self::with_mode(Mode::Strict)
    }

    /// Marks this thread for counting only, without the debug assertion
    /// (for tests that make an access on purpose).
    pub fn enter_counting() -> Self {
        Self::with_mode(Mode::Counting)
    }

    fn with_mode(mode: Mode) -> Self {
        Self {
            before: MODE.replace(Some(mode)),
            _thread_bound: PhantomData,
        }
    }
}

impl Drop for UiThread {
    fn drop(&mut self) {
        MODE.set(self.before);
    }
}

/// True while the current thread is marked as the UI thread.
pub fn is_ui_thread() -> bool {
    MODE.get().is_some()
}

/// Notes that `path` is about to be opened, read, written, renamed or
/// removed. On a marked thread the access is counted and remembered; in
/// debug builds a strict mark fails a `debug_assert!` naming the file.
pub fn note(path: &Path) {
    let Some(mode) = MODE.get() else {
        return;
    };
    ACCESSES.set(ACCESSES.get() + 1);
    LAST.replace(Some(path.to_path_buf()));
    debug_assert!(
        mode == Mode::Counting,
        "{}: file access on the UI thread (run it on a worker)",
        path.display()
    );
}

/// File accesses noted on this thread while it was marked, since the
/// thread started.
pub fn accesses() -> usize {
    ACCESSES.get()
}

/// The file of the last access noted on this thread while it was marked.
pub fn last_access() -> Option<PathBuf> {
    LAST.with_borrow(Clone::clone)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::recording::{LabelSet, read_events_tsv, write_events_tsv};

    #[test]
    fn accesses_are_counted_only_on_a_marked_thread() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x_events.tsv");
        let before = accesses();
        write_events_tsv(&path, &LabelSet::default()).unwrap();
        read_events_tsv(&path).unwrap();
        assert_eq!(accesses(), before, "an unmarked thread counts nothing");
        {
            let _ui = UiThread::enter_counting();
            assert!(is_ui_thread());
            read_events_tsv(&path).unwrap();
        }
        assert!(!is_ui_thread());
        assert_eq!(accesses(), before + 1);
        assert_eq!(last_access(), Some(path.clone()));
        // Another thread has its own count.
        std::thread::scope(|s| {
            s.spawn(|| {
                let _ui = UiThread::enter_counting();
                assert_eq!(accesses(), 0);
            });
        });
    }

    #[test]
    fn marks_nest() {
        let outer = UiThread::enter_counting();
        {
            let _inner = UiThread::enter_counting();
        }
        assert!(is_ui_thread());
        drop(outer);
        assert!(!is_ui_thread());
    }

    #[test]
    #[cfg(debug_assertions)]
    #[should_panic(expected = "file access on the UI thread")]
    fn a_strict_mark_fails_in_debug_builds() {
        let _ui = UiThread::enter();
        note(Path::new("/data/x.edf"));
    }
}

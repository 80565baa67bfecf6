//! Keeping a panic in background work from taking the program down: the
//! work runs under [`catch_panic`], and a panic comes back as a [`Panicked`]
//! value that the caller reports like any other failure (the training job as
//! `Event::Failed`, the app's workers as their command's failure event, the
//! CLI as its one `error:` line).

use std::any::Any;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

/// Work that ended in a panic: what was being done, and the panic's message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}{doing} stopped on an internal error (a bug in Spindle; please report it with this message): {message}", file_prefix(.path.as_deref()))]
pub struct Panicked {
    /// The file the work was about, named first in the message.
    pub path: Option<PathBuf>,
    /// What was being done, e.g. `opening the recording`.
    pub doing: String,
    /// The panic's message (`index out of bounds ...`).
    pub message: String,
}

fn file_prefix(path: Option<&Path>) -> String {
    path.map_or_else(String::new, |p| format!("{}: ", p.display()))
}

/// Runs `work`; a panic inside it becomes a [`Panicked`] naming `doing` (and
/// `path`, when the work is about a file) instead of unwinding further.
///
/// Whatever `work` had changed before it panicked may be half done: give it
/// only state that it owns or that a half-done change cannot corrupt.
pub fn catch_panic<T>(
    path: Option<&Path>,
    doing: &str,
    work: impl FnOnce() -> T,
) -> Result<T, Panicked> {
    catch_unwind(AssertUnwindSafe(work)).map_err(|payload| Panicked {
        path: path.map(Path::to_path_buf),
        doing: doing.to_owned(),
        message: panic_message(payload.as_ref()),
    })
}

/// The text a panic was raised with (`panic!("...")`, an `expect`, an index
/// out of bounds), or a placeholder for a payload that is not text.
pub fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "a panic without a message".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_becomes_a_message_naming_the_file_and_the_work() {
        let r: Result<(), Panicked> = catch_panic(
            Some(Path::new("/data/x.edf")),
            "opening the recording",
            || panic!("index out of bounds: the len is 3 but the index is 7"),
        );
        assert_eq!(
            r.unwrap_err().to_string(),
            "/data/x.edf: opening the recording stopped on an internal error (a bug in Spindle; please report it with this message): index out of bounds: the len is 3 but the index is 7"
        );
    }

    #[test]
    fn a_formatted_panic_without_a_file_keeps_its_text() {
        let n = 4;
        let r: Result<(), Panicked> = catch_panic(None, "training", || panic!("{n} is odd"));
        assert_eq!(
            r.unwrap_err().to_string(),
            "training stopped on an internal error (a bug in Spindle; please report it with this message): 4 is odd"
        );
    }

    #[test]
    fn work_that_does_not_panic_returns_its_value() {
        assert_eq!(catch_panic(None, "adding", || 2 + 2), Ok(4));
    }

    #[test]
    fn a_payload_that_is_not_text_gets_a_placeholder() {
        let r: Result<(), Panicked> = catch_panic(None, "x", || std::panic::panic_any(17_u32));
        assert_eq!(r.unwrap_err().message, "a panic without a message");
    }
}

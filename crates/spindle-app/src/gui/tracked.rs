//! Values that say when they changed: every mutable access to a
//! [`Tracked`] value gives it a new revision, so a cache built from it
//! keeps the revision it was built from and is rebuilt when they differ
//! (the app's one invalidation rule, `app/state.rs`).

use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicU64, Ordering};

/// Revisions are unique across all tracked values of the process, so a
/// replaced value never repeats an old revision.
static NEXT_REVISION: AtomicU64 = AtomicU64::new(1);

fn next_revision() -> u64 {
    NEXT_REVISION.fetch_add(1, Ordering::Relaxed)
}

/// A value and its revision: read it through `Deref`; any `&mut` access
/// (`DerefMut`, [`Tracked::set`]) counts as a change.
#[derive(Debug)]
pub struct Tracked<T> {
    value: T,
    revision: u64,
}

impl<T> Tracked<T> {
    /// `value` at a new revision.
    pub fn new(value: T) -> Self {
        Self {
            value,
            revision: next_revision(),
        }
    }

    /// Replaces the value.
    pub fn set(&mut self, value: T) {
        *self.deref_mut() = value;
    }

    /// The revision of the value now.
    pub fn revision(&self) -> u64 {
        self.revision
    }
}

impl<T: Default> Default for Tracked<T> {
    fn default() -> Self {
        Self::new(T::default())
    }
}

impl<T> Deref for Tracked<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.value
    }
}

impl<T> DerefMut for Tracked<T> {
    fn deref_mut(&mut self) -> &mut T {
        self.revision = next_revision();
        &mut self.value
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reading_keeps_the_revision_and_any_change_makes_a_new_one() {
        let mut a = Tracked::new(vec![1]);
        let r = a.revision();
        assert_eq!(a.len(), 1);
        assert_eq!(a.revision(), r);
        a.push(2);
        let after_push = a.revision();
        assert_ne!(after_push, r);
        a.set(Vec::new());
        assert_ne!(a.revision(), after_push);
        // Two values never share a revision.
        assert_ne!(Tracked::new(0).revision(), Tracked::new(0).revision());
    }
}

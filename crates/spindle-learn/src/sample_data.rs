//! Where a program finds the teaching recordings of `sample_data/` (what
//! `spindle synth` writes), from any working folder, installed or not.
//!
//! [`find`] looks, in this order, for:
//! 1. `$SPINDLE_SAMPLE_DATA` ([`SAMPLE_DATA_ENV`]), when set;
//! 2. an installed copy beside the executable: `<exe dir>/../share/spindle/sample_data`
//!    (the `.deb`, the tarball), `<exe dir>/../Resources/sample_data` (the
//!    macOS app), `<exe dir>/sample_data` (Windows);
//! 3. `sample_data/` of the source tree the program was built from.
//!
//! [`for_app`] is what the app opens: an installed copy is not edited in
//! place (labels saved there would land in `/usr/share`, or be lost on the
//! next update), so it is copied once into the user data folder
//! ([`crate::runs::data_dir`]`/sample_data`) and that copy is opened; with
//! nothing found, the recordings are written there with
//! [`spindle_signals::synth`] (byte for byte the same files).

use std::path::{Path, PathBuf};

use spindle_signals::synth::{SAMPLE_SEED, write_teaching_data};

/// The environment variable naming the sample data folder to use.
pub const SAMPLE_DATA_ENV: &str = "SPINDLE_SAMPLE_DATA";

/// Where [`find`] found the sample data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// Named by [`SAMPLE_DATA_ENV`].
    Env,
    /// Installed beside the executable by a package.
    Installed,
    /// The source tree the program was built from.
    SourceTree,
}

/// What went wrong making the user's copy of the sample data.
#[derive(Debug, thiserror::Error)]
pub enum SampleDataError {
    /// No user data folder is known (no home folder).
    #[error("no user data folder (HOME is not set) to write the sample data into")]
    NoDataDir,
    /// A file or folder could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// What the system said.
        source: std::io::Error,
    },
    /// Writing the recordings with `synth` failed.
    #[error(transparent)]
    Synth(#[from] spindle_signals::recording::RecordingError),
}

impl SampleDataError {
    fn io(path: &Path, source: std::io::Error) -> Self {
        SampleDataError::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}

/// The sample data folder and where it was found, or `None` (see the module
/// documentation for the order). Writes nothing.
pub fn find() -> Option<(PathBuf, Origin)> {
    let env = std::env::var_os(SAMPLE_DATA_ENV).filter(|v| !v.is_empty());
    let exe_dir = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(Path::to_path_buf));
    find_in(env.map(PathBuf::from), exe_dir.as_deref(), &source_tree())
}

/// [`find`] with its inputs given.
fn find_in(
    env: Option<PathBuf>,
    exe_dir: Option<&Path>,
    source_tree: &Path,
) -> Option<(PathBuf, Origin)> {
    if let Some(dir) = env {
        return dir.is_dir().then_some((dir, Origin::Env));
    }
    let installed = exe_dir.into_iter().flat_map(|d| {
        [
            d.join("..")
                .join("share")
                .join("spindle")
                .join("sample_data"),
            d.join("..").join("Resources").join("sample_data"),
            d.join("sample_data"),
        ]
    });
    installed
        .map(|d| (d, Origin::Installed))
        .chain([(source_tree.to_path_buf(), Origin::SourceTree)])
        .find(|(d, _)| d.is_dir())
}

/// `sample_data/` of the source tree (this crate sits two folders below
/// the repository root).
fn source_tree() -> PathBuf {
    let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    crate_dir
        .ancestors()
        .nth(2)
        .unwrap_or(crate_dir)
        .join("sample_data")
}

/// The folder the app opens as the sample data: [`find`]'s, except that an
/// installed copy is replaced by the user's copy in the user data folder
/// (made from it the first time), and that with nothing found the user's
/// copy is written with `synth`. An existing user copy is kept as it is
/// (its labels may have been edited).
pub fn for_app() -> Result<PathBuf, SampleDataError> {
    let found = find();
    match found {
        Some((dir, Origin::Env | Origin::SourceTree)) => Ok(dir),
        _ => {
            let data_dir = crate::runs::data_dir().ok_or(SampleDataError::NoDataDir)?;
            let user_copy = data_dir.join("sample_data");
            let installed = found.map(|(dir, _)| dir);
            make_user_copy(installed.as_deref(), &user_copy)?;
            Ok(user_copy)
        }
    }
}

/// Makes `user_copy` from `installed` (copied), or with `synth` when there
/// is none, unless it exists already or is `installed` itself (a tarball
/// installed into `~/.local`). Written into a temporary sibling and renamed,
/// so an interrupted first run leaves no half copy.
fn make_user_copy(installed: Option<&Path>, user_copy: &Path) -> Result<(), SampleDataError> {
    if user_copy.is_dir() {
        return Ok(());
    }
    let parent = user_copy.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent).map_err(|e| SampleDataError::io(parent, e))?;
    let scratch = tempfile::Builder::new()
        .prefix(".sample_data-")
        .tempdir_in(parent)
        .map_err(|e| SampleDataError::io(parent, e))?;
    match installed {
        Some(from) => copy_tree(from, scratch.path())?,
        None => {
            write_teaching_data(scratch.path(), SAMPLE_SEED)?;
        }
    }
    let done = scratch.keep();
    std::fs::rename(&done, user_copy).map_err(|e| {
        let _ = std::fs::remove_dir_all(&done);
        SampleDataError::io(user_copy, e)
    })
}

/// Copies the files and folders of `from` into the existing folder `to`;
/// the copies are writable whatever the originals' permissions.
fn copy_tree(from: &Path, to: &Path) -> Result<(), SampleDataError> {
    for entry in std::fs::read_dir(from).map_err(|e| SampleDataError::io(from, e))? {
        let entry = entry.map_err(|e| SampleDataError::io(from, e))?;
        let (src, dst) = (entry.path(), to.join(entry.file_name()));
        let kind = entry
            .file_type()
            .map_err(|e| SampleDataError::io(&src, e))?;
        if kind.is_dir() {
            std::fs::create_dir(&dst).map_err(|e| SampleDataError::io(&dst, e))?;
            copy_tree(&src, &dst)?;
        } else if kind.is_file() {
            let bytes = std::fs::read(&src).map_err(|e| SampleDataError::io(&src, e))?;
            std::fs::write(&dst, bytes).map_err(|e| SampleDataError::io(&dst, e))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_environment_wins_then_the_installed_copy_then_the_source_tree() {
        let root = tempfile::tempdir().unwrap();
        let bin = root.path().join("bin");
        let installed = root.path().join("share/spindle/sample_data");
        let source = root.path().join("src/sample_data");
        let env = root.path().join("mine");
        for d in [&bin, &installed, &source, &env] {
            std::fs::create_dir_all(d).unwrap();
        }
        let found = |env: Option<&Path>| find_in(env.map(Path::to_path_buf), Some(&bin), &source);
        assert_eq!(found(Some(&env)), Some((env.clone(), Origin::Env)));
        assert_eq!(found(None).map(|f| f.1), Some(Origin::Installed));
        std::fs::remove_dir_all(&installed).unwrap();
        assert_eq!(found(None), Some((source.clone(), Origin::SourceTree)));
        std::fs::remove_dir_all(&source).unwrap();
        assert_eq!(found(None), None);
        // A folder named in the environment that does not exist is not
        // replaced by another.
        assert_eq!(found(Some(&root.path().join("missing"))), None);
    }

    #[test]
    fn the_user_copy_is_made_once_from_the_installed_copy() {
        let root = tempfile::tempdir().unwrap();
        let installed = root.path().join("installed");
        std::fs::create_dir_all(installed.join("eeg")).unwrap();
        std::fs::write(installed.join("eeg/a.tsv"), "onset\n").unwrap();
        let user_copy = root.path().join("data/spindle/sample_data");
        make_user_copy(Some(&installed), &user_copy).unwrap();
        assert_eq!(
            std::fs::read_to_string(user_copy.join("eeg/a.tsv")).unwrap(),
            "onset\n"
        );
        // An edited copy is kept.
        std::fs::write(user_copy.join("eeg/a.tsv"), "edited\n").unwrap();
        make_user_copy(Some(&installed), &user_copy).unwrap();
        assert_eq!(
            std::fs::read_to_string(user_copy.join("eeg/a.tsv")).unwrap(),
            "edited\n"
        );
        // No scratch folder is left beside it.
        let names: Vec<_> = std::fs::read_dir(user_copy.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["sample_data"]);
    }

    #[test]
    fn with_nothing_installed_synth_writes_the_committed_bytes() {
        let root = tempfile::tempdir().unwrap();
        let user_copy = root.path().join("sample_data");
        make_user_copy(None, &user_copy).unwrap();
        let committed = spindle_signals::testdata::sample("eeg/sub-01_events.tsv");
        assert_eq!(
            std::fs::read(user_copy.join("eeg/sub-01_events.tsv")).unwrap(),
            std::fs::read(committed).unwrap()
        );
    }
}

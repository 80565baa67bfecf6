//! Atomic file replacement: a reader sees the old file or the new one, never a
//! half-written mix, even when the process dies or the power fails mid-save.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use super::RecordingError;

/// Tells apart the temporary files of concurrent saves within one process.
static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// Writes `bytes` to `path` atomically: to a temporary file in the same folder,
/// flushed to disk (fsync), then renamed over `path`; on unix the folder is
/// fsynced too so that the rename itself survives a crash.
///
/// An existing file at `path` is replaced and its permissions are kept. On
/// error the temporary file is removed and `path` is left as it was.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), RecordingError> {
    crate::io_guard::note(path);
    let Some(name) = path.file_name() else {
        return Err(RecordingError::invalid(path, "not a file path"));
    };
    let dir = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
        _ => PathBuf::from("."),
    };

    let (temp_path, mut file) = create_temp(&dir, name).map_err(|e| RecordingError::io(path, e))?;
    let written = write_and_sync(&mut file, bytes, path);
    drop(file);
    let renamed = written.and_then(|()| fs::rename(&temp_path, path));
    if let Err(e) = renamed {
        // Best effort: the temp file may already be gone; the first error is the one to report.
        let _ = fs::remove_file(&temp_path);
        return Err(RecordingError::io(path, e));
    }
    sync_dir(&dir).map_err(|e| RecordingError::io(path, e))
}

/// Creates a new, empty temporary file `.<name>.<pid>.<n>.tmp` in `dir`.
fn create_temp(dir: &Path, name: &std::ffi::OsStr) -> io::Result<(PathBuf, File)> {
    let pid = std::process::id();
    let mut last_error = None;
    for _ in 0..16 {
        let n = TEMP_COUNTER.fetch_add(1, Ordering::Relaxed);
        let mut temp_name = std::ffi::OsString::from(".");
        temp_name.push(name);
        temp_name.push(format!(".{pid}.{n}.tmp"));
        let temp_path = dir.join(temp_name);
        match OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&temp_path)
        {
            Ok(file) => return Ok((temp_path, file)),
            // A stale file from a crashed process with the same pid: try the next name.
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => last_error = Some(e),
            Err(e) => return Err(e),
        }
    }
    Err(last_error.unwrap_or_else(|| io::Error::other("no free temporary file name")))
}

/// Writes all of `bytes`, copies the permissions of an existing `target`, and
/// flushes the data to disk.
fn write_and_sync(file: &mut File, bytes: &[u8], target: &Path) -> io::Result<()> {
    file.write_all(bytes)?;
    if let Ok(meta) = fs::metadata(target) {
        // Keeping the old mode is a courtesy, not a requirement of the save.
        let _ = file.set_permissions(meta.permissions());
    }
    file.sync_all()
}

/// Flushes a folder's entries to disk so that a rename in it is durable.
#[cfg(unix)]
fn sync_dir(dir: &Path) -> io::Result<()> {
    match File::open(dir).and_then(|d| d.sync_all()) {
        // Some file systems (network, FUSE) cannot fsync a folder; the data is written anyway.
        Err(e) if e.kind() == io::ErrorKind::InvalidInput => Ok(()),
        other => other,
    }
}

/// Folder entries need no separate flush on this platform.
#[cfg(not(unix))]
fn sync_dir(_dir: &Path) -> io::Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn writes_a_new_file_and_leaves_no_temp_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x_events.tsv");
        write_atomic(&path, b"hello\n").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"hello\n");
        assert_eq!(entries(dir.path()), ["x_events.tsv"]);
    }

    #[test]
    fn replaces_an_existing_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.txt");
        fs::write(&path, b"old content that is longer").unwrap();
        write_atomic(&path, b"new").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"new");
        write_atomic(&path, b"").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"");
        assert_eq!(entries(dir.path()), ["a.txt"]);
    }

    #[cfg(unix)]
    #[test]
    fn keeps_the_permissions_of_the_replaced_file() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.txt");
        fs::write(&path, b"old").unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o640)).unwrap();
        write_atomic(&path, b"new").unwrap();
        let mode = fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o640);
    }

    #[test]
    fn missing_folder_is_an_io_error_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("no/such/folder/a.txt");
        let err = write_atomic(&path, b"x").unwrap_err();
        assert!(matches!(err, RecordingError::Io { .. }));
        assert_eq!(err.path(), path);
    }

    #[cfg(unix)]
    #[test]
    fn failed_rename_removes_the_temp_file_and_keeps_the_target() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("target");
        fs::create_dir(&path).unwrap();
        fs::write(path.join("inside"), b"keep").unwrap();
        let err = write_atomic(&path, b"x").unwrap_err();
        assert!(matches!(err, RecordingError::Io { .. }));
        assert_eq!(entries(dir.path()), ["target"]);
        assert_eq!(fs::read(path.join("inside")).unwrap(), b"keep");
    }

    #[test]
    fn path_without_file_name_is_invalid() {
        let err = write_atomic(Path::new("/"), b"x").unwrap_err();
        assert!(matches!(err, RecordingError::Invalid { .. }));
    }
}

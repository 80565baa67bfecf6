//! SHA-256 of the data files a run names in `run.json`, remembered for large
//! files. Hashing reads every byte (about 1.2 GB/s on one core here: 3.4 s
//! for a 4 GB file), and the runs of a sweep or of cross-validation hash the
//! same files again and again. A file of at least
//! [`REMEMBERED_FROM_BYTES`] is looked up by its path, size and modification
//! time in a small cache file (`file-hashes.tsv` in the platform's cache
//! folder) and hashed only when they changed, as `make` and `rsync` decide
//! that a file is unchanged. The cache only ever saves time: one that cannot
//! be read or written is ignored, and an entry that does not match is
//! hashed again.

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use sha2::{Digest, Sha256};

use super::TrainError;

/// Files at least this large (64 MiB, about 60 ms of hashing) have their hash
/// remembered.
pub const REMEMBERED_FROM_BYTES: u64 = 64 << 20;

/// Entries the cache keeps (the newest).
const MAX_ENTRIES: usize = 1000;

/// The largest cache file read or written (an entry is about 150 bytes).
const MAX_CACHE_BYTES: usize = 1 << 20;

/// Files at least this large (1 GiB, about a second of hashing) are worth a
/// word to the user before they are hashed.
pub const NOTED_FROM_BYTES: u64 = 1 << 30;

/// SHA-256 of a file, hex, remembered in the user's cache folder for large
/// files (see the module's documentation). `before_hashing` is called with
/// the file's size in bytes, and whether its hash will be remembered, when
/// the file is about to be read whole (not when the cache answers).
pub fn sha256_file(
    path: &Path,
    before_hashing: impl FnOnce(u64, bool),
) -> Result<String, TrainError> {
    sha256_file_cached(path, cache_file().as_deref(), before_hashing)
}

/// [`sha256_file`] with the cache file `cache` (`None`: no cache).
pub fn sha256_file_cached(
    path: &Path,
    cache: Option<&Path>,
    before_hashing: impl FnOnce(u64, bool),
) -> Result<String, TrainError> {
    let mut file = File::open(path).map_err(|e| TrainError::run_folder(path, e))?;
    let key = cache.and_then(|_| Key::of(path, &file));
    if let (Some(cache), Some(key)) = (cache, &key)
        && let Some(hash) = read_entries(cache)
            .into_iter()
            .find(|e| e.key == *key)
            .map(|e| e.sha256)
    {
        return Ok(hash);
    }
    let bytes = file.metadata().map_or(0, |m| m.len());
    before_hashing(bytes, key.is_some());
    let hash = sha256_of(path, &mut file)?;
    // A file that changed while it was read (still being written) is not
    // remembered.
    if let (Some(cache), Some(key)) = (cache, key)
        && Key::of(path, &file).as_ref() == Some(&key)
    {
        let sha256 = hash.clone();
        remember(cache, Entry { key, sha256 });
    }
    Ok(hash)
}

/// Hashes the whole of `file` (opened from `path`).
fn sha256_of(path: &Path, file: &mut File) -> Result<String, TrainError> {
    let mut hasher = Sha256::new();
    std::io::copy(file, &mut hasher).map_err(|e| TrainError::run_folder(path, e))?;
    Ok(hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect())
}

/// What identifies a file's contents in the cache.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Key {
    /// The canonical path (a path with a tab or a line break is never
    /// remembered).
    path: String,
    size: u64,
    modified_ns: u128,
}

impl Key {
    /// The key of `file` at `path`; `None` for a file under
    /// [`REMEMBERED_FROM_BYTES`], one whose modification time or canonical
    /// path is unknown, or a path that cannot be written on one line.
    fn of(path: &Path, file: &File) -> Option<Self> {
        let meta = file.metadata().ok()?;
        if meta.len() < REMEMBERED_FROM_BYTES {
            return None;
        }
        let modified_ns = meta
            .modified()
            .ok()?
            .duration_since(UNIX_EPOCH)
            .ok()?
            .as_nanos();
        let path = std::fs::canonicalize(path).ok()?.to_str()?.to_string();
        if path.contains(['\t', '\n', '\r']) {
            return None;
        }
        Some(Self {
            path,
            size: meta.len(),
            modified_ns,
        })
    }
}

/// One line of the cache: `sha256 TAB size TAB modified_ns TAB path`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Entry {
    key: Key,
    sha256: String,
}

impl Entry {
    fn parse(line: &str) -> Option<Self> {
        let mut fields = line.splitn(4, '\t');
        let sha256 = fields.next()?;
        let size = fields.next()?.parse().ok()?;
        let modified_ns = fields.next()?.parse().ok()?;
        let path = fields.next()?;
        let hex = sha256.len() == 64 && sha256.bytes().all(|b| b.is_ascii_hexdigit());
        hex.then(|| Self {
            key: Key {
                path: path.to_string(),
                size,
                modified_ns,
            },
            sha256: sha256.to_ascii_lowercase(),
        })
    }

    fn line(&self) -> String {
        format!(
            "{}\t{}\t{}\t{}\n",
            self.sha256, self.key.size, self.key.modified_ns, self.key.path
        )
    }
}

/// The cache's entries, oldest first; none when it is missing, not a plain
/// file, over [`MAX_CACHE_BYTES`] or unreadable (malformed lines are
/// skipped).
fn read_entries(cache: &Path) -> Vec<Entry> {
    spindle_signals::io_guard::note(cache);
    let mut text = String::new();
    let read = File::open(cache).and_then(|f| {
        if !f.metadata()?.is_file() {
            return Ok(0);
        }
        f.take(MAX_CACHE_BYTES as u64 + 1).read_to_string(&mut text)
    });
    if !matches!(read, Ok(n) if n <= MAX_CACHE_BYTES) {
        return Vec::new();
    }
    text.lines().filter_map(Entry::parse).collect()
}

/// Adds `entry` to the cache (replacing the file's older entry, keeping the
/// newest [`MAX_ENTRIES`] within [`MAX_CACHE_BYTES`]), written atomically; a
/// failure is ignored. Another process's entry written between the read and
/// the write here is lost, which costs that file one more hashing.
fn remember(cache: &Path, entry: Entry) {
    let mut entries = read_entries(cache);
    entries.retain(|e| e.key.path != entry.key.path);
    entries.push(entry);
    let lines: Vec<String> = entries.iter().map(Entry::line).collect();
    let mut bytes = 0;
    let kept = lines
        .iter()
        .rev()
        .take(MAX_ENTRIES)
        .take_while(|l| {
            bytes += l.len();
            bytes <= MAX_CACHE_BYTES
        })
        .count();
    let text: String = lines[lines.len() - kept..].concat();
    if let Some(dir) = cache.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    let _ = spindle_signals::recording::write_atomic(cache, text.as_bytes());
}

/// `file-hashes.tsv` in Spindle's folder of the platform's cache folder:
/// Linux (and other Unix) `$XDG_CACHE_HOME/spindle` or `~/.cache/spindle`,
/// macOS `~/Library/Caches/Spindle`, Windows `%LOCALAPPDATA%\Spindle\cache`;
/// `None` when no home folder is known.
fn cache_file() -> Option<PathBuf> {
    cache_file_for(std::env::consts::OS, |name| std::env::var_os(name))
}

/// [`cache_file`] for operating system `os` with environment lookups by
/// `env`.
fn cache_file_for(os: &str, env: impl Fn(&str) -> Option<std::ffi::OsString>) -> Option<PathBuf> {
    let var = |name: &str| env(name).filter(|v| !v.is_empty()).map(PathBuf::from);
    let dir = match os {
        "windows" => var("LOCALAPPDATA").map(|d| d.join("Spindle").join("cache")),
        "macos" | "ios" => var("HOME").map(|h| h.join("Library").join("Caches").join("Spindle")),
        _ => var("XDG_CACHE_HOME")
            // The XDG spec says relative paths are to be ignored.
            .filter(|d| d.is_absolute())
            .or_else(|| var("HOME").map(|h| h.join(".cache")))
            .map(|d| d.join("spindle")),
    }?;
    Some(dir.join("file-hashes.tsv"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::OsString;
    use std::io::Write;

    /// A file of `REMEMBERED_FROM_BYTES` bytes, all `byte` (sparse where the
    /// file system allows: written at its end only).
    fn large_file(path: &Path, byte: u8) {
        let mut f = File::create(path).unwrap();
        f.set_len(REMEMBERED_FROM_BYTES - 1).unwrap();
        std::io::Seek::seek(&mut f, std::io::SeekFrom::End(0)).unwrap();
        f.write_all(&[byte]).unwrap();
    }

    fn set_modified(path: &Path, t: std::time::SystemTime) {
        File::options()
            .write(true)
            .open(path)
            .unwrap()
            .set_modified(t)
            .unwrap();
    }

    #[test]
    fn a_large_file_is_hashed_once_until_its_size_or_time_changes() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("big.edf");
        let cache = dir.path().join("cache").join("file-hashes.tsv");
        large_file(&data, 1);
        let t = std::time::SystemTime::now();
        set_modified(&data, t);
        // Hashing is announced with the size and whether it is remembered.
        let mut told = Vec::new();
        let first = sha256_file_cached(&data, Some(&cache), |b, r| told.push((b, r))).unwrap();
        let uncached = sha256_file_cached(&data, None, |b, r| told.push((b, r))).unwrap();
        assert_eq!(first, uncached);
        let size = REMEMBERED_FROM_BYTES;
        assert_eq!(told, [(size, true), (size, false)]);
        assert_eq!(read_entries(&cache).len(), 1);
        // Changed in place with the same size and time: the cache answers
        // (which shows it is used), as make or rsync would.
        large_file(&data, 2);
        set_modified(&data, t);
        let mut hashed = false;
        let remembered = sha256_file_cached(&data, Some(&cache), |_, _| hashed = true).unwrap();
        assert_eq!(remembered, first);
        assert!(!hashed, "the cache answered, nothing to announce");
        // A new size with the same time: hashed again.
        let longer = File::options().write(true).open(&data).unwrap();
        longer.set_len(REMEMBERED_FROM_BYTES + 1).unwrap();
        longer.set_modified(t).unwrap();
        drop(longer);
        let grown = sha256_file_cached(&data, Some(&cache), |_, _| {}).unwrap();
        assert_ne!(grown, first);
        assert_eq!(grown, sha256_file_cached(&data, None, |_, _| {}).unwrap());
        // A new modification time: hashed again, and the entry replaced.
        set_modified(&data, t + std::time::Duration::from_secs(1));
        let second = sha256_file_cached(&data, Some(&cache), |_, _| {}).unwrap();
        assert_ne!(second, first);
        assert_eq!(second, sha256_file_cached(&data, None, |_, _| {}).unwrap());
        assert_eq!(read_entries(&cache).len(), 1);
    }

    #[test]
    fn small_files_and_broken_caches_hash_directly() {
        let dir = tempfile::tempdir().unwrap();
        let small = dir.path().join("small.edf");
        std::fs::write(&small, b"abc").unwrap();
        let cache = dir.path().join("file-hashes.tsv");
        assert_eq!(
            sha256_file_cached(&small, Some(&cache), |_, _| {}).unwrap(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert!(!cache.exists());
        // A cache that is not a cache: ignored, then replaced.
        let data = dir.path().join("big.edf");
        large_file(&data, 3);
        std::fs::write(&cache, "not\ta cache\n\u{0}").unwrap();
        let hash = sha256_file_cached(&data, Some(&cache), |_, _| {}).unwrap();
        assert_eq!(hash, sha256_file_cached(&data, None, |_, _| {}).unwrap());
        assert_eq!(read_entries(&cache).len(), 1);
        // A cache that cannot be written (its folder is a file): no error.
        let blocked = small.join("file-hashes.tsv");
        assert_eq!(
            sha256_file_cached(&data, Some(&blocked), |_, _| {}).unwrap(),
            hash
        );
        // A missing data file is an error naming it.
        let err =
            sha256_file_cached(&dir.path().join("gone.edf"), Some(&cache), |_, _| {}).unwrap_err();
        assert!(err.to_string().contains("gone.edf"), "{err}");
    }

    #[test]
    fn the_cache_keeps_the_newest_entries_and_skips_bad_lines() {
        let entry = |i: usize| Entry {
            key: Key {
                path: format!("/data/{i}.edf"),
                size: REMEMBERED_FROM_BYTES + i as u64,
                modified_ns: i as u128,
            },
            sha256: format!("{i:064x}"),
        };
        assert_eq!(Entry::parse(entry(7).line().trim_end()), Some(entry(7)));
        assert_eq!(Entry::parse("xyz\t1\t2\t/a"), None);
        assert_eq!(Entry::parse(&format!("{:064x}\tten\t2\t/a", 1)), None);
        let dir = tempfile::tempdir().unwrap();
        let cache = dir.path().join("file-hashes.tsv");
        let full: String = (0..MAX_ENTRIES + 4).map(|i| entry(i).line()).collect();
        std::fs::write(&cache, full).unwrap();
        remember(&cache, entry(MAX_ENTRIES + 4));
        let kept = read_entries(&cache);
        assert_eq!(kept.len(), MAX_ENTRIES);
        assert_eq!(kept[0], entry(5));
        assert_eq!(kept[MAX_ENTRIES - 1], entry(MAX_ENTRIES + 4));
        // Entries with long paths: the newest that fit in the byte limit.
        let long = |i: usize| {
            let mut e = entry(i);
            e.key.path = format!("/{}/{i}.edf", "d".repeat(4000));
            e
        };
        let fit = MAX_CACHE_BYTES / long(0).line().len();
        let full: String = (0..fit).map(|i| long(i).line()).collect();
        std::fs::write(&cache, full).unwrap();
        assert_eq!(read_entries(&cache).len(), fit);
        remember(&cache, long(fit));
        let kept = read_entries(&cache);
        assert_eq!(kept.len(), fit);
        assert_eq!(kept[0], long(1));
        assert_eq!(kept.last(), Some(&long(fit)));
        assert!(std::fs::metadata(&cache).unwrap().len() <= MAX_CACHE_BYTES as u64);
        // A cache over the limit is ignored.
        std::fs::write(&cache, "x".repeat(MAX_CACHE_BYTES + 1)).unwrap();
        assert!(read_entries(&cache).is_empty());
    }

    #[test]
    fn the_cache_lives_in_the_platforms_cache_folder() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                pairs
                    .iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| OsString::from(v))
            }
        };
        const HOME: &[(&str, &str)] = &[("HOME", "/home/ada")];
        assert_eq!(
            cache_file_for("linux", env(HOME)),
            Some(PathBuf::from("/home/ada/.cache/spindle/file-hashes.tsv"))
        );
        assert_eq!(
            cache_file_for(
                "linux",
                env(&[("HOME", "/home/ada"), ("XDG_CACHE_HOME", "/c")])
            ),
            Some(PathBuf::from("/c/spindle/file-hashes.tsv"))
        );
        assert_eq!(
            cache_file_for(
                "linux",
                env(&[("HOME", "/home/ada"), ("XDG_CACHE_HOME", "rel")])
            ),
            Some(PathBuf::from("/home/ada/.cache/spindle/file-hashes.tsv"))
        );
        assert_eq!(
            cache_file_for("macos", env(HOME)),
            Some(PathBuf::from(
                "/home/ada/Library/Caches/Spindle/file-hashes.tsv"
            ))
        );
        assert_eq!(
            cache_file_for(
                "windows",
                env(&[("LOCALAPPDATA", "C:\\Users\\ada\\AppData\\Local")])
            ),
            Some(
                PathBuf::from("C:\\Users\\ada\\AppData\\Local")
                    .join("Spindle")
                    .join("cache")
                    .join("file-hashes.tsv")
            )
        );
        assert_eq!(cache_file_for("linux", env(&[])), None);
    }
}

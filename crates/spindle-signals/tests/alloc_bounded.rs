//! No input file, whatever its header claims, makes `read_recording` allocate
//! more than the file can back.
//!
//! A counting global allocator tracks the peak of live heap bytes while one
//! file is read (the returned recording included). Each case states what the
//! file really holds, and the peak must stay within
//!
//! ```text
//! decoded + buffer + TEXT_FACTOR x text bytes + SLACK_BYTES
//! ```
//!
//! - `decoded`: the sample bytes present in the file as the reader's `f32`
//!   samples (EDF 16-bit 2x, BDF 24-bit 4/3x, WAV 8-bit 4x, 16-bit 2x, 24-bit
//!   4/3x, 32-bit 1x, 64-bit float 1/2x, BrainVision `INT_16` 2x);
//! - `buffer`: the one read buffer the readers decode through, never larger
//!   than the sample bytes present (EDF at most 8 MiB per thread, WAV and
//!   BrainVision 1 MiB; the files here are far smaller, so it is the sample
//!   bytes);
//! - `text bytes`: header, marker and annotation bytes, which become strings
//!   and annotations (an annotation is 48 bytes plus its text, so a few bytes
//!   of a marker file can become a hundred: [`TEXT_FACTOR`]);
//! - [`SLACK_BYTES`]: fixed overhead independent of the file.
//!
//! All cases run in one test so that nothing else allocates while a read is
//! measured, in a test binary of its own: the EDF reader decodes on scoped
//! threads, so the allocator must count every thread of the process, which
//! the other tests of the crate (in `tests/it/`) would disturb.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic on what cannot happen

use std::alloc::{GlobalAlloc, Layout, System};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use spindle_signals::recording::{
    Annotation, Channel, EdfWriteOptions, Recording, WavSampleFormat, read_recording,
    write_brainvision, write_edf, write_wav,
};

/// The file builders of the `it` binary's support module.
#[path = "it/support/files.rs"]
mod files;

use files::{MARKER_HEAD, brainvision, edf_bytes, vhdr, wav_bytes};

/// Fixed overhead of one read, whatever the file: the WAV reader's 64 KiB
/// `BufReader`, the paths, the error or warning messages, the per-channel
/// vectors of a few channels and the allocator's rounding of small requests
/// (counted here as requested, so not at all). 128 KiB leaves room for the
/// 64 KiB buffer and about as much again for everything else.
const SLACK_BYTES: usize = 128 << 10;

/// Heap bytes one byte of header, marker or annotation text may become. The
/// smallest EDF+ annotation, `+1\x14a\x14\0` (7 bytes), and the smallest
/// marker, `Mk1=,a,1\n` (9 bytes), each become a 48-byte `Annotation` and its
/// text, about 7x; the list of annotations grows by doubling and, while it
/// moves, holds the old block and the new one (counted here as both alive),
/// which triples that at the worst moment: about 21x, rounded up to 24.
const TEXT_FACTOR: usize = 24;

struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

fn grow(bytes: usize) {
    let live = LIVE.fetch_add(bytes, Ordering::SeqCst) + bytes;
    PEAK.fetch_max(live, Ordering::SeqCst);
}

fn shrink(bytes: usize) {
    LIVE.fetch_sub(bytes, Ordering::SeqCst);
}

// SAFETY: every method forwards to the system allocator with the caller's
// arguments unchanged and only counts sizes on the side.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller upholds `alloc`'s contract, which is `System`'s.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            grow(layout.size());
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as for `alloc`.
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            grow(layout.size());
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from this allocator, that is from `System`.
        unsafe { System.dealloc(ptr, layout) };
        shrink(layout.size());
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: as for `dealloc`; the caller upholds `realloc`'s contract.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            // Count a move as both blocks alive for a moment.
            grow(new_size);
            shrink(layout.size());
        }
        p
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// What a file really holds, for its bound.
#[derive(Debug, Clone, Copy)]
struct Backing {
    /// Sample bytes present in the file.
    sample_bytes: usize,
    /// `f32` bytes per stored sample byte, as a fraction `num / den`.
    factor: (usize, usize),
    /// Header, marker and annotation bytes.
    text_bytes: usize,
}

impl Backing {
    fn allowed(&self) -> usize {
        let decoded = self.sample_bytes * self.factor.0 / self.factor.1;
        decoded + self.sample_bytes + TEXT_FACTOR * self.text_bytes + SLACK_BYTES
    }
}

/// Peak live heap bytes above the start while `read_recording(path)` runs,
/// and whether it succeeded.
fn peak_of_read(path: &Path) -> (usize, Result<Recording, String>) {
    let base = LIVE.load(Ordering::SeqCst);
    PEAK.store(base, Ordering::SeqCst);
    let result = read_recording(path).map_err(|e| e.to_string());
    let peak = PEAK.load(Ordering::SeqCst) - base;
    (peak, result)
}

struct Case {
    name: &'static str,
    path: PathBuf,
    backing: Backing,
    /// Whether the reader must accept the file.
    valid: bool,
}

/// Reads every case and checks its peak; returns the report lines.
fn check(cases: &[Case]) -> Vec<String> {
    let mut failures = Vec::new();
    for case in cases {
        let (peak, result) = peak_of_read(&case.path);
        let allowed = case.backing.allowed();
        let file_len = std::fs::metadata(&case.path).unwrap().len();
        println!(
            "{:<44} {:>9} bytes  peak {:>9}  allowed {:>9}  {}",
            case.name,
            file_len,
            peak,
            allowed,
            match &result {
                Ok(_) => "read".to_string(),
                Err(e) => format!("error: {}", e.rsplit(": ").next().unwrap_or(e)),
            }
        );
        if peak > allowed {
            failures.push(format!(
                "{}: peak {peak} bytes, more than the {allowed} the file backs ({:?})",
                case.name, case.backing
            ));
        }
        if case.valid
            && let Err(e) = &result
        {
            failures.push(format!("{}: a valid file was rejected: {e}", case.name));
        }
    }
    failures
}

fn channel(label: &str, rate_hz: f64, samples: Vec<f32>) -> Channel {
    Channel {
        physical_min: -100.0,
        physical_max: 100.0,
        ..Channel::new(label, rate_hz, samples)
    }
}

fn wave(n: usize) -> Vec<f32> {
    (0..n).map(|i| 90.0 * (i as f32 * 0.01).sin()).collect()
}

#[test]
fn peak_allocation_is_bounded_by_what_the_file_holds() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let mut cases = Vec::new();
    written_edf_cases(d, &mut cases);
    lying_edf_cases(d, &mut cases);
    crowded_edf_cases(d, &mut cases);
    wav_cases(d, &mut cases);
    written_wav_cases(d, &mut cases);
    brainvision_cases(d, &mut cases);
    let failures = check(&cases);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// `bytes` written to `d/name`.
fn file(d: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = d.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

/// `f32` bytes per EDF (16-bit) and BDF (24-bit) sample byte.
const EDF_FACTOR: (usize, usize) = (2, 1);
const BDF_FACTOR: (usize, usize) = (4, 3);

/// EDF+ and BDF+ files as `write_edf` writes them.
fn written_edf_cases(d: &Path, cases: &mut Vec<Case>) {
    {
        let rec = Recording::from_channels(vec![
            channel("A", 256.0, wave(256 * 60)),
            channel("B", 128.0, wave(128 * 60)),
        ]);
        for (bdf, name) in [(false, "valid.edf"), (true, "valid.bdf")] {
            let path = d.join(name);
            let opts = EdfWriteOptions {
                bdf,
                record_duration_s: 1.0,
            };
            write_edf(&path, &rec, &opts).unwrap();
            let len = std::fs::metadata(&path).unwrap().len() as usize;
            let width = if bdf { 3 } else { 2 };
            let sample_bytes = 384 * 60 * width;
            cases.push(Case {
                name: if bdf {
                    "BDF+ written by write_edf"
                } else {
                    "EDF+ written by write_edf"
                },
                path,
                backing: Backing {
                    sample_bytes,
                    factor: if bdf { BDF_FACTOR } else { EDF_FACTOR },
                    text_bytes: len - sample_bytes,
                },
                valid: true,
            });
        }
    }
}

/// EDF and BDF files whose header claims more than the file holds.
fn lying_edf_cases(d: &Path, cases: &mut Vec<Case>) {
    let three_records = vec![7u8; 3 * 2 * 1000];
    for (name, records, valid) in [
        ("EDF claiming 99999999 records, holding 3", "99999999", true),
        ("EDF claiming -1 records, holding 3", "-1", true),
    ] {
        let bytes = edf_bytes(false, "", records, None, &[("A", 1000)], &three_records);
        cases.push(Case {
            name,
            path: file(d, &format!("{}.edf", cases.len()), &bytes),
            backing: Backing {
                sample_bytes: three_records.len(),
                factor: EDF_FACTOR,
                text_bytes: 512,
            },
            valid,
        });
    }
    let bytes = edf_bytes(false, "", "1", None, &[("A", 99_999_999)], &three_records);
    cases.push(Case {
        name: "EDF claiming 99999999 samples per record",
        path: file(d, "spr.edf", &bytes),
        backing: Backing {
            sample_bytes: 0,
            factor: EDF_FACTOR,
            text_bytes: bytes.len(),
        },
        valid: false,
    });
    let bytes = edf_bytes(
        true,
        "",
        "99999999",
        None,
        &[("A", 99_999_999), ("B", 99_999_999), ("C", 99_999_999)],
        &three_records,
    );
    cases.push(Case {
        name: "BDF claiming 3 x 99999999 samples, 1e8 records",
        path: file(d, "spr3.bdf", &bytes),
        backing: Backing {
            sample_bytes: 0,
            factor: BDF_FACTOR,
            text_bytes: bytes.len(),
        },
        valid: false,
    });
    let mut bytes = edf_bytes(false, "", "1", None, &[("A", 10)], &[0; 20]);
    bytes[252..256].copy_from_slice(b"9999");
    cases.push(Case {
        name: "EDF claiming 9999 signals, holding 1",
        path: file(d, "ns.edf", &bytes),
        backing: Backing {
            sample_bytes: 20,
            factor: EDF_FACTOR,
            text_bytes: 512,
        },
        valid: false,
    });
}

/// EDF files with very many signals or annotations.
fn crowded_edf_cases(d: &Path, cases: &mut Vec<Case>) {
    {
        let labels: Vec<String> = (0..2000).map(|i| format!("S{i}")).collect();
        let signals: Vec<(&str, usize)> = labels.iter().map(|l| (l.as_str(), 1)).collect();
        let body = vec![1u8; 2 * 2000 * 2];
        let bytes = edf_bytes(false, "", "2", None, &signals, &body);
        cases.push(Case {
            name: "EDF with 2000 real signals of 1 sample",
            path: file(d, "many.edf", &bytes),
            backing: Backing {
                sample_bytes: body.len(),
                factor: EDF_FACTOR,
                text_bytes: bytes.len() - body.len(),
            },
            valid: true,
        });
    }
    {
        // An annotation signal full of malformed TALs: one problem each.
        let mut tal = b"+0\x14\x14\x00".to_vec();
        while tal.len() < 2 * 100_000 {
            tal.extend_from_slice(b"x\x00");
        }
        let mut body = vec![0u8; 2 * 10];
        body.extend_from_slice(&tal);
        let bytes = edf_bytes(
            false,
            "EDF+C",
            "1",
            None,
            &[("A", 10), ("EDF Annotations", tal.len() / 2)],
            &body,
        );
        cases.push(Case {
            name: "EDF+ with 100000 malformed annotations",
            path: file(d, "tals.edf", &bytes),
            backing: Backing {
                sample_bytes: 20,
                factor: EDF_FACTOR,
                text_bytes: bytes.len() - 20,
            },
            valid: true,
        });
    }

    {
        // 30000 of the smallest annotations a TAL can hold, in one record.
        let mut tal = b"+0\x14\x14\x00".to_vec();
        for _ in 0..30_000 {
            tal.extend_from_slice(b"+1\x14a\x14\x00");
        }
        if tal.len() % 2 == 1 {
            tal.push(0);
        }
        let mut body = vec![0u8; 2 * 10];
        body.extend_from_slice(&tal);
        let bytes = edf_bytes(
            false,
            "EDF+C",
            "1",
            None,
            &[("A", 10), ("EDF Annotations", tal.len() / 2)],
            &body,
        );
        cases.push(Case {
            name: "EDF+ with 30000 one-letter annotations",
            path: file(d, "tiny-tals.edf", &bytes),
            backing: Backing {
                sample_bytes: 20,
                factor: EDF_FACTOR,
                text_bytes: bytes.len() - 20,
            },
            valid: true,
        });
    }
}

/// WAV files of every sample format.
fn wav_cases(d: &Path, cases: &mut Vec<Case>) {
    let frames = 20_000usize;
    for (name, tag, bits, factor) in [
        ("WAV 8-bit", 1u16, 8u16, (4, 1)),
        ("WAV 16-bit", 1, 16, (2, 1)),
        ("WAV 24-bit", 1, 24, (4, 3)),
        ("WAV 32-bit", 1, 32, (1, 1)),
        ("WAV 64-bit float", 3, 64, (1, 2)),
        ("WAV mu-law", 7, 8, (4, 1)),
    ] {
        let data = vec![0x40u8; frames * usize::from(bits / 8) * 2];
        let bytes = wav_bytes(tag, 2, bits, &[(b"data", data.len() as u32, &data)]);
        cases.push(Case {
            name,
            path: file(d, &format!("{}.wav", cases.len()), &bytes),
            backing: Backing {
                sample_bytes: data.len(),
                factor,
                text_bytes: 44,
            },
            valid: true,
        });
    }
}

/// WAV files whose chunks claim more than the file holds, and one as
/// `write_wav` writes it.
fn written_wav_cases(d: &Path, cases: &mut Vec<Case>) {
    {
        let data = vec![0x40u8; 1000];
        for (name, size) in [
            ("WAV data chunk claiming 0xFFFFFFFE bytes", 0xFFFF_FFFEu32),
            ("WAV data chunk claiming 0xFFFFFFFF bytes", u32::MAX),
        ] {
            let bytes = wav_bytes(1, 1, 8, &[(b"data", size, &data)]);
            cases.push(Case {
                name,
                path: file(d, &format!("{}.wav", cases.len()), &bytes),
                backing: Backing {
                    sample_bytes: data.len(),
                    factor: (4, 1),
                    text_bytes: 44,
                },
                valid: true,
            });
        }
        let mut cue = u32::MAX.to_le_bytes().to_vec();
        cue.extend_from_slice(&[0; 24]);
        let bytes = wav_bytes(
            1,
            1,
            8,
            &[(b"cue ", cue.len() as u32, &cue), (b"data", 1000, &data)],
        );
        cases.push(Case {
            name: "WAV cue chunk claiming 4294967295 cues",
            path: file(d, "cue.wav", &bytes),
            backing: Backing {
                sample_bytes: data.len(),
                factor: (4, 1),
                text_bytes: 44 + cue.len(),
            },
            valid: true,
        });
        // 2000 cue points sharing one id, and a 30000-byte label for that id.
        let mut cues = 2000u32.to_le_bytes().to_vec();
        for _ in 0..2000 {
            let mut point = [0u8; 24];
            point[0..4].copy_from_slice(&1u32.to_le_bytes());
            cues.extend_from_slice(&point);
        }
        let text = vec![b'a'; 30_000];
        let mut list = b"adtllabl".to_vec();
        list.extend_from_slice(&(4 + text.len() as u32 + 1 + 1).to_le_bytes());
        list.extend_from_slice(&1u32.to_le_bytes());
        list.extend_from_slice(&text);
        list.extend_from_slice(&[0, 0]);
        let bytes = wav_bytes(
            1,
            1,
            8,
            &[
                (b"cue ", cues.len() as u32, &cues),
                (b"LIST", list.len() as u32, &list),
                (b"data", 1000, &data),
            ],
        );
        cases.push(Case {
            name: "WAV with 2000 cues sharing a 30000-byte label",
            path: file(d, "cue-label.wav", &bytes),
            backing: Backing {
                sample_bytes: data.len(),
                factor: (4, 1),
                text_bytes: bytes.len() - data.len(),
            },
            valid: true,
        });
        let bytes = wav_bytes(1, 1, 8, &[(b"LIST", 0xFFFF_FFF0, b"adtl")]);
        cases.push(Case {
            name: "WAV LIST chunk claiming 4 GiB",
            path: file(d, "list.wav", &bytes),
            backing: Backing {
                sample_bytes: 0,
                factor: (4, 1),
                text_bytes: bytes.len(),
            },
            valid: false,
        });
        let mut rf64 = wav_bytes(1, 1, 8, &[]);
        rf64[0..4].copy_from_slice(b"RF64");
        let mut ds64 = vec![0u8; 28];
        ds64[8..16].copy_from_slice(&u64::MAX.to_le_bytes());
        let mut with_ds64 = rf64[..12].to_vec();
        with_ds64.extend_from_slice(b"ds64");
        with_ds64.extend_from_slice(&28u32.to_le_bytes());
        with_ds64.extend_from_slice(&ds64);
        with_ds64.extend_from_slice(&rf64[12..]);
        with_ds64.extend_from_slice(b"data");
        with_ds64.extend_from_slice(&u32::MAX.to_le_bytes());
        with_ds64.extend_from_slice(&data);
        cases.push(Case {
            name: "RF64 ds64 claiming 2^64 data bytes",
            path: file(d, "rf64.wav", &with_ds64),
            backing: Backing {
                sample_bytes: data.len(),
                factor: (4, 1),
                text_bytes: with_ds64.len() - data.len(),
            },
            valid: true,
        });
        let path = d.join("written.wav");
        write_wav(
            &path,
            16000,
            &[wave(30_000).iter().map(|x| x / 100.0).collect()],
            WavSampleFormat::Pcm16,
        )
        .unwrap();
        cases.push(Case {
            name: "WAV written by write_wav",
            path,
            backing: Backing {
                sample_bytes: 60_000,
                factor: (2, 1),
                text_bytes: 44,
            },
            valid: true,
        });
    }
}

/// BrainVision triples, honest and lying, and one as `write_brainvision`
/// writes it.
fn brainvision_cases(d: &Path, cases: &mut Vec<Case>) {
    {
        let data: Vec<u8> = vec![3u8; 2 * 2 * 10_000];
        let markers = format!("{MARKER_HEAD}Mk1=Stimulus,S1,5,1,0\r\n");
        let header = vhdr("2", "MULTIPLEXED", None, 2);
        cases.push(Case {
            name: "BrainVision INT_16",
            path: brainvision(d, "bv-valid", &header, markers.as_bytes(), &data),
            backing: Backing {
                sample_bytes: data.len(),
                factor: (2, 1),
                text_bytes: header.len() + markers.len(),
            },
            valid: true,
        });
        let header = vhdr("10000", "MULTIPLEXED", None, 1);
        cases.push(Case {
            name: "BrainVision claiming 10000 channels, giving 1",
            path: brainvision(d, "bv-channels", &header, markers.as_bytes(), &data),
            backing: Backing {
                sample_bytes: data.len(),
                factor: (2, 1),
                text_bytes: header.len() + markers.len(),
            },
            valid: false,
        });
        let header = vhdr("2", "VECTORIZED", Some("18446744073709551615"), 2);
        cases.push(Case {
            name: "BrainVision claiming 2^64 data points",
            path: brainvision(d, "bv-points", &header, markers.as_bytes(), &data),
            backing: Backing {
                sample_bytes: data.len(),
                factor: (2, 1),
                text_bytes: header.len() + markers.len(),
            },
            valid: false,
        });
        let header = vhdr("2", "VECTORIZED", Some("10000"), 2);
        cases.push(Case {
            name: "BrainVision vectorized with DataPoints",
            path: brainvision(d, "bv-vector", &header, markers.as_bytes(), &data),
            backing: Backing {
                sample_bytes: data.len(),
                factor: (2, 1),
                text_bytes: header.len() + markers.len(),
            },
            valid: true,
        });
        let mut bad = String::from(MARKER_HEAD);
        while bad.len() < 200_000 {
            bad.push_str("Mk1=x\n");
        }
        let mut tiny = String::from(MARKER_HEAD);
        for i in 1..=20_000 {
            tiny.push_str(&format!("Mk{i}=,a,1\n"));
        }
        let header = vhdr("2", "MULTIPLEXED", None, 2);
        cases.push(Case {
            name: "BrainVision with 20000 one-letter markers",
            path: brainvision(d, "bv-tiny", &header, tiny.as_bytes(), &data),
            backing: Backing {
                sample_bytes: data.len(),
                factor: (2, 1),
                text_bytes: header.len() + tiny.len(),
            },
            valid: true,
        });
        cases.push(Case {
            name: "BrainVision with 33000 malformed markers",
            path: brainvision(d, "bv-markers", &header, bad.as_bytes(), &data),
            backing: Backing {
                sample_bytes: data.len(),
                factor: (2, 1),
                text_bytes: header.len() + bad.len(),
            },
            valid: true,
        });
        let rec = Recording {
            annotations: (0..100)
                .map(|i| Annotation {
                    onset_s: f64::from(i) * 0.1,
                    duration_s: None,
                    text: format!("m{i}"),
                })
                .collect(),
            ..Recording::from_channels(vec![
                channel("Fp1", 500.0, wave(5000)),
                channel("Cz", 500.0, wave(5000)),
            ])
        };
        let sub = d.join("bv-written");
        std::fs::create_dir_all(&sub).unwrap();
        let path = sub.join("w.vhdr");
        write_brainvision(&path, &rec).unwrap();
        let text_bytes = std::fs::metadata(&path).unwrap().len() as usize
            + std::fs::metadata(sub.join("w.vmrk")).unwrap().len() as usize;
        cases.push(Case {
            name: "BrainVision written by write_brainvision",
            path,
            backing: Backing {
                sample_bytes: 4 * 2 * 5000,
                factor: (1, 1),
                text_bytes,
            },
            valid: true,
        });
    }
}

//! Recordings: channels of physical samples, annotations and header facts, with
//! readers and writers for EDF/EDF+/BDF/BDF+, BrainVision and WAV, and the
//! `events.tsv` label sidecar.
//!
//! Every reader checks each count and size a header claims against the real
//! file length before it allocates or seeks, and reports a damaged file as a
//! [`RecordingError`] that names the file and the problem.

mod atomic;
mod audio_folder;
mod bids;
mod brainvision;
mod channel_kind;
mod edf;
mod error;
mod label_source;
mod labels;
mod open;
mod pairs;
mod samples;
mod summary;
mod types;
mod wav;

pub use atomic::write_atomic;
pub use audio_folder::{AudioFile, AudioFolder, is_audio_folder, scan_audio_folder};
pub use bids::{
    BidsChannel, bad_channels, bids_base, bids_recordings, channels_tsv_path, is_bids_root,
    read_channels_tsv, sidecar_path, spindle_sidecar_path, unused_events_files,
};
pub use brainvision::{read_brainvision, write_brainvision};
pub use channel_kind::{ChannelKind, UnknownChannelKind, channel_kinds, microvolts_per_unit};
pub use edf::{EdfWriteOptions, PagedEdf, open_edf_paged, read_edf, write_edf};
pub use error::RecordingError;
pub use label_source::{LabelSource, labels_for_recording};
pub use labels::{
    Label, LabelSet, backup_path, events_tsv_text, read_events_tsv, read_labels_csv,
    write_events_tsv,
};
pub use open::{RECORDING_EXTENSIONS, is_edf_file, is_recording_path, read_recording};
pub use pairs::{is_label_file_name, paired_label_file, read_label_file};
pub use samples::{READ_ON_DEMAND_BYTES, SampleStore, open_for_viewing, read_recording_channels};
pub use summary::{RecordingSummary, read_summary};
pub use types::{AUDIO_RATE_HZ, Annotation, Channel, Format, Recording, Segment, StartTime};
pub use wav::{WavSampleFormat, read_wav, write_wav};

//! BrainVision reader: the input is the header (`.vhdr`), the marker file
//! (`.vmrk`) and the data file (`.eeg`), separated by
//! `spindle_fuzz::PART_SEPARATOR`; a missing part is a missing file. The
//! header's `DataFile`/`MarkerFile` names fall back to the header's own name,
//! so the parts are found whatever names the header gives.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let [header, markers, samples] = spindle_fuzz::split_parts::<3>(data);
    let header = header.unwrap_or_default();
    for (name, part) in [("input.vmrk", markers), ("input.eeg", samples)] {
        match part {
            Some(bytes) => {
                spindle_fuzz::write_scratch(name, bytes);
            }
            None => spindle_fuzz::remove_scratch(name),
        }
    }
    let path = spindle_fuzz::write_scratch("input.vhdr", header);
    if let Ok(rec) = spindle_signals::recording::read_brainvision(&path) {
        spindle_fuzz::check_recording(&rec, data.len());
    }
});

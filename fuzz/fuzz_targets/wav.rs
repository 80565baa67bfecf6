//! WAV/RIFF reader: the input is the whole file.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let path = spindle_fuzz::write_scratch("input.wav", data);
    if let Ok(rec) = spindle_signals::recording::read_wav(&path) {
        spindle_fuzz::check_recording(&rec, data.len());
    }
});

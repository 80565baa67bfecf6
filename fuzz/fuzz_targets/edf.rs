//! EDF/EDF+/BDF/BDF+ reader: the input is the whole file.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let path = spindle_fuzz::write_scratch("input.edf", data);
    if let Ok(rec) = spindle_signals::recording::read_edf(&path) {
        spindle_fuzz::check_recording(&rec, data.len());
    }
    // The format sniffing in front of every reader.
    let _ = spindle_signals::recording::read_recording(&path);
});

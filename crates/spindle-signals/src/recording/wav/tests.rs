//! Tests of the WAV reader and writer.

use super::decode::{alaw_to_i16, mulaw_to_i16};
use super::format::GUID_TAIL;
use super::writer::quantize;
use super::*;
use crate::recording::{Format, Recording, RecordingError};

/// A `fmt ` chunk body of 16 bytes.
fn fmt16(tag: u16, channels: u16, rate: u32, block_align: u16, bits: u16) -> Vec<u8> {
    let mut b = Vec::new();
    b.extend_from_slice(&tag.to_le_bytes());
    b.extend_from_slice(&channels.to_le_bytes());
    b.extend_from_slice(&rate.to_le_bytes());
    b.extend_from_slice(&(rate * u32::from(block_align)).to_le_bytes());
    b.extend_from_slice(&block_align.to_le_bytes());
    b.extend_from_slice(&bits.to_le_bytes());
    b
}

/// A `WAVE_FORMAT_EXTENSIBLE` `fmt ` body (40 bytes) with sub-format `code`.
fn fmt_ext(code: u16, channels: u16, rate: u32, bits: u16, valid: u16, mask: u32) -> Vec<u8> {
    let block_align = channels * bits.div_ceil(8);
    let mut b = fmt16(0xFFFE, channels, rate, block_align, bits);
    b.extend_from_slice(&22u16.to_le_bytes());
    b.extend_from_slice(&valid.to_le_bytes());
    b.extend_from_slice(&mask.to_le_bytes());
    b.extend_from_slice(&code.to_le_bytes());
    b.extend_from_slice(&GUID_TAIL);
    b
}

/// A chunk with its header, padded to even length.
fn chunk(id: &[u8; 4], body: &[u8]) -> Vec<u8> {
    let mut b = id.to_vec();
    b.extend_from_slice(&(body.len() as u32).to_le_bytes());
    b.extend_from_slice(body);
    if body.len() % 2 == 1 {
        b.push(0);
    }
    b
}

/// A RIFF/WAVE file of the given chunks, with a correct RIFF size.
fn riff(chunks: &[Vec<u8>]) -> Vec<u8> {
    let body: Vec<u8> = chunks.concat();
    let mut b = b"RIFF".to_vec();
    b.extend_from_slice(&(body.len() as u32 + 4).to_le_bytes());
    b.extend_from_slice(b"WAVE");
    b.extend_from_slice(&body);
    b
}

/// Writes `bytes` to a file in a fresh temporary folder and reads it.
fn read_bytes(bytes: &[u8]) -> Result<Recording, RecordingError> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("x.wav");
    std::fs::write(&path, bytes).unwrap();
    read_wav(&path)
}

fn samples(rec: &Recording, ch: usize) -> &[f32] {
    &rec.channels[ch].samples
}

fn i16s(v: &[i16]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

fn pcm16_mono(data: &[i16]) -> Vec<u8> {
    riff(&[
        chunk(b"fmt ", &fmt16(1, 1, 8000, 2, 16)),
        chunk(b"data", &i16s(data)),
    ])
}

// ---- writer round trips -------------------------------------------------

fn round_trip(format: WavSampleFormat, channels: &[Vec<f32>]) -> Recording {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rt.wav");
    write_wav(&path, 16000, channels, format).unwrap();
    let leftovers = std::fs::read_dir(dir.path()).unwrap().count();
    assert_eq!(leftovers, 1, "no temporary file is left behind");
    let rec = read_wav(&path).unwrap();
    assert!(rec.warnings.is_empty(), "{:?}", rec.warnings);
    assert_eq!(rec.format, Format::Wav);
    assert_eq!(rec.channels.len(), channels.len());
    for (i, ch) in rec.channels.iter().enumerate() {
        assert_eq!(ch.label, format!("ch{}", i + 1));
        assert_eq!(ch.unit, "");
        assert_eq!(ch.rate_hz, 16000.0);
        assert_eq!(ch.samples.len(), channels[i].len());
    }
    assert_eq!(rec.segments.len(), 1);
    assert_eq!(rec.segments[0].onset_s, 0.0);
    assert!((rec.duration_s() - channels[0].len() as f64 / 16000.0).abs() < 1e-12);
    rec
}

#[test]
fn round_trip_pcm16_is_exact_on_the_grid() {
    let ch: Vec<f32> = (-32768..32768)
        .step_by(7)
        .map(|k| k as f32 / 32768.0)
        .collect();
    let rec = round_trip(WavSampleFormat::Pcm16, std::slice::from_ref(&ch));
    assert_eq!(samples(&rec, 0), &ch[..]);
    assert_eq!(
        (rec.channels[0].physical_min, rec.channels[0].physical_max),
        (-1.0, 1.0)
    );
}

#[test]
fn round_trip_pcm24_is_exact_on_the_grid() {
    let ch: Vec<f32> = (-8_388_608..8_388_608)
        .step_by(997)
        .map(|k| k as f32 / 8_388_608.0)
        .collect();
    let rec = round_trip(WavSampleFormat::Pcm24, std::slice::from_ref(&ch));
    assert_eq!(samples(&rec, 0), &ch[..]);
}

#[test]
fn round_trip_float32_keeps_values_and_range() {
    let ch = vec![0.1f32, -2.5, 3.75, 1e-7, 0.0, -0.0];
    let rec = round_trip(WavSampleFormat::Float32, std::slice::from_ref(&ch));
    assert_eq!(samples(&rec, 0), &ch[..]);
    assert_eq!(rec.channels[0].physical_min, -2.5);
    assert_eq!(rec.channels[0].physical_max, 3.75);
}

#[test]
fn round_trip_multichannel_every_format() {
    let n = 1000;
    let channels: Vec<Vec<f32>> = (0..5)
        .map(|c| {
            (0..n)
                .map(|i| (((i * (c + 3)) % 200) as f32 - 100.0) / 128.0)
                .collect()
        })
        .collect();
    for format in [
        WavSampleFormat::Pcm16,
        WavSampleFormat::Pcm24,
        WavSampleFormat::Float32,
    ] {
        for count in [1, 2, 3, 5] {
            let rec = round_trip(format, &channels[..count]);
            for (c, want) in channels[..count].iter().enumerate() {
                assert_eq!(samples(&rec, c), &want[..], "{format:?} {count} ch{c}");
            }
        }
    }
}

#[test]
fn writer_clamps_rounds_and_zeroes_nan() {
    let ch = vec![
        1.0f32,
        1.5,
        -1.0,
        -7.0,
        f32::NAN,
        0.4 / 32768.0,
        0.6 / 32768.0,
        -0.6 / 32768.0,
    ];
    let rec = round_trip(WavSampleFormat::Pcm16, &[ch]);
    let want = [
        32767.0 / 32768.0,
        32767.0 / 32768.0,
        -1.0,
        -1.0,
        0.0,
        0.0,
        1.0 / 32768.0,
        -1.0 / 32768.0,
    ];
    assert_eq!(samples(&rec, 0), &want[..]);
    assert_eq!(quantize(1.0, 24), 8_388_607);
    assert_eq!(quantize(-1.0, 24), -8_388_608);
    assert_eq!(quantize(0.5, 24), 4_194_304);
}

#[test]
fn writer_is_deterministic_and_canonical() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.wav");
    let b = dir.path().join("b.wav");
    let ch = vec![vec![0.0f32, 0.5, -0.5]];
    write_wav(&a, 8000, &ch, WavSampleFormat::Pcm16).unwrap();
    write_wav(&b, 8000, &ch, WavSampleFormat::Pcm16).unwrap();
    let bytes = std::fs::read(&a).unwrap();
    assert_eq!(bytes, std::fs::read(&b).unwrap());
    // The canonical 44-byte header followed by the samples.
    let want = pcm16_mono(&[0, 16384, -16384]);
    assert_eq!(bytes, want);
    // Overwriting an existing file works and leaves no temporary file.
    write_wav(&a, 8000, &[vec![0.25f32]], WavSampleFormat::Float32).unwrap();
    assert_eq!(samples(&read_wav(&a).unwrap(), 0), &[0.25]);
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names.len(), 2, "{names:?}");
}

#[test]
fn writer_rejects_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("bad.wav");
    let e = write_wav(&p, 8000, &[], WavSampleFormat::Pcm16).unwrap_err();
    assert!(e.to_string().contains("no channels"), "{e}");
    let e = write_wav(&p, 0, &[vec![0.0]], WavSampleFormat::Pcm16).unwrap_err();
    assert!(e.to_string().contains("0 Hz"), "{e}");
    let e = write_wav(
        &p,
        8000,
        &[vec![0.0; 3], vec![0.0; 2]],
        WavSampleFormat::Pcm24,
    )
    .unwrap_err();
    assert!(e.to_string().contains("channel 2 has 2 samples"), "{e}");
    let e = write_wav(
        &dir.path().join("no/such/dir/x.wav"),
        8000,
        &[vec![0.0]],
        WavSampleFormat::Pcm16,
    )
    .unwrap_err();
    assert!(matches!(e, RecordingError::Io { .. }), "{e}");
    assert!(!p.exists());
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn empty_channels_round_trip() {
    let rec = round_trip(WavSampleFormat::Pcm16, &[vec![], vec![]]);
    assert_eq!(rec.channels.len(), 2);
    assert_eq!(rec.duration_s(), 0.0);
}

// ---- normalization ------------------------------------------------------

#[test]
fn normalizes_8_bit_unsigned() {
    let rec = read_bytes(&riff(&[
        chunk(b"fmt ", &fmt16(1, 1, 8000, 1, 8)),
        chunk(b"data", &[0, 128, 255, 64]),
    ]))
    .unwrap();
    assert_eq!(samples(&rec, 0), &[-1.0, 0.0, 127.0 / 128.0, -0.5]);
    assert!(rec.warnings.is_empty(), "{:?}", rec.warnings);
}

#[test]
fn normalizes_16_bit() {
    let rec = read_bytes(&pcm16_mono(&[-32768, 0, 16384, 32767, -1])).unwrap();
    assert_eq!(
        samples(&rec, 0),
        &[-1.0, 0.0, 0.5, 32767.0 / 32768.0, -1.0 / 32768.0]
    );
}

#[test]
fn normalizes_24_bit() {
    let vals: [i32; 4] = [-8_388_608, 4_194_304, 8_388_607, -1];
    let data: Vec<u8> = vals
        .iter()
        .flat_map(|v| v.to_le_bytes()[..3].to_vec())
        .collect();
    let rec = read_bytes(&riff(&[
        chunk(b"fmt ", &fmt16(1, 1, 44100, 3, 24)),
        chunk(b"data", &data),
    ]))
    .unwrap();
    assert_eq!(
        samples(&rec, 0),
        &[-1.0, 0.5, 8_388_607.0 / 8_388_608.0, -1.0 / 8_388_608.0]
    );
}

#[test]
fn normalizes_32_bit() {
    let vals: [i32; 4] = [i32::MIN, 1 << 30, -(1 << 29), 256];
    let data: Vec<u8> = vals.iter().flat_map(|v| v.to_le_bytes()).collect();
    let rec = read_bytes(&riff(&[
        chunk(b"fmt ", &fmt16(1, 1, 48000, 4, 32)),
        chunk(b"data", &data),
    ]))
    .unwrap();
    assert_eq!(
        samples(&rec, 0),
        &[-1.0, 0.5, -0.25, 256.0 / 2_147_483_648.0]
    );
}

#[test]
fn bits_not_a_multiple_of_8_use_the_container() {
    // 12-bit samples, left-justified in 16-bit containers.
    let rec = read_bytes(&riff(&[
        chunk(b"fmt ", &fmt16(1, 1, 8000, 2, 12)),
        chunk(b"data", &i16s(&[0x7FF0, -0x8000, 0x10])),
    ]))
    .unwrap();
    assert_eq!(
        samples(&rec, 0),
        &[0x7FF0 as f32 / 32768.0, -1.0, 16.0 / 32768.0]
    );
    // 20 valid bits in 24-bit containers (extensible).
    let data: Vec<u8> = [0x40_0000i32, -0x80_0000]
        .iter()
        .flat_map(|v| v.to_le_bytes()[..3].to_vec())
        .collect();
    let rec = read_bytes(&riff(&[
        chunk(b"fmt ", &fmt_ext(1, 1, 8000, 24, 20, 4)),
        chunk(b"data", &data),
    ]))
    .unwrap();
    assert_eq!(samples(&rec, 0), &[0.5, -1.0]);
    // 20 bits in a legacy header: 3-byte container.
    let rec = read_bytes(&riff(&[
        chunk(b"fmt ", &fmt16(1, 1, 8000, 3, 20)),
        chunk(b"data", &data),
    ]))
    .unwrap();
    assert_eq!(samples(&rec, 0), &[0.5, -1.0]);
}

#[test]
fn float_32_and_64_as_stored() {
    let data: Vec<u8> = [0.25f32, -3.5, 1e-3]
        .iter()
        .flat_map(|v| v.to_le_bytes())
        .collect();
    let rec = read_bytes(&riff(&[
        chunk(b"fmt ", &fmt16(3, 1, 8000, 4, 32)),
        chunk(b"data", &data),
    ]))
    .unwrap();
    assert_eq!(samples(&rec, 0), &[0.25, -3.5, 1e-3]);
    assert_eq!(
        (rec.channels[0].physical_min, rec.channels[0].physical_max),
        (-3.5, 0.25)
    );

    let data: Vec<u8> = [0.1f64, -0.75, 2.0, f64::NAN]
        .iter()
        .flat_map(|v| v.to_le_bytes())
        .collect();
    let rec = read_bytes(&riff(&[
        chunk(b"fmt ", &fmt16(3, 2, 8000, 16, 64)),
        chunk(b"data", &data),
    ]))
    .unwrap();
    assert_eq!(samples(&rec, 0), &[0.1f32, 2.0]);
    assert_eq!(samples(&rec, 1)[0], -0.75);
    assert!(samples(&rec, 1)[1].is_nan());
    assert_eq!(
        (rec.channels[1].physical_min, rec.channels[1].physical_max),
        (-0.75, -0.75)
    );
    assert!(
        rec.warnings.iter().any(|w| w.contains("NaN")),
        "{:?}",
        rec.warnings
    );
}

#[test]
fn decodes_g711() {
    assert_eq!(mulaw_to_i16(0xFF), 0);
    assert_eq!(mulaw_to_i16(0x00), -32124);
    assert_eq!(mulaw_to_i16(0x80), 32124);
    assert_eq!(mulaw_to_i16(0xF0), 120);
    assert_eq!(alaw_to_i16(0xD5), 8);
    assert_eq!(alaw_to_i16(0x55), -8);
    assert_eq!(alaw_to_i16(0xAA), 32256);
    assert_eq!(alaw_to_i16(0x2A), -32256);
    let rec = read_bytes(&riff(&[
        chunk(b"fmt ", &fmt16(7, 1, 8000, 1, 8)),
        chunk(b"data", &[0xFF, 0x80]),
    ]))
    .unwrap();
    assert_eq!(samples(&rec, 0), &[0.0, 32124.0 / 32768.0]);
    let rec = read_bytes(&riff(&[
        chunk(b"fmt ", &fmt16(6, 1, 8000, 1, 8)),
        chunk(b"data", &[0xAA]),
    ]))
    .unwrap();
    assert_eq!(samples(&rec, 0), &[32256.0 / 32768.0]);
}

#[test]
fn interleaved_channels_are_split() {
    let rec = read_bytes(&riff(&[
        chunk(b"fmt ", &fmt16(1, 3, 8000, 6, 16)),
        chunk(b"data", &i16s(&[1, 2, 3, 4, 5, 6])),
    ]))
    .unwrap();
    let labels: Vec<_> = rec.channels.iter().map(|c| c.label.as_str()).collect();
    assert_eq!(labels, ["ch1", "ch2", "ch3"]);
    assert_eq!(samples(&rec, 0), &[1.0 / 32768.0, 4.0 / 32768.0]);
    assert_eq!(samples(&rec, 2), &[3.0 / 32768.0, 6.0 / 32768.0]);
}

// ---- layouts hound rejects or that writers produce ----------------------

#[test]
fn odd_list_chunk_before_data_with_pad_byte() {
    let bytes = riff(&[
        chunk(b"fmt ", &fmt16(1, 1, 8000, 2, 16)),
        chunk(b"LIST", b"INFOISFT\x05\x00\x00\x00abcd\x00"),
        chunk(b"data", &i16s(&[16384])),
    ]);
    assert_eq!(bytes.len() % 2, 0);
    let rec = read_bytes(&bytes).unwrap();
    assert_eq!(samples(&rec, 0), &[0.5]);
    assert!(rec.warnings.is_empty(), "{:?}", rec.warnings);
}

#[test]
fn odd_chunk_without_pad_byte_is_tolerated() {
    let mut odd = b"junk".to_vec();
    odd.extend_from_slice(&3u32.to_le_bytes());
    odd.extend_from_slice(b"abc");
    let bytes = riff(&[
        chunk(b"fmt ", &fmt16(1, 1, 8000, 2, 16)),
        odd,
        chunk(b"data", &i16s(&[-16384])),
    ]);
    let rec = read_bytes(&bytes).unwrap();
    assert_eq!(samples(&rec, 0), &[-0.5]);
    assert!(
        rec.warnings.iter().any(|w| w.contains("no pad byte")),
        "{:?}",
        rec.warnings
    );
}

#[test]
fn extensible_pcm_and_float_with_any_mask() {
    for mask in [0u32, 0x3, 0x8000_0000, 0xFFFF_FFFF] {
        let bytes = riff(&[
            chunk(b"fmt ", &fmt_ext(1, 2, 8000, 16, 16, mask)),
            chunk(b"data", &i16s(&[16384, -16384])),
        ]);
        let rec = read_bytes(&bytes).unwrap();
        assert_eq!(
            (samples(&rec, 0), samples(&rec, 1)),
            (&[0.5f32][..], &[-0.5f32][..])
        );
    }
    let data: Vec<u8> = [0.5f32, 2.0].iter().flat_map(|v| v.to_le_bytes()).collect();
    let bytes = riff(&[
        chunk(b"fmt ", &fmt_ext(3, 1, 8000, 32, 32, 4)),
        chunk(b"fact", &2u32.to_le_bytes()),
        chunk(b"data", &data),
    ]);
    let rec = read_bytes(&bytes).unwrap();
    assert_eq!(samples(&rec, 0), &[0.5, 2.0]);
    // An unknown sub-format GUID is unsupported, not invalid.
    let mut fmt = fmt_ext(1, 1, 8000, 16, 16, 4);
    fmt[30] = 0x11;
    let e = read_bytes(&riff(&[chunk(b"fmt ", &fmt), chunk(b"data", &[0, 0])])).unwrap_err();
    assert!(matches!(e, RecordingError::Unsupported { .. }), "{e}");
    // A truncated extensible fmt chunk is invalid.
    let e = read_bytes(&riff(&[
        chunk(b"fmt ", &fmt_ext(1, 1, 8000, 16, 16, 4)[..30]),
        chunk(b"data", &[0, 0]),
    ]))
    .unwrap_err();
    assert!(e.to_string().contains("EXTENSIBLE"), "{e}");
}

#[test]
fn fmt_with_cb_size_and_fact_chunk() {
    let mut fmt = fmt16(1, 1, 8000, 2, 16);
    fmt.extend_from_slice(&0u16.to_le_bytes());
    let bytes = riff(&[
        chunk(b"fmt ", &fmt),
        chunk(b"fact", &1u32.to_le_bytes()),
        chunk(b"data", &i16s(&[8192])),
    ]);
    assert_eq!(samples(&read_bytes(&bytes).unwrap(), 0), &[0.25]);
}

/// A mono 16-bit file whose data chunk claims `size` bytes, holding `data`.
fn with_data_size(size: u32, data: &[i16], after: &[u8]) -> Vec<u8> {
    let mut b = riff(&[chunk(b"fmt ", &fmt16(1, 1, 8000, 2, 16))]);
    b.extend_from_slice(b"data");
    b.extend_from_slice(&size.to_le_bytes());
    b.extend_from_slice(&i16s(data));
    b.extend_from_slice(after);
    b
}

#[test]
fn streaming_placeholder_sizes_read_to_end_of_file() {
    for size in [0u32, u32::MAX] {
        let mut bytes = with_data_size(size, &[100, 200, 300], &[]);
        bytes[4..8].copy_from_slice(&size.to_le_bytes());
        let rec = read_bytes(&bytes).unwrap();
        assert_eq!(samples(&rec, 0).len(), 3, "size {size:#X}");
        assert!(
            rec.warnings.iter().any(|w| w.contains("streaming")),
            "{:?}",
            rec.warnings
        );
    }
    // An empty data chunk with nothing after it is just empty.
    let rec = read_bytes(&with_data_size(0, &[], &[])).unwrap();
    assert!(samples(&rec, 0).is_empty());
    assert!(rec.warnings.is_empty(), "{:?}", rec.warnings);
    // An empty data chunk followed by a metadata chunk is empty too.
    let rec = read_bytes(&with_data_size(0, &[], &chunk(b"LIST", b"INFOabc"))).unwrap();
    assert!(samples(&rec, 0).is_empty());
    assert!(rec.warnings.is_empty(), "{:?}", rec.warnings);
}

#[test]
fn data_larger_than_file_reads_what_is_present() {
    let rec = read_bytes(&with_data_size(1000, &[1, 2], &[])).unwrap();
    assert_eq!(samples(&rec, 0).len(), 2);
    assert!(
        rec.warnings.iter().any(|w| w.contains("truncated")),
        "{:?}",
        rec.warnings
    );
    // A partial last frame is dropped with a warning.
    let rec = read_bytes(&with_data_size(1000, &[1, 2], &[7])).unwrap();
    assert_eq!(samples(&rec, 0).len(), 2);
    assert!(
        rec.warnings.iter().any(|w| w.contains("partial frame")),
        "{:?}",
        rec.warnings
    );
}

#[test]
fn chunks_after_data_and_trailing_garbage() {
    let mut bytes = riff(&[
        chunk(b"fmt ", &fmt16(1, 1, 8000, 2, 16)),
        chunk(b"data", &i16s(&[5, 6])),
        chunk(b"LIST", b"INFOx"),
    ]);
    bytes.extend_from_slice(&[0xFF; 20]);
    let rec = read_bytes(&bytes).unwrap();
    assert_eq!(samples(&rec, 0).len(), 2);
    assert!(
        rec.warnings.iter().any(|w| w.contains("unreadable")),
        "{:?}",
        rec.warnings
    );
}

#[test]
fn rf64_with_ds64() {
    let mut ds64 = Vec::new();
    ds64.extend_from_slice(&0u64.to_le_bytes());
    ds64.extend_from_slice(&4u64.to_le_bytes());
    ds64.extend_from_slice(&2u64.to_le_bytes());
    ds64.extend_from_slice(&0u32.to_le_bytes());
    let mut bytes = riff(&[
        chunk(b"ds64", &ds64),
        chunk(b"fmt ", &fmt16(1, 1, 8000, 2, 16)),
    ]);
    bytes[0..4].copy_from_slice(b"RF64");
    bytes[4..8].copy_from_slice(&u32::MAX.to_le_bytes());
    bytes.extend_from_slice(b"data");
    bytes.extend_from_slice(&u32::MAX.to_le_bytes());
    bytes.extend_from_slice(&i16s(&[16384, 8192]));
    bytes.extend_from_slice(&chunk(b"LIST", b"INFO"));
    let rec = read_bytes(&bytes).unwrap();
    assert_eq!(samples(&rec, 0), &[0.5, 0.25]);
    assert!(rec.warnings.is_empty(), "{:?}", rec.warnings);
}

#[test]
fn cue_points_become_annotations() {
    let mut cue = 2u32.to_le_bytes().to_vec();
    for (id, frame) in [(7u32, 4000u32), (3, 800)] {
        cue.extend_from_slice(&id.to_le_bytes());
        cue.extend_from_slice(&frame.to_le_bytes());
        cue.extend_from_slice(b"data");
        cue.extend_from_slice(&[0; 8]);
        cue.extend_from_slice(&frame.to_le_bytes());
    }
    let mut adtl = b"adtl".to_vec();
    let mut labl = 7u32.to_le_bytes().to_vec();
    labl.extend_from_slice(b"yes\0");
    adtl.extend_from_slice(&chunk(b"labl", &labl));
    let mut ltxt = 3u32.to_le_bytes().to_vec();
    ltxt.extend_from_slice(&1600u32.to_le_bytes());
    ltxt.extend_from_slice(b"rgn \0\0\0\0\0\0\0\0");
    adtl.extend_from_slice(&chunk(b"ltxt", &ltxt));
    let bytes = riff(&[
        chunk(b"fmt ", &fmt16(1, 1, 8000, 2, 16)),
        chunk(b"data", &i16s(&[0; 10])),
        chunk(b"cue ", &cue),
        chunk(b"LIST", &adtl),
    ]);
    let rec = read_bytes(&bytes).unwrap();
    let got: Vec<_> = rec
        .annotations
        .iter()
        .map(|a| (a.onset_s, a.duration_s, a.text.as_str()))
        .collect();
    assert_eq!(got, [(0.1, Some(0.2), "cue 3"), (0.5, None, "yes")]);
}

// ---- hostile files ------------------------------------------------------

fn assert_invalid(bytes: &[u8], needle: &str) {
    match read_bytes(bytes) {
        Err(e) => {
            let msg = e.to_string();
            assert!(msg.contains(needle), "expected {needle:?} in {msg:?}");
            assert!(
                msg.contains("x.wav"),
                "message does not name the file: {msg}"
            );
        }
        Ok(rec) => panic!(
            "expected an error containing {needle:?}, got {:?}",
            rec.warnings
        ),
    }
}

#[test]
fn rejects_bad_headers_cleanly() {
    let data = chunk(b"data", &[0; 8]);
    assert_invalid(
        &riff(&[chunk(b"fmt ", &fmt16(1, 0, 8000, 0, 16)), data.clone()]),
        "0 channels",
    );
    assert_invalid(
        &riff(&[chunk(b"fmt ", &fmt16(1, 1, 0, 2, 16)), data.clone()]),
        "0 Hz",
    );
    assert_invalid(
        &riff(&[chunk(b"fmt ", &fmt16(1, 1, 8000, 0, 0)), data.clone()]),
        "0 bits",
    );
    assert_invalid(
        &riff(&[chunk(b"fmt ", &fmt16(1, 2, 8000, 2, 16)), data.clone()]),
        "bytes per frame",
    );
    assert_invalid(
        &riff(&[chunk(b"fmt ", &fmt16(1, 1, 8000, 8, 64)), data.clone()]),
        "64-bit integer",
    );
    assert_invalid(
        &riff(&[chunk(b"fmt ", &fmt16(3, 1, 8000, 2, 16)), data.clone()]),
        "16-bit IEEE float",
    );
    assert_invalid(
        &riff(&[chunk(b"fmt ", &fmt16(2, 1, 8000, 256, 4)), data.clone()]),
        "Microsoft ADPCM",
    );
    assert_invalid(
        &riff(&[chunk(b"fmt ", &fmt16(0x11, 1, 8000, 256, 4)), data.clone()]),
        "IMA ADPCM",
    );
    assert_invalid(
        &riff(&[chunk(b"fmt ", &fmt16(7, 1, 8000, 2, 16)), data.clone()]),
        "G.711",
    );
    assert_invalid(
        &riff(&[
            chunk(b"fmt ", &fmt16(1, 1, 8000, 2, 16)[..14]),
            data.clone(),
        ]),
        "fmt chunk is 14 bytes",
    );
    assert_invalid(&riff(std::slice::from_ref(&data)), "no fmt chunk");
    assert_invalid(
        &riff(&[chunk(b"fmt ", &fmt16(1, 1, 8000, 2, 16))]),
        "no data chunk",
    );
    assert_invalid(b"RIFF", "too short");
    assert_invalid(b"", "too short");
    assert_invalid(b"RIFX\0\0\0\0WAVE", "big-endian");
    assert_invalid(b"RIFF\0\0\0\0AVI LIST", "type \"AVI \"");
    assert_invalid(b"ID3\x03\0\0\0\0\0\0\0\0\0\0\0\0", "not a WAV file");
    let mut edf = b"0       ".to_vec();
    edf.extend_from_slice(&[b' '; 248]);
    assert_invalid(&edf, "EDF");
    // The codec errors are Unsupported, the damaged ones Invalid.
    let e = read_bytes(&riff(&[
        chunk(b"fmt ", &fmt16(0x55, 1, 8000, 1, 0)),
        data.clone(),
    ]))
    .unwrap_err();
    assert!(matches!(e, RecordingError::Unsupported { .. }), "{e}");
    let e = read_bytes(&riff(&[chunk(b"fmt ", &fmt16(1, 0, 8000, 0, 16)), data])).unwrap_err();
    assert!(matches!(e, RecordingError::Invalid { .. }), "{e}");
}

#[test]
fn missing_file_is_an_io_error() {
    let e = read_wav(Path::new("/definitely/not/here.wav")).unwrap_err();
    assert!(matches!(e, RecordingError::Io { .. }), "{e}");
    assert!(e.to_string().contains("here.wav"));
}

#[test]
fn lying_sizes_are_caught_before_allocating() {
    // fmt chunk claiming 4 GB.
    let mut bytes = riff(&[
        chunk(b"fmt ", &fmt16(1, 1, 8000, 2, 16)),
        chunk(b"data", &[0; 4]),
    ]);
    bytes[16..20].copy_from_slice(&u32::MAX.to_le_bytes());
    assert_invalid(&bytes, "claims 4294967295 bytes");
    // A metadata chunk before the data claiming more than the file.
    let mut list = b"LIST".to_vec();
    list.extend_from_slice(&0x7FFF_FFF0u32.to_le_bytes());
    list.extend_from_slice(b"INFO");
    let bytes = riff(&[chunk(b"fmt ", &fmt16(1, 1, 8000, 2, 16)), list]);
    assert_invalid(&bytes, "\"LIST\"");
    // RIFF size lies: ignored, the chunks are read.
    let mut bytes = pcm16_mono(&[1, 2, 3]);
    bytes[4..8].copy_from_slice(&7u32.to_le_bytes());
    assert_eq!(samples(&read_bytes(&bytes).unwrap(), 0).len(), 3);
    // A cue chunk claiming a billion points.
    let mut cue = u32::MAX.to_le_bytes().to_vec();
    cue.extend_from_slice(&[0; 24]);
    let bytes = riff(&[
        chunk(b"fmt ", &fmt16(1, 1, 8000, 2, 16)),
        chunk(b"cue ", &cue),
        chunk(b"data", &[0; 2]),
    ]);
    let rec = read_bytes(&bytes).unwrap();
    assert_eq!(rec.annotations.len(), 1);
    assert!(
        rec.warnings.iter().any(|w| w.contains("cue chunk claims")),
        "{:?}",
        rec.warnings
    );
    // 65535 channels of 4 bytes do not fit a u16 block align: a clean error.
    assert_invalid(
        &riff(&[
            chunk(b"fmt ", &fmt16(1, 0xFFFF, 8000, 0xFFFF, 32)),
            chunk(b"data", &[0; 4]),
        ]),
        "bytes per frame",
    );
}

/// A file with every kind of chunk the reader handles.
fn rich_file() -> Vec<u8> {
    let mut cue = 1u32.to_le_bytes().to_vec();
    cue.extend_from_slice(&[1, 0, 0, 0, 0, 0, 0, 0]);
    cue.extend_from_slice(b"data");
    cue.extend_from_slice(&[0; 8]);
    cue.extend_from_slice(&2u32.to_le_bytes());
    let mut labl = 1u32.to_le_bytes().to_vec();
    labl.extend_from_slice(b"mark\0");
    let mut adtl = b"adtl".to_vec();
    adtl.extend_from_slice(&chunk(b"labl", &labl));
    riff(&[
        chunk(b"fmt ", &fmt_ext(1, 2, 8000, 24, 20, 3)),
        chunk(b"fact", &4u32.to_le_bytes()),
        chunk(b"LIST", b"INFOINAM\x03\x00\x00\x00ab\0"),
        chunk(b"data", &(0..24u8).collect::<Vec<_>>()),
        chunk(b"cue ", &cue),
        chunk(b"LIST", &adtl),
    ])
}

#[test]
fn truncated_at_every_byte_never_panics() {
    let full = rich_file();
    let rec = read_bytes(&full).unwrap();
    assert!(rec.warnings.is_empty(), "{:?}", rec.warnings);
    assert_eq!(rec.channels[0].samples.len(), 4);
    assert_eq!(rec.annotations[0].text, "mark");
    let data_at = full.windows(4).position(|w| w == b"data").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.wav");
    for cut in 0..full.len() {
        let mut bytes = full[..cut].to_vec();
        // Also with the RIFF size fixed to the cut length.
        for fix in [false, true] {
            if fix && cut >= 8 {
                bytes[4..8].copy_from_slice(&(cut as u32 - 8).to_le_bytes());
            }
            std::fs::write(&path, &bytes).unwrap();
            let result = read_wav(&path);
            if cut < data_at + 8 {
                assert!(result.is_err(), "cut at {cut} read as {result:?}");
            }
            if let Ok(rec) = result {
                assert!(rec.channels[0].samples.len() <= 4);
            }
        }
    }
}

/// xorshift64*: deterministic bytes for fuzz-like tests.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn byte(&mut self) -> u8 {
        (self.next() >> 56) as u8
    }
}

#[test]
fn random_and_mutated_bytes_never_panic() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("r.wav");
    // Pure noise, and noise behind a valid RIFF/WAVE preamble.
    for i in 0..300 {
        let n = (rng.next() % 200) as usize;
        let mut bytes: Vec<u8> = (0..n).map(|_| rng.byte()).collect();
        if i % 2 == 0 {
            let mut head = b"RIFF\0\0\0\0WAVE".to_vec();
            head.append(&mut bytes);
            bytes = head;
        }
        std::fs::write(&path, &bytes).unwrap();
        let _ = read_wav(&path);
    }
    // A valid file with random bytes overwritten (headers included).
    let full = rich_file();
    for _ in 0..2000 {
        let mut bytes = full.clone();
        for _ in 0..1 + rng.next() % 4 {
            let at = (rng.next() as usize) % bytes.len();
            bytes[at] = rng.byte();
        }
        std::fs::write(&path, &bytes).unwrap();
        if let Ok(rec) = read_wav(&path) {
            let total: usize = rec.channels.iter().map(|c| c.samples.len()).sum();
            assert!(
                total <= full.len(),
                "{total} samples from {} bytes",
                full.len()
            );
        }
    }
}

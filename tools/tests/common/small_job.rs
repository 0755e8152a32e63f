//! A small two-station job for CLI tests that need `emcorr correlate` to run
//! in a fraction of a second: stations A and B, 2-bit real data at 131 kHz
//! sharing a common part (so the output has fringes), 0.1 s integrations.

use formats::vdif::{VdifWriter, WriterConfig};
use formats::UtcTime;
use std::path::{Path, PathBuf};

pub const FS: f64 = 131_072.0;
const SPF: usize = 1024;
/// Seconds recorded per station (the job may use less).
const SECONDS: f64 = 1.0;

fn start() -> UtcTime {
    UtcTime::from_calendar(2026, 3, 14, 23, 45, 0, 0.0)
}

/// VDIF bytes of station `s` (deterministic: xorshift noise).
fn station_bytes(s: u16) -> Vec<u8> {
    let n = (SECONDS * FS) as usize;
    let xorshift = |seed: u64| {
        let mut x = seed;
        move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 11) as f64 / (1u64 << 53) as f64 - 0.5
        }
    };
    let mut common = xorshift(0x9e37_79b9_7f4a_7c15);
    let mut own = xorshift(0x1234_5678 + u64::from(s));
    let mut w =
        VdifWriter::new(Vec::new(), WriterConfig::new(s, 2, false, SPF, FS, start())).unwrap();
    let v: Vec<f32> = (0..n).map(|_| (4.0 * (common() + own())) as f32).collect();
    for f in v.chunks_exact(SPF) {
        w.write(0, f).unwrap();
    }
    w.into_inner().unwrap()
}

/// Write A.vdif, B.vdif and job.toml (output `out.fits`, `duration_s`
/// seconds of 0.1 s integrations) into `dir`; returns the job's path.
pub fn write_small_job(dir: &Path, duration_s: f64) -> PathBuf {
    for (s, name) in ["A", "B"].iter().enumerate() {
        std::fs::write(dir.join(format!("{name}.vdif")), station_bytes(s as u16)).unwrap();
    }
    let job = format!(
        "[job]\nname = \"small\"\noutput = \"out.fits\"\nstart = \"2026-03-14T23:45:00.01Z\"\nduration_s = {duration_s:?}\n\
         [correlation]\nfft_length = 256\nintegration_s = 0.1\n\
         [source]\nname = \"SRC\"\nra_deg = 10.0\ndec_deg = 20.0\n\
         [[station]]\nname = \"A\"\nfile = \"A.vdif\"\nsample_rate_hz = {FS:?}\n\
         delay_poly = {{ epoch = \"2026-03-14T23:45:00Z\", coeffs_s = [0.0] }}\n\
         [[station]]\nname = \"B\"\nfile = \"B.vdif\"\nsample_rate_hz = {FS:?}\n\
         delay_poly = {{ epoch = \"2026-03-14T23:45:00Z\", coeffs_s = [0.0] }}\n\
         [[subband]]\nsky_freq_hz = 8.4e9\nbandwidth_hz = {:?}\nsideband = \"U\"\npol = \"R\"\n",
        FS / 2.0
    );
    let p = dir.join("job.toml");
    std::fs::write(&p, job).unwrap();
    p
}

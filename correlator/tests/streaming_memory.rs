//! Peak memory is bounded by the job, not the recording: correlating 10×
//! more data must not raise the peak RSS. (Its own test binary, so no other
//! test shares the process's high-water mark.)

use correlator::engine::{
    self, EngineError, Integration, Layout, Options, RunHeader, SampleSource, Sink, StreamInfo,
    VdifError,
};
use correlator::Job;
use formats::UtcTime;
use std::path::Path;

/// An endless recording synthesised on demand; it refuses reads before what
/// it was told to discard, like a bounded stream.
struct Endless {
    info: StreamInfo,
    discarded: i64,
}

impl SampleSource for Endless {
    fn info(&self) -> &StreamInfo {
        &self.info
    }
    fn origin(&self) -> UtcTime {
        UtcTime::new(0, 0.0)
    }
    fn read(
        &mut self,
        _thread: u16,
        _channel: usize,
        first: i64,
        out: &mut [f32],
        valid: &mut [bool],
    ) -> Result<(), VdifError> {
        if first < self.discarded {
            return Err(VdifError::Invalid {
                context: "endless".into(),
                what: format!("{first} already discarded"),
            });
        }
        for (k, o) in out.iter_mut().enumerate() {
            let n = (first + k as i64) as u64;
            let h = n.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ (self.info.station_id as u64);
            *o = [-3.3359, -1.0, 1.0, 3.3359][(h >> 62) as usize];
        }
        valid.fill(true);
        Ok(())
    }
    fn discard_before(&mut self, first: i64) {
        self.discarded = self.discarded.max(first);
    }
}

/// Counts integrations and keeps nothing.
#[derive(Default)]
struct Count(u64);

impl Sink for Count {
    fn begin(&mut self, _: &RunHeader) -> Result<(), EngineError> {
        Ok(())
    }
    fn write(&mut self, _: &Layout, _: &Integration) -> Result<(), EngineError> {
        self.0 += 1;
        Ok(())
    }
    fn finish(&mut self) -> Result<(), EngineError> {
        Ok(())
    }
}

fn run(seconds: f64) -> u64 {
    let text = format!(
        "[job]\nstart = \"2000-01-01T00:00:02Z\"\nduration_s = {seconds:?}\n\
         [correlation]\nfft_length = 256\nintegration_s = 0.5\n\
         [source]\nname = \"S\"\nra_deg = 1.0\ndec_deg = 2.0\n\
         [[station]]\nname = \"E\"\ndelay_poly = {{ epoch = \"2000-01-01T00:00:00Z\", coeffs_s = [0.001] }}\n\
         [[station]]\nname = \"M\"\ndelay_poly = {{ epoch = \"2000-01-01T00:00:00Z\", coeffs_s = [1.3, 4e-6] }}\n\
         [[subband]]\nsky_freq_hz = 8.4e9\nbandwidth_hz = 1e6\n"
    );
    let job = Job::from_toml_str(&text, Path::new("mem.toml")).unwrap();
    let sources: Vec<Box<dyn SampleSource>> = (0..2)
        .map(|s| {
            Box::new(Endless {
                info: StreamInfo {
                    station_id: s,
                    threads: vec![0],
                    channels: 1,
                    bits: 2,
                    complex: false,
                    frame_bytes: 8032,
                    samples_per_frame: 32000,
                    sample_rate_hz: 2e6,
                    sample_rate_inferred: false,
                },
                discarded: i64::MIN,
            }) as Box<dyn SampleSource>
        })
        .collect();
    let mut sink = Count::default();
    let opts = Options {
        threads: 2,
        ..Options::default()
    };
    engine::correlate(&job, sources, &opts, &mut sink, &mut |_| {}).unwrap();
    sink.0
}

fn peak_rss_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap()
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        .unwrap()
}

#[test]
fn ten_times_more_data_does_not_raise_peak_memory() {
    // 0.5 s is 3906 FFTs of 128 µs: four whole integrations and a short fifth.
    assert_eq!(run(2.0), 5);
    let short = peak_rss_kb();
    assert_eq!(run(20.0), 41);
    let long = peak_rss_kb();
    eprintln!("peak RSS: 2 s of data {short} kB, 20 s {long} kB");
    assert!(
        long < short + 2048,
        "peak RSS grew from {short} kB to {long} kB"
    );
}

//! Phase-cal rows given to a sink reach the FITS-IDI file: `IdiSink` hands
//! them to the writer, which appends the PHASE-CAL table after UV_DATA;
//! `MemorySink` keeps them. (The extraction itself is tested where it is
//! made; here rows are made up and given as the engine gives them.)

use correlator::engine::{
    self, EngineError, IdiSink, Integration, Layout, MemorySink, Options, RunHeader, SampleSource,
    Sink, StreamInfo, VdifError,
};
use correlator::Job;
use formats::fitsidi::{read_idi, read_pcal, PcalRow};
use formats::UtcTime;
use std::path::Path;

/// Two-bit noise, different per station.
struct Noise(StreamInfo);

impl SampleSource for Noise {
    fn info(&self) -> &StreamInfo {
        &self.0
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
        for (k, o) in out.iter_mut().enumerate() {
            let n = (first + k as i64) as u64;
            let h = n.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ (self.0.station_id as u64);
            *o = [-3.3359, -1.0, 1.0, 3.3359][(h >> 62) as usize];
        }
        valid.fill(true);
        Ok(())
    }
    fn discard_before(&mut self, _first: i64) {}
}

fn job() -> Job {
    let text = "[job]\nstart = \"2000-01-01T00:00:02Z\"\nduration_s = 1.0\n\
         [correlation]\nfft_length = 256\nintegration_s = 0.5\n\
         [source]\nname = \"S\"\nra_deg = 1.0\ndec_deg = 2.0\n\
         [[station]]\nname = \"E\"\ndelay_poly = { epoch = \"2000-01-01T00:00:00Z\", coeffs_s = [0.001] }\n\
         [[station]]\nname = \"M\"\ndelay_poly = { epoch = \"2000-01-01T00:00:00Z\", coeffs_s = [1.3, 4e-6] }\n\
         [[subband]]\nsky_freq_hz = 8.4e9\nbandwidth_hz = 1e6\n";
    Job::from_toml_str(text, Path::new("pcal.toml")).unwrap()
}

fn sources() -> Vec<Box<dyn SampleSource>> {
    (0..2)
        .map(|s| {
            Box::new(Noise(StreamInfo {
                station_id: s,
                threads: vec![0],
                channels: 1,
                bits: 2,
                complex: false,
                frame_bytes: 8032,
                samples_per_frame: 32000,
                sample_rate_hz: 2e6,
                sample_rate_inferred: false,
            })) as Box<dyn SampleSource>
        })
        .collect()
}

/// One row per station at `t`: 2 tones in the job's one band, one polarisation.
fn rows(t: UtcTime) -> Vec<PcalRow> {
    (1..=2u32)
        .map(|a| PcalRow {
            time: t,
            time_interval_s: 0.5,
            source_id: 1,
            antenna_no: a,
            freq_id: 1,
            cable_cal_s: 0.0,
            freq_hz: vec![vec![vec![8.4001e9, 8.4006e9]]],
            re: vec![vec![vec![0.01 * a as f32, 0.02]]],
            im: vec![vec![vec![-0.01, 0.03 * a as f32]]],
            rate: vec![vec![vec![0.0, 1e-12]]],
            state: vec![vec![[0.0; 4]]],
        })
        .collect()
}

/// The engine's part, played by hand: rows given after each integration.
struct Extracting<S: Sink> {
    inner: S,
    given: Vec<PcalRow>,
}

impl<S: Sink> Sink for Extracting<S> {
    fn begin(&mut self, h: &RunHeader) -> Result<(), EngineError> {
        self.inner.begin(h)
    }
    fn write(&mut self, l: &Layout, i: &Integration) -> Result<(), EngineError> {
        self.inner.write(l, i)?;
        let r = rows(i.time);
        self.given.extend(r.clone());
        self.inner.pcal(r)
    }
    fn finish(&mut self) -> Result<(), EngineError> {
        self.inner.finish()
    }
}

#[test]
fn idi_sink_writes_the_rows_it_is_given_as_phase_cal() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pcal.fits");
    let mut sink = Extracting {
        inner: IdiSink::new(&path),
        given: Vec::new(),
    };
    engine::correlate(
        &job(),
        sources(),
        &Options::default(),
        &mut sink,
        &mut |_| {},
    )
    .unwrap();
    let got = read_pcal(&path).unwrap();
    assert_eq!(got.len(), sink.given.len());
    assert!(!got.is_empty());
    for (g, w) in got.iter().zip(&sink.given) {
        assert!(g.time.seconds_since(w.time).abs() < 1e-9);
        assert_eq!(
            (g.antenna_no, &g.freq_hz, &g.re, &g.im, &g.rate),
            (w.antenna_no, &w.freq_hz, &w.re, &w.im, &w.rate)
        );
    }
    // The visibilities are there as without.
    assert_eq!(read_idi(&path).unwrap().rows.len(), 3 * got.len() / 2);
}

#[test]
fn memory_sink_keeps_the_rows() {
    let mut sink = Extracting {
        inner: MemorySink::default(),
        given: Vec::new(),
    };
    engine::correlate(
        &job(),
        sources(),
        &Options::default(),
        &mut sink,
        &mut |_| {},
    )
    .unwrap();
    assert_eq!(sink.inner.pcal, sink.given);
}

#[test]
fn rows_the_file_cannot_hold_fail_the_run_naming_the_row() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.fits");
    let mut sink = IdiSink::new(&path);
    let mut bad = rows(UtcTime::new(946_684_802, 0.25));
    bad[1].antenna_no = 7;
    // Before `begin`: kept, refused when the file is made.
    sink.pcal(bad).unwrap();
    let e = engine::correlate(
        &job(),
        sources(),
        &Options::default(),
        &mut sink,
        &mut |_| {},
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("PHASE-CAL") && e.contains("ANTENNA_NO 7"), "{e}");
    assert!(!path.exists());
}

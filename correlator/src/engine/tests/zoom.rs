//! Zoom bands (issue 14): a carrier in a 1 Hz zoom channel, on a baseline
//! whose delays change by microseconds per second and curve by 1e-10 s/s²
//! (an Earth station's rotation; a lander's Doppler), between a complex USB
//! and a real LSB recording. The truth is what was injected: the tone's sky
//! frequency, so its channel in the zoom, and the residual delay Δ of the
//! data at station B, so the fringe phase 2π·ν·Δ (V_AB ∝ X_A·conj(X_B),
//! residual = true − model).

use super::*;

/// A delay τ(g) = c0 + c1·(g − E) + c2·(g − E)², data and model.
#[derive(Clone, Copy, Debug)]
struct Quad {
    c: [f64; 3],
}

impl Quad {
    fn at(&self, dt: f64) -> f64 {
        self.c[0] + dt * (self.c[1] + dt * self.c[2])
    }

    /// The delay of the wavefront that reaches the station at station
    /// time `t` (seconds after E): solves g + τ(g) = t.
    fn at_station_time(&self, t: f64) -> f64 {
        let mut g = t;
        for _ in 0..6 {
            g = t - self.at(g);
        }
        self.at(g)
    }
}

const F0: f64 = 8.4e9;
/// 2^20 samples per second: 1 Hz channels are 2^20-point FFTs at A
/// (complex) and 2^21-point ones at B (real, twice the rate).
const FS: f64 = 1_048_576.0;

struct ZoomCase {
    /// The sky tone, Hz, and its phase (cycles) at the geocentre at E.
    nu: f64,
    theta: f64,
    /// Model delays of A and B; the data at B are late by `resid_s`.
    model: [Quad; 2],
    resid_s: f64,
    zoom: String,
    integration_s: f64,
}

impl ZoomCase {
    fn new() -> ZoomCase {
        ZoomCase {
            nu: F0 + 500_000.3,
            theta: 0.17,
            // A: +4 µs/s, B: −1 µs/s (a 5 µs/s baseline, 42 kHz of fringe
            // rate at 8.4 GHz); accelerations 1e-10 and −4e-11 s/s².
            model: [
                Quad {
                    c: [1.2e-4, 4e-6, 5e-11],
                },
                Quad {
                    c: [3.1e-4, -1e-6, -2e-11],
                },
            ],
            resid_s: 2.3e-9,
            zoom: format!(
                "[[zoom]]\nsky_freq_hz = {:?}\nbandwidth_hz = 32.0\nchannels = 32\n",
                F0 + 499_984.0
            ),
            integration_s: 1.0,
        }
    }

    fn job(&self) -> Job {
        Job::from_toml_str(&self.text(), Path::new("/tmp/zoom-job.toml")).unwrap()
    }

    fn text(&self) -> String {
        let poly = |q: &Quad| {
            format!(
                "delay_poly = {{ epoch = \"{EPOCH}\", coeffs_s = [{:?}, {:?}, {:?}] }}",
                q.c[0], q.c[1], q.c[2]
            )
        };
        format!(
            "[job]\nname = \"z\"\nstart = \"{}\"\nduration_s = 2.0\n\
             [correlation]\nfft_length = 1024\nintegration_s = {:?}\n\
             [source]\nname = \"LANDER\"\nra_deg = 10.0\ndec_deg = 20.0\n\
             [[station]]\nname = \"A\"\nsample_rate_hz = {FS:?}\nsampling = \"complex\"\n{}\n\
             [[station.subband]]\nsky_freq_hz = {F0:?}\nbandwidth_hz = {FS:?}\nsideband = \"U\"\n\
             [[station]]\nname = \"B\"\nsample_rate_hz = {:?}\nsampling = \"real\"\n{}\n\
             [[station.subband]]\nsky_freq_hz = {:?}\nbandwidth_hz = {FS:?}\nsideband = \"L\"\n\
             [[subband]]\nsky_freq_hz = {F0:?}\nbandwidth_hz = {FS:?}\nsideband = \"U\"\n{}",
            epoch().add_seconds(1.0).to_iso8601(),
            self.integration_s,
            poly(&self.model[0]),
            2.0 * FS,
            poly(&self.model[1]),
            F0 + FS,
            self.zoom
        )
    }

    /// Station A: complex USB, LO at F0, x(t) = exp(2πi[(ν − F0)t − ν τ_A + θ]);
    /// station B: real LSB, LO at F0 + FS, x(t) = cos(2π[(ν − f_LO)t − ν τ_B + θ])
    /// with τ_B late by `resid_s`. Samples from station time 0.5 s to 3.6 s.
    fn sources(&self) -> Vec<Box<dyn SampleSource>> {
        let mut out = Vec::new();
        for s in 0..2 {
            let (fs, lo, complex) = if s == 0 {
                (FS, F0, true)
            } else {
                (2.0 * FS, F0 + FS, false)
            };
            let first = (0.5 * fs) as i64;
            let len = (3.1 * fs) as usize;
            let extra = if s == 1 { self.resid_s } else { 0.0 };
            let mut x = vec![0.0f32; len * if complex { 2 } else { 1 }];
            for k in 0..len {
                let t = (first + k as i64) as f64 / fs;
                let tau = self.model[s].at_station_time(t - extra) + extra;
                let c = (self.nu - lo) * t - self.nu * tau + self.theta;
                let (sn, cs) = (TAU * (c - c.floor())).sin_cos();
                if complex {
                    x[2 * k] = cs as f32;
                    x[2 * k + 1] = sn as f32;
                } else {
                    x[k] = cs as f32;
                }
            }
            let info = super::memory_info(s as u16, vec![0], 32, complex, fs);
            let src = MemorySource::new(info, epoch(), first).with_channel(0, 0, x, None);
            out.push(Box::new(src) as Box<dyn SampleSource>);
        }
        out
    }

    fn run(&self) -> Result<MemorySink, EngineError> {
        let job = self.job().zoom_pass().unwrap().unwrap();
        let mut sink = MemorySink::default();
        correlate(
            &job,
            self.sources(),
            &Options::default(),
            &mut sink,
            &mut |_| {},
        )?;
        Ok(sink)
    }
}

#[test]
fn a_carrier_lands_in_its_1_hz_zoom_channel_with_the_injected_fringe_phase() {
    let case = ZoomCase::new();
    let sink = case.run().unwrap_or_else(|e| panic!("{e}"));
    let l = sink.layout.as_ref().unwrap();
    assert_eq!(l.nchan, 32);
    assert!((l.chan_width_hz - 1.0).abs() < 1e-12, "{}", l.chan_width_hz);
    assert_eq!(l.station_fft_length, vec![1 << 20, 1 << 21]);
    assert_eq!(sink.integrations.len(), 2);
    let bl = l.baselines.iter().position(|&b| b == (0, 1)).unwrap();
    let want = wrap(TAU * (case.nu * case.resid_s).fract());
    for int in &sink.integrations {
        let v = |k: usize| int.vis[l.vis_index(0, bl, 0, k, 0)];
        let amp: Vec<f32> = (0..32).map(|k| v(k).norm()).collect();
        let peak = (0..32).max_by(|&a, &b| amp[a].total_cmp(&amp[b])).unwrap();
        // |V_k| = |A_k|·|B_k| ∝ Dirichlet(k − k_tone)²: the ratio of the
        // two largest channels gives the tone's offset from the peak.
        let next = if amp[peak + 1] > amp[peak - 1] {
            peak + 1
        } else {
            peak - 1
        };
        let r = (amp[next] / amp[peak]).sqrt() as f64;
        let at = peak as f64 + (next as f64 - peak as f64) * r / (1.0 + r);
        let truth = (case.nu - (F0 + 499_984.0)) / l.chan_width_hz;
        assert!(
            (at - truth).abs() < 0.01,
            "tone at channel {at:.4}, injected {truth:.4}"
        );
        // Five channels away only the Dirichlet kernel's sidelobe:
        // (D(k + 5 − k_tone) / D(k − k_tone))², D(x) = sin πx / πx. A
        // smeared tone (delay change not tracked) would spread further.
        let d = |x: f64| (std::f64::consts::PI * x).sin() / (std::f64::consts::PI * x);
        let k5 = if next > peak { peak + 5 } else { peak - 5 };
        let far = (amp[k5] / amp[peak]) as f64;
        let closed = (d(k5 as f64 - truth) / d(peak as f64 - truth)).powi(2);
        assert!(
            (far / closed - 1.0).abs() < 0.05,
            "5 channels away {far:.3e}, Dirichlet {closed:.3e}"
        );
        eprintln!(
            "tone at channel {at:.4} (injected {truth:.4}); phase {:.4} {:.4} rad (injected {want:.4}); sidelobe/Dirichlet {:.4}",
            v(peak).arg(),
            v(next).arg(),
            far / closed
        );
        for k in [peak, next] {
            let err = wrap(v(k).arg() as f64 - want);
            assert!(
                err.abs() < 0.005,
                "channel {k}: phase {:.4} rad, injected {want:.4} (error {err:.4})",
                v(k).arg()
            );
        }
    }
}

#[test]
fn zooms_are_refused_in_one_line_naming_what_is_wrong() {
    let mut case = ZoomCase::new();
    case.zoom = format!(
        "[[zoom]]\nsky_freq_hz = {:?}\nbandwidth_hz = 32.0\nchannels = 32\n",
        F0 + FS - 16.0
    );
    let e = case.job().zoom_pass().unwrap_err().to_string();
    assert!(
        e.contains("zoom[0]") && e.contains("no station records"),
        "{e}"
    );
    let mut case = ZoomCase::new();
    case.integration_s = 1.5;
    let e = case.job().zoom_pass().unwrap_err().to_string();
    assert!(
        e.contains("integration_s") && e.contains("multiple of 1 s"),
        "{e}"
    );
    // Off the 1 Hz grid of the recordings' channels.
    let mut case = ZoomCase::new();
    case.zoom = format!(
        "[[zoom]]\nsky_freq_hz = {:?}\nbandwidth_hz = 32.0\nchannels = 32\n",
        F0 + 499_984.5
    );
    let e = case.run().unwrap_err().to_string();
    assert!(!e.contains('\n') && e.contains("of a channel off"), "{e}");
    // Zooms of different widths.
    let mut case = ZoomCase::new();
    case.zoom += &format!(
        "[[zoom]]\nsky_freq_hz = {:?}\nbandwidth_hz = 64.0\nchannels = 32\n",
        F0 + 1000.0
    );
    let e = Job::from_toml_str(&case.text(), Path::new("/tmp/z.toml"))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("zoom[1].bandwidth_hz") && e.contains("same width"),
        "{e}"
    );
}

//! Geocentric time → FFT blocks → integrations, and what the output holds.
//!
//! The correlator works on geocentric time g. Block b of the job covers
//! g ∈ [start + b·T, start + (b+1)·T), T = fft_length / sample_rate. For every
//! block, phase centre and station the centre's model is evaluated once, at
//! the block's centre g_c: the station sample nearest to g_c + τ(g_c)
//! becomes the block's centre sample (integer alignment) and what is left
//! over, δ, is corrected after the FFT (fractional-sample correction). Each
//! phase centre (a source in the beam) has its own delay model, so the same
//! block of geocentric time takes its samples from a different place in
//! the recording for each centre (a lander and a quasar in one beam of an
//! Earth–Moon baseline: milliseconds apart).

use crate::job::{Pol, Sampling, Sideband, Window};
use crate::model::DelayTrack;
use formats::UtcTime;

/// One band of the output: a sky frequency range recorded in one or two
/// polarisations (each a job subband).
#[derive(Debug, Clone, PartialEq)]
pub struct Band {
    /// Band edge (LO): lower edge for USB, upper edge for LSB.
    pub sky_freq_hz: f64,
    pub bandwidth_hz: f64,
    pub sideband: Sideband,
    /// Job subband index for each of [`Layout::pols`].
    pub subbands: Vec<usize>,
}

/// A polarisation product: which of a band's subbands at the first station
/// (index into [`Layout::pols`]) is multiplied by the conjugate of which at
/// the second.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Product {
    pub pol_a: usize,
    pub pol_b: usize,
}

/// Shape of the correlator output: phase centres, stations, baselines,
/// bands, channels, polarisation products, and the timing of blocks and
/// integrations.
#[derive(Debug, Clone, PartialEq)]
pub struct Layout {
    /// The phase centres, one per job source in job order: every one is
    /// correlated from the same samples with its own delay model, and is
    /// the outermost dimension of the output.
    pub centres: Vec<String>,
    pub stations: Vec<String>,
    /// Station index pairs (a, b), a ≤ b (autocorrelations included), in
    /// job order: (0,0), (0,1), …, (1,1), ….
    pub baselines: Vec<(usize, usize)>,
    pub bands: Vec<Band>,
    /// Polarisations recorded in every band, in canonical order (R before L,
    /// X before Y).
    pub pols: Vec<Pol>,
    /// Parallel hands first, then cross hands when two polarisations exist.
    pub products: Vec<Product>,
    /// Output channels per band: the FFT's channels (`fft_nchan`) or
    /// fewer, each the mean of `fft_nchan / nchan` adjacent ones
    /// (`[correlation] channels`).
    pub nchan: usize,
    /// Width of an output channel.
    pub chan_width_hz: f64,
    /// Channels of each FFT spectrum: fft_length/2 (real sampling) or
    /// fft_length (complex); the accumulators hold these.
    pub fft_nchan: usize,
    /// The window on each block before its FFT.
    pub window: Window,
    pub complex: bool,
    pub sample_rate_hz: f64,
    pub fft_length: usize,
    /// Whole FFT blocks per integration (the requested time, rounded).
    pub blocks_per_integration: usize,
    /// Integration time actually used: blocks_per_integration × block duration.
    pub integration_s: f64,
    /// Per station: its recording's sample rate. `sample_rate_hz` and
    /// `fft_length` are those of the lowest rate; `chan_width_hz` =
    /// that rate / `fft_length` is the channel width of every station.
    pub station_sample_rate_hz: Vec<f64>,
    /// Per station: its FFT length, sample rate / `chan_width_hz`, so every
    /// station's block lasts 1/Δf and the geocentric block plan is common.
    pub station_fft_length: Vec<usize>,
    /// Per station: the subbands it records (one stream of samples each).
    pub station_recordings: Vec<Vec<Recording>>,
    /// [station][job subband]: where the channels of that output subband
    /// come from at the station; `None`: the station records none of it and
    /// takes no part in that band (zero weight on its baselines).
    pub channel_maps: Vec<Vec<Option<ChannelMap>>>,
    /// [station][job subband]: the sky frequencies of the station's
    /// phase-cal tones inside that output band and its recording of it
    /// (empty: none; see [`crate::engine::pcal`]).
    pub pcal_tones: Vec<Vec<Vec<f64>>>,
}

/// One subband a station records, as its station stage treats it.
#[derive(Debug, Clone, PartialEq)]
pub struct Recording {
    pub thread: u16,
    pub channel: usize,
    pub pol: Pol,
    pub sampling: Sampling,
    /// The sideband as recorded (DSB: Upper, its spectrum runs up in sky
    /// frequency once reordered).
    pub sideband: Sideband,
    /// The station's actual LO, which the fringe rotation uses: band edge +
    /// `lo_offset_hz` (DSB: band centre + `lo_offset_hz`).
    pub lo_hz: f64,
    /// `lo_offset_hz`: removed by a frequency shift in the rotation, so
    /// that spectrum channel k lies at `chan0_sky_hz` ± k·Δf.
    pub lo_offset_hz: f64,
    /// Sky frequency of spectrum channel 0 (after the offset is removed):
    /// the band edge (USB, LSB), or the DSB LO − fs/2.
    pub chan0_sky_hz: f64,
    /// Channels of its spectrum: FFT length / 2 (real) or FFT length
    /// (complex; DSB reordered to run from −fs/2 up).
    pub nchan: usize,
    /// The sky range it holds, [lo, hi] (its `bandwidth_hz`: an oversampled
    /// real recording holds less than fs/2).
    pub sky_lo_hz: f64,
    pub sky_hi_hz: f64,
}

/// Where one output subband's channels lie in a station's spectrum of one
/// recording.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChannelMap {
    /// Index into the station's [`Layout::station_recordings`].
    pub recording: usize,
    /// The station's channel for output channel 0.
    pub first_chan: usize,
    /// Output channel j is station channel `first_chan − j`, conjugated
    /// (the recording and the output band differ in sideband), instead of
    /// `first_chan + j`.
    pub reversed: bool,
}

impl Layout {
    /// Duration of one FFT block.
    pub fn block_s(&self) -> f64 {
        self.fft_length as f64 / self.sample_rate_hz
    }

    /// Tone slots per (station, subband) in
    /// [`crate::engine::Integration::pcal`]: the most tones any has.
    pub fn pcal_slots(&self) -> usize {
        self.pcal_tones
            .iter()
            .flatten()
            .map(|t| t.len())
            .max()
            .unwrap_or(0)
    }

    /// FFT channels averaged into one output channel.
    pub fn chans_averaged(&self) -> usize {
        self.fft_nchan / self.nchan
    }

    /// Sky frequency of output channel `chan` of `band`: for USB the band
    /// edge plus the offset, for LSB the band edge minus it (channel 0 is
    /// at the LO edge in both, so LSB channels run down in frequency). FFT
    /// channel k lies at k × fs/N from the edge; an output channel, the
    /// mean of FFT channels chan·m … chan·m + m − 1, at the mean of theirs:
    /// (chan·m + (m − 1)/2) × fs/N.
    pub fn channel_freq_hz(&self, band: usize, chan: usize) -> f64 {
        let b = &self.bands[band];
        let m = self.chans_averaged() as f64;
        let fft_width = self.chan_width_hz / m;
        let off = (chan as f64 * m + (m - 1.0) / 2.0) * fft_width;
        match b.sideband {
            Sideband::Upper => b.sky_freq_hz + off,
            Sideband::Lower => b.sky_freq_hz - off,
        }
    }

    /// Index of a visibility in [`crate::engine::Integration::vis`]:
    /// `[centre][baseline][band][chan][product]`.
    pub fn vis_index(
        &self,
        centre: usize,
        baseline: usize,
        band: usize,
        chan: usize,
        product: usize,
    ) -> usize {
        let row = centre * self.baselines.len() + baseline;
        ((row * self.bands.len() + band) * self.nchan + chan) * self.products.len() + product
    }

    /// Index of a weight in [`crate::engine::Integration::weights`]:
    /// `[centre][baseline][band][product]`.
    pub fn weight_index(
        &self,
        centre: usize,
        baseline: usize,
        band: usize,
        product: usize,
    ) -> usize {
        let row = centre * self.baselines.len() + baseline;
        (row * self.bands.len() + band) * self.products.len() + product
    }

    /// Visibilities of one centre (the stride of the centre dimension in
    /// [`crate::engine::Integration::vis`]).
    pub fn vis_per_centre(&self) -> usize {
        self.baselines.len() * self.bands.len() * self.nchan * self.products.len()
    }

    /// Weights of one centre.
    pub fn weights_per_centre(&self) -> usize {
        self.baselines.len() * self.bands.len() * self.products.len()
    }

    /// FITS-IDI Stokes code of a product (RR −1, LL −2, RL −3, LR −4;
    /// XX −5, YY −6, XY −7, YX −8).
    pub fn stokes_code(&self, product: usize) -> i32 {
        let p = self.products[product];
        let (a, b) = (self.pols[p.pol_a], self.pols[p.pol_b]);
        match (a, b) {
            (Pol::R, Pol::R) => -1,
            (Pol::L, Pol::L) => -2,
            (Pol::R, Pol::L) => -3,
            (Pol::L, Pol::R) => -4,
            (Pol::X, Pol::X) => -5,
            (Pol::Y, Pol::Y) => -6,
            (Pol::X, Pol::Y) => -7,
            (Pol::Y, Pol::X) => -8,
            // Mixed circular/linear bands are refused when the layout is built.
            _ => 0,
        }
    }

    /// "RR", "LR", …
    pub fn product_name(&self, product: usize) -> String {
        let p = self.products[product];
        format!(
            "{}{}",
            self.pols[p.pol_a].letter(),
            self.pols[p.pol_b].letter()
        )
    }
}

/// Where one station's block lies in its recording.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct BlockGeom {
    /// Index of the block's first sample in the station's stream.
    pub n0: i64,
    /// Fractional misalignment in samples, in [−½, ½]: the block was taken
    /// δ samples earlier than the model asks for (corrected after the FFT).
    pub delta: f64,
    /// Model delay τ(g_c), seconds.
    pub tau_s: f64,
    /// dτ/dt in station time: rate / (1 + rate). A sample u seconds of
    /// station time after the block centre belongs to the wavefront that was
    /// at the geocentre u / (1 + rate) after g_c, so its delay is
    /// τ_c + u · rate / (1 + rate).
    pub rate_station: f64,
    /// d²τ/dt² in station time, a/(1 + rate)³ (used when a long block's
    /// rotation is tracked to second order).
    pub accel_station: f64,
    /// The block's geocentric centre g_c (the LO-offset shift is a phase
    /// in geocentric time).
    pub g_c: UtcTime,
}

/// Evaluate the model at block centre `g_c` and place the block in the stream.
pub fn block_geom(
    track: &DelayTrack,
    origin: UtcTime,
    sample_rate_hz: f64,
    fft_length: usize,
    g_c: UtcTime,
) -> BlockGeom {
    let d = track.eval(g_c);
    // Station time of the centre: g_c + τ. Keep the whole seconds apart so the
    // sample position stays exact to ~1e-6 samples after hours.
    let whole = (g_c.sec() - origin.sec()) as f64;
    let frac = (g_c.frac() - origin.frac()) + d.delay_s;
    let pw = whole * sample_rate_hz;
    let pf = frac * sample_rate_hz;
    let nc = (pw + pf).round();
    let delta = (pw - nc) + pf;
    BlockGeom {
        n0: nc as i64 - (fft_length / 2) as i64,
        delta,
        tau_s: d.delay_s,
        rate_station: d.rate / (1.0 + d.rate),
        accel_station: d.accel_per_s / (1.0 + d.rate).powi(3),
        g_c,
    }
}

/// Geocentric centre of block `b` (counted from `start`).
pub fn block_centre(start: UtcTime, block_s: f64, b: u64) -> UtcTime {
    start.add_seconds((b as f64 + 0.5) * block_s)
}

/// The geocentric time whose wavefront reaches the station at station time
/// `t`: solves g + τ(g) = t by fixed-point iteration (|rate| ≪ 1).
pub fn geocentric_time_of(track: &DelayTrack, t: UtcTime) -> UtcTime {
    let mut g = t;
    for _ in 0..6 {
        g = t.add_seconds(-track.eval(g).delay_s);
    }
    g
}

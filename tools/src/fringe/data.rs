//! The fringe fitter's input: the cross-spectra of one baseline over one scan
//! (or one solution interval), on their sky frequencies.
//!
//! Noise model (documented in README, "emcorr fringe"): visibilities are
//! normalised correlation coefficients, so a channel of width Δν accumulated
//! for t seconds with a fraction w of valid data carries complex Gaussian noise
//! of standard deviation σ = 1/sqrt(2·Δν·t·w) in each of its real and imaginary
//! parts (Nyquist-sampled real data: 2·Δν·t·w independent samples, each product
//! of unit-variance samples, split between two quadratures of equal variance).
//! The fitter weights each visibility by W = 1/σ² = 2·Δν·t·w.
//!
//! Quantised data: the correlator divides cross-correlations of b-bit data by
//! the quantisation gain g_A·g_B (Van Vleck, small-ρ form) so that V is the
//! true correlation coefficient, but the noise, that of unit-variance
//! quantised samples, grows by the same factor: σ = 1/(g_A·g_B·sqrt(2·Δν·t·w)).
//! `noise_scale` holds 1/(g_A·g_B) (1 for unquantised data); g² = 2/π for 1 bit
//! and 0.8825 for 2 bits at the optimal threshold (Thompson, Moran & Swenson,
//! 3rd ed., Table 8.1), read from each antenna's NO_LEVELS.

use correlator::job::Window;
use formats::UtcTime;
use num_complex::Complex64;

/// Sideband of a subband: which way channel frequencies run from the band edge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sideband {
    Upper,
    Lower,
}

impl Sideband {
    /// +1 for upper, −1 for lower (FITS-IDI's SIDEBAND).
    pub fn sign(self) -> f64 {
        match self {
            Sideband::Upper => 1.0,
            Sideband::Lower => -1.0,
        }
    }
}

/// How an FX correlator made a subband's channels: what sets the amplitude a
/// residual delay costs ([`super::fit::fx_delay_loss`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FxChannels {
    /// FFT channels averaged into one channel (≥ 1): the FFT's channel
    /// width is the channel width / `spec_avg`, its length in time the
    /// inverse of that.
    pub spec_avg: u32,
    /// Window on each block of samples before the FFT.
    pub window: Window,
}

impl Default for FxChannels {
    /// One FFT channel per channel, no window: emcorr's default, DiFX's
    /// usual setup, and what is assumed for a file that does not say.
    fn default() -> Self {
        FxChannels {
            spec_avg: 1,
            window: Window::None,
        }
    }
}

/// One subband (FITS-IDI band, IF): the sky frequency of each channel.
#[derive(Debug, Clone, PartialEq)]
pub struct Subband {
    /// Sky frequency of channel k (Hz), in storage order.
    pub chan_freq_hz: Vec<f64>,
    /// Channel width (Hz, > 0).
    pub chan_bw_hz: f64,
    /// How the correlator made the channels.
    pub fx: FxChannels,
}

impl Subband {
    /// Channels of a subband whose band edge (the LO) is at `edge_hz`: channel
    /// k lies at `edge_hz + k·chan_bw_hz` (upper) or `edge_hz − k·chan_bw_hz`
    /// (lower sideband).
    pub fn from_edge(edge_hz: f64, n_chan: usize, chan_bw_hz: f64, sideband: Sideband) -> Self {
        Subband {
            chan_freq_hz: (0..n_chan)
                .map(|k| edge_hz + sideband.sign() * k as f64 * chan_bw_hz)
                .collect(),
            chan_bw_hz,
            fx: FxChannels::default(),
        }
    }

    pub fn n_chan(&self) -> usize {
        self.chan_freq_hz.len()
    }
}

/// Cross-spectra of one baseline A–B over one scan or solution interval.
///
/// `vis[(i·n_subbands + b)·n_chan + k]` is accumulation period i, subband b,
/// channel k: V_AB = ⟨X_A·conj(X_B)⟩ ∝ exp(+2πiν·τ_res), τ_res the residual
/// delay of B relative to A (see README, Conventions).
#[derive(Debug, Clone, PartialEq)]
pub struct BaselineData {
    /// First station (earlier in job order).
    pub station_a: String,
    /// Second station.
    pub station_b: String,
    /// Time zero of `times_s` (UTC label of the geocentre wavefront time).
    pub epoch: UtcTime,
    /// Centre of each accumulation period, seconds after `epoch`, increasing.
    pub times_s: Vec<f64>,
    /// Length of each accumulation period (s).
    pub inttim_s: Vec<f64>,
    /// Subbands; all have the same number of channels.
    pub subbands: Vec<Subband>,
    /// Frequency the reported phase refers to (Hz).
    pub ref_freq_hz: f64,
    /// Noise per component over the radiometer σ = 1/sqrt(2·Δν·t·w): 1 for
    /// unquantised data, 1/(g_A·g_B) for quantised data (module docs).
    pub noise_scale: f64,
    n_chan: usize,
    vis: Vec<Complex64>,
    weight: Vec<f64>,
}

/// Why a [`BaselineData`] could not be built.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DataError {
    #[error("baseline {0}: no subbands or no channels")]
    NoChannels(String),
    #[error("baseline {0}: subbands differ in their number of channels")]
    RaggedSubbands(String),
    #[error("baseline {0}: {1} visibilities given, {2} expected (times × subbands × channels)")]
    WrongLength(String, usize, usize),
    #[error("baseline {0}: times are not strictly increasing or not finite")]
    BadTimes(String),
    #[error("baseline {0}: no accumulation period has valid data")]
    NoValidData(String),
    #[error("polarisation product {asked} asked, the file has {have}")]
    NoSuchStokes { asked: usize, have: usize },
}

impl BaselineData {
    /// Build from vis and weights in `[time][subband][chan]` order. Weights are
    /// the valid fraction of each visibility (0 = flagged, 1 = all data valid).
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        station_a: &str,
        station_b: &str,
        epoch: UtcTime,
        times_s: Vec<f64>,
        inttim_s: Vec<f64>,
        subbands: Vec<Subband>,
        ref_freq_hz: f64,
        vis: Vec<Complex64>,
        weight: Vec<f64>,
    ) -> Result<Self, DataError> {
        let name = format!("{station_a}-{station_b}");
        let n_chan = subbands.first().map_or(0, Subband::n_chan);
        if n_chan == 0 {
            return Err(DataError::NoChannels(name));
        }
        if subbands.iter().any(|s| s.n_chan() != n_chan) {
            return Err(DataError::RaggedSubbands(name));
        }
        let want = times_s.len() * subbands.len() * n_chan;
        if vis.len() != want || weight.len() != want || inttim_s.len() != times_s.len() {
            return Err(DataError::WrongLength(name, vis.len(), want));
        }
        if times_s.iter().any(|t| !t.is_finite()) || times_s.windows(2).any(|w| w[1] <= w[0]) {
            return Err(DataError::BadTimes(name));
        }
        let d = BaselineData {
            station_a: station_a.to_string(),
            station_b: station_b.to_string(),
            epoch,
            times_s,
            inttim_s,
            subbands,
            ref_freq_hz,
            noise_scale: 1.0,
            n_chan,
            vis,
            weight,
        };
        if d.total_weight() <= 0.0 {
            return Err(DataError::NoValidData(name));
        }
        Ok(d)
    }

    /// "A-B".
    pub fn baseline(&self) -> String {
        format!("{}-{}", self.station_a, self.station_b)
    }

    pub fn n_times(&self) -> usize {
        self.times_s.len()
    }

    pub fn n_subbands(&self) -> usize {
        self.subbands.len()
    }

    pub fn n_chan(&self) -> usize {
        self.n_chan
    }

    fn index(&self, i: usize, b: usize, k: usize) -> usize {
        (i * self.subbands.len() + b) * self.n_chan + k
    }

    /// Visibility of period i, subband b, channel k.
    pub fn vis(&self, i: usize, b: usize, k: usize) -> Complex64 {
        self.vis[self.index(i, b, k)]
    }

    /// Valid fraction of period i, subband b, channel k.
    pub fn valid_fraction(&self, i: usize, b: usize, k: usize) -> f64 {
        self.weight[self.index(i, b, k)]
    }

    /// Inverse noise variance per component, W = 2·Δν·t·w/noise_scale²
    /// (module docs).
    pub fn inverse_variance(&self, i: usize, b: usize, k: usize) -> f64 {
        let w = self.weight[self.index(i, b, k)];
        if w > 0.0 {
            2.0 * self.subbands[b].chan_bw_hz * self.inttim_s[i] * w
                / (self.noise_scale * self.noise_scale)
        } else {
            0.0
        }
    }

    /// Multiply every visibility by `factor(period, subband, ν_hz)`
    /// (calibration: see [`super::calibration`]).
    pub fn rotate(&mut self, mut factor: impl FnMut(usize, usize, f64) -> Complex64) {
        for i in 0..self.times_s.len() {
            for b in 0..self.subbands.len() {
                for k in 0..self.n_chan {
                    let at = self.index(i, b, k);
                    self.vis[at] *= factor(i, b, self.subbands[b].chan_freq_hz[k]);
                }
            }
        }
    }

    /// Σ W over all visibilities.
    pub fn total_weight(&self) -> f64 {
        let mut s = 0.0;
        for i in 0..self.n_times() {
            for b in 0..self.n_subbands() {
                for k in 0..self.n_chan {
                    s += self.inverse_variance(i, b, k);
                }
            }
        }
        s
    }

    /// The same scan restricted to subband `b` (for single-band delays).
    pub fn subband(&self, b: usize) -> BaselineData {
        let mut vis = Vec::with_capacity(self.n_times() * self.n_chan);
        let mut weight = Vec::with_capacity(vis.capacity());
        for i in 0..self.n_times() {
            let s = self.index(i, b, 0);
            vis.extend_from_slice(&self.vis[s..s + self.n_chan]);
            weight.extend_from_slice(&self.weight[s..s + self.n_chan]);
        }
        BaselineData {
            subbands: vec![self.subbands[b].clone()],
            vis,
            weight,
            ..self.clone_header()
        }
    }

    /// Split into solution intervals of about `solint_s` seconds (periods are
    /// assigned by their centre; intervals with no valid data are dropped).
    pub fn split(&self, solint_s: f64) -> Vec<BaselineData> {
        let mut out = Vec::new();
        let Some(&t0) = self.times_s.first() else {
            return out;
        };
        let mut start = 0;
        while start < self.n_times() {
            let slot = ((self.times_s[start] - t0) / solint_s).floor();
            let mut end = start;
            while end < self.n_times() && ((self.times_s[end] - t0) / solint_s).floor() == slot {
                end += 1;
            }
            let per = self.subbands.len() * self.n_chan;
            let part = BaselineData {
                times_s: self.times_s[start..end].to_vec(),
                inttim_s: self.inttim_s[start..end].to_vec(),
                vis: self.vis[start * per..end * per].to_vec(),
                weight: self.weight[start * per..end * per].to_vec(),
                ..self.clone_header()
            };
            if part.total_weight() > 0.0 {
                out.push(part);
            }
            start = end;
        }
        out
    }

    fn clone_header(&self) -> BaselineData {
        BaselineData {
            station_a: self.station_a.clone(),
            station_b: self.station_b.clone(),
            epoch: self.epoch,
            times_s: self.times_s.clone(),
            inttim_s: self.inttim_s.clone(),
            subbands: self.subbands.clone(),
            ref_freq_hz: self.ref_freq_hz,
            noise_scale: self.noise_scale,
            n_chan: self.n_chan,
            vis: Vec::new(),
            weight: Vec::new(),
        }
    }

    /// Every visibility with non-zero weight, flattened for the fit: (t_s,
    /// ν_hz, V, W).
    pub(crate) fn points(&self) -> Vec<Point> {
        let mut pts = Vec::with_capacity(self.vis.len());
        for i in 0..self.n_times() {
            for (b, sb) in self.subbands.iter().enumerate() {
                for k in 0..self.n_chan {
                    let w = self.inverse_variance(i, b, k);
                    if w > 0.0 {
                        pts.push(Point {
                            t_s: self.times_s[i],
                            inttim_s: self.inttim_s[i],
                            freq_hz: sb.chan_freq_hz[k],
                            chan_bw_hz: sb.chan_bw_hz,
                            fx: sb.fx,
                            vis: self.vis(i, b, k),
                            w,
                        });
                    }
                }
            }
        }
        pts
    }
}

/// One visibility with its coordinates and inverse variance.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Point {
    pub t_s: f64,
    pub inttim_s: f64,
    pub freq_hz: f64,
    pub chan_bw_hz: f64,
    pub fx: FxChannels,
    pub vis: Complex64,
    pub w: f64,
}

// ---------------------------------------------------------------------------
// From FITS-IDI.

use formats::fitsidi::{IdiFile, IdiHeader, IdiScan, ModelRow, UvRow};
use std::collections::{BTreeMap, BTreeSet};

/// A gap between integrations longer than this (or a change in the sources
/// observed) starts a new scan, unless 3 integration times are longer.
/// Used only where the file's EMCORR_SCAN table does not say.
pub const SCAN_GAP_S: f64 = 10.0;

/// Rows whose times differ by less than this belong to the same
/// integration (the phase centres of one integration carry the same time).
const SAME_INTEGRATION_S: f64 = 1e-6;

/// One baseline × source over one scan of a FITS-IDI file.
#[derive(Debug, Clone, PartialEq)]
pub struct ScanBaseline {
    /// 1-based scan number, in time order, common to all baselines.
    pub scan: usize,
    /// The scan's name (VEX) from the file's EMCORR_SCAN table; `None` for
    /// a file without one, or rows outside every scan it lists.
    pub scan_name: Option<String>,
    pub source_id: u32,
    pub source: String,
    /// ANTENNA_NO of the two stations (a1 < a2).
    pub antennas: (u32, u32),
    pub data: BaselineData,
}

/// Sky frequency of every channel of every band (FITS-IDI: REF_FREQ +
/// BANDFREQ + (k + 1 − REF_PIXL)·CH_WIDTH·SIDEBAND).
///
/// The channels' FX setup comes from the file's SPECAVG and FFTWIN keywords
/// (emcorr writes them); a file without them (another correlator), or with
/// a window name emcorr does not know, is taken to have one FFT channel per
/// channel and no window.
pub fn idi_subbands(header: &IdiHeader) -> Vec<Subband> {
    let fx = header
        .fx
        .as_ref()
        .map(|f| FxChannels {
            spec_avg: f.spec_avg.max(1),
            window: match f.window.as_str() {
                "hann" => Window::Hann,
                "hamming" => Window::Hamming,
                "cosine" => Window::Cosine,
                _ => Window::None,
            },
        })
        .unwrap_or_default();
    header
        .bands
        .iter()
        .map(|b| {
            let sign = if b.sideband < 0 { -1.0 } else { 1.0 };
            Subband {
                chan_freq_hz: (0..header.n_chan)
                    .map(|k| {
                        header.ref_freq_hz
                            + b.freq_offset_hz
                            + (k as f64 + 1.0 - header.ref_pixel) * b.chan_bw_hz * sign
                    })
                    .collect(),
                chan_bw_hz: b.chan_bw_hz.abs(),
                fx,
            }
        })
        .collect()
}

/// Quantisation gain squared, g², of data digitised with `n_levels` levels
/// at the optimal threshold: 2/π for 2 levels (1 bit), 0.8825 for 4 (2 bits),
/// 1 otherwise (more bits, float data, or unknown).
pub fn quantisation_efficiency(n_levels: i32) -> f64 {
    match n_levels {
        2 => 2.0 / std::f64::consts::PI,
        4 => 0.8825,
        _ => 1.0,
    }
}

/// Name of an antenna number (`"ANT<n>"` if the ANTENNA table lacks it).
pub fn antenna_name(header: &IdiHeader, id: u32) -> String {
    header
        .antennas
        .iter()
        .find(|a| a.id == id)
        .map_or_else(|| format!("ANT{id}"), |a| a.name.clone())
}

/// Which scan a row belongs to, before scans are numbered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum ScanKey {
    /// Row of the file's EMCORR_SCAN table.
    Listed(usize),
    /// Found from the rows themselves (no table, or outside its scans).
    Inferred(usize),
}

/// Finds the EMCORR_SCAN scan of a row. A session has ~1000 scans and ~10⁶
/// rows, so scans are looked up by start time, not tried one by one.
struct ScanIndex<'a> {
    scans: &'a [IdiScan],
    /// Scan indices by start time.
    by_start: Vec<usize>,
    /// The longest scan (s): no scan that starts earlier than this before a
    /// row can hold it.
    longest_s: f64,
}

impl<'a> ScanIndex<'a> {
    fn new(scans: &'a [IdiScan]) -> Self {
        let mut by_start: Vec<usize> = (0..scans.len()).collect();
        by_start.sort_by(|&a, &b| {
            scans[a]
                .start
                .partial_cmp(&scans[b].start)
                .unwrap_or(std::cmp::Ordering::Equal)
        });
        let longest_s = scans.iter().map(|s| s.duration_s).fold(0.0, f64::max);
        ScanIndex {
            scans,
            by_start,
            longest_s,
        }
    }

    /// The scan holding row `r`: its integration centre lies in [start,
    /// end). Where scans overlap (subarrays), one that lists the row's
    /// SOURCE_ID wins; among equals, the first in the table.
    fn scan_of(&self, r: &UvRow) -> Option<usize> {
        let started = self
            .by_start
            .partition_point(|&i| self.scans[i].start.seconds_since(r.time) <= 0.0);
        let mut best: Option<(bool, usize)> = None;
        for &i in self.by_start[..started].iter().rev() {
            let s = &self.scans[i];
            let dt = r.time.seconds_since(s.start);
            if dt > self.longest_s {
                break;
            }
            if dt < s.duration_s {
                // Rank: listing the source first, then table order.
                let cand = (!s.source_ids.contains(&r.source_id), i);
                if best.is_none_or(|b| cand < b) {
                    best = Some(cand);
                }
            }
        }
        best.map(|(_, i)| i)
    }
}

/// Scans of rows no EMCORR_SCAN row covers (`order`: row indices in time
/// order). Rows of one integration (times within [`SAME_INTEGRATION_S`]) are
/// taken together; a scan ends where the set of sources observed changes
/// (a source change, or a second phase centre starting or stopping), at a
/// gap of more than max([`SCAN_GAP_S`], 3 integration times), or where a
/// listed scan intervenes. For a file with one source at a time this is
/// the rule of emcorr before scan tables: break at a source change or a gap.
fn infer_scans(rows: &[UvRow], order: &[usize], key: &mut [Option<ScanKey>]) {
    let mut n_inferred = 0usize;
    // (sources, time, longest INTTIM) of the previous integration, if the
    // previous row in time was an unlisted one.
    let mut prev: Option<(BTreeSet<u32>, UtcTime, f64)> = None;
    let mut i = 0;
    while i < order.len() {
        if key[order[i]].is_some() {
            prev = None; // a listed scan intervenes
            i += 1;
            continue;
        }
        let t0 = rows[order[i]].time;
        let mut j = i;
        let mut sources = BTreeSet::new();
        let mut inttim: f64 = 0.0;
        while j < order.len()
            && key[order[j]].is_none()
            && rows[order[j]].time.seconds_since(t0) < SAME_INTEGRATION_S
        {
            sources.insert(rows[order[j]].source_id);
            inttim = inttim.max(rows[order[j]].inttim_s);
            j += 1;
        }
        let continues = prev.as_ref().is_some_and(|(s, t, dt)| {
            *s == sources && t0.seconds_since(*t) <= SCAN_GAP_S.max(3.0 * dt.max(inttim))
        });
        if !continues {
            n_inferred += 1;
        }
        for &r in &order[i..j] {
            key[r] = Some(ScanKey::Inferred(n_inferred));
        }
        prev = Some((sources, t0, inttim));
        i = j;
    }
}

/// Cut a file's cross-correlations (a1 ≠ a2) into scan × source × baseline
/// pieces, using polarisation product `stokes` (0-based index into the
/// header's Stokes axis).
///
/// Scans are the file's EMCORR_SCAN table where it has one (a row belongs
/// to the scan whose time range holds its integration centre); rows it does
/// not cover, and every row of a file without it, are cut as `infer_scans`
/// says. Within a scan every SOURCE_ID is a piece of its own: a same-beam
/// scan has several phase centres at the same times. Scans are numbered
/// from 1 in time order; pieces come in scan order, then SOURCE_ID, then
/// baseline.
pub fn scans_from_idi(file: &IdiFile, stokes: usize) -> Result<Vec<ScanBaseline>, DataError> {
    let h = &file.header;
    let subbands = idi_subbands(h);
    let n_sb = subbands.len();
    let n_chan = h.n_chan;
    if stokes >= h.stokes.len() {
        return Err(DataError::NoSuchStokes {
            asked: stokes + 1,
            have: h.stokes.len(),
        });
    }
    let mut order: Vec<usize> = (0..file.rows.len()).collect();
    order.sort_by(|&a, &b| {
        file.rows[a]
            .time
            .partial_cmp(&file.rows[b].time)
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    let index = ScanIndex::new(&h.scans);
    let mut key: Vec<Option<ScanKey>> = file
        .rows
        .iter()
        .map(|r| index.scan_of(r).map(ScanKey::Listed))
        .collect();
    infer_scans(&file.rows, &order, &mut key);
    // Number the scans that hold rows by their first row's time.
    let mut first_time: BTreeMap<ScanKey, UtcTime> = BTreeMap::new();
    for &i in &order {
        let k = key[i].expect("every row has a scan");
        first_time.entry(k).or_insert(file.rows[i].time);
    }
    let mut keys: Vec<(UtcTime, ScanKey)> = first_time.into_iter().map(|(k, t)| (t, k)).collect();
    keys.sort_by(|a, b| {
        a.0.partial_cmp(&b.0)
            .unwrap_or(std::cmp::Ordering::Equal)
            .then(a.1.cmp(&b.1))
    });
    let number: BTreeMap<ScanKey, usize> = keys
        .iter()
        .enumerate()
        .map(|(n, (_, k))| (*k, n + 1))
        .collect();
    let name_of = |scan: usize| -> Option<String> {
        keys.get(scan - 1).and_then(|(_, k)| match k {
            ScanKey::Listed(i) => Some(h.scans[*i].name.clone()),
            ScanKey::Inferred(_) => None,
        })
    };
    // Group rows by (scan, source, baseline), keeping time order.
    let mut groups: BTreeMap<(usize, u32, u32, u32), Vec<usize>> = BTreeMap::new();
    for &i in &order {
        let r = &file.rows[i];
        if r.baseline.0 != r.baseline.1 {
            let scan = number[&key[i].expect("every row has a scan")];
            groups
                .entry((scan, r.source_id, r.baseline.0, r.baseline.1))
                .or_default()
                .push(i);
        }
    }
    let mut out = Vec::new();
    for ((scan, source_id, a1, a2), rows) in groups {
        let first = &file.rows[rows[0]];
        let epoch = first.time;
        let (mut times, mut inttim, mut vis, mut weight) = (vec![], vec![], vec![], vec![]);
        for &i in &rows {
            let r = &file.rows[i];
            let t = r.time.seconds_since(epoch);
            if times.last().is_some_and(|&last| t <= last) {
                continue; // a duplicate time stamp: keep the first
            }
            times.push(t);
            inttim.push(r.inttim_s);
            for b in 0..n_sb {
                for k in 0..n_chan {
                    let [re, im, w] = r.vis[(b * n_chan + k) * h.stokes.len() + stokes];
                    let ok = w > 0.0 && re.is_finite() && im.is_finite();
                    vis.push(if ok {
                        Complex64::new(re as f64, im as f64)
                    } else {
                        Complex64::new(0.0, 0.0)
                    });
                    weight.push(if ok { w as f64 } else { 0.0 });
                }
            }
        }
        let source = source_name(h, source_id);
        let gain2 = |id: u32| {
            h.antennas
                .iter()
                .find(|a| a.id == id)
                .map_or(1.0, |a| quantisation_efficiency(a.n_levels))
        };
        let noise_scale = 1.0 / (gain2(a1) * gain2(a2)).sqrt();
        let mut data = match BaselineData::new(
            &antenna_name(h, a1),
            &antenna_name(h, a2),
            epoch,
            times,
            inttim,
            subbands.clone(),
            h.ref_freq_hz,
            vis,
            weight,
        ) {
            Ok(d) => d,
            Err(DataError::NoValidData(_)) => continue, // a fully flagged piece
            Err(e) => return Err(e),
        };
        data.noise_scale = noise_scale;
        out.push(ScanBaseline {
            scan,
            scan_name: name_of(scan),
            source_id,
            source,
            antennas: (a1, a2),
            data,
        });
    }
    Ok(out)
}

/// Name of a SOURCE_ID (`"SRC<n>"` if the SOURCE table lacks it).
pub fn source_name(header: &IdiHeader, id: u32) -> String {
    header
        .sources
        .iter()
        .find(|s| s.id == id)
        .map_or_else(|| format!("SRC{id}"), |s| s.name.clone())
}

/// A station's a-priori delay (GDELAY of band 1, clock included; TT s) and
/// its rate at geocentre time `g`, from the INTERFEROMETER_MODEL row whose
/// interval holds `g` (the nearest one otherwise; rows of `source_id` are
/// preferred). `None` when the antenna has no model row.
pub fn model_delay(
    models: &[ModelRow],
    antenna: u32,
    source_id: u32,
    g: UtcTime,
) -> Option<(f64, f64)> {
    let mine: Vec<&ModelRow> = models.iter().filter(|m| m.antenna == antenna).collect();
    let same_source: Vec<&ModelRow> = mine
        .iter()
        .copied()
        .filter(|m| m.source_id == source_id)
        .collect();
    let pool = if same_source.is_empty() {
        mine
    } else {
        same_source
    };
    let distance = |m: &ModelRow| {
        let dt = g.seconds_since(m.time);
        if dt < 0.0 {
            -dt
        } else {
            (dt - m.interval_s).max(0.0)
        }
    };
    let row = pool
        .into_iter()
        .min_by(|a, b| distance(a).total_cmp(&distance(b)))?;
    let dt = g.seconds_since(row.time);
    let poly = row.gdelay_s.first()?;
    let (mut d, mut r) = (0.0, 0.0);
    for &c in poly.iter().rev() {
        r = r * dt + d;
        d = d * dt + c;
    }
    // GRATE is the same derivative written out; use it when present.
    if let Some(gr) = row
        .grate_s_s
        .first()
        .filter(|p| p.iter().any(|&c| c != 0.0))
    {
        r = gr.iter().rev().fold(0.0, |acc, &c| acc * dt + c);
    }
    Some((d, r))
}

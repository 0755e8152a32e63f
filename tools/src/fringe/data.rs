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

/// One subband (FITS-IDI band, IF): the sky frequency of each channel.
#[derive(Debug, Clone, PartialEq)]
pub struct Subband {
    /// Sky frequency of channel k (Hz), in storage order.
    pub chan_freq_hz: Vec<f64>,
    /// Channel width (Hz, > 0).
    pub chan_bw_hz: f64,
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
    pub vis: Complex64,
    pub w: f64,
}

// ---------------------------------------------------------------------------
// From FITS-IDI.

use formats::fitsidi::{IdiFile, IdiHeader, ModelRow};

/// A gap between integrations longer than this (or a source change) starts a
/// new scan, unless 3 integration times are longer.
pub const SCAN_GAP_S: f64 = 10.0;

/// One baseline over one scan of a FITS-IDI file.
#[derive(Debug, Clone, PartialEq)]
pub struct ScanBaseline {
    /// 1-based scan number, in time order (simultaneous phase centres in
    /// SOURCE order), common to all baselines.
    pub scan: usize,
    pub source_id: u32,
    pub source: String,
    /// ANTENNA_NO of the two stations (a1 < a2).
    pub antennas: (u32, u32),
    pub data: BaselineData,
}

/// Sky frequency of every channel of every band (FITS-IDI: REF_FREQ +
/// BANDFREQ + (k + 1 − REF_PIXL)·CH_WIDTH·SIDEBAND).
pub fn idi_subbands(header: &IdiHeader) -> Vec<Subband> {
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

/// Name of an antenna number ("ANT<n>" if the ANTENNA table lacks it).
pub fn antenna_name(header: &IdiHeader, id: u32) -> String {
    header
        .antennas
        .iter()
        .find(|a| a.id == id)
        .map_or_else(|| format!("ANT{id}"), |a| a.name.clone())
}

/// 1-based scan numbers of rows given in time order as (time, SOURCE_ID,
/// INTTIM). Rows of one time are simultaneous: phase centres correlated
/// from the same samples (several sources in the beam), each its own scan.
/// A source's scan goes on from one time to the next if the source was
/// there at every time in between (no other source was observed instead)
/// and the gap is at most max([`SCAN_GAP_S`], 3 integration times).
/// Scans are numbered in the order their first rows come.
pub fn scan_numbers(rows: &[(UtcTime, u32, f64)]) -> Vec<usize> {
    let mut out = Vec::with_capacity(rows.len());
    let mut scans = 0usize;
    // Per source: (ordinal of the last distinct time it was at, that time,
    // its scan).
    let mut last: std::collections::HashMap<u32, (usize, UtcTime, usize)> =
        std::collections::HashMap::new();
    let mut time_index = 0usize;
    let mut prev_time: Option<UtcTime> = None;
    for &(t, source, inttim_s) in rows {
        if prev_time.is_some_and(|p| p != t) {
            time_index += 1;
        }
        prev_time = Some(t);
        let gap = SCAN_GAP_S.max(3.0 * inttim_s);
        let scan = match last.get(&source) {
            Some(&(at, _, scan)) if at == time_index => scan,
            Some(&(at, lt, scan)) if at + 1 == time_index && t.seconds_since(lt) <= gap => scan,
            _ => {
                scans += 1;
                scans
            }
        };
        last.insert(source, (time_index, t, scan));
        out.push(scan);
    }
    out
}

/// Cut a file's cross-correlations (a1 ≠ a2) into baseline × scan pieces,
/// using polarisation product `stokes` (0-based index into the header's
/// Stokes axis). Scans break at a source change or a gap longer than
/// max([`SCAN_GAP_S`], 3 integration times); sources at the same times
/// (phase centres of one correlation) are scans side by side
/// ([`scan_numbers`]). Pieces come in scan order, then baseline order.
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
    // Scan number of each row.
    let in_order: Vec<(UtcTime, u32, f64)> = order
        .iter()
        .map(|&i| {
            let r = &file.rows[i];
            (r.time, r.source_id, r.inttim_s)
        })
        .collect();
    let mut scan_of = vec![0usize; file.rows.len()];
    for (&i, scan) in order.iter().zip(scan_numbers(&in_order)) {
        scan_of[i] = scan;
    }
    // Group rows by (scan, baseline), keeping time order.
    let mut groups: std::collections::BTreeMap<(usize, u32, u32), Vec<usize>> =
        std::collections::BTreeMap::new();
    for &i in &order {
        let r = &file.rows[i];
        if r.baseline.0 != r.baseline.1 {
            groups
                .entry((scan_of[i], r.baseline.0, r.baseline.1))
                .or_default()
                .push(i);
        }
    }
    let mut out = Vec::new();
    for ((scan, a1, a2), rows) in groups {
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
        let source = h
            .sources
            .iter()
            .find(|s| s.id == first.source_id)
            .map_or_else(|| format!("SRC{}", first.source_id), |s| s.name.clone());
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
            source_id: first.source_id,
            source,
            antennas: (a1, a2),
            data,
        });
    }
    Ok(out)
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

//! Ocean tide loading: IERS Conventions 2010 §7.1.2 (Petit & Luzum 2010,
//! IERS TN 36), with the admittance interpolation of the Conventions'
//! HARDISP method (Agnew's, described in §7.1.2 and in the software's
//! documentation).
//!
//! The ocean-loading service (Scherneck; Bos & Scherneck) gives per station
//! amplitudes A (m) and Greenwich phase lags φ (degrees) of the up, west
//! and south displacement for eleven constituents, M2 S2 N2 K2 K1 O1 P1 Q1
//! Mf Mm Ssa (the BLQ format). A displacement component is (eq. 7.15)
//!
//!   Δc = Σ_j f_j A_cj cos(χ_j(t) + u_j − Φ_cj),
//!
//! χ_j the astronomical argument of constituent j. The Conventions
//! recommend (§7.1.2, "HARDISP") to go beyond the eleven by admittance
//! interpolation: the ratio Z = A e^{−iφ} / |H| of the loading response to
//! the constituent's tide-generating amplitude H (Cartwright–Edden) varies
//! smoothly with frequency within a band, so a spline of Re Z and Im Z
//! through the given constituents of each band (long-period, diurnal,
//! semidiurnal) gives the response to every constituent of the
//! tide-generating potential; the 342 of `super::ocean_tide_table` give
//! 0.1% of the loading. Nodal modulation needs no separate f_j, u_j: the
//! nodal satellites (Doodson multiplier of N' ≠ 0) are constituents of
//! their own in the table, each with its interpolated admittance, which
//! is how the Conventions' software applies the nodal corrections.
//!
//! Conventions that fix the phase (all from the BLQ definition and checked
//! by the published HARDISP test case, see the tests):
//! - χ_j = Σ n_k β_k with the Doodson arguments β of
//!   [`super::solid_tide::TideArguments`] (τ = mean lunar time, from UT1),
//!   plus 90° in the diurnal band and 180° in the long-period band (the
//!   Doodson–Cartwright phase of the potential's sine and negative-cosine
//!   terms, Schwiderski's convention the BLQ phases use);
//! - the constituent's amplitude is signed: the response to a constituent
//!   with H < 0 is the negative of that with |H| (it turns O₁, P₁, Q₁ and
//!   the long-period tides by 180°);
//! - a positive lag φ delays the displacement: Δc = A cos(χ − φ).
//!
//! The arguments are the model's (Conventions: T in TT, τ from GMST of
//! UT1). HARDISP's published test values were made with its own (τ from
//! the UTC hour angle of the mean Sun, the slow arguments with T in UTC):
//! with those the test values are reproduced to their printed 0.5 µm, with
//! the Conventions' to ≤ 20 µm at Reykjavik (see the tests).
//!
//! Spline: a cubic spline of each band's given admittances in frequency
//! (cycles/day), its end slopes those of the parabola through the three
//! end points; a band of three or fewer given constituents (the
//! long-period one) is interpolated linearly; outside the given span of
//! its band a constituent takes the admittance of the nearest given one.

use super::ocean_tide_table::HARMONICS;
use super::solid_tide::TideArguments;
use crate::model::troposphere::horizon::Geodetic;
use crate::model::vector::V3;
use std::path::Path;

/// The BLQ's constituents in its column order, as Doodson multipliers.
const BLQ_CONSTITUENTS: [[i8; 6]; 11] = [
    [2, 0, 0, 0, 0, 0],  // M2
    [2, 2, -2, 0, 0, 0], // S2
    [2, -1, 0, 1, 0, 0], // N2
    [2, 2, 0, 0, 0, 0],  // K2
    [1, 1, 0, 0, 0, 0],  // K1
    [1, -1, 0, 0, 0, 0], // O1
    [1, 1, -2, 0, 0, 0], // P1
    [1, -2, 0, 1, 0, 0], // Q1
    [0, 2, 0, 0, 0, 0],  // Mf
    [0, 1, 0, -1, 0, 0], // Mm
    [0, 0, 2, 0, 0, 0],  // Ssa
];
const BLQ_NAMES: [&str; 11] = [
    "M2", "S2", "N2", "K2", "K1", "O1", "P1", "Q1", "Mf", "Mm", "Ssa",
];

/// Rates of the Doodson arguments (τ, s, h, p, N', p_s) in cycles per day
/// (UT day for τ, TT day for the others: the difference is 1e-8 of a
/// frequency, nothing to a spline in frequency). From the linear terms of
/// the Delaunay arguments (Conventions eq. 5.43, arcsec per Julian century):
/// l 1717915923.2178, l' 129596581.0481, F 1739527262.8478,
/// D 1602961601.2090, Ω −6962890.5431, with s = F + Ω, h = s − D,
/// p = s − l, N' = −Ω, p_s = h − l', and τ = 1 + h − s cycles per solar
/// day (τ = GMST + π − s, GMST advancing one turn per day plus the mean
/// Sun's h).
fn doodson_rates_cpd() -> [f64; 6] {
    let cpd = |arcsec_per_century: f64| arcsec_per_century / (1_296_000.0 * 36_525.0);
    let (l, lp, f, d, om) = (
        cpd(1_717_915_923.217_8),
        cpd(129_596_581.048_1),
        cpd(1_739_527_262.847_8),
        cpd(1_602_961_601.209),
        cpd(-6_962_890.543_1),
    );
    let s = f + om;
    let h = s - d;
    [1.0 + h - s, s, h, s - l, -om, h - lp]
}

/// One station's BLQ block: amplitudes (m) and Greenwich phase lags
/// (degrees) of the up, west and south displacement, in BLQ column order.
#[derive(Debug, Clone, PartialEq)]
pub struct BlqStation {
    /// The name line, trimmed.
    pub name: String,
    /// Rows up, west, south.
    pub amplitude_m: [[f64; 11]; 3],
    pub phase_lag_deg: [[f64; 11]; 3],
}

/// The stations of a BLQ file (`$$` lines are comments). `file` only names
/// the file in errors: "file:line: what is wrong".
pub fn parse_blq(text: &str, file: &Path) -> Result<Vec<BlqStation>, String> {
    let err = |line: usize, why: String| format!("{}:{line}: {why}", file.display());
    const ROWS: [&str; 6] = [
        "amplitudes up (m)",
        "amplitudes west (m)",
        "amplitudes south (m)",
        "phases up (deg)",
        "phases west (deg)",
        "phases south (deg)",
    ];
    let mut out = Vec::new();
    let mut lines = text
        .lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.trim()))
        .filter(|(_, l)| !l.is_empty() && !l.starts_with("$$"))
        .peekable();
    while let Some((n, name)) = lines.next() {
        // A name may be a number (a site code); a row of 11 is data.
        let tokens: Vec<&str> = name.split_whitespace().collect();
        if tokens.len() == 11 && tokens.iter().all(|t| t.parse::<f64>().is_ok()) {
            return Err(err(
                n,
                "a line of numbers where a station name was expected (each station is a name line and 6 lines of 11 numbers)".into(),
            ));
        }
        let mut rows = [[0.0; 11]; 6];
        for (r, what) in ROWS.iter().enumerate() {
            let Some((m, line)) = lines.next() else {
                return Err(err(
                    n,
                    format!("station {name:?}: the file ends before its {what} line"),
                ));
            };
            let vals: Vec<&str> = line.split_whitespace().collect();
            if vals.len() != 11 {
                return Err(err(
                    m,
                    format!(
                        "station {name:?}: expected 11 {what} (M2 S2 N2 K2 K1 O1 P1 Q1 Mf Mm Ssa), got {} values",
                        vals.len()
                    ),
                ));
            }
            for (k, v) in vals.iter().enumerate() {
                let x: f64 = v.parse().map_err(|_| {
                    err(
                        m,
                        format!(
                            "station {name:?}: {what}, {}: {v:?} is not a number",
                            BLQ_NAMES[k]
                        ),
                    )
                })?;
                let ok = if r < 3 {
                    x.is_finite() && (0.0..1.0).contains(&x)
                } else {
                    x.is_finite() && x.abs() <= 360.0
                };
                if !ok {
                    let range = if r < 3 {
                        "0 ≤ A < 1 m"
                    } else {
                        "|φ| ≤ 360°"
                    };
                    return Err(err(
                        m,
                        format!(
                            "station {name:?}: {what}, {}: {x} is out of range ({range})",
                            BLQ_NAMES[k]
                        ),
                    ));
                }
                rows[r][k] = x;
            }
        }
        out.push(BlqStation {
            name: name.to_string(),
            amplitude_m: [rows[0], rows[1], rows[2]],
            phase_lag_deg: [rows[3], rows[4], rows[5]],
        });
    }
    if out.is_empty() {
        return Err(format!("{}: no station in the BLQ file", file.display()));
    }
    Ok(out)
}

/// Read `file` and take the station `name` (case-insensitive) from it.
pub fn load_blq_station(file: &Path, name: &str) -> Result<BlqStation, String> {
    let text = std::fs::read_to_string(file)
        .map_err(|e| format!("{}: cannot read the BLQ file: {e}", file.display()))?;
    let stations = parse_blq(&text, file)?;
    stations
        .into_iter()
        .find(|s| s.name.eq_ignore_ascii_case(name))
        .ok_or_else(|| {
            format!(
                "{}: no station {name:?} in the BLQ file (give blq_name for the station's name there)",
                file.display()
            )
        })
}

/// A cubic spline through (x_i, y_i) (x increasing) with the end slopes of
/// the parabolas through the three points at each end; linear for n ≤ 3,
/// constant beyond the ends.
struct Spline {
    x: Vec<f64>,
    y: Vec<f64>,
    /// Second derivatives at the knots (all 0: piecewise linear).
    m: Vec<f64>,
}

/// Slope at `x[0]` of the parabola through three points (Lagrange form).
fn parabola_slope(x: [f64; 3], y: [f64; 3]) -> f64 {
    let (a, b, c) = (x[0], x[1], x[2]);
    y[0] * (2.0 * a - b - c) / ((a - b) * (a - c))
        + y[1] * (a - c) / ((b - a) * (b - c))
        + y[2] * (a - b) / ((c - a) * (c - b))
}

impl Spline {
    fn new(x: Vec<f64>, y: Vec<f64>) -> Spline {
        let n = x.len();
        let mut m = vec![0.0; n];
        if n >= 4 {
            let h: Vec<f64> = x.windows(2).map(|w| w[1] - w[0]).collect();
            let d: Vec<f64> = (0..n - 1).map(|i| (y[i + 1] - y[i]) / h[i]).collect();
            let s0 = parabola_slope([x[0], x[1], x[2]], [y[0], y[1], y[2]]);
            let sn = parabola_slope(
                [x[n - 1], x[n - 2], x[n - 3]],
                [y[n - 1], y[n - 2], y[n - 3]],
            );
            // The clamped spline's equations for the second derivatives:
            // a tridiagonal system (sub, diag, sup) = rhs, solved by the
            // Thomas algorithm.
            let mut sub = vec![0.0; n];
            let mut diag = vec![0.0; n];
            let mut sup = vec![0.0; n];
            let mut rhs = vec![0.0; n];
            diag[0] = 2.0 * h[0];
            sup[0] = h[0];
            rhs[0] = 6.0 * (d[0] - s0);
            for i in 1..n - 1 {
                sub[i] = h[i - 1];
                diag[i] = 2.0 * (h[i - 1] + h[i]);
                sup[i] = h[i];
                rhs[i] = 6.0 * (d[i] - d[i - 1]);
            }
            sub[n - 1] = h[n - 2];
            diag[n - 1] = 2.0 * h[n - 2];
            rhs[n - 1] = 6.0 * (sn - d[n - 2]);
            for i in 1..n {
                let w = sub[i] / diag[i - 1];
                diag[i] -= w * sup[i - 1];
                rhs[i] -= w * rhs[i - 1];
            }
            m[n - 1] = rhs[n - 1] / diag[n - 1];
            for i in (0..n - 1).rev() {
                m[i] = (rhs[i] - sup[i] * m[i + 1]) / diag[i];
            }
        }
        Spline { x, y, m }
    }

    fn at(&self, t: f64) -> f64 {
        let n = self.x.len();
        if t <= self.x[0] {
            return self.y[0];
        }
        if t >= self.x[n - 1] {
            return self.y[n - 1];
        }
        let i = self.x.partition_point(|&xi| xi <= t) - 1;
        let h = self.x[i + 1] - self.x[i];
        let (a, b) = ((self.x[i + 1] - t) / h, (t - self.x[i]) / h);
        a * self.y[i]
            + b * self.y[i + 1]
            + ((a * a * a - a) * self.m[i] + (b * b * b - b) * self.m[i + 1]) * h * h / 6.0
    }
}

/// One constituent's Doodson multipliers and, per component (up, south,
/// west), the complex coefficient c = (Re, Im) with Δ = Re(c e^{iχ}).
type Term = ([f64; 6], [(f64, f64); 3]);

/// A station's ocean-loading response to every constituent.
#[derive(Debug, Clone, PartialEq)]
pub struct OceanLoading {
    terms: Vec<Term>,
}

impl OceanLoading {
    pub fn new(blq: &BlqStation) -> OceanLoading {
        let rates = doodson_rates_cpd();
        let freq = |d: &[i8; 6]| (0..6).map(|k| d[k] as f64 * rates[k]).sum::<f64>();
        let band_of = |d: &[i8; 6]| d[0] as usize;
        // |H| of each BLQ constituent from the table.
        let h_of = |d: &[i8; 6]| {
            HARMONICS
                .iter()
                .find(|(dd, _)| dd == d)
                .map(|(_, h)| h.abs())
                .expect("the BLQ constituents are in the table")
        };
        // BLQ rows are up, west, south; ours up, south, west.
        let rows = [0usize, 2, 1];
        // Per component and band, the splines of Re Z and Im Z.
        let splines: Vec<Vec<(Spline, Spline)>> = rows
            .iter()
            .map(|&row| {
                (0..3)
                    .map(|band| {
                        let mut pts: Vec<(f64, f64, f64)> = BLQ_CONSTITUENTS
                            .iter()
                            .enumerate()
                            .filter(|(_, d)| band_of(d) == band)
                            .map(|(k, d)| {
                                let z = blq.amplitude_m[row][k] / h_of(d);
                                // Lag φ: Z = (A/|H|) e^{−iφ}.
                                let (s, c) = (-blq.phase_lag_deg[row][k].to_radians()).sin_cos();
                                (freq(d), z * c, z * s)
                            })
                            .collect();
                        pts.sort_by(|a, b| a.0.total_cmp(&b.0));
                        let x: Vec<f64> = pts.iter().map(|p| p.0).collect();
                        (
                            Spline::new(x.clone(), pts.iter().map(|p| p.1).collect()),
                            Spline::new(x, pts.iter().map(|p| p.2).collect()),
                        )
                    })
                    .collect()
            })
            .collect();
        let terms = HARMONICS
            .iter()
            .map(|(d, h)| {
                let band = band_of(d);
                let f = freq(d);
                // The band's phase of the potential's term (module docs).
                let offset = [std::f64::consts::PI, std::f64::consts::FRAC_PI_2, 0.0][band];
                let (so, co) = offset.sin_cos();
                let c = std::array::from_fn(|comp| {
                    let (re_s, im_s) = &splines[comp][band];
                    let (re, im) = (h * re_s.at(f), h * im_s.at(f));
                    // c = H · Z · e^{i·offset}.
                    (re * co - im * so, re * so + im * co)
                });
                (d.map(|k| k as f64), c)
            })
            .collect();
        OceanLoading { terms }
    }

    /// Displacement (m) up, south, west at the instant of `args`.
    pub fn displacement_usw_m(&self, args: &TideArguments) -> [f64; 3] {
        let mut out = [0.0; 3];
        for (d, c) in &self.terms {
            let chi: f64 = (0..6).map(|k| d[k] * args.doodson_rad[k]).sum();
            let (s, co) = chi.sin_cos();
            for (o, (re, im)) in out.iter_mut().zip(c) {
                *o += re * co - im * s;
            }
        }
        out
    }

    /// Displacement (m, ITRS) of the station at `station_m` (ITRS): up,
    /// south and west of the GRS80 ellipsoid's normal there (the loading
    /// service's frame; geocentric would tilt it by ≤ 0.2°, 0.03 mm).
    pub fn displacement_m(&self, station_m: &V3, args: &TideArguments) -> V3 {
        let [u, s, w] = self.displacement_usw_m(args);
        let g = Geodetic::from_itrf(station_m);
        let (sp, cp) = g.lat_rad.sin_cos();
        let (sl, cl) = g.lon_rad.sin_cos();
        let up = [cp * cl, cp * sl, sp];
        let south = [sp * cl, sp * sl, -cp];
        let west = [sl, -cl, 0.0];
        std::array::from_fn(|k| u * up[k] + s * south[k] + w * west[k])
    }
}

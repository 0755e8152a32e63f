//! Global Mapping Functions (GMF; Böhm, Niell, Tregoning & Schuh 2006,
//! Geophys. Res. Lett. 33, L07304), the mapping function of IERS Conventions
//! 2010 §9.2 when no numerical weather model (VMF1) is at hand.
//!
//! Both functions have the continued-fraction form of Marini (1972) as
//! normalised by Herring (1992):
//!   m(e) = (1 + a/(1 + b/(1 + c))) / (sin e + a/(sin e + b/(sin e + c))).
//! `a` is a mean plus an annual term, each a spherical-harmonic expansion to
//! degree and order 9 in the station's latitude and longitude (the paper's
//! coefficients, ×1e-5, below). Hydrostatic: b = 0.0029, c = c0 + [(cos(2π
//! doy/365.25 + ψ) + 1)·c11/2 + c10]·(1 − cos φ) with the paper's c0, c10,
//! c11, ψ per hemisphere, plus Niell's (1996, J. Geophys. Res. 101, 3227)
//! height correction (1/sin e − m(e; a_ht, b_ht, c_ht))·H in km. Wet: b =
//! 0.00146, c = 0.04391. The day of year counts from 28 January (Niell's
//! phase): doy = MJD − 44239 + 1 − 28.

use std::f64::consts::{PI, TAU};

/// Degree and order of the expansion; 55 = (9 + 1)(9 + 2)/2 terms, ordered
/// n = 0…9, m = 0…n.
const N_MAX: usize = 9;
const N_TERMS: usize = 55;

/// The spherical-harmonic part of a station's GMF: the `a` coefficients'
/// mean and annual amplitude (they depend only on where the station is).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Gmf {
    lat_rad: f64,
    height_km: f64,
    ah_mean: f64,
    ah_amp: f64,
    aw_mean: f64,
    aw_amp: f64,
}

/// Hydrostatic and wet mapping-function values.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Mapping {
    pub hydrostatic: f64,
    pub wet: f64,
}

/// Marini's continued fraction normalised to 1 at the zenith.
fn marini(sin_e: f64, a: f64, b: f64, c: f64) -> f64 {
    (1.0 + a / (1.0 + b / (1.0 + c))) / (sin_e + a / (sin_e + b / (sin_e + c)))
}

/// Niell (1996) height-correction coefficients of the hydrostatic function.
const A_HT: f64 = 2.53e-5;
const B_HT: f64 = 5.49e-3;
const C_HT: f64 = 1.14e-3;

impl Gmf {
    /// For a station at geodetic latitude `lat_rad`, east longitude
    /// `lon_rad` and height `height_m` (the paper's height above sea level;
    /// see the module docs of `troposphere` for what emcorr passes).
    pub fn new(lat_rad: f64, lon_rad: f64, height_m: f64) -> Gmf {
        let p = legendre(lat_rad.sin());
        let mut sums = [0.0; 4];
        let mut i = 0;
        for (n, row) in p.iter().enumerate() {
            for (m, p_nm) in row.iter().enumerate().take(n + 1) {
                let (s, c) = (m as f64 * lon_rad).sin_cos();
                let (ap, bp) = (p_nm * c, p_nm * s);
                sums[0] += AH_MEAN[i] * ap + BH_MEAN[i] * bp;
                sums[1] += AH_AMP[i] * ap + BH_AMP[i] * bp;
                sums[2] += AW_MEAN[i] * ap + BW_MEAN[i] * bp;
                sums[3] += AW_AMP[i] * ap + BW_AMP[i] * bp;
                i += 1;
            }
        }
        debug_assert_eq!(i, N_TERMS);
        Gmf {
            lat_rad,
            height_km: height_m / 1000.0,
            ah_mean: sums[0] * 1e-5,
            ah_amp: sums[1] * 1e-5,
            aw_mean: sums[2] * 1e-5,
            aw_amp: sums[3] * 1e-5,
        }
    }

    /// Mapping functions at elevation `el_rad` on modified Julian date `mjd`
    /// (any time scale: only the season matters).
    pub fn at(&self, mjd: f64, el_rad: f64) -> Mapping {
        let doy = mjd - 44239.0 + 1.0 - 28.0;
        let season = (doy / 365.25 * TAU).cos();
        let sin_e = el_rad.sin();

        let (psi, c11, c10) = if self.lat_rad < 0.0 {
            (PI, 0.007, 0.002)
        } else {
            (0.0, 0.005, 0.001)
        };
        let c0h = 0.062;
        let ch = c0h
            + (((doy / 365.25 * TAU + psi).cos() + 1.0) * c11 / 2.0 + c10)
                * (1.0 - self.lat_rad.cos());
        let ah = self.ah_mean + self.ah_amp * season;
        let height_corr = (1.0 / sin_e - marini(sin_e, A_HT, B_HT, C_HT)) * self.height_km;
        let hydrostatic = marini(sin_e, ah, 0.0029, ch) + height_corr;

        let aw = self.aw_mean + self.aw_amp * season;
        let wet = marini(sin_e, aw, 0.00146, 0.04391);
        Mapping { hydrostatic, wet }
    }
}

/// Unnormalised associated Legendre functions P_nm(t), n, m ≤ 9, without the
/// Condon–Shortley phase (Heiskanen & Moritz 1967, eq. 1-62, the form GMF's
/// coefficients were fitted with), by the usual recursions:
/// P_mm = (2m − 1)!! (1 − t²)^(m/2), P_(m+1)m = (2m + 1) t P_mm,
/// (n − m) P_nm = (2n − 1) t P_(n−1)m − (n + m − 1) P_(n−2)m.
fn legendre(t: f64) -> [[f64; N_MAX + 1]; N_MAX + 1] {
    let mut p = [[0.0; N_MAX + 1]; N_MAX + 1];
    let s = (1.0 - t * t).max(0.0).sqrt();
    p[0][0] = 1.0;
    for m in 1..=N_MAX {
        p[m][m] = p[m - 1][m - 1] * (2 * m - 1) as f64 * s;
    }
    for m in 0..N_MAX {
        p[m + 1][m] = (2 * m + 1) as f64 * t * p[m][m];
        for n in m + 2..=N_MAX {
            p[n][m] = ((2 * n - 1) as f64 * t * p[n - 1][m] - (n + m - 1) as f64 * p[n - 2][m])
                / (n - m) as f64;
        }
    }
    p
}

// Coefficients of Böhm et al. (2006), as distributed with the IERS
// Conventions 2010 (chapter 9 software, GMF), ×1e-5; order n = 0…9, m = 0…n.

#[rustfmt::skip]
const AH_MEAN: [f64; N_TERMS] = [
    1.2517e+02, 8.503e-01, 6.936e-02, -6.760e+00, 1.771e-01,
    1.130e-02, 5.963e-01, 1.808e-02, 2.801e-03, -1.414e-03,
    -1.212e+00, 9.300e-02, 3.683e-03, 1.095e-03, 4.671e-05,
    3.959e-01, -3.867e-02, 5.413e-03, -5.289e-04, 3.229e-04,
    2.067e-05, 3.000e-01, 2.031e-02, 5.900e-03, 4.573e-04,
    -7.619e-05, 2.327e-06, 3.845e-06, 1.182e-01, 1.158e-02,
    5.445e-03, 6.219e-05, 4.204e-06, -2.093e-06, 1.540e-07,
    -4.280e-08, -4.751e-01, -3.490e-02, 1.758e-03, 4.019e-04,
    -2.799e-06, -1.287e-06, 5.468e-07, 7.580e-08, -6.300e-09,
    -1.160e-01, 8.301e-03, 8.771e-04, 9.955e-05, -1.718e-06,
    -2.012e-06, 1.170e-08, 1.790e-08, -1.300e-09, 1.000e-10,
];

#[rustfmt::skip]
const BH_MEAN: [f64; N_TERMS] = [
    0.000e+00, 0.000e+00, 3.249e-02, 0.000e+00, 3.324e-02,
    1.850e-02, 0.000e+00, -1.115e-01, 2.519e-02, 4.923e-03,
    0.000e+00, 2.737e-02, 1.595e-02, -7.332e-04, 1.933e-04,
    0.000e+00, -4.796e-02, 6.381e-03, -1.599e-04, -3.685e-04,
    1.815e-05, 0.000e+00, 7.033e-02, 2.426e-03, -1.111e-03,
    -1.357e-04, -7.828e-06, 2.547e-06, 0.000e+00, 5.779e-03,
    3.133e-03, -5.312e-04, -2.028e-05, 2.323e-07, -9.100e-08,
    -1.650e-08, 0.000e+00, 3.688e-02, -8.638e-04, -8.514e-05,
    -2.828e-05, 5.403e-07, 4.390e-07, 1.350e-08, 1.800e-09,
    0.000e+00, -2.736e-02, -2.977e-04, 8.113e-05, 2.329e-07,
    8.451e-07, 4.490e-08, -8.100e-09, -1.500e-09, 2.000e-10,
];

#[rustfmt::skip]
const AH_AMP: [f64; N_TERMS] = [
    -2.738e-01, -2.837e+00, 1.298e-02, -3.588e-01, 2.413e-02,
    3.427e-02, -7.624e-01, 7.272e-02, 2.160e-02, -3.385e-03,
    4.424e-01, 3.722e-02, 2.195e-02, -1.503e-03, 2.426e-04,
    3.013e-01, 5.762e-02, 1.019e-02, -4.476e-04, 6.790e-05,
    3.227e-05, 3.123e-01, -3.535e-02, 4.840e-03, 3.025e-06,
    -4.363e-05, 2.854e-07, -1.286e-06, -6.725e-01, -3.730e-02,
    8.964e-04, 1.399e-04, -3.990e-06, 7.431e-06, -2.796e-07,
    -1.601e-07, 4.068e-02, -1.352e-02, 7.282e-04, 9.594e-05,
    2.070e-06, -9.620e-08, -2.742e-07, -6.370e-08, -6.300e-09,
    8.625e-02, -5.971e-03, 4.705e-04, 2.335e-05, 4.226e-06,
    2.475e-07, -8.850e-08, -3.600e-08, -2.900e-09, 0.000e+00,
];

#[rustfmt::skip]
const BH_AMP: [f64; N_TERMS] = [
    0.000e+00, 0.000e+00, -1.136e-01, 0.000e+00, -1.868e-01,
    -1.399e-02, 0.000e+00, -1.043e-01, 1.175e-02, -2.240e-03,
    0.000e+00, -3.222e-02, 1.333e-02, -2.647e-03, -2.316e-05,
    0.000e+00, 5.339e-02, 1.107e-02, -3.116e-03, -1.079e-04,
    -1.299e-05, 0.000e+00, 4.861e-03, 8.891e-03, -6.448e-04,
    -1.279e-05, 6.358e-06, -1.417e-07, 0.000e+00, 3.041e-02,
    1.150e-03, -8.743e-04, -2.781e-05, 6.367e-07, -1.140e-08,
    -4.200e-08, 0.000e+00, -2.982e-02, -3.000e-03, 1.394e-05,
    -3.290e-05, -1.705e-07, 7.440e-08, 2.720e-08, -6.600e-09,
    0.000e+00, 1.236e-02, -9.981e-04, -3.792e-05, -1.355e-05,
    1.162e-06, -1.789e-07, 1.470e-08, -2.400e-09, -4.000e-10,
];

#[rustfmt::skip]
const AW_MEAN: [f64; N_TERMS] = [
    5.640e+01, 1.555e+00, -1.011e+00, -3.975e+00, 3.171e-02,
    1.065e-01, 6.175e-01, 1.376e-01, 4.229e-02, 3.028e-03,
    1.688e+00, -1.692e-01, 5.478e-02, 2.473e-02, 6.059e-04,
    2.278e+00, 6.614e-03, -3.505e-04, -6.697e-03, 8.402e-04,
    7.033e-04, -3.236e+00, 2.184e-01, -4.611e-02, -1.613e-02,
    -1.604e-03, 5.420e-05, 7.922e-05, -2.711e-01, -4.406e-01,
    -3.376e-02, -2.801e-03, -4.090e-04, -2.056e-05, 6.894e-06,
    2.317e-06, 1.941e+00, -2.562e-01, 1.598e-02, 5.449e-03,
    3.544e-04, 1.148e-05, 7.503e-06, -5.667e-07, -3.660e-08,
    8.683e-01, -5.931e-02, -1.864e-03, -1.277e-04, 2.029e-04,
    1.269e-05, 1.629e-06, 9.660e-08, -1.015e-07, -5.000e-10,
];

#[rustfmt::skip]
const BW_MEAN: [f64; N_TERMS] = [
    0.000e+00, 0.000e+00, 2.592e-01, 0.000e+00, 2.974e-02,
    -5.471e-01, 0.000e+00, -5.926e-01, -1.030e-01, -1.567e-02,
    0.000e+00, 1.710e-01, 9.025e-02, 2.689e-02, 2.243e-03,
    0.000e+00, 3.439e-01, 2.402e-02, 5.410e-03, 1.601e-03,
    9.669e-05, 0.000e+00, 9.502e-02, -3.063e-02, -1.055e-03,
    -1.067e-04, -1.130e-04, 2.124e-05, 0.000e+00, -3.129e-01,
    8.463e-03, 2.253e-04, 7.413e-05, -9.376e-05, -1.606e-06,
    2.060e-06, 0.000e+00, 2.739e-01, 1.167e-03, -2.246e-05,
    -1.287e-04, -2.438e-05, -7.561e-07, 1.158e-06, 4.950e-08,
    0.000e+00, -1.344e-01, 5.342e-03, 3.775e-04, -6.756e-05,
    -1.686e-06, -1.184e-06, 2.768e-07, 2.730e-08, 5.700e-09,
];

#[rustfmt::skip]
const AW_AMP: [f64; N_TERMS] = [
    1.023e-01, -2.695e+00, 3.417e-01, -1.405e-01, 3.175e-01,
    2.116e-01, 3.536e+00, -1.505e-01, -1.660e-02, 2.967e-02,
    3.819e-01, -1.695e-01, -7.444e-02, 7.409e-03, -6.262e-03,
    -1.836e+00, -1.759e-02, -6.256e-02, -2.371e-03, 7.947e-04,
    1.501e-04, -8.603e-01, -1.360e-01, -3.629e-02, -3.706e-03,
    -2.976e-04, 1.857e-05, 3.021e-05, 2.248e+00, -1.178e-01,
    1.255e-02, 1.134e-03, -2.161e-04, -5.817e-06, 8.836e-07,
    -1.769e-07, 7.313e-01, -1.188e-01, 1.145e-02, 1.011e-03,
    1.083e-04, 2.570e-06, -2.140e-06, -5.710e-08, 2.000e-08,
    -1.632e+00, -6.948e-03, -3.893e-03, 8.592e-04, 7.577e-05,
    4.539e-06, -3.852e-07, -2.213e-07, -1.370e-08, 5.800e-09,
];

#[rustfmt::skip]
const BW_AMP: [f64; N_TERMS] = [
    0.000e+00, 0.000e+00, -8.865e-02, 0.000e+00, -4.309e-01,
    6.340e-02, 0.000e+00, 1.162e-01, 6.176e-02, -4.234e-03,
    0.000e+00, 2.530e-01, 4.017e-02, -6.204e-03, 4.977e-03,
    0.000e+00, -1.737e-01, -5.638e-03, 1.488e-04, 4.857e-04,
    -1.809e-04, 0.000e+00, -1.514e-01, -1.685e-02, 5.333e-03,
    -7.611e-05, 2.394e-05, 8.195e-06, 0.000e+00, 9.326e-02,
    -1.275e-02, -3.071e-04, 5.374e-05, -3.391e-05, -7.436e-06,
    6.747e-07, 0.000e+00, -8.637e-02, -3.807e-03, -6.833e-04,
    -3.861e-05, -2.268e-05, 1.454e-06, 3.860e-07, -1.068e-07,
    0.000e+00, -2.658e-02, -1.947e-03, 7.131e-04, -3.506e-05,
    1.885e-07, 5.792e-07, 3.990e-08, 2.000e-08, -5.700e-09,
];

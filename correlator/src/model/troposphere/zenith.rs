//! Zenith delays of the neutral atmosphere at a station.

/// Zenith hydrostatic delay (m) from the total pressure at the antenna:
/// Saastamoinen (1972) as refined by Davis et al. (1985, Radio Sci. 20,
/// 1593), IERS Conventions 2010 eq. 9.11:
///   ZHD = 0.0022768 · P / (1 − 0.00266 cos 2φ − 0.28e-6 H),
/// P in hPa, φ geodetic latitude, H the station height in metres.
pub fn saastamoinen_zhd_m(pressure_hpa: f64, lat_rad: f64, height_m: f64) -> f64 {
    0.0022768 * pressure_hpa / (1.0 - 0.00266 * (2.0 * lat_rad).cos() - 0.28e-6 * height_m)
}

/// Standard pressure at sea level (hPa).
pub const SEA_LEVEL_PRESSURE_HPA: f64 = 1013.25;

/// Pressure (hPa) of a standard atmosphere at `height_m` above sea level:
/// Berg (1948), p = 1013.25 · (1 − 2.26e-5 h)^5.225, the height reduction
/// GPT uses (Böhm, Heinkelmann & Schuh 2007, J. Geod. 81, 679, eq. 1) with
/// GPT's sea-level pressure replaced by the standard 1013.25 hPa. Valid in
/// the troposphere (the formula reaches zero at 44 km; heights are kept
/// below 11 km by the caller's checks).
pub fn berg_pressure_hpa(height_m: f64) -> f64 {
    SEA_LEVEL_PRESSURE_HPA * (1.0 - 2.26e-5 * height_m).powf(5.225)
}

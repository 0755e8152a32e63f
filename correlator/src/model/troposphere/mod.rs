//! The neutral atmosphere's a priori delay at Earth stations, and where the
//! source stands in each station's sky.
//!
//! Each Earth station's τ gains (ZHD·m_h(e) + ZWD·m_w(e))/c (IERS Conventions
//! 2010 §9.2, eq. 9.12 without gradients), as DiFX's calc adds its dry and
//! wet atmosphere:
//! - ZHD from Saastamoinen/Davis ([`zenith::saastamoinen_zhd_m`]) with the
//!   pressure of the station's met file (`met_file`, [`met`]: readings
//!   interpolated in time), else its `pressure_hpa`, else the pressure of a
//!   standard atmosphere at the station's height
//!   ([`zenith::berg_pressure_hpa`], Berg 1948 with 1013.25 hPa at sea
//!   level);
//! - ZWD = the station's `zwd_m`; without it Saastamoinen's wet delay from
//!   the met file's temperature and humidity ([`met`]), if it has them;
//!   else [`DEFAULT_ZWD_M`];
//! - m_h, m_w: the Global Mapping Functions ([`gmf`], Böhm et al. 2006).
//!
//! Heights: the ellipsoidal (GRS80) height is used where the formulas ask for
//! the height above sea level; the geoid undulation (|N| < 110 m) changes the
//! standard pressure by < 1.3 % and m_h through GMF's height correction by
//! < 4e-4 of itself (at 3° elevation; less higher up).
//!
//! Elevation e and azimuth (from north through east) are those of the
//! source's apparent direction in the station's frame: the BCRS direction
//! (far field: the source direction; near field: from the station at
//! reception to the source at emission) aberrated by the station's
//! velocity (the Earth's barycentric velocity plus the rotation), rotated to
//! the ITRS and referred to the GRS80 ellipsoid normal at the station
//! ([`horizon`]); no refraction, no light deflection (< 2.5e-7 rad more than
//! 10° from the Sun). The sky is the station's at its own reception time g + τ.
//! Below [`ELEVATION_FLOOR_RAD`] (1°; GMF was
//! fitted down to 3°) the mapping functions are held at their 1° values, so
//! a source below the horizon gives a finite, continuous delay (the model
//! warns); the reported elevation is the true one.
//!
//! A station whose ellipsoidal height lies outside [`HEIGHT_RANGE_M`] is not
//! on the ground (a test position, a typo): it gets no troposphere, with a
//! warning. Lunar stations have none.

pub mod gmf;
pub mod horizon;
pub mod met;
mod track;
pub mod zenith;

#[cfg(test)]
mod tests;

pub use track::{SkyPoly, SkyTrack};

use super::earth::EarthOrientation;
use super::relativity::C;
use super::time_scales::Instant;
use super::vector::{add, cross, mul_t, scale, unit, V3};
use gmf::Gmf;
use horizon::Geodetic;
use met::MetSeries;
use std::sync::Arc;

/// The a priori zenith wet delay when a station gives no `zwd_m` (m): a
/// mid-latitude value (annual means run from ~0.03 m at dry or high sites to
/// ~0.3 m in the humid tropics).
pub const DEFAULT_ZWD_M: f64 = 0.1;

/// The mapping functions are not evaluated below this elevation (1°).
pub const ELEVATION_FLOOR_RAD: f64 = std::f64::consts::PI / 180.0;

/// Ellipsoidal heights (m) of stations that get a troposphere.
pub const HEIGHT_RANGE_M: (f64, f64) = (-1000.0, 10_000.0);

/// The Earth's mean angular velocity (rad/s; IERS Conventions 2010 Table 1.1).
const OMEGA_EARTH_RAD_S: f64 = 7.292115e-5;

/// The source in one station's sky at one instant, with the atmosphere's
/// delays along that line of sight.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sky {
    /// From north through east, [0, 2π).
    pub az_rad: f64,
    /// Above the station's horizon (geodetic, no refraction).
    pub el_rad: f64,
    /// ZHD·m_h(e)/c (0 when the troposphere is off).
    pub dry_delay_s: f64,
    /// ZWD·m_w(e)/c (0 when the troposphere is off).
    pub wet_delay_s: f64,
}

impl Sky {
    /// Unit vector (east, north, up) towards the source.
    pub fn enu(&self) -> V3 {
        let (sa, ca) = self.az_rad.sin_cos();
        let (se, ce) = self.el_rad.sin_cos();
        [ce * sa, ce * ca, se]
    }

    /// From a (not necessarily unit) east-north-up vector and the delays.
    pub fn from_enu(enu: &V3, dry_delay_s: f64, wet_delay_s: f64) -> Sky {
        Sky {
            az_rad: enu[0].atan2(enu[1]).rem_euclid(std::f64::consts::TAU),
            el_rad: enu[2].atan2(enu[0].hypot(enu[1])),
            dry_delay_s,
            wet_delay_s,
        }
    }
}

/// What a station's `[[station]]` table says of its weather.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Weather {
    /// `pressure_hpa`: total pressure at the antenna.
    pub pressure_hpa: Option<f64>,
    /// `zwd_m`: a priori zenith wet delay.
    pub zwd_m: Option<f64>,
    /// `met_file`: surface readings in time (pressure first; `pressure_hpa`
    /// is then not used).
    pub met: Option<Arc<MetSeries>>,
}

/// The zenith delays and mapping functions of one station.
#[derive(Debug, Clone, PartialEq)]
pub struct Atmosphere {
    /// Pressure, ZHD and ZWD when they do not change in time (no met file);
    /// with one, the values at its first reading ([`Atmosphere::zenith_m`]
    /// gives them at any time).
    pub pressure_hpa: f64,
    pub zhd_m: f64,
    pub zwd_m: f64,
    gmf: Gmf,
    lat_rad: f64,
    height_m: f64,
    /// The met file, and whether its humidity gives the ZWD (no `zwd_m`).
    met: Option<(Arc<MetSeries>, bool)>,
}

impl Atmosphere {
    /// (ZHD, ZWD) in metres at TT MJD `mjd`.
    pub fn zenith_m(&self, mjd: f64) -> (f64, f64) {
        match &self.met {
            None => (self.zhd_m, self.zwd_m),
            Some((met, wet_from_met)) => {
                let r = met.at(mjd);
                let zhd = zenith::saastamoinen_zhd_m(r.pressure_hpa, self.lat_rad, self.height_m);
                let zwd = if *wet_from_met {
                    r.zwd_m().unwrap_or(self.zwd_m)
                } else {
                    self.zwd_m
                };
                (zhd, zwd)
            }
        }
    }
}

/// An Earth station's frame and (if on) its atmosphere.
#[derive(Debug, Clone, PartialEq)]
pub struct LocalSky {
    pub geodetic: Geodetic,
    pub atmosphere: Option<Atmosphere>,
}

impl LocalSky {
    /// For the station at ITRF `itrf_m`; `troposphere` is the job's switch.
    /// The string is a warning (a station off the ground gets no troposphere).
    pub fn new(itrf_m: &V3, weather: &Weather, troposphere: bool) -> (LocalSky, Option<String>) {
        let geodetic = Geodetic::from_itrf(itrf_m);
        let h = geodetic.height_m;
        let mut warning = None;
        let atmosphere = if !troposphere {
            None
        } else if !(HEIGHT_RANGE_M.0..=HEIGHT_RANGE_M.1).contains(&h) {
            warning = Some(format!(
                "its ellipsoidal height is {h:.0} m, not {:.0} to {:.0} m: no troposphere",
                HEIGHT_RANGE_M.0, HEIGHT_RANGE_M.1
            ));
            None
        } else {
            let first = weather.met.as_ref().map(|m| m.at(m.coverage().0));
            let pressure_hpa = match (&first, weather.pressure_hpa) {
                (Some(r), _) => r.pressure_hpa,
                (None, Some(p)) => p,
                (None, None) => zenith::berg_pressure_hpa(h),
            };
            let wet_from_met =
                weather.zwd_m.is_none() && weather.met.as_ref().is_some_and(|m| m.has_humidity());
            let zwd_m = match (weather.zwd_m, first.and_then(|r| r.zwd_m())) {
                (Some(z), _) => z,
                (None, Some(z)) if wet_from_met => z,
                _ => DEFAULT_ZWD_M,
            };
            Some(Atmosphere {
                pressure_hpa,
                zhd_m: zenith::saastamoinen_zhd_m(pressure_hpa, geodetic.lat_rad, h),
                zwd_m,
                gmf: Gmf::new(geodetic.lat_rad, geodetic.lon_rad, h),
                lat_rad: geodetic.lat_rad,
                height_m: h,
                met: weather.met.clone().map(|m| (m, wet_from_met)),
            })
        };
        (
            LocalSky {
                geodetic,
                atmosphere,
            },
            warning,
        )
    }

    /// The source at ITRS unit direction `dir_itrs` on modified Julian date
    /// `mjd` (for GMF's season).
    pub fn sky(&self, dir_itrs: &V3, mjd: f64) -> Sky {
        let (az_rad, el_rad) = self.geodetic.az_el(dir_itrs);
        let (dry_delay_s, wet_delay_s) = match &self.atmosphere {
            None => (0.0, 0.0),
            Some(a) => {
                let m = a.gmf.at(mjd, el_rad.max(ELEVATION_FLOOR_RAD));
                let (zhd_m, zwd_m) = a.zenith_m(mjd);
                (zhd_m * m.hydrostatic / C, zwd_m * m.wet / C)
            }
        };
        Sky {
            az_rad,
            el_rad,
            dry_delay_s,
            wet_delay_s,
        }
    }
}

/// The wet mapping function m_w(e) (GMF, Böhm et al. 2006) of an Earth
/// station at ITRF `itrf_m` for a source at elevation `el_rad` on modified
/// Julian date `mjd`, held at its [`ELEVATION_FLOOR_RAD`] value below it as
/// [`LocalSky::sky`] does: ∂(wet delay)/∂ZWD = m_w(e)/c, what `emcorr
/// solve` needs for its zenith wet delays, whether or not the job's model
/// adds an a priori troposphere.
pub fn wet_mapping(itrf_m: &V3, el_rad: f64, mjd: f64) -> f64 {
    let g = Geodetic::from_itrf(itrf_m);
    Gmf::new(g.lat_rad, g.lon_rad, g.height_m)
        .at(mjd, el_rad.max(ELEVATION_FLOOR_RAD))
        .wet
}

/// Chen & Herring (1997, JGR 102(B9) 20489) gradient mapping function
/// m_g(e) = 1/(sin e · tan e + C) with C = 0.0032, the hydrostatic-style
/// value used for total (wet + hydrostatic) gradients, as in IERS
/// Conventions 2010 §9.2 after eq. 9.12. The model adds no gradients; this
/// is for `emcorr solve`'s `gradient` group and the simulator's truth. Held at its
/// [`ELEVATION_FLOOR_RAD`] value below it, as the model's mapping functions
/// are (at 1° m_g ≈ 285; below the horizon tan e would change sign).
pub fn gradient_mapping(el_rad: f64) -> f64 {
    let e = el_rad.max(ELEVATION_FLOOR_RAD);
    1.0 / (e.sin() * e.tan() + GRADIENT_MAPPING_C)
}

/// Chen & Herring (1997)'s C of [`gradient_mapping`].
pub const GRADIENT_MAPPING_C: f64 = 0.0032;

/// The apparent direction (ITRS unit vector at TT `tt`) of a source seen in
/// BCRS direction `dir_bcrs` by an observer on the Earth at GCRS position
/// `gcrs_m` whose body moves at `earth_vel_m_s` (BCRS): aberration to first
/// order in v/c, u' ∝ u + v/c (the second-order terms are < 1e-8 rad), with
/// v the Earth's velocity plus ω × r about the CIP.
pub fn apparent_itrs(
    dir_bcrs: &V3,
    earth_vel_m_s: &V3,
    gcrs_m: &V3,
    orient: &EarthOrientation,
    tt: Instant,
) -> V3 {
    let pole = mul_t(&orient.rc2i, &[0.0, 0.0, 1.0]);
    let spin = cross(&scale(&pole, OMEGA_EARTH_RAD_S), gcrs_m);
    let v = add(earth_vel_m_s, &spin);
    let apparent = unit(&add(dir_bcrs, &scale(&v, 1.0 / C)));
    orient.gcrs_to_itrs(tt, &apparent)
}

/// Modified Julian date (TT) of `tt`, for GMF's season.
pub fn mjd(tt: Instant) -> f64 {
    let (a, b) = tt.jd2();
    (a - 2_400_000.5) + b
}

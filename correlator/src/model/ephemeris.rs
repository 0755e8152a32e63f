//! JPL ephemerides through anise (pure Rust): BCRS states of the Sun, Earth,
//! Moon and planets from the SPK, the Moon's principal-axis orientation from
//! the DE binary PCK, the PA→ME rotation from the text frame kernel.
//!
//! anise takes ephemeris time (TDB seconds past J2000) as one `f64`, which
//! resolves ~0.1 µs in 2026 (3 mm of Earth motion). So a state is evaluated at
//! the `f64` instant anise actually uses and moved to the exact [`Instant`] by
//! its velocity (the residual is below 0.2 µs: a·δt² < 1e-15 m).

use super::error::ModelError;
use super::time_scales::Instant;
use super::vector::{axpy, M3, V3};
use anise::prelude::{Almanac, Epoch, Frame};
use std::path::{Path, PathBuf};

pub const SSB: i32 = 0;
pub const SUN: i32 = 10;
pub const EARTH: i32 = 399;
pub const MOON: i32 = 301;
pub const JUPITER_BARYCENTER: i32 = 5;
pub const SATURN_BARYCENTER: i32 = 6;
/// The ICRF axes as DE SPK files use them (NAIF "J2000", frame 1).
const ICRF: i32 = 1;
/// DE421 Moon principal-axis frame (MOON_PA_DE421) in the binary PCK.
pub const MOON_PA: i32 = 31006;
/// DE421 Moon mean-Earth frame (MOON_ME_DE421), defined by the frame kernel.
pub const MOON_ME: i32 = 31007;

/// Barycentric position (m) and velocity (m/s), ICRF axes, TDB-compatible.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct State {
    pub pos_m: V3,
    pub vel_m_s: V3,
}

impl State {
    /// Linear extrapolation by `dt_s` (for short steps only).
    pub fn moved(&self, dt_s: f64) -> State {
        State {
            pos_m: axpy(&self.pos_m, dt_s, &self.vel_m_s),
            vel_m_s: self.vel_m_s,
        }
    }
}

/// Loaded kernels.
pub struct Ephemeris {
    almanac: Almanac,
    files: Vec<PathBuf>,
}

/// The anise epoch for an instant and the residual (s) from it to the instant.
fn et_epoch(tdb: Instant) -> (Epoch, f64) {
    let e = Epoch::from_et_seconds(tdb.seconds_f64());
    let used = e.to_et_seconds();
    // Both near 8e8 s and within 1 s of each other: the difference is exact.
    let resid = (tdb.sec() as f64 - used) + tdb.frac();
    (e, resid)
}

fn v3(v: &anise::math::Vector3) -> V3 {
    [v[0], v[1], v[2]]
}

impl Ephemeris {
    /// Load SPK (.bsp), binary PCK (.bpc) and text frame kernels (.tf).
    pub fn load(kernels: &[PathBuf]) -> Result<Ephemeris, ModelError> {
        let mut almanac = Almanac::default();
        for path in kernels {
            let bad = |why: String| ModelError::File {
                file: path.clone(),
                why,
            };
            if !path.exists() {
                return Err(bad("kernel file not found (model.kernels)".into()));
            }
            let ext = path
                .extension()
                .map(|e| e.to_string_lossy().to_lowercase())
                .unwrap_or_default();
            if ext == "tf" {
                let ds = anise::naif::kpl::parser::convert_fk(path, false)
                    .map_err(|e| bad(format!("cannot read the frame kernel: {e}")))?;
                almanac = almanac.with_euler_parameters_as(ds, Some(path.display().to_string()));
            } else {
                let p = path.to_string_lossy();
                almanac = almanac
                    .load(&p)
                    .map_err(|e| bad(format!("cannot load the kernel: {e}")))?;
            }
        }
        Ok(Ephemeris {
            almanac,
            files: kernels.to_vec(),
        })
    }

    pub fn files(&self) -> &[PathBuf] {
        &self.files
    }

    fn err(&self, what: String, tdb: Instant, e: impl std::fmt::Display) -> ModelError {
        ModelError::Ephemeris {
            files: self
                .files
                .iter()
                .map(|f| f.display().to_string())
                .collect::<Vec<_>>()
                .join(", "),
            why: format!("{what} at {} TDB: {e}", tdb_label(tdb)),
        }
    }

    /// Barycentric state of a NAIF body at TDB `tdb`.
    pub fn state(&self, body: i32, tdb: Instant) -> Result<State, ModelError> {
        let (epoch, resid) = et_epoch(tdb);
        let s = self
            .almanac
            .translate_geometric(Frame::new(body, ICRF), Frame::new(SSB, ICRF), epoch)
            .map_err(|e| self.err(format!("no ephemeris for body {body}"), tdb, e))?;
        let pos = v3(&s.radius_km);
        let vel = v3(&s.velocity_km_s);
        Ok(State {
            pos_m: axpy(
                &[pos[0] * 1e3, pos[1] * 1e3, pos[2] * 1e3],
                resid * 1e3,
                &vel,
            ),
            vel_m_s: [vel[0] * 1e3, vel[1] * 1e3, vel[2] * 1e3],
        })
    }

    /// Rotation taking vectors in a Moon-fixed frame (`MOON_PA` or `MOON_ME`) to ICRF.
    pub fn moon_to_icrf(&self, frame: i32, tdb: Instant) -> Result<M3, ModelError> {
        let (epoch, _) = et_epoch(tdb);
        let dcm = self
            .almanac
            .rotate(Frame::new(MOON, frame), Frame::new(MOON, ICRF), epoch)
            .map_err(|e| self.err(format!("no Moon orientation (frame {frame})"), tdb, e))?;
        let m = dcm.rot_mat;
        Ok([
            [m[(0, 0)], m[(0, 1)], m[(0, 2)]],
            [m[(1, 0)], m[(1, 1)], m[(1, 2)]],
            [m[(2, 0)], m[(2, 1)], m[(2, 2)]],
        ])
    }

    /// Whether the kernels hold the binary PCK of the Moon's PA frame at `tdb`.
    pub fn has_moon_pa(&self, tdb: Instant) -> bool {
        self.moon_to_icrf(MOON_PA, tdb).is_ok()
    }

    /// Whether the frame kernels define the ME frame (rotation to PA).
    pub fn has_moon_me(&self, tdb: Instant) -> bool {
        self.moon_to_icrf(MOON_ME, tdb).is_ok()
    }
}

/// A TDB instant written like a UTC label (for messages only).
pub fn tdb_label(tdb: Instant) -> String {
    formats::UtcTime::new(tdb.sec() + 43_200, tdb.frac()).to_iso8601_digits(3)
}

/// A kernel path for messages.
pub fn show(p: &Path) -> String {
    p.display().to_string()
}

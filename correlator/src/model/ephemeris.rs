//! JPL ephemerides through anise (pure Rust): BCRS states of the Sun, Earth,
//! Moon and planets from the SPK, the Moon's principal-axis orientation from
//! the DE binary PCK, the PA→ME rotation from the text frame kernel.
//!
//! anise takes ephemeris time (TDB seconds past J2000) as one `f64`, which
//! resolves ~0.1 µs in 2026 (3 mm of Earth motion). So a state is evaluated at
//! the `f64` instant anise actually uses and moved to the exact [`Instant`] by
//! its velocity (the residual is below 0.2 µs: a·δt² < 1e-15 m).
//!
//! Positions relative to the barycentre are ~1.5e11 m, where an `f64` rounds
//! to ~3e-5 m (0.1 ps of light time), differently at every instant: a delay
//! computed from such positions jitters by ~0.1 ps from epoch to epoch. So
//! the model's positions are taken from a [`GeoOrigin`], the geocentre at
//! the epoch's TDB t_g (a fixed point of the BCRS: a translation, which
//! leaves light times, gravitational delays and velocities unchanged): a
//! body's position is its geocentric vector from the SPK (the barycentre's
//! offset cancels within the Chebyshev tree, [`Ephemeris::state_wrt`]) plus
//! the geocentre's displacement since t_g as a Taylor series
//! ([`GeoOrigin::earth_offset`]), both with relative rounding only.

use super::error::ModelError;
use super::time_scales::Instant;
use super::vector::{add, axpy, sub, M3, V3};
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
pub const MOON_PA: i32 = DE421.pa;
/// DE421 Moon mean-Earth frame (MOON_ME_DE421), defined by the frame kernel.
pub const MOON_ME: i32 = DE421.me;

/// One JPL lunar orientation: the principal-axis (PA) frame its binary PCK
/// holds and the mean-Earth (ME) frame its NAIF frame kernel defines as a
/// fixed (TK) rotation of that PA frame. Ids, names and angles are the
/// published kernels' (data, not code): see [`DE421`] and [`DE440`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LunarFrames {
    /// The ephemeris, for messages ("DE421").
    pub de: &'static str,
    /// PA frame id (PCK class 2: the binary PCK's segments carry this id).
    pub pa: i32,
    pub pa_name: &'static str,
    /// ME frame id (TK class 4, `TKFRAME_<me>_RELATIVE` = the PA frame).
    pub me: i32,
    pub me_name: &'static str,
    /// `TKFRAME_<me>_ANGLES` (arcseconds) about `TKFRAME_<me>_AXES` = 3, 2, 1.
    pub me_angles_arcsec: [f64; 3],
    /// The published frame kernel the angles are from.
    pub tf: &'static str,
}

/// DE421: moon_080317.tf (NAIF, 2008; shipped in /work/shared/kernels and
/// testdata/): FRAME_MOON_PA_DE421 = 31006 (class 2), FRAME_MOON_ME_DE421 =
/// 31007 (class 4), TKFRAME_31007_RELATIVE = 'MOON_PA_DE421', ANGLES =
/// (67.92 78.56 0.30) ARCSECONDS, AXES = (3 2 1).
pub const DE421: LunarFrames = LunarFrames {
    de: "DE421",
    pa: 31006,
    pa_name: "MOON_PA_DE421",
    me: 31007,
    me_name: "MOON_ME_DE421",
    me_angles_arcsec: [67.92, 78.56, 0.30],
    tf: "moon_080317.tf",
};

/// DE440: moon_de440_220930.tf (N. Bachman, NAIF/JPL, 2022-09-30, NAIF
/// generic_kernels/fk/satellites/; the frame kernel of
/// moon_pa_de440_200625.bpc; its text was read from a public copy, none is
/// on this machine or in testdata/): FRAME_MOON_PA_DE440 = 31008
/// (class 2), FRAME_MOON_ME_DE440_ME421 = 31009 (class 4),
/// TKFRAME_31009_RELATIVE = 'MOON_PA_DE440', ANGLES = (67.8526 78.6944
/// 0.2785) ARCSECONDS, AXES = (3 2 1) (from Park et al. 2021, AJ 161 105,
/// "DE440 PA to DE421 MER"; the same values in its predecessor
/// moon_de440_200625.tf and, as quoted by users, in moon_de440_250416.tf).
/// The ME frame is named "_ME421": NAIF built it to stay within 5.8e-7 rad
/// of MOON_ME_DE421 over 1900–2050 (3.1e-7 rad, 0.53 m on the surface, over
/// 2000–2040: the kernel's own comments). The kernel also defines the
/// aliases MOON_PA (31010) and MOON_ME (31011), not used here.
pub const DE440: LunarFrames = LunarFrames {
    de: "DE440",
    pa: 31008,
    pa_name: "MOON_PA_DE440",
    me: 31009,
    me_name: "MOON_ME_DE440_ME421",
    me_angles_arcsec: [67.8526, 78.6944, 0.2785],
    tf: "moon_de440_220930.tf",
};

/// The lunar orientations read, by PA frame id.
pub const LUNAR_FRAMES: [LunarFrames; 2] = [DE421, DE440];

/// The known lunar orientation whose PA frame is `pa`.
pub fn lunar_frames_of_pa(pa: i32) -> Option<&'static LunarFrames> {
    LUNAR_FRAMES.iter().find(|f| f.pa == pa)
}

/// A frame's name for messages: "MOON_PA_DE440 (31008)", or "frame 123".
pub fn frame_label(id: i32) -> String {
    match LUNAR_FRAMES.iter().find_map(|f| {
        (f.pa == id)
            .then_some(f.pa_name)
            .or((f.me == id).then_some(f.me_name))
    }) {
        Some(name) => format!("{name} ({id})"),
        None => format!("frame {id}"),
    }
}

/// A lunar ME frame a text frame kernel defines.
#[derive(Debug, Clone, PartialEq)]
pub struct MeDefinition {
    pub file: PathBuf,
    /// The ME frame's id (one of [`LUNAR_FRAMES`]' `me`).
    pub me: i32,
    /// The frame it is a fixed rotation of (`TKFRAME_<me>_RELATIVE`, as id).
    pub relative_to: i32,
}

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

/// The origin of the model's positions: the geocentre at TDB `tdb_g` (see
/// the module docs). Positions `x − X⊕(t_g)`, velocities barycentric.
#[derive(Debug, Clone, Copy)]
pub struct GeoOrigin {
    pub tdb_g: Instant,
    /// X⊕(t_g) w.r.t. the barycentre (m): for data given w.r.t. the
    /// barycentre (an OEM centred on it), and for long offsets.
    pub bary_pos_m: V3,
    /// The geocentre's BCRS velocity (m/s), acceleration (m/s²) and jerk
    /// (m/s³) at t_g.
    pub vel_m_s: V3,
    acc_m_s2: V3,
    jerk_m_s3: V3,
}

/// Half-step (s) of the velocity differences giving the geocentre's
/// acceleration and jerk. The acceleration's truncation error x⁽⁴⁾h²/6,
/// |x⁽⁴⁾| ≈ 5e-16 m/s⁴ (yearly orbit and monthly wobble about the Earth–Moon
/// barycentre alike), is 8e-15 m/s²: 7e-15 m of position over the 1.3 s to
/// the Moon, 1e-12 m over 16 s. The velocities' rounding (~4e-12 m/s) over
/// 2h gives 3e-13 m/s² (2e-13 m over 1.3 s); the jerk's, 4·4e-12/h², 6e-14
/// m over 1.3 s.
const ORIGIN_H_S: f64 = 10.0;
/// Longest |t − t_g| (s) for the Taylor series of the geocentre's motion:
/// its remainder |x⁽⁴⁾|Δt⁴/24, |x⁽⁴⁾| ≈ 5e-16 m/s⁴ (the yearly orbit and the
/// monthly wobble alike), is 1.4e-12 m at 16 s. Beyond it (a deep-space
/// source's emission) the offset is a difference of barycentric positions,
/// whose ~3e-5 m rounding is then small against the source's own errors.
const ORIGIN_TAYLOR_MAX_S: f64 = 16.0;

impl GeoOrigin {
    /// X⊕(t) − X⊕(t_g) (m) and the geocentre's BCRS velocity at `t`.
    pub fn earth_offset(&self, eph: &Ephemeris, t: Instant) -> Result<State, ModelError> {
        let dt = t.seconds_since(self.tdb_g);
        if dt.abs() > ORIGIN_TAYLOR_MAX_S {
            let s = eph.state(EARTH, t)?;
            return Ok(State {
                pos_m: sub(&s.pos_m, &self.bary_pos_m),
                vel_m_s: s.vel_m_s,
            });
        }
        let (v, a, j) = (&self.vel_m_s, &self.acc_m_s2, &self.jerk_m_s3);
        Ok(State {
            pos_m: std::array::from_fn(|k| dt * (v[k] + dt * (a[k] / 2.0 + dt * j[k] / 6.0))),
            vel_m_s: std::array::from_fn(|k| v[k] + dt * (a[k] + dt * j[k] / 2.0)),
        })
    }
}

/// Loaded kernels.
pub struct Ephemeris {
    almanac: Almanac,
    files: Vec<PathBuf>,
    /// Per binary PCK, in `model.kernels` order: the lunar PA frames
    /// ([`LUNAR_FRAMES`]) its segments hold.
    lunar_pcks: Vec<(PathBuf, Vec<i32>)>,
    /// The lunar ME frames the text frame kernels define, in order.
    lunar_me: Vec<MeDefinition>,
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
        let mut lunar_pcks = Vec::new();
        let mut lunar_me = Vec::new();
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
                // anise sets a TK frame's `to` to the id of its RELATIVE frame
                // (the class-2 PA frame for an ANGLES frame); remember which
                // PA frame each known ME frame hangs on, so that an ME frame
                // is applied only over the PA frame it was defined for.
                for f in &LUNAR_FRAMES {
                    if let Some(&i) = ds.lut.by_id.get(&f.me) {
                        if let Some(q) = ds.data.get(i as usize) {
                            lunar_me.push(MeDefinition {
                                file: path.clone(),
                                me: f.me,
                                relative_to: q.to,
                            });
                        }
                    }
                }
                almanac = almanac.with_euler_parameters_as(ds, Some(path.display().to_string()));
            } else {
                let p = path.to_string_lossy();
                almanac = almanac
                    .load(&p)
                    .map_err(|e| bad(format!("cannot load the kernel: {e}")))?;
                // anise keys a loaded DAF by its path: a PCK's segment
                // summaries name the frames it holds (an SPK is not a PCK).
                if let Some(bpc) = almanac.bpc_data.get(p.as_ref()) {
                    let mut pas: Vec<i32> = Vec::new();
                    for block in bpc.iter_summary_blocks().flatten() {
                        for s in block {
                            if lunar_frames_of_pa(s.frame_id).is_some()
                                && !pas.contains(&s.frame_id)
                            {
                                pas.push(s.frame_id);
                            }
                        }
                    }
                    lunar_pcks.push((path.clone(), pas));
                }
            }
        }
        Ok(Ephemeris {
            almanac,
            files: kernels.to_vec(),
            lunar_pcks,
            lunar_me,
        })
    }

    /// The binary PCKs, in `model.kernels` order, with the lunar PA frames
    /// each holds (empty for a PCK of another body).
    pub fn lunar_pcks(&self) -> &[(PathBuf, Vec<i32>)] {
        &self.lunar_pcks
    }

    /// The lunar ME frames the text frame kernels define, in order.
    pub fn lunar_me_definitions(&self) -> &[MeDefinition] {
        &self.lunar_me
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
        self.translate(body, SSB, tdb, || format!("no ephemeris for body {body}"))
    }

    /// State of `body` w.r.t. `origin` (NAIF ids) at TDB `tdb`: through the
    /// SPK tree's common ancestor, so that for the Moon w.r.t. the Earth the
    /// barycentre's offset never enters (anise sums the chain to the first
    /// node the two share, the Earth–Moon barycentre).
    pub fn state_wrt(&self, body: i32, origin: i32, tdb: Instant) -> Result<State, ModelError> {
        self.translate(body, origin, tdb, || {
            format!("no ephemeris for body {body} w.r.t. {origin}")
        })
    }

    /// anise's geometric state of `body` w.r.t. `origin`, in metres, moved
    /// from anise's f64 epoch to the exact instant by the velocity times
    /// the residual ([`et_epoch`]); `what` names the failure.
    fn translate(
        &self,
        body: i32,
        origin: i32,
        tdb: Instant,
        what: impl FnOnce() -> String,
    ) -> Result<State, ModelError> {
        let (epoch, resid) = et_epoch(tdb);
        let s = self
            .almanac
            .translate_geometric(Frame::new(body, ICRF), Frame::new(origin, ICRF), epoch)
            .map_err(|e| self.err(what(), tdb, e))?;
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

    /// The origin of the model's positions at TDB `tdb_g`: the geocentre's
    /// barycentric state there, its acceleration and jerk by central
    /// differences of the SPK's velocities (the derivative of its
    /// Chebyshev series) at t_g ± h.
    pub fn origin(&self, tdb_g: Instant) -> Result<GeoOrigin, ModelError> {
        let e0 = self.state(EARTH, tdb_g)?;
        let em = self.state(EARTH, tdb_g.add_seconds(-ORIGIN_H_S))?;
        let ep = self.state(EARTH, tdb_g.add_seconds(ORIGIN_H_S))?;
        let h = ORIGIN_H_S;
        Ok(GeoOrigin {
            tdb_g,
            bary_pos_m: e0.pos_m,
            vel_m_s: e0.vel_m_s,
            acc_m_s2: std::array::from_fn(|k| (ep.vel_m_s[k] - em.vel_m_s[k]) / (2.0 * h)),
            jerk_m_s3: std::array::from_fn(|k| {
                (ep.vel_m_s[k] - 2.0 * e0.vel_m_s[k] + em.vel_m_s[k]) / (h * h)
            }),
        })
    }

    /// State of `body` at TDB `tdb` from `origin`: position x(t) − X⊕(t_g),
    /// barycentric velocity (module docs).
    pub fn state_from(
        &self,
        body: i32,
        tdb: Instant,
        origin: &GeoOrigin,
    ) -> Result<State, ModelError> {
        let earth = origin.earth_offset(self, tdb)?;
        if body == EARTH {
            return Ok(earth);
        }
        let rel = self.state_wrt(body, EARTH, tdb)?;
        Ok(State {
            pos_m: add(&rel.pos_m, &earth.pos_m),
            vel_m_s: add(&rel.vel_m_s, &earth.vel_m_s),
        })
    }

    /// Rotation taking vectors in a Moon-fixed frame (a PA or ME frame of
    /// [`LUNAR_FRAMES`]) to ICRF.
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

    /// Whether the kernels give the Moon-fixed frame `frame` at `tdb` (a PA
    /// frame: a PCK covering `tdb`; an ME frame: that and its definition).
    pub fn has_moon_frame(&self, frame: i32, tdb: Instant) -> bool {
        self.moon_to_icrf(frame, tdb).is_ok()
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

//! Baseline (u, v, w) in metres, ICRS (J2000) axes.
//!
//! Sign: `uvw_m(a, b, g)` projects the vector from station a to station b,
//! b = x_b − x_a (geocentric positions at g), onto w = the direction to the
//! source (phase centre), u = east (ẑ × w, normalised), v = w × u (north).
//! This is the Measurement Set convention, UVW = POSITION2 − POSITION1 for a
//! row (ANTENNA1 = a, ANTENNA2 = b). AIPS Memo 114 does not spell the sign
//! out; a FITS-IDI sink writing uvw_m(a1, a2)/c for BASELINE a1–a2 should
//! confirm it against CASA's import. To first order τ_b − τ_a = −w/c.

use super::fit;
use super::vector::{cross, dot, sub, unit, V3};
use formats::UtcTime;

/// One piece: geocentric station position and source direction as polynomials in
/// g − epoch (each component Σ c_k dt^k).
#[derive(Debug, Clone, PartialEq)]
pub struct PositionPoly {
    pub epoch: UtcTime,
    pub span_s: f64,
    /// Station − geocentre (m), ICRS axes.
    pub pos_m: [Vec<f64>; 3],
    /// Unit vector from the geocentre towards the source (phase centre).
    pub dir: [Vec<f64>; 3],
}

/// A station's position over the job.
#[derive(Debug, Clone, PartialEq)]
pub struct PositionTrack {
    pub station: String,
    pub pieces: Vec<PositionPoly>,
}

impl PositionTrack {
    fn piece(&self, g: UtcTime) -> &PositionPoly {
        let i = self.pieces.partition_point(|p| p.epoch <= g);
        &self.pieces[i.saturating_sub(1)]
    }

    /// Station − geocentre (m) at g.
    pub fn position_m(&self, g: UtcTime) -> V3 {
        let p = self.piece(g);
        let dt = g.seconds_since(p.epoch);
        [0, 1, 2].map(|k| fit::eval(&p.pos_m[k], dt))
    }

    /// Unit vector to the phase centre at g.
    pub fn direction(&self, g: UtcTime) -> V3 {
        let p = self.piece(g);
        let dt = g.seconds_since(p.epoch);
        unit(&[0, 1, 2].map(|k| fit::eval(&p.dir[k], dt)))
    }
}

/// (u, v, w) of x_b − x_a in metres at g (see the module docs for the sign).
pub fn uvw_m(a: &PositionTrack, b: &PositionTrack, g: UtcTime) -> V3 {
    let base = sub(&b.position_m(g), &a.position_m(g));
    uvw_of(&base, &a.direction(g))
}

/// Project a baseline vector onto (u, v, w) for phase-centre direction `s`.
pub fn uvw_of(base: &V3, s: &V3) -> V3 {
    let u = unit(&cross(&[0.0, 0.0, 1.0], s));
    let v = cross(s, &u);
    [dot(base, &u), dot(base, &v), dot(base, s)]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uvw_closed_forms() {
        // Source at the pole: w = z, u = ..., a baseline along z is pure w.
        let s = unit(&[1e-9, 0.0, 1.0]);
        let w = uvw_of(&[0.0, 0.0, 7.0], &s);
        assert!((w[2] - 7.0).abs() < 1e-6 && w[0].abs() < 1e-6 && w[1].abs() < 1e-6);
        // Source at RA 0, Dec 0 (x axis): east is +y, north is +z.
        let x = uvw_of(&[1.0, 2.0, 3.0], &[1.0, 0.0, 0.0]);
        assert_eq!(x, [2.0, 3.0, 1.0]);
    }
}

//! Delay polynomials: what the engine evaluates instead of the full model.
//!
//! Convention (DiFX's, used everywhere in emcorr): `g` is the time a wavefront
//! reaches the geocentre (UTC label), and τ(g) means the same wavefront reaches
//! the station at g + τ(g), in TT seconds. The rate is dτ/dg.

use formats::UtcTime;

/// Delay, rate and acceleration at one instant.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Delay {
    pub delay_s: f64,
    pub rate: f64,
    pub accel_per_s: f64,
}

/// One polynomial piece: τ(g) = Σ c_k (g − epoch)^k, meant for
/// g ∈ [epoch, epoch + span_s) (it extrapolates outside).
#[derive(Debug, Clone, PartialEq)]
pub struct DelayPoly {
    pub epoch: UtcTime,
    pub span_s: f64,
    pub coeffs_s: Vec<f64>,
}

impl DelayPoly {
    /// τ, dτ/dg and d²τ/dg² at `g`, by Horner's rule on dt = g − epoch (the
    /// integer seconds of g − epoch are subtracted exactly first).
    pub fn eval(&self, g: UtcTime) -> Delay {
        self.eval_dt(g.seconds_since(self.epoch))
    }

    /// As [`DelayPoly::eval`], at `dt_s` seconds after the epoch.
    pub fn eval_dt(&self, dt_s: f64) -> Delay {
        let (mut d, mut r, mut a) = (0.0, 0.0, 0.0);
        for &c in self.coeffs_s.iter().rev() {
            a = a * dt_s + r * 2.0;
            r = r * dt_s + d;
            d = d * dt_s + c;
        }
        Delay {
            delay_s: d,
            rate: r,
            accel_per_s: a,
        }
    }
}

/// A station clock error relative to the model: clock(g) = offset_s + rate·(g − epoch).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ClockTerm {
    pub epoch: UtcTime,
    pub offset_s: f64,
    pub rate: f64,
}

/// A station's delay over the job: pieces in time order plus its clock.
#[derive(Debug, Clone, PartialEq)]
pub struct DelayTrack {
    pub station: String,
    pub pieces: Vec<DelayPoly>,
    pub clock: ClockTerm,
}

impl DelayTrack {
    /// The piece that covers `g` (the last one starting at or before it; the
    /// first piece for earlier times).
    pub fn piece(&self, g: UtcTime) -> &DelayPoly {
        let i = self.pieces.partition_point(|p| p.epoch <= g);
        &self.pieces[i.saturating_sub(1)]
    }

    /// Total delay (model + clock) at `g`.
    pub fn eval(&self, g: UtcTime) -> Delay {
        let mut d = self.piece(g).eval(g);
        d.delay_s += self.clock.offset_s + self.clock.rate * g.seconds_since(self.clock.epoch);
        d.rate += self.clock.rate;
        d
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn horner_matches_the_closed_form_derivatives() {
        let e = UtcTime::new(1000, 0.5);
        let p = DelayPoly {
            epoch: e,
            span_s: 100.0,
            coeffs_s: vec![1.3, 2e-6, -3e-10, 4e-14],
        };
        let dt = 37.25_f64;
        let d = p.eval(e.add_seconds(dt));
        let c = &p.coeffs_s;
        let want = c[0] + c[1] * dt + c[2] * dt * dt + c[3] * dt.powi(3);
        let want_r = c[1] + 2.0 * c[2] * dt + 3.0 * c[3] * dt * dt;
        let want_a = 2.0 * c[2] + 6.0 * c[3] * dt;
        assert!((d.delay_s - want).abs() < 1e-15);
        assert!((d.rate - want_r).abs() < 1e-20);
        assert!((d.accel_per_s - want_a).abs() < 1e-24);
    }

    #[test]
    fn the_track_picks_the_piece_and_adds_the_clock() {
        let t0 = UtcTime::new(0, 0.0);
        let piece = |s: i64, c0: f64| DelayPoly {
            epoch: UtcTime::new(s, 0.0),
            span_s: 10.0,
            coeffs_s: vec![c0],
        };
        let track = DelayTrack {
            station: "X".into(),
            pieces: vec![piece(0, 1.0), piece(10, 2.0), piece(20, 3.0)],
            clock: ClockTerm {
                epoch: t0,
                offset_s: 1e-6,
                rate: 1e-9,
            },
        };
        assert_eq!(track.eval(UtcTime::new(-5, 0.0)).delay_s, 1.0 + 1e-6 - 5e-9);
        assert_eq!(track.eval(UtcTime::new(10, 0.0)).delay_s, 2.0 + 1e-6 + 1e-8);
        assert_eq!(
            track.eval(UtcTime::new(19, 0.5)).delay_s,
            2.0 + 1e-6 + 19.5e-9
        );
        assert_eq!(track.eval(UtcTime::new(99, 0.0)).rate, 1e-9);
    }
}

//! A free-running clock on the lunar surface against TT.
//!
//! Such a clock runs fast by dτ_L/dTT − 1 ≈ +6.5e-10 (≈ 56 µs/day), with a
//! periodic part of ~0.5 µs from the Moon's eccentric orbit
//! ([`DelayModel::lunar_clock_rate`]). With `lunar_proper_time = true` the
//! station's delay gains Δ(g) = ∫ from the clock epoch to the arrival g + τ of
//! (dτ_L/dTT − 1) dTT, so the clock agrees with TT at its epoch (the job's
//! clock_offset_s stays a separate constant).

use super::error::ModelError;
use super::geometric::DelayModel;
use formats::UtcTime;

/// 3-point Gauss–Legendre abscissae and weights on [−1, 1].
const GL3: [(f64, f64); 3] = [
    (-0.774_596_669_241_483_4, 5.0 / 9.0),
    (0.0, 8.0 / 9.0),
    (0.774_596_669_241_483_4, 5.0 / 9.0),
];

/// ∫_a^b (dτ_L/dTT − 1) dt for job station `i` (chunks of ≤ 1 hour).
pub fn integral(model: &DelayModel, i: usize, a: UtcTime, b: UtcTime) -> Result<f64, ModelError> {
    let span = b.seconds_since(a);
    if span == 0.0 {
        return Ok(0.0);
    }
    let chunks = (span.abs() / 3600.0).ceil().max(1.0) as usize;
    let h = span / chunks as f64;
    let mut sum = 0.0;
    for c in 0..chunks {
        let mid = a.add_seconds(h * (c as f64 + 0.5));
        for (x, w) in GL3 {
            let ctx = model.epoch(mid.add_seconds(0.5 * h * x))?;
            sum += 0.5 * h * w * model.lunar_clock_rate(&ctx, i)?;
        }
    }
    Ok(sum)
}

//! Deterministic elementary functions for the sample path.
//!
//! The simulator promises byte-identical files on every machine. Rust's
//! `f64::sin`, `ln`, `exp` call the platform's libm, whose last bits differ
//! between libraries, and one flipped bit can move a sample across a
//! quantiser threshold. These use only IEEE-754 `+ − × ÷` (never fused), so
//! they give the same bits everywhere. Accuracy ~1e-15, far beyond need.

/// sin and cos of 2π·`turns`.
pub fn sin_cos_turns(turns: f64) -> (f64, f64) {
    // Reduce to r ∈ [−1/2, 1/2] turn, then to an octant y ∈ [−1/8, 1/8].
    let r = turns - turns.round();
    let q = (r * 4.0).round();
    let y = r - q * 0.25;
    let a = y * std::f64::consts::TAU; // |a| ≤ π/4
    let a2 = a * a;
    // Taylor series to a^17 / a^18: remainder < (π/4)^19/19! ≈ 1e-19.
    let mut s = 0.0;
    let mut c = 0.0;
    for k in (1..=9i32).rev() {
        let n = 2 * k;
        // sin: a·(1 − a²/(2·3)(1 − a²/(4·5)(…))), cos: 1 − a²/(1·2)(1 − a²/(3·4)(…))
        s = 1.0 - a2 / ((n * (n + 1)) as f64) * s;
        c = 1.0 - a2 / (((n - 1) * n) as f64) * c;
    }
    let s = a * s;
    match (q as i64).rem_euclid(4) {
        0 => (s, c),
        1 => (c, -s),
        2 => (-s, -c),
        _ => (-c, s),
    }
}

/// Modified Bessel function of the first kind, order 0 (Kaiser windows).
pub fn bessel_i0(x: f64) -> f64 {
    let q = x * x / 4.0;
    let mut term = 1.0;
    let mut sum = 1.0;
    for k in 1..200 {
        term *= q / ((k * k) as f64);
        sum += term;
        if term < sum * 1e-17 {
            break;
        }
    }
    sum
}

/// sin(πx)/(πx).
pub fn sinc(x: f64) -> f64 {
    if x == 0.0 {
        1.0
    } else {
        sin_cos_turns(x / 2.0).0 / (std::f64::consts::PI * x)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agrees_with_libm() {
        for i in -2000..2000 {
            let t = i as f64 * 0.001_37 + 0.000_3;
            let (s, c) = sin_cos_turns(t);
            let a = t * std::f64::consts::TAU;
            // (t·2π rounded in f64 already errs by ~2e-15 rad at |t| ~ 3 turns.)
            assert!((s - a.sin()).abs() < 1e-14, "sin at {t}");
            assert!((c - a.cos()).abs() < 1e-14, "cos at {t}");
        }
        // I0 closed values (Abramowitz & Stegun table 9.8): I0(1) = 1.2660658777520082,
        // I0(5) = 27.239871823604442.
        assert!((bessel_i0(1.0) - 1.266_065_877_752_008_2).abs() < 1e-14);
        assert!((bessel_i0(5.0) / 27.239_871_823_604_442 - 1.0).abs() < 1e-14);
    }
}

//! Baseline stage, the only O(stations²) part: cross-multiply-accumulate.
//!
//! V_AB = ⟨X_A · conj(X_B)⟩ (CASA's convention: a station A whose signal
//! arrives Δτ later than its model shows phase −2πνΔτ on baselines where it
//! is first). Spectra are split into real and imaginary arrays so this loop
//! vectorises.

use super::simd::multiversion;

multiversion! {
/// acc += a · conj(b), channel by channel.
pub fn cmac(
    acc_re: &mut [f32],
    acc_im: &mut [f32],
    a_re: &[f32],
    a_im: &[f32],
    b_re: &[f32],
    b_im: &[f32],
) {
    let n = acc_re.len();
    let (acc_im, a_re, a_im, b_re, b_im) = (
        &mut acc_im[..n],
        &a_re[..n],
        &a_im[..n],
        &b_re[..n],
        &b_im[..n],
    );
    for j in 0..n {
        // (ar + i·ai)(br − i·bi) = (ar·br + ai·bi) + i(ai·br − ar·bi)
        acc_re[j] += a_re[j] * b_re[j] + a_im[j] * b_im[j];
        acc_im[j] += a_im[j] * b_re[j] - a_re[j] * b_im[j];
    }
}
}

multiversion! {
/// acc += |a|² (an autocorrelation's parallel hand: real).
pub fn auto_mac(acc_re: &mut [f32], a_re: &[f32], a_im: &[f32]) {
    let n = acc_re.len();
    let (a_re, a_im) = (&a_re[..n], &a_im[..n]);
    for j in 0..n {
        acc_re[j] += a_re[j] * a_re[j] + a_im[j] * a_im[j];
    }
}
}

//! Polynomial fits of the model over one interval.
//!
//! The model is sampled at the order+1 Chebyshev–Lobatto points of the
//! interval, which include both ends: the interpolating polynomial then meets
//! the model exactly at the boundaries, so neighbouring pieces join
//! continuously, and between nodes its error is near the minimax bound.

/// Chebyshev–Lobatto nodes on [0, span]: span·(1 − cos(πk/n))/2, k = 0..=n.
pub fn lobatto_nodes(order: usize, span_s: f64) -> Vec<f64> {
    (0..=order)
        .map(|k| {
            if k == 0 {
                0.0
            } else if k == order {
                span_s
            } else {
                0.5 * span_s * (1.0 - (std::f64::consts::PI * k as f64 / order as f64).cos())
            }
        })
        .collect()
}

/// Monomial coefficients c (value = Σ c_k dt^k) of the polynomial through
/// (`nodes[k]`, `values[k]`); the Vandermonde system is solved in dt/span ∈ [0, 1]
/// with partial pivoting.
pub fn interpolate(nodes: &[f64], values: &[f64]) -> Vec<f64> {
    let n = nodes.len();
    assert_eq!(n, values.len());
    let span = nodes
        .iter()
        .fold(0.0_f64, |m, x| m.max(x.abs()))
        .max(1e-300);
    let mut a: Vec<Vec<f64>> = nodes
        .iter()
        .zip(values)
        .map(|(&x, &y)| {
            let s = x / span;
            let mut row: Vec<f64> = (0..n).map(|k| s.powi(k as i32)).collect();
            row.push(y);
            row
        })
        .collect();
    for col in 0..n {
        let piv = (col..n)
            .max_by(|&i, &j| a[i][col].abs().total_cmp(&a[j][col].abs()))
            .unwrap_or(col);
        a.swap(col, piv);
        let pivot_row = a[col].clone();
        for row in a.iter_mut().skip(col + 1) {
            let f = row[col] / pivot_row[col];
            if f != 0.0 {
                for (x, p) in row.iter_mut().zip(&pivot_row).skip(col) {
                    *x -= f * p;
                }
            }
        }
    }
    let mut x = vec![0.0; n];
    for r in (0..n).rev() {
        let s: f64 = (r + 1..n).map(|c| a[r][c] * x[c]).sum();
        x[r] = (a[r][n] - s) / a[r][r];
    }
    x.iter()
        .enumerate()
        .map(|(k, c)| c / span.powi(k as i32))
        .collect()
}

/// Σ c_k dt^k (Horner).
pub fn eval(coeffs: &[f64], dt: f64) -> f64 {
    coeffs.iter().rev().fold(0.0, |acc, c| acc * dt + c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_polynomial_of_the_order_is_reproduced() {
        let want = [1.3, -2e-6, 3e-10, -4e-14, 5e-18, 6e-22];
        let nodes = lobatto_nodes(5, 120.0);
        let vals: Vec<f64> = nodes.iter().map(|&t| eval(&want, t)).collect();
        let got = interpolate(&nodes, &vals);
        for t in [0.0, 13.0, 60.0, 119.0, 120.0] {
            assert!((eval(&got, t) - eval(&want, t)).abs() < 1e-15);
        }
    }

    #[test]
    fn a_sine_is_fitted_within_the_chebyshev_bound() {
        // Earth rotation: 21 ms · sin(ωt): the order-5 error bound is
        // A ω⁶ (T/2)⁶ / (6! 2⁵) ≈ 2e-19 s for T = 120 s.
        let w = 7.292e-5;
        let f = |t: f64| 0.021 * (w * t + 0.3).sin();
        let nodes = lobatto_nodes(5, 120.0);
        let vals: Vec<f64> = nodes.iter().map(|&t| f(t)).collect();
        let c = interpolate(&nodes, &vals);
        for k in 0..=240 {
            let t = k as f64 * 0.5;
            assert!((eval(&c, t) - f(t)).abs() < 1e-16);
        }
    }
}

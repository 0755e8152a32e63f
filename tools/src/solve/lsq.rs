//! Weighted least squares (Gauss–Markov): normal equations N·Δx = b with
//! N = AᵀWA, b = AᵀW(o − c), W = diag(1/σ²); the formal covariance is N⁻¹
//! (not scaled by χ²/dof). Before anything is inverted the normal matrix is
//! scaled to unit diagonal (Jacobi: clock offsets in s and positions in m
//! differ by 10⁹ in their partials) and factorised with diagonal pivoting
//! ([`rank`]): a parameter whose remaining pivot is below [`RANK_TOL`]
//! (its multiple correlation with the parameters before it exceeds
//! 1 − 5·10⁻¹⁰) is not estimable from these observations, and the
//! combination that cannot be separated is named.

use super::error::SolveError;
use nalgebra::{DMatrix, DVector};

/// Smallest pivot of the unit-diagonal normal matrix taken as independent.
pub const RANK_TOL: f64 = 1e-9;

/// N and b over the active observations: `a` rows are observations,
/// `r` = observed − computed, `sigma` their σ.
pub fn normal_equations(
    a: &DMatrix<f64>,
    r: &[f64],
    sigma: &[f64],
    active: &[bool],
) -> (DMatrix<f64>, DVector<f64>) {
    let np = a.ncols();
    let mut n = DMatrix::zeros(np, np);
    let mut b = DVector::zeros(np);
    for i in 0..a.nrows() {
        if !active[i] {
            continue;
        }
        let w = 1.0 / (sigma[i] * sigma[i]);
        for j in 0..np {
            let aij = a[(i, j)];
            if aij == 0.0 {
                continue;
            }
            b[j] += aij * w * r[i];
            for k in j..np {
                n[(j, k)] += aij * w * a[(i, k)];
            }
        }
    }
    for j in 0..np {
        for k in 0..j {
            n[(j, k)] = n[(k, j)];
        }
    }
    (n, b)
}

/// One parameter that cannot be estimated: `fixed` (held at its a priori)
/// and the combination it is lost in, (parameter, coefficient) with the
/// largest first — in units of each parameter's own formal scale, so a
/// coefficient of ±1 means "only the sum/difference is measured".
#[derive(Debug, Clone, PartialEq)]
pub struct Deficiency {
    pub fixed: usize,
    pub combination: Vec<(usize, f64)>,
    /// No observation depends on the parameter at all.
    pub unobserved: bool,
}

/// The estimable parameters (`free`, in pivot order) and the rest.
#[derive(Debug, Clone, PartialEq)]
pub struct Rank {
    pub free: Vec<usize>,
    pub deficiencies: Vec<Deficiency>,
}

/// Diagonally pivoted elimination of the Jacobi-scaled `n`.
pub fn rank(n: &DMatrix<f64>) -> Rank {
    let np = n.nrows();
    let d: Vec<f64> = (0..np).map(|j| n[(j, j)]).collect();
    let unobserved: Vec<bool> = d.iter().map(|&x| !(x > 0.0 && x.is_finite())).collect();
    let scale: Vec<f64> = d
        .iter()
        .zip(&unobserved)
        .map(|(&x, &u)| if u { 0.0 } else { 1.0 / x.sqrt() })
        .collect();
    let s = DMatrix::from_fn(np, np, |i, j| n[(i, j)] * scale[i] * scale[j]);
    let mut a = s.clone();
    let mut idx: Vec<usize> = (0..np).filter(|&j| !unobserved[j]).collect();
    let mut free = Vec::new();
    for k in 0..idx.len() {
        let (off, &p) = idx[k..]
            .iter()
            .enumerate()
            .max_by(|x, y| a[(*x.1, *x.1)].total_cmp(&a[(*y.1, *y.1)]))
            .expect("non-empty");
        if a[(p, p)] < RANK_TOL {
            break;
        }
        idx.swap(k, k + off);
        free.push(p);
        let piv = a[(p, p)];
        let rest: Vec<usize> = idx[k + 1..].to_vec();
        for &i in &rest {
            let f = a[(i, p)] / piv;
            if f == 0.0 {
                continue;
            }
            for &j in &rest {
                a[(i, j)] -= f * a[(p, j)];
            }
        }
    }
    let mut deficiencies: Vec<Deficiency> = (0..np)
        .filter(|j| unobserved[*j])
        .map(|j| Deficiency {
            fixed: j,
            combination: vec![(j, 1.0)],
            unobserved: true,
        })
        .collect();
    let dependent: Vec<usize> = idx[free.len()..].to_vec();
    if !dependent.is_empty() {
        // The null direction of each dependent parameter: S_FF x = S_Fd.
        let nf = free.len();
        let sff = DMatrix::from_fn(nf, nf, |i, j| s[(free[i], free[j])]);
        let chol = sff.cholesky();
        for &dj in &dependent {
            let sfd = DVector::from_fn(nf, |i, _| s[(free[i], dj)]);
            let x = chol
                .as_ref()
                .map(|c| c.solve(&sfd))
                .unwrap_or_else(|| DVector::zeros(nf));
            let mut comb: Vec<(usize, f64)> = vec![(dj, 1.0)];
            for i in 0..nf {
                if x[i].abs() > 0.05 {
                    comb.push((free[i], -x[i]));
                }
            }
            comb[1..].sort_by(|p, q| q.1.abs().total_cmp(&p.1.abs()));
            deficiencies.push(Deficiency {
                fixed: dj,
                combination: comb,
                unobserved: false,
            });
        }
    }
    Rank { free, deficiencies }
}

/// Solve N·Δx = b over the `free` parameters (the rest get Δx = 0);
/// returns Δx and the covariance N_FF⁻¹ of the free ones (in `free` order).
pub fn solve(
    n: &DMatrix<f64>,
    b: &DVector<f64>,
    free: &[usize],
) -> Result<(Vec<f64>, DMatrix<f64>), SolveError> {
    let nf = free.len();
    let scale: Vec<f64> = free.iter().map(|&j| 1.0 / n[(j, j)].sqrt()).collect();
    let s = DMatrix::from_fn(nf, nf, |i, j| n[(free[i], free[j])] * scale[i] * scale[j]);
    let sb = DVector::from_fn(nf, |i, _| b[free[i]] * scale[i]);
    let chol = s.cholesky().ok_or_else(|| {
        SolveError::Numerical(
            "the normal matrix of the estimable parameters is not positive definite".into(),
        )
    })?;
    let y = chol.solve(&sb);
    let inv = chol.inverse();
    let mut dx = vec![0.0; n.nrows()];
    for i in 0..nf {
        dx[free[i]] = y[i] * scale[i];
    }
    let cov = DMatrix::from_fn(nf, nf, |i, j| inv[(i, j)] * scale[i] * scale[j]);
    Ok((dx, cov))
}

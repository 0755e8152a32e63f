//! Numerical smoothness of the model: the delay is an analytic function of
//! time, so on a fine grid it must lie on a low-order polynomial to the
//! precision of the arithmetic; what it leaves is numerical jitter.

use super::ephemeris::{EARTH, MOON};
use super::tests::{job, LANDER, NO_TIDES, PKS1921};
use super::vector::sub;
use super::*;

/// Residual of the least-squares polynomial of `order` through (t, y):
/// a Chebyshev basis on [-1, 1], projected out twice (Gram–Schmidt applied
/// twice is orthogonal to rounding).
pub(crate) fn poly_residual(t: &[f64], y: &[f64], order: usize) -> Vec<f64> {
    let (t0, t1) = (t[0], t[t.len() - 1]);
    let x: Vec<f64> = t.iter().map(|v| (2.0 * v - t0 - t1) / (t1 - t0)).collect();
    let mut q: Vec<Vec<f64>> = Vec::new();
    for k in 0..=order {
        let mut b: Vec<f64> = x
            .iter()
            .map(|&x| (k as f64 * x.clamp(-1.0, 1.0).acos()).cos())
            .collect();
        for _ in 0..2 {
            for qj in &q {
                let d: f64 = qj.iter().zip(&b).map(|(a, c)| a * c).sum();
                b.iter_mut().zip(qj).for_each(|(bi, qi)| *bi -= d * qi);
            }
        }
        let n = b.iter().map(|v| v * v).sum::<f64>().sqrt();
        b.iter_mut().for_each(|v| *v /= n);
        q.push(b);
    }
    let mut r = y.to_vec();
    for _ in 0..2 {
        for qj in &q {
            let d: f64 = qj.iter().zip(&r).map(|(a, c)| a * c).sum();
            r.iter_mut().zip(qj).for_each(|(ri, qi)| *ri -= d * qi);
        }
    }
    r
}

pub(crate) fn rms_peak(r: &[f64]) -> (f64, f64) {
    let rms = (r.iter().map(|v| v * v).sum::<f64>() / r.len() as f64).sqrt();
    let peak = r.iter().fold(0.0_f64, |m, v| m.max(v.abs()));
    (rms, peak)
}

/// The rate the jitter puts into a straight line fitted to `w` samples of
/// the residual `r` (spacing `dt`): rms over consecutive windows.
fn window_rate_rms(r: &[f64], dt: f64, w: usize) -> f64 {
    let slopes: Vec<f64> = r
        .chunks_exact(w)
        .map(|c| {
            let m = (w as f64 - 1.0) / 2.0;
            let (mut sxy, mut sxx) = (0.0, 0.0);
            for (i, v) in c.iter().enumerate() {
                let x = (i as f64 - m) * dt;
                sxy += x * v;
                sxx += x * x;
            }
            sxy / sxx
        })
        .collect();
    rms_peak(&slopes).0
}

fn report(name: &str, t: &[f64], y: &[f64]) {
    let y0 = y[y.len() / 2];
    let y: Vec<f64> = y.iter().map(|v| v - y0).collect();
    let mut s = String::new();
    for order in [3, 4, 5, 6] {
        let (rms, peak) = rms_peak(&poly_residual(t, &y, order));
        s += &format!(" o{order}: {rms:.2e}/{peak:.2e}");
    }
    // Rate: difference quotients of the residual over one step, and the
    // slope of lines through 1 s of it.
    let r = poly_residual(t, &y, 5);
    let dq: Vec<f64> = r
        .windows(2)
        .map(|w| (w[1] - w[0]) / (t[1] - t[0]))
        .collect();
    s += &format!(
        " | rate: dq {:.1e}, 1 s lines {:.1e}",
        rms_peak(&dq).0,
        window_rate_rms(&r, t[1] - t[0], 100)
    );
    eprintln!("{name:24}{s}");
}

/// Delays of the four stations of [`job`] every 10 ms over 20 s.
fn sampled_delays(source: &str) -> (Vec<f64>, Vec<[f64; 4]>) {
    let start = formats::UtcTime::from_calendar(2026, 3, 11, 5, 0, 0, 0.0);
    let j = job(source, &start.to_iso8601(), 60.0, NO_TIDES);
    let model = DelayModel::new(&j, &j.sources[0], start, start.add_seconds(60.0)).unwrap();
    let t: Vec<f64> = (0..2001).map(|k| k as f64 * 0.01).collect();
    let d = t
        .iter()
        .map(|&tk| {
            let ctx = model.epoch(start.add_seconds(tk)).unwrap();
            std::array::from_fn(|i| model.station(&ctx, i).unwrap().delay_s)
        })
        .collect();
    (t, d)
}

/// A closed-form smoothness test: the geometric delay is an analytic
/// function of time whose terms beyond the 5th order are nil over 20 s
/// (the fastest, the Earth's rotation, gives R⊕/c·(ωT)⁶/6! ~ 1e-23 s), so
/// the residual of an order-5 least-squares polynomial through delays
/// every 10 ms is the model's numerical jitter. Positions from the
/// barycentre (~1.5e11 m, rounded to ~3e-5 m) made it 2e-14–6e-14 s rms,
/// 7e-14–2e-13 s peak; from the geocentre at the epoch (GeoOrigin) it is
/// 2e-16–4e-16 s rms, ≤ 1.5e-15 s peak (the last bits of a 1.3 s delay
/// are 2.2e-16 s). Earth–Earth (T6–KM) and Earth–Moon (T6–LS) baselines
/// and the stations alone, far field (PKS 1921−293) and near field (a
/// lander). The order-3 and order-6 residuals equal the order-5 one: the
/// polynomial is exact at this level.
#[test]
fn baseline_delays_are_smooth_to_femtoseconds() {
    for (label, src) in [("far", PKS1921), ("near", LANDER)] {
        let (t, d) = sampled_delays(src);
        for (name, f) in [
            ("T6", (|x: &[f64; 4]| x[0]) as fn(&[f64; 4]) -> f64),
            ("LS", |x| x[3]),
            ("T6-KM", |x| x[1] - x[0]),
            ("T6-LS", |x| x[3] - x[0]),
        ] {
            let y0 = f(&d[d.len() / 2]);
            let y: Vec<f64> = d.iter().map(|x| f(x) - y0).collect();
            let (rms, peak) = rms_peak(&poly_residual(&t, &y, 5));
            let (rms6, _) = rms_peak(&poly_residual(&t, &y, 6));
            eprintln!("{label} {name}: jitter rms {rms:.2e} s, peak {peak:.2e} s");
            assert!(
                rms < 2e-15 && peak < 5e-15,
                "{label} {name}: {rms:e} {peak:e}"
            );
            assert!(
                (rms - rms6).abs() < 0.1 * rms,
                "{label} {name}: {rms:e} vs {rms6:e}"
            );
        }
    }
}

/// The geocentre's displacement from its Taylor series (acceleration and
/// jerk from the SPK's velocities) against the plain difference of its
/// barycentric positions, which carries their ~3e-5 m rounding: equal to
/// that over the series' whole range, 16 s, and on beyond it where the
/// difference is used (a wrong term would be off by ≥ 0.1 m at 16 s).
#[test]
fn the_geocentres_displacement_is_its_barycentric_difference() {
    let e = super::tests::eph();
    let t0 = super::tests::tdb_of(formats::UtcTime::from_calendar(2026, 3, 11, 5, 0, 0, 0.3));
    let origin = e.origin(t0).unwrap();
    let x0 = e.state(EARTH, t0).unwrap();
    let mut worst: f64 = 0.0;
    for dt in [
        -16.0, -5.0, -1.3, -0.021, 0.0, 0.021, 1.3, 5.0, 15.99, 16.01, 100.0,
    ] {
        let t = t0.add_seconds(dt);
        let got = origin.earth_offset(&e, t).unwrap();
        let x = e.state(EARTH, t).unwrap();
        let want = sub(&x.pos_m, &x0.pos_m);
        let err = super::vector::norm(&sub(&got.pos_m, &want));
        let verr = super::vector::norm(&sub(&got.vel_m_s, &x.vel_m_s));
        worst = worst.max(err);
        assert!(
            err < 2e-4 && verr < 1e-9,
            "Δt {dt} s: {err:e} m, {verr:e} m/s"
        );
    }
    eprintln!("geocentre's offset vs barycentric difference: worst {worst:e} m");
}

/// Where the jitter comes from: the delays and the positions behind them
/// (`--ignored --nocapture` prints the residuals per polynomial order and
/// the rates they put into difference quotients and 1 s lines).
#[test]
#[ignore]
fn measure_jitter() {
    let start = formats::UtcTime::from_calendar(2026, 3, 11, 5, 0, 0, 0.0);
    let n = 2001;
    let dt = 0.01;
    for (label, src) in [("far", PKS1921), ("near", LANDER)] {
        let j = job(src, &start.to_iso8601(), 60.0, NO_TIDES);
        let model = DelayModel::new(&j, &j.sources[0], start, start.add_seconds(60.0)).unwrap();
        let t: Vec<f64> = (0..n).map(|k| k as f64 * dt).collect();
        let mut d: Vec<Vec<f64>> = vec![Vec::new(); 4];
        let mut earth = vec![Vec::new(); 3];
        let mut moon_geo = vec![Vec::new(); 3];
        let mut site = vec![Vec::new(); 3];
        let mut ls = vec![Vec::new(); 3];
        for &tk in &t {
            let g = start.add_seconds(tk);
            let ctx = model.epoch(g).unwrap();
            for (i, di) in d.iter_mut().enumerate() {
                di.push(model.station(&ctx, i).unwrap().delay_s);
            }
            let e = ctx
                .bodies
                .iter()
                .find(|b| b.naif_id == EARTH)
                .unwrap()
                .state
                .pos_m;
            let m = ctx
                .bodies
                .iter()
                .find(|b| b.naif_id == MOON)
                .unwrap()
                .state
                .pos_m;
            let bary = ctx.origin.bary_pos_m;
            let fr = model.frames(&ctx);
            let s0 = fr.site(&ctx.sites[0].unwrap(), 0.0).unwrap().pos_m;
            let s3 = fr.site(&ctx.sites[3].unwrap(), 0.0).unwrap().pos_m;
            for k in 0..3 {
                earth[k].push(bary[k]);
                moon_geo[k].push(sub(&m, &e)[k]);
                site[k].push(sub(&s0, &e)[k]);
                ls[k].push(sub(&s3, &e)[k]);
            }
        }
        eprintln!("--- {label} (rms/peak of residual per polynomial order)");
        for (name, y) in [
            ("T6 delay s", d[0].clone()),
            ("LS delay s", d[3].clone()),
            (
                "T6-KM s",
                d[1].iter().zip(&d[0]).map(|(a, b)| a - b).collect(),
            ),
            (
                "T6-LS s",
                d[3].iter().zip(&d[0]).map(|(a, b)| a - b).collect(),
            ),
        ] {
            report(name, &t, &y);
        }
        for k in 0..3 {
            report(&format!("Earth wrt SSB m [{k}]"), &t, &earth[k]);
            report(&format!("Moon-Earth m [{k}]"), &t, &moon_geo[k]);
            report(&format!("T6 BCRS - Earth m [{k}]"), &t, &site[k]);
            report(&format!("LS BCRS - Earth m [{k}]"), &t, &ls[k]);
        }
    }
}

//! Numerical smoothness of the model (scratch measurement, see the report).

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

fn report(name: &str, t: &[f64], y: &[f64]) {
    let y0 = y[y.len() / 2];
    let y: Vec<f64> = y.iter().map(|v| v - y0).collect();
    let mut s = String::new();
    for order in [3, 4, 5, 6] {
        let (rms, peak) = rms_peak(&poly_residual(t, &y, order));
        s += &format!(" o{order}: {rms:.2e}/{peak:.2e}");
    }
    // Rate: slope of 1 s windows against the global fit's.
    eprintln!("{name:40}{s}");
}

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
            let e = ctx.bodies.iter().find(|b| b.naif_id == EARTH).unwrap().state.pos_m;
            let m = ctx.bodies.iter().find(|b| b.naif_id == MOON).unwrap().state.pos_m;
            let fr = model.frames(&ctx);
            let s0 = fr.site(&ctx.sites[0].unwrap(), 0.0).unwrap().pos_m;
            let s3 = fr.site(&ctx.sites[3].unwrap(), 0.0).unwrap().pos_m;
            for k in 0..3 {
                earth[k].push(e[k]);
                moon_geo[k].push(sub(&m, &e)[k]);
                site[k].push(sub(&s0, &e)[k]);
                ls[k].push(sub(&s3, &e)[k]);
            }
        }
        eprintln!("--- {label} (rms/peak of residual per polynomial order)");
        for (name, y) in [
            ("T6 delay s", d[0].clone()),
            ("LS delay s", d[3].clone()),
            ("T6-KM s", d[1].iter().zip(&d[0]).map(|(a, b)| a - b).collect()),
            ("T6-LS s", d[3].iter().zip(&d[0]).map(|(a, b)| a - b).collect()),
        ] {
            report(name, &t, &y);
        }
        for k in 0..3 {
            report(&format!("Earth SSB m [{k}]"), &t, &earth[k]);
            report(&format!("Moon-Earth m [{k}]"), &t, &moon_geo[k]);
            report(&format!("T6 BCRS - Earth m [{k}]"), &t, &site[k]);
            report(&format!("LS BCRS - Earth m [{k}]"), &t, &ls[k]);
        }
    }
}

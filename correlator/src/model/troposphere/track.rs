//! A station's sky over the job as polynomials, fitted at the delay model's
//! nodes: the east-north-up direction (no wrap in azimuth) and the dry and
//! wet delays.

use super::super::fit;
use super::Sky;
use formats::UtcTime;

/// One piece: polynomials in g − epoch.
#[derive(Debug, Clone, PartialEq)]
pub struct SkyPoly {
    pub epoch: UtcTime,
    pub span_s: f64,
    /// East, north and up components of the direction to the source.
    pub enu: [Vec<f64>; 3],
    pub dry_delay_s: Vec<f64>,
    pub wet_delay_s: Vec<f64>,
}

impl SkyPoly {
    /// Interpolate the values `skies` at `nodes` (seconds after `epoch`).
    pub fn fit(epoch: UtcTime, span_s: f64, nodes: &[f64], skies: &[Sky]) -> SkyPoly {
        let col = |f: &dyn Fn(&Sky) -> f64| -> Vec<f64> {
            fit::interpolate(nodes, &skies.iter().map(f).collect::<Vec<_>>())
        };
        SkyPoly {
            epoch,
            span_s,
            enu: [0, 1, 2].map(|k| col(&|s: &Sky| s.enu()[k])),
            dry_delay_s: col(&|s| s.dry_delay_s),
            wet_delay_s: col(&|s| s.wet_delay_s),
        }
    }
}

/// An Earth station's sky over the job.
#[derive(Debug, Clone, PartialEq)]
pub struct SkyTrack {
    pub station: String,
    pub pieces: Vec<SkyPoly>,
}

impl SkyTrack {
    /// Azimuth, elevation and delays at g.
    pub fn eval(&self, g: UtcTime) -> Sky {
        let i = self.pieces.partition_point(|p| p.epoch <= g);
        let p = &self.pieces[i.saturating_sub(1)];
        let dt = g.seconds_since(p.epoch);
        let enu = [0, 1, 2].map(|k| fit::eval(&p.enu[k], dt));
        Sky::from_enu(
            &enu,
            fit::eval(&p.dry_delay_s, dt),
            fit::eval(&p.wet_delay_s, dt),
        )
    }
}

//! The geometric delay of every station at one geocentric instant g.
//!
//! For each g: UTC → TT → TDB (t_g), the BCRS states of the Sun, Earth, Moon
//! and Jupiter at t_g, the Earth's orientation; then per station the light-time
//! solution (far or near field) gives t_i − t_g in TDB, converted to TT:
//!   τ = (t_i − t_g) − [(TDB−TT)(t_i) − (TDB−TT)(t_g)] − V⊕(t_i)·(x_i − X⊕(t_i))/c²
//! (IERS Conventions 2010 ch. 10 and §11.1: TCB − TCG = c⁻²[∫(v⊕²/2 + U_ext)dt +
//! v⊕·(x − x⊕)], whose integral part in TDB − TT at the geocentre is SOFA
//! `dtdb`). The last term is the ~100 µs Earth–Moon simultaneity term.

use super::earth::{EarthOrientation, Eop, EopValues};
use super::ephemeris::{Ephemeris, State, EARTH, JUPITER_BARYCENTER, MOON, SUN};
use super::error::ModelError;
use super::far_field;
use super::moon::MoonOrientation;
use super::near_field::{self, NearSource};
use super::oem::Oem;
use super::relativity::{Body, C, GM_EARTH, GM_JUPITER_SYSTEM, GM_MOON, GM_SUN, L_G};
use super::sites::{Site, SiteFrames};
use super::time_scales::{tai_minus_utc_s, tdb_minus_tt_s, utc_to_tt, Instant};
use super::vector::{add, dot, norm, scale, sub, unit, V3};
use crate::job::{Job, Source, SourcePosition};
use formats::UtcTime;

/// Where the source is, for the model.
#[derive(Debug, Clone)]
pub enum SourceGeometry {
    /// Unit vector from the barycentre to the source (ICRS).
    Far(V3),
    Near(NearSource),
}

/// The geometric model of a job's stations.
pub struct DelayModel {
    eph: Ephemeris,
    eop: Option<Eop>,
    moon: MoonOrientation,
    source: SourceGeometry,
    /// Per job station: its site, or `None` (delay_poly station).
    sites: Vec<Option<Site>>,
    with_jupiter: bool,
    warnings: Vec<String>,
}

/// Everything at one geocentric instant g.
pub struct EpochContext {
    pub utc: UtcTime,
    pub tt: Instant,
    pub tdb: Instant,
    pub tdb_minus_tt_s: f64,
    pub earth: State,
    pub bodies: Vec<Body>,
    pub orient: EarthOrientation,
}

/// One station at one g.
#[derive(Debug, Clone, Copy)]
pub struct StationGeometry {
    /// τ(g): TT seconds from the wavefront at the geocentre to the station.
    pub delay_s: f64,
    /// Station minus geocentre at g (m, ICRS axes; GCRS for an Earth
    /// station, body centre + Moon-fixed vector − geocentre for a lunar one:
    /// no 1PN terms), for UVW.
    pub geocentric_m: V3,
}

impl DelayModel {
    /// Load kernels and EOP for `job` and check that they cover [start, end].
    pub fn new(
        job: &Job,
        source: &Source,
        start: UtcTime,
        end: UtcTime,
    ) -> Result<DelayModel, ModelError> {
        let cfg = job.model.as_ref().ok_or_else(|| {
            ModelError::Input(format!(
                "{}: key `model`: the geometric model needs a [model] section with kernels",
                job.file.display()
            ))
        })?;
        let key = |k: &str, why: String| ModelError::Key {
            file: job.file.clone(),
            key: k.to_string(),
            why,
        };
        if cfg.kernels.is_empty() {
            return Err(key(
                "model.kernels",
                "no kernels given: an SPK (.bsp) is needed".into(),
            ));
        }
        let eph = Ephemeris::load(&cfg.kernels)?;
        let mut warnings = Vec::new();
        // The job's file wins over a schedule's points (see
        // `correlator::session`, which says which was used).
        let eop = match (&cfg.eop, &cfg.eop_table) {
            (Some(p), _) => Some(Eop::from_file(p)?),
            (None, Some(t)) => Some(t.clone()),
            (None, None) => {
                warnings.push(
                    "no model.eop: UT1−UTC = 0 and no polar motion (errors up to ~1.5 µs in delay)"
                        .into(),
                );
                None
            }
        };
        let tdb0 = super::time_scales::tt_to_tdb(utc_to_tt(start));
        let (moon, w) = MoonOrientation::choose(&eph, tdb0);
        let sites: Vec<Option<Site>> = job
            .stations
            .iter()
            .map(|s| {
                if s.delay_poly.is_some() {
                    None
                } else {
                    Site::from_position(&s.position)
                }
            })
            .collect();
        let any_moon = sites.iter().flatten().any(|s| s.on_moon())
            || matches!(source.position, SourcePosition::Moon(_));
        if let (Some(w), true) = (w, any_moon) {
            warnings.push(w);
        }
        let source = match &source.position {
            SourcePosition::RaDec { ra_rad, dec_rad } => {
                let (sr, cr) = ra_rad.sin_cos();
                let (sd, cd) = dec_rad.sin_cos();
                SourceGeometry::Far([cd * cr, cd * sr, sd])
            }
            SourcePosition::Moon(m) => {
                SourceGeometry::Near(NearSource::Moon(Site::Moon(super::moon::site_me_m(m))))
            }
            SourcePosition::SpkBody(id) => {
                if eph.state(*id, tdb0).is_err() {
                    return Err(key(
                        "source.spk_body",
                        format!(
                            "body {id} is not in the kernels {} at the job start (unknown body or kernel not covering it)",
                            cfg.kernels.iter().map(|k| k.display().to_string()).collect::<Vec<_>>().join(", ")
                        ),
                    ));
                }
                SourceGeometry::Near(NearSource::Spk(*id))
            }
            SourcePosition::Oem(p) => SourceGeometry::Near(NearSource::Oem(Oem::from_file(p)?)),
        };
        let with_jupiter = eph.state(JUPITER_BARYCENTER, tdb0).is_ok();
        let model = DelayModel {
            eph,
            eop,
            moon,
            source,
            sites,
            with_jupiter,
            warnings,
        };
        // Coverage: every input must reach both ends of the job.
        for g in [start, end] {
            let ctx = model.epoch(g)?;
            for i in 0..model.sites.len() {
                if model.sites[i].is_some() {
                    model.station(&ctx, i)?;
                }
            }
        }
        Ok(model)
    }

    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    pub fn source(&self) -> &SourceGeometry {
        &self.source
    }

    /// Whether job station `i` has geometry here.
    pub fn has_site(&self, i: usize) -> bool {
        self.sites.get(i).is_some_and(|s| s.is_some())
    }

    pub fn site(&self, i: usize) -> Option<Site> {
        self.sites.get(i).copied().flatten()
    }

    /// Time scales, ephemerides and Earth orientation at geocentric UTC `g`.
    pub fn epoch(&self, g: UtcTime) -> Result<EpochContext, ModelError> {
        let tt = utc_to_tt(g);
        let dtdb = tdb_minus_tt_s(tt);
        let tdb = tt.add_seconds(dtdb);
        let eop = match &self.eop {
            Some(e) => e.at(g)?,
            None => EopValues::default(),
        };
        let orient = EarthOrientation::new(tt, eop, tai_minus_utc_s(g));
        let earth = self.eph.state(EARTH, tdb)?;
        let mut bodies = vec![
            Body {
                naif_id: SUN,
                gm: GM_SUN,
                state: self.eph.state(SUN, tdb)?,
                is_earth: false,
            },
            Body {
                naif_id: MOON,
                gm: GM_MOON,
                state: self.eph.state(MOON, tdb)?,
                is_earth: false,
            },
            Body {
                naif_id: EARTH,
                gm: GM_EARTH,
                state: earth,
                is_earth: true,
            },
        ];
        if self.with_jupiter {
            bodies.push(Body {
                naif_id: JUPITER_BARYCENTER,
                gm: GM_JUPITER_SYSTEM,
                state: self.eph.state(JUPITER_BARYCENTER, tdb)?,
                is_earth: false,
            });
        }
        Ok(EpochContext {
            utc: g,
            tt,
            tdb,
            tdb_minus_tt_s: dtdb,
            earth,
            bodies,
            orient,
        })
    }

    fn frames<'a>(&'a self, ctx: &'a EpochContext) -> SiteFrames<'a> {
        SiteFrames {
            eph: &self.eph,
            moon: self.moon,
            earth: &ctx.orient,
            bodies: &ctx.bodies,
            tt_g: ctx.tt,
            tdb_g: ctx.tdb,
        }
    }

    /// The geometric delay of job station `i` at the context's g.
    pub fn station(&self, ctx: &EpochContext, i: usize) -> Result<StationGeometry, ModelError> {
        let site = self.sites[i]
            .ok_or_else(|| ModelError::Input(format!("station index {i} has no position")))?;
        self.station_at(ctx, &site, &self.source)
    }

    /// The geometric delay of a site at the context's g for a source other
    /// than the model's own (a station or a lander moved by a trial
    /// position: `emcorr solve`'s partial derivatives), with this model's
    /// ephemerides and Earth orientation.
    pub fn station_at(
        &self,
        ctx: &EpochContext,
        site: &Site,
        source: &SourceGeometry,
    ) -> Result<StationGeometry, ModelError> {
        let site = *site;
        let frames = self.frames(ctx);
        let geo = ctx.earth.pos_m;
        let (dt, st) = match source {
            SourceGeometry::Far(k) => far_field::solve(&frames, k, &site, &geo, &ctx.bodies)?,
            SourceGeometry::Near(src) => {
                let (te, s) = near_field::emission(&frames, &self.eph, src, &geo, &ctx.bodies)?;
                near_field::reception(&frames, &site, te, &s, &ctx.bodies)?
            }
        };
        // TDB interval → TT interval of the two events (module docs).
        let t_i = ctx.tdb.add_seconds(dt);
        let earth_i = self.eph.state(EARTH, t_i)?;
        let dtdb_i = tdb_minus_tt_s(ctx.tt.add_seconds(dt));
        let delay_s = dt
            - (dtdb_i - ctx.tdb_minus_tt_s)
            - dot(&earth_i.vel_m_s, &sub(&st.pos_m, &earth_i.pos_m)) / (C * C);
        let at_g = frames.site(&site, 0.0)?;
        let geocentric_m = match site {
            Site::Earth(_) => at_g.local_m,
            Site::Moon(_) => add(&sub(&at_g.parent_pos_m, &geo), &at_g.local_m),
        };
        Ok(StationGeometry {
            delay_s,
            geocentric_m,
        })
    }

    /// Unit vector (ICRS) from the geocentre towards the source at g: the
    /// phase centre for UVW (near field: the source's position at emission).
    pub fn source_direction(&self, ctx: &EpochContext) -> Result<V3, ModelError> {
        match &self.source {
            SourceGeometry::Far(k) => Ok(*k),
            SourceGeometry::Near(src) => {
                let frames = self.frames(ctx);
                let (_, s) =
                    near_field::emission(&frames, &self.eph, src, &ctx.earth.pos_m, &ctx.bodies)?;
                Ok(unit(&sub(&s.pos_m, &ctx.earth.pos_m)))
            }
        }
    }

    /// Rate of a lunar-surface clock against TT, dτ_L/dTT − 1, at g:
    /// L_G − [v²/2 + GM⊕/r⊕ + GM☾/r☾]/c² with v the station's GCRS velocity
    /// (IAU 2000 B1.9 and the GCRS metric, IERS Conventions 2010 ch. 10);
    /// about +6.5e-10 (56 µs/day). The Sun's tidal potential (~1e-16) and the
    /// Moon's oblateness (~1e-14) are left out.
    pub fn lunar_clock_rate(&self, ctx: &EpochContext, i: usize) -> Result<f64, ModelError> {
        let site = self.sites[i]
            .ok_or_else(|| ModelError::Input(format!("station index {i} has no position")))?;
        let frames = self.frames(ctx);
        let geo_at = |dt: f64| -> Result<V3, ModelError> {
            let s = frames.site(&site, dt)?;
            let e = self.eph.state(EARTH, ctx.tdb.add_seconds(dt))?;
            Ok(sub(&s.pos_m, &e.pos_m))
        };
        let h = 1.0;
        let (a, b) = (geo_at(-h)?, geo_at(h)?);
        let v = scale(&sub(&b, &a), 0.5 / h);
        let x = frames.site(&site, 0.0)?;
        let r_earth = norm(&sub(&x.pos_m, &ctx.earth.pos_m));
        let r_moon = norm(&x.local_m);
        Ok(L_G - (0.5 * dot(&v, &v) + GM_EARTH / r_earth + GM_MOON / r_moon) / (C * C))
    }
}

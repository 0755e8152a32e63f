//! The geometric delay of every station at one geocentric instant g.
//!
//! For each g: UTC → TT → TDB (t_g), the BCRS states of the Sun, Earth, Moon
//! and Jupiter at t_g, the Earth's orientation; then per station the light-time
//! solution (far or near field) gives t_i − t_g in TDB, converted to TT:
//!   τ = (t_i − t_g) − [(TDB−TT)(t_i) − (TDB−TT)(t_g)] − V⊕(t_i)·(x_i − X⊕(t_i))/c²
//! (IERS Conventions 2010 ch. 10 and §11.1: TCB − TCG = c⁻²[∫(v⊕²/2 + U_ext)dt +
//! v⊕·(x − x⊕)], whose integral part in TDB − TT at the geocentre is SOFA
//! `dtdb`). The last term is the ~100 µs Earth–Moon simultaneity term.
//! Earth stations then add the troposphere's a priori delay and report the
//! source's azimuth and elevation ([`super::troposphere`]).
//!
//! All positions are BCRS positions less X⊕(t_g), the geocentre at the
//! epoch ([`GeoOrigin`]): a constant translation, under which the light
//! times, gravitational delays (body–point vectors) and the terms above are
//! unchanged, while the ~3e-5 m rounding of barycentric coordinates (0.1 ps
//! of jitter from one g to the next) is gone.

use super::axis_offset::AxisOffset;
use super::earth::{EarthOrientation, Eop, EopValues};
use super::ephemeris::{
    Ephemeris, GeoOrigin, State, EARTH, JUPITER_BARYCENTER, MOON, SATURN_BARYCENTER, SUN,
};
use super::error::ModelError;
use super::far_field;
use super::geophysics::ocean_loading::{load_blq_station, OceanLoading};
use super::geophysics::{EarthStation, EpochGeophysics, StationMotion, Switches};
use super::moon::MoonOrientation;
use super::near_field::{self, NearSource};
use super::oem::Oem;
use super::relativity::{
    Body, C, GM_EARTH, GM_JUPITER_SYSTEM, GM_MOON, GM_SATURN_SYSTEM, GM_SUN, L_G,
};
use super::sites::{Site, SiteFrames};
use super::time_scales::{tai_minus_utc_s, tdb_minus_tt_s, utc_to_tt, Instant};
use super::troposphere::{self, LocalSky, Sky};
use super::vector::{add, axpy, dot, norm, scale, sub, unit, V3};
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
    /// The job's `model.eop_offset`, added to `eop`'s values.
    eop_offset: EopValues,
    moon: MoonOrientation,
    /// Scale of lunar coordinates: 0 (TDB-compatible) or L_B (proper).
    lunar_scale: f64,
    source: SourceGeometry,
    /// Per job station: its site, or `None` (delay_poly station); an Earth
    /// site at its catalogue position.
    sites: Vec<Option<Site>>,
    /// The giant planets' system barycentres the kernels have (NAIF id,
    /// GM): their gravitational delays (IERS Conventions 2010 §11.1 lists
    /// Jupiter and Saturn with the Sun, Earth and Moon).
    planets: Vec<(i32, f64)>,
    /// Per job station on the Earth: catalogue position and motion.
    earth_stations: Vec<Option<EarthStation>>,
    /// Which displacements move Earth stations.
    switches: Switches,
    /// `[model] subdaily_eop`: add the ocean-tide and libration terms to
    /// the interpolated EOP.
    subdaily_eop: bool,
    /// `[model] celestial_pole_offsets`: keep the EOP's δX, δY.
    celestial_pole_offsets: bool,
    /// `[model] lunar_tide`: lunar sites displaced by the body tide.
    lunar_tide: bool,
    /// Per job station on the Earth with a non-zero antenna axis offset.
    axes: Vec<Option<AxisOffset>>,
    /// Per job station: its frame and atmosphere, for Earth stations.
    skies: Vec<Option<LocalSky>>,
    warnings: Vec<String>,
}

/// Everything at one geocentric instant g.
pub struct EpochContext {
    pub utc: UtcTime,
    pub tt: Instant,
    pub tdb: Instant,
    pub tdb_minus_tt_s: f64,
    /// The origin of every position here: the geocentre at t_g.
    pub origin: GeoOrigin,
    /// The geocentre: at the origin, with its BCRS velocity.
    pub earth: State,
    pub bodies: Vec<Body>,
    pub orient: EarthOrientation,
    /// Per job station, its site at this epoch: an Earth station moved and
    /// displaced in the ITRS ([`super::geophysics`]).
    pub sites: Vec<Option<Site>>,
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
    /// Earth stations: the source in the station's sky, and the
    /// troposphere's delays (included in `delay_s`).
    pub sky: Option<Sky>,
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
                    "no model.eop: UT1−UTC = 0, no polar motion and no pole tide (errors up to ~1.5 µs in delay)"
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
        let mut earth_stations: Vec<Option<EarthStation>> = Vec::new();
        for (st, site) in job.stations.iter().zip(&sites) {
            earth_stations.push(match site {
                Some(Site::Earth(x)) => Some(EarthStation {
                    itrf_m: *x,
                    motion: st
                        .itrf_epoch
                        .zip(st.velocity_m_per_yr)
                        .map(|(e, v)| StationMotion::new(e, v)),
                    // Read only when used: a job with ocean loading off
                    // needs no BLQ file.
                    ocean: match (&st.blq, cfg.ocean_loading) {
                        (Some(b), true) => Some(std::sync::Arc::new(OceanLoading::new(
                            &load_blq_station(&b.file, &b.name)
                                .map_err(|why| key(&format!("station {}.blq", st.name), why))?,
                        ))),
                        _ => None,
                    },
                }),
                _ => None,
            });
        }
        let axes: Vec<Option<AxisOffset>> = job
            .stations
            .iter()
            .zip(&earth_stations)
            .map(|(st, es)| {
                st.axis
                    .filter(|a| cfg.axis_offset && es.is_some() && a.offset_m != 0.0)
            })
            .collect();
        let switches = Switches {
            solid_tide: cfg.solid_tide,
            pole_tide: cfg.pole_tide,
            ocean_loading: cfg.ocean_loading,
        };
        let any_moon = sites.iter().flatten().any(|s| s.on_moon())
            || matches!(source.position, SourcePosition::Moon(_));
        if any_moon {
            warnings.extend(w);
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
        // A planet missing from the kernels is left out with a warning, never
        // silently: near the planet its delay is tens of ps and more.
        let mut planets = Vec::new();
        for (id, gm, name) in [
            (JUPITER_BARYCENTER, GM_JUPITER_SYSTEM, "Jupiter"),
            (SATURN_BARYCENTER, GM_SATURN_SYSTEM, "Saturn"),
        ] {
            if eph.state(id, tdb0).is_ok() {
                planets.push((id, gm));
            } else {
                warnings.push(format!(
                    "the kernels lack {name}'s system barycentre (NAIF {id}): its gravitational delay is left out (ps; more within a degree of {name})"
                ));
            }
        }
        let skies = job
            .stations
            .iter()
            .zip(&sites)
            .map(|(s, site)| match site {
                Some(Site::Earth(itrf)) => {
                    let (sky, w) = LocalSky::new(itrf, &s.weather, cfg.troposphere);
                    if let Some(w) = w {
                        warnings.push(format!("station {}: {w}", s.name));
                    }
                    Some(sky)
                }
                _ => None,
            })
            .collect();
        let model = DelayModel {
            eph,
            eop,
            eop_offset: cfg.eop_offset,
            moon,
            lunar_scale: match cfg.lunar_coordinates {
                crate::job::LunarScale::Tdb => 0.0,
                crate::job::LunarScale::Proper => super::relativity::L_B,
            },
            source,
            sites,
            planets,
            earth_stations,
            switches,
            subdaily_eop: cfg.subdaily_eop,
            celestial_pole_offsets: cfg.celestial_pole_offsets,
            lunar_tide: cfg.lunar_tide,
            axes,
            skies,
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
        self.epoch_with_eop_offset(g, EopValues::default())
    }

    /// [`DelayModel::epoch`] with `extra` added to the Earth orientation
    /// (on top of the job's `model.eop_offset`): `emcorr solve`'s trial
    /// EOP, without another model. Polar motion and UT1−UTC move the
    /// stations' GCRS positions (and the pole tide, when there is a table).
    pub fn epoch_with_eop_offset(
        &self,
        g: UtcTime,
        extra: EopValues,
    ) -> Result<EpochContext, ModelError> {
        let tt = utc_to_tt(g);
        let dtdb = tdb_minus_tt_s(tt);
        let tdb = tt.add_seconds(dtdb);
        // The daily table's values plus, by default, the sub-daily ocean-tide
        // and libration terms (IERS 2010 §5.5.1: (x_p, y_p) = (x, y)_IERS +
        // (Δx, Δy)_tidal + (Δx, Δy)_libration; UT1 likewise, §5.5.3). They reach
        // the polar-motion matrix, the ERA of every station event (through
        // UT1 − TT) and the pole tide. A solve's trial EOP offsets are added
        // last (`eop_offset` plus this call's `extra`).
        let shift = |v: EopValues| EopValues {
            xp_rad: v.xp_rad + self.eop_offset.xp_rad + extra.xp_rad,
            yp_rad: v.yp_rad + self.eop_offset.yp_rad + extra.yp_rad,
            dut1_s: v.dut1_s + self.eop_offset.dut1_s + extra.dut1_s,
            dx_rad: if self.celestial_pole_offsets {
                v.dx_rad
            } else {
                0.0
            },
            dy_rad: if self.celestial_pole_offsets {
                v.dy_rad
            } else {
                0.0
            },
        };
        let eop = self.eop.as_ref().map(|e| e.at(g)).transpose()?.map(|v| {
            shift(if self.subdaily_eop {
                super::subdaily_eop::add_to(v, tt)
            } else {
                v
            })
        });
        let orient = EarthOrientation::new(
            tt,
            eop.unwrap_or_else(|| shift(EopValues::default())),
            tai_minus_utc_s(g),
        );
        let origin = self.eph.origin(tdb)?;
        let earth = self.eph.state_from(EARTH, tdb, &origin)?;
        let mut bodies = vec![
            Body {
                naif_id: SUN,
                gm: GM_SUN,
                state: self.eph.state_from(SUN, tdb, &origin)?,
                is_earth: false,
            },
            Body {
                naif_id: MOON,
                gm: GM_MOON,
                state: self.eph.state_from(MOON, tdb, &origin)?,
                is_earth: false,
            },
            Body {
                naif_id: EARTH,
                gm: GM_EARTH,
                state: earth,
                is_earth: true,
            },
        ];
        for &(naif_id, gm) in &self.planets {
            bodies.push(Body {
                naif_id,
                gm,
                state: self.eph.state_from(naif_id, tdb, &origin)?,
                is_earth: false,
            });
        }
        // Earth stations at this epoch: the Sun and Moon for the solid tide
        // are the states just computed (geometric, not light-time
        // corrected: the Moon moves 1 km in the 1.3 s, 3e-6 of its
        // distance, well below the tide model's own accuracy).
        let sites = if self.earth_stations.iter().any(|e| e.is_some()) {
            let geo = EpochGeophysics::new(
                self.switches,
                tt,
                &orient,
                &sub(&bodies[0].state.pos_m, &earth.pos_m),
                &sub(&bodies[1].state.pos_m, &earth.pos_m),
                eop,
            );
            self.sites
                .iter()
                .zip(&self.earth_stations)
                .map(|(site, es)| match es {
                    Some(es) => Some(Site::Earth(geo.position_m(es))),
                    None => *site,
                })
                .collect()
        } else {
            self.sites.clone()
        };
        Ok(EpochContext {
            utc: g,
            tt,
            tdb,
            tdb_minus_tt_s: dtdb,
            origin,
            earth,
            bodies,
            orient,
            sites,
        })
    }

    pub(crate) fn frames<'a>(&'a self, ctx: &'a EpochContext) -> SiteFrames<'a> {
        SiteFrames {
            eph: &self.eph,
            moon: self.moon,
            lunar_scale: self.lunar_scale,
            earth: &ctx.orient,
            lunar_tide: self.lunar_tide,
            bodies: &ctx.bodies,
            tt_g: ctx.tt,
            tdb_g: ctx.tdb,
            origin: &ctx.origin,
        }
    }

    /// The geometric delay of job station `i` at the context's g.
    pub fn station(&self, ctx: &EpochContext, i: usize) -> Result<StationGeometry, ModelError> {
        let site = ctx.sites[i]
            .ok_or_else(|| ModelError::Input(format!("station index {i} has no position")))?;
        self.station_at(ctx, i, &site, &self.source)
    }

    /// The geometric delay of a site at the context's g for a source other
    /// than the model's own (a station or a lander moved by a trial
    /// position: `emcorr solve`'s partial derivatives), with this model's
    /// ephemerides and Earth orientation; job station `i`'s antenna axis
    /// and troposphere.
    pub fn station_at(
        &self,
        ctx: &EpochContext,
        i: usize,
        site: &Site,
        source: &SourceGeometry,
    ) -> Result<StationGeometry, ModelError> {
        let site = *site;
        let frames = self.frames(ctx);
        let geo = ctx.earth.pos_m;
        // `dir`: BCRS direction from the station at reception to the source
        // (near field: the source at emission).
        let (dt, st, dir) = match source {
            SourceGeometry::Far(k) => {
                let (dt, st) = far_field::solve(&frames, k, &site, &geo, &ctx.bodies)?;
                (dt, st, *k)
            }
            SourceGeometry::Near(src) => {
                let (te, s) = near_field::emission(&frames, &self.eph, src, &geo, &ctx.bodies)?;
                let (dt, st) = near_field::reception(&frames, &site, te, &s, &ctx.bodies)?;
                (dt, st, unit(&sub(&s.pos_m, &st.pos_m)))
            }
        };
        // TDB interval → TT interval of the two events (module docs).
        let t_i = ctx.tdb.add_seconds(dt);
        let earth_i = self.eph.state_from(EARTH, t_i, &ctx.origin)?;
        let dtdb_i = tdb_minus_tt_s(ctx.tt.add_seconds(dt));
        let mut delay_s = dt
            - (dtdb_i - ctx.tdb_minus_tt_s)
            - dot(&earth_i.vel_m_s, &sub(&st.pos_m, &earth_i.pos_m)) / (C * C);
        let axis_s = match (self.axes[i], site) {
            (Some(ax), Site::Earth(x)) => {
                // Apparent direction: annual aberration (first order), then
                // to the ITRS at the reception.
                let apparent = unit(&axpy(&dir, 1.0 / C, &st.parent_vel_m_s));
                let s_itrs = ctx.orient.gcrs_to_itrs(ctx.tt.add_seconds(dt), &apparent);
                ax.delay_s(&x, &s_itrs)
            }
            _ => 0.0,
        };
        delay_s += axis_s;
        let sky = self.skies[i].as_ref().map(|local| {
            let tt_i = ctx.tt.add_seconds(dt);
            let d = troposphere::apparent_itrs(
                &dir,
                &st.parent_vel_m_s,
                &st.local_m,
                &ctx.orient,
                tt_i,
            );
            local.sky(&d, troposphere::mjd(tt_i))
        });
        if let Some(s) = &sky {
            delay_s += s.dry_delay_s + s.wet_delay_s;
        }
        let at_g = frames.site(&site, 0.0)?;
        let geocentric_m = match site {
            Site::Earth(_) => at_g.local_m,
            Site::Moon(_) => add(&sub(&at_g.parent_pos_m, &geo), &at_g.local_m),
        };
        Ok(StationGeometry {
            delay_s,
            geocentric_m,
            sky,
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
        let site = ctx.sites[i]
            .ok_or_else(|| ModelError::Input(format!("station index {i} has no position")))?;
        let frames = self.frames(ctx);
        let geo_at = |dt: f64| -> Result<V3, ModelError> {
            let s = frames.site(&site, dt)?;
            let e = self
                .eph
                .state_from(EARTH, ctx.tdb.add_seconds(dt), &ctx.origin)?;
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

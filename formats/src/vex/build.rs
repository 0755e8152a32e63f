//! From statements ([`VexText`]) to the typed model ([`Vex`]): refs resolved
//! (VEX 1.5 definition, "ref Construct": `$GLOBAL` refs apply everywhere,
//! `$STATION` def refs to that station, `$MODE` refs to the stations they are
//! qualified with, or to all; several refs to one block concatenate), links
//! followed (`$FREQ` → `$BBC` → `$IF`; `$FREQ` ← `$DATASTREAMS`/`$THREADS`),
//! values converted to SI.
//!
//! Everything referenced is read eagerly, so a bad value anywhere the model
//! uses fails at load time with its line. Defs nothing refers to are not read.

use std::collections::{HashMap, HashSet};

use super::error::{Note, Origin, VexError, VexErrorKind};
use super::lex::{Body, Def, Field, Statement, VexText};
use super::model::*;
use super::units::{self, Dim};

/// Block names of VEX 1.5 and 2.0 (and DiFX's `$THREADS`); others get a note.
const KNOWN_BLOCKS: &[&str] = &[
    "GLOBAL",
    "STATION",
    "MODE",
    "SCHED",
    "ANTENNA",
    "BBC",
    "BITSTREAMS",
    "CLOCK",
    "CORR",
    "DAS",
    "DATASTREAMS",
    "EOP",
    "EXPER",
    "EXTENSIONS",
    "FREQ",
    "HEAD_POS",
    "IF",
    "PASS_ORDER",
    "PHASE_CAL_DETECT",
    "PROCEDURES",
    "ROLL",
    "SCHEDULING_PARAMS",
    "SEFD",
    "SITE",
    "SOURCE",
    "TAPELOG_OBS",
    "TRACKS",
    "THREADS",
    "ANTENNA_CAL_OBS",
    "CABLE_CAL_OBS",
    "CLOCK_OBS",
    "SCHED_OBS",
    "PHASE_CAL_OBS",
    "TSYS_OBS",
    "WX_OBS",
];

// The statements of each block the VEX 1.5/2.0 parameter tables define;
// anything else in a def the model reads gets a note.
const SITE_KW: &[&str] = &[
    "site_type",
    "site_name",
    "site_ID",
    "site_position",
    "site_position_epoch",
    "site_position_ref",
    "site_velocity",
    "horizon_map_az",
    "horizon_map_el",
    "zen_atmos",
    "ocean_load_vert",
    "ocean_load_horiz",
    "occupation_code",
    "inclination",
    "eccentricity",
    "arg_perigee",
    "ascending_node",
    "mean_anomaly",
    "semi-major_axis",
    "mean_motion",
    "orbit_epoch",
];
const ANTENNA_KW: &[&str] = &[
    "antenna_diam",
    "antenna_name",
    "axis_type",
    "axis_offset",
    "antenna_motion",
    "pointing_sector",
    "axis_orientation",
    "nasmyth",
];
const DAS_KW: &[&str] = &[
    "record_transport_type",
    "electronics_rack_type",
    "number_drives",
    "headstack",
    "record_density",
    "tape_length",
    "recording_system_ID",
    "tape_motion",
    "tape_control",
    "record_transport_name",
    "electronics_rack_name",
    "equip",
    "composite_equip",
    "equip_set",
    "equip_info",
    "connection",
    "record_method",
    "record_control",
];
const CLOCK_KW: &[&str] = &["clock_early"];
const SOURCE_KW: &[&str] = &[
    "source_type",
    "source_name",
    "IAU_name",
    "ra",
    "dec",
    "ref_coord_frame",
    "source_position_ref",
    "ra_rate",
    "dec_rate",
    "source_position_epoch",
    "velocity_wrt_LSR",
    "source_model",
    "inclination",
    "eccentricity",
    "arg_perigee",
    "ascending_node",
    "mean_anomaly",
    "semi-major_axis",
    "mean_motion",
    "orbit_epoch",
    "bsp_file_name",
    "bsp_object_id",
    "tle0",
    "tle1",
    "tle2",
    "datum",
    "vector",
];
const FREQ_KW: &[&str] = &[
    "chan_def",
    "sample_rate",
    "bits_per_sample",
    "switching_cycle",
];
const BBC_KW: &[&str] = &["BBC_assign"];
const IF_KW: &[&str] = &[
    "if_def",
    "receiver_name",
    "sub_lo_frequencies",
    "sub_lo_sidebands",
    "switched_power",
];
const DATASTREAMS_KW: &[&str] = &["datastream", "thread", "channel", "merged_datastream"];
const THREADS_KW: &[&str] = &["format", "thread", "channel"];
const TRACKS_KW: &[&str] = &[
    "track_frame_format",
    "fanout_def",
    "fanin_def",
    "bits_per_sample",
    "sample_rate",
    "data_modulation",
    "VLBA_frmtr_sys_trk",
    "VLBA_trnsprt_sys_trk",
    "S2_recording_mode",
    "S2_data_source",
];
const BITSTREAMS_KW: &[&str] = &["stream_def", "stream_sample_rate", "stream_label"];
const EXPER_KW: &[&str] = &[
    "exper_num",
    "exper_name",
    "exper_description",
    "exper_nominal_start",
    "exper_nominal_stop",
    "PI_name",
    "PI_email",
    "contact_name",
    "contact_email",
    "scheduler_name",
    "scheduler_email",
    "target_correlator",
    "scheduling_software",
    "VEX_file_writer",
];
const EOP_KW: &[&str] = &[
    "TAI-UTC",
    "A1-TAI",
    "eop_ref_epoch",
    "num_eop_points",
    "eop_interval",
    "ut1-utc",
    "x_wobble",
    "y_wobble",
    "nut_ref_epoch",
    "num_nut_points",
    "nut_interval",
    "delta_psi",
    "delta_eps",
    "nut_model",
    "eop_origin",
    "nut_origin",
    "delta_x_nut",
    "delta_y_nut",
];
const SCAN_KW: &[&str] = &[
    "start",
    "mode",
    "source",
    "station",
    "data_transfer",
    "intent",
    "pointing_offset",
];

/// One statement and where it is.
#[derive(Clone, Copy)]
struct Loc<'a> {
    block: &'a str,
    def: Option<&'a str>,
    st: &'a Statement,
}

impl<'a> Loc<'a> {
    fn fields(&self) -> &'a [Field] {
        match &self.st.body {
            Body::Param { fields, .. } => fields,
            _ => &[],
        }
    }

    fn keyword(&self) -> &'a str {
        match &self.st.body {
            Body::Param { keyword, .. } => keyword,
            _ => "",
        }
    }

    fn origin(&self) -> Origin {
        Origin::new(self.st.line, self.block, self.def)
    }

    fn field(&self, i: usize) -> Option<&'a Field> {
        self.fields().get(i).filter(|f| !f.is_empty())
    }
}

/// One `ref` and where it is.
#[derive(Clone, Copy)]
struct RefItem<'a> {
    loc: Loc<'a>,
    block: &'a str,
    def: &'a str,
    qualifiers: &'a [String],
    external: bool,
}

fn strip_link(s: &str) -> String {
    s.strip_prefix('&').unwrap_or(s).to_string()
}

fn sideband(s: &str) -> Result<Sideband, String> {
    match s {
        "U" | "u" => Ok(Sideband::Upper),
        "L" | "l" => Ok(Sideband::Lower),
        _ => Err("expected U or L".into()),
    }
}

fn polarisation(s: &str) -> Result<Polarisation, String> {
    Ok(match s {
        "R" => Polarisation::R,
        "L" => Polarisation::L,
        "X" => Polarisation::X,
        "Y" => Polarisation::Y,
        "H" => Polarisation::H,
        "V" => Polarisation::V,
        _ => return Err("expected R, L, X, Y, H or V".into()),
    })
}

fn flag(s: &str) -> Result<bool, String> {
    match s.to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Ok(true),
        "0" | "false" | "no" | "off" => Ok(false),
        _ => Err("expected 1 or 0".into()),
    }
}

struct Builder<'a> {
    t: &'a VexText,
    version: VexVersion,
    notes: Vec<Note>,
    noted: HashSet<(usize, String)>,
}

type R<T> = Result<T, VexError>;

impl<'a> Builder<'a> {
    fn note(&mut self, line: usize, text: String) {
        if self.noted.insert((line, text.clone())) {
            self.notes.push(Note { line, text });
        }
    }

    fn err(&self, loc: &Loc, kind: VexErrorKind, msg: impl Into<String>) -> VexError {
        VexError::new(&self.t.file, loc.st.line, kind, msg).at(
            Some(loc.block.to_string()),
            loc.def.map(str::to_string),
            Some(loc.st.keyword()),
        )
    }

    fn def_err(
        &self,
        block: &str,
        def: &Def,
        kind: VexErrorKind,
        msg: impl Into<String>,
    ) -> VexError {
        VexError::new(&self.t.file, def.line, kind, msg).at(
            Some(block.to_string()),
            Some(def.name.clone()),
            None,
        )
    }

    /// A required field, converted by `f`.
    fn value<T>(
        &self,
        loc: &Loc,
        i: usize,
        name: &str,
        f: impl Fn(&str) -> Result<T, String>,
    ) -> R<T> {
        match loc.field(i) {
            None => Err(self.err(
                loc,
                VexErrorKind::Value,
                format!("{name} (field {}) is missing", i + 1),
            )),
            Some(fl) => f(&fl.text).map_err(|why| {
                self.err(
                    loc,
                    VexErrorKind::Value,
                    format!("{name} {:?}: {why}", fl.text),
                )
            }),
        }
    }

    /// An optional field (absent or empty: `None`), converted by `f`.
    fn opt_value<T>(
        &self,
        loc: &Loc,
        i: usize,
        name: &str,
        f: impl Fn(&str) -> Result<T, String>,
    ) -> R<Option<T>> {
        match loc.field(i) {
            None => Ok(None),
            Some(_) => self.value(loc, i, name, f).map(Some),
        }
    }

    fn text(&self, loc: &Loc, i: usize, name: &str) -> R<String> {
        self.value(loc, i, name, |s| Ok(s.to_string()))
    }

    fn opt_text(loc: &Loc, i: usize) -> Option<String> {
        loc.field(i).map(|f| f.text.clone())
    }

    fn link(&self, loc: &Loc, i: usize, name: &str) -> R<String> {
        self.value(loc, i, name, |s| Ok(strip_link(s)))
    }

    fn opt_link(loc: &Loc, i: usize) -> Option<String> {
        loc.field(i).map(|f| strip_link(&f.text))
    }

    fn need_fields(&self, loc: &Loc, n: usize, layout: &str) -> R<()> {
        let have = loc.fields().len();
        if have < n {
            return Err(self.err(
                loc,
                VexErrorKind::Value,
                format!("needs at least {n} fields ({layout}), found {have}"),
            ));
        }
        Ok(())
    }

    /// The parameter statements of `defs` (all of block `block`), noting
    /// external refs, literal text and statements the block does not define.
    fn locs(&mut self, block: &'a str, defs: &[&'a Def], known: &[&str]) -> Vec<Loc<'a>> {
        let mut out = Vec::new();
        for d in defs {
            for st in &d.statements {
                let loc = Loc {
                    block,
                    def: Some(&d.name),
                    st,
                };
                match &st.body {
                    Body::Param { keyword, .. } => {
                        if !known.contains(&keyword.as_str()) {
                            self.note(
                                st.line,
                                format!(
                                    "${block} def {}: unknown statement {keyword}; skipped",
                                    d.name
                                ),
                            );
                        }
                        out.push(loc);
                    }
                    Body::Ref {
                        external: Some(f),
                        def,
                        ..
                    } => self.note(
                        st.line,
                        format!(
                            "${block} def {}: external ref to {f} (def {def}) not followed",
                            d.name
                        ),
                    ),
                    Body::Ref { .. } => self.note(
                        st.line,
                        format!(
                            "${block} def {}: a ref inside a primitive block; skipped",
                            d.name
                        ),
                    ),
                    Body::Literal { .. } => {}
                }
            }
        }
        out
    }

    /// The first statement `kw` of `locs`; a note if there are more.
    fn one(&mut self, locs: &[Loc<'a>], kw: &str) -> Option<Loc<'a>> {
        let mut it = locs.iter().filter(|l| l.keyword() == kw);
        let first = *it.next()?;
        for again in it {
            let same = again.fields() == first.fields();
            if !same {
                self.note(
                    again.st.line,
                    format!(
                        "{kw} given again; the one on line {} is used",
                        first.st.line
                    ),
                );
            }
        }
        Some(first)
    }

    fn all<'l>(locs: &'l [Loc<'a>], kw: &'l str) -> impl Iterator<Item = Loc<'a>> + 'l {
        locs.iter().filter(move |l| l.keyword() == kw).copied()
    }

    /// The refs in `def` (of block `block`), noting anything else.
    fn refs_of(
        &mut self,
        block: &'a str,
        def: Option<&'a str>,
        sts: &'a [Statement],
    ) -> Vec<RefItem<'a>> {
        let mut out = Vec::new();
        for st in sts {
            let loc = Loc { block, def, st };
            match &st.body {
                Body::Ref {
                    block: b,
                    def: d,
                    qualifiers,
                    external,
                } => out.push(RefItem {
                    loc,
                    block: b,
                    def: d,
                    qualifiers,
                    external: external.is_some(),
                }),
                Body::Param { keyword, .. } => {
                    let place = def.map_or(String::new(), |d| format!(" def {d}"));
                    self.note(
                        st.line,
                        format!("${block}{place}: {keyword}: only refs belong here; skipped"),
                    )
                }
                Body::Literal { .. } => {}
            }
        }
        out
    }

    /// The defs of block `block` that `refs` select for `station` (all
    /// unqualified refs, and qualified ones naming the station), each once.
    fn resolve(
        &mut self,
        refs: &[RefItem<'a>],
        block: &'a str,
        station: Option<&str>,
    ) -> R<Vec<&'a Def>> {
        let mut out: Vec<&'a Def> = Vec::new();
        for r in refs.iter().filter(|r| r.block == block) {
            if r.external {
                self.note(
                    r.loc.st.line,
                    format!("external ref ${block} = {} not followed", r.def),
                );
                continue;
            }
            if let Some(s) = station {
                if !r.qualifiers.is_empty() && !r.qualifiers.iter().any(|q| q == s) {
                    continue;
                }
            }
            let Some(d) = self.t.find_def(block, r.def) else {
                return Err(self.err(
                    &r.loc,
                    VexErrorKind::Reference,
                    format!("no def {} in ${block}", r.def),
                ));
            };
            if !out.iter().any(|x| std::ptr::eq(*x, d)) {
                out.push(d);
            }
        }
        Ok(out)
    }

    fn all_defs(&self, block: &str) -> Vec<&'a Def> {
        self.t
            .blocks
            .iter()
            .filter(|b| b.name == block)
            .flat_map(|b| b.defs.iter())
            .collect()
    }

    // ---- $EXPER ----

    fn exper(&mut self, global: &[RefItem<'a>]) -> R<Option<Exper>> {
        let mut defs = self.resolve(global, "EXPER", None)?;
        if defs.is_empty() {
            let all = self.all_defs("EXPER");
            if all.len() == 1 {
                defs = all;
            }
        }
        let Some(d) = defs.first().copied() else {
            return Ok(None);
        };
        if defs.len() > 1 {
            self.note(
                d.line,
                "more than one $EXPER def referenced; the first is used".into(),
            );
        }
        let locs = self.locs("EXPER", &[d], EXPER_KW);
        let txt = |b: &mut Self, kw: &str| b.one(&locs, kw).and_then(|l| Self::opt_text(&l, 0));
        let name_loc = self.one(&locs, "exper_name");
        let mut e = Exper {
            def: d.name.clone(),
            name: name_loc.and_then(|l| Self::opt_text(&l, 0)),
            segment: name_loc.and_then(|l| Self::opt_text(&l, 1)),
            number: txt(self, "exper_num"),
            description: txt(self, "exper_description"),
            pi_name: txt(self, "PI_name"),
            pi_email: txt(self, "PI_email"),
            contact_name: txt(self, "contact_name"),
            contact_email: txt(self, "contact_email"),
            target_correlator: txt(self, "target_correlator"),
            nominal_start: None,
            nominal_stop: None,
            origin: Origin::new(d.line, "EXPER", Some(&d.name)),
        };
        if let Some(l) = self.one(&locs, "exper_nominal_start") {
            e.nominal_start = Some(self.value(&l, 0, "epoch", units::epoch)?);
        }
        if let Some(l) = self.one(&locs, "exper_nominal_stop") {
            e.nominal_stop = Some(self.value(&l, 0, "epoch", units::epoch)?);
        }
        Ok(Some(e))
    }

    // ---- $STATION and what it refers to ----

    fn station(&mut self, d: &'a Def, global: &[RefItem<'a>]) -> R<Station> {
        let mut refs = global.to_vec();
        refs.extend(self.refs_of("STATION", Some(&d.name), &d.statements));
        let code = d.name.as_str();

        let site_defs = self.resolve(&refs, "SITE", Some(code))?;
        if site_defs.is_empty() {
            return Err(self.def_err(
                "STATION",
                d,
                VexErrorKind::Reference,
                "no ref $SITE (every station needs one)",
            ));
        }
        let site = self.site(&site_defs)?;

        let ant_defs = self.resolve(&refs, "ANTENNA", Some(code))?;
        let antenna = if ant_defs.is_empty() {
            None
        } else {
            Some(self.antenna(&ant_defs)?)
        };

        let das_defs = self.resolve(&refs, "DAS", Some(code))?;
        let das = if das_defs.is_empty() {
            None
        } else {
            Some(self.das(&das_defs))
        };

        let clock_defs = self.resolve(&refs, "CLOCK", Some(code))?;
        let mut clock = Vec::new();
        for l in self.locs("CLOCK", &clock_defs, CLOCK_KW) {
            if l.keyword() == "clock_early" {
                clock.push(self.clock_early(&l)?);
            }
        }
        Ok(Station {
            code: code.to_string(),
            site,
            antenna,
            das,
            clock,
            origin: Origin::new(d.line, "STATION", Some(code)),
        })
    }

    fn site(&mut self, defs: &[&'a Def]) -> R<Site> {
        let locs = self.locs("SITE", defs, SITE_KW);
        let mut s = Site {
            site_type: self
                .one(&locs, "site_type")
                .and_then(|l| Self::opt_text(&l, 0)),
            name: self
                .one(&locs, "site_name")
                .and_then(|l| Self::opt_text(&l, 0)),
            id: self
                .one(&locs, "site_ID")
                .and_then(|l| Self::opt_text(&l, 0)),
            position_m: None,
            position_epoch: None,
            velocity_m_per_yr: None,
            origin: first_origin(defs, "SITE"),
        };
        if let Some(l) = self.one(&locs, "site_position") {
            let mut p = [0.0; 3];
            for (i, (v, n)) in p.iter_mut().zip(["x", "y", "z"]).enumerate() {
                *v = self.value(&l, i, n, |t| units::quantity(t, Dim::Length))?;
            }
            s.position_m = Some(p);
        }
        if let Some(l) = self.one(&locs, "site_velocity") {
            let mut p = [0.0; 3];
            for (i, (v, n)) in p.iter_mut().zip(["x", "y", "z"]).enumerate() {
                *v = self.value(&l, i, n, units::velocity_m_per_yr)?;
            }
            s.velocity_m_per_yr = Some(p);
        }
        if let Some(l) = self.one(&locs, "site_position_epoch") {
            s.position_epoch = Some(self.value(&l, 0, "epoch", units::epoch)?);
        }
        Ok(s)
    }

    fn antenna(&mut self, defs: &[&'a Def]) -> R<Antenna> {
        let locs = self.locs("ANTENNA", defs, ANTENNA_KW);
        let mut a = Antenna {
            axis_type: None,
            axis_offset_m: None,
            diameter_m: None,
            origin: first_origin(defs, "ANTENNA"),
        };
        if let Some(l) = self.one(&locs, "axis_type") {
            let f: Vec<&str> = l.fields().iter().map(|f| f.text.as_str()).collect();
            a.axis_type = Some(match f.as_slice() {
                ["az", "el"] => AxisType::AzEl,
                ["ha", "dec"] => AxisType::HaDec,
                ["x", "yew"] => AxisType::XYew,
                ["x", "yns"] => AxisType::XYns,
                other => AxisType::Other(other.join(":")),
            });
        }
        if let Some(l) = self.one(&locs, "axis_offset") {
            // VEX 1.5: one length; VEX 2.0 may name the axis first.
            let last = l.fields().len().saturating_sub(1);
            a.axis_offset_m =
                Some(self.value(&l, last, "axis_offset", |t| units::quantity(t, Dim::Length))?);
        }
        if let Some(l) = self.one(&locs, "antenna_diam") {
            a.diameter_m =
                Some(self.value(&l, 0, "antenna_diam", |t| units::quantity(t, Dim::Length))?);
        }
        Ok(a)
    }

    fn das(&mut self, defs: &[&'a Def]) -> Das {
        let locs = self.locs("DAS", defs, DAS_KW);
        let equipment = Self::all(&locs, "equip")
            .filter_map(|l| {
                Some(Equipment {
                    kind: Self::opt_text(&l, 0)?,
                    device: Self::opt_text(&l, 1)?,
                    link: Self::opt_link(&l, 2),
                    label: Self::opt_text(&l, 3),
                })
            })
            .collect();
        Das {
            record_transport_type: self
                .one(&locs, "record_transport_type")
                .and_then(|l| Self::opt_text(&l, 0)),
            electronics_rack_type: self
                .one(&locs, "electronics_rack_type")
                .and_then(|l| Self::opt_text(&l, 0)),
            recording_system_id: self
                .one(&locs, "recording_system_ID")
                .and_then(|l| Self::opt_text(&l, 0)),
            equipment,
            origin: first_origin(defs, "DAS"),
        }
    }

    fn clock_early(&self, l: &Loc) -> R<ClockEntry> {
        Ok(ClockEntry {
            valid_from: self.opt_value(l, 0, "valid_from", units::epoch)?,
            offset_s: self.value(l, 1, "offset", |t| units::quantity(t, Dim::Time))?,
            epoch: self.opt_value(l, 2, "epoch", units::epoch)?,
            rate_s_per_s: self.opt_value(l, 3, "rate", units::time_rate)?,
            origin: l.origin(),
        })
    }

    // ---- $SOURCE ----

    fn source(&mut self, d: &'a Def) -> R<Source> {
        let locs = self.locs("SOURCE", &[d], SOURCE_KW);
        let mut s = Source {
            key: d.name.clone(),
            name: self
                .one(&locs, "source_name")
                .and_then(|l| Self::opt_text(&l, 0))
                .unwrap_or_else(|| d.name.clone()),
            iau_name: self
                .one(&locs, "IAU_name")
                .and_then(|l| Self::opt_text(&l, 0)),
            source_type: self
                .one(&locs, "source_type")
                .map(|l| {
                    l.fields()
                        .iter()
                        .filter(|f| !f.is_empty())
                        .map(|f| f.text.clone())
                        .collect()
                })
                .unwrap_or_default(),
            ra_rad: None,
            dec_rad: None,
            ref_coord_frame: self
                .one(&locs, "ref_coord_frame")
                .and_then(|l| Self::opt_text(&l, 0)),
            position_epoch: None,
            bsp_file_name: self
                .one(&locs, "bsp_file_name")
                .and_then(|l| Self::opt_text(&l, 0)),
            bsp_object_id: self
                .one(&locs, "bsp_object_id")
                .and_then(|l| Self::opt_text(&l, 0)),
            origin: Origin::new(d.line, "SOURCE", Some(&d.name)),
        };
        let ra = self.one(&locs, "ra");
        let dec = self.one(&locs, "dec");
        match (ra, dec) {
            (Some(r), Some(de)) => {
                s.ra_rad = Some(self.value(&r, 0, "ra", units::ra)?);
                s.dec_rad = Some(self.value(&de, 0, "dec", units::dec)?);
            }
            (Some(l), None) | (None, Some(l)) => {
                return Err(self.err(&l, VexErrorKind::Value, "ra and dec must be given together"));
            }
            (None, None) => {}
        }
        if let Some(l) = self.one(&locs, "source_position_epoch") {
            s.position_epoch = Some(self.value(&l, 0, "epoch", units::epoch)?);
        }
        Ok(s)
    }

    // ---- $MODE and the setups ----

    fn mode(
        &mut self,
        d: &'a Def,
        global: &[RefItem<'a>],
        stations: &[(Station, Vec<RefItem<'a>>)],
    ) -> R<Mode> {
        let mode_refs = self.refs_of("MODE", Some(&d.name), &d.statements);
        for r in &mode_refs {
            for q in r.qualifiers {
                if !stations.iter().any(|(s, _)| &s.code == q) {
                    self.note(
                        r.loc.st.line,
                        format!(
                            "$MODE def {}: ref ${} = {}: {q} is not a $STATION def",
                            d.name, r.block, r.def
                        ),
                    );
                }
            }
        }
        let mut setups = Vec::new();
        for (st, st_refs) in stations {
            let mut refs = global.to_vec();
            refs.extend(st_refs.iter().copied());
            refs.extend(mode_refs.iter().copied());
            if let Some(s) = self.setup(d, &st.code, &refs)? {
                setups.push(s);
            }
        }
        Ok(Mode {
            name: d.name.clone(),
            setups,
            origin: Origin::new(d.line, "MODE", Some(&d.name)),
        })
    }

    fn setup(&mut self, mode: &'a Def, station: &str, refs: &[RefItem<'a>]) -> R<Option<Setup>> {
        let freq_defs = self.resolve(refs, "FREQ", Some(station))?;
        if freq_defs.is_empty() {
            return Ok(None);
        }
        let freq = self.locs("FREQ", &freq_defs, FREQ_KW);
        let mut channels = Vec::new();
        for l in Self::all(&freq, "chan_def") {
            channels.push(self.chan_def(&l)?);
        }
        let mut sample_rate_hz = match self.one(&freq, "sample_rate") {
            Some(l) => Some(self.value(&l, 0, "sample_rate", |t| {
                units::quantity(t, Dim::SampleRate)
            })?),
            None => None,
        };

        // $BBC and $IF.
        let bbc_defs = self.resolve(refs, "BBC", Some(station))?;
        let if_defs = self.resolve(refs, "IF", Some(station))?;
        let bbc_locs = self.locs("BBC", &bbc_defs, BBC_KW);
        let if_locs = self.locs("IF", &if_defs, IF_KW);
        let mut ifs: HashMap<String, IfDef> = HashMap::new();
        for l in Self::all(&if_locs, "if_def") {
            let f = self.if_def(&l)?;
            ifs.entry(f.if_id.clone()).or_insert(f);
        }
        let mut bbcs: HashMap<String, (BbcAssign, Loc<'a>)> = HashMap::new();
        for l in Self::all(&bbc_locs, "BBC_assign") {
            self.need_fields(&l, 3, "&bbc_id : physical_bbc : &if_id")?;
            let id = self.link(&l, 0, "bbc_id")?;
            let a = BbcAssign {
                physical: self.text(&l, 1, "physical_bbc")?,
                if_id: self.link(&l, 2, "if_id")?,
            };
            if !if_defs.is_empty() && !ifs.contains_key(&a.if_id) {
                return Err(self.err(
                    &l,
                    VexErrorKind::Reference,
                    format!(
                        "IF link &{} is not an if_def of $IF def {}",
                        a.if_id,
                        names(&if_defs)
                    ),
                ));
            }
            bbcs.entry(id).or_insert((a, l));
        }
        for (ch, l) in channels.iter_mut() {
            if bbc_defs.is_empty() {
                continue;
            }
            let Some((a, _)) = bbcs.get(&ch.bbc_id) else {
                return Err(self.err(
                    l,
                    VexErrorKind::Reference,
                    format!(
                        "BBC link &{} is not assigned in $BBC def {}",
                        ch.bbc_id,
                        names(&bbc_defs)
                    ),
                ));
            };
            ch.if_def = ifs.get(&a.if_id).cloned();
            ch.bbc = Some(a.clone());
        }
        let mut channels: Vec<Channel> = channels.into_iter().map(|(c, _)| c).collect();

        // $TRACKS (VEX 1.5) and $BITSTREAMS (VEX 2.0, Mark 5B).
        let tracks_defs = self.resolve(refs, "TRACKS", Some(station))?;
        let tracks = self.locs("TRACKS", &tracks_defs, TRACKS_KW);
        let track_frame_format = self
            .one(&tracks, "track_frame_format")
            .and_then(|l| Self::opt_text(&l, 0));
        let mut bit_kinds: HashMap<String, HashSet<String>> = HashMap::new();
        for l in Self::all(&tracks, "fanout_def") {
            if let (Some(ch), Some(kind)) = (Self::opt_link(&l, 1), Self::opt_text(&l, 2)) {
                bit_kinds.entry(ch).or_default().insert(kind);
            }
        }
        if sample_rate_hz.is_none() {
            if let Some(l) = self.one(&tracks, "sample_rate") {
                sample_rate_hz = Some(self.value(&l, 0, "sample_rate", |t| {
                    units::quantity(t, Dim::SampleRate)
                })?);
            }
        }
        let bs_defs = self.resolve(refs, "BITSTREAMS", Some(station))?;
        let bitstreams = self.locs("BITSTREAMS", &bs_defs, BITSTREAMS_KW);
        for l in Self::all(&bitstreams, "stream_def") {
            if let (Some(ch), Some(kind)) = (Self::opt_link(&l, 0), Self::opt_text(&l, 1)) {
                bit_kinds.entry(ch).or_default().insert(kind);
            }
        }
        if sample_rate_hz.is_none() {
            if let Some(l) = self.one(&bitstreams, "stream_sample_rate") {
                sample_rate_hz = Some(self.value(&l, 0, "stream_sample_rate", |t| {
                    units::quantity(t, Dim::SampleRate)
                })?);
            }
        }
        let tracks_bits = bit_kinds
            .values()
            .map(|k| if k.contains("mag") { 2 } else { 1 })
            .max();

        // Where channels are recorded: $DATASTREAMS (VEX 2.0), $THREADS (DiFX, VEX 1.5).
        let mut datastreams = Vec::new();
        let mut threads = Vec::new();
        let ds_defs = self.resolve(refs, "DATASTREAMS", Some(station))?;
        if !ds_defs.is_empty() {
            let locs = self.locs("DATASTREAMS", &ds_defs, DATASTREAMS_KW);
            self.datastreams(&locs, &mut channels, &mut datastreams, &mut threads)?;
        }
        let th_defs = self.resolve(refs, "THREADS", Some(station))?;
        if !th_defs.is_empty() {
            let locs = self.locs("THREADS", &th_defs, THREADS_KW);
            self.threads_v15(&locs, &mut channels, &mut datastreams, &mut threads)?;
        }

        Ok(Some(Setup {
            station: station.to_string(),
            sample_rate_hz,
            channels,
            datastreams,
            threads,
            track_frame_format,
            tracks_bits,
            origin: Origin::new(mode.line, "MODE", Some(&mode.name)),
        }))
    }

    /// `chan_def = [&band_id] : sky_freq : net_sb : bandwidth : &chan_id :
    /// &bbc_id : [&phase_cal_id] ...;` — fields 8 on are frequency-switching
    /// states in VEX 1.5; in VEX 2.0 field 8 is the channel name and the
    /// states follow (VEX 2.0 $FREQ table; the nvi-inc VEX 2 grammar).
    fn chan_def(&self, l: &Loc<'a>) -> R<(Channel, Loc<'a>)> {
        self.need_fields(
            l,
            6,
            "band_id : sky_freq : net_sideband : bandwidth : chan_id : bbc_id",
        )?;
        let chan_id = Self::opt_link(l, 4).unwrap_or_default();
        if chan_id.is_empty() && self.version == VexVersion::V1_5 {
            return Err(self.err(
                l,
                VexErrorKind::Value,
                "chan_id (field 5) is missing (required in VEX 1.5)",
            ));
        }
        let bandwidth_hz = self.value(l, 3, "bandwidth", |t| {
            units::quantity(t, Dim::Freq).and_then(|v| {
                if v > 0.0 {
                    Ok(v)
                } else {
                    Err("must be positive".into())
                }
            })
        })?;
        let ch = Channel {
            chan_id,
            band_id: Self::opt_link(l, 0),
            name: if self.version == VexVersion::V2_0 {
                Self::opt_text(l, 7)
            } else {
                None
            },
            sky_freq_hz: self.value(l, 1, "sky_freq", |t| units::quantity(t, Dim::Freq))?,
            sideband: self.value(l, 2, "net_sideband", sideband)?,
            bandwidth_hz,
            bbc_id: self.link(l, 5, "bbc_id")?,
            pcal_id: Self::opt_link(l, 6),
            bbc: None,
            if_def: None,
            record: None,
            origin: l.origin(),
        };
        Ok((ch, *l))
    }

    fn if_def(&self, l: &Loc) -> R<IfDef> {
        self.need_fields(
            l,
            5,
            "&if_id : physical_name : polarisation : lo : sideband",
        )?;
        let pcal = match l.field(5) {
            Some(f) if f.text.eq_ignore_ascii_case("off") => None,
            Some(_) => {
                let v = self.value(l, 5, "phase_cal_interval", |t| {
                    units::quantity(t, Dim::Freq)
                })?;
                (v != 0.0).then_some(v)
            }
            None => None,
        };
        Ok(IfDef {
            if_id: self.link(l, 0, "if_id")?,
            physical_name: Self::opt_text(l, 1),
            polarisation: self.value(l, 2, "polarisation", polarisation)?,
            lo_freq_hz: self.value(l, 3, "lo", |t| units::quantity(t, Dim::Freq))?,
            sideband: self.value(l, 4, "sideband", sideband)?,
            pcal_interval_hz: pcal,
            pcal_base_hz: self
                .opt_value(l, 6, "phase_cal_base", |t| units::quantity(t, Dim::Freq))?,
            sample_rate_hz: self
                .opt_value(l, 7, "sample_rate", |t| units::quantity(t, Dim::SampleRate))?,
        })
    }

    /// Places a channel in a thread, refusing a slot or channel used twice.
    fn place(
        &mut self,
        l: &Loc,
        channels: &mut [Channel],
        chan_id: &str,
        slot: ThreadSlot,
        n_channels: u32,
    ) -> R<()> {
        if slot.index >= n_channels {
            return Err(self.err(
                l,
                VexErrorKind::Value,
                format!(
                    "channel index {} is outside thread {} ({} channels)",
                    slot.index, slot.thread_id, n_channels
                ),
            ));
        }
        if let Some(other) = channels.iter().find(|c| c.record == Some(slot)) {
            return Err(self.err(
                l,
                VexErrorKind::Value,
                format!(
                    "thread {} channel {} already holds &{}",
                    slot.thread_id, slot.index, other.chan_id
                ),
            ));
        }
        let Some(ch) = channels.iter_mut().find(|c| c.chan_id == chan_id) else {
            self.note(
                l.st.line,
                format!("channel &{chan_id} is not a chan_def of this station's $FREQ; skipped"),
            );
            return Ok(());
        };
        if ch.record.is_some() {
            return Err(self.err(
                l,
                VexErrorKind::Value,
                format!("&{chan_id} is placed twice"),
            ));
        }
        ch.record = Some(slot);
        Ok(())
    }

    /// VEX 2.0 `$DATASTREAMS`: `datastream = &ds : format : label;`,
    /// `thread = &ds : &thread : id : nchan : sample_rate : bits : real|complex : bytes;`,
    /// `channel = &ds : &thread : &chan_id : index;`.
    fn datastreams(
        &mut self,
        locs: &[Loc<'a>],
        channels: &mut [Channel],
        datastreams: &mut Vec<Datastream>,
        threads: &mut Vec<VdifThread>,
    ) -> R<()> {
        for l in Self::all(locs, "datastream") {
            datastreams.push(Datastream {
                link: Some(self.link(&l, 0, "datastream link")?),
                format: self.text(&l, 1, "format")?,
                label: Self::opt_text(&l, 2),
                data_rate_bps: None,
            });
        }
        for l in Self::all(locs, "merged_datastream") {
            self.note(l.st.line, "merged_datastream is not used; skipped".into());
        }
        for l in Self::all(locs, "thread") {
            self.need_fields(
                &l,
                7,
                "&datastream : &thread : thread_id : channels : sample_rate : bits : type",
            )?;
            let ds = self.link(&l, 0, "datastream link")?;
            if !datastreams
                .iter()
                .any(|d| d.link.as_deref() == Some(ds.as_str()))
            {
                return Err(self.err(
                    &l,
                    VexErrorKind::Reference,
                    format!("no datastream &{ds} in this def"),
                ));
            }
            let complex = self.value(&l, 6, "type", |t| match t.to_ascii_lowercase().as_str() {
                "real" => Ok(false),
                "complex" => Ok(true),
                _ => Err("expected real or complex".into()),
            })?;
            let t = VdifThread {
                datastream: Some(ds),
                link: Some(self.link(&l, 1, "thread link")?),
                thread_id: self.value(&l, 2, "thread_id", units::count)?,
                n_channels: self.value(&l, 3, "channels", units::count)?,
                sample_rate_hz: Some(self.value(&l, 4, "sample_rate", |t| {
                    units::quantity(t, Dim::SampleRate)
                })?),
                bits: self.value(&l, 5, "bits", units::count)?,
                complex,
                frame_data_bytes: self.opt_value(&l, 7, "bytes", units::count)?,
                data_rate_bps: None,
            };
            if threads.iter().any(|x| x.thread_id == t.thread_id) {
                return Err(self.err(
                    &l,
                    VexErrorKind::Value,
                    format!("thread ID {} defined twice", t.thread_id),
                ));
            }
            threads.push(t);
        }
        for l in Self::all(locs, "channel") {
            self.need_fields(&l, 4, "&datastream : &thread : &chan_id : index")?;
            let ds = self.link(&l, 0, "datastream link")?;
            let th = self.link(&l, 1, "thread link")?;
            let chan = self.link(&l, 2, "chan_id")?;
            let index = self.value(&l, 3, "index", units::count)?;
            let Some(t) = threads.iter().find(|t| {
                t.datastream.as_deref() == Some(ds.as_str())
                    && t.link.as_deref() == Some(th.as_str())
            }) else {
                return Err(self.err(
                    &l,
                    VexErrorKind::Reference,
                    format!("no thread &{th} of datastream &{ds} in this def"),
                ));
            };
            let slot = ThreadSlot {
                thread_id: t.thread_id,
                index,
            };
            let n = t.n_channels;
            self.place(&l, channels, &chan, slot, n)?;
        }
        Ok(())
    }

    /// DiFX's VEX 1.5 `$THREADS`: `format = VDIF : [extended] : Mbps;`,
    /// `thread = id : backend : recorder : Mbps : nchan : bits : [real|complex] : [ext] : [bytes];`,
    /// `channel = &chan_id : thread_id : index;`.
    fn threads_v15(
        &mut self,
        locs: &[Loc<'a>],
        channels: &mut [Channel],
        datastreams: &mut Vec<Datastream>,
        threads: &mut Vec<VdifThread>,
    ) -> R<()> {
        if let Some(l) = self.one(locs, "format") {
            datastreams.push(Datastream {
                link: None,
                format: self.text(&l, 0, "format")?,
                label: Self::opt_text(&l, 1),
                data_rate_bps: self
                    .opt_value(&l, 2, "data_rate", |t| units::number_scaled(t, 6))?,
            });
        }
        for l in Self::all(locs, "thread") {
            self.need_fields(
                &l,
                6,
                "thread_id : backend : recorder : data_rate : channels : bits",
            )?;
            let complex = match Self::opt_text(&l, 6).map(|s| s.to_ascii_lowercase()) {
                None => false,
                Some(s) if s == "real" => false,
                Some(s) if s == "complex" => true,
                Some(s) => {
                    self.note(l.st.line, format!("thread type {s:?} taken as real"));
                    false
                }
            };
            let t = VdifThread {
                datastream: None,
                link: None,
                thread_id: self.value(&l, 0, "thread_id", units::count)?,
                n_channels: self.value(&l, 4, "channels", units::count)?,
                sample_rate_hz: None,
                bits: self.value(&l, 5, "bits", units::count)?,
                complex,
                frame_data_bytes: self.opt_value(&l, 8, "bytes", units::count)?,
                data_rate_bps: Some(
                    self.value(&l, 3, "data_rate", |t| units::number_scaled(t, 6))?,
                ),
            };
            if threads.iter().any(|x| x.thread_id == t.thread_id) {
                return Err(self.err(
                    &l,
                    VexErrorKind::Value,
                    format!("thread ID {} defined twice", t.thread_id),
                ));
            }
            threads.push(t);
        }
        for l in Self::all(locs, "channel") {
            self.need_fields(&l, 3, "&chan_id : thread_id : index")?;
            let chan = self.link(&l, 0, "chan_id")?;
            let thread_id = self.value(&l, 1, "thread_id", units::count)?;
            let index = self.value(&l, 2, "index", units::count)?;
            let Some(t) = threads.iter().find(|t| t.thread_id == thread_id) else {
                return Err(self.err(
                    &l,
                    VexErrorKind::Reference,
                    format!("no thread {thread_id} in this def"),
                ));
            };
            let n = t.n_channels;
            self.place(&l, channels, &chan, ThreadSlot { thread_id, index }, n)?;
        }
        Ok(())
    }

    // ---- $SCHED ----

    fn scan(&mut self, block: &'a str, d: &'a Def, vex: &Vex) -> R<Scan> {
        let locs: Vec<Loc<'a>> = d
            .statements
            .iter()
            .map(|st| Loc {
                block,
                def: Some(&d.name),
                st,
            })
            .collect();
        for l in &locs {
            match &l.st.body {
                Body::Param { keyword, .. } if !SCAN_KW.contains(&keyword.as_str()) => self.note(
                    l.st.line,
                    format!(
                        "$SCHED scan {}: unknown statement {keyword}; skipped",
                        d.name
                    ),
                ),
                Body::Ref { .. } => {
                    self.note(l.st.line, format!("$SCHED scan {}: ref skipped", d.name))
                }
                _ => {}
            }
        }
        let missing = |b: &Self, what: &str| {
            b.def_err(
                block,
                d,
                VexErrorKind::Value,
                format!("no {what} = statement"),
            )
        };
        let start_loc = self
            .one(&locs, "start")
            .ok_or_else(|| missing(self, "start"))?;
        let start = self.value(&start_loc, 0, "start", units::epoch)?;
        let mode_loc = self
            .one(&locs, "mode")
            .ok_or_else(|| missing(self, "mode"))?;
        let mode = self.text(&mode_loc, 0, "mode")?;
        if vex.mode(&mode).is_none() {
            return Err(self.err(
                &mode_loc,
                VexErrorKind::Reference,
                format!("no def {mode} in $MODE"),
            ));
        }
        let mut sources = Vec::new();
        for l in Self::all(&locs, "source") {
            let key = self.text(&l, 0, "source")?;
            if vex.source(&key).is_none() {
                return Err(self.err(
                    &l,
                    VexErrorKind::Reference,
                    format!("no def {key} in $SOURCE"),
                ));
            }
            sources.push(ScanSource {
                key,
                pointing_center: self.opt_value(&l, 1, "pointing_center", flag)?,
                correlate: self.opt_value(&l, 2, "correlate", flag)?,
                stations: l
                    .fields()
                    .iter()
                    .skip(3)
                    .filter(|f| !f.is_empty())
                    .map(|f| f.text.clone())
                    .collect(),
                origin: l.origin(),
            });
        }
        if sources.is_empty() {
            return Err(missing(self, "source"));
        }
        let mut stations = Vec::new();
        for l in Self::all(&locs, "station") {
            let code = self.text(&l, 0, "station")?;
            if vex.station(&code).is_none() {
                return Err(self.err(
                    &l,
                    VexErrorKind::Reference,
                    format!("no def {code} in $STATION"),
                ));
            }
            let good = self.value(&l, 1, "data_good", |t| units::quantity(t, Dim::Time))?;
            let stop = self.value(&l, 2, "data_stop", |t| units::quantity(t, Dim::Time))?;
            if good < 0.0 || stop < good {
                return Err(self.err(
                    &l,
                    VexErrorKind::Value,
                    format!("data_good {good} s and data_stop {stop} s: need 0 <= data_good <= data_stop"),
                ));
            }
            stations.push(ScanStation {
                station: code,
                data_good_s: good,
                data_stop_s: stop,
                goto_foot: Self::opt_text(&l, 3),
                pass: Self::opt_text(&l, 4),
                pointing_sector: Self::opt_link(&l, 5),
                drives: l
                    .fields()
                    .iter()
                    .skip(6)
                    .filter(|f| !f.is_empty())
                    .map(|f| f.text.clone())
                    .collect(),
                origin: l.origin(),
            });
        }
        Ok(Scan {
            name: d.name.clone(),
            start,
            mode,
            sources,
            stations,
            origin: Origin::new(d.line, block, Some(&d.name)),
        })
    }

    // ---- $EOP ----

    fn eop(&mut self, d: &'a Def) -> R<Eop> {
        let locs = self.locs("EOP", &[d], EOP_KW);
        let mut e = Eop {
            def: d.name.clone(),
            tai_utc_s: None,
            ref_epoch: None,
            interval_s: None,
            ut1_utc_s: Vec::new(),
            x_wobble_rad: Vec::new(),
            y_wobble_rad: Vec::new(),
            origin: Origin::new(d.line, "EOP", Some(&d.name)),
        };
        if let Some(l) = self.one(&locs, "TAI-UTC") {
            e.tai_utc_s = Some(self.value(&l, 0, "TAI-UTC", |t| units::quantity(t, Dim::Time))?);
        }
        if let Some(l) = self.one(&locs, "eop_ref_epoch") {
            e.ref_epoch = Some(self.value(&l, 0, "epoch", units::epoch)?);
        }
        if let Some(l) = self.one(&locs, "eop_interval") {
            e.interval_s =
                Some(self.value(&l, 0, "eop_interval", |t| units::quantity(t, Dim::Time))?);
        }
        let n = match self.one(&locs, "num_eop_points") {
            Some(l) => Some((self.value(&l, 0, "num_eop_points", units::count)?, l)),
            None => None,
        };
        for (kw, dim) in [
            ("ut1-utc", Dim::Time),
            ("x_wobble", Dim::Angle),
            ("y_wobble", Dim::Angle),
        ] {
            let Some(l) = self.one(&locs, kw) else {
                continue;
            };
            let texts: Vec<&str> = l.fields().iter().map(|f| f.text.as_str()).collect();
            let v = units::quantity_list(&texts, dim).map_err(|(i, why)| {
                self.err(
                    &l,
                    VexErrorKind::Value,
                    format!("value {} {:?}: {why}", i + 1, texts[i]),
                )
            })?;
            if let Some((n, _)) = n {
                if v.len() != n as usize {
                    return Err(self.err(
                        &l,
                        VexErrorKind::Value,
                        format!("{} values, but num_eop_points = {n}", v.len()),
                    ));
                }
            }
            match kw {
                "ut1-utc" => e.ut1_utc_s = v,
                "x_wobble" => e.x_wobble_rad = v,
                _ => e.y_wobble_rad = v,
            }
        }
        Ok(e)
    }
}

/// Where a value read from `defs` (concatenated) comes from: the first def.
fn first_origin(defs: &[&Def], block: &str) -> Origin {
    defs.first().map_or_else(Origin::default, |d| {
        Origin::new(d.line, block, Some(&d.name))
    })
}

fn names(defs: &[&Def]) -> String {
    defs.iter()
        .map(|d| d.name.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Builds the typed model from the statements.
pub fn build(t: &VexText) -> Result<Vex, VexError> {
    let version = if t.rev.starts_with("1.") || t.rev == "1" {
        VexVersion::V1_5
    } else if t.rev.starts_with("2.") || t.rev == "2" {
        VexVersion::V2_0
    } else {
        return Err(VexError::new(
            &t.file,
            t.rev_line,
            VexErrorKind::Value,
            format!("VEX_rev = {}: only VEX 1.x and 2.0 are read", t.rev),
        ));
    };
    let mut b = Builder {
        t,
        version,
        notes: Vec::new(),
        noted: HashSet::new(),
    };
    for blk in &t.blocks {
        if !KNOWN_BLOCKS.contains(&blk.name.as_str()) {
            b.note(blk.line, format!("unknown block ${}; skipped", blk.name));
        }
    }

    // $GLOBAL
    let mut global: Vec<RefItem> = Vec::new();
    for blk in t.blocks.iter().filter(|x| x.name == "GLOBAL") {
        global.extend(b.refs_of("GLOBAL", None, &blk.statements));
        for d in &blk.defs {
            b.note(
                d.line,
                format!(
                    "$GLOBAL def {}: defs do not belong in $GLOBAL; skipped",
                    d.name
                ),
            );
        }
    }
    let global_refs = global
        .iter()
        .filter(|r| !r.external)
        .map(|r| GlobalRef {
            block: r.block.to_string(),
            def: r.def.to_string(),
            origin: r.loc.origin(),
        })
        .collect();

    let exper = b.exper(&global)?;

    let mut stations: Vec<(Station, Vec<RefItem>)> = Vec::new();
    for d in b.all_defs("STATION") {
        let st = b.station(d, &global)?;
        let refs = b.refs_of("STATION", Some(&d.name), &d.statements);
        stations.push((st, refs));
    }

    let mut sources = Vec::new();
    for d in b.all_defs("SOURCE") {
        sources.push(b.source(d)?);
    }

    let mut modes = Vec::new();
    for d in b.all_defs("MODE") {
        modes.push(b.mode(d, &global, &stations)?);
    }

    let mut eop_defs = b.resolve(&global, "EOP", None)?;
    if eop_defs.is_empty() {
        eop_defs = b.all_defs("EOP");
    }
    let mut eop = Vec::new();
    for d in eop_defs {
        eop.push(b.eop(d)?);
    }

    let mut vex = Vex {
        file: t.file.clone(),
        version,
        exper,
        global_refs,
        stations: stations.into_iter().map(|(s, _)| s).collect(),
        sources,
        modes,
        scans: Vec::new(),
        eop,
        notes: Vec::new(),
    };
    let mut scans = Vec::new();
    for blk in t.blocks.iter().filter(|x| x.name == "SCHED") {
        for d in &blk.defs {
            scans.push(b.scan("SCHED", d, &vex)?);
        }
        for st in &blk.statements {
            b.note(
                st.line,
                format!("$SCHED: {} outside a scan; skipped", st.keyword()),
            );
        }
    }
    vex.scans = scans;
    vex.notes = b.notes;
    Ok(vex)
}

//! NGS card files ("NGS Format for VLBI Data Transfer", NGS, 20 Oct 1983;
//! the header's second, comment card as in the GSFC files of the later
//! revision): 80-column text, fields by column.
//!
//! Header card, one comment card, site cards ($END), source cards ($END),
//! the auxiliary-parameters card ($END), then per observation cards 01
//! (stations, source, epoch), 02 (delay, rate), 03 (correlation
//! coefficient), 07 (duration, frequency), each with the observation's
//! serial number in columns 71–78 and the card number in 79–80. Cards 04
//! (system temperatures), 05 (cable), 06 (meteorology), 08 (ionosphere)
//! and 09 are left out: emcorr has no values for them, and note 11 of the
//! format lets missing cards be deleted.
//!
//! Every numeric field is right-justified with a decimal point, and every
//! field but a card's first keeps a leading blank, so that readers that
//! split on blanks (VieVS) read the same numbers as readers by column.

use super::{calendar_rounded, short_names, Export, ExportError, Observation};

/// Format precision, as written (for the README and tests):
/// delay 1e-8 ns in 20 columns for any |τ| < 10 s; its σ 1e-6 ns;
/// rate 1e-10 ps/s; its σ 1e-5 ps/s; epoch 1e-10 s.
pub const DELAY_DECIMALS_NS: usize = 10;
pub const DELAY_SIGMA_DECIMALS_NS: usize = 6;
pub const RATE_DECIMALS_PS: usize = 10;
pub const RATE_SIGMA_DECIMALS_PS: usize = 5;
pub const EPOCH_DECIMALS: u32 = 10;

/// One 80-column card being filled.
struct Card([u8; 80]);

impl Card {
    fn new() -> Card {
        Card([b' '; 80])
    }

    /// `text` right-justified in columns `a..=b` (1-based); `None` if it
    /// does not fit.
    fn right(&mut self, a: usize, b: usize, text: &str) -> Option<()> {
        let w = b + 1 - a;
        if text.len() > w || !text.is_ascii() {
            return None;
        }
        self.0[b - text.len()..b].copy_from_slice(text.as_bytes());
        Some(())
    }

    /// `text` left-justified in columns `a..=b`.
    fn left(&mut self, a: usize, b: usize, text: &str) -> Option<()> {
        if text.len() > b + 1 - a || !text.is_ascii() {
            return None;
        }
        self.0[a - 1..a - 1 + text.len()].copy_from_slice(text.as_bytes());
        Some(())
    }

    /// A data card: all 80 columns.
    fn full(&self) -> String {
        String::from_utf8_lossy(&self.0).into_owned()
    }

    /// A header-part card, trailing blanks dropped (VieVS finds the first
    /// data card as the first line of 80 columns).
    fn trimmed(&self) -> String {
        self.full().trim_end().to_string()
    }
}

/// `v` with as many decimals (≤ `max_decimals`) as fit in `width`
/// characters (a leading "0" before the point dropped if that makes room,
/// as the format's own examples write ".04917"); `None` if not even the integer part fits or `v` is not
/// finite.
pub fn fixed(v: f64, width: usize, max_decimals: usize) -> Option<String> {
    if !v.is_finite() {
        return None;
    }
    (0..=max_decimals)
        .rev()
        .map(|d| {
            // Fortran style: "0.5" → ".5", "-0.5" → "-.5" when that fits more decimals.
            let s = format!("{v:.d$}");
            if s.len() > width && (s.starts_with("0.") || s.starts_with("-0.")) {
                s.replacen("0.", ".", 1)
            } else {
                s
            }
        })
        .find(|s| s.len() <= width)
        .map(|s| if s.contains('.') { s } else { s + "." })
        .filter(|s| s.len() <= width)
}

/// The whole file.
pub fn write(x: &Export) -> Result<String, ExportError> {
    let job = x.job;
    let site_names = short_names(
        x.catalogue
            .sites
            .iter()
            .map(|s| job.stations[s.station].name.as_str()),
        8,
        "station",
        &job.file,
    )?;
    let source_names = short_names(
        x.catalogue
            .sources
            .iter()
            .map(|s| job.sources[s.source].name.as_str()),
        8,
        "source",
        &job.file,
    )?;
    let site_name = |i: usize| {
        let k = x.catalogue.sites.iter().position(|s| s.station == i);
        k.map(|k| site_names[k].as_str()).unwrap_or("")
    };
    let source_name = |i: usize| {
        let k = x.catalogue.sources.iter().position(|s| s.source == i);
        k.map(|k| source_names[k].as_str()).unwrap_or("")
    };
    let bug = |what: &str| ExportError::Job {
        file: job.file.clone(),
        why: format!("{what} does not fit its NGS columns"),
    };
    let mut out = String::new();
    let mut line = |s: String| {
        out.push_str(&s);
        out.push('\n');
    };

    // 1. Header card. The 1983 format leaves it free ("80 column ASCII
    // descriptor"); GSFC's files (νSolve) write the database name YYMONDD +
    // two letters (EM: an emcorr export) from column 34, then "_V" and a
    // 3-digit version: "... FROM DATABASE 12JAN26XE_V004" (so do VieVS's
    // writers; the "$YYMONDDEM VERSION 1" written before matched none of
    // them). The date: the first observation's.
    let (y, mo, d, ..) = x.obs[0].epoch.calendar();
    const MONTHS: [&str; 12] = [
        "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
    ];
    let db = format!(
        "{:02}{}{:02}EM_V001",
        y.rem_euclid(100),
        MONTHS[mo as usize - 1],
        d
    );
    let mut c = Card::new();
    c.left(1, 32, "DATA IN NGS FORMAT FROM DATABASE");
    c.left(34, 47, &db);
    line(c.trimmed());

    // 2. Comment card (one line: readers skip exactly two header lines).
    line(comment(x));

    // 3. Site cards.
    for (s, name) in x.catalogue.sites.iter().zip(&site_names) {
        let mut c = Card::new();
        c.left(1, 8, name).ok_or_else(|| bug("a site name"))?;
        for (k, v) in s.itrs_m.iter().enumerate() {
            let a = 11 + 15 * k;
            let t = fixed(*v, 14, 5).ok_or_else(|| bug("a site coordinate"))?;
            c.right(a, a + 14, &t)
                .ok_or_else(|| bug("a site coordinate"))?;
        }
        // The job has no mount or axis offset: AZEL, 0 (see README).
        c.left(57, 60, "AZEL");
        c.right(61, 70, "0.00000");
        line(c.trimmed());
    }
    line("$END".into());

    // 4. Source cards: RA h m s, Dec sign d m s (ICRS, J2000.0).
    for (s, name) in x.catalogue.sources.iter().zip(&source_names) {
        let mut c = Card::new();
        c.left(1, 8, name).ok_or_else(|| bug("a source name"))?;
        let (h, m, sec) = sexagesimal(s.ra_rad.to_degrees() / 15.0, 8);
        c.right(11, 12, &format!("{h:02}"));
        c.right(14, 15, &format!("{m:02}"));
        c.right(17, 28, &sec);
        let (dd, dm, ds) = sexagesimal(s.dec_rad.to_degrees().abs(), 8);
        if s.dec_rad < 0.0 {
            c.left(30, 30, "-");
        }
        c.right(31, 32, &format!("{dd:02}"));
        c.right(34, 35, &format!("{dm:02}"));
        c.right(37, 48, &ds);
        line(c.trimmed());
    }
    line("$END".into());

    // 5. Auxiliary parameters: reference frequency (MHz), group-delay
    // ambiguity (ns; not known here: 0), delay type GR(oup), rate type
    // PH(ase: the fringe rate).
    let mut c = Card::new();
    let f = fixed(x.obs[0].ref_freq_hz * 1e-6, 20, 10).ok_or_else(|| bug("ref_freq_hz"))?;
    c.right(1, 20, &f).ok_or_else(|| bug("ref_freq_hz"))?;
    c.right(21, 30, "0.");
    c.left(32, 33, "GR");
    c.left(35, 36, "PH");
    line(c.trimmed());
    line("$END".into());

    // 6. Data cards.
    for (n, o) in x.obs.iter().enumerate() {
        let names = (
            site_name(o.station_1),
            site_name(o.station_2),
            source_name(o.source),
        );
        for card in data_cards(o, n + 1, names, &x.fringe_file)? {
            line(card);
        }
    }
    Ok(out)
}

/// The comment card: what this file is and how lunar stations and
/// near-field sources are written (see README, "emcorr export").
fn comment(x: &Export) -> String {
    let job = x.job;
    let moon: Vec<&str> = x
        .catalogue
        .sites
        .iter()
        .filter(|s| s.moon_epoch.is_some())
        .map(|s| job.stations[s.station].name.as_str())
        .collect();
    let near: Vec<&str> = x
        .catalogue
        .sources
        .iter()
        .filter(|s| s.near_field_epoch.is_some())
        .map(|s| job.sources[s.source].name.as_str())
        .collect();
    let mut parts = vec!["emcorr export: group delays, card 2".to_string()];
    if !moon.is_empty() {
        parts.push(format!("lunar ITRS at 1st obs: {}", moon.join(" ")));
    }
    if !near.is_empty() {
        parts.push(format!("near-field dir at 1st obs: {}", near.join(" ")));
    }
    let mut s = parts.join("; ");
    if s.len() > 79 {
        s = "emcorr export: group delays in card 2; lunar sites, near-field sources: README".into();
    }
    s.retain(|c| c.is_ascii());
    s
}

/// `value` (hours or degrees, ≥ 0) as whole units, whole minutes and
/// seconds with `decimals`, rounded once (so 59.999… carries into the
/// minute).
fn sexagesimal(value: f64, decimals: u32) -> (u64, u64, String) {
    let scale = 10u64.pow(decimals);
    let n = (value * 3600.0 * scale as f64).round() as u64;
    let per_min = 60 * scale;
    let per_unit = 3600 * scale;
    let units = n / per_unit;
    let mins = (n % per_unit) / per_min;
    let rest = n % per_min;
    let sec = format!(
        "{}.{:0w$}",
        rest / scale,
        rest % scale,
        w = decimals as usize
    );
    (units, mins, sec)
}

/// Cards 01, 02, 03 and 07 of one observation.
fn data_cards(
    o: &Observation,
    serial: usize,
    names: (&str, &str, &str),
    fringe_file: &std::path::Path,
) -> Result<Vec<String>, ExportError> {
    let too_wide = |key: &str, card: u32| ExportError::Row {
        file: fringe_file.to_path_buf(),
        row: o.row,
        what: format!("observation {serial}"),
        key: key.to_string(),
        why: format!("its value does not fit the columns of NGS card {card:02}"),
    };
    let num = |v: f64, width: usize, decimals: usize, key: &str, card: u32| {
        fixed(v, width, decimals).ok_or_else(|| too_wide(key, card))
    };
    let seq = format!("{serial}");
    let finish = |mut c: Card, card: u32| -> Result<String, ExportError> {
        c.right(71, 78, &seq)
            .ok_or_else(|| too_wide("serial number", card))?;
        c.right(79, 80, &format!("{card:02}"));
        Ok(c.full())
    };
    let mut cards = Vec::new();

    // 01: stations, source, epoch (UTC arrival at site 1), run code.
    let mut c = Card::new();
    c.left(1, 8, names.0);
    c.left(11, 18, names.1);
    c.left(21, 28, names.2);
    let (y, mo, d, h, mi, s, units) = calendar_rounded(o.epoch, EPOCH_DECIMALS);
    c.right(30, 33, &format!("{y:04}"))
        .ok_or_else(|| too_wide("ref_epoch_utc", 1))?;
    c.right(35, 36, &format!("{mo:02}"));
    c.right(38, 39, &format!("{d:02}"));
    c.right(41, 42, &format!("{h:02}"));
    c.right(44, 45, &format!("{mi:02}"));
    c.right(
        47,
        60,
        &format!("{s}.{units:0w$}", w = EPOCH_DECIMALS as usize),
    );
    if let Some(name) = &o.scan_name {
        let code: String = name
            .chars()
            .map(|c| if c.is_ascii_graphic() { c } else { '_' })
            .take(9)
            .collect();
        // Right-justified, as the format's example: a blank after the seconds.
        c.right(61, 70, &code);
    }
    cards.push(finish(c, 1)?);

    // 02: delay (ns), σ, rate (ps/s), σ, quality flag (0 good, 1 fringe
    // not detected), delay type, rate type.
    let mut c = Card::new();
    c.right(
        1,
        20,
        &num(o.delay_s * 1e9, 20, DELAY_DECIMALS_NS, "total_delay_s", 2)?,
    );
    c.right(
        21,
        30,
        &num(
            o.delay_sigma_s * 1e9,
            9,
            DELAY_SIGMA_DECIMALS_NS,
            "mbd_sigma_s",
            2,
        )?,
    );
    // An unconstrained rate (one integration) is written as 0 ± 0: no rate.
    let (rate, rate_sigma) = o.rate.unwrap_or((0.0, 0.0));
    c.right(
        31,
        50,
        &num(rate * 1e12, 19, RATE_DECIMALS_PS, "total_rate_s_per_s", 2)?,
    );
    c.right(
        51,
        60,
        &num(
            rate_sigma * 1e12,
            9,
            RATE_SIGMA_DECIMALS_PS,
            "rate_sigma",
            2,
        )?,
    );
    c.right(61, 62, if o.detected { "0" } else { "1" });
    c.left(64, 65, "GR");
    c.left(67, 68, "PH");
    cards.push(finish(c, 2)?);

    // 03: correlation coefficient (the fringe amplitude, smearing loss
    // divided out) and its formal error amplitude/SNR, so SNR =
    // coefficient/error; flux density and total phase not known: 0.
    let mut c = Card::new();
    c.right(1, 10, &num(o.amplitude, 10, 8, "amplitude", 3)?);
    let amp_sigma = if o.snr > 0.0 {
        o.amplitude / o.snr
    } else {
        0.0
    };
    c.right(11, 20, &num(amp_sigma, 9, 8, "snr", 3)?);
    c.right(21, 30, "0.");
    c.right(31, 40, "0.");
    c.right(41, 60, "0.");
    c.right(61, 70, "0.");
    cards.push(finish(c, 3)?);

    // 07: start of the data relative to the epoch (−duration/2: the epoch
    // is the whole second nearest the data's weighted centre), duration,
    // a-priori UTC offset (none), observing frequency (MHz: the reference
    // frequency), group-delay ambiguity (not known: 0).
    let mut c = Card::new();
    c.right(1, 10, &num(-o.duration_s / 2.0, 10, 3, "duration_s", 7)?);
    c.right(11, 20, &num(o.duration_s, 9, 3, "duration_s", 7)?);
    c.right(21, 30, "0.");
    c.right(
        31,
        50,
        &num(o.ref_freq_hz * 1e-6, 19, 10, "ref_freq_hz", 7)?,
    );
    c.right(51, 60, "0.");
    cards.push(finish(c, 7)?);
    Ok(cards)
}

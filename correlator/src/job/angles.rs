//! Sexagesimal angles of the `[source]` section: right ascension and
//! declination in the spellings catalogues use.

/// Right ascension: `12h29m06.6997s`, `12:29:06.6997` or `12 29 06.6997`.
pub fn parse_ra(text: &str) -> Result<f64, String> {
    let (sign, [h, m, s]) = sexagesimal(text, ['h', 'm', 's'])?;
    if sign < 0.0 || h >= 24.0 {
        return Err(format!("{text:?}: right ascension must be 0h to 24h"));
    }
    Ok(((h + m / 60.0 + s / 3600.0) * 15.0).to_radians())
}

/// Declination: `+02d03m08.598s`, `-29:33:15.0`, `−29°33′15″`.
pub fn parse_dec(text: &str) -> Result<f64, String> {
    let (sign, [d, m, s]) = sexagesimal(text, ['d', 'm', 's'])?;
    let deg = d + m / 60.0 + s / 3600.0;
    if deg > 90.0 {
        return Err(format!("{text:?}: declination must be within ±90°"));
    }
    Ok(sign * deg.to_radians())
}

/// Split "±A<u1>B<u2>C<u3>" (or colon/space separated) into a sign and three
/// non-negative numbers; minutes and seconds must be below 60.
fn sexagesimal(text: &str, units: [char; 3]) -> Result<(f64, [f64; 3]), String> {
    let bad = |why: &str| {
        format!("{text:?}: {why} (expected e.g. 12h29m06.6997s, +02d03m08.598s or 12:29:06.7)")
    };
    let t = text
        .trim()
        .replace('−', "-")
        .replace(['°', '′', '″', '\''], " ");
    let (sign, body) = match t.strip_prefix('-') {
        Some(b) => (-1.0, b.to_string()),
        None => (1.0, t.strip_prefix('+').unwrap_or(&t).to_string()),
    };
    let mut cleaned = body.to_lowercase();
    for u in units {
        cleaned = cleaned.replace(u, " ");
    }
    let parts: Vec<&str> = cleaned
        .split([' ', ':'])
        .filter(|p| !p.is_empty())
        .collect();
    if parts.len() != 3 {
        return Err(bad("needs three fields"));
    }
    let mut v = [0.0; 3];
    for (x, p) in v.iter_mut().zip(&parts) {
        *x = p
            .parse::<f64>()
            .map_err(|_| bad(&format!("{p:?} is not a number")))?;
        if !x.is_finite() || *x < 0.0 {
            return Err(bad("fields must be non-negative numbers"));
        }
    }
    if v[1] >= 60.0 || v[2] >= 60.0 {
        return Err(bad("minutes and seconds must be below 60"));
    }
    Ok((sign, v))
}

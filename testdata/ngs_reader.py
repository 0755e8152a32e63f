#!/usr/bin/env python3
"""Read an NGS card file by columns and print it as JSON.

Written from the format's description alone ("NGS Format for VLBI Data
Transfer", NGS, 20 Oct 1983, as quoted column by column in public NGS
readers; the comment card as the second header line, as in the GSFC files
of the 2007 revision): no emcorr code is used, so `emcorr export
--format ngs` is checked against the format, not against itself
(tools/tests/export_cli.rs).

Layout (columns 1-based, inclusive):
  header card        'DATA IN NGS FORMAT FROM DATABASE' ...
  comment card       free text
  site cards         1-8 name, 11-25 X, 26-40 Y, 41-55 Z (m), 57-60 axis
                     type, 61-70 axis offset (m); then '$END'
  source cards       1-8 name, 11-12 RA h, 14-15 RA m, 17-28 RA s,
                     30 Dec sign, 31-32 Dec d, 34-35 Dec m, 37-48 Dec s;
                     then '$END'
  auxiliary card     1-20 ref. frequency (MHz), 21-30 group delay
                     ambiguity (ns), 32-33 delay type, 35-36 rate type;
                     then '$END'
  data cards         71-78 observation serial number, 79-80 card number
    01  1-8 site 1, 11-18 site 2, 21-28 source, 30-33 year, 35-36 month,
        38-39 day, 41-42 hour, 44-45 minute, 47-60 seconds, 61-70 run code
    02  1-20 delay (ns), 21-30 its error, 31-50 rate (ps/s), 51-60 its
        error, 61-62 quality flag, 64-65 delay type, 67-68 rate type
    03  1-10 correlation coefficient, 11-20 its error, 21-30 fringe
        amplitude (Jy), 31-40 its error, 41-60 total fringe phase (rad),
        61-70 its error
    04  system/antenna temperatures      05  cable, WVR
    06  meteorology                      08  ionosphere
    07  1-10 start - epoch (s), 11-20 duration (s), 21-30 UTC offset at
        site 1 (s), 31-50 frequency (MHz), 51-60 group delay ambiguity (ns)
    09  1-70 comment

Usage: ngs_reader.py FILE   (JSON on stdout; exit 1 with a message on a
card that breaks the layout).
"""

import json
import math
import sys


def col(card, a, b):
    """Columns a..b (1-based, inclusive)."""
    return card[a - 1:b]


def num(card, a, b, what):
    text = col(card, a, b).strip()
    try:
        return float(text)
    except ValueError:
        fail(f"{what}: columns {a}-{b} are not a number: {text!r} in {card!r}")


def integer(card, a, b, what):
    text = col(card, a, b).strip()
    try:
        return int(text)
    except ValueError:
        fail(f"{what}: columns {a}-{b} are not an integer: {text!r} in {card!r}")


def fail(message):
    print(f"ngs_reader: {message}", file=sys.stderr)
    sys.exit(1)


def read(path):
    with open(path) as f:
        lines = [line.rstrip("\n") for line in f]
    if not lines[0].startswith("DATA IN NGS FORMAT FROM DATABASE"):
        fail(f"header card: {lines[0]!r}")
    out = {"header": lines[0], "comment": lines[1], "sites": [], "sources": []}
    i = 2
    while lines[i] != "$END":
        c = lines[i]
        out["sites"].append({
            "name": col(c, 1, 8).strip(),
            "xyz_m": [num(c, 11, 25, "site X"), num(c, 26, 40, "site Y"),
                      num(c, 41, 55, "site Z")],
            "axis_type": col(c, 57, 60).strip(),
            "axis_offset_m": num(c, 61, 70, "axis offset"),
        })
        i += 1
    i += 1
    while lines[i] != "$END":
        c = lines[i]
        ra_h = integer(c, 11, 12, "RA hours")
        ra_m = integer(c, 14, 15, "RA minutes")
        ra_s = num(c, 17, 28, "RA seconds")
        sign = col(c, 30, 30)
        if sign not in (" ", "-", "+"):
            fail(f"declination sign {sign!r}")
        de_d = integer(c, 31, 32, "Dec degrees")
        de_m = integer(c, 34, 35, "Dec minutes")
        de_s = num(c, 37, 48, "Dec seconds")
        ra = (ra_h + ra_m / 60 + ra_s / 3600) * 15 * math.pi / 180
        dec = (de_d + de_m / 60 + de_s / 3600) * math.pi / 180
        if sign == "-":
            dec = -dec
        out["sources"].append({"name": col(c, 1, 8).strip(), "ra_rad": ra, "dec_rad": dec})
        i += 1
    i += 1
    c = lines[i]
    out["aux"] = {
        "ref_freq_mhz": num(c, 1, 20, "reference frequency"),
        "ambiguity_ns": num(c, 21, 30, "ambiguity"),
        "delay_type": col(c, 32, 33),
        "rate_type": col(c, 35, 36),
    }
    i += 1
    if lines[i] != "$END":
        fail(f"no $END after the auxiliary card: {lines[i]!r}")
    i += 1
    obs = []
    for c in lines[i:]:
        if len(c) != 80:
            fail(f"a data card of {len(c)} columns: {c!r}")
        serial = integer(c, 71, 78, "serial number")
        card = col(c, 79, 80)
        if card == "01":
            obs.append({
                "serial": serial,
                "station_1": col(c, 1, 8).strip(),
                "station_2": col(c, 11, 18).strip(),
                "source": col(c, 21, 28).strip(),
                "year": integer(c, 30, 33, "year"),
                "month": integer(c, 35, 36, "month"),
                "day": integer(c, 38, 39, "day"),
                "hour": integer(c, 41, 42, "hour"),
                "minute": integer(c, 44, 45, "minute"),
                "seconds": num(c, 47, 60, "seconds"),
                "run_code": col(c, 61, 70).strip(),
                "cards": ["01"],
            })
            continue
        if not obs or obs[-1]["serial"] != serial:
            fail(f"card {card} of observation {serial} without its card 01")
        o = obs[-1]
        if card <= o["cards"][-1]:
            fail(f"card {card} after card {o['cards'][-1]} in observation {serial}")
        o["cards"].append(card)
        if card == "02":
            o["delay_ns"] = num(c, 1, 20, "delay")
            o["delay_sigma_ns"] = num(c, 21, 30, "delay error")
            o["rate_ps_per_s"] = num(c, 31, 50, "rate")
            o["rate_sigma_ps_per_s"] = num(c, 51, 60, "rate error")
            q = col(c, 61, 62).strip()
            o["quality"] = int(q) if q else 0
            o["delay_type"] = col(c, 64, 65)
            o["rate_type"] = col(c, 67, 68)
        elif card == "03":
            o["corr_coef"] = num(c, 1, 10, "correlation coefficient")
            o["corr_coef_sigma"] = num(c, 11, 20, "its error")
            o["fringe_amp_jy"] = num(c, 21, 30, "fringe amplitude")
            o["fringe_amp_sigma_jy"] = num(c, 31, 40, "its error")
            o["total_phase_rad"] = num(c, 41, 60, "total phase")
            o["total_phase_sigma_rad"] = num(c, 61, 70, "its error")
        elif card == "07":
            o["start_minus_epoch_s"] = num(c, 1, 10, "start")
            o["duration_s"] = num(c, 11, 20, "duration")
            o["utc_offset_s"] = num(c, 21, 30, "UTC offset")
            o["freq_mhz"] = num(c, 31, 50, "frequency")
            o["ambiguity_ns"] = num(c, 51, 60, "ambiguity")
        elif card not in ("04", "05", "06", "08", "09"):
            fail(f"unknown card number {card!r}")
    out["observations"] = obs
    return out


if __name__ == "__main__":
    if len(sys.argv) != 2:
        fail("usage: ngs_reader.py FILE")
    json.dump(read(sys.argv[1]), sys.stdout, indent=1)
    print()

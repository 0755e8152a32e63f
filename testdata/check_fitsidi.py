#!/usr/bin/env python3
"""Independent check of a FITS-IDI file against AIPS Memo 114, with astropy.

Usage: check_fitsidi.py FILE.fits

Checks that the tables CASA's importfitsidi needs are there with their
keywords and columns, that FLUX's TDIM agrees with MAXIS1..6, NO_STKD, NO_CHAN
and NO_BAND, that BASELINE = 256*a1 + a2 names known antennas with a1 <= a2,
and that DATE is a JD at 0h with TIME a fraction of that day. If the file has
emcorr's scan table (EMCORR_SCAN, not part of Memo 114), checks its columns and
that every SOURCE_IDS entry is 0 (padding) or in the SOURCE table, and prints
one line per scan:
    check_fitsidi: scan NAME start_day=TIME days=TIME_INTERVAL sources=ID,ID
Prints one line per problem and exits 1 if there are any; prints
"check_fitsidi: OK ..." and exits 0 otherwise. Written for emcorr
(formats::fitsidi); shares no code with it.
"""

import sys

import numpy as np
from astropy.io import fits

COMMON = ["TABREV", "OBSCODE", "NO_STKD", "STK_1", "NO_BAND", "NO_CHAN", "REF_FREQ", "CHAN_BW", "REF_PIXL"]
REQUIRED_TABLES = ["ARRAY_GEOMETRY", "ANTENNA", "FREQUENCY", "SOURCE", "UV_DATA"]
AXES = ["COMPLEX", "STOKES", "FREQ", "BAND", "RA", "DEC"]


def main(path):
    problems = []

    def need(cond, msg):
        if not cond:
            problems.append(msg)
        return cond

    with fits.open(path, memmap=False) as hdul:
        prim = hdul[0].header
        # No primary data: NAXIS = 0, or the random-groups form NAXIS1 = 0.
        need(prim.get("NAXIS") == 0 or prim.get("NAXIS1") == 0, "primary: must hold no data (NAXIS 0 or NAXIS1 0)")
        need(prim.get("GROUPS") is True, "primary: GROUPS must be T")
        need(prim.get("GCOUNT") == 0 and prim.get("PCOUNT") == 0, "primary: GCOUNT and PCOUNT must be 0")
        for k in ("TELESCOP", "CORRELAT"):
            need(k in prim, f"primary: keyword {k} missing")

        tables = {h.name: h for h in hdul[1:]}
        for t in REQUIRED_TABLES:
            need(t in tables, f"table {t} missing")
        if problems:
            return problems, ""

        uv = tables["UV_DATA"]
        ref = {k: uv.header.get(k) for k in COMMON}
        for name, h in tables.items():
            for k in COMMON:
                if need(k in h.header, f"{name}: keyword {k} missing") and k != "TABREV":
                    need(h.header[k] == ref[k], f"{name}: {k} = {h.header[k]!r} but UV_DATA has {ref[k]!r}")
        ns, nb, nc = ref["NO_STKD"], ref["NO_BAND"], ref["NO_CHAN"]

        # ARRAY_GEOMETRY (Memo 114 table 10)
        ag = tables["ARRAY_GEOMETRY"]
        for k in ("ARRNAM", "FRAME", "ARRAYX", "ARRAYY", "ARRAYZ", "NUMORB", "RDATE", "FREQ"):
            need(k in ag.header, f"ARRAY_GEOMETRY: keyword {k} missing")
        for c in ("ANNAME", "STABXYZ", "DERXYZ", "ORBPARM", "NOSTA", "MNTSTA", "STAXOF"):
            need(c in ag.columns.names, f"ARRAY_GEOMETRY: column {c} missing")
        need(ag.data["STABXYZ"].shape[1:] == (3,), "ARRAY_GEOMETRY: STABXYZ must have 3 elements")
        need(ag.columns["NOSTA"].format in ("1J", "J"), "ARRAY_GEOMETRY: NOSTA must be 1J (CASA refuses 1I)")
        antennas = set(int(a) for a in ag.data["NOSTA"])
        radii = np.linalg.norm(ag.data["STABXYZ"], axis=1)

        # ANTENNA (table 11)
        an = tables["ANTENNA"]
        for k in ("NOPCAL", "POLTYPE"):
            need(k in an.header, f"ANTENNA: keyword {k} missing")
        for c in ("TIME", "TIME_INTERVAL", "ANNAME", "ANTENNA_NO", "ARRAY", "FREQID", "NO_LEVELS",
                  "POLTYA", "POLAA", "POLCALA", "POLTYB", "POLAB", "POLCALB"):
            need(c in an.columns.names, f"ANTENNA: column {c} missing")

        # FREQUENCY (table 12)
        fr = tables["FREQUENCY"]
        need("FREQID" in fr.columns.names, "FREQUENCY: column FREQID missing")
        for c in ("BANDFREQ", "CH_WIDTH", "TOTAL_BANDWIDTH", "SIDEBAND"):
            if need(c in fr.columns.names, f"FREQUENCY: column {c} missing"):
                need(np.asarray(fr.data[c][0]).size == nb, f"FREQUENCY: {c} must have NO_BAND = {nb} elements")

        # SOURCE (table 13)
        so = tables["SOURCE"]
        for c in ("SOURCE_ID", "SOURCE", "RAEPO", "DECEPO", "EQUINOX", "RAAPP", "DECAPP"):
            need(c in so.columns.names, f"SOURCE: column {c} missing")
        sources = set(int(s) for s in so.data["SOURCE_ID"])

        # UV_DATA (table 16)
        h = uv.header
        need(h.get("NMATRIX") == 1, "UV_DATA: NMATRIX must be 1")
        need(h.get("MAXIS") == 6, f"UV_DATA: MAXIS = {h.get('MAXIS')}, expected 6")
        want_n = [h.get("MAXIS1"), ns, nc, nb, 1, 1]
        need(h.get("MAXIS1") in (2, 3), "UV_DATA: MAXIS1 must be 2 or 3")
        for m in range(1, 7):
            need(h.get(f"CTYPE{m}", "").strip() == AXES[m - 1], f"UV_DATA: CTYPE{m} must be {AXES[m - 1]}")
            need(h.get(f"MAXIS{m}") == want_n[m - 1], f"UV_DATA: MAXIS{m} = {h.get(f'MAXIS{m}')}, expected {want_n[m - 1]}")
            for k in ("CDELT", "CRPIX", "CRVAL"):
                need(f"{k}{m}" in h, f"UV_DATA: keyword {k}{m} missing")
        need(h.get("CRVAL2") == ref["STK_1"], "UV_DATA: CRVAL2 must equal STK_1")
        need(h.get("CRVAL3") == ref["REF_FREQ"], "UV_DATA: CRVAL3 must equal REF_FREQ")
        cols = uv.columns.names
        for c in ("DATE", "TIME", "BASELINE", "FREQID", "INTTIM", "FLUX"):
            need(c in cols, f"UV_DATA: column {c} missing")
        for p in ("UU", "VV", "WW"):
            need(any(c.startswith(p) for c in cols), f"UV_DATA: column {p}---SIN missing")
        need("SOURCE_ID" in cols or "SOURCE" in cols, "UV_DATA: column SOURCE_ID missing")
        if problems:
            return problems, ""
        fi = cols.index("FLUX") + 1
        need(h.get(f"TMATX{fi}") is True, f"UV_DATA: TMATX{fi} must be T for FLUX")
        tdim = h.get(f"TDIM{fi}", "")
        dims = [int(x) for x in tdim.strip("() ").split(",")] if tdim else []
        need(dims == want_n, f"UV_DATA: FLUX TDIM {tdim!r} disagrees with MAXIS1..6 = {want_n}")
        need(uv.columns["INTTIM"].format in ("1E", "E"), "UV_DATA: INTTIM must be 1E (CASA reads a float)")
        nrow = len(uv.data)
        flux = uv.data["FLUX"]
        need(flux.shape == (nrow, 1, 1, nb, nc, ns, want_n[0]),
             f"UV_DATA: FLUX array shape {flux.shape}, expected rows x {tuple(reversed(want_n))}")

        bl = uv.data["BASELINE"].astype(np.int64)
        a1, a2 = bl // 256, bl % 256
        need(np.all(a1 <= a2), "UV_DATA: BASELINE with a1 > a2")
        need(set(a1) | set(a2) <= antennas, f"UV_DATA: BASELINE names antennas not in ARRAY_GEOMETRY: {sorted((set(a1) | set(a2)) - antennas)}")
        src = uv.data["SOURCE_ID" if "SOURCE_ID" in cols else "SOURCE"]
        need(set(int(s) for s in src) <= sources, "UV_DATA: SOURCE_ID not in the SOURCE table")
        date, time = uv.data["DATE"], uv.data["TIME"]
        need(np.all(np.abs((date - 0.5) - np.round(date - 0.5)) < 1e-9), "UV_DATA: DATE is not a JD at 0h")
        need(np.all((time >= 0) & (time < 1)), "UV_DATA: TIME outside [0, 1) day")
        rdate = ag.header["RDATE"][:10]
        jd_rdate = 2440587.5 + (np.datetime64(rdate) - np.datetime64("1970-01-01")).astype(int)
        need(np.all((date >= jd_rdate) & (date < jd_rdate + 30)), f"UV_DATA: DATE not within 30 days after RDATE {rdate}")

        # INTERFEROMETER_MODEL (table 15), optional
        if "INTERFEROMETER_MODEL" in tables:
            im = tables["INTERFEROMETER_MODEL"]
            for k in ("NPOLY", "NO_POL"):
                need(k in im.header, f"INTERFEROMETER_MODEL: keyword {k} missing")
            npoly = im.header.get("NPOLY", 0)
            for c in ("TIME", "TIME_INTERVAL", "SOURCE_ID", "ANTENNA_NO", "ARRAY", "FREQID",
                      "PDELAY_1", "GDELAY_1", "PRATE_1", "GRATE_1", "DISP_1", "DDISP_1"):
                need(c in im.columns.names, f"INTERFEROMETER_MODEL: column {c} missing")
            for c in ("PDELAY_1", "GDELAY_1", "PRATE_1", "GRATE_1"):
                if c in im.columns.names and len(im.data):
                    need(np.asarray(im.data[c][0]).size == npoly * nb,
                         f"INTERFEROMETER_MODEL: {c} must have NPOLY x NO_BAND = {npoly * nb} elements")

        # EMCORR_SCAN (emcorr's own scan table), optional
        scan_lines = []
        if "EMCORR_SCAN" in tables:
            sc = tables["EMCORR_SCAN"]
            for c in ("SCAN_NO", "SCAN_NAME", "TIME", "TIME_INTERVAL", "SOURCE_IDS"):
                need(c in sc.columns.names, f"EMCORR_SCAN: column {c} missing")
            for k in ("EXTVER", "NO_PHCEN", "RDATE"):
                need(k in sc.header, f"EMCORR_SCAN: keyword {k} missing")
            if problems:
                return problems, ""
            need(sc.header["RDATE"][:10] == rdate, "EMCORR_SCAN: RDATE differs from ARRAY_GEOMETRY's")
            need(sc.columns["TIME"].format in ("1D", "D"), "EMCORR_SCAN: TIME must be 1D")
            ids = np.asarray(sc.data["SOURCE_IDS"]).reshape(len(sc.data), -1)
            need(ids.shape[1] == sc.header["NO_PHCEN"], "EMCORR_SCAN: SOURCE_IDS width differs from NO_PHCEN")
            names = [str(n).strip() for n in sc.data["SCAN_NAME"]]
            need(len(set(names)) == len(names), "EMCORR_SCAN: scan names repeat")
            need(list(sc.data["SCAN_NO"]) == list(range(1, len(names) + 1)), "EMCORR_SCAN: SCAN_NO is not 1..n")
            for name, t, dt, row in zip(names, sc.data["TIME"], sc.data["TIME_INTERVAL"], ids):
                srcs = [int(i) for i in row if i != 0]
                need(len(srcs) > 0, f"EMCORR_SCAN: scan {name} has no SOURCE_IDS")
                need(set(srcs) <= sources, f"EMCORR_SCAN: scan {name}: SOURCE_IDS {srcs} not all in SOURCE")
                need(dt > 0, f"EMCORR_SCAN: scan {name}: TIME_INTERVAL {dt} not positive")
                scan_lines.append(f"scan {name} start_day={float(t)!r} days={float(dt)!r} sources={','.join(map(str, srcs))}")

        summary = "\n".join(f"check_fitsidi: {l}" for l in scan_lines) + ("\n" if scan_lines else "")
        summary += (f"{nrow} rows, {len(antennas)} antennas (max |xyz| {radii.max() / 1e3:.0f} km), "
                   f"{nb} bands x {nc} channels x {ns} stokes, MAXIS1 {want_n[0]}")
    return problems, summary


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: check_fitsidi.py FILE.fits")
    problems, summary = main(sys.argv[1])
    for p in problems:
        print(f"check_fitsidi: {sys.argv[1]}: {p}")
    if problems:
        print("check_fitsidi: FAILED")
        sys.exit(1)
    *scans, last = summary.split("\n")
    for line in scans:
        print(line)
    print(f"check_fitsidi: OK {last}")

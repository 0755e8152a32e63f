"""CASA and emcorr's PHASE-CAL table (not run by CI: too slow).

Imports two files written by `cargo run --release -p formats --example
fitsidi_synth`: one with `--pcal` (a PHASE-CAL table after UV_DATA: 3
stations x 30 intervals, RR and LL, 2 bands of 3 tones) and one without.
Checks that importfitsidi accepts the file with the table, that the two
Measurement Sets hold the same visibilities (TIME, ANTENNA1/2, FIELD_ID,
DATA, FLAG, WEIGHT_SPECTRUM) and the same subtables but for PHASE_CAL, and
that CASA's PHASE_CAL subtable holds what the FITS file holds (read with
astropy): per FITS row and band one MS row with ANTENNA_ID = ANTENNA_NO - 1,
SPECTRAL_WINDOW_ID = band - 1, TIME (MJD seconds), NUM_TONES = NO_TABS,
TONE_FREQUENCY = PC_FREQ_n, PHASE_CAL = PC_REAL_n + i PC_IMAG_n (CASA does
not conjugate) and CABLE_CAL. Results: testdata/README.md.

Usage (CASA installed per shared/casa/README.md):
    cargo run --release -p formats --example fitsidi_synth -- RUN/pcal.idifits --pcal
    cargo run --release -p formats --example fitsidi_synth -- RUN/plain.idifits
    HOME=CASAHOME CASA/venv/bin/python testdata/casa_pcal_check.py RUN
"""

import os
import shutil
import sys

import numpy as np
from astropy.io import fits
from casatasks import importfitsidi, listobs
from casatools import table

COLUMNS = ["TIME", "ANTENNA1", "ANTENNA2", "FIELD_ID", "DATA", "FLAG", "WEIGHT_SPECTRUM"]


def load(ms):
    tb = table()
    tb.open(ms)
    cols = {c: tb.getcol(c) for c in COLUMNS}
    subtables = sorted(k for k, v in tb.getkeywords().items() if isinstance(v, str) and v.startswith("Table"))
    tb.close()
    return cols, subtables


def ms_pcal(ms):
    tb = table()
    tb.open(ms + "/PHASE_CAL")
    rows = []
    for r in range(tb.nrows()):
        rows.append({c: tb.getcell(c, r) for c in tb.colnames()})
    tb.close()
    return rows


def fits_pcal(path):
    """Per (antenna index, spw, time in MJD s): (n_tones, freq[pol][tone], value[pol][tone], cable)."""
    out = {}
    with fits.open(path) as f:
        t = f["PHASE-CAL"]
        h = t.header
        nb, nt, npol = h["NO_BAND"], h["NO_TABS"], h["NO_POL"]
        rdate = f["ARRAY_GEOMETRY"].header["RDATE"]
        y, m, d = (int(x) for x in rdate.split("-"))
        # MJD of RDATE (Gregorian calendar to MJD).
        a = (14 - m) // 12
        yy, mm = y + 4800 - a, m + 12 * a - 3
        jdn = d + (153 * mm + 2) // 5 + 365 * yy + yy // 4 - yy // 100 + yy // 400 - 32045
        mjd0 = jdn - 2400001
        for r in t.data:
            tsec = (mjd0 + float(r["TIME"])) * 86400.0
            for b in range(nb):
                freq = np.array([r["PC_FREQ_%d" % (p + 1)].reshape(nb, nt)[b] for p in range(npol)])
                val = np.array([
                    r["PC_REAL_%d" % (p + 1)].reshape(nb, nt)[b] + 1j * r["PC_IMAG_%d" % (p + 1)].reshape(nb, nt)[b]
                    for p in range(npol)
                ])
                out[(int(r["ANTENNA_NO"]) - 1, b, round(tsec, 3))] = (nt, freq, val, float(r["CABLE_CAL"]))
    return out


def main():
    run = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else ".")
    ok = True
    loaded = {}
    for name in ("pcal", "plain"):
        ms = os.path.join(run, name + ".ms")
        shutil.rmtree(ms, ignore_errors=True)
        importfitsidi(fitsidifile=[os.path.join(run, name + ".idifits")], vis=ms)
        if not os.path.isdir(ms):
            print(f"IMPORT {name}: importfitsidi made no MS")
            sys.exit(1)
        print(f"IMPORT {name}: ok")
        loaded[name] = load(ms)
        listfile = os.path.join(run, name + ".listobs.txt")
        listobs(vis=ms, listfile=listfile, overwrite=True)

    (a, sub_a), (b, sub_b) = loaded["pcal"], loaded["plain"]
    print("subtables with PHASE-CAL   ", sub_a)
    print("subtables without PHASE-CAL", sub_b)
    same_sub = [s for s in sub_a if s != "PHASE_CAL"] == [s for s in sub_b if s != "PHASE_CAL"]
    print("SUBTABLES", "same but PHASE_CAL" if same_sub else "DIFFER")
    ok &= same_sub
    for c in COLUMNS:
        same = a[c].shape == b[c].shape and np.array_equal(a[c], b[c])
        print(f"COLUMN {c:16s} shape {a[c].shape}: {'same' if same else 'DIFFERS'}")
        ok &= bool(same)

    want = fits_pcal(os.path.join(run, "pcal.idifits"))
    got = ms_pcal(os.path.join(run, "pcal.ms"))
    print(f"PHASE_CAL rows: MS {len(got)}, FITS rows x bands {len(want)}")
    ok &= len(got) == len(want)
    worst_f, worst_v, worst_c, missing, bad_n = 0.0, 0.0, 0.0, 0, 0
    for r in got:
        key = (int(r["ANTENNA_ID"]), int(r["SPECTRAL_WINDOW_ID"]), round(float(r["TIME"]), 3))
        if key not in want:
            missing += 1
            continue
        nt, freq, val, cable = want[key]
        if int(r["NUM_TONES"]) != nt or r["TONE_FREQUENCY"].shape != freq.shape:
            bad_n += 1
            continue
        worst_f = max(worst_f, float(np.max(np.abs(r["TONE_FREQUENCY"] - freq))))
        worst_v = max(worst_v, float(np.max(np.abs(r["PHASE_CAL"] - val))))
        worst_c = max(worst_c, abs(float(r["CABLE_CAL"]) - cable))
    print(f"PHASE_CAL: unmatched rows {missing}, wrong tone counts {bad_n}, "
          f"max |dfreq| {worst_f:.3g} Hz, max |dvalue| {worst_v:.3g}, max |dcable| {worst_c:.3g} s")
    ok &= missing == 0 and bad_n == 0 and worst_f == 0.0 and worst_v < 1e-7 and worst_c == 0.0
    print("CASA_PCAL_CHECK", "PASS" if ok else "FAIL")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()

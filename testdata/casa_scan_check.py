"""CASA and emcorr's scan table EMCORR_SCAN (not run by CI).

Imports two files written by `cargo run --release -p formats --example
fitsidi_synth`: one with `--session` (two scans, the second a same-beam scan
of two phase centres, with the EMCORR_SCAN table) and one with
`--session-no-table` (the same rows, no table). Checks that importfitsidi
accepts the file with the table, that the two Measurement Sets hold the same
rows (TIME, ANTENNA1/2, FIELD_ID, SCAN_NUMBER, DATA, FLAG, WEIGHT_SPECTRUM)
and the same subtables, i.e. that CASA ignores the extra table, and that
fringefit on the file with the table still recovers the injected station
delays (PT 0, LA +25, MOON1 -40 ns; MOON1 +0.3 ps/s) on both fields
(to 0.1 ns and 0.05 ps/s). Results: testdata/README.md.

Usage (CASA installed per shared/casa/README.md):
    cargo run --release -p formats --example fitsidi_synth -- RUN/session.idifits --session
    cargo run --release -p formats --example fitsidi_synth -- RUN/session_notable.idifits --session-no-table
    HOME=CASAHOME CASA/venv/bin/python testdata/casa_scan_check.py RUN
"""

import os
import shutil
import sys

import numpy as np
from casatasks import fringefit, importfitsidi, listobs
from casatools import table

INJECTED_DELAY_NS = {"PT": 0.0, "LA": 25.0, "MOON1": -40.0}
INJECTED_RATE_PS_S = {"PT": 0.0, "LA": 0.0, "MOON1": 0.3}
COLUMNS = ["TIME", "ANTENNA1", "ANTENNA2", "FIELD_ID", "SCAN_NUMBER", "DATA", "FLAG", "WEIGHT_SPECTRUM"]


def load(ms):
    tb = table()
    tb.open(ms)
    cols = {c: tb.getcol(c) for c in COLUMNS}
    subtables = sorted(k for k, v in tb.getkeywords().items() if isinstance(v, str) and v.startswith("Table"))
    tb.close()
    tb.open(ms + "/FIELD")
    fields = list(tb.getcol("NAME"))
    tb.close()
    return cols, subtables, fields


def main():
    run = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else ".")
    ok = True
    loaded = {}
    for name in ("session", "session_notable"):
        ms = os.path.join(run, name + ".ms")
        shutil.rmtree(ms, ignore_errors=True)
        importfitsidi(fitsidifile=[os.path.join(run, name + ".idifits")], vis=ms)
        if not os.path.isdir(ms):
            print(f"IMPORT {name}: importfitsidi made no MS")
            sys.exit(1)
        loaded[name] = load(ms)
        listfile = os.path.join(run, name + ".listobs.txt")
        listobs(vis=ms, listfile=listfile, overwrite=True)
        print(f"===== listobs {name}")
        print(open(listfile).read())

    (a, sub_a, fields_a), (b, sub_b, fields_b) = loaded["session"], loaded["session_notable"]
    print("fields", fields_a, "subtables", sub_a)
    same_sub = sub_a == sub_b and fields_a == fields_b
    print("SUBTABLES", "same" if same_sub else f"DIFFER: {sub_a} vs {sub_b}, {fields_a} vs {fields_b}")
    ok &= same_sub
    for c in COLUMNS:
        same = a[c].shape == b[c].shape and np.array_equal(a[c], b[c])
        print(f"COLUMN {c:16s} shape {a[c].shape}: {'same' if same else 'DIFFERS'}")
        ok &= bool(same)
    print("scans", sorted(set(int(s) for s in a["SCAN_NUMBER"])),
          "rows per field", {int(f): int((a["FIELD_ID"] == f).sum()) for f in set(a["FIELD_ID"])})

    # fringefit on the file with the table, one field at a time.
    ms = os.path.join(run, "session.ms")
    tb = table()
    tb.open(ms + "/ANTENNA")
    names = list(tb.getcol("NAME"))
    tb.close()
    for field in fields_a:
        cal = os.path.join(run, f"session_{field}.fringe")
        shutil.rmtree(cal, ignore_errors=True)
        fringefit(vis=ms, caltable=cal, field=field, refant="PT", solint="inf", combine="spw,scan", minsnr=3.0)
        tb.open(cal)
        fparam = tb.getcol("FPARAM")
        ants = tb.getcol("ANTENNA1")
        flags = tb.getcol("FLAG")
        tb.close()
        npar = fparam.shape[0] // 2
        for row, ant in enumerate(ants):
            n = names[ant]
            for pol in range(2):
                delay_ns = fparam[pol * npar + 1, 0, row]
                rate_ps = fparam[pol * npar + 2, 0, row] * 1e12
                # 0.1 ns: LANDER has half the integrations of 0552+398, and
                # the example's noise is not radiometric (no formal sigma).
                good = abs(delay_ns - INJECTED_DELAY_NS[n]) < 0.1 and abs(rate_ps - INJECTED_RATE_PS_S[n]) < 0.05
                ok &= bool(good) and not flags[pol * npar + 1, 0, row]
                print(f"FRINGEFIT {field:8s} {n:6s} pol {pol}: delay {delay_ns:+9.4f} ns "
                      f"(injected {INJECTED_DELAY_NS[n]:+.3f})  rate {rate_ps:+8.4f} ps/s "
                      f"(injected {INJECTED_RATE_PS_S[n]:+.3f})  {'OK' if good else 'MISMATCH'}")
    print("CASA SCAN CHECK", "PASSED" if ok else "FAILED")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()

"""CASA on a correlated session (not run by CI: CASA is a 1.9 GB install).

Imports the FITS-IDI file of a simulated session (testdata/scenarios/
session.toml through `emcorr simulate` and `emcorr correlate`) with
importfitsidi, splitting scans at gaps (scanreindexgap_s: FITS-IDI has no
scan column, and importfitsidi ignores emcorr's EMCORR_SCAN table), prints
listobs, checks that the scans and fields are those of the schedule, and
runs fringefit scan by scan and field by field (refant T6, solint inf,
combine spw): every antenna's delay must be within 2 ns of truth.json's
residual of baseline T6-antenna for that scan and source (the sign CASA and
emcorr share: V_ij ~ exp(-2 pi i nu (tau_i - tau_j))).

Usage (CASA per shared/casa/README.md):
    emcorr simulate testdata/scenarios/session.toml --out RUN
    emcorr correlate RUN/job.toml --output RUN/session.fits
    HOME=CASAHOME CASA/venv/bin/python testdata/casa_session_check.py RUN
"""

import json
import os
import shutil
import sys

import numpy as np
from casatasks import fringefit, importfitsidi, listobs
from casatools import table


def col(ms, sub, name):
    tb = table()
    tb.open(ms + ("/" + sub if sub else ""))
    v = tb.getcol(name)
    tb.close()
    return v


def main():
    run = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else ".")
    truth = json.load(open(os.path.join(run, "truth.json")))
    ms = os.path.join(run, "session.ms")
    shutil.rmtree(ms, ignore_errors=True)
    importfitsidi(fitsidifile=[os.path.join(run, "session.fits")], vis=ms, scanreindexgap_s=3.0)
    listfile = os.path.join(run, "session.listobs.txt")
    listobs(vis=ms, listfile=listfile, overwrite=True)
    print(open(listfile).read())

    ok = True
    fields = [str(f) for f in col(ms, "FIELD", "NAME")]
    antennas = list(col(ms, "ANTENNA", "NAME"))
    times = col(ms, None, "TIME")
    scan_no = col(ms, None, "SCAN_NUMBER")
    field_id = col(ms, None, "FIELD_ID")
    scans = truth["scans"]
    casa_scans = sorted(set(int(s) for s in scan_no))
    print("CASA scans", casa_scans, "fields", fields)
    # CASA makes one scan per field and time range: a same-beam scan of two
    # sources is two CASA scans at the same times. Map schedule scan ×
    # source to CASA scans by time and field.
    from casatools import measures
    t0 = None
    for sc in scans:
        start = sc["start"].rstrip("Z")
        me = measures()
        ep = me.epoch("utc", start.replace("T", "/"))
        t_start = ep["m0"]["value"] * 86400.0
        t_stop = t_start + sc["duration_s"]
        for src in sc["sources"]:
            f = fields.index(src) if src in fields else -1
            sel = (times >= t_start) & (times <= t_stop) & (field_id == f)
            found = sorted(set(int(x) for x in scan_no[sel]))
            print(f"scan {sc['name']} {src}: CASA scan(s) {found}")
            if len(found) != 1:
                ok = False
                continue
            cal = os.path.join(run, f"ff_{sc['name']}_{src}.cal")
            shutil.rmtree(cal, ignore_errors=True)
            fringefit(vis=ms, caltable=cal, field=src, scan=str(found[0]), solint="inf",
                      refant="T6", combine="spw", minsnr=3.0)
            tb = table()
            tb.open(cal)
            params = tb.getcol("FPARAM")  # [pol*3 (phase, delay ns, rate s/s), chan, row]
            ants = tb.getcol("ANTENNA1")
            flags = tb.getcol("FLAG")
            tb.close()
            res = sc["residuals"][src]["baselines"]
            for k, a in enumerate(ants):
                name = antennas[a]
                if name == "T6" or flags[1, 0, k]:
                    continue
                got_ns = params[1, 0, k]
                key = f"T6-{name}"
                if key not in res:
                    continue
                want_ns = res[key]["residual_delay_s"] * 1e9
                good = abs(got_ns - want_ns) < 2.0
                ok &= good
                print(f"  {src:12s} {name}: fringefit {got_ns:+9.3f} ns, truth {want_ns:+9.3f} ns"
                      f" {'ok' if good else 'OFF'}")
    # Every field CASA lists is a source of the schedule.
    named = sorted(set(x for sc in scans for x in sc["sources"]))
    ok &= sorted(fields) == named
    print("fields", sorted(fields), "schedule sources", named)
    print("RESULT", "ok" if ok else "FAILED")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()

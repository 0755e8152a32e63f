"""CASA as a real consumer of emcorr's FITS-IDI (not run by CI).

Imports a file written by `cargo run --release -p formats --example fitsidi_synth`
with importfitsidi, runs listobs, then fringefit, and compares the fitted
station delays and rates with the injected ones that the example prints
(PT 0 ns, LA +25 ns, MOON1 -40 ns and +0.3 ps/s).

Usage (CASA installed per shared/casa/README.md, e.g. in /work/casa):
    cargo run --release -p formats --example fitsidi_synth -- /work/casa/run/synth.idifits
    HOME=/work/casa/casahome /work/casa/venv/bin/python testdata/casa_check.py \
        /work/casa/run/synth.idifits /work/casa/run
"""

import os
import shutil
import sys

import numpy as np
from casatasks import fringefit, importfitsidi, listobs
from casatools import table

INJECTED_DELAY_NS = {"PT": 0.0, "LA": 25.0, "MOON1": -40.0}
INJECTED_RATE_PS_S = {"PT": 0.0, "LA": 0.0, "MOON1": 0.3}


def main():
    fits = os.path.abspath(sys.argv[1])
    work = os.path.abspath(sys.argv[2] if len(sys.argv) > 2 else ".")
    ms = os.path.join(work, "synth.ms")
    cal = os.path.join(work, "synth.fringe")
    for p in (ms, cal):
        shutil.rmtree(p, ignore_errors=True)

    importfitsidi(fitsidifile=[fits], vis=ms)
    listfile = os.path.join(work, "listobs.txt")
    listobs(vis=ms, listfile=listfile, overwrite=True)
    print(open(listfile).read())

    tb = table()
    tb.open(ms + "/ANTENNA")
    names = list(tb.getcol("NAME"))
    pos = tb.getcol("POSITION").T
    mount = list(tb.getcol("MOUNT"))
    tb.close()
    for n, p, m in zip(names, pos, mount):
        print(f"ANTENNA {n:6s} |xyz| = {np.linalg.norm(p) / 1e3:12.1f} km  mount {m}")

    tb.open(ms)
    data = tb.getcol("DATA")
    print("MS rows", tb.nrows(), "DATA shape", data.shape)
    tb.close()

    # One solution over the whole scan, both bands together (multiband delay).
    fringefit(vis=ms, caltable=cal, refant="PT", solint="inf", combine="spw", minsnr=3.0)
    tb.open(cal)
    fparam = tb.getcol("FPARAM")  # (params, chan, row); per pol: phase, delay (ns), rate (s/s), [disp]
    ants = tb.getcol("ANTENNA1")
    flags = tb.getcol("FLAG")
    tb.close()
    npar = fparam.shape[0] // 2
    ok = True
    for row, a in enumerate(ants):
        n = names[a]
        for pol in range(2):
            delay_ns = fparam[pol * npar + 1, 0, row]
            rate_ps = fparam[pol * npar + 2, 0, row] * 1e12
            d_want = INJECTED_DELAY_NS[n]
            r_want = INJECTED_RATE_PS_S[n]
            good = abs(delay_ns - d_want) < 0.05 and abs(rate_ps - r_want) < 0.05
            ok &= bool(good) and not flags[pol * npar + 1, 0, row]
            print(
                f"FRINGEFIT {n:6s} pol {pol}: delay {delay_ns:+9.4f} ns (injected {d_want:+.3f})"
                f"  rate {rate_ps:+8.4f} ps/s (injected {r_want:+.3f})  {'OK' if good else 'MISMATCH'}"
            )
    print("CASA CHECK", "PASSED" if ok else "FAILED")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()

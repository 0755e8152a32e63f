"""CASA check of a zoom pass's output (`[[zoom]]`, `<output>_zoom.fits`).

Usage (CASA 6 python, offline):
    python casa_zoom_check.py ZOOM.fits JOB.toml TRUTH.json WORKDIR

Imports the zoom file with importfitsidi and checks, as CASA reads it:
- one spectral window per zoom, with the zoom's channel count, CHAN_WIDTH
  = bandwidth_hz / channels, and channel k at sky_freq_hz + k x width;
- in the lander's rows, each carrier (truth.json) peaks in the channel
  nearest its sky frequency, with the truth's fringe phase within 0.05 rad.
  importfitsidi stores the conjugate of FITS-IDI's FLUX in the MS DATA
  column (checked here on the main and zoom files alike: DATA = conj(FLUX)),
  so the MS phase is compared with minus the truth's V_AB phase.
Prints what it compared and exits non-zero on a mismatch.
"""

import json
import os
import shutil
import sys
import tomllib

import numpy as np
from casatasks import importfitsidi
from casatools import msmetadata, table


def main():
    fits, job_path, truth_path, work = sys.argv[1:5]
    os.makedirs(work, exist_ok=True)
    with open(job_path, "rb") as f:
        job = tomllib.load(f)
    with open(truth_path) as f:
        truth = json.load(f)
    ms = os.path.join(work, "zoom.ms")
    shutil.rmtree(ms, ignore_errors=True)
    importfitsidi(fitsidifile=[fits], vis=ms, constobsid=True)
    md = msmetadata()
    md.open(ms)
    zooms = job["zoom"]
    ok = md.nspw() == len(zooms)
    print(f"spectral windows: {md.nspw()} (zooms: {len(zooms)})")
    for s, z in enumerate(zooms):
        width = z["bandwidth_hz"] / z["channels"]
        freqs = np.asarray(md.chanfreqs(s))
        widths = np.asarray(md.chanwidths(s))
        want = z["sky_freq_hz"] + np.arange(z["channels"]) * width
        err = np.max(np.abs(freqs - want))
        print(f"spw {s}: {len(freqs)} channels of {widths[0]} Hz, frequency error {err:.3e} Hz")
        ok &= len(freqs) == z["channels"] and np.allclose(widths, width) and err < 1e-3
    names = md.antennanames()
    fields = md.fieldnames()
    md.close()
    res = truth["scans"][0]["residuals"]["CE7LANDER"]["baselines"]
    tb = table()
    tb.open(ms)
    lander = fields.index("CE7LANDER")
    for s, z in enumerate(zooms):
        sub = tb.query(f"DATA_DESC_ID=={s} && FIELD_ID=={lander} && ANTENNA1!=ANTENNA2")
        data = sub.getcol("DATA")
        a1, a2 = sub.getcol("ANTENNA1"), sub.getcol("ANTENNA2")
        sub.close()
        for r in range(data.shape[2]):
            bl = f"{names[a1[r]]}-{names[a2[r]]}"
            tone = res[bl]["tones"][s]
            v = data[0, :, r]
            k = int(np.argmax(np.abs(v)))
            k_want = int(round((tone["sky_freq_hz"] - z["sky_freq_hz"]) / (z["bandwidth_hz"] / z["channels"])))
            err = (-np.angle(v[k]) - tone["residual_phase_rad"] + np.pi) % (2 * np.pi) - np.pi
            print(f"zoom {s} {bl}: peak channel {k} (carrier's {k_want}), conj phase {-np.angle(v[k]):+.4f} rad, truth {tone['residual_phase_rad']:+.4f} (error {err:+.4f})")
            ok &= k == k_want and abs(err) < 0.05
    tb.close()
    print("OK" if ok else "MISMATCH")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()

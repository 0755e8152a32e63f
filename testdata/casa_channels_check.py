"""CASA check of averaged output channels ([correlation] channels).

Usage (CASA 6 python, offline):
    python casa_channels_check.py FULL.fits AVG.fits JOB.toml WORKDIR

FULL.fits: a job correlated with every FFT channel; AVG.fits: the same job
with `channels = C`. Checks, as CASA reads the files:
- each spectral window of AVG has C channels, CHAN_WIDTH = m x the FFT's
  (m = full / C), and channel j at the mean frequency of FFT channels
  j*m ... j*m+m-1 (from the job's sky_freq_hz, sideband and the FFT grid);
- the averaged visibilities equal the means of the full-resolution ones
  (per row, correlation and channel group).
Prints what it compared and exits non-zero on a mismatch.
"""

import os
import shutil
import sys
import tomllib

import numpy as np
from casatasks import importfitsidi
from casatools import msmetadata, table


def ms_of(fits, work, name):
    ms = os.path.join(work, name + ".ms")
    shutil.rmtree(ms, ignore_errors=True)
    importfitsidi(fitsidifile=[fits], vis=ms, constobsid=True)
    return ms


def main():
    full_fits, avg_fits, job_path, work = sys.argv[1:5]
    os.makedirs(work, exist_ok=True)
    with open(job_path, "rb") as f:
        job = tomllib.load(f)
    ms_full = ms_of(full_fits, work, "full")
    ms_avg = ms_of(avg_fits, work, "avg")
    md = msmetadata()
    md.open(ms_full)
    nspw = md.nspw()
    full_freqs = [md.chanfreqs(s) for s in range(nspw)]
    full_width = [md.chanwidths(s) for s in range(nspw)]
    md.close()
    md.open(ms_avg)
    avg_freqs = [md.chanfreqs(s) for s in range(nspw)]
    avg_width = [md.chanwidths(s) for s in range(nspw)]
    md.close()
    ok = True
    c = job["correlation"]["channels"]
    for s in range(nspw):
        n_full = len(full_freqs[s])
        m = n_full // c
        sb = job["subband"][s]
        sign = 1.0 if sb.get("sideband", "U") == "U" else -1.0
        df = sb["bandwidth_hz"] / n_full
        want = sb["sky_freq_hz"] + sign * (np.arange(c) * m + (m - 1) / 2) * df
        err_f = np.max(np.abs(np.asarray(avg_freqs[s]) - want))
        # and the mean of CASA's own full-resolution channel frequencies
        mean_full = np.asarray(full_freqs[s]).reshape(c, m).mean(axis=1)
        err_m = np.max(np.abs(np.asarray(avg_freqs[s]) - mean_full))
        width_ratio = np.abs(avg_width[s][0] / full_width[s][0])
        print(
            f"spw {s}: {len(avg_freqs[s])} channels (of {n_full}), width ratio {width_ratio}, "
            f"channel 1 at {avg_freqs[s][0]:.3f} Hz (expected {want[0]:.3f}); "
            f"max |freq - expected| {err_f:.3g} Hz, max |freq - mean of full| {err_m:.3g} Hz"
        )
        if len(avg_freqs[s]) != c or abs(width_ratio - m) > 1e-9 or err_f > 1e-3 or err_m > 1e-3:
            ok = False
    tb = table()
    tb.open(ms_full)
    full = tb.getcol("DATA")  # [corr][chan][row], rows of every spw
    ddf = tb.getcol("DATA_DESC_ID")
    tb.close()
    tb.open(ms_avg)
    avg = tb.getcol("DATA")
    dda = tb.getcol("DATA_DESC_ID")
    tb.close()
    if full.shape[2] != avg.shape[2] or not np.array_equal(ddf, dda):
        print(f"row layout differs: {full.shape} vs {avg.shape}")
        sys.exit(1)
    ncorr, nfull, nrow = full.shape
    m = nfull // c
    means = full.reshape(ncorr, c, m, nrow).mean(axis=2)
    scale = np.abs(full).reshape(ncorr, c, m, nrow).max(axis=2) + 1e-30
    rel = np.abs(avg - means) / scale
    print(f"visibilities: {nrow} rows x {ncorr} correlations x {c} channels; "
          f"max |avg - mean of full| / max|full| in group = {rel.max():.3g}")
    if rel.max() > 1e-5:
        ok = False
    print("OK" if ok else "MISMATCH")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()

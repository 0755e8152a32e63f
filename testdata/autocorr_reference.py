#!/usr/bin/env python3
"""Autocorrelation spectra of a VDIF recording, computed without emcorr:
baseband decodes the frames, numpy transforms them. Used by
tools/tests/onestation_cli.rs to check `emcorr correlate` on a one-station
job channel by channel; with --fits it also reads emcorr's FITS-IDI output
with astropy, so the comparison does not go through emcorr's reader.

Usage:
    autocorr_reference.py VDIF --sample-rate HZ --fft-length N
        --start-sample S --blocks-per-integration M --integrations K
        --outer-level H [--fits FILE]

Prints one JSON object:
    {"threads": {"<thread id>": [{"used": u, "spectrum": [P_0, ...] or null}, ...]},
     "fits": [{"baseline": 257, "date": jd0, "time": day_fraction,
               "re": [[...] per band], "im": [[...] per band],
               "weight": [[...] per band]}, ...]}   (with --fits; Stokes 1)

The reference, per VDIF thread and integration k (the rules emcorr's README
documents for `emcorr correlate`, applied here independently):

- samples: baseband's frame reader; the frame with (seconds, frame_nr) holds
  stream samples ((seconds - s0) * fps + frame_nr) * spf + i, s0 the first
  frame's seconds, fps = sample rate / spf. Samples of frames that are
  absent or flagged invalid (baseband's frame.valid) are invalid.
- 2-bit values: baseband decodes to +-1, +-3.316505; emcorr decodes the same
  codes to +-1, +-H (H = --outer-level: emcorr uses 3.3359, Thompson, Moran &
  Swenson table 8.1). The codes are relabelled, v -> sign(v) * H where
  |v| > 2, so both sides square the same numbers. Other widths are taken as
  baseband decodes them.
- block b = samples [S + b N, S + (b + 1) N) (a one-station job with a zero
  delay model: no fringe rotation, no fractional-sample correction, so
  block b starts exactly at the job's start sample S plus b N); it is used
  only if every sample in it is valid.
- integration k = blocks [k M, (k + 1) M); "used" counts its used blocks
  (emcorr's weight is used / M).
- spectrum: P_j = sum over used blocks of |FFT(x)_j|^2 for j = 0 .. N/2 - 1
  (real sampling: the positive-frequency half, channel j at j fs / N above
  the band edge), divided by its mean over j: emcorr normalises an
  autocorrelation to a band mean of 1 and applies no quantisation (Van
  Vleck) correction to autocorrelations. null when no block is used.

Needs: pip install baseband numpy (and astropy, which baseband requires).
"""
import argparse
import json

import numpy as np
from baseband import vdif


def decode(path, sample_rate, outer):
    """Per thread: (samples float64, valid bool) over the stream's span."""
    frames = {}
    spf = None
    s0 = None
    with vdif.open(path, 'rb') as fh:
        while True:
            try:
                f = fh.read_frame()
            except EOFError:
                break
            h = f.header
            spf = h.samples_per_frame
            if s0 is None:
                s0 = h['seconds']
            fps = int(round(sample_rate / spf))
            index = (h['seconds'] - s0) * fps + h['frame_nr']
            data = np.asarray(f.data[:, 0], dtype=np.float64)
            if h.bps == 2:
                data = np.where(np.abs(data) > 2.0, np.sign(data) * outer, data)
            frames.setdefault(h['thread_id'], {})[index] = (data, bool(f.valid))
    out = {}
    for tid, fr in frames.items():
        n = (max(fr) + 1) * spf
        x = np.zeros(n)
        ok = np.zeros(n, dtype=bool)
        for index, (data, valid) in fr.items():
            x[index * spf:(index + 1) * spf] = data
            ok[index * spf:(index + 1) * spf] = valid
        out[tid] = (x, ok)
    return out


def reference(x, ok, n, start, m, k_max):
    ints = []
    for k in range(k_max):
        acc = np.zeros(n // 2)
        used = 0
        for b in range(k * m, (k + 1) * m):
            lo, hi = start + b * n, start + (b + 1) * n
            if lo < 0 or hi > len(x) or not ok[lo:hi].all():
                continue
            acc += np.abs(np.fft.fft(x[lo:hi])[:n // 2]) ** 2
            used += 1
        ints.append({'used': used,
                     'spectrum': (acc / acc.mean()).tolist() if used else None})
    return ints


def read_fits(path):
    from astropy.io import fits
    rows = []
    with fits.open(path) as hdul:
        uv = hdul['UV_DATA']
        nband = uv.header['NO_BAND']
        nchan = uv.header['NO_CHAN']
        nstk = uv.header['NO_STKD']
        for r in uv.data:
            # TDIM (3, STOKES, FREQ, BAND, RA, DEC): C order reverses it.
            flux = np.asarray(r['FLUX'], dtype=np.float64).reshape(nband, nchan, nstk, 3)
            rows.append({'baseline': int(r['BASELINE']),
                         'date': float(r['DATE']), 'time': float(r['TIME']),
                         're': flux[:, :, 0, 0].tolist(),
                         'im': flux[:, :, 0, 1].tolist(),
                         'weight': flux[:, :, 0, 2].tolist()})
    return rows


def main():
    p = argparse.ArgumentParser()
    p.add_argument('vdif')
    p.add_argument('--sample-rate', type=float, required=True)
    p.add_argument('--fft-length', type=int, required=True)
    p.add_argument('--start-sample', type=int, required=True)
    p.add_argument('--blocks-per-integration', type=int, required=True)
    p.add_argument('--integrations', type=int, required=True)
    p.add_argument('--outer-level', type=float, required=True)
    p.add_argument('--fits')
    a = p.parse_args()
    threads = decode(a.vdif, a.sample_rate, a.outer_level)
    out = {'threads': {str(t): reference(x, ok, a.fft_length, a.start_sample,
                                         a.blocks_per_integration, a.integrations)
                       for t, (x, ok) in sorted(threads.items())}}
    if a.fits:
        out['fits'] = read_fits(a.fits)
    print(json.dumps(out))


if __name__ == '__main__':
    main()

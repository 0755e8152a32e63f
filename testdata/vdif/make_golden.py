#!/usr/bin/env python3
"""Make the VDIF golden files with Python baseband (an independent decoder).

Not run by CI. Needs `pip install baseband` (tested with baseband 4.3.0).
Run from this folder:  python3 make_golden.py

1. Copies baseband's small sample VDIF files here.
2. Writes two more files with baseband's own VDIF writer: complex 2-bit
   4-channel with 2 threads, and real 4-bit 2-channel with legacy headers.
3. For every frame of every file, decodes it with baseband's frame reader and
   writes the codes of the first 512 and last 64 samples of each channel
   (up to 1024 channels) to NAME.golden, one line per frame and channel:

       frame thread channel first count code code ...

   (complex: two codes per sample, real part first). Codes are recovered from
   baseband's decoded values by exact lookup in baseband's own level table
   (`baseband.base.encoding.decoder_levels`, 8 bit: (code - 127.5) / 35.5), so
   they do not depend on which 2-bit high level anyone prefers.
"""
import os
import shutil

import numpy as np
import baseband
from astropy.time import Time
import astropy.units as u
import baseband.data as bd
from baseband import vdif
from baseband.base.encoding import decoder_levels

HERE = os.path.dirname(os.path.abspath(__file__))
COPIES = ['sample.vdif', 'sample_mwa.vdif', 'sample_bps1.vdif',
          'sample_arochime.vdif', 'sample_drao_corrupted.vdif']
DECODED = ['sample.vdif', 'sample_mwa.vdif', 'sample_bps1.vdif',
           'sample_arochime.vdif', 'bb_complex2bit_4ch_2thread.vdif',
           'bb_real4bit_2ch_legacy.vdif']


def levels(bps):
    if bps == 8:
        return ((np.arange(256, dtype=np.float32) - np.float32(127.5))
                / np.float32(35.5))
    return np.asarray(decoder_levels[bps], dtype=np.float32)


def codes_of(values, bps):
    table = levels(bps)
    v = np.asarray(values, dtype=np.float32)
    idx = np.abs(v[..., None] - table).argmin(-1)
    assert np.all(table[idx] == v), 'baseband value not an exact level'
    return idx


def write_samples():
    rng = np.random.default_rng(20260314)
    # Complex 2-bit, 4 channels, 2 threads: baseband's writer quantises.
    fn = os.path.join(HERE, 'bb_complex2bit_4ch_2thread.vdif')
    with vdif.open(fn, 'ws', sample_rate=1024 * 4 * u.Hz, samples_per_frame=64,
                   nchan=4, nthread=2, complex_data=True, bps=2, edv=0,
                   station='EM', time=Time('2026-03-14T23:45:00', scale='utc')) as fw:
        d = (rng.normal(size=(64 * 8, 2, 4))
             + 1j * rng.normal(size=(64 * 8, 2, 4))) * 2.0
        fw.write(d.astype(np.complex64))
    # Real 4-bit, 2 channels, legacy 16-byte headers.
    fn = os.path.join(HERE, 'bb_real4bit_2ch_legacy.vdif')
    with vdif.open(fn, 'ws', sample_rate=256 * 4 * u.Hz, samples_per_frame=256,
                   nchan=2, nthread=1, complex_data=False, bps=4, edv=False,
                   station=0x454d, time=Time('2026-03-14T23:45:00', scale='utc')) as fw:
        fw.write((rng.normal(size=(256 * 6, 2)) * 1.5).astype(np.float32))


def golden(name):
    lines = []
    with open(os.path.join(HERE, name), 'rb') as fh:
        size = os.fstat(fh.fileno()).st_size
        i = 0
        while fh.tell() < size:
            frame = vdif.VDIFFrame.fromfile(fh)
            h = frame.header
            data = frame.data.reshape(frame.shape[0], -1)
            spf, nchan = data.shape
            picks = sorted(set(range(min(spf, 512)))
                           | set(range(max(0, spf - 64), spf)))
            runs = []
            for s in picks:
                if runs and runs[-1][1] == s:
                    runs[-1][1] = s + 1
                else:
                    runs.append([s, s + 1])
            for c in range(min(nchan, 1024)):
                for a, b in runs:
                    v = data[a:b, c]
                    if h['complex_data']:
                        v = np.stack([v.real, v.imag], -1).ravel()
                    codes = codes_of(v, h.bps)
                    lines.append(' '.join(map(str, [i, h['thread_id'], c, a, b - a]
                                              + codes.tolist())))
            i += 1
    with open(os.path.join(HERE, name + '.golden'), 'w') as f:
        f.write('# decoded by baseband %s; see make_golden.py\n'
                % baseband.__version__)
        f.write('\n'.join(lines) + '\n')


if __name__ == '__main__':
    for name in COPIES:
        shutil.copy(os.path.join(os.path.dirname(bd.__file__), name), HERE)
    write_samples()
    for name in DECODED:
        golden(name)

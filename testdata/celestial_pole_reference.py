#!/usr/bin/env python3
"""Independent ITRS -> GCRS reference with the celestial pole offsets dX, dY
(IERS Conventions 2010 eq. 5.26) for emcorr's Earth orientation (not run by CI).

For a few UTC instants at 0h (table days of finals2000A_2025-2026.txt, so
the EOP are the file's own values and no interpolation is involved), reads
x_p, y_p, UT1-UTC and the Bulletin A dX, dY from the fixed columns
(readme.finals2000A: 19-27, 38-46, 59-68, 98-106, 117-125, 1-based) and
rotates Tianma's (T6) ITRF position to the GCRS with pyerfa:

    X, Y, s = xys06a(TT);  X += dX, Y += dY          (eq. 5.26)
    RC2I = c2ixys(X, Y, s);  ERA = era00(UT1);  W = pom00(xp, yp, sp00(TT))
    GCRS = (W R3(ERA) RC2I)^T ITRS                   (eq. 5.1, c2tcio)

once with and once without dX, dY, and writes celestial_pole_reference.csv
beside this file.

    pip install pyerfa
    python3 testdata/celestial_pole_reference.py
"""
import os

import erfa
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
MAS = np.pi / (180 * 3600 * 1000)
T6 = np.array([-2826708.8081, 4679236.9722, 3274667.4495])
DAYS = [(2025, 3, 14), (2025, 7, 1), (2025, 10, 20)]


def row(mjd):
    with open(os.path.join(HERE, 'finals2000A_2025-2026.txt')) as f:
        for line in f:
            if float(line[7:15]) == mjd:
                c = lambda a, b: float(line[a - 1:b])
                return c(19, 27), c(38, 46), c(59, 68), c(98, 106), c(117, 125)
    raise ValueError(mjd)


out = ['utc,xp_arcsec,yp_arcsec,dut1_s,dx_mas,dy_mas,'
       'gcrs_x_m,gcrs_y_m,gcrs_z_m,nocpo_x_m,nocpo_y_m,nocpo_z_m']
for (y, m, d) in DAYS:
    u1, u2 = erfa.dtf2d('UTC', y, m, d, 0, 0, 0.0)
    mjd = u1 + u2 - 2400000.5
    xp, yp, dut1, dx, dy = row(mjd)
    t1, t2 = erfa.taitt(*erfa.utctai(u1, u2))
    b1, b2 = erfa.utcut1(u1, u2, dut1)
    vecs = []
    for ddx, ddy in [(dx, dy), (0.0, 0.0)]:
        x, yy, s = erfa.xys06a(t1, t2)
        rc2i = erfa.c2ixys(x + ddx * MAS, yy + ddy * MAS, s)
        era = erfa.era00(b1, b2)
        rpom = erfa.pom00(xp * MAS * 1000, yp * MAS * 1000, erfa.sp00(t1, t2))
        rc2t = erfa.c2tcio(rc2i, era, rpom)
        vecs.append(rc2t.T @ T6)
    out.append(f'{y:04d}-{m:02d}-{d:02d}T00:00:00Z,{xp},{yp},{dut1},{dx},{dy},'
               + ','.join(f'{v:.6f}' for v in np.concatenate(vecs)))
with open(os.path.join(HERE, 'celestial_pole_reference.csv'), 'w') as f:
    f.write('\n'.join(out) + '\n')
print('\n'.join(out))

#!/usr/bin/env python3
"""Independent azimuth/elevation reference for emcorr's station frames (not run by CI).

Computes, with astropy (no refraction: pressure 0), the azimuth (north through
east) and elevation of three sources seen from five Earth stations at six
instants of March 2026, and writes azel_reference.csv beside this file.

Independent of emcorr's code: astropy's ICRS -> AltAz chain (ERFA's
apparent-place routines: light deflection, annual and diurnal aberration;
CIO-based Earth orientation with this EOP file; WGS84 geodetic frame). The
near-field source is the Moon's centre (NAIF 301) from the same SPK excerpt
(astropy's get_body with jplephem), light-time corrected. What emcorr and this
script share is only the inputs below.

    pip install astropy jplephem
    python3 testdata/azel_reference.py
"""
import csv
import os

import astropy.units as u
from astropy.coordinates import (AltAz, EarthLocation, SkyCoord, get_body,
                                 solar_system_ephemeris)
from astropy.time import Time
from astropy.utils import iers

HERE = os.path.dirname(os.path.abspath(__file__))

iers.conf.auto_download = False
iers.earth_orientation_table.set(
    iers.IERS_A.open(os.path.join(HERE, 'finals2000A_2025-2026.txt')))
solar_system_ephemeris.set(os.path.join(HERE, 'de421_2026_excerpt.bsp'))

STATIONS = {  # ITRF metres
    'T6': [-2826708.8081, 4679236.9722, 3274667.4495],
    'KM': [-1281152.8, 5640864.4, 2682653.5],
    'UR': [228310.7, 4631922.8, 4367064.1],
    'HO': [-3950237.0, 2522347.6, -4311561.8],   # near Hobart (-43 deg)
    'NY': [1202462.8, 252734.4, 6237766.0],      # near Ny-Alesund (+79 deg)
}
SOURCES = {  # name -> (ra, dec) or None for the Moon's centre
    'pks1921': ('19h24m51.0559s', '-29d14m30.121s'),
    '3c273': ('12h29m06.6997s', '+02d03m08.598s'),
    'moon': None,
}
TIMES = [
    '2026-03-02T03:10:00', '2026-03-07T11:45:30', '2026-03-14T23:45:00',
    '2026-03-18T16:20:00', '2026-03-24T07:05:00', '2026-03-30T20:30:00',
]

rows = []
for src, radec in SOURCES.items():
    for t in TIMES:
        time = Time(t, scale='utc')
        for name, xyz in STATIONS.items():
            loc = EarthLocation.from_geocentric(*xyz, unit=u.m)
            frame = AltAz(obstime=time, location=loc, pressure=0 * u.hPa)
            if radec is None:
                c = get_body('moon', time, location=loc)
            else:
                c = SkyCoord(radec[0], radec[1], frame='icrs')
            aa = c.transform_to(frame)
            rows.append((src, time.isot + 'Z', name,
                         '%.9f' % aa.az.deg, '%.9f' % aa.alt.deg))

with open(os.path.join(HERE, 'azel_reference.csv'), 'w', newline='') as f:
    w = csv.writer(f, lineterminator='\n')
    w.writerow(['source', 'time_utc', 'station', 'az_deg', 'el_deg'])
    w.writerows(rows)
print('wrote %d rows' % len(rows))

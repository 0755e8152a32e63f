#!/usr/bin/env python3
"""Independent reference delays for emcorr's delay model (not run by CI).

Computes tau(g) -- the TT interval from a wavefront's (or signal's) arrival at
the geocentre at UTC g to its arrival at each station -- with skyfield and
jplephem, from the same kernels and EOP as the Rust tests, and writes
model_reference.csv beside this file.

Independent of emcorr's code: Earth orientation is skyfield's (equinox-based
GAST, IAU 2006 precession + IAU 2000A nutation, frame bias, skyfield's linear
interpolation of the EOP, its polar-motion matrix); the ephemeris is read by
jplephem; the Moon's ME frame is skyfield's PlanetaryConstants reading of the
binary PCK and the frame kernel; TDB-TT is skyfield's USNO Circular 179
series; light-time equations are solved by plain fixed-point iteration with
every body evaluated exactly at its own time. What the two share is the
physics written down in testdata/README.md (the conventions of the model).

Case 'far_tide' repeats 'far' for the Earth stations displaced by the solid
Earth tide of pysolid (Milbert's solid.for, IERS 2010 steps 1 and 2 with its
own low-precision Sun and Moon), an implementation independent of emcorr's.

    pip install skyfield jplephem pysolid
    python3 testdata/model_reference.py
"""
import csv
import os

import datetime

import numpy as np
import pysolid
from skyfield.api import Loader
from skyfield.data import iers
from skyfield.planetarylib import PlanetaryConstants
from skyfield.timelib import Timescale, tdb_minus_tt
from skyfield.toposlib import ITRSPosition
from skyfield.units import Distance

HERE = os.path.dirname(os.path.abspath(__file__))
C = 299792458.0
L_C = 1.48082686741e-8
A_E = 6378136.6
GM = {  # DE421 values, m^3/s^2
    'sun': 1.32712440040944e20,
    'earth': 3.98600436233e14,
    'moon': 4.902800076e12,
    'jupiter barycenter': 1.267127648e17,
}
MOON_R = 1737400.0
DAY = 86400.0

load = Loader(HERE)
eph = load('de421_2026_excerpt.bsp')
body = {name: eph[name] for name in GM}

# Timescale with this EOP file: TT - UT1 = 69.184 s - (UT1 - UTC) in 2025-26
# (TAI - UTC = 37 s throughout the file); leap-second table from skyfield.
with open(os.path.join(HERE, 'finals2000A_2025-2026.txt'), 'rb') as f:
    finals = iers.parse_x_y_dut1_from_finals_all(f)
ts0 = load.timescale()
daily_tt = finals['utc_mjd'] + 2400000.5 + 69.184 / DAY
ts = Timescale((daily_tt, 69.184 - finals['dut1']), ts0.leap_dates, ts0.leap_offsets)
iers.install_polar_motion_table(ts, finals)

pc = PlanetaryConstants()
pc.read_text(load('moon_080317.tf'))
pc.read_binary(load('moon_pa_de421_1900-2050.bpc'))
moon_me = pc.build_frame_named('MOON_ME_DE421')

STATIONS = {
    'T6': ('earth', [-2826708.8081, 4679236.9722, 3274667.4495]),
    'KM': ('earth', [-1281152.8, 5640864.4, 2682653.5]),
    'UR': ('earth', [228310.7, 4631922.8, 4367064.1]),
    'LS': ('moon', (-89.5, 0.0, 0.0)),
}


# Solid Earth tide in the ITRS (m) for 'far_tide', else None.
TIDE = None
_TIDE_DAYS = {}


def geodetic(x):
    """GRS80 geodetic latitude, longitude (deg) of ITRS x (Bowring iteration)."""
    a, f = 6378137.0, 1 / 298.257222101
    e2 = f * (2 - f)
    p = np.hypot(x[0], x[1])
    lat = np.arctan2(x[2], p * (1 - e2))
    for _ in range(10):
        n = a / np.sqrt(1 - e2 * np.sin(lat) ** 2)
        h = p / np.cos(lat) - n
        lat = np.arctan2(x[2], p * (1 - e2 * n / (n + h)))
    return np.degrees(lat), np.degrees(np.arctan2(x[1], x[0]))


def solid_tide_itrs(coords, t):
    """pysolid's east/north/up tide at UTC of skyfield Time t (on its 5 s
    grid, linearly interpolated), turned into ITRS axes."""
    lat, lon = geodetic(np.array(coords))
    utc = t.utc_datetime().replace(tzinfo=None)
    day = utc.date()
    key = (tuple(coords), day)
    if key not in _TIDE_DAYS:
        t0 = datetime.datetime(day.year, day.month, day.day)
        times, e, n, u = pysolid.calc_solid_earth_tides_point(
            lat, lon, t0, t0 + datetime.timedelta(seconds=86395), step_sec=5, verbose=False)
        _TIDE_DAYS[key] = np.array([e, n, u], dtype=float)
    enu = _TIDE_DAYS[key]
    s = (utc - datetime.datetime(day.year, day.month, day.day)).total_seconds() / 5.0
    i = min(int(s), enu.shape[1] - 2)
    e, n, u = enu[:, i] + (s - i) * (enu[:, i + 1] - enu[:, i])
    la, lo = np.radians(lat), np.radians(lon)
    east = np.array([-np.sin(lo), np.cos(lo), 0.0])
    north = np.array([-np.sin(la) * np.cos(lo), -np.sin(la) * np.sin(lo), np.cos(la)])
    up = np.array([np.cos(la) * np.cos(lo), np.cos(la) * np.sin(lo), np.sin(la)])
    return e * east + n * north + u * up


def moon_xyz(lat, lon, h):
    r = MOON_R + h
    la, lo = np.radians(lat), np.radians(lon)
    return np.array([r * np.cos(la) * np.cos(lo), r * np.cos(la) * np.sin(lo), r * np.sin(la)])


def at(tg, dt):
    """skyfield Time dt TDB seconds after Time tg."""
    return ts.tdb_jd(tg.whole, tg.tdb_fraction + dt / DAY)


def bcrs(name, t):
    p = body[name].at(t)
    return p.position.m, p.velocity.m_per_s


def potential_at(x, t, skip):
    return sum(GM[n] / np.linalg.norm(x - bcrs(n, t)[0]) for n in GM if n != skip)


def station_bcrs(st, t):
    kind, coords = STATIONS[st]
    if kind == 'earth':
        parent, scale_const = 'earth', L_C
        itrs = np.array(coords)
        if TIDE:
            itrs = itrs + solid_tide_itrs(coords, t)
        local = ITRSPosition(Distance(m=itrs)).at(t).position.m
    else:
        parent, scale_const = 'moon', 0.0
        x_me = moon_xyz(*coords) if len(coords) == 3 and abs(coords[0]) <= 90 else np.array(coords)
        local = moon_me.rotation_at(t).T @ x_me
    X, V = bcrs(parent, t)
    U = potential_at(X, t, parent)
    return X + local * (1 - U / C**2 - scale_const) - 0.5 * np.dot(V, local) * V / C**2


def lander_bcrs(site, t):
    X, V = bcrs('moon', t)
    local = moon_me.rotation_at(t).T @ moon_xyz(*site)
    U = potential_at(X, t, 'moon')
    return X + local * (1 - U / C**2) - 0.5 * np.dot(V, local) * V / C**2


def far_grav(k, x, tg, dt, geocentre):
    total = 0.0
    for n in GM:
        if n == 'earth' and geocentre:
            continue
        xj = bcrs(n, at(tg, dt))[0]
        back = max(np.dot(k, xj - x) / C, 0.0)       # IERS 2010 eq. 11.3
        r = x - bcrs(n, at(tg, dt - back))[0]
        arg = np.linalg.norm(r) + np.dot(k, r)
        if n == 'earth':
            arg /= 2 * A_E
        total -= 2 * GM[n] / C**3 * np.log(arg)
    return total


def near_grav(xs, te, xr, tr, tg, geocentre):
    total = 0.0
    rho_v = xr - xs
    rho = np.linalg.norm(rho_v)
    for n in GM:
        if n == 'earth' and geocentre:
            continue
        x0 = bcrs(n, at(tg, te))[0]
        lam = min(max(np.dot(x0 - xs, rho_v) / rho**2, 0.0), 1.0)
        xj = bcrs(n, at(tg, te + lam * (tr - te)))[0]
        rs, rr = np.linalg.norm(xs - xj), np.linalg.norm(xr - xj)
        if rs < 1e3:
            continue
        total += 2 * GM[n] / C**3 * np.log((rs + rr + rho) / (rs + rr - rho))
    return total


def to_tt(tg, dt, x_i):
    """TDB interval dt from the geocentre event at tg to station event x_i -> TT."""
    ti = at(tg, dt)
    jd_g, jd_i = tg.whole, ti.whole
    dtdb = tdb_minus_tt(jd_i, ti.tdb_fraction) - tdb_minus_tt(jd_g, tg.tdb_fraction)
    XE, VE = bcrs('earth', ti)
    return dt - dtdb - np.dot(VE, x_i - XE) / C**2


def tau_far(utc, st, k):
    tg = ts.utc(*utc)
    XE = bcrs('earth', tg)[0]
    g0 = far_grav(k, XE, tg, 0.0, True)
    dt = 0.0
    for _ in range(8):
        x = station_bcrs(st, at(tg, dt))
        dt = -np.dot(k, x - XE) / C + far_grav(k, x, tg, dt, False) - g0
    return to_tt(tg, dt, station_bcrs(st, at(tg, dt)))


def tau_near(utc, st, site):
    tg = ts.utc(*utc)
    XE = bcrs('earth', tg)[0]
    te = 0.0
    for _ in range(8):
        xs = lander_bcrs(site, at(tg, te))
        te = -np.linalg.norm(XE - xs) / C - near_grav(xs, te, XE, 0.0, tg, True)
    xs = lander_bcrs(site, at(tg, te))
    dt = 0.0
    for _ in range(8):
        x = station_bcrs(st, at(tg, dt))
        dt = te + np.linalg.norm(x - xs) / C + near_grav(xs, te, x, dt, tg, False)
    return to_tt(tg, dt, station_bcrs(st, at(tg, dt)))


def radec_unit(ra_h, ra_m, ra_s, dec_d, dec_m, dec_s, sign):
    ra = np.radians((ra_h + ra_m / 60 + ra_s / 3600) * 15)
    dec = sign * np.radians(dec_d + dec_m / 60 + dec_s / 3600)
    return np.array([np.cos(dec) * np.cos(ra), np.cos(dec) * np.sin(ra), np.sin(dec)])


PKS1921 = radec_unit(19, 24, 51.0559, 29, 14, 30.121, -1)
LANDER = (-89.0, 30.0, 0.0)   # near-field transmitter on the Moon (ME)
EPOCHS = [  # spread over the lunar month of March 2026
    (2026, 3, 1, 3, 10, 0.0),
    (2026, 3, 5, 17, 30, 0.0),
    (2026, 3, 10, 8, 0, 0.0),
    (2026, 3, 14, 23, 45, 0.0),
    (2026, 3, 19, 12, 20, 0.0),
    (2026, 3, 24, 6, 0, 0.0),
    (2026, 3, 28, 21, 40, 0.0),
]
H = 5.0  # s, central difference for the rate


def shifted(utc, ds):
    y, mo, d, h, mi, s = utc
    return (y, mo, d, h, mi, s + ds)


def main():
    global TIDE
    rows = []
    for utc in EPOCHS:
        label = '%04d-%02d-%02dT%02d:%02d:%012.9fZ' % utc
        for case, f in (('far', lambda u, st: tau_far(u, st, PKS1921)),
                        ('near', lambda u, st: tau_near(u, st, LANDER))):
            for st in STATIONS:
                tau = f(utc, st)
                rate = (f(shifted(utc, H), st) - f(shifted(utc, -H), st)) / (2 * H)
                rows.append([case, label, st, '%.15e' % tau, '%.15e' % rate])
                print(case, label, st, tau, rate)
    TIDE = True
    for utc in EPOCHS:
        label = '%04d-%02d-%02dT%02d:%02d:%012.9fZ' % utc
        for st in STATIONS:
            if STATIONS[st][0] != 'earth':
                continue
            f = lambda u: tau_far(u, st, PKS1921)
            tau = f(utc)
            rate = (f(shifted(utc, H)) - f(shifted(utc, -H))) / (2 * H)
            rows.append(['far_tide', label, st, '%.15e' % tau, '%.15e' % rate])
            print('far_tide', label, st, tau, rate)
    TIDE = False
    with open(os.path.join(HERE, 'model_reference.csv'), 'w', newline='') as f:
        w = csv.writer(f)
        w.writerow(['case', 'time_utc', 'station', 'delay_s', 'rate_s_per_s'])
        w.writerows(rows)


if __name__ == '__main__':
    main()

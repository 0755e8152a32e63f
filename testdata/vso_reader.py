#!/usr/bin/env python3
"""Read a VieVS simple observation file (.vso) and print it as JSON.

Written from the description in VieVS's read_vso (VSO format 2): lines
starting with '#' are comments; every other line holds 12 columns
separated by blanks:

  YYYY MM DD hh mm ss.sss...  station1  station2  source  s|q  delay  error

(delay and error in ns, read_vso's default). No emcorr code is used
(tools/tests/export_cli.rs). Usage: vso_reader.py FILE (JSON on stdout).
"""

import json
import sys


def read(path):
    obs = []
    with open(path) as f:
        for n, line in enumerate(f, 1):
            if line.startswith("#") or not line.strip():
                continue
            c = line.split()
            if len(c) != 12:
                print(f"vso_reader: line {n}: {len(c)} columns, not 12", file=sys.stderr)
                sys.exit(1)
            if c[9] not in ("s", "q"):
                print(f"vso_reader: line {n}: type {c[9]!r}", file=sys.stderr)
                sys.exit(1)
            obs.append({
                "year": int(c[0]), "month": int(c[1]), "day": int(c[2]),
                "hour": int(c[3]), "minute": int(c[4]), "seconds": float(c[5]),
                "station_1": c[6], "station_2": c[7], "source": c[8], "type": c[9],
                "delay_ns": float(c[10]), "delay_sigma_ns": float(c[11]),
            })
    return {"observations": obs}


if __name__ == "__main__":
    json.dump(read(sys.argv[1]), sys.stdout, indent=1)
    print()

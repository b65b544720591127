#!/usr/bin/python3
"""The loop's bank of people: sketches of held-out portraits, one PNG strip.

    /usr/bin/python3 tools/train/seed_bank.py --out models/faces.png [--data DIR] [--share 0.05]

Every portrait in the fixed held-out split (data.is_heldout: never seen in training) is
sketchified exactly as the training sketches are (sketchify.py, density 0.07, the loop's
simplify applied once), so the painter paints them as well as it paints anything. Sketches
whose ink is too thin or too busy, or gathered in a strip or a knot (the guard's own
`shapeless` test, guard.spread_min / guard.shape_min), are left out: a seed must be a
face the loop can live on.

The output is an 8-bit grayscale PNG, `side` wide and count x side tall: tile k is rows
k*side .. (k+1)*side - 1, ink 0, paper 255 (mnemo's loop.seed_bank reads this layout).
A list of the sources goes next to it (OUT without .png + "-sources.txt")."""
import argparse
import glob
import os
import sys

import numpy as np
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import data as D  # noqa: E402
import sketchify as sk  # noqa: E402

INK_RANGE = (0.03, 0.16)  # share of ink pixels a usable seed has
SPREAD_MIN, SHAPE_MIN = 0.06, 0.5  # the guard's defaults (configs/default.cfg)


def ink_spread(sketch):
    ys, xs = np.nonzero(sketch < 0)
    if len(xs) == 0:
        return 0.0, 0.0
    h, w = sketch.shape
    return float(xs.std() / w), float(ys.std() / h)


def usable(sketch):
    ink = float((sketch < 0).mean())
    sx, sy = ink_spread(sketch)
    lo, hi = min(sx, sy), max(sx, sy)
    return INK_RANGE[0] <= ink <= INK_RANGE[1] and lo >= SPREAD_MIN and lo >= SHAPE_MIN * hi


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--data", default="/work/shared/data/portraits/artflow")
    ap.add_argument("--share", type=float, default=0.05, help="held-out share (data.py's split)")
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument("--max", type=int, default=256, help="at most this many people")
    a = ap.parse_args(argv)
    files = sorted(f for f in glob.glob(os.path.join(a.data, "*.jpg")) if D.is_heldout(f, a.share))
    tiles, sources, dropped = [], [], 0
    for f in files:
        s = sk.sketchify(sk.load_rgb(f, a.size))
        if not usable(s):
            dropped += 1
            continue
        tiles.append(sk.to_u8(s))
        sources.append(os.path.basename(f))
        if len(tiles) == a.max:
            break
    if len(tiles) < 2:
        sys.exit(f"seed_bank: only {len(tiles)} usable sketches in {a.data}")
    Image.fromarray(np.concatenate(tiles, axis=0), mode="L").save(a.out, optimize=True)
    with open(os.path.splitext(a.out)[0] + "-sources.txt", "w") as fh:
        fh.write("\n".join(sources) + "\n")
    print(f"seed_bank: {len(tiles)} people ({dropped} held-out sketches left out) -> {a.out}, "
          f"{os.path.getsize(a.out) / 1e6:.2f} MB")


if __name__ == "__main__":
    sys.exit(main())

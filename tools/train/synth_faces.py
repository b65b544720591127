#!/usr/bin/python3
"""Synthetic "portraits" for tests: a coloured background, a skin-coloured head ellipse,
hair, eyes, brows, nose and mouth, from a seed. Not art; enough for sketchify to find
lines and for a few training steps to run end to end without the real data set.

    /usr/bin/python3 tools/train/synth_faces.py OUT_DIR [--n 16] [--size 64] [--seed 0]"""
import argparse
import os
import sys

import numpy as np
from PIL import Image, ImageDraw, ImageFilter


def face(rng, size):
    s = size / 256.0
    bg = tuple(int(v) for v in rng.integers(20, 200, 3))
    skin = tuple(int(v) for v in np.clip(np.array([200, 150, 120]) + rng.integers(-50, 40, 3), 0, 255))
    hair = tuple(int(v) for v in rng.integers(10, 120, 3))
    im = Image.new("RGB", (size, size), bg)
    d = ImageDraw.Draw(im)
    cx = size / 2 + rng.uniform(-10, 10) * s
    cy = size / 2 + rng.uniform(-6, 10) * s
    rx, ry = rng.uniform(55, 75) * s, rng.uniform(75, 95) * s
    d.ellipse([cx - rx * 1.1, cy - ry * 1.15, cx + rx * 1.1, cy + ry * 0.4], fill=hair)
    d.ellipse([cx - rx, cy - ry, cx + rx, cy + ry], fill=skin)
    ey = cy - ry * 0.2
    for side in (-1, 1):
        ex = cx + side * rx * 0.42
        d.ellipse([ex - 12 * s, ey - 6 * s, ex + 12 * s, ey + 6 * s], fill=(240, 240, 235))
        d.ellipse([ex - 5 * s, ey - 5 * s, ex + 5 * s, ey + 5 * s], fill=(40, 30, 30))
        d.line([ex - 15 * s, ey - 16 * s, ex + 15 * s, ey - 18 * s], fill=hair, width=max(1, int(5 * s)))
    d.line([cx, ey + 5 * s, cx - 6 * s, cy + ry * 0.25, cx + 4 * s, cy + ry * 0.3],
           fill=tuple(int(v * 0.7) for v in skin), width=max(1, int(3 * s)))
    my = cy + ry * 0.55
    d.arc([cx - 22 * s, my - 10 * s, cx + 22 * s, my + 8 * s], 20, 160, fill=(120, 40, 50),
          width=max(1, int(4 * s)))
    return im.filter(ImageFilter.GaussianBlur(0.8 * s))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("out")
    ap.add_argument("--n", type=int, default=16)
    ap.add_argument("--size", type=int, default=64)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args(argv)
    os.makedirs(a.out, exist_ok=True)
    rng = np.random.default_rng(a.seed)
    for i in range(a.n):
        face(rng, a.size).save(os.path.join(a.out, f"synth_{i:03d}.png"))
    return 0


if __name__ == "__main__":
    sys.exit(main())

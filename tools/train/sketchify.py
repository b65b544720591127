#!/usr/bin/python3
"""sketchify: portraits -> the training sketches (a few clean dark lines on white).

    /usr/bin/python3 tools/train/sketchify.py IMG... [--out DIR] [--density 0.07]
    /usr/bin/python3 tools/train/sketchify.py --sheet OUT.png [--density ...] IMG...

The algorithm (all at the image's own size, 256x256 for the shipped models):
 1. luma in [0,1]; a gaussian pre-smoothing (sigma `smooth`) that drops skin texture,
    JPEG noise and hair strands;
 2. difference of gaussians D = G(sigma) - G(k sigma) (XDoG's edge term, k = 1.6):
    D < 0 on the dark side of every edge (eyelids, brows, nostrils, lips, jaw shadow,
    hair outline);
 3. ink where D < -t, with t chosen per image so that about `density` of the pixels
    would be ink (a quantile of D), but never below `floor` (so flat images stay blank);
 4. no ink within `border` px of the frame (resampling edges of the source crops);
    specks removed: 8-connected ink components smaller than `min_area` pixels go;
 5. the run-time `simplify` step applied once (gaussian blur sigma 0.7 with half-sample
    mirror edges, then the cubic soft threshold at 0 with softness 0.15, in [-1,1] with
    -1 ink) so a training sketch has exactly the look the loop's sketches have after
    `simplify`: 1-3 px dark lines with a slightly soft edge.

`density` is the one knob to turn (0.04 sparse .. 0.12 busy). Output: float32 in [-1,1],
-1 black ink, +1 white paper; PNGs map -1..1 to 0..255."""
import argparse
import os
import sys

import numpy as np
from PIL import Image
from scipy import ndimage

# Shared with the run-time loop's `simplify` step (configs/default.cfg, simplify.*).
SIMPLIFY_BLUR = 0.7
SIMPLIFY_THRESHOLD = 0.0
SIMPLIFY_SOFTNESS = 0.15

DEFAULTS = dict(density=0.07, smooth=1.0, sigma=1.6, k=1.6, floor=0.006, min_area=24, border=3)


def gaussian_kernel(sigma):
    """The same kernel as runtime/loop/loop_simplify.c: radius ceil(3 sigma) (1..24), normalised."""
    r = int(np.ceil(3 * sigma))
    r = max(1, min(24, r))
    i = np.arange(-r, r + 1, dtype=np.float32)
    k = np.exp(-(i * i) / np.float32(2 * sigma * sigma)).astype(np.float32)
    return k / k.sum()


def blur(img, sigma):
    """Separable gaussian blur with half-sample mirror edges (scipy's 'reflect')."""
    if sigma <= 0:
        return img
    k = gaussian_kernel(sigma)
    out = ndimage.correlate1d(img, k, axis=-1, mode="reflect")
    return ndimage.correlate1d(out, k, axis=-2, mode="reflect")


def soft_threshold(img, threshold, softness):
    """The loop's threshold: hard below/above, or a cubic smooth step of half-width
    `softness` around `threshold`. Ink (-1) below, paper (+1) above."""
    if softness <= 0:
        return np.where(img < threshold, -1.0, 1.0).astype(np.float32)
    x = np.clip((img - threshold) / softness, -1, 1)
    return (0.5 * x * (3 - x * x)).astype(np.float32)


def simplify(sketch, blur_sigma=SIMPLIFY_BLUR, threshold=SIMPLIFY_THRESHOLD,
             softness=SIMPLIFY_SOFTNESS):
    """The run-time `simplify` (blur, threshold; no thinning) in numpy, on [-1,1]."""
    return soft_threshold(blur(sketch.astype(np.float32), blur_sigma), threshold, softness)


def luma(rgb):
    rgb = np.asarray(rgb, dtype=np.float32) / 255.0
    return rgb[..., 0] * 0.299 + rgb[..., 1] * 0.587 + rgb[..., 2] * 0.114


def line_mask(rgb, density=DEFAULTS["density"], smooth=DEFAULTS["smooth"],
              sigma=DEFAULTS["sigma"], k=DEFAULTS["k"], floor=DEFAULTS["floor"],
              min_area=DEFAULTS["min_area"], border=DEFAULTS["border"]):
    """Boolean ink mask (True = line) of an RGB uint8 HxWx3 image."""
    y = luma(rgb)
    if smooth > 0:
        y = ndimage.gaussian_filter(y, smooth, mode="reflect")
    d = ndimage.gaussian_filter(y, sigma, mode="reflect") - \
        ndimage.gaussian_filter(y, sigma * k, mode="reflect")
    t = max(float(-np.quantile(d, density)), floor)
    ink = d < -t
    b = border  # resampled edges of the source crops give straight lines along the frame
    if b > 0:
        ink[:b, :] = ink[-b:, :] = False
        ink[:, :b] = ink[:, -b:] = False
    if min_area > 0 and ink.any():
        lab, n = ndimage.label(ink, structure=np.ones((3, 3), bool))
        sizes = np.bincount(lab.ravel(), minlength=n + 1)
        keep = sizes >= min_area
        keep[0] = False
        ink = keep[lab]
    return ink


def sketchify(rgb, **kw):
    """RGB uint8 HxWx3 -> float32 HxW sketch in [-1,1] (-1 ink), after `simplify`."""
    ink = line_mask(rgb, **kw)
    return simplify(np.where(ink, -1.0, 1.0).astype(np.float32))


def to_u8(x):
    """[-1,1] float -> uint8 0..255."""
    return np.clip(np.rint((np.asarray(x) + 1) * 127.5), 0, 255).astype(np.uint8)


def load_rgb(path, size=None):
    im = Image.open(path).convert("RGB")
    if size is not None and im.size != (size, size):
        im = im.resize((size, size), Image.LANCZOS)
    return np.asarray(im)


def contact_sheet(paths, out, densities, size=128):
    """One row per image: the portrait, then its sketch at each density."""
    cols = 1 + len(densities)
    sheet = Image.new("L" if False else "RGB", (cols * size, len(paths) * size), "white")
    for r, p in enumerate(paths):
        rgb = load_rgb(p)
        sheet.paste(Image.fromarray(rgb).resize((size, size), Image.LANCZOS), (0, r * size))
        for c, dens in enumerate(densities):
            sk = Image.fromarray(to_u8(sketchify(rgb, density=dens))).convert("RGB")
            sheet.paste(sk.resize((size, size), Image.LANCZOS), ((c + 1) * size, r * size))
    sheet.save(out, optimize=True)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("images", nargs="+")
    ap.add_argument("--out", default=".", help="folder for <name>_sketch.png")
    ap.add_argument("--density", type=float, default=DEFAULTS["density"],
                    help="share of pixels that become ink before speck removal")
    ap.add_argument("--smooth", type=float, default=DEFAULTS["smooth"])
    ap.add_argument("--sigma", type=float, default=DEFAULTS["sigma"])
    ap.add_argument("--min-area", type=int, default=DEFAULTS["min_area"])
    ap.add_argument("--sheet", help="write a contact sheet (portrait + sketches) instead")
    ap.add_argument("--sheet-densities", default="0.04,0.07,0.11")
    ap.add_argument("--sheet-size", type=int, default=128)
    a = ap.parse_args(argv)
    if a.sheet:
        dens = [float(x) for x in a.sheet_densities.split(",")]
        contact_sheet(a.images, a.sheet, dens, a.sheet_size)
        print(f"sketchify: wrote {a.sheet}")
        return 0
    os.makedirs(a.out, exist_ok=True)
    for p in a.images:
        sk = sketchify(load_rgb(p), density=a.density, smooth=a.smooth, sigma=a.sigma,
                       min_area=a.min_area)
        name = os.path.splitext(os.path.basename(p))[0] + "_sketch.png"
        Image.fromarray(to_u8(sk)).save(os.path.join(a.out, name))
        ink = float((sk < 0).mean())
        print(f"{p}: ink {ink:.3f} -> {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/python3
"""A contact sheet of what a painter and a sketcher do on held-out images, and of a
naive loop between them (no perturbation; only the loop's `simplify` on each sketch).

    /usr/bin/python3 tools/train/sheet.py --painter RUN/ckpt.pt --sketcher RUN/ckpt.pt \\
        --out sheet.png [--n 6] [--loop 1,2,4,8,16,32] [--cell 128]

Columns: held-out portrait | its sketch (sketchify) | painter(sketch) |
sketcher(portrait) | then the loop's portraits after k iterations, starting from the
sketch (one iteration = painter, sketcher, simplify). The held-out images are those the
painter's run held out (its heldout.txt)."""
import argparse
import os
import sys

import numpy as np
import torch
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import export as E  # noqa: E402
import sketchify as sk  # noqa: E402


def rgb_u8(t):
    a = t[0].detach().numpy()
    if a.shape[0] == 1:
        a = np.repeat(a, 3, 0)
    return sk.to_u8(a.transpose(1, 2, 0))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--painter", required=True)
    ap.add_argument("--sketcher", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--n", type=int, default=6)
    ap.add_argument("--skip", type=int, default=0, help="start at this held-out image")
    ap.add_argument("--loop", default="1,2,4,8,16,32")
    ap.add_argument("--cell", type=int, default=128)
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument("--threshold", type=float, default=sk.SIMPLIFY_THRESHOLD,
                    help="the loop's simplify.threshold (in [-1,1]; lower keeps less ink)")
    ap.add_argument("--blur", type=float, default=sk.SIMPLIFY_BLUR, help="simplify.blur")
    a = ap.parse_args(argv)
    torch.set_num_threads(2)
    P, pck = E.load_generator(a.painter)
    S, _ = E.load_generator(a.sketcher)
    run_dir = os.path.dirname(os.path.abspath(a.painter))
    held = [l.strip() for l in open(os.path.join(run_dir, "heldout.txt")) if l.strip()]
    held = held[a.skip:a.skip + a.n]
    marks = [int(k) for k in a.loop.split(",") if k]
    rows = []
    with torch.no_grad():
        for path in held:
            rgb = sk.load_rgb(path, a.size)
            s = torch.from_numpy(sk.sketchify(rgb, **dict(sk.DEFAULTS, density=pck["config"]["density"])))[None, None]
            x = torch.from_numpy(rgb.astype(np.float32) / 127.5 - 1).permute(2, 0, 1)[None]
            row = [rgb, rgb_u8(s), rgb_u8(P(s)), rgb_u8(S(x))]
            cur = s
            for it in range(1, max(marks) + 1):
                portrait = P(cur)
                cur = torch.from_numpy(sk.simplify(S(portrait)[0, 0].numpy(), a.blur,
                                                   a.threshold))[None, None]
                if it in marks:
                    row.append(rgb_u8(portrait))
            rows.append(row)
    c = a.cell
    sheet = Image.new("RGB", (c * len(rows[0]), c * len(rows)), "white")
    for r, row in enumerate(rows):
        for k, im in enumerate(row):
            sheet.paste(Image.fromarray(im).resize((c, c), Image.LANCZOS), (k * c, r * c))
    sheet.save(a.out, optimize=True, **({"quality": 85} if a.out.lower().endswith((".jpg", ".jpeg")) else {}))
    print(f"sheet: wrote {a.out}: portrait | sketch | painter(sketch) | sketcher(portrait) | "
          f"loop portraits at iterations {a.loop}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

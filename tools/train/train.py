#!/usr/bin/python3
"""Train one direction of the loop as a pix2pix conditional GAN.

    LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-pthread \\
    /usr/bin/python3 tools/train/train.py --role painter --run /work/train-runs/painter \\
        --data /work/shared/data/portraits/artflow --minutes 30 [--resume]

painter: sketch (1ch) -> portrait (3ch); sketcher: portrait (3ch) -> sketch (1ch). The
sketches come from sketchify.py (cached). The generator is a U-Net with BatchNorm, the
discriminator a PatchGAN on (input, output) pairs; loss = LSGAN + l1 * L1.

Everything of a run lives in --run: ckpt.pt (resume with --resume; the architecture and
data options come from the checkpoint), log.jsonl (one JSON object per progress line and
per evaluation), samples/step_NNNNNN.png (held-out input | output | target), heldout.txt.
Stop any time with Ctrl-C / SIGTERM: it saves a checkpoint first."""
import argparse
import json
import math
import os
import random
import signal
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import data as D  # noqa: E402
import nets  # noqa: E402
import sketchify as sk  # noqa: E402

ARCH_KEYS = ("role", "downs", "ngf", "max_mult", "ndf", "size", "density", "data",
             "holdout", "limit")


def parse(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--role", choices=sorted(nets.ROLES), required=True)
    ap.add_argument("--run", required=True, help="folder for checkpoints, samples, log")
    ap.add_argument("--data", nargs="+", default=["/work/shared/data/portraits/artflow"],
                    help="folders of portrait images (searched recursively)")
    ap.add_argument("--cache", help="decoded/sketched data cache (default: <run>/../cache)")
    ap.add_argument("--limit", type=int, default=0, help="use only the first N images")
    ap.add_argument("--holdout", type=float, default=0.05, help="held-out share (by name hash)")
    ap.add_argument("--size", type=int, default=256, help="images are resized to this square")
    ap.add_argument("--crop", type=int, default=0,
                    help="train on random crops of this size (0 = whole images)")
    ap.add_argument("--density", type=float, default=sk.DEFAULTS["density"],
                    help="sketchify line density")
    ap.add_argument("--downs", type=int, default=7)
    ap.add_argument("--ngf", type=int, default=16)
    ap.add_argument("--max-mult", type=int, default=6, help="channel cap = ngf * max_mult")
    ap.add_argument("--ndf", type=int, default=32)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--lr", type=float, default=2e-4)
    ap.add_argument("--l1", type=float, default=100.0, help="weight of L1 against the GAN loss")
    ap.add_argument("--ink-weight", type=float, default=None,
                    help="extra L1 weight on target ink pixels (target < 0): without it a "
                         "sketcher hedges with faint grey lines that the loop's threshold "
                         "erases (default 4 for the sketcher, 0 for the painter)")
    ap.add_argument("--shift", type=int, default=8, help="largest random shift, px")
    ap.add_argument("--jitter", type=float, default=1.0, help="colour jitter strength")
    ap.add_argument("--blur-aug", type=float, default=1.5,
                    help="sketcher: largest input blur sigma (the painter's softness)")
    ap.add_argument("--perturb-aug", type=float, default=0.05,
                    help="painter: largest input noise std (the loop's perturb)")
    ap.add_argument("--steps", type=int, default=0, help="stop after this many steps in total")
    ap.add_argument("--minutes", type=float, default=0, help="stop after this many minutes (this run)")
    ap.add_argument("--log-every", type=int, default=20)
    ap.add_argument("--sample-every", type=int, default=200)
    ap.add_argument("--ckpt-every", type=int, default=200)
    ap.add_argument("--eval-every", type=int, default=1000)
    ap.add_argument("--eval-max", type=int, default=0, help="held-out images to score (0 = all)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--device", default="cpu", help="cpu | cuda | cuda:N")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--workers", type=int, default=2, help="processes for the first data prep")
    ap.add_argument("--resume", action="store_true")
    ap.add_argument("--prepare-only", action="store_true",
                    help="decode and sketch the data into the cache, then exit")
    return ap.parse_args(argv)


class Log:
    def __init__(self, path):
        self.f = open(path, "a")

    def __call__(self, msg, **rec):
        print(msg, flush=True)
        if rec:
            rec["time"] = time.time()
            self.f.write(json.dumps(rec) + "\n")
            self.f.flush()


def split(files, share):
    held = [i for i, f in enumerate(files) if D.is_heldout(f, share)]
    hs = set(held)
    train = [i for i in range(len(files)) if i not in hs]
    return train, held


def pair(role, rgb, sketch):
    """(input, target) of a role."""
    return (sketch, rgb) if role == "painter" else (rgb, sketch)


@torch.no_grad()
def evaluate(G, role, images, sketches, held, device, batch=16, limit=0):
    """Mean L1 on the held-out images (whole images, eval mode, no augmentation), in the
    [-1,1] scale, and for the sketcher also the ink IoU (pixels < 0)."""
    G.eval()
    idx = held[:limit] if limit else held
    tot, n, inter, union = 0.0, 0, 0.0, 0.0
    for i in range(0, len(idx), batch):
        rgb, s = D.to_tensors(images, sketches, idx[i:i + batch])
        x, y = pair(role, rgb, s)
        out = G(x.to(device)).cpu()
        tot += float((out - y).abs().mean(dim=(1, 2, 3)).sum())
        n += out.shape[0]
        if role == "sketcher":
            a, b = out < 0, y < 0
            inter += float((a & b).sum())
            union += float((a | b).sum())
    G.train()
    res = {"heldout_l1": tot / max(n, 1), "heldout_n": n}
    if role == "sketcher":
        res["heldout_ink_iou"] = inter / max(union, 1)
    return res


def to_rgb_u8(t):
    """Bx{1,3}xHxW in [-1,1] -> list of HxWx3 uint8."""
    t = t.detach().cpu()
    if t.shape[1] == 1:
        t = t.repeat(1, 3, 1, 1)
    return [sk.to_u8(x.permute(1, 2, 0).numpy()) for x in t]


def save_grid(path, rows):
    """rows: list of lists of HxWx3 uint8, all the same size."""
    h, w = rows[0][0].shape[:2]
    grid = np.full((len(rows) * h, max(len(r) for r in rows) * w, 3), 255, np.uint8)
    for r, row in enumerate(rows):
        for c, im in enumerate(row):
            grid[r * h:(r + 1) * h, c * w:(c + 1) * w] = im
    Image.fromarray(grid).save(path, optimize=True)


@torch.no_grad()
def sample(G, role, images, sketches, held, device, path, n=6):
    G.eval()
    rgb, s = D.to_tensors(images, sketches, held[:n])
    x, y = pair(role, rgb, s)
    out = G(x.to(device)).cpu()
    G.train()
    save_grid(path, [list(r) for r in zip(to_rgb_u8(x), to_rgb_u8(out), to_rgb_u8(y))])


def main(argv=None):
    a = parse(argv)
    os.makedirs(os.path.join(a.run, "samples"), exist_ok=True)
    log = Log(os.path.join(a.run, "log.jsonl"))
    ckpt_path = os.path.join(a.run, "ckpt.pt")
    ckpt = None
    if a.resume:
        if not os.path.exists(ckpt_path):
            sys.exit(f"train: --resume but no {ckpt_path}")
        ckpt = torch.load(ckpt_path, map_location="cpu")
        for k in ARCH_KEYS:  # architecture and data come from the checkpoint
            setattr(a, k, ckpt["config"][k])
    if a.ink_weight is None:
        a.ink_weight = 4.0 if a.role == "sketcher" else 0.0
    torch.set_num_threads(a.threads)
    random.seed(a.seed)
    np.random.seed(a.seed)
    torch.manual_seed(a.seed)
    device = torch.device(a.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        sys.exit("train: --device cuda but this PyTorch sees no CUDA device")

    files = D.list_images(a.data)
    if a.limit:
        files = files[:a.limit]
    if len(files) < 2:
        sys.exit(f"train: found {len(files)} images in {a.data}")
    sk_params = dict(sk.DEFAULTS, density=a.density)
    cache = a.cache or os.path.join(os.path.dirname(os.path.abspath(a.run)), "cache")
    images, sketches = D.load_cached(files, a.size, sk_params, cache, a.workers, log)
    if a.prepare_only:
        log(f"train: data ready ({len(files)} images at {a.size}^2) in {cache}")
        return 0
    train_idx, held = split(files, a.holdout)
    if not held:
        held = train_idx[-1:]
    with open(os.path.join(a.run, "heldout.txt"), "w") as f:
        f.write("\n".join(files[i] for i in held) + "\n")
    if a.crop and (a.crop % (2 ** a.downs) or a.crop > a.size):
        sys.exit(f"train: --crop {a.crop} must divide by 2^downs = {2 ** a.downs} and be <= --size")

    cin, cout = nets.ROLES[a.role]
    G = nets.generator(a.role, a.downs, a.ngf, a.max_mult).to(device)
    Dn = nets.PatchGAN(cin + cout, a.ndf).to(device)
    G.apply(nets.init_weights)
    Dn.apply(nets.init_weights)
    opt_g = torch.optim.Adam(G.parameters(), lr=a.lr, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(Dn.parameters(), lr=a.lr, betas=(0.5, 0.999))
    gen = torch.Generator().manual_seed(a.seed)
    step, elapsed_total, seen = 0, 0.0, 0
    if ckpt:
        G.load_state_dict(ckpt["G"])
        Dn.load_state_dict(ckpt["D"])
        opt_g.load_state_dict(ckpt["opt_g"])
        opt_d.load_state_dict(ckpt["opt_d"])
        gen.set_state(ckpt["gen"])
        torch.set_rng_state(ckpt["torch_rng"])
        step, elapsed_total, seen = ckpt["step"], ckpt["elapsed"], ckpt["seen"]
        for g in opt_g.param_groups + opt_d.param_groups:
            g["lr"] = a.lr
        log(f"train: resumed {ckpt_path} at step {step} ({elapsed_total / 60:.1f} min so far)")
    config = {k: getattr(a, k) for k in ARCH_KEYS}
    log(f"train: {a.role} | {nets.describe(config)} | G {nets.count_params(G)} params, "
        f"{nets.count_macs(G, a.size) / 1e9:.3f} GMACs at {a.size}^2 | D {nets.count_params(Dn)} "
        f"params | {len(train_idx)} train / {len(held)} held-out images | batch {a.batch}, "
        f"crop {a.crop or a.size} | {a.device}, {a.threads} threads")

    stop = {"now": False}

    def on_signal(signum, frame):
        stop["now"] = True
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    def save():
        tmp = ckpt_path + ".tmp"
        torch.save({"G": G.state_dict(), "D": Dn.state_dict(), "opt_g": opt_g.state_dict(),
                    "opt_d": opt_d.state_dict(), "gen": gen.get_state(),
                    "torch_rng": torch.get_rng_state(), "step": step,
                    "elapsed": elapsed_total, "seen": seen, "config": config,
                    "args": vars(a)}, tmp)
        os.replace(tmp, ckpt_path)

    # The data order: a permutation per epoch from the seeded generator.
    order, pos = [], 0
    t0 = time.time()
    t_last, seen_last = t0, seen
    run_elapsed0 = elapsed_total
    acc = {"d": 0.0, "g_gan": 0.0, "g_l1": 0.0, "n": 0}
    while True:
        if stop["now"] or (a.steps and step >= a.steps) or \
                (a.minutes and time.time() - t0 >= a.minutes * 60):
            break
        if pos + a.batch > len(order):
            order = [train_idx[i] for i in torch.randperm(len(train_idx), generator=gen).tolist()]
            pos = 0
        idx = sorted(order[pos:pos + a.batch])
        pos += a.batch
        rgb, s = D.to_tensors(images, sketches, idx)
        rgb, s = D.flip_shift_crop([rgb, s], gen, a.shift, a.crop)
        if a.jitter > 0:
            rgb = D.colour_jitter(rgb, gen, a.jitter)
        if a.role == "painter":
            x = D.loop_perturb(s, gen, a.perturb_aug) if a.perturb_aug > 0 else s
            y = rgb
        else:
            x, y = D.painterly_degrade(rgb, gen, a.blur_aug), s
        x, y = x.to(device), y.to(device)

        fake = G(x)
        # D: real pairs -> 1, fake pairs -> 0 (least squares)
        opt_d.zero_grad(set_to_none=True)
        pr, pf = Dn(x, y), Dn(x, fake.detach())
        loss_d = 0.5 * (F.mse_loss(pr, torch.ones_like(pr)) + F.mse_loss(pf, torch.zeros_like(pf)))
        loss_d.backward()
        opt_d.step()
        # G: fool D, stay close to the target
        opt_g.zero_grad(set_to_none=True)
        pf = Dn(x, fake)
        loss_gan = F.mse_loss(pf, torch.ones_like(pf))
        diff = (fake - y).abs()
        loss_l1 = diff.mean()
        if a.ink_weight > 0:
            loss_rec = (diff * (1 + a.ink_weight * (y < 0).float())).mean()
        else:
            loss_rec = loss_l1
        (loss_gan + a.l1 * loss_rec).backward()
        opt_g.step()

        step += 1
        seen += x.shape[0]
        elapsed_total = run_elapsed0 + time.time() - t0
        acc["d"] += float(loss_d)
        acc["g_gan"] += float(loss_gan)
        acc["g_l1"] += float(loss_l1)
        acc["n"] += 1
        if step % a.log_every == 0 or step == 1:
            now = time.time()
            ips = (seen - seen_last) / max(now - t_last, 1e-9)
            t_last, seen_last = now, seen
            n = acc["n"]
            left = ""
            if a.minutes:
                left = f" | {max(0.0, a.minutes - (now - t0) / 60):.1f} min left"
            elif a.steps:
                left = f" | {a.steps - step} steps left"
            log(f"step {step:6d} | epoch {seen / len(train_idx):5.2f} | D {acc['d'] / n:.3f} | "
                f"G gan {acc['g_gan'] / n:.3f} l1 {acc['g_l1'] / n:.4f} | {ips:5.1f} img/s | "
                f"{elapsed_total / 60:6.1f} min{left}",
                kind="progress", step=step, seen=seen, d=acc["d"] / n, g_gan=acc["g_gan"] / n,
                g_l1=acc["g_l1"] / n, img_per_s=ips, elapsed=elapsed_total)
            acc = {"d": 0.0, "g_gan": 0.0, "g_l1": 0.0, "n": 0}
        if step % a.sample_every == 0:
            sample(G, a.role, images, sketches, held, device,
                   os.path.join(a.run, "samples", f"step_{step:06d}.png"))
        if step % a.ckpt_every == 0:
            save()
        if a.eval_every and step % a.eval_every == 0:
            r = evaluate(G, a.role, images, sketches, held, device, limit=a.eval_max)
            log(f"eval {step:6d} | held-out L1 {r['heldout_l1']:.4f} on {r['heldout_n']}"
                + (f" | ink IoU {r['heldout_ink_iou']:.3f}" if "heldout_ink_iou" in r else ""),
                kind="eval", step=step, **r)

    save()
    sample(G, a.role, images, sketches, held, device,
           os.path.join(a.run, "samples", f"step_{step:06d}.png"))
    r = evaluate(G, a.role, images, sketches, held, device, limit=a.eval_max)
    log(f"eval {step:6d} | held-out L1 {r['heldout_l1']:.4f} on {r['heldout_n']}"
        + (f" | ink IoU {r['heldout_ink_iou']:.3f}" if "heldout_ink_iou" in r else "")
        + f" | {elapsed_total / 60:.1f} min, {seen} images seen in total",
        kind="eval", step=step, final=True, elapsed=elapsed_total, seen=seen, **r)
    log(f"train: saved {ckpt_path} (step {step})")
    return 0


if __name__ == "__main__":
    sys.exit(main())

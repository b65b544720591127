#!/usr/bin/python3
"""Loop-aware fine-tuning of the painter and the sketcher together, through short unrolled
loops, so that the pair's loop keeps making faces.

    LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-pthread OMP_NUM_THREADS=1 \\
    /usr/bin/python3 tools/train/loop_train.py --run /work/train-runs/loop \\
        --painter /work/train-runs/loop/painter-init.pt \\
        --sketcher /work/train-runs/loop/sketcher-init.pt --minutes 60 [--resume]

Why: each model of the first round was trained on clean inputs (sketchify's sketches, real
portraits) and in the loop is fed the other's imperfect outputs, which it has never seen;
that gap is what melts the face (FACTS.md, "How a painter <-> sketcher loop dies"). Here
every step runs, for a batch of real portraits P and their sketches S, k iterations of the
loop as mnemo runs it (runtime/loop.c), in the autograd graph:

    x_0 = S (half the batch) or simplify(sketcher(P)) (the other half: the sketcher's
          real output of a real portrait)
    for t = 1..k:
        in_t   = perturb(x_{t-1})            zoom/rotate/drift warp on paper, noise, erase,
                                             at the loop's defaults x a random boost 1..3
        paint  = painter(in_t)
        P_t    = paint (t = 1) or (1 - blend) paint + blend P_{t-1}      (loop.blend 0.3)
        raw_t  = sketcher(P_t)
        x_t    = simplify(raw_t)             blur 0.7, soft threshold 0 / 0.15; the
                                             gradient passes the threshold straight through

losses, at every step t, weighted decay^(t-1) (the anchor to the start loosens along the
unroll, so identities may drift while the adversarial terms keep each output on its own
manifold):
  painter : LSGAN(D_p(in_t, paint)) + l1_p |paint - P|
  sketcher: LSGAN(D_s(P_t, raw_t)) + l1_s |raw_t - S| (ink-weighted, as train.py)
  plus the sketcher on the real portrait (its first-round task): LSGAN + l1_s |sk(P) - S|.
The gradients of the later steps run back through both networks and the earlier steps: the
pair is trained so that the loop's own iterates stay faces (and stay near S), not only
each model's single step. D_p sees (in_t, P) as real, (in_t, paint) as fake; D_s sees
(P, S) and (P_t, S) as real, (P_t, raw_t) as fake.

The generators' BatchNorm layers run in eval mode (their statistics frozen, their affine
parameters trained): that is how mnemo runs them, and the imported first-round statistics
stay valid. Checkpoints (<run>/ckpt.pt, both generators, both discriminators, optimisers,
step, elapsed) every --ckpt-every steps and on SIGTERM; --resume continues. Every
--sample-every steps <run>/samples/loop_NNNNNN.png shows a held-out loop (eval mode,
the loop's perturbation, no guard) after 1, 4, 16, 64 iterations."""
import argparse
import json
import math
import os
import signal
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import data as D  # noqa: E402
import nets  # noqa: E402
import sketchify as sk  # noqa: E402

# The loop's defaults (configs/default.cfg)
PERTURB = dict(zoom=0.01, rotate=1.0, drift=1.0, noise=0.05, erase_count=1, erase_size=0.04)
BLEND = 0.3


def parse(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--run", required=True)
    ap.add_argument("--painter", help="starting painter checkpoint (from_onnx.py or train.py)")
    ap.add_argument("--sketcher", help="starting sketcher checkpoint")
    ap.add_argument("--data", nargs="+", default=["/work/shared/data/portraits/artflow"])
    ap.add_argument("--cache", default="/work/train-runs/cache")
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--unroll", type=int, default=3, help="loop iterations in the graph")
    ap.add_argument("--decay", type=float, default=0.7, help="L1 weight factor per unrolled step")
    ap.add_argument("--lr", type=float, default=1e-4)
    ap.add_argument("--lr-d", type=float, default=2e-4)
    ap.add_argument("--l1-painter", type=float, default=50.0)
    ap.add_argument("--l1-sketcher", type=float, default=100.0)
    ap.add_argument("--ink-weight", type=float, default=4.0)
    ap.add_argument("--boost-max", type=float, default=3.0, help="perturbation x U(1, this)")
    ap.add_argument("--d-warmup", type=int, default=40, help="first steps train only the Ds")
    ap.add_argument("--minutes", type=float, default=0)
    ap.add_argument("--steps", type=int, default=0)
    ap.add_argument("--log-every", type=int, default=5)
    ap.add_argument("--sample-every", type=int, default=50)
    ap.add_argument("--ckpt-every", type=int, default=20)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--device", default="cpu", help="cpu | cuda (a lent GPU: --batch 16 or more)")
    ap.add_argument("--resume", action="store_true")
    return ap.parse_args(argv)


# ---- the loop's image ops in torch -------------------------------------------------------

def perturb(x, gen, boost, noise_gen=None):
    """runtime/loop_ops.c lo_perturb on a batch: warp (zoom, rotation about the centre,
    shift; bilinear, paper outside), gaussian noise, erased square patches of paper.
    boost: B tensor of multipliers (the guard's boost). The small draws come from gen (on
    the cpu); the noise image from noise_gen, a generator on x's device (gen on the cpu)."""
    b, _, h, w = x.shape
    boost = boost.cpu()

    def u():
        return torch.rand(b, generator=gen) * 2 - 1
    zoom = 1 + PERTURB["zoom"] * boost * u()
    ang = PERTURB["rotate"] * boost * u() * math.pi / 180
    sx = PERTURB["drift"] * boost * u() / ((w - 1) / 2)
    sy = PERTURB["drift"] * boost * u() / ((h - 1) / 2)
    c, s = torch.cos(ang) / zoom, torch.sin(ang) / zoom
    theta = torch.stack([torch.stack([c, -s, -(c * sx - s * sy)], 1),
                         torch.stack([s, c, -(s * sx + c * sy)], 1)], 1)
    grid = F.affine_grid(theta.to(x.device), list(x.shape), align_corners=True)
    y = F.grid_sample(x - 1, grid, mode="bilinear", padding_mode="zeros", align_corners=True) + 1
    std = (PERTURB["noise"] * boost).view(b, 1, 1, 1).to(x.device)
    noise = torch.randn(y.shape, generator=noise_gen or gen, device=x.device)
    y = (y + std * noise).clamp(-1, 1)
    side = max(1, int(round(PERTURB["erase_size"] * min(h, w))))
    mask = torch.ones_like(y)
    for i in range(b):
        for _ in range(int(round(PERTURB["erase_count"] * float(boost[i])))):
            y0 = int(torch.randint(0, h - side + 1, (1,), generator=gen))
            x0 = int(torch.randint(0, w - side + 1, (1,), generator=gen))
            mask[i, :, y0:y0 + side, x0:x0 + side] = 0
    return y * mask + (1 - mask)


def simplify(x, ste=True):
    """runtime/loop_simplify.c (blur 0.7, soft threshold 0, softness 0.15); with ste the
    backward pass treats the threshold as the identity."""
    bl = D.gaussian_blur(x, sk.SIMPLIFY_BLUR)
    t = ((bl - sk.SIMPLIFY_THRESHOLD) / sk.SIMPLIFY_SOFTNESS).clamp(-1, 1)
    y = 0.5 * t * (3 - t * t)
    return bl + (y - bl).detach() if ste else y


def freeze_bn(G):
    for m in G.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.eval()


def load_g(path):
    ck = torch.load(path, map_location="cpu")
    G = nets.generator_from_config(ck["config"])
    G.load_state_dict(ck["G"])
    return G, ck


def lsgan(pred, real):
    return F.mse_loss(pred, torch.full_like(pred, 1.0 if real else 0.0))


@torch.no_grad()
def loop_sample(Pa, Sk, sketches_s, path, gen, marks=(1, 4, 16, 64)):
    """Held-out loop in eval mode: each row a start sketch, then (portrait, sketch) after
    the marked iterations."""
    Pa.eval()
    Sk.eval()
    dev = next(Pa.parameters()).device
    noise_gen = torch.Generator(dev).manual_seed(7)
    x, prev = sketches_s.to(dev), None
    rows = [[sk.to_u8(s[0].numpy())[..., None].repeat(3, 2)] for s in sketches_s]
    for t in range(1, max(marks) + 1):
        paint = Pa(perturb(x, gen, torch.ones(x.shape[0]), noise_gen))
        p = paint if prev is None else (1 - BLEND) * paint + BLEND * prev
        prev = p
        x = simplify(Sk(p), ste=False)
        if t in marks:
            for i in range(x.shape[0]):
                rows[i].append(sk.to_u8(p[i].permute(1, 2, 0).cpu().numpy()))
                rows[i].append(sk.to_u8(x[i, 0].cpu().numpy())[..., None].repeat(3, 2))
    h = 128
    grid = np.full((len(rows) * h, len(rows[0]) * h, 3), 255, np.uint8)
    for r, row in enumerate(rows):
        for c_, im in enumerate(row):
            grid[r * h:(r + 1) * h, c_ * h:(c_ + 1) * h] = np.asarray(
                Image.fromarray(im).resize((h, h), Image.BILINEAR))
    Image.fromarray(grid).save(path)
    Pa.train()
    Sk.train()
    freeze_bn(Pa)
    freeze_bn(Sk)


def main(argv=None):
    a = parse(argv)
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    dev = torch.device(a.device)
    if dev.type == "cuda":
        torch.backends.cudnn.benchmark = True  # fixed shapes: cuDNN picks its fastest convs
    os.makedirs(os.path.join(a.run, "samples"), exist_ok=True)
    logf = open(os.path.join(a.run, "log.jsonl"), "a")

    def log(msg, **rec):
        print(msg, flush=True)
        if rec:
            rec["time"] = time.time()
            logf.write(json.dumps(rec) + "\n")
            logf.flush()

    ckpt_path = os.path.join(a.run, "ckpt.pt")
    ck = torch.load(ckpt_path, map_location="cpu") if a.resume else None
    if ck:
        Pa = nets.generator_from_config(ck["painter_config"])
        Sk = nets.generator_from_config(ck["sketcher_config"])
        Pa.load_state_dict(ck["painter"])
        Sk.load_state_dict(ck["sketcher"])
        pcfg, scfg = ck["painter_config"], ck["sketcher_config"]
        history = ck["history"]
    else:
        Pa, pck = load_g(a.painter)
        Sk, sck = load_g(a.sketcher)
        pcfg, scfg = pck["config"], sck["config"]
        history = {"painter_from": a.painter, "painter_source": pck.get("source"),
                   "sketcher_from": a.sketcher, "sketcher_source": sck.get("source")}
    Dp = nets.PatchGAN(1 + 3, 32)
    Ds = nets.PatchGAN(3 + 1, 32)
    Dp.apply(nets.init_weights)
    Ds.apply(nets.init_weights)
    for m in (Pa, Sk, Dp, Ds):
        m.to(dev)
    g_params = list(Pa.parameters()) + list(Sk.parameters())
    opt_g = torch.optim.Adam(g_params, lr=a.lr, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(list(Dp.parameters()) + list(Ds.parameters()), lr=a.lr_d,
                             betas=(0.5, 0.999))
    gen = torch.Generator().manual_seed(a.seed)
    # on a GPU the noise images come from a generator there (cpu: gen, as before)
    noise_gen = torch.Generator(dev).manual_seed(a.seed + 1) if dev.type != "cpu" else None
    step, elapsed, seen = 0, 0.0, 0
    if ck:
        Dp.load_state_dict(ck["Dp"])
        Ds.load_state_dict(ck["Ds"])
        opt_g.load_state_dict(ck["opt_g"])
        opt_d.load_state_dict(ck["opt_d"])
        gen.set_state(ck["gen"])
        step, elapsed, seen = ck["step"], ck["elapsed"], ck["seen"]
        for g in opt_g.param_groups:
            g["lr"] = a.lr
        for g in opt_d.param_groups:
            g["lr"] = a.lr_d
        log(f"loop_train: resumed at step {step} ({elapsed / 60:.1f} min so far)")
    Pa.train()
    Sk.train()
    freeze_bn(Pa)
    freeze_bn(Sk)

    files = D.list_images(a.data)
    images, sketches = D.load_cached(files, 256, dict(sk.DEFAULTS), a.cache)
    train_idx = [i for i, f in enumerate(files) if not D.is_heldout(f, 0.05)]
    held = [i for i, f in enumerate(files) if D.is_heldout(f, 0.05)]
    _, s_held = D.to_tensors(images, sketches, held[:3])
    with open(os.path.join(a.run, "heldout.txt"), "w") as f:
        f.write("\n".join(files[i] for i in held) + "\n")
    log(f"loop_train: painter {nets.describe(pcfg)} | sketcher {nets.describe(scfg)} | "
        f"{len(train_idx)} train images | batch {a.batch}, unroll {a.unroll}, decay {a.decay} | "
        f"l1 painter {a.l1_painter}, sketcher {a.l1_sketcher} (ink x{1 + a.ink_weight})")

    stop = {"now": False}
    signal.signal(signal.SIGTERM, lambda *_: stop.__setitem__("now", True))
    signal.signal(signal.SIGINT, lambda *_: stop.__setitem__("now", True))

    def save():
        tmp = ckpt_path + ".tmp"
        torch.save({"painter": Pa.state_dict(), "sketcher": Sk.state_dict(),
                    "painter_config": pcfg, "sketcher_config": scfg, "Dp": Dp.state_dict(),
                    "Ds": Ds.state_dict(), "opt_g": opt_g.state_dict(),
                    "opt_d": opt_d.state_dict(), "gen": gen.get_state(), "step": step,
                    "elapsed": elapsed, "seen": seen, "args": vars(a), "history": history}, tmp)
        os.replace(tmp, ckpt_path)

    order, pos = [], 0
    t0 = time.time()
    el0 = elapsed
    acc = {}
    while not stop["now"] and not (a.steps and step >= a.steps) and \
            not (a.minutes and time.time() - t0 >= a.minutes * 60):
        if pos + a.batch > len(order):
            order = [train_idx[i] for i in torch.randperm(len(train_idx), generator=gen).tolist()]
            pos = 0
        idx = sorted(order[pos:pos + a.batch])
        pos += a.batch
        P, S = D.to_tensors(images, sketches, idx)
        P, S = D.flip_shift_crop([P, S], gen, 8, 0)
        P = D.colour_jitter(P, gen, 1.0)
        P, S = P.to(dev, non_blocking=True), S.to(dev, non_blocking=True)
        b = P.shape[0]
        warm = step < a.d_warmup

        # ---- the unrolled loop (generators) ----
        with torch.set_grad_enabled(not warm):
            sk_real = Sk(P)
            x = S.clone()
            half = b // 2
            x[half:] = simplify(sk_real[half:].detach(), ste=False)
            prev = None
            steps_out = []
            for t in range(a.unroll):
                boost = 1 + (a.boost_max - 1) * torch.rand(b, generator=gen)
                inp = perturb(x, gen, boost, noise_gen)
                paint = Pa(inp)
                p = paint if prev is None else (1 - BLEND) * paint + BLEND * prev
                raw = Sk(p)
                x = simplify(raw)
                steps_out.append((inp, paint, p, raw))
                prev = p

        # ---- discriminators ----
        opt_d.zero_grad(set_to_none=True)
        ld = 0.0
        for inp, paint, p, raw in steps_out:
            ld = ld + 0.5 * (lsgan(Dp(inp.detach(), P), True) +
                             lsgan(Dp(inp.detach(), paint.detach()), False))
            ld = ld + 0.5 * (lsgan(Ds(p.detach(), S), True) +
                             lsgan(Ds(p.detach(), raw.detach()), False))
        ld = ld + 0.5 * (lsgan(Ds(P, S), True) + lsgan(Ds(P, sk_real.detach()), False))
        ld = ld / (a.unroll + 0.5)
        ld.backward()
        opt_d.step()

        rec = {"d": float(ld)}
        if not warm:
            opt_g.zero_grad(set_to_none=True)
            ink_w = 1 + a.ink_weight * (S < 0).float()
            lg = a.l1_sketcher * ((sk_real - S).abs() * ink_w).mean() + lsgan(Ds(P, sk_real), True)
            tot = {"gan_p": 0.0, "gan_s": 0.0, "l1_p": 0.0, "l1_s": 0.0}
            for t, (inp, paint, p, raw) in enumerate(steps_out):
                w = a.decay ** t
                gp, gs = lsgan(Dp(inp, paint), True), lsgan(Ds(p, raw), True)
                l1p = (paint - P).abs().mean()
                l1s = ((raw - S).abs() * ink_w).mean()
                lg = lg + gp + gs + w * (a.l1_painter * l1p + a.l1_sketcher * l1s)
                tot["gan_p"] += float(gp) / a.unroll
                tot["gan_s"] += float(gs) / a.unroll
                if t == a.unroll - 1:
                    tot["l1_p"], tot["l1_s"] = float(l1p), float((raw - S).abs().mean())
            lg.backward()
            opt_g.step()
            rec.update(tot)
            rec["l1_s_real"] = float((sk_real - S).abs().mean())
            rec["ink_last"] = float((x < 0).float().mean())

        step += 1
        seen += b
        elapsed = el0 + time.time() - t0
        for k, v in rec.items():
            acc.setdefault(k, []).append(v)
        if step % a.log_every == 0 or step == 1:
            m = {k: sum(v) / len(v) for k, v in acc.items()}
            acc = {}
            log(f"step {step:5d} | " + " | ".join(f"{k} {v:.4f}" for k, v in m.items())
                + f" | {elapsed / 60:.1f} min" + (" (D warm-up)" if warm else ""),
                kind="progress", step=step, seen=seen, elapsed=elapsed, **m)
        if step % a.ckpt_every == 0:
            save()
        if step % a.sample_every == 0:
            loop_sample(Pa, Sk, s_held, os.path.join(a.run, "samples", f"loop_{step:06d}.png"),
                        torch.Generator().manual_seed(7))
    save()
    loop_sample(Pa, Sk, s_held, os.path.join(a.run, "samples", f"loop_{step:06d}.png"),
                torch.Generator().manual_seed(7))
    log(f"loop_train: saved {ckpt_path} at step {step}, {elapsed / 60:.1f} min, {seen} images",
        kind="end", step=step, seen=seen, elapsed=elapsed)
    return 0


def export_ckpt(ckpt_path, role, out_path):
    """Write a train.py-style single-generator checkpoint of one role (for export.py)."""
    ck = torch.load(ckpt_path, map_location="cpu")
    torch.save({"G": ck[role], "config": ck[f"{role}_config"], "step": ck["step"],
                "seen": ck["seen"], "elapsed": ck["elapsed"], "args": ck["args"],
                "history": ck["history"]}, out_path)


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--split":  # --split CKPT ROLE OUT
        export_ckpt(sys.argv[2], sys.argv[3], sys.argv[4])
        sys.exit(0)
    sys.exit(main())

#!/usr/bin/python3
"""A shipped ONNX generator back into a PyTorch checkpoint, to fine-tune it (the training
checkpoints of the first round were not kept), optionally with a new up-path.

    LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-pthread /usr/bin/python3 \\
        tools/train/from_onnx.py --onnx models/painter-small.onnx --role painter \\
        --out /work/train-runs/loop/painter0.pt [--up bilinear_convt --resize-levels 4]

1. Import. The exporter folded each down-path BatchNorm into its conv (weight W', bias
   b'), so the import sets conv = W' and gives that BatchNorm the statistics the folded
   conv's output has on the data (mean m, variance v, measured on --calib images) with
   weight sqrt(v + eps) and bias m + b': in eval mode it is exactly the shipped network,
   and in train mode (batch statistics ~ m, v) it is close to it, so training can go on
   with BatchNorm as pix2pix trains. The up-path convT and BatchNorm keep their names in
   the ONNX file and load as they are. The imported network is checked against the ONNX
   file's own outputs (through mnemo when --mnemo is given, else by re-export and
   comparison of weights).

2. New up-path (--up bilinear_convt, outer --resize-levels levels). Each converted
   level's 3x3 conv is fitted by least squares (ridge) so that bilinear-x2 + conv
   reproduces the old 4x4 transposed conv's output on the data's activations, level by
   level from the deepest converted one outwards (each fit sees the activations the
   already converted deeper levels produce). A 3x3 conv after a smooth upsampling cannot
   copy the phase-dependent part of the transposed conv, which is the checkerboard: the
   fit keeps the picture and drops the grid. Fine-tuning (loop_train.py) does the rest."""
import argparse
import copy
import os
import sys

import numpy as np
import onnx
from onnx import numpy_helper
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import data as D  # noqa: E402
import nets  # noqa: E402
import sketchify as sk  # noqa: E402


def depth(name):
    return name.count("body")


def down_convs(G):
    """(name, conv, following BatchNorm or None) of the down path, outermost first."""
    out = []
    for name, mod in G.named_modules():
        if isinstance(mod, nets.UNetLevel):
            seq = mod.body
            conv_i = next(i for i, m in enumerate(seq) if isinstance(m, nn.Conv2d))
            bn = seq[conv_i + 1] if isinstance(seq[conv_i + 1], nn.BatchNorm2d) else None
            out.append((f"{name}.body.{conv_i}" if name else f"body.{conv_i}", seq[conv_i], bn))
    out.sort(key=lambda t: depth(t[0]))
    return out


def levels(G):
    """UNetLevel modules, outermost first, with the index of their up module in body."""
    lv = [(n, m) for n, m in G.named_modules() if isinstance(m, nets.UNetLevel)]
    lv.sort(key=lambda t: depth(t[0]))
    res = []
    for n, m in lv:
        ups = [i for i, x in enumerate(m.body)
               if isinstance(x, (nn.ConvTranspose2d, nets.BilinearUpConv))]
        res.append((n, m, ups[-1]))
    return res


def load_onnx(path):
    m = onnx.load(path)
    inits = {i.name: torch.from_numpy(numpy_helper.to_array(i).copy()) for i in m.graph.initializer}
    convs = [n for n in m.graph.node if n.op_type == "Conv"]
    meta = {p.key: p.value for p in m.metadata_props}
    return m, inits, convs, meta


@torch.no_grad()
def unfuse_upconv(k6):
    """The 3x3 conv of a BilinearUpConv from its exported 6x6 ConvTranspose weight
    (cin x cout x 6 x 6): fusing is linear in the 3x3 kernel and the same map for every
    channel pair, so one 36 x 9 least-squares solve recovers it (exactly, up to float
    rounding, for a weight that export.py fused; a large residual means it was not)."""
    one = nets.BilinearUpConv(1, 1, bias=False)
    basis = []
    for j in range(9):
        one.conv.weight.zero_()
        one.conv.weight.view(-1)[j] = 1.0
        basis.append(one.fused().weight.reshape(36))
    a = torch.stack(basis, 1).double()                      # 36 x 9
    cin, cout = k6.shape[:2]
    y = k6.permute(2, 3, 1, 0).reshape(36, cout * cin).double()
    w = torch.linalg.lstsq(a, y).solution                   # 9 x (cout * cin)
    res = float((a @ w - y).abs().max() / max(float(y.abs().max()), 1e-12))
    assert res < 1e-4, f"a 6x6 ConvTranspose that is not a fused bilinear x2 + 3x3 conv ({res:.2e})"
    return w.T.reshape(cout, cin, 3, 3).float()


@torch.no_grad()
def import_teacher(path, role, downs=7, ngf=16, max_mult=6):
    """The shipped network as a PyTorch UNet (convT up-path), BatchNorm on the down path
    still the identity-with-bias placeholder (calibrate() gives it statistics)."""
    _, inits, convs, meta = load_onnx(path)
    fused = [k[:-len(".weight")] for k, w in inits.items()
             if k.endswith(".weight") and w.dim() == 4 and w.shape[2:] == (6, 6)]
    up, rl = ("bilinear_convt", len(fused)) if fused else ("convt", 0)
    G = nets.generator(role, downs, ngf, max_mult, up=up, resize_levels=rl)
    sd = G.state_dict()
    for k in list(sd):  # up-path convT + BN, outermost bias: stored under their names
        if k in inits:
            assert inits[k].shape == sd[k].shape, (k, inits[k].shape, sd[k].shape)
            sd[k] = inits[k]
    for name in fused:  # a fine-tuned model's bilinear x2 + 3x3 conv levels, exported fused
        sd[name + ".conv.weight"] = unfuse_upconv(inits[name + ".weight"])
        if name + ".bias" in inits:
            sd[name + ".conv.bias"] = inits[name + ".bias"]
    G.load_state_dict(sd)
    G.up_path = (up, rl)
    dcs = down_convs(G)
    assert len(dcs) == len(convs), (len(dcs), len(convs))
    folded = []
    for (name, conv, bn), node in zip(dcs, convs):
        w = inits[node.input[1]]
        assert w.shape == conv.weight.shape, (name, w.shape, conv.weight.shape)
        conv.weight.copy_(w)
        b = inits[node.input[2]] if len(node.input) > 2 else None
        if bn is not None:
            assert b is not None, name
            bn.weight.fill_(1.0)
            bn.bias.copy_(b)
            bn.running_mean.zero_()
            bn.running_var.fill_(1.0 - bn.eps)
            folded.append((conv, bn, b.clone()))
        else:
            assert b is None, f"{name}: a bias in the ONNX file but none in the PyTorch level"
    G.eval()
    return G, folded, meta


@torch.no_grad()
def calibrate(G, folded, batches):
    """Give each folded down-path BatchNorm the statistics of its conv's output."""
    stats = {id(c): [0.0, 0.0, 0] for c, _, _ in folded}
    hooks = []
    for conv, _, _ in folded:
        def hook(mod, inp, out, key=id(conv)):
            s = stats[key]
            s[0] = s[0] + out.sum(dim=(0, 2, 3)).double()
            s[1] = s[1] + (out.double() ** 2).sum(dim=(0, 2, 3))
            s[2] += out.shape[0] * out.shape[2] * out.shape[3]
        hooks.append(conv.register_forward_hook(hook))
    G.eval()
    for x in batches:
        G(x)
    for h in hooks:
        h.remove()
    for conv, bn, b in folded:
        s1, s2, n = stats[id(conv)]
        m = s1 / n
        v = (s2 / n - m * m).clamp_min(1e-8)
        bn.running_mean.copy_(m.float())
        bn.running_var.copy_(v.float())
        bn.weight.copy_(torch.sqrt(v + bn.eps).float())
        bn.bias.copy_((m.float() + b))


def convert(G_t, role, up, resize_levels, batches, ridge=1e-3, log=print):
    """A student with the new up-path on the outer `resize_levels` levels, everything else
    copied from the teacher, the new 3x3 convs fitted by least squares."""
    c = G_t.net  # noqa: F841
    G_s = nets.generator(role, 7, 16, 6, up=up, resize_levels=resize_levels)
    sd_t = G_t.state_dict()
    sd_s = G_s.state_dict()
    for k in sd_s:
        if k in sd_t and sd_t[k].shape == sd_s[k].shape:
            sd_s[k] = sd_t[k].clone()
    G_s.load_state_dict(sd_s)
    G_s.eval()
    lt, ls = levels(G_t), levels(G_s)
    conv_levels = [i for i, (n, m, ui) in enumerate(ls) if isinstance(m.body[ui], nets.BilinearUpConv)]
    for li in sorted(conv_levels, reverse=True):  # deepest converted level first
        up_t = lt[li][1].body[lt[li][2]]
        up_s = ls[li][1].body[ls[li][2]]
        cap = {}
        h1 = up_t.register_forward_hook(lambda m, i, o: cap.__setitem__("y", o))
        h2 = up_s.register_forward_hook(lambda m, i, o: cap.__setitem__("x", i[0]))
        k = up_s.cin * 9 + (1 if up_s.conv.bias is not None else 0)
        ata = torch.zeros(k, k, dtype=torch.float64)
        aty = torch.zeros(k, up_s.cout, dtype=torch.float64)
        with torch.no_grad():
            for x in batches:
                G_t(x)
                G_s(x)
                u = up_s.upsample(cap["x"])                   # B x cin x 2H+2 x 2W+2
                cols = F.unfold(u, 3)                          # B x cin*9 x (2H*2W)
                cols = cols.permute(0, 2, 1).reshape(-1, up_s.cin * 9)
                if up_s.conv.bias is not None:
                    cols = torch.cat([cols, torch.ones(cols.shape[0], 1)], 1)
                y = cap["y"].permute(0, 2, 3, 1).reshape(-1, up_s.cout)
                cols = cols.double()
                ata += cols.T @ cols
                aty += cols.T @ y.double()
        h1.remove()
        h2.remove()
        lam = ridge * float(torch.diagonal(ata).mean())
        sol = torch.linalg.solve(ata + lam * torch.eye(k, dtype=torch.float64), aty)
        w = sol[:up_s.cin * 9].T.reshape(up_s.cout, up_s.cin, 3, 3)
        with torch.no_grad():
            up_s.conv.weight.copy_(w.float())
            if up_s.conv.bias is not None:
                up_s.conv.bias.copy_(sol[-1].float())
        # how well the level now matches (on the last batch)
        with torch.no_grad():
            G_t(batches[-1])
            G_s(batches[-1])
            yt = cap["y"]
            ys = up_s(cap["x"])
            rel = float((ys - yt).norm() / yt.norm())
        log(f"from_onnx: level {li} ({up_s.cin}->{up_s.cout}): fitted, relative L2 to the "
            f"old convT output {rel:.3f}")
    return G_s


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--onnx", required=True)
    ap.add_argument("--role", choices=sorted(nets.ROLES), required=True)
    ap.add_argument("--out", required=True, help="checkpoint (train.py's format, no optimiser)")
    ap.add_argument("--up", default="convt", help="convt (as shipped) | bilinear_convt")
    ap.add_argument("--resize-levels", type=int, default=0)
    ap.add_argument("--data", nargs="+", default=["/work/shared/data/portraits/artflow"])
    ap.add_argument("--cache", default="/work/train-runs/cache")
    ap.add_argument("--calib", type=int, default=64, help="training images for BN stats and fits")
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--threads", type=int, default=1)
    a = ap.parse_args(argv)
    torch.set_num_threads(a.threads)
    files = D.list_images(a.data)
    images, sketches = D.load_cached(files, 256, dict(sk.DEFAULTS), a.cache)
    train_idx = [i for i, f in enumerate(files) if not D.is_heldout(f, 0.05)]
    rng = np.random.RandomState(1)
    pick = sorted(rng.choice(train_idx, a.calib, replace=False).tolist())
    batches = []
    for i in range(0, len(pick), a.batch):
        rgb, s = D.to_tensors(images, sketches, pick[i:i + a.batch])
        batches.append(s if a.role == "painter" else rgb)
    G_t, folded, meta = import_teacher(a.onnx, a.role)
    x = batches[0][:2]
    with torch.no_grad():
        y0 = G_t(x)
    calibrate(G_t, folded, batches)
    with torch.no_grad():
        y1 = G_t(x)
        # a train-mode forward updates BatchNorm's running statistics: measure on a copy
        probe = copy.deepcopy(G_t).train()
        y2 = probe(batches[0])[:2]
    print(f"from_onnx: imported {a.onnx}; eval after calibration vs before: max abs "
          f"{float((y1 - y0).abs().max()):.2e}; train-mode BN vs eval: mean abs "
          f"{float((y2 - y1).abs().mean()):.4f}")
    G = G_t
    up, rl = G_t.up_path  # what the shipped file has: convT, or fine-tuned bilinear levels
    if a.up != "convt" and up == "convt":
        G = convert(G_t, a.role, a.up, a.resize_levels, batches)
        up, rl = a.up, a.resize_levels
        with torch.no_grad():
            d = float((G(batches[-1]) - G_t(batches[-1])).abs().mean())
        print(f"from_onnx: new up-path vs the shipped network: mean abs {d:.4f} (range [-1,1])")
    else:  # unchanged up-path: the checkpoint must be the shipped network, exactly
        with torch.no_grad():
            d = float((G(x) - y0).abs().max())
        assert d < 1e-4, f"the imported network differs from {a.onnx}: max abs {d:.2e}"
        print(f"from_onnx: checkpoint vs the shipped network: max abs {d:.2e}")
    config = {"role": a.role, "downs": 7, "ngf": 16, "max_mult": 6, "ndf": 32, "size": 256,
              "density": sk.DEFAULTS["density"], "data": a.data, "holdout": 0.05, "limit": 0,
              "up": up, "resize_levels": rl}
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    torch.save({"G": G.state_dict(), "config": config, "step": 0, "seen": 0, "elapsed": 0.0,
                "source": {"onnx": os.path.abspath(a.onnx), "training": meta.get("training", "")},
                "args": {"l1": 0, "device": "cpu", "seed": 0}}, a.out)
    print(f"from_onnx: wrote {a.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

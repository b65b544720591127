#!/usr/bin/python3
"""Export a trained generator to ONNX for mnemo, and check mnemo runs it like PyTorch.

    /usr/bin/python3 tools/train/export.py --ckpt /work/train-runs/painter/ckpt.pt \\
        --out models/painter-small.onnx [--size 256] [--check N] [--mnemo build/mnemo]

Writes opset 13 with a fixed 1xCxSxS input named `input` and output `output`, and these
`metadata_props` (which `mnemo inspect` prints): role, input_range, output_range,
input_channels, output_channels, size, architecture, parameters, training (steps,
images seen, minutes, held-out L1), sketch (the sketchify and simplify parameters),
training_data, attribution, license, description.

--check N (default 4) runs `mnemo infer --backend cpu` on N held-out images given as
.npy and compares with PyTorch: relative L2 ||mnemo - torch|| / ||torch|| must be below
--tol (1e-4), else the exit code is 1. --check 0 skips it (no mnemo binary needed)."""
import argparse
import copy
import io
import json
import os
import subprocess
import sys
import tempfile
import warnings

import numpy as np
import onnx
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import data as D  # noqa: E402
import nets  # noqa: E402
import sketchify as sk  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ARTFLOW_ATTRIBUTION = (
    "Portrait images by artflow.ai (https://artflow.ai), licensed under CC BY 4.0 "
    "(https://creativecommons.org/licenses/by/4.0/); collected by "
    "initiative-sh/artflow-portraits; cropped and resized.")


def data_description(dirs):
    names = [os.path.basename(os.path.normpath(d)) for d in dirs]
    parts, attrib, lic = [], [], []
    for d, n in zip(dirs, names):
        if n == "artflow":
            parts.append("artflow portraits (initiative-sh/artflow-portraits @ 4accf11, "
                         "AI-generated painterly portraits, 256x256)")
            attrib.append(ARTFLOW_ATTRIBUTION)
            lic.append("CC BY 4.0")
        elif n == "congress_pd":
            parts.append("US Congress official photos (public domain, US GPO)")
            lic.append("public domain")
        else:
            parts.append(f"images from {d}")
            attrib.append(f"see the provenance of {d}")
    return "; ".join(parts), " ".join(attrib) or "none required", lic


def licence(lics, n_dirs):
    """The weights' licence from their data's: never a guess (a folder of unknown
    provenance leaves it unknown, not public domain)."""
    if "CC BY 4.0" in lics:
        return ("CC BY 4.0 (https://creativecommons.org/licenses/by/4.0/), with the "
                "attribution above")
    if lics and len(lics) == n_dirs and all(x == "public domain" for x in lics):
        return "public domain / CC0"
    return "unknown: the training data's provenance is not recorded; see the model card"


def load_generator(ckpt_path):
    ck = torch.load(ckpt_path, map_location="cpu")
    c = ck["config"]
    G = nets.generator_from_config(c)
    G.load_state_dict(ck["G"])
    G.eval()
    return G, ck


def last_eval(run_dir):
    path = os.path.join(run_dir, "log.jsonl")
    best = None
    if os.path.exists(path):
        for line in open(path):
            r = json.loads(line)
            if r.get("kind") == "eval":
                best = r
    return best


def training_note(ck, ev):
    a = ck["args"]
    if "history" in ck:  # tools/train/loop_train.py (both generators, unrolled loops)
        h = ck["history"]
        src = h.get(f"{ck['config']['role']}_source") or {}
        # a fine-tuned model started from a shipped one carries that one's whole history
        prior = src.get("training", "see the model card")
        prior = prior if prior.startswith("first round") else f"first round: {prior}"
        return (f"{prior}; then loop-aware fine-tuning with the other model "
                f"(tools/train/loop_train.py: unroll {a['unroll']}, L1 decay {a['decay']}, "
                f"LSGAN + {a['l1_painter']:g} / {a['l1_sketcher']:g} L1, batch {a['batch']}), "
                f"{ck['step']} steps, {ck['seen']} portraits, {ck['elapsed'] / 60:.1f} min on "
                f"{a.get('device', 'cpu')}, seed {a['seed']}")
    return (f"pix2pix cGAN (LSGAN + {a['l1']:g} L1), {ck['step']} steps, "
            f"{ck['seen']} images seen, {ck['elapsed'] / 60:.0f} min on "
            f"{a['device']}, seed {a['seed']}"
            + (f", held-out L1 {ev['heldout_l1']:.4f}" if ev else ""))


def export(G, ck, out, size, extra_meta=None):
    c = ck["config"]
    cin, cout = nets.ROLES[c["role"]]
    x = torch.zeros(1, cin, size, size)
    buf = io.BytesIO()
    # bilinear x2 + 3x3 conv levels go out as their exact single ConvTranspose 6x6
    G = nets.fuse_upconvs(copy.deepcopy(G)).eval()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(G, x, buf, opset_version=13, input_names=["input"],
                          output_names=["output"], do_constant_folding=True,
                          training=torch.onnx.TrainingMode.EVAL)
    m = onnx.load_from_string(buf.getvalue())
    desc, attrib, lic = data_description(c["data"])
    ev = last_eval(os.path.dirname(os.path.abspath(ck.get("path", out))))
    meta = {
        "role": c["role"],
        "input_range": "[-1,1]",
        "output_range": "[-1,1]",
        "input_channels": str(cin),
        "output_channels": str(cout),
        "channels": f"{cin} -> {cout}",
        "size": f"{size}x{size}",
        "architecture": nets.describe(c),
        "parameters": str(nets.count_params(G)),
        "training": training_note(ck, ev),
        "sketch": (f"sketchify density {c['density']} (tools/train/sketchify.py); loop "
                   f"simplify blur {sk.SIMPLIFY_BLUR}, threshold {sk.SIMPLIFY_THRESHOLD}, "
                   f"softness {sk.SIMPLIFY_SOFTNESS}; ink -1, paper +1"),
        "training_data": desc,
        "attribution": attrib,
        "license": licence(lic, len(c["data"])),
        "description": (f"mnemo default {c['role']}: "
                        + ("sketch (1ch, -1 ink .. +1 paper) -> painted portrait (RGB)"
                           if c["role"] == "painter" else
                           "portrait (RGB) -> sketch (1ch, -1 ink .. +1 paper)")
                        + "; trained with tools/train/train.py"),
    }
    meta.update(extra_meta or {})
    for k, v in meta.items():
        p = m.metadata_props.add()
        p.key, p.value = k, v
    onnx.checker.check_model(m)
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    onnx.save(m, out)
    return meta


def save_npy(path, a):
    np.save(path, np.ascontiguousarray(a, dtype="<f4"))


def check(G, ck, onnx_path, n, mnemo, backend, tol, size):
    """mnemo infer vs PyTorch on n held-out images (from the run's heldout.txt)."""
    c = ck["config"]
    run_dir = os.path.dirname(os.path.abspath(ck["path"]))
    held = [l.strip() for l in open(os.path.join(run_dir, "heldout.txt")) if l.strip()][:n]
    worst = 0.0
    with tempfile.TemporaryDirectory() as tmp:
        for i, path in enumerate(held):
            rgb = sk.load_rgb(path, size)
            if c["role"] == "painter":
                x = sk.sketchify(rgb, **dict(sk.DEFAULTS, density=c["density"]))[None, None]
            else:
                x = (rgb.astype(np.float32) / 127.5 - 1).transpose(2, 0, 1)[None]
            x = np.ascontiguousarray(x, dtype=np.float32)
            with torch.no_grad():
                ref = G(torch.from_numpy(x)).numpy()
            inp, outp = os.path.join(tmp, f"in{i}.npy"), os.path.join(tmp, f"out{i}.npy")
            save_npy(inp, x)
            r = subprocess.run([mnemo, "infer", "--model", onnx_path, "--input", inp,
                                "--output", outp, "--backend", backend],
                               capture_output=True, text=True)
            if r.returncode != 0:
                print(f"export check: mnemo infer failed on {path}: {r.stderr.strip()}")
                return False
            got = np.load(outp)
            if got.shape != ref.shape:
                print(f"export check: shape {got.shape} from mnemo, {ref.shape} from PyTorch")
                return False
            rel = float(np.linalg.norm(got - ref) / max(np.linalg.norm(ref), 1e-12))
            mx = float(np.abs(got - ref).max())
            worst = max(worst, rel)
            print(f"export check: {os.path.basename(path)}: relative L2 {rel:.2e}, "
                  f"max abs {mx:.2e} ({backend})")
    ok = worst < tol
    print(f"export check: {'ok' if ok else 'FAILED'}: worst relative L2 {worst:.2e} "
          f"(tolerance {tol:g}) over {len(held)} held-out images")
    return ok


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--ckpt", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument("--check", type=int, default=4, help="held-out images to compare (0: none)")
    ap.add_argument("--mnemo", default=os.path.join(ROOT, "build", "mnemo"))
    ap.add_argument("--backend", default="cpu")
    ap.add_argument("--tol", type=float, default=1e-4)
    a = ap.parse_args(argv)
    torch.set_num_threads(2)
    G, ck = load_generator(a.ckpt)
    ck["path"] = a.ckpt
    if a.size % (2 ** ck["config"]["downs"]):
        sys.exit(f"export: --size {a.size} must divide by 2^downs")
    export(G, ck, a.out, a.size)
    print(f"export: wrote {a.out} ({os.path.getsize(a.out) / 1e6:.2f} MB, "
          f"{nets.count_params(G)} parameters)")
    if a.check > 0:
        if not os.access(a.mnemo, os.X_OK):
            sys.exit(f"export: no mnemo binary at {a.mnemo} (build it, or --check 0)")
        if not check(G, ck, a.out, a.check, a.mnemo, a.backend, a.tol, a.size):
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

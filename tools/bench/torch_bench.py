#!/usr/bin/python3
"""PyTorch eager timing for tools/bench/cpu.sh: the same architecture and seeded weights
as the ONNX file (rebuilt by tools/make-fixtures.py's `build`), fp32, no_grad.

    LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-pthread \
      /usr/bin/python3 tools/bench/torch_bench.py NAME SIZE RUNS [--threads 2]
      [--input IN.npy] [--output OUT.npy] [--macs-only]

Prints one JSON line: median_ms, min_ms, runs, gmacs (Conv + ConvTranspose multiply-adds,
counted from the layers' shapes), torch version, BLAS it was built/loaded with."""
import argparse
import importlib.util
import json
import os
import statistics
import sys
import time

import numpy as np
import torch
import torch.nn as nn

HERE = os.path.dirname(os.path.abspath(__file__))


def load_fixtures():
    path = os.path.join(HERE, "..", "make-fixtures.py")
    spec = importlib.util.spec_from_file_location("make_fixtures", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def count_macs(model, x):
    """Multiply-adds of every Conv2d and ConvTranspose2d for input x."""
    total = [0]

    def hook(m, inputs, output):
        w = m.weight
        if isinstance(m, nn.ConvTranspose2d):
            # Every input pixel meets every weight of its group once.
            n, _, h, wd = inputs[0].shape
            total[0] += n * h * wd * w.numel()
        else:
            n, _, h, wd = output.shape
            total[0] += n * h * wd * w.numel()

    handles = [m.register_forward_hook(hook) for m in model.modules()
               if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d))]
    with torch.no_grad():
        model(x)
    for h in handles:
        h.remove()
    return total[0]


def blas_name():
    maps = "/proc/self/maps"
    try:
        with open(maps) as f:
            text = f.read()
    except OSError:
        return "unknown"
    for lib in ("openblas", "libblis", "libmkl", "libblas.so"):
        if lib in text:
            return {"libblas.so": "reference BLAS"}.get(lib, lib)
    return "none loaded"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("name")
    ap.add_argument("size", type=int)
    ap.add_argument("runs", type=int)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--input")
    ap.add_argument("--output")
    ap.add_argument("--macs-only", action="store_true")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    fx = load_fixtures()
    model = fx.build(args.name)
    if args.input:
        x = torch.from_numpy(np.load(args.input))
    else:
        x = torch.from_numpy(fx.make_input(args.name, args.size))
    macs = count_macs(model, x)
    result = {"gmacs": macs / 1e9, "torch": torch.__version__}
    if not args.macs_only:
        times = []
        with torch.no_grad():
            for _ in range(2):  # warm-up
                y = model(x)
            for _ in range(args.runs):
                t0 = time.perf_counter()
                y = model(x)
                times.append((time.perf_counter() - t0) * 1e3)
        if args.output:
            fx.save_npy(args.output, y.numpy())
        result.update(median_ms=statistics.median_low(times), min_ms=min(times),
                      runs=args.runs, blas=blas_name())
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Turns the JSON lines tools/bench/cpu.sh collected into bench/RESULTS.md.
Standard library only (any python3), so a missing numpy or torch never costs the table.

    report.py RESULTS.jsonl OUT.md

Input lines: {"kind": "env", ...} once, {"kind": "gmacs", model, size, gmacs},
{"kind": "time", model, size, tool, median_ms, min_ms, runs, out?, ref?} or
{"kind": "time", model, size, tool, na: "reason"}."""
import json
import math
import os
import struct
import sys
from array import array

TOOLS = ["mnemo ref", "mnemo cpu fp32", "mnemo cpu bf16", "ONNX Runtime", "PyTorch"]


def read_npy(path):
    with open(path, "rb") as f:
        data = f.read()
    if data[:6] != b"\x93NUMPY":
        raise ValueError(f"{path}: not .npy")
    if data[6] == 1:
        (hlen,), start = struct.unpack("<H", data[8:10]), 10
    else:
        (hlen,), start = struct.unpack("<I", data[8:12]), 12
    header = data[start:start + hlen].decode("latin1")
    if "'<f4'" not in header or "'fortran_order': True" in header:
        raise ValueError(f"{path}: want '<f4' in C order")
    shape = header.split("'shape':")[1].split("(")[1].split(")")[0]
    dims = tuple(int(s) for s in shape.split(",") if s.strip())
    values = array("f")
    values.frombytes(data[start + hlen:])
    if sys.byteorder != "little":
        values.byteswap()
    return dims, values


def rel_l2(a_path, b_path):
    """||a - b|| / ||b||, or a reason string."""
    try:
        da, a = read_npy(a_path)
        db, b = read_npy(b_path)
    except (OSError, ValueError, IndexError) as e:
        return f"unreadable ({e})"
    if da != db:
        return f"shape {da} vs {db}"
    num = sum((x - y) * (x - y) for x, y in zip(a, b))
    den = sum(y * y for y in b)
    if num != num:
        return "NaN"
    return math.sqrt(num / den) if den > 0 else float(num > 0)


def max_abs_diff(a_path, b_path):
    if not os.path.exists(b_path):
        return "n/a"
    try:
        da, a = read_npy(a_path)
        db, b = read_npy(b_path)
    except (OSError, ValueError, IndexError) as e:
        return f"unreadable ({e})"
    if da != db:
        return f"shape {da} vs {db}"
    worst = 0.0
    for x, y in zip(a, b):
        d = abs(x - y)
        if d != d:
            return "NaN"
        worst = d if d > worst else worst
    return worst


def fmt_ms(v):
    return f"{v:.1f}" if v >= 10 else f"{v:.2f}" if v >= 1 else f"{v:.3f}"


def main():
    src, dst = sys.argv[1], sys.argv[2]
    env, gmacs, times = {}, {}, {}
    order = []
    with open(src) as f:
        for line in f:
            if not line.strip():
                continue
            r = json.loads(line)
            key = (r.get("model"), r.get("size"))
            if r["kind"] == "env":
                env.update(r)
            elif r["kind"] == "gmacs":
                gmacs[key] = r["gmacs"]
            elif r["kind"] == "time":
                if key not in order:
                    order.append(key)
                times[key + (r["tool"],)] = r
    peak = float(env.get("peak_gflops") or 233.0)
    peak_bf16 = env.get("peak_bf16_gflops")
    peak_src = env.get("peak_source", "FACTS.md")

    def cell(key, tool):
        r = times.get(key + (tool,))
        if r is None:
            return "—"
        if "na" in r:
            return "n/a¹" if tool == "mnemo ref" and r["na"].startswith("skipped") else "n/a"
        g = gmacs.get(key)
        pct = ""
        if g:
            pct = f" ({percent(g, r['median_ms'], peak)}"
            if tool == "mnemo cpu bf16" and peak_bf16:
                pct += f"; {percent(g, r['median_ms'], float(peak_bf16))} of bf16"
            pct += ")"
        return f"{fmt_ms(r['median_ms'])} / {fmt_ms(r['min_ms'])}{pct}"

    def percent(g, ms, pk):
        p = 100 * 2 * g / (ms / 1e3) / pk
        return f"{p:.0f}%" if p >= 10 else f"{p:.1f}%" if p >= 0.1 else "<0.1%"

    out = []
    w = out.append
    w("# CPU benchmark: mnemo against ONNX Runtime and PyTorch")
    w("")
    w("Written by `tools/bench/cpu.sh` (`make bench`); do not edit by hand, run it again.")
    w("")
    w(f"- machine: {env.get('cpu', '?')}, {env.get('cores', '?')} cores "
      f"({env.get('host_note', '')}); load average at start {env.get('load', '?')}")
    w(f"- date: {env.get('date', '?')}; commit `{env.get('commit', '?')}`")
    w(f"- threads: {env.get('threads', 2)} for every tool; mnemo `{env.get('mnemo', '?')}`; "
      f"ONNX Runtime {env.get('ort', '?')} (onnxruntime-node, CPU EP); "
      f"PyTorch {env.get('torch', '?')} eager, no_grad, BLAS: {env.get('blas', '?')}")
    w(f"- CPU flags: {env.get('flags', '?')}")
    bf16_txt = (f"bf16 peak **{float(peak_bf16):.0f} GFLOP/s** (vdpbf16ps)" if peak_bf16
                else "no bf16 peak (no avx512_bf16)")
    w(f"- peaks used for %: fp32 **{peak:.0f} GFLOP/s**, {bf16_txt} ({peak_src}). "
      "% = 2 × GMACs / median time / peak; the bf16 column gives % of the fp32 peak "
      "and of the bf16 peak.")
    w("- every model file is a fixed-size opset-13 export from `tools/make-fixtures.py "
      "--big` (bench/models/); all tools get the same seeded input; PyTorch runs the same "
      "architecture with the same seeded weights.")
    w("")
    w("## Time per inference: median / min ms (% of fp32 peak at the median)")
    w("")
    w("| model | size | GMACs | " + " | ".join(TOOLS) + " |")
    w("| --- | --- | --- |" + " --- |" * len(TOOLS))
    for key in order:
        g = gmacs.get(key)
        w(f"| {key[0]} | {key[1]}² | {g:.2f} | " if g else f"| {key[0]} | {key[1]}² | ? | ")
        out[-1] += " | ".join(cell(key, t) for t in TOOLS) + " |"
    w("")
    w("¹ `ref` (plain C, the truth in tests) is not timed on the full-size models: at a few "
      "GMAC/s it would take minutes per row.")
    w("")
    w("## mnemo against the peers: time ratio at the median (< 1: mnemo is faster)")
    w("")
    w("| model | size | cpu fp32 / ORT | cpu bf16 / ORT | cpu fp32 / PyTorch | "
      "cpu bf16 / PyTorch |")
    w("| --- | --- | --- | --- | --- | --- |")
    for key in order:
        row = []
        for mine in ("mnemo cpu fp32", "mnemo cpu bf16"):
            for peer in ("ONNX Runtime", "PyTorch"):
                a, b = times.get(key + (mine,)), times.get(key + (peer,))
                ok = a and b and "na" not in a and "na" not in b
                row.append(f"{a['median_ms'] / b['median_ms']:.2f}" if ok else "n/a")
        w(f"| {key[0]} | {key[1]}² | {row[0]} | {row[2]} | {row[1]} | {row[3]} |")
    w("")
    w("## Accuracy: max |output − PyTorch output| on the same input")
    w("")
    w("| model | size | " + " | ".join(t for t in TOOLS if t != "PyTorch") + " |")
    w("| --- | --- |" + " --- |" * (len(TOOLS) - 1))
    for key in order:
        row = []
        for t in TOOLS[:-1]:
            r = times.get(key + (t,))
            if not r or "na" in r or not r.get("out") or not r.get("ref"):
                row.append("n/a")
                continue
            d = max_abs_diff(r["out"], r["ref"])
            row.append(f"{d:.1e}" if isinstance(d, float) else d)
        w(f"| {key[0]} | {key[1]}² | " + " | ".join(row) + " |")
    w("")
    w("## bf16 against fp32: relative L2 of mnemo cpu bf16's output to mnemo cpu fp32's "
      "(goal ≤ 1e-2)")
    w("")
    w("| model | size | rel. L2 |")
    w("| --- | --- | --- |")
    for key in order:
        a, b = times.get(key + ("mnemo cpu bf16",)), times.get(key + ("mnemo cpu fp32",))
        if not a or not b or "na" in a or "na" in b:
            w(f"| {key[0]} | {key[1]}² | n/a |")
            continue
        e = rel_l2(a["out"], b["out"])
        w(f"| {key[0]} | {key[1]}² | {e:.1e} |" if isinstance(e, float)
          else f"| {key[0]} | {key[1]}² | {e} |")
    why_not = {}
    for r in times.values():
        if "na" in r:
            why_not.setdefault((r["tool"], r["na"]), []).append(f"{r['model']} {r['size']}²")
    if why_not:
        w("")
        w("## Not measured, and why")
        w("")
        for (tool, why), rows in sorted(why_not.items()):
            w(f"- {tool} ({', '.join(rows)}): {why}")
    if env.get("notes"):
        w("")
        w("## Notes")
        w("")
        for n in env["notes"]:
            w(f"- {n}")
    with open(dst, "w") as f:
        f.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()

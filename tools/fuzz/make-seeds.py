#!/usr/bin/python3
"""Writes the hand-made seed inputs of the fuzz targets into tools/fuzz/seeds/ (committed).

    /usr/bin/python3 tools/fuzz/make-seeds.py           # onnx (needs torch + onnx), osc
    /usr/bin/python3 tools/fuzz/make-seeds.py --no-torch

onnx: the test fixtures' architectures (tools/make-fixtures.py) at the smallest width
(ngf 1) so that each file is a few KB (the committed fixtures are 75 KB - 1.8 MB, mostly
weights, which a fuzzer would waste its time mutating), exported at opsets 11, 13 and 17
and with dynamic sizes; and a few onnx.helper graphs that between them use every op and
attribute the importer maps. tests/data/bad/ holds the importer's bad-input models, which
`make fuzz` and the replay test also use as seeds.

osc: one packet per kind of message the endpoint takes (and a few it refuses), written by
hand in the OSC 1.0 wire format.

config: hand-written files, edited directly (no generator). Deterministic output."""
import argparse
import importlib.util
import io
import os
import struct
import warnings

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
SEEDS = os.path.join(HERE, "seeds")


# ---- onnx ------------------------------------------------------------------------------

def fixtures_module():
    spec = importlib.util.spec_from_file_location("make_fixtures",
                                                  os.path.join(ROOT, "tools", "make-fixtures.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def torch_seeds(out):
    import onnx
    import torch
    fx = fixtures_module()
    models = {
        "unet": (lambda: fx.unet(1, 3, 5, 1), 1),
        "resnet": (lambda: fx.resnet(3, 1, 1, 1), 3),
    }
    for name, (builder, in_ch) in models.items():
        torch.manual_seed(7)
        model = builder()
        fx.randomize_batchnorm(model, torch.Generator().manual_seed(8))
        model.eval()
        for opset, dynamic in ((11, False), (13, False), (17, False), (13, True)):
            x = torch.zeros(1, in_ch, 32, 32)
            buf = io.BytesIO()
            axes = {"input": {2: "height", 3: "width"}, "output": {2: "height", 3: "width"}}
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                torch.onnx.export(model, x, buf, opset_version=opset, input_names=["input"],
                                  output_names=["output"],
                                  dynamic_axes=axes if dynamic else None,
                                  do_constant_folding=True)
            m = onnx.load_from_string(buf.getvalue())
            suffix = "_dynamic" if dynamic else ""
            write(out, f"{name}_op{opset}{suffix}.onnx", m.SerializeToString())


def helper_seeds(out):
    from onnx import TensorProto, helper, numpy_helper

    def w(shape, scale=0.1):
        n = int(np.prod(shape))
        return (np.sin(np.arange(n) * 0.7) * scale).astype(np.float32).reshape(shape)

    def init(name, array):
        return numpy_helper.from_array(array, name)

    def model(nodes, inits, in_dims, out_dims, opset=13):
        g = helper.make_graph(
            nodes, "seed", [helper.make_tensor_value_info("input", TensorProto.FLOAT, in_dims)],
            [helper.make_tensor_value_info("output", TensorProto.FLOAT, out_dims)],
            initializer=inits)
        m = helper.make_model(g, producer_name="mnemo fuzz seeds",
                              opset_imports=[helper.make_opsetid("", opset)])
        m.ir_version = 8
        return m.SerializeToString()

    n = helper.make_node
    # Conv, BatchNorm, Relu, ConvTranspose, InstanceNorm, LeakyRelu, reflect Pad, Resize
    # (linear, scales), Concat, Add (residual), Tanh.
    nodes = [
        n("Conv", ["input", "c1.w", "c1.b"], ["c1"], kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
        n("BatchNormalization", ["c1", "bn.s", "bn.b", "bn.m", "bn.v"], ["bn"], epsilon=1e-5),
        n("Relu", ["bn"], ["r"]),
        n("ConvTranspose", ["r", "ct.w"], ["ct"], kernel_shape=[2, 2], strides=[2, 2]),
        n("InstanceNormalization", ["ct", "in.s", "in.b"], ["in"]),
        n("LeakyRelu", ["in"], ["lr"], alpha=0.1),
        n("Pad", ["lr", "pads"], ["pad"], mode="reflect"),
        n("Conv", ["pad", "c2.w"], ["c2"], kernel_shape=[3, 3], strides=[2, 2]),
        n("Resize", ["c2", "", "scales"], ["rs"], mode="linear",
          coordinate_transformation_mode="half_pixel"),
        n("Concat", ["rs", "input"], ["cat"], axis=1),
        n("Conv", ["cat", "c3.w"], ["c3"], kernel_shape=[1, 1]),
        n("Add", ["c3", "input"], ["sum"]),
        n("Tanh", ["sum"], ["output"]),
    ]
    inits = [init("c1.w", w((4, 2, 3, 3))), init("c1.b", w((4,), 0.01)),
             init("bn.s", w((4,)) + 1), init("bn.b", w((4,))), init("bn.m", w((4,))),
             init("bn.v", np.abs(w((4,))) + 0.5), init("ct.w", w((4, 2, 2, 2))),
             init("in.s", w((2,)) + 1), init("in.b", w((2,))),
             init("pads", np.array([0, 0, 1, 1, 0, 0, 1, 1], np.int64)),
             init("c2.w", w((2, 2, 3, 3))),
             init("scales", np.array([1, 1, 2, 2], np.float32)),
             init("c3.w", w((2, 4, 1, 1)))]
    write(out, "ops_conv_chain.onnx", model(nodes, inits, [1, 2, 8, 8], [1, 2, 8, 8]))

    # Run-time binary ops with broadcasting, Sigmoid, Clip with inputs, edge Pad, nearest
    # Resize with sizes, Identity and Dropout dropped, Upsample-era attributes.
    nodes = [
        n("Sub", ["input", "mean"], ["centred"]),
        n("Div", ["centred", "std"], ["norm"]),
        n("Mul", ["norm", "gain"], ["scaled"]),
        n("Sigmoid", ["scaled"], ["sig"]),
        n("Add", ["sig", "norm"], ["both"]),
        n("Clip", ["both", "lo", "hi"], ["clipped"]),
        n("Pad", ["clipped", "pads"], ["edge"], mode="edge"),
        n("Identity", ["edge"], ["same"]),
        n("Dropout", ["same"], ["kept"]),
        n("Resize", ["kept", "", "", "sizes"], ["output"], mode="nearest",
          coordinate_transformation_mode="asymmetric", nearest_mode="round_prefer_ceil"),
    ]
    inits = [init("mean", w((1, 3, 1, 1))), init("std", np.abs(w((1, 3, 1, 1))) + 1),
             init("gain", np.array(2.0, np.float32)), init("lo", np.array(-0.5, np.float32)),
             init("hi", np.array(0.5, np.float32)),
             init("pads", np.array([0, 0, 2, 1, 0, 0, 2, 1], np.int64)),
             init("sizes", np.array([1, 3, 24, 20], np.int64))]
    write(out, "ops_binary_resize.onnx", model(nodes, inits, [1, 3, 8, 8], [1, 3, 24, 20]))

    # Opset 9 forms: Upsample with a scales input, Pad and Clip with attributes.
    nodes = [
        n("Pad", ["input"], ["p"], mode="constant", pads=[0, 0, 1, 1, 0, 0, 1, 1], value=0.5),
        n("Clip", ["p"], ["c"], min=-0.25, max=0.75),
        n("Upsample", ["c", "scales"], ["output"], mode="nearest"),
    ]
    inits = [init("scales", np.array([1, 1, 2, 2], np.float32))]
    write(out, "ops_opset9.onnx", model(nodes, inits, [1, 1, 6, 6], [1, 1, 16, 16], opset=9))


def write(out, name, data):
    with open(os.path.join(out, name), "wb") as f:
        f.write(data)


# ---- osc -------------------------------------------------------------------------------

def osc_string(s):
    b = s.encode() + b"\0"
    return b + b"\0" * (-len(b) % 4)


def osc_message(path, *args):
    """args: (type, value) pairs; T/F/N/I take no value."""
    types = "," + "".join(t for t, _ in args)
    data = osc_string(path) + osc_string(types)
    for t, v in args:
        if t == "i":
            data += struct.pack(">i", v)
        elif t == "h":
            data += struct.pack(">q", v)
        elif t == "f":
            data += struct.pack(">f", v)
        elif t == "d":
            data += struct.pack(">d", v)
        elif t in "sS":
            data += osc_string(v)
        elif t == "b":
            data += struct.pack(">i", len(v)) + v + b"\0" * (-len(v) % 4)
    return data


def osc_seeds(out):
    seeds = {
        "set_float": osc_message("/mnemo/perturb.noise", ("f", 0.25)),
        "set_double": osc_message("/mnemo/loop.blend", ("d", 0.5)),
        "set_int": osc_message("/mnemo/perturb.erase_count", ("i", 3)),
        "set_int64": osc_message("/mnemo/guard.stall_window", ("h", 30)),
        "set_int_as_float": osc_message("/mnemo/simplify.thin", ("f", 1.0)),
        "set_bool_true": osc_message("/mnemo/guard.enabled", ("T", None)),
        "set_bool_number": osc_message("/mnemo/present.hud", ("i", 0)),
        "set_enum_name": osc_message("/mnemo/present.layout", ("s", "side_by_side")),
        "set_enum_index": osc_message("/mnemo/present.fit", ("i", 1)),
        "set_string": osc_message("/mnemo/midi.map",
                                  ("s", "cc=21 param=perturb.noise min=0 max=0.3 curve=exp")),
        "set_symbol": osc_message("/mnemo/present.filter", ("S", "lanczos3")),
        "set_restart_only": osc_message("/mnemo/loop.size", ("i", 128)),
        "set_two_values": osc_message("/mnemo/loop.rate", ("f", 4.0), ("f", 5.0)),
        "set_blob": osc_message("/mnemo/loop.rate", ("b", b"\1\2\3")),
        "get": osc_message("/mnemo/get", ("s", "loop.rate")),
        "get_unknown": osc_message("/mnemo/get", ("s", "loop.rat")),
        "list": osc_message("/mnemo/list"),
        "preset": osc_message("/mnemo/preset", ("s", "calm")),
        "preset_bad_name": osc_message("/mnemo/preset", ("s", "../calm")),
        "reseed": osc_message("/mnemo/reseed"),
        "other_prefix": osc_message("/other/thing", ("i", 1)),
        "no_args": osc_message("/mnemo/perturb.zoom"),
        "bundle": b"#bundle\0" + struct.pack(">Q", 1) + struct.pack(">i", 16)
                  + osc_message("/mnemo/reseed"),
    }
    for name, data in seeds.items():
        write(out, name + ".osc", data)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--no-torch", action="store_true", help="skip the PyTorch exports")
    args = ap.parse_args()
    for target in ("onnx", "osc"):
        os.makedirs(os.path.join(SEEDS, target), exist_ok=True)
    if not args.no_torch:
        torch_seeds(os.path.join(SEEDS, "onnx"))
    helper_seeds(os.path.join(SEEDS, "onnx"))
    osc_seeds(os.path.join(SEEDS, "osc"))


if __name__ == "__main__":
    main()

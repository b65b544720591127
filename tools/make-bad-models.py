#!/usr/bin/python3
"""Writes the small ONNX files the importer tests load into tests/data/bad/.

Most are broken on purpose (not a model, an unsupported op, two inputs, ...); a few are
good models that exercise one loader path (external weights, a dynamic size, a real
PyTorch ReflectionPad2d export). Every file is tiny and the output is deterministic:
weights come from a fixed formula, not a random generator.

    /usr/bin/python3 tools/make-bad-models.py            # onnx.helper files only
    /usr/bin/python3 tools/make-bad-models.py --torch    # also the PyTorch export

Needs Debian's python3-onnx (and python3-torch for --torch)."""
import argparse
import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "data", "bad")
OPSET = 13


def weights(shape, scale=0.1):
    """Deterministic, non-trivial float32 weights."""
    n = int(np.prod(shape))
    return (np.sin(np.arange(n, dtype=np.float64) * 0.7) * scale).astype(np.float32).reshape(shape)


def image_input(name="input", dims=(1, 3, 8, 8)):
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, list(dims))


def image_output(name="output", dims=(1, 4, 8, 8)):
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, list(dims))


def conv_node(name, x, w, b, y, **attrs):
    attrs.setdefault("kernel_shape", [3, 3])
    attrs.setdefault("pads", [1, 1, 1, 1])
    return helper.make_node("Conv", [x, w, b], [y], name=name, **attrs)


def conv_inits(cin=3, cout=4, k=3, prefix="conv"):
    return [numpy_helper.from_array(weights((cout, cin, k, k)), prefix + ".weight"),
            numpy_helper.from_array(weights((cout,), 0.01), prefix + ".bias")]


def model_of(nodes, inputs, outputs, inits, name, opset=OPSET):
    graph = helper.make_graph(nodes, name, inputs, outputs, initializer=inits)
    model = helper.make_model(graph, producer_name="mnemo make-bad-models",
                              opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = 8
    return model


def save(model, filename):
    path = os.path.join(OUT, filename)
    with open(path, "wb") as f:
        f.write(model.SerializeToString())
    return path


def not_a_model():
    # A valid protobuf message of another type: a serialized TensorProto.
    t = numpy_helper.from_array(weights((2, 3)), "just_a_tensor")
    with open(os.path.join(OUT, "not_a_model.onnx"), "wb") as f:
        f.write(t.SerializeToString())


def unsupported_op():
    nodes = [conv_node("conv_1", "input", "conv.weight", "conv.bias", "c"),
             helper.make_node("Softmax", ["c"], ["output"], name="Softmax_7", axis=1)]
    save(model_of(nodes, [image_input()], [image_output()], conv_inits(), "unsupported"),
         "unsupported_op.onnx")


def dynamic_hw():
    nodes = [conv_node("conv_1", "input", "conv.weight", "conv.bias", "c"),
             helper.make_node("Relu", ["c"], ["output"], name="relu_1")]
    inp = image_input(dims=("N", 3, "H", "W"))
    out = image_output(dims=("N", 4, "H", "W"))
    save(model_of(nodes, [inp], [out], conv_inits(), "dynamic"), "dynamic_hw.onnx")


def rank3_input():
    nodes = [helper.make_node("Relu", ["input"], ["output"], name="relu_1")]
    save(model_of(nodes, [image_input(dims=(3, 8, 8))], [image_output(dims=(3, 8, 8))], [],
                  "rank3"), "rank3_input.onnx")


def nan_weights():
    inits = conv_inits()
    w = numpy_helper.to_array(inits[0]).copy()
    w[1, 2, 0, 1] = np.nan
    w[3, 0, 2, 2] = np.inf
    inits[0] = numpy_helper.from_array(w, "conv.weight")
    nodes = [conv_node("conv_1", "input", "conv.weight", "conv.bias", "output")]
    save(model_of(nodes, [image_input()], [image_output()], inits, "nan"), "nan_weights.onnx")


def two_inputs():
    nodes = [helper.make_node("Add", ["input", "other"], ["output"], name="add_1")]
    save(model_of(nodes, [image_input(), image_input("other")], [image_output(dims=(1, 3, 8, 8))],
                  [], "two_inputs"), "two_inputs.onnx")


def external(filename, data_name, location, offsets):
    """A conv whose weight and bias live in `data_name`, or point at `location`."""
    inits = conv_inits()
    blob = b""
    for t, offset in zip(inits, offsets):
        raw = numpy_helper.to_array(t).astype("<f4").tobytes()
        blob = blob.ljust(offset, b"\0") + raw
        t.ClearField("raw_data")
        t.data_location = TensorProto.EXTERNAL
        for key, value in (("location", location), ("offset", str(offset)),
                           ("length", str(len(raw)))):
            entry = t.external_data.add()
            entry.key, entry.value = key, value
    if data_name:
        with open(os.path.join(OUT, data_name), "wb") as f:
            f.write(blob)
    nodes = [conv_node("conv_1", "input", "conv.weight", "conv.bias", "output")]
    save(model_of(nodes, [image_input()], [image_output()], inits, "external"), filename)


def group_conv():
    inits = [numpy_helper.from_array(weights((4, 1, 3, 3)), "conv.weight"),
             numpy_helper.from_array(weights((4,), 0.01), "conv.bias")]
    nodes = [conv_node("conv_grouped", "input", "conv.weight", "conv.bias", "output", group=4)]
    save(model_of(nodes, [image_input(dims=(1, 4, 8, 8))], [image_output()], inits, "group"),
         "group_conv.onnx")


def const_node(name, value, dtype=np.int64):
    return helper.make_node("Constant", [], [name], name=name + "_c",
                            value=numpy_helper.from_array(np.array(value, dtype=dtype), name))


def fold_ops():
    """A good model whose Pad and Resize parameters come from a constant subgraph that uses
    every op the folder evaluates. Expected: pads [0,0,1,3,0,0,2,2], constant 0.5, the
    padded 1x3x11x13 tensor resized by 2 to 1x3x22x26."""
    big, small = np.iinfo(np.int64).max, np.iinfo(np.int64).min
    n = helper.make_node
    nodes = [
        n("Shape", ["input"], ["s"], name="shape_in"),                        # [1,3,8,8]
        const_node("rev_start", [big]), const_node("rev_end", [small]),
        const_node("axis0", [0]), const_node("step_back", [-1]),
        n("Slice", ["s", "rev_start", "rev_end", "axis0", "step_back"], ["rev"],
          name="slice_reverse"),                                              # [8,8,3,1]
        const_node("pick", [-2, 3]),
        n("Gather", ["rev", "pick"], ["two"], name="gather_neg"),             # [3,1]
        const_node("minus", [2, 0]),
        n("Sub", ["two", "minus"], ["sub"], name="sub_i"),                    # [1,1]
        n("Unsqueeze", ["sub", "axis0"], ["u"], name="unsqueeze_0"),          # [[1,1]]
        const_node("col", [[1], [2]]),
        n("Mul", ["u", "col"], ["m"], name="mul_bcast"),                      # [[1,1],[2,2]]
        n("Transpose", ["m"], ["t"], name="transpose_default"),               # [[1,2],[1,2]]
        const_node("flat", [-1]),
        n("Reshape", ["t", "flat"], ["r"], name="reshape_flat"),              # [1,2,1,2]
        const_node("zero", [0]), const_node("two_", [2]), const_node("far", [100]),
        n("Slice", ["r", "zero", "two_"], ["r_lo"], name="slice_lo"),         # [1,2]
        n("Slice", ["r", "two_", "far"], ["r_hi"], name="slice_hi_clamped"),  # [1,2]
        const_node("r_start", 0), const_node("r_limit", 4), const_node("r_delta", 2),
        n("Range", ["r_start", "r_limit", "r_delta"], ["rg"], name="range_i"),  # [0,2]
        const_node("halve", 2),
        n("Div", ["rg", "halve"], ["rg2"], name="div_i"),                     # [0,1]
        n("Add", ["r_lo", "rg2"], ["begin_hw"], name="add_begin"),            # [1,3]
        const_node("plus", [1, 0]),
        n("Add", ["r_hi", "plus"], ["end_hw"], name="add_end"),               # [2,2]
        n("ConstantOfShape", ["two_"], ["zeros"], name="zeros_2",
          value=numpy_helper.from_array(np.array([0], dtype=np.int64))),
        n("Concat", ["zeros", "begin_hw", "zeros", "end_hw"], ["pads_i"], axis=0,
          name="concat_pads"),
        n("Cast", ["pads_i"], ["pads_f"], to=TensorProto.FLOAT, name="cast_f"),
        n("Cast", ["pads_f"], ["pads"], to=TensorProto.INT64, name="cast_i"),
        const_node("half", [[0.5]], np.float32), const_node("both", [0, 1]),
        n("Squeeze", ["half", "both"], ["pad_value"], name="squeeze_value"),
        n("Pad", ["input", "pads", "pad_value"], ["padded"], mode="constant", name="pad_const"),
        n("Shape", ["padded"], ["ps"], name="shape_padded"),                 # [1,3,11,13]
        const_node("twice", [1, 1, 2, 2]),
        n("Mul", ["ps", "twice"], ["sizes"], name="mul_sizes"),
        n("Resize", ["padded", "", "", "sizes"], ["big"], mode="nearest", name="resize_sizes",
          coordinate_transformation_mode="asymmetric", nearest_mode="floor"),
        n("Identity", ["big"], ["same"], name="identity_1"),
        n("Dropout", ["same"], ["kept"], name="dropout_1"),
        const_node("lo", -0.5, np.float32), const_node("hi", 0.75, np.float32),
        n("Clip", ["kept", "lo", "hi"], ["clipped"], name="clip_inputs"),
        n("LeakyRelu", ["clipped"], ["leaky"], name="leaky_default"),
        const_node("gain", 3.0, np.float32),
        n("Mul", ["leaky", "gain"], ["scaled"], name="mul_gain"),
        n("Sigmoid", ["scaled"], ["output"], name="sigmoid_out"),
    ]
    save(model_of(nodes, [image_input()], [image_output(dims=(1, 3, 22, 26))], [], "fold"),
         "fold_ops.onnx")


def many_constants(steps=150):
    """A good model whose Pad's pads come from a chain of `steps` folded Adds, so the
    importer's table of known constants grows past several reallocations while a fold
    holds its inputs (a use-after-free once). Expected pads [0,0,0,steps,0,0,0,0]."""
    n = helper.make_node
    nodes = [const_node("acc_0", [0] * 8), const_node("step", [0, 0, 0, 1, 0, 0, 0, 0])]
    for i in range(steps):
        nodes.append(n("Add", [f"acc_{i}", "step"], [f"acc_{i + 1}"], name=f"add_{i}"))
    nodes.append(n("Pad", ["input", f"acc_{steps}"], ["output"], mode="constant", name="pad"))
    save(model_of(nodes, [image_input()], [image_output(dims=(1, 3, 8, 8 + steps))], [],
                  "many_constants"), "many_constants.onnx")


def fold_bomb(doublings=6):
    """A few hundred bytes whose constant subgraph asks for 64M elements: a ConstantOfShape
    of 1M, doubled by Concats. No single fold is absurd, their sum is: the importer must
    refuse it with a message (the Concat that builds 4M, when 1M + 2M are already made),
    not spend seconds and gigabytes on it (found by the ONNX fuzzer)."""
    n = helper.make_node
    nodes = [const_node("count", [1 << 20]),
             n("ConstantOfShape", ["count"], ["x_0"], name="zeros_1m",
               value=numpy_helper.from_array(np.array([1], dtype=np.int64)))]
    for i in range(doublings):
        nodes.append(n("Concat", [f"x_{i}", f"x_{i}"], [f"x_{i + 1}"], axis=0,
                       name=f"double_{i + 1}"))
    nodes += [const_node("start", [0]), const_node("end", [8]),
              n("Slice", [f"x_{doublings}", "start", "end"], ["pads"], name="take_8"),
              n("Pad", ["input", "pads"], ["output"], mode="constant", name="pad")]
    save(model_of(nodes, [image_input()], [image_output(dims=(1, 3, 10, 10))], [], "bomb"),
         "fold_bomb.onnx")


def guard_models():
    """Two broken loop partners for the guard's tests (64x64): a sketcher that returns
    plain white paper whatever it is shown (the loop stalls, the sketch loses its ink),
    and a painter that amplifies the high frequencies of its input 40-fold into saturated
    noise (the loop explodes)."""
    n = helper.make_node
    white = [numpy_helper.from_array(np.zeros((1, 3, 1, 1), np.float32), "w"),
             numpy_helper.from_array(np.ones((1,), np.float32), "b")]
    save(model_of([n("Conv", ["input", "w", "b"], ["output"], kernel_shape=[1, 1],
                     name="paper")],
                  [image_input(dims=(1, 3, 64, 64))], [image_output(dims=(1, 1, 64, 64))], white,
                  "const_sketcher"), "const_sketcher.onnx")
    laplace = np.array([[-1, -1, -1], [-1, 8, -1], [-1, -1, -1]], np.float32) * 40.0
    kernel = np.stack([laplace * s for s in (1.0, -0.7, 0.4)])[:, None, :, :]
    loud = [numpy_helper.from_array(kernel.astype(np.float32), "w"),
            numpy_helper.from_array(np.zeros((3,), np.float32), "b")]
    save(model_of([n("Conv", ["input", "w", "b"], ["output"], kernel_shape=[3, 3],
                     pads=[1, 1, 1, 1], name="amplify")],
                  [image_input(dims=(1, 1, 64, 64))], [image_output(dims=(1, 3, 64, 64))], loud,
                  "noise_painter"), "noise_painter.onnx")


def nan_painter():
    """A painter that returns NaN wherever its input is ink (<= 0: Relu(x) / Relu(x) is 0/0
    there) and its input elsewhere, 64x64 gray to gray: part of every portrait is not a
    number, as from a model that overflows on some inputs."""
    n = helper.make_node
    nodes = [n("Relu", ["input"], ["paper"], name="paper"),
             n("Div", ["paper", "paper"], ["one_or_nan"], name="zero_by_zero"),
             n("Mul", ["one_or_nan", "input"], ["output"], name="keep_paper")]
    save(model_of(nodes, [image_input(dims=(1, 1, 64, 64))], [image_output(dims=(1, 1, 64, 64))],
                  [], "nan_painter"), "nan_painter.onnx")


def old_opset():
    """Opset 10: Pad and Clip take attributes, Resize takes (X, scales)."""
    n = helper.make_node
    nodes = [
        n("Pad", ["input"], ["padded"], mode="reflect", pads=[0, 0, 1, 2, 0, 0, 1, 2],
          name="pad_attr"),
        n("Clip", ["padded"], ["clipped"], min=-0.5, max=0.5, name="clip_attr"),
        const_node("scales", [1, 1, 2, 2], np.float32),
        n("Resize", ["clipped", "scales"], ["output"], mode="nearest", name="resize_10"),
    ]
    save(model_of(nodes, [image_input()], [image_output(dims=(1, 3, 20, 24))], [], "old",
                  opset=10), "old_opset10.onnx")


def unknown_attr():
    nodes = [helper.make_node("Relu", ["input"], ["output"], name="relu_odd", inplace=1)]
    save(model_of(nodes, [image_input()], [image_output(dims=(1, 3, 8, 8))], [], "attr"),
         "unknown_attr.onnx")


def cubic_resize():
    nodes = [const_node("scales", [1, 1, 2, 2], np.float32),
             helper.make_node("Resize", ["input", "", "scales"], ["output"], mode="cubic",
                              name="resize_cubic")]
    save(model_of(nodes, [image_input()], [image_output(dims=(1, 3, 16, 16))], [], "cubic"),
         "cubic_resize.onnx")


def runtime_reshape():
    nodes = [conv_node("conv_1", "input", "conv.weight", "conv.bias", "c"),
             const_node("flat", [1, -1]),
             helper.make_node("Reshape", ["c", "flat"], ["output"], name="reshape_runtime")]
    save(model_of(nodes, [image_input()], [image_output(dims=(1, 256))], conv_inits(),
                  "reshape"), "runtime_reshape.onnx")


def runtime_reshape_target():
    """Reshape whose target shape is a run-time tensor: mnemo needs it known at load."""
    nodes = [conv_node("conv_1", "input", "conv.weight", "conv.bias", "c"),
             helper.make_node("Reshape", ["c", "c"], ["output"], name="reshape_by_data")]
    save(model_of(nodes, [image_input()], [image_output(dims=(1, 256))], conv_inits(),
                  "reshape_target"), "runtime_reshape_target.onnx")


def pow_runtime_exponent():
    """Pow whose exponent is computed at run time: mnemo runs only constant exponents."""
    nodes = [helper.make_node("Sigmoid", ["input"], ["e"], name="exponent"),
             helper.make_node("Pow", ["input", "e"], ["output"], name="pow_runtime")]
    save(model_of(nodes, [image_input()], [image_output(dims=(1, 3, 8, 8))], [], "pow"),
         "pow_runtime_exponent.onnx")


def runtime_slice():
    """F.pad(mode='circular') as opsets <= 18 export it: Slices of the run-time tensor and a
    Concat. mnemo slices constants only: refused, naming the node and the likely layer."""
    nodes = [const_node("starts", [7]), const_node("ends", [8]), const_node("axes", [3]),
             helper.make_node("Slice", ["input", "starts", "ends", "axes"], ["edge"],
                              name="circular_slice"),
             helper.make_node("Concat", ["edge", "input"], ["output"], axis=3, name="wrap")]
    save(model_of(nodes, [image_input()], [image_output(dims=(1, 3, 8, 9))], [], "slice"),
         "runtime_slice.onnx")


def fold_more():
    """Floor, Ceil, MatMul, Tile and Expand on constants, folded at load into one Mul
    constant: K = MatMul(2 I, Ceil([0.2, 1.5, 2.5])) * Tile([0.5], 3) + Floor([0.7, 1.5, -0.5])
    + Expand(1, [3]) = [2, 4, 3], then output = input * K over the channels."""
    f32 = np.float32
    nodes = [const_node("c_in", [0.2, 1.5, 2.5], f32), const_node("f_in", [0.7, 1.5, -0.5], f32),
             const_node("eye2", (np.eye(3) * 2).tolist(), f32), const_node("half", [0.5], f32),
             const_node("reps", [3]), const_node("one", [1.0], f32), const_node("three", [3]),
             const_node("to4", [1, 3, 1, 1]),
             helper.make_node("Ceil", ["c_in"], ["c"], name="ceil"),
             helper.make_node("Floor", ["f_in"], ["f"], name="floor"),
             helper.make_node("MatMul", ["eye2", "c"], ["m"], name="matmul"),
             helper.make_node("Tile", ["half", "reps"], ["t"], name="tile"),
             helper.make_node("Expand", ["one", "three"], ["e"], name="expand"),
             helper.make_node("Mul", ["m", "t"], ["mt"]), helper.make_node("Add", ["mt", "f"], ["s"]),
             helper.make_node("Add", ["s", "e"], ["k"]),
             helper.make_node("Reshape", ["k", "to4"], ["k4"]),
             helper.make_node("Mul", ["input", "k4"], ["output"], name="scale")]
    save(model_of(nodes, [image_input()], [image_output(dims=(1, 3, 8, 8))], [], "fold_more"),
         "fold_more.onnx")


def pool_models():
    """MaxPool that also outputs its indices (refused), and pools the importer must read
    right: AveragePool with auto_pad SAME_UPPER, Mish as its own op (opset 18)."""
    nodes = [helper.make_node("MaxPool", ["input"], ["output", "indices"], name="pool_indices",
                              kernel_shape=[2, 2], strides=[2, 2])]
    save(model_of(nodes, [image_input()], [image_output(dims=(1, 3, 4, 4))], [], "indices"),
         "maxpool_indices.onnx")
    nodes = [helper.make_node("AveragePool", ["input"], ["a"], name="pool_same", kernel_shape=[4, 2],
                              strides=[2, 2], auto_pad="SAME_UPPER"),
             helper.make_node("Mish", ["a"], ["output"], name="mish")]
    save(model_of(nodes, [image_input(dims=(1, 3, 7, 8))], [image_output(dims=(1, 3, 4, 4))], [],
                  "same", opset=18), "pool_same_mish.onnx")


def reflect_pad_torch():
    """A real exporter's ReflectionPad2d: its pads come from a constant subgraph."""
    import torch

    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.ReflectionPad2d((1, 2, 3, 0)), torch.nn.Conv2d(3, 2, 3),
                              torch.nn.Tanh()).eval()
    path = os.path.join(OUT, "reflect_pad_op13.onnx")
    torch.onnx.export(net, torch.zeros(1, 3, 8, 8), path, opset_version=13,
                      input_names=["input"], output_names=["output"])
    onnx.checker.check_model(onnx.load(path))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--torch", action="store_true", help="also write the PyTorch export")
    args = parser.parse_args()
    os.makedirs(OUT, exist_ok=True)
    not_a_model()
    unsupported_op()
    dynamic_hw()
    rank3_input()
    nan_weights()
    two_inputs()
    external("external_data.onnx", "external_data.bin", "external_data.bin", (0, 512))
    external("external_escape.onnx", None, "../../etc/passwd", (0, 512))
    group_conv()
    fold_ops()
    many_constants()
    fold_bomb()
    guard_models()
    nan_painter()
    old_opset()
    unknown_attr()
    cubic_resize()
    runtime_reshape()
    pow_runtime_exponent()
    pool_models()
    runtime_reshape_target()
    runtime_slice()
    fold_more()
    if args.torch:
        reflect_pad_torch()


if __name__ == "__main__":
    main()

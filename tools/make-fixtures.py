#!/usr/bin/python3
"""Test fixtures for mnemo: small pix2pix / CycleGAN generators with seeded random
weights, exported from PyTorch to ONNX, with seeded inputs and PyTorch's outputs.

    /usr/bin/python3 tools/make-fixtures.py          # tests/data/ (committed)
    /usr/bin/python3 tools/make-fixtures.py --big    # bench/models/ (git-ignored)
    /usr/bin/python3 tools/make-fixtures.py --check  # regenerate into a temp dir, compare

Deterministic: every model, input and image comes from a fixed seed, so running it again
gives the same tensors (the .onnx bytes depend on the PyTorch version that exports them).
Needs Debian's python3-torch, python3-onnx and python3-numpy (/usr/bin/python3). For
speed, LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-pthread.

The generator definitions below are our own, written from the published descriptions of
pix2pix (U-Net, BatchNorm) and CycleGAN (ResNet, InstanceNorm, reflection padding)."""
import argparse
import io
import os
import struct
import sys
import tempfile
import warnings
import zlib

import numpy as np
import onnx
import torch
import torch.nn as nn

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RANGE = "[-1,1]"
FIXTURE_NOTE = "fixture: random weights, untrained"


# ---- generators ------------------------------------------------------------------------

class UNetLevel(nn.Module):
    """One level of the U-Net: down, the inner levels, up, and the skip concat.

    Outermost: conv -> inner -> relu, convT (with bias) -> tanh; no skip.
    Innermost: lrelu, conv -> relu, convT, BN (no norm on the way down).
    Between:   lrelu, conv, BN -> inner -> relu, convT, BN [, dropout]."""

    def __init__(self, outer_ch, inner_ch, in_ch=None, out_ch=None, inner=None,
                 outermost=False, dropout=False):
        super().__init__()
        self.outermost = outermost
        in_ch = outer_ch if in_ch is None else in_ch
        out_ch = outer_ch if out_ch is None else out_ch
        down_conv = nn.Conv2d(in_ch, inner_ch, 4, stride=2, padding=1, bias=False)
        if outermost:
            down = [down_conv]
            up = [nn.ReLU(True), nn.ConvTranspose2d(inner_ch * 2, out_ch, 4, 2, 1), nn.Tanh()]
        elif inner is None:
            down = [nn.LeakyReLU(0.2, True), down_conv]
            up = [nn.ReLU(True), nn.ConvTranspose2d(inner_ch, out_ch, 4, 2, 1, bias=False),
                  nn.BatchNorm2d(out_ch)]
        else:
            down = [nn.LeakyReLU(0.2, True), down_conv, nn.BatchNorm2d(inner_ch)]
            up = [nn.ReLU(True), nn.ConvTranspose2d(inner_ch * 2, out_ch, 4, 2, 1, bias=False),
                  nn.BatchNorm2d(out_ch)]
            if dropout:
                up.append(nn.Dropout(0.5))
        self.body = nn.Sequential(*down, *([inner] if inner is not None else []), *up)

    def forward(self, x):
        y = self.body(x)
        return y if self.outermost else torch.cat([x, y], 1)


def unet(in_ch, out_ch, downs, ngf):
    """pix2pix U-Net: `downs` stride-2 levels (input side must be divisible by 2^downs);
    channels ngf, 2ngf, 4ngf, then 8ngf for every deeper level."""
    assert downs >= 5
    level = UNetLevel(ngf * 8, ngf * 8)  # innermost
    for _ in range(downs - 5):
        level = UNetLevel(ngf * 8, ngf * 8, inner=level, dropout=True)
    level = UNetLevel(ngf * 4, ngf * 8, inner=level)
    level = UNetLevel(ngf * 2, ngf * 4, inner=level)
    level = UNetLevel(ngf, ngf * 2, inner=level)
    return UNetLevel(ngf, ngf, in_ch=in_ch, out_ch=out_ch, inner=level, outermost=True)


class ResidualBlock(nn.Module):
    def __init__(self, ch):
        super().__init__()
        self.body = nn.Sequential(
            nn.ReflectionPad2d(1), nn.Conv2d(ch, ch, 3), nn.InstanceNorm2d(ch), nn.ReLU(True),
            nn.ReflectionPad2d(1), nn.Conv2d(ch, ch, 3), nn.InstanceNorm2d(ch))

    def forward(self, x):
        return x + self.body(x)


def resnet(in_ch, out_ch, blocks, ngf):
    """CycleGAN ResNet generator: 7x7 stem, two stride-2 downs, `blocks` residual blocks,
    two stride-2 transposed-conv ups, 7x7 head, tanh. InstanceNorm without affine
    parameters or running statistics, as CycleGAN trains it."""
    layers = [nn.ReflectionPad2d(3), nn.Conv2d(in_ch, ngf, 7), nn.InstanceNorm2d(ngf),
              nn.ReLU(True)]
    ch = ngf
    for _ in range(2):
        layers += [nn.Conv2d(ch, ch * 2, 3, stride=2, padding=1), nn.InstanceNorm2d(ch * 2),
                   nn.ReLU(True)]
        ch *= 2
    layers += [ResidualBlock(ch) for _ in range(blocks)]
    for _ in range(2):
        layers += [nn.ConvTranspose2d(ch, ch // 2, 3, stride=2, padding=1, output_padding=1),
                   nn.InstanceNorm2d(ch // 2), nn.ReLU(True)]
        ch //= 2
    layers += [nn.ReflectionPad2d(3), nn.Conv2d(ch, out_ch, 7), nn.Tanh()]
    return nn.Sequential(*layers)


def upsampler(in_ch, out_ch, ngf):
    """The up-paths that avoid a transposed conv's checkerboard, as PyTorch exports them
    (ONNX Resize): bilinear x2 (half_pixel), conv, nearest x2 (asymmetric, floor), conv."""
    return nn.Sequential(
        nn.Conv2d(in_ch, ngf, 3, padding=1), nn.ReLU(True),
        nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False),
        nn.Conv2d(ngf, ngf, 3, padding=1), nn.ReLU(True),
        nn.Upsample(scale_factor=2, mode="nearest"),
        nn.Conv2d(ngf, out_ch, 3, padding=1), nn.Tanh())


class SizedResize(nn.Module):
    """conv, nearest to an explicit size, conv, bilinear (or nearest) to an explicit size,
    tanh: sizes whose ratio is not exact in float32 (32x48 -> 45x70 -> 50x75), where a
    runtime that divides by a float scale picks the neighbouring source pixel. Opsets 9
    and 10 cannot write PyTorch's bilinear (their Upsample/Resize is asymmetric), so the
    model for them is nearest twice."""

    def __init__(self, in_ch, out_ch, ngf, second="bilinear"):
        super().__init__()
        self.head = nn.Sequential(nn.Conv2d(in_ch, ngf, 3, padding=1), nn.ReLU(True))
        self.mid = nn.Conv2d(ngf, out_ch, 3, padding=1)
        self.second = second

    def forward(self, x):
        y = nn.functional.interpolate(self.head(x), size=(45, 70), mode="nearest")
        y = self.mid(y)
        if self.second == "bilinear":
            y = nn.functional.interpolate(y, size=(50, 75), mode="bilinear", align_corners=False)
        else:
            y = nn.functional.interpolate(y, size=(50, 75), mode="nearest")
        return torch.tanh(y)


class InvertedClip(nn.Module):
    """conv, clamp with min above max (PyTorch and ONNX then give max everywhere), that
    added back to the conv, conv, tanh: a runtime that clamps below at min first shows."""

    def __init__(self, in_ch, out_ch, ngf):
        super().__init__()
        self.a = nn.Conv2d(in_ch, ngf, 3, padding=1)
        self.b = nn.Conv2d(ngf, out_ch, 3, padding=1)

    def forward(self, x):
        y = self.a(x)
        return torch.tanh(self.b(torch.clamp(y, min=0.25, max=-0.25) + y))


class Activations(nn.Module):
    """A convolution before each of the elementwise layers people add to generators, as
    PyTorch 1.13 exports them: PReLU (per channel and single), ELU, GELU (Erf form: Div,
    Erf, Add, Mul, Mul; tanh form: Pow 3 among them), Softplus, Mish (Softplus, Tanh, Mul
    below opset 18), Hardsigmoid, Hardswish (HardSwish from opset 14, HardSigmoid and Mul
    below), neg, reciprocal, sqrt and pow with a constant exponent (on a positive value)."""

    def __init__(self, in_ch, out_ch, ngf):
        super().__init__()
        self.convs = nn.ModuleList([nn.Conv2d(in_ch, ngf, 3, padding=1)] +
                                   [nn.Conv2d(ngf, ngf, 3, padding=1) for _ in range(8)])
        self.head = nn.Conv2d(ngf, out_ch, 3, padding=1)
        self.prelu_channels = nn.PReLU(ngf)
        self.prelu_one = nn.PReLU()
        with torch.no_grad():  # seeded slopes of both signs, so a slope mix-up shows
            self.prelu_channels.weight.copy_(torch.linspace(-0.4, 0.6, ngf))
            self.prelu_one.weight.fill_(0.3)

    def forward(self, x):
        f = nn.functional
        c = self.convs
        y = self.prelu_channels(c[0](x))
        y = f.elu(c[1](y), alpha=0.7)
        y = f.gelu(f.gelu(c[2](y)), approximate="tanh")
        y = f.mish(f.softplus(c[3](y)))
        y = f.hardsigmoid(c[4](y)) + f.hardswish(c[5](y))
        y = self.prelu_one(-c[6](y))
        z = torch.sigmoid(c[7](y))
        y = torch.reciprocal(z + 0.5) + torch.sqrt(z) + z.pow(2) + z.pow(1.5) + c[8](y)
        return torch.tanh(self.head(y))


def subpixel(in_ch, out_ch, ngf):
    """The sub-pixel upsampler (PixelShuffle, ONNX DepthToSpace CRD), the usual cure for
    the transposed convolution's checkerboard: x2 twice."""
    return nn.Sequential(
        nn.Conv2d(in_ch, ngf * 4, 3, padding=1), nn.PixelShuffle(2), nn.ReLU(True),
        nn.Conv2d(ngf, out_ch * 4, 3, padding=1), nn.PixelShuffle(2), nn.Tanh())


class Pools(nn.Module):
    """The pools of pix2pixHD-style local enhancers and squeeze-excite blocks, side by side
    on an odd-sized image: AvgPool2d(3, 2, 1, count_include_pad=False) (pix2pixHD's
    downsample), AvgPool2d(3, 2, 1) (exported as Pad + AveragePool), MaxPool2d(3, 2, 1),
    then a squeeze-excite gate (AdaptiveAvgPool2d(1): GlobalAveragePool), MaxPool2d(2,
    ceil_mode=True) and AvgPool2d(3, 2, 1, ceil_mode=True, count_include_pad=False)."""

    def __init__(self, in_ch, out_ch, ngf):
        super().__init__()
        self.stem = nn.Conv2d(in_ch, ngf, 3, padding=1)
        self.avg = nn.AvgPool2d(3, stride=2, padding=1, count_include_pad=False)
        self.avg_pad = nn.AvgPool2d(3, stride=2, padding=1)
        self.max = nn.MaxPool2d(3, stride=2, padding=1)
        self.mix = nn.Conv2d(3 * ngf, ngf, 1)
        self.gate = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Conv2d(ngf, ngf // 2, 1),
                                  nn.ReLU(True), nn.Conv2d(ngf // 2, ngf, 1), nn.Sigmoid())
        self.max_ceil = nn.MaxPool2d(2, stride=2, ceil_mode=True)
        self.avg_ceil = nn.AvgPool2d(3, stride=2, padding=1, ceil_mode=True,
                                     count_include_pad=False)
        self.head = nn.Conv2d(2 * ngf, out_ch, 3, padding=1)

    def forward(self, x):
        y = self.stem(x)
        y = self.mix(torch.cat([self.avg(y), self.avg_pad(y), self.max(y)], 1))
        y = y * self.gate(y)
        y = torch.cat([self.max_ceil(y), self.avg_ceil(y)], 1)
        return torch.tanh(self.head(y))


class Grouped(nn.Module):
    """Grouped and depthwise convolutions as image generators use them: a MobileNet block
    (depthwise 3x3 with BatchNorm folded in, ReLU6, pointwise 1x1), a 4-group 3x3 with
    InstanceNorm, CUT's anti-aliased downsample (reflect pad, a fixed [1 2 1]^2 / 16 blur as
    a stride-2 depthwise conv) and a depthwise conv with a channel multiplier of 2."""

    def __init__(self, in_ch, out_ch, ngf):
        super().__init__()
        c = ngf * 2
        self.stem = nn.Conv2d(in_ch, c, 3, padding=1)
        self.mobile = nn.Sequential(
            nn.Conv2d(c, c, 3, padding=1, groups=c, bias=False), nn.BatchNorm2d(c), nn.ReLU6(True),
            nn.Conv2d(c, 2 * c, 1))
        self.grouped = nn.Sequential(nn.Conv2d(2 * c, 2 * c, 3, padding=1, groups=4),
                                     nn.InstanceNorm2d(2 * c), nn.ReLU(True))
        blur = torch.tensor([1.0, 2.0, 1.0])
        self.register_buffer("blur", (blur[:, None] * blur[None, :] / 16).repeat(2 * c, 1, 1, 1))
        self.pad = nn.ReflectionPad2d(1)
        self.multiplier = nn.Conv2d(2 * c, 4 * c, 3, padding=1, groups=2 * c)
        self.head = nn.Conv2d(4 * c, out_ch, 3, padding=1)

    def forward(self, x):
        y = self.grouped(self.mobile(self.stem(x)))
        y = nn.functional.conv2d(self.pad(y), self.blur, stride=2, groups=y.shape[1])
        return torch.tanh(self.head(self.multiplier(y)))


class GroupNormNet(nn.Module):
    """GroupNorm as generators use it (exported as Reshape to N x G x -1,
    InstanceNormalization, Reshape back, Mul, Add): 4 groups of 2 with seeded affine
    parameters, and GroupNorm(1, C) (the whole-image layer norm some generators use)."""

    def __init__(self, in_ch, out_ch, ngf):
        super().__init__()
        self.a = nn.Conv2d(in_ch, ngf * 2, 3, padding=1)
        self.gn = nn.GroupNorm(4, ngf * 2)
        self.b = nn.Conv2d(ngf * 2, ngf * 2, 3, padding=1)
        self.gn1 = nn.GroupNorm(1, ngf * 2)
        self.head = nn.Conv2d(ngf * 2, out_ch, 3, padding=1)
        with torch.no_grad():  # not 1 and 0: a runtime that skips the affine part shows
            for g in (self.gn, self.gn1):
                g.weight.copy_(torch.linspace(0.5, 1.5, ngf * 2))
                g.bias.copy_(torch.linspace(-0.3, 0.3, ngf * 2))

    def forward(self, x):
        y = torch.relu(self.gn(self.a(x)))
        y = torch.relu(self.gn1(self.b(y)))
        return torch.tanh(self.head(y))


class ChannelLayerNorm(nn.Module):
    """The LayerNorm over channels that generators write by hand (ConvNeXt-style): exported
    as ReduceMean, Sub, Pow, ReduceMean, Add, Sqrt, Div, Mul, Add at every opset."""

    def __init__(self, ch, eps=1e-6):
        super().__init__()
        self.weight = nn.Parameter(torch.linspace(0.5, 1.5, ch))
        self.bias = nn.Parameter(torch.linspace(-0.3, 0.3, ch))
        self.eps = eps

    def forward(self, x):
        u = x.mean(1, keepdim=True)
        s = (x - u).pow(2).mean(1, keepdim=True)
        x = (x - u) / torch.sqrt(s + self.eps)
        return self.weight[:, None, None] * x + self.bias[:, None, None]


class LayerNormNet(nn.Module):
    """A channel LayerNorm, then nn.LayerNorm([C, H, W]) with seeded per-element affine
    parameters (the chain before opset 17, LayerNormalization from it)."""

    def __init__(self, in_ch, out_ch, ngf, size=24):
        super().__init__()
        self.a = nn.Conv2d(in_ch, ngf * 2, 3, padding=1)
        self.ln_c = ChannelLayerNorm(ngf * 2)
        self.b = nn.Conv2d(ngf * 2, ngf * 2, 3, padding=1)
        self.ln = nn.LayerNorm([ngf * 2, size, size])
        self.head = nn.Conv2d(ngf * 2, out_ch, 3, padding=1)
        with torch.no_grad():
            self.ln.weight.copy_(torch.rand(self.ln.weight.shape) + 0.5)
            self.ln.bias.copy_(torch.rand(self.ln.bias.shape) * 0.6 - 0.3)

    def forward(self, x):
        y = torch.relu(self.ln_c(self.a(x)))
        y = torch.relu(self.ln(self.b(y)))
        return torch.tanh(self.head(y))


class InstanceNormRunning(nn.Module):
    """InstanceNorm2d(track_running_stats=True) in eval mode, with and without affine: the
    exporter tiles the statistics over the batch (Expand, Tile) and runs BatchNorm on the
    input reshaped to 1 x NC x H x W."""

    def __init__(self, in_ch, out_ch, ngf):
        super().__init__()
        self.a = nn.Conv2d(in_ch, ngf * 2, 3, padding=1)
        self.n1 = nn.InstanceNorm2d(ngf * 2, affine=True, track_running_stats=True)
        self.b = nn.Conv2d(ngf * 2, ngf * 2, 3, padding=1)
        self.n2 = nn.InstanceNorm2d(ngf * 2, track_running_stats=True)
        self.head = nn.Conv2d(ngf * 2, out_ch, 3, padding=1)

    def forward(self, x):
        y = torch.relu(self.n1(self.a(x)))
        y = torch.relu(self.n2(self.b(y)))
        return torch.tanh(self.head(y))


class FoldedAtLoad(nn.Module):
    """Constant subgraphs mnemo evaluates at load: a spectral_norm conv (its weight divided
    by sigma = u . (W v): MatMul, MatMul, Div on constants) and an interpolate with
    recompute_scale_factor=True (its output size through Floor)."""

    def __init__(self, in_ch, out_ch, ngf):
        super().__init__()
        self.a = nn.utils.spectral_norm(nn.Conv2d(in_ch, ngf * 2, 3, padding=1))
        self.head = nn.Conv2d(ngf * 2, out_ch, 3, padding=1)

    def forward(self, x):
        y = torch.relu(self.a(x))
        y = nn.functional.interpolate(y, scale_factor=1.5, mode="bilinear",
                                      recompute_scale_factor=True, align_corners=False)
        return torch.tanh(self.head(y))


class GroupedUp(nn.Module):
    """Grouped and depthwise ConvTranspose2d: 4 groups (4x4, stride 2) with a BatchNorm the
    importer folds into the grouped weights, then a depthwise one (3x3, stride 2,
    output_padding 1)."""

    def __init__(self, in_ch, out_ch, ngf):
        super().__init__()
        self.a = nn.Conv2d(in_ch, ngf * 2, 3, padding=1)
        self.up1 = nn.ConvTranspose2d(ngf * 2, ngf * 4, 4, 2, 1, groups=4)
        self.bn = nn.BatchNorm2d(ngf * 4)
        self.up2 = nn.ConvTranspose2d(ngf * 4, ngf * 4, 3, 2, 1, output_padding=1,
                                      groups=ngf * 4)
        self.head = nn.Conv2d(ngf * 4, out_ch, 3, padding=1)

    def forward(self, x):
        y = torch.relu(self.bn(self.up1(self.a(x))))
        y = torch.relu(self.up2(y))
        return torch.tanh(self.head(y))


class Bicubic(nn.Module):
    """Bicubic upsampling (Resize mode cubic, cubic_coeff_a -0.75): x2 by scale_factor,
    then to 37x41 with align_corners."""

    def __init__(self, in_ch, out_ch, ngf):
        super().__init__()
        self.a = nn.Conv2d(in_ch, ngf, 3, padding=1)
        self.b = nn.Conv2d(ngf, ngf, 3, padding=1)
        self.head = nn.Conv2d(ngf, out_ch, 3, padding=1)

    def forward(self, x):
        y = nn.functional.interpolate(self.a(x), scale_factor=2, mode="bicubic",
                                      align_corners=False)
        y = nn.functional.interpolate(torch.relu(self.b(y)), size=(37, 41), mode="bicubic",
                                      align_corners=True)
        return torch.tanh(self.head(y))


def randomize_batchnorm(model, gen):
    """Seeded, non-trivial BatchNorm statistics and affine parameters (var > 0), so a
    runtime that ignores or mis-folds any of the four shows it."""
    for m in model.modules():
        if isinstance(m, (nn.BatchNorm2d, nn.InstanceNorm2d)) and m.track_running_stats:
            n = m.num_features
            with torch.no_grad():
                m.running_mean.copy_(torch.randn(n, generator=gen) * 0.3)
                m.running_var.copy_(torch.rand(n, generator=gen) * 1.5 + 0.5)
                if m.affine:
                    m.weight.copy_(torch.rand(n, generator=gen) * 1.0 + 0.5)
                    m.bias.copy_(torch.randn(n, generator=gen) * 0.2)


# Every model we make: name -> (builder, in_ch, out_ch, role, architecture text, seed).
MODELS = {
    # Test fixtures (tests/data).
    "unet_bn": (lambda: unet(1, 3, 6, 8), 1, 3, "painter",
                "pix2pix U-Net, 6 downs, ngf 8, BatchNorm, dropout (eval)", 101),
    "resnet_in": (lambda: resnet(3, 1, 2, 8), 3, 1, "sketcher",
                  "CycleGAN ResNet generator, 2 blocks, ngf 8, InstanceNorm, reflect pad", 202),
    "chain_a": (lambda: unet(1, 3, 5, 2), 1, 3, "painter",
                "pix2pix U-Net, 5 downs, ngf 2 (chain test)", 303),
    "chain_b_convert": (lambda: unet(1, 1, 5, 2), 1, 1, "sketcher",
                        "pix2pix U-Net, 5 downs, ngf 2, 1 channel in (chain test)", 404),
    "chain_b_mismatch": (lambda: unet(2, 1, 5, 2), 2, 1, "sketcher",
                         "pix2pix U-Net, 5 downs, ngf 2, 2 channels in (chain test)", 505),
    "resize_up": (lambda: upsampler(1, 3, 8), 1, 3, "painter",
                  "conv, bilinear x2, conv, nearest x2, conv (Resize as PyTorch exports it)", 808),
    "resize_size": (lambda: SizedResize(1, 3, 4), 1, 3, "painter",
                    "conv, nearest to 45x70, conv, bilinear to 50x75 (Resize by sizes)", 809),
    "resize_size_nearest": (lambda: SizedResize(1, 3, 4, "nearest"), 1, 3, "painter",
                            "conv, nearest to 45x70, conv, nearest to 50x75 (sizes)", 810),
    "clip_inverted": (lambda: InvertedClip(1, 3, 4), 1, 3, "painter",
                      "conv, clamp(min 0.25 > max -0.25) + skip, conv, tanh", 811),
    "activations": (lambda: Activations(1, 3, 4), 1, 3, "painter",
                    "conv before each of PReLU, ELU, GELU (erf, tanh), Softplus, Mish, "
                    "Hardsigmoid, Hardswish, neg, reciprocal, sqrt, pow", 814),
    "subpixel": (lambda: subpixel(1, 3, 4), 1, 3, "painter",
                 "conv, PixelShuffle x2, relu, conv, PixelShuffle x2, tanh", 815),
    "pools": (lambda: Pools(1, 3, 4), 1, 3, "painter",
              "AvgPool (pix2pixHD's, and with its padding), MaxPool, squeeze-excite "
              "(GlobalAveragePool), ceil-mode MaxPool and AvgPool", 817),
    "grouped": (lambda: Grouped(1, 3, 4), 1, 3, "painter",
                "MobileNet block (depthwise + BatchNorm, ReLU6, pointwise), 4-group conv, "
                "CUT's blur downsample, depthwise x2 multiplier", 818),
    "groupnorm": (lambda: GroupNormNet(1, 3, 4), 1, 3, "painter",
                  "conv, GroupNorm(4, 8), relu, conv, GroupNorm(1, 8), relu, conv, tanh", 819),
    "layernorm": (lambda: LayerNormNet(1, 3, 4), 1, 3, "painter",
                  "conv, channel LayerNorm (by hand), relu, conv, LayerNorm([8, 24, 24]), relu, "
                  "conv, tanh", 820),
    "instnorm_running": (lambda: InstanceNormRunning(1, 3, 4), 1, 3, "painter",
                         "conv, InstanceNorm2d(affine, track_running_stats), relu, conv, "
                         "InstanceNorm2d(track_running_stats), relu, conv, tanh", 821),
    "folded": (lambda: FoldedAtLoad(1, 3, 4), 1, 3, "painter",
               "spectral_norm conv, relu, bilinear x1.5 (recompute_scale_factor), conv, tanh",
               822),
    "grouped_up": (lambda: GroupedUp(1, 3, 4), 1, 3, "painter",
                   "conv, 4-group ConvTranspose x2 + BatchNorm, relu, depthwise ConvTranspose x2, "
                   "relu, conv, tanh", 823),
    "bicubic": (lambda: Bicubic(1, 3, 4), 1, 3, "painter",
                "conv, bicubic x2, conv, relu, bicubic to 37x41 (align_corners), conv, tanh", 824),
    # Training-mode exports mnemo must refuse (no tensors: they never load).
    "bn_train": (lambda: nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4),
                                       nn.ReLU(True), nn.Conv2d(4, 3, 3, padding=1)),
                 1, 3, "painter", "conv, BatchNorm (training-mode export), relu, conv", 812),
    "dropout_train": (lambda: nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.Dropout(0.5),
                                            nn.Conv2d(4, 3, 3, padding=1)),
                      1, 3, "painter", "conv, Dropout (training-mode export), conv", 813),
    # Benchmark models (bench/models, --big): the sizes people actually run.
    "unet256_ngf64": (lambda: unet(3, 3, 8, 64), 3, 3, "painter",
                      "pix2pix U-Net 256 (8 downs), ngf 64, BatchNorm, dropout (eval)", 606),
    "resnet9_ngf64": (lambda: resnet(3, 3, 9, 64), 3, 3, "sketcher",
                      "CycleGAN ResNet-9, ngf 64, InstanceNorm, reflect pad", 707),
}


def build(name):
    """The eval-mode model `name` with its seeded weights (the same on every call)."""
    builder, _, _, _, _, seed = MODELS[name]
    torch.manual_seed(seed)
    model = builder()
    randomize_batchnorm(model, torch.Generator().manual_seed(seed + 1))
    return model.eval()


def make_input(name, height, width=None):
    """Seeded float32 NCHW input in [-1,1] for `name` at height x width."""
    width = height if width is None else width
    in_ch = MODELS[name][1]
    rng = np.random.default_rng(MODELS[name][5] * 1000 + height)
    return rng.uniform(-1.0, 1.0, size=(1, in_ch, height, width)).astype("<f4")


def run_torch(model, x):
    with torch.no_grad():
        return np.ascontiguousarray(model(torch.from_numpy(x)).numpy().astype("<f4"))


# ---- files -----------------------------------------------------------------------------

def export(name, model, path, size, opset, dynamic=False, width=None, training=None):
    """torch.onnx.export with our metadata_props added; `training` a TrainingMode."""
    _, in_ch, _, role, arch, seed = MODELS[name]
    x = torch.zeros(1, in_ch, size, size if width is None else width)
    buf = io.BytesIO()
    axes = {"input": {2: "height", 3: "width"}, "output": {2: "height", 3: "width"}}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model, x, buf, opset_version=opset, input_names=["input"],
                          output_names=["output"], dynamic_axes=axes if dynamic else None,
                          do_constant_folding=training is None,
                          training=training or torch.onnx.TrainingMode.EVAL)
    m = onnx.load_from_string(buf.getvalue())
    meta = {"role": role, "input_range": RANGE, "output_range": RANGE,
            "architecture": arch, "seed": str(seed),
            "description": FIXTURE_NOTE}
    for key, value in meta.items():
        p = m.metadata_props.add()
        p.key, p.value = key, value
    onnx.checker.check_model(m)
    with open(path, "wb") as f:
        f.write(m.SerializeToString())


def save_npy(path, array):
    """.npy v1.0, little-endian float32, C order."""
    array = np.ascontiguousarray(array, dtype="<f4")
    with open(path, "wb") as f:
        np.lib.format.write_array(f, array, version=(1, 0))


def write_png_gray(path, pixels):
    """8-bit grayscale PNG, written by hand (no imaging library needed)."""
    h, w = pixels.shape
    raw = b"".join(b"\x00" + pixels[y].tobytes() for y in range(h))

    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n")
        f.write(chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0)))
        f.write(chunk(b"IDAT", zlib.compress(raw, 9)))
        f.write(chunk(b"IEND", b""))


def face_sketch(size=256):
    """A simple face, dark anti-aliased lines on white: outline, hair, brows, eyes with
    pupils, nose, mouth. Built from parametric curves; distances give the line edges."""
    s = size / 256.0
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float64) + 0.5
    dist = np.full((size, size), 1e9)

    def curve(xs, ys):
        nonlocal dist
        for x, y in zip(xs * s, ys * s):
            d = np.hypot(xx - x, yy - y)
            np.minimum(dist, d, out=dist)

    def arc(cx, cy, rx, ry, t0, t1, n=200):
        t = np.linspace(t0, t1, n)
        curve(cx + rx * np.cos(t), cy + ry * np.sin(t))

    arc(128, 134, 72, 92, 0, 2 * np.pi, 400)                  # face outline
    arc(128, 120, 80, 86, np.pi * 1.05, np.pi * 1.95, 300)    # hair line
    arc(128, 96, 62, 40, np.pi * 1.1, np.pi * 1.9, 200)       # fringe
    for side in (-1, 1):
        ex = 128 + side * 28
        arc(ex, 118, 16, 7, 0, 2 * np.pi, 150)                # eye
        arc(ex, 118, 4, 4, 0, 2 * np.pi, 60)                  # pupil
        arc(ex, 108, 18, 7, np.pi * 1.15, np.pi * 1.85, 80)   # brow
    curve(np.linspace(128, 122, 60), np.linspace(120, 160, 60))    # nose ridge
    arc(128, 160, 8, 4, np.pi * 0.1, np.pi * 0.9, 60)              # nose base
    arc(128, 178, 24, 10, np.pi * 0.1, np.pi * 0.9, 120)           # mouth
    ink = np.clip(1.6 * s - dist + 0.5, 0.0, 1.0)                  # ~3 px lines
    return np.round(255.0 * (1.0 - 0.88 * ink)).astype(np.uint8)


# ---- what goes where -------------------------------------------------------------------

def describe(name, y):
    sat = float(np.mean(np.abs(y) > 0.99))
    return f"{name}: out {tuple(y.shape)} mean {y.mean():+.3f} std {y.std():.3f} sat {sat:.2f}"


def make_tests(out):
    os.makedirs(out, exist_ok=True)
    unet_m, res_m = build("unet_bn"), build("resnet_in")
    # U-Net: fixed 64x64 (unet_bn.onnx, also as unet_bn_op13.onnx) and dynamic H/W.
    export("unet_bn", unet_m, os.path.join(out, "unet_bn.onnx"), 64, 13)
    with open(os.path.join(out, "unet_bn.onnx"), "rb") as f:
        same = f.read()
    with open(os.path.join(out, "unet_bn_op13.onnx"), "wb") as f:
        f.write(same)  # the same bytes: git stores one blob for both names
    export("unet_bn", unet_m, os.path.join(out, "unet_bn_dynamic.onnx"), 64, 13, dynamic=True)
    # ResNet: fixed 64x64 at opsets 11, 13, 17; fixed 128x128 at 13; dynamic at 13.
    for opset in (11, 13, 17):
        export("resnet_in", res_m, os.path.join(out, f"resnet_in_op{opset}.onnx"), 64, opset)
    export("resnet_in", res_m, os.path.join(out, "resnet_in_op13_128.onnx"), 128, 13)
    export("resnet_in", res_m, os.path.join(out, "resnet_in_dynamic.onnx"), 64, 13, dynamic=True)
    for name, model in (("unet_bn", unet_m), ("resnet_in", res_m)):
        for size in (64, 128):
            x = make_input(name, size)
            y = run_torch(model, x)
            save_npy(os.path.join(out, f"{name}_in_{size}.npy"), x)
            save_npy(os.path.join(out, f"{name}_out_{size}.npy"), y)
            print(describe(f"{name} {size}", y))
    # Chain pairs: chain_a (1->3, 64x64) feeds chain_b_convert (1 ch, 32x32) only after
    # RGB->gray and a resize; chain_b_mismatch takes 2 channels, which is no image.
    export("chain_a", build("chain_a"), os.path.join(out, "chain_a.onnx"), 64, 13)
    export("chain_b_convert", build("chain_b_convert"),
           os.path.join(out, "chain_b_convert.onnx"), 32, 13)
    export("chain_b_mismatch", build("chain_b_mismatch"),
           os.path.join(out, "chain_b_mismatch.onnx"), 32, 13)
    write_png_gray(os.path.join(out, "face_sketch.png"), face_sketch(256))
    make_resize(out)


def make_resize(out):
    """Resize from PyTorch's exporter (bilinear and nearest x2): 32x32 in, 128x128 out."""
    model = build("resize_up")
    export("resize_up", model, os.path.join(out, "resize_up.onnx"), 32, 13)
    x = make_input("resize_up", 32)
    y = run_torch(model, x)
    save_npy(os.path.join(out, "resize_up_in_32.npy"), x)
    save_npy(os.path.join(out, "resize_up_out_32.npy"), y)
    print(describe("resize_up 32", y))
    make_resize_size(out)
    make_clip_inverted(out)
    make_training_exports(out)
    make_activations(out)
    make_subpixel(out)
    make_pools(out)
    make_grouped(out)
    make_groupnorm(out)
    make_layernorm(out)
    make_instnorm_running(out)
    make_folded(out)
    make_grouped_up(out)
    make_bicubic(out)


def torch_fixture(out, name, size, opsets):
    """build(name) exported at each opset, its input at size x size and PyTorch's output:
    NAME_opN.onnx, NAME_in.npy, NAME_out.npy. Returns the output."""
    model = build(name)
    for opset in opsets:
        export(name, model, os.path.join(out, f"{name}_op{opset}.onnx"), size, opset)
    x = make_input(name, size)
    save_npy(os.path.join(out, f"{name}_in.npy"), x)
    y = run_torch(model, x)
    save_npy(os.path.join(out, f"{name}_out.npy"), y)
    return y


def make_groupnorm(out):
    """GroupNorm at opsets 11 and 13, 24x24 in and out."""
    torch_fixture(out, "groupnorm", 24, (11, 13))


def make_layernorm(out):
    """LayerNorm at opsets 13 (the ReduceMean chain) and 17 (LayerNormalization), 24x24."""
    torch_fixture(out, "layernorm", 24, (13, 17))


def make_instnorm_running(out):
    """InstanceNorm with running statistics at opsets 11 and 13, 24x24 in and out."""
    torch_fixture(out, "instnorm_running", 24, (11, 13))


def make_folded(out):
    """spectral_norm and recompute_scale_factor at opsets 11 and 13, 20x20 in, 30x30 out."""
    torch_fixture(out, "folded", 20, (11, 13))


def make_grouped_up(out):
    """Grouped and depthwise ConvTranspose at opsets 11 and 13, 12x12 in, 48x48 out."""
    torch_fixture(out, "grouped_up", 12, (11, 13))


def make_bicubic(out):
    """Bicubic Resize at opsets 11 and 13, 16x16 in, 37x41 out."""
    torch_fixture(out, "bicubic", 16, (11, 13))


def make_grouped(out):
    """Grouped and depthwise convolutions at opsets 11 and 13, 32x32 in, 16x16 out."""
    torch_fixture(out, "grouped", 32, (11, 13))


def make_pools(out):
    """The pools at opsets 11 and 13, on a 33x33 input (odd, so ceil mode matters)."""
    torch_fixture(out, "pools", 33, (11, 13))


def make_subpixel(out):
    """PixelShuffle from PyTorch (DepthToSpace CRD) at opsets 11 and 13, 16x16 -> 64x64;
    and the modes PyTorch does not write, from onnx.helper with numpy's answer written out
    from the ONNX definitions: DepthToSpace DCR (block 3), then SpaceToDepth (block 2)."""
    torch_fixture(out, "subpixel", 16, (11, 13))
    from onnx import helper, TensorProto
    nodes = [helper.make_node("DepthToSpace", ["input"], ["d"], name="d2s_dcr", blocksize=3,
                              mode="DCR"),
             helper.make_node("SpaceToDepth", ["d"], ["output"], name="s2d", blocksize=2)]
    graph = helper.make_graph(
        nodes, "depth_space", [helper.make_tensor_value_info("input", TensorProto.FLOAT,
                                                             [1, 18, 2, 2])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, 8, 3, 3])])
    m = helper.make_model(graph, producer_name="mnemo make-fixtures",
                          opset_imports=[helper.make_opsetid("", 13)])
    m.ir_version = 8
    onnx.checker.check_model(m)
    with open(os.path.join(out, "depth_space_dcr.onnx"), "wb") as f:
        f.write(m.SerializeToString())
    x = np.random.default_rng(816).uniform(-1, 1, size=(1, 18, 2, 2)).astype("<f4")
    n, c, h, w = x.shape  # DepthToSpace DCR, as the ONNX operator page defines it
    d = x.reshape(n, 3, 3, c // 9, h, w).transpose(0, 3, 4, 1, 5, 2).reshape(n, c // 9, h * 3, w * 3)
    n, c, h, w = d.shape  # SpaceToDepth
    y = d.reshape(n, c, h // 2, 2, w // 2, 2).transpose(0, 3, 5, 1, 2, 4).reshape(n, c * 4, h // 2,
                                                                                 w // 2)
    save_npy(os.path.join(out, "depth_space_dcr_in.npy"), x)
    save_npy(os.path.join(out, "depth_space_dcr_out.npy"), y)


def make_activations(out):
    """The elementwise layers, at opset 13 and 17 (HardSwish is an op from 14)."""
    print(describe("activations 16", torch_fixture(out, "activations", 16, (13, 17))))


def make_clip_inverted(out):
    """Clip with min > max (torch.clamp(min=0.25, max=-0.25)), Clip fused into a conv."""
    print(describe("clip_inverted 16", torch_fixture(out, "clip_inverted", 16, (13,))))


def make_training_exports(out):
    """What torch.onnx.export(..., training=TrainingMode.TRAINING) writes: BatchNorm with
    five outputs (opsets 9 to 13) or training_mode=1 (14 on), Dropout with training_mode
    true. mnemo must refuse each, naming the node; these files never run. The exporter
    runs the model in train mode, so it works on a copy."""
    import copy
    train = torch.onnx.TrainingMode.TRAINING
    for opset in (9, 13, 15):
        export("bn_train", copy.deepcopy(build("bn_train")),
               os.path.join(out, f"bn_train_op{opset}.onnx"), 16, opset, training=train)
    export("dropout_train", build("dropout_train"), os.path.join(out, "dropout_train_op13.onnx"),
           16, 13, training=train)


def make_resize_size(out):
    """Resize to explicit sizes, 32x48 in, 50x75 out: as opset 13 writes it (`sizes`), and
    as opsets 9 and 10 do (the float scales 45/32 and 70/48, nearest only). One input."""
    x = make_input("resize_size", 32, 48)
    save_npy(os.path.join(out, "resize_size_in.npy"), x)
    for name, opsets in (("resize_size", (13,)), ("resize_size_nearest", (9, 10))):
        model = build(name)
        for opset in opsets:
            export(name, model, os.path.join(out, f"{name}_op{opset}.onnx"), 32, opset, width=48)
        y = run_torch(model, x)
        save_npy(os.path.join(out, f"{name}_out.npy"), y)
        print(describe(f"{name} 32x48", y))


BIG_SIZES = (256, 512)


def make_big(out, names=None, sizes=BIG_SIZES):
    """Benchmark models, one fixed-size file per size (runtimes that cannot resize a
    model still run them): the fixture architectures and the full-size ones. Next to
    each: its seeded input and PyTorch's output, for a correctness column."""
    os.makedirs(out, exist_ok=True)
    for name in names or ("unet_bn", "resnet_in", "unet256_ngf64", "resnet9_ngf64"):
        model = build(name)
        for size in sizes:
            base = os.path.join(out, f"{name}_{size}")
            if os.path.exists(base + ".onnx") and os.path.exists(base + "_out.npy"):
                continue
            export(name, model, base + ".onnx", size, 13)
            x = make_input(name, size)
            y = run_torch(model, x)
            save_npy(base + "_in.npy", x)
            save_npy(base + "_out.npy", y)
            print(describe(f"{name} {size}", y), flush=True)


def check(out):
    """Regenerates everything into a temp dir and compares it with `out`: the tensors and
    the image must match bit for bit; the .onnx files only with the same PyTorch."""
    bad = 0
    with tempfile.TemporaryDirectory() as tmp:
        make_tests(tmp)
        for f in sorted(os.listdir(tmp)):
            try:
                with open(os.path.join(tmp, f), "rb") as a, open(os.path.join(out, f), "rb") as b:
                    ok = a.read() == b.read()
            except OSError:
                ok = False
            if f.endswith(".onnx") and not ok:
                # Only the exporter's bytes: they change with the PyTorch version.
                print(f"DIFF {f} (its bytes depend on the PyTorch version, {torch.__version__} here)")
                continue
            print(("same " if ok else "DIFF ") + f)
            bad += not ok
    return 1 if bad else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--big", action="store_true", help="write the benchmark models")
    ap.add_argument("--check", action="store_true", help="regenerate and compare tensors")
    ap.add_argument("--out", help="output folder (default tests/data or bench/models)")
    args = ap.parse_args()
    torch.set_num_threads(2)
    if args.check:
        return check(args.out or os.path.join(ROOT, "tests", "data"))
    if args.big:
        make_big(args.out or os.path.join(ROOT, "bench", "models"))
    else:
        make_tests(args.out or os.path.join(ROOT, "tests", "data"))
    return 0


if __name__ == "__main__":
    sys.exit(main())

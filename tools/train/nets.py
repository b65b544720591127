"""The networks: a pix2pix U-Net generator (BatchNorm) and a PatchGAN discriminator.

Written from the published descriptions of pix2pix (Isola et al. 2017): the U-Net's
levels are 4x4 stride-2 convolutions down and 4x4 stride-2 transposed convolutions up,
with skip concatenations, LeakyReLU(0.2) down, ReLU up, Tanh out. Every op exports to
the ONNX floor mnemo runs (Conv, ConvTranspose, BatchNormalization, LeakyRelu, Relu,
Concat, Tanh; Dropout is gone in eval mode).

`downs` sets the depth (the input side must be divisible by 2**downs at run time, and
training crops too); the channels are ngf, 2ngf, 4ngf, 8ngf, ... capped at
ngf * max_mult."""
import torch
import torch.nn as nn


class UNetLevel(nn.Module):
    """One level: down, the inner levels, up, and the skip concat.

    Outermost: conv -> inner -> relu, convT (with bias) -> tanh; no skip.
    Innermost: lrelu, conv -> relu, convT, BN (no norm on the way down).
    Between:   lrelu, conv, BN -> inner -> relu, convT, BN [, dropout]."""

    def __init__(self, outer_ch, inner_ch, in_ch=None, out_ch=None, inner=None,
                 outermost=False, dropout=0.0, up="convt"):
        super().__init__()
        self.outermost = outermost
        in_ch = outer_ch if in_ch is None else in_ch
        out_ch = outer_ch if out_ch is None else out_ch
        down_conv = nn.Conv2d(in_ch, inner_ch, 4, stride=2, padding=1, bias=False)

        def upconv(cin, cout, bias):
            if up == "resize":  # nearest x2 then 3x3 conv (ONNX Resize + Conv)
                return [nn.Upsample(scale_factor=2, mode="nearest"),
                        nn.Conv2d(cin, cout, 3, 1, 1, bias=bias)]
            return [nn.ConvTranspose2d(cin, cout, 4, 2, 1, bias=bias)]
        if outermost:
            down = [down_conv]
            up_ = [nn.ReLU(True), *upconv(inner_ch * 2, out_ch, True), nn.Tanh()]
        elif inner is None:
            down = [nn.LeakyReLU(0.2, True), down_conv]
            up_ = [nn.ReLU(True), *upconv(inner_ch, out_ch, False), nn.BatchNorm2d(out_ch)]
        else:
            down = [nn.LeakyReLU(0.2, True), down_conv, nn.BatchNorm2d(inner_ch)]
            up_ = [nn.ReLU(True), *upconv(inner_ch * 2, out_ch, False), nn.BatchNorm2d(out_ch)]
            if dropout > 0:
                up_.append(nn.Dropout(dropout))
        self.body = nn.Sequential(*down, *([inner] if inner is not None else []), *up_)

    def forward(self, x):
        y = self.body(x)
        return y if self.outermost else torch.cat([x, y], 1)


class UNet(nn.Module):
    def __init__(self, in_ch, out_ch, downs=7, ngf=16, max_mult=8, dropout=0.0, up="convt",
                 resize_levels=0):
        super().__init__()
        assert downs >= 3
        mults = [min(2 ** i, max_mult) for i in range(downs)]  # channels after each down
        # resize_levels: the outermost N levels go up by Resize + Conv 3x3 (all if up="resize")
        def up_at(i):
            return "resize" if up == "resize" or i < resize_levels else "convt"
        level = UNetLevel(ngf * mults[-2], ngf * mults[-1], up=up_at(downs - 1))  # innermost
        for i in range(downs - 2, 0, -1):
            deep = mults[i] == max_mult and i >= 4
            level = UNetLevel(ngf * mults[i - 1], ngf * mults[i], inner=level,
                              dropout=dropout if deep else 0.0, up=up_at(i))
        level = UNetLevel(out_ch, ngf, in_ch=in_ch, inner=level, outermost=True, up=up_at(0))
        self.net = level
        self.downs = downs

    def forward(self, x):
        return self.net(x)


class PatchGAN(nn.Module):
    """70x70-style PatchGAN on (condition, image) pairs: conv 4x4 s2 ... then s1, one
    logit per patch. No norm on the first layer; BatchNorm on the rest."""

    def __init__(self, in_ch, ndf=32, layers=3):
        super().__init__()
        seq = [nn.Conv2d(in_ch, ndf, 4, 2, 1), nn.LeakyReLU(0.2, True)]
        ch = ndf
        for i in range(1, layers):
            nxt = ndf * min(2 ** i, 8)
            seq += [nn.Conv2d(ch, nxt, 4, 2, 1, bias=False), nn.BatchNorm2d(nxt),
                    nn.LeakyReLU(0.2, True)]
            ch = nxt
        nxt = ndf * min(2 ** layers, 8)
        seq += [nn.Conv2d(ch, nxt, 4, 1, 1, bias=False), nn.BatchNorm2d(nxt),
                nn.LeakyReLU(0.2, True), nn.Conv2d(nxt, 1, 4, 1, 1)]
        self.net = nn.Sequential(*seq)

    def forward(self, cond, img):
        return self.net(torch.cat([cond, img], 1))


def init_weights(m, gain=0.02):
    if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
        nn.init.normal_(m.weight, 0.0, gain)
        if m.bias is not None:
            nn.init.zeros_(m.bias)
    elif isinstance(m, nn.BatchNorm2d):
        nn.init.normal_(m.weight, 1.0, gain)
        nn.init.zeros_(m.bias)


ROLES = {
    # role: (input channels, output channels)
    "painter": (1, 3),
    "sketcher": (3, 1),
}


def generator(role, downs, ngf, max_mult=8, dropout=0.0):
    cin, cout = ROLES[role]
    return UNet(cin, cout, downs=downs, ngf=ngf, max_mult=max_mult, dropout=dropout)


def describe(cfg):
    return (f"pix2pix U-Net, {cfg['downs']} downs, ngf {cfg['ngf']}, channels capped at "
            f"{cfg['ngf'] * cfg['max_mult']}, BatchNorm, 4x4 stride-2 conv/convT, skip concat, "
            f"Tanh out")


def count_params(model):
    return sum(p.numel() for p in model.parameters())


def count_macs(model, size):
    """Multiply-accumulates of one inference at size x size (convs only)."""
    total = [0]

    def hook(mod, inp, out):
        k = mod.weight
        if isinstance(mod, nn.Conv2d):
            total[0] += out.numel() * k.shape[1] * k.shape[2] * k.shape[3]
        else:  # ConvTranspose2d: every input pixel scatters a k x k x out_ch block
            total[0] += inp[0].numel() * k.shape[1] * k.shape[2] * k.shape[3]

    hs = [m.register_forward_hook(hook) for m in model.modules()
          if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d))]
    cin = next(m for m in model.modules() if isinstance(m, nn.Conv2d)).in_channels
    was = model.training
    model.eval()
    with torch.no_grad():
        model(torch.zeros(1, cin, size, size))
    model.train(was)
    for h in hs:
        h.remove()
    return total[0]

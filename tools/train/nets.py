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
import torch.nn.functional as F


class BilinearUpConv(nn.Module):
    """x2 bilinear upsampling then a 3x3 conv: the up-path that makes no checkerboard
    (every output phase sees the same smooth interpolation; a 4x4 stride-2 transposed conv
    weighs the phases differently and leaves a 2-px grid).

    Both steps are linear, so the pair is exactly one ConvTranspose 6x6, stride 2, pad 2
    (`fused()`), which is what the ONNX export contains: mnemo runs it on its fast
    transposed-conv path (a Resize node there is the slow reference op). The upsampling
    is the transposed conv with the bilinear kernel [1,3,3,1]/4 (x) [1,3,3,1]/4 and zero
    padding (at the 1-px frame that differs from align_corners=False's edge clamp); the
    3x3 conv then runs unpadded on the 2H+2 upsampled image, so training and the fused
    export agree to float rounding everywhere, the frame included."""

    def __init__(self, cin, cout, bias):
        super().__init__()
        self.cin, self.cout = cin, cout
        self.conv = nn.Conv2d(cin, cout, 3, 1, 0, bias=bias)
        k1 = torch.tensor([1.0, 3.0, 3.0, 1.0]) / 4
        self.register_buffer("kup", (k1[:, None] * k1[None, :]).expand(cin, 1, 4, 4).clone(),
                             persistent=False)

    def upsample(self, x):
        return F.conv_transpose2d(x, self.kup, stride=2, padding=0, groups=self.cin)

    def forward(self, x):
        return self.conv(self.upsample(x))

    @torch.no_grad()
    def fused(self):
        """The same map as one nn.ConvTranspose2d(cin, cout, 6, stride 2, padding 2)."""
        was = self.training
        self.eval()
        x = torch.zeros(self.cin, self.cin, 4, 4, device=self.conv.weight.device)
        x[torch.arange(self.cin), torch.arange(self.cin), 2, 2] = 1
        bias = self.conv.bias
        y = self.forward(x) - (bias.view(1, -1, 1, 1) if bias is not None else 0)
        # input pixel i scatters to outputs 2i-2 .. 2i+3 (padding 2): i = 2 -> 2 .. 7
        k = y[:, :, 2:8, 2:8].clone()
        m = nn.ConvTranspose2d(self.cin, self.cout, 6, 2, 2, bias=bias is not None)
        m.weight.copy_(k)
        if bias is not None:
            m.bias.copy_(bias)
        self.train(was)
        return m.to(self.conv.weight.device)


def fuse_upconvs(model):
    """Replace every BilinearUpConv by its single ConvTranspose (for export), in place."""
    for name, mod in list(model.named_modules()):
        for cname, child in list(mod.named_children()):
            if isinstance(child, BilinearUpConv):
                setattr(mod, cname, child.fused())
    return model


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
            if up == "bilinear_convt":  # bilinear x2 + 3x3 conv, exported as one convT 6x6
                return [BilinearUpConv(cin, cout, bias)]
            if up in ("resize", "bilinear"):  # x2 (nearest / bilinear) then 3x3 conv
                # (ONNX Resize + Conv): no stride-2 transposed kernel, so no checkerboard
                mode = "nearest" if up == "resize" else "bilinear"
                return [nn.Upsample(scale_factor=2, mode=mode,
                                    **({} if mode == "nearest" else {"align_corners": False})),
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
        # resize_levels: the outermost N levels go up by Resize + Conv 3x3 (all if up is
        # "resize" / "bilinear" and resize_levels is 0); up_mode: the resize of those levels
        up_mode = up if up in ("resize", "bilinear", "bilinear_convt") else "resize"

        def up_at(i):
            if up in ("resize", "bilinear", "bilinear_convt") and resize_levels == 0:
                return up
            return up_mode if i < resize_levels else "convt"
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


def generator(role, downs, ngf, max_mult=8, dropout=0.0, up="convt", resize_levels=0):
    cin, cout = ROLES[role]
    return UNet(cin, cout, downs=downs, ngf=ngf, max_mult=max_mult, dropout=dropout, up=up,
                resize_levels=resize_levels)


def generator_from_config(c):
    """The generator a checkpoint's config describes (older configs: convT up-path)."""
    return generator(c["role"], c["downs"], c["ngf"], c["max_mult"], up=c.get("up", "convt"),
                     resize_levels=c.get("resize_levels", 0))


def describe(cfg):
    up, rl = cfg.get("up", "convt"), cfg.get("resize_levels", 0)
    if up == "convt" or (rl == 0 and up not in ("resize", "bilinear", "bilinear_convt")):
        path = "4x4 stride-2 conv down / 4x4 stride-2 convT up"
    elif up == "bilinear_convt" and rl == 0:
        path = ("4x4 stride-2 conv down / bilinear x2 + 3x3 conv up (exported as its exact "
                "6x6 stride-2 convT: no checkerboard)")
    else:
        kind = {"bilinear": "bilinear x2 Resize",
                "bilinear_convt": "bilinear x2 + 3x3 conv (exported as its exact 6x6 "
                                  "stride-2 convT: no checkerboard)"}.get(up, "nearest x2 Resize")
        where = f"the outer {rl} levels" if rl else "every level"
        kind = kind if up == "bilinear_convt" else kind + " + 3x3 conv"
        path = (f"4x4 stride-2 conv down / {kind} up on {where}"
                + (", 4x4 stride-2 convT on the rest" if rl else ""))
    return (f"pix2pix U-Net, {cfg['downs']} downs, ngf {cfg['ngf']}, channels capped at "
            f"{cfg['ngf'] * cfg['max_mult']}, BatchNorm, {path}, skip concat, Tanh out")


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

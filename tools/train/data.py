"""Training data: a folder (or several) of portraits, their sketches, a fixed held-out
split, an on-disk cache, and the batch augmentations.

The cache (`<cache>/<key>.images.npy`, `.sketches.npy`, `.names.txt`) holds the decoded
portraits (uint8 N x S x S x 3) and their sketchify'd sketches (uint8 N x S x S, 0 ink ..
255 paper), keyed by the file list, the size and the sketch parameters, so a resumed run
or the other direction's run does not decode and sketch everything again."""
import hashlib
import os
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import torch
import torch.nn.functional as F

import sketchify as sk

EXTS = (".jpg", ".jpeg", ".png", ".webp", ".bmp")


def list_images(dirs):
    files = []
    for d in dirs:
        for root, _, names in os.walk(d):
            files += [os.path.join(root, n) for n in names if n.lower().endswith(EXTS)]
    return sorted(files)


def is_heldout(path, share):
    """Fixed split by file name: the same image is held out in every run and direction."""
    h = hashlib.sha1(os.path.basename(path).encode()).digest()
    return int.from_bytes(h[:4], "little") / 2 ** 32 < share


def _prepare_one(job):
    path, size, sk_params = job
    rgb = sk.load_rgb(path, size)
    sketch = sk.to_u8(sk.sketchify(rgb, **sk_params))
    return rgb, sketch


def load_cached(files, size, sk_params, cache_dir, workers=1, log=print):
    key_src = "\n".join(files) + f"\n{size}\n{sorted(sk_params.items())}\nv1"
    key = hashlib.sha1(key_src.encode()).hexdigest()[:16]
    base = os.path.join(cache_dir, key)
    if os.path.exists(base + ".done"):
        return (np.load(base + ".images.npy", mmap_mode="r"),
                np.load(base + ".sketches.npy", mmap_mode="r"))
    os.makedirs(cache_dir, exist_ok=True)
    n = len(files)
    log(f"data: decoding and sketching {n} images into {base}.* ({workers} workers)")
    images = np.lib.format.open_memmap(base + ".images.npy", "w+", np.uint8, (n, size, size, 3))
    sketches = np.lib.format.open_memmap(base + ".sketches.npy", "w+", np.uint8, (n, size, size))
    jobs = [(f, size, sk_params) for f in files]
    if workers > 1:
        with ProcessPoolExecutor(workers) as ex:
            results = ex.map(_prepare_one, jobs, chunksize=16)
            for i, (rgb, s) in enumerate(results):
                images[i], sketches[i] = rgb, s
    else:
        for i, job in enumerate(jobs):
            images[i], sketches[i] = _prepare_one(job)
    images.flush()
    sketches.flush()
    with open(base + ".names.txt", "w") as f:
        f.write("\n".join(files) + "\n")
    open(base + ".done", "w").close()
    return (np.load(base + ".images.npy", mmap_mode="r"),
            np.load(base + ".sketches.npy", mmap_mode="r"))


def to_tensors(images, sketches, idx):
    """uint8 arrays -> float tensors in [-1,1]: portraits Bx3xSxS, sketches Bx1xSxS."""
    rgb = torch.from_numpy(np.ascontiguousarray(images[idx])).permute(0, 3, 1, 2).float()
    s = torch.from_numpy(np.ascontiguousarray(sketches[idx])).unsqueeze(1).float()
    return rgb / 127.5 - 1, s / 127.5 - 1


# ---- augmentations (on a batch, per sample, from a torch.Generator) ----------------------

def flip_shift_crop(tensors, gen, shift, crop):
    """The same random horizontal flip, shift (up to `shift` px, edge-replicated) and crop
    (`crop` px square, 0 = whole image) for every tensor of a pair."""
    b, _, h, w = tensors[0].shape
    flips = torch.rand(b, generator=gen) < 0.5
    ch = crop or h
    cw = crop or w
    out = [[] for _ in tensors]
    for i in range(b):
        dy = int(torch.randint(-shift, shift + 1, (1,), generator=gen)) if shift else 0
        dx = int(torch.randint(-shift, shift + 1, (1,), generator=gen)) if shift else 0
        y0 = int(torch.randint(0, h - ch + 1, (1,), generator=gen)) if crop else 0
        x0 = int(torch.randint(0, w - cw + 1, (1,), generator=gen)) if crop else 0
        for j, t in enumerate(tensors):
            x = t[i:i + 1]
            if flips[i]:
                x = x.flip(3)
            if shift:
                x = F.pad(x, (shift, shift, shift, shift), mode="replicate")
                x = x[:, :, shift + dy + y0:shift + dy + y0 + ch, shift + dx + x0:shift + dx + x0 + cw]
            else:
                x = x[:, :, y0:y0 + ch, x0:x0 + cw]
            out[j].append(x)
    return [torch.cat(o) for o in out]


def colour_jitter(rgb, gen, strength=1.0):
    """Brightness +-0.08, contrast x0.85..1.15, saturation x0.75..1.25, per-channel gain
    +-4% (a slight hue/white-balance shift), on [-1,1] RGB."""
    b = rgb.shape[0]

    def u(lo, hi):
        return (lo + (hi - lo) * torch.rand(b, 1, 1, 1, generator=gen)).to(rgb)

    s = strength
    x = (rgb + 1) / 2
    x = x + u(-0.08 * s, 0.08 * s)
    mean = x.mean(dim=(1, 2, 3), keepdim=True)
    x = (x - mean) * u(1 - 0.15 * s, 1 + 0.15 * s) + mean
    grey = (x * torch.tensor([0.299, 0.587, 0.114]).view(1, 3, 1, 1).to(x)).sum(1, keepdim=True)
    x = (x - grey) * u(1 - 0.25 * s, 1 + 0.25 * s) + grey
    gains = 1 + (torch.rand(b, 3, 1, 1, generator=gen).to(x) * 2 - 1) * 0.04 * s
    x = x * gains
    return (x.clamp(0, 1) * 2 - 1)


def gaussian_blur(x, sigma):
    """Per-batch gaussian blur with reflect padding (sigma in px, a float)."""
    if sigma <= 0.05:
        return x
    k = torch.from_numpy(sk.gaussian_kernel(sigma)).to(x)
    r = (k.numel() - 1) // 2
    c = x.shape[1]
    x = F.pad(x, (r, r, 0, 0), mode="reflect")
    x = F.conv2d(x, k.view(1, 1, 1, -1).repeat(c, 1, 1, 1), groups=c)
    x = F.pad(x, (0, 0, r, r), mode="reflect")
    return F.conv2d(x, k.view(1, 1, -1, 1).repeat(c, 1, 1, 1), groups=c)


def painterly_degrade(rgb, gen, blur_max):
    """What the sketcher sees in the loop is the painter's output, softer than a real
    portrait: blur half of the batch by sigma U(0, blur_max), each sample its own."""
    if blur_max <= 0:
        return rgb
    out = []
    for i in range(rgb.shape[0]):
        x = rgb[i:i + 1]
        if float(torch.rand(1, generator=gen)) < 0.5:
            x = gaussian_blur(x, float(torch.rand(1, generator=gen)) * blur_max)
        out.append(x)
    return torch.cat(out)


def loop_perturb(sketch, gen, noise_max=0.05, erase_p=0.5, erase_frac=0.04):
    """What the painter sees in the loop: the sketch after `perturb` (gaussian noise of
    std up to noise_max, sometimes one erased square patch of paper)."""
    b, _, h, w = sketch.shape
    std = torch.rand(b, 1, 1, 1, generator=gen).to(sketch) * noise_max
    x = sketch + torch.randn(sketch.shape, generator=gen).to(sketch) * std
    side = max(1, int(round(erase_frac * min(h, w))))
    for i in range(b):
        if float(torch.rand(1, generator=gen)) < erase_p:
            y0 = int(torch.randint(0, h - side + 1, (1,), generator=gen))
            x0 = int(torch.randint(0, w - side + 1, (1,), generator=gen))
            x[i, :, y0:y0 + side, x0:x0 + side] = 1.0
    return x.clamp(-1, 1)

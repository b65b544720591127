#!/usr/bin/python3
"""The life of the loop, measured from a headless recording (tools/bench/life.sh runs it).

    /usr/bin/python3 tools/bench/life.py calibrate [--cache DIR]
    /usr/bin/python3 tools/bench/life.py measure --video RUN.mkv --stats RUN.jsonl \\
        --out DIR [--label NAME] [--rate 8]

The recording is capture.stream = side_by_side at 512x256, one frame per iteration
(portrait left, sketch right). The measures:

- identity: eigenfaces. The luma of a portrait, area-averaged to 32x32, each image
  standardised (mean 0, std 1: global brightness and contrast do not count), projected on
  the first 48 principal components of the training portraits (tools/train's split),
  whitened; distance = Euclidean in that space, divided by sqrt(48). Calibrated (`calibrate`) on
  held-out portraits: the distance between a portrait and degraded copies of itself (blur,
  noise, JPEG, shift, colour jitter) and its painted copy (mnemo's painter on its sketch,
  when a painter is given) against the distance between different people. The threshold
  tau is where the two error rates cross. Painted people sit closer together than real
  ones: with a painter, `calibrate` also finds tau_loop, where the error rates cross for
  the painter's portrait of a sketch and of the same sketch under the loop's perturbation
  at the guard's full boost (same person) against the painter's portraits of two
  different people. tau_loop is too strict for a person drifting along the loop (on the
  first default models' runs it split one melting mask into 9 "people"), so stretches use
  tau and returns, which claim the same person again, use tau_loop.
- face: two detectors of different kinds must agree, on a face with detail. OpenCV's Haar
  cascade (frontalface_alt2, Viola-Jones on intensity differences) and its LBP cascade
  (frontalface_improved, on local binary texture) each look for a frontal face of at least
  64 px on the equalised grey portrait; a frame has a face when a box of each overlaps
  (IoU >= 0.3) and the face inside has detail: the mean absolute Laplacian of the box at
  64x64 over its std, at least `face_detail_min`. Either cascade alone passes things the
  other does not (Haar: blurred faces, melted strips; LBP: fewer, but blur too); the
  detail floor rejects faces blurred past recognition. Calibrated (`calibrate`) on real,
  degraded, painted and non-face sets (noise, stripes, shuffled blocks, upside down,
  heavy blur, and the melted strips of the first default models when `--melted` gives
  their recordings); `face_detail_min` is the geometric mean of real portraits blurred at
  sigma 2 (1st percentile) and at sigma 8 (99th). Measured on every `--face-every`-th frame.
- face space (secondary): DFFS (distance from face space, Turk & Pentland), the share of
  the standardised 32x32 luma the 48 components do not explain, under the 99th percentile
  of real portraits. It passes heavy blur and upside-down faces (see the calibration), so
  it is reported as `face_share_dffs` only.
- identity stretches: a stretch starts at a frame; it holds while the running (EMA 0.9)
  embedding stays within tau of the stretch's anchor (its first 8 frames' mean); 16 frames
  in a row outside tau start the next stretch. Reported: number of stretches, longest and
  median stretch (iterations), people per hour at loop.rate (default 8 it/s), and
  "returns": stretches whose anchor is within tau_loop of an earlier stretch's anchor
  (not the one just before) that started < 1 h earlier.
- stall: share of iterations whose mean absolute portrait change is < 0.004 (the guard's
  stall threshold); repeat: share of frames within tau/4 of a frame >= 32 iterations
  earlier (a near-copy, identity space) among the last 4,096.
- colour: mean RGB of each portrait; drift = the spread (std) over the run of the
  per-frame mean colour, and the range of the per-1,000-iteration mean; against the
  spread of mean colours over real portraits.
- reseeds, early turns, boosts and guard events per 1,000 iterations: from the final --stats
  line.
- contact sheets: every 50th iteration (sheet_every50.png; a red bar on top: the face
  measure found no face there), and the first 300 iterations, every 2nd
  (sheet_first300.png), portrait over sketch."""
import argparse
import io
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
from PIL import Image, ImageFilter

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tools", "train"))
K = int(os.environ.get("LIFE_K", 48))
SIDE = int(os.environ.get("LIFE_SIDE", 32))
MARGIN = int(os.environ.get("LIFE_MARGIN", 0))  # of 256: the face, less of the background
BLUR = float(os.environ.get("LIFE_BLUR", 0))    # gaussian sigma in SIDE-pixels (shift tolerance)


def std32(rgb):
    """HxWx3 uint8 (or N x H x W x 3) -> N x 1024 standardised luma at 32x32."""
    a = np.asarray(rgb, np.float32)
    if a.ndim == 3:
        a = a[None]
    y = a[..., 0] * 0.299 + a[..., 1] * 0.587 + a[..., 2] * 0.114
    if MARGIN:
        m = MARGIN * y.shape[1] // 256
        y = y[:, m:y.shape[1] - m, m:y.shape[2] - m]
    n, h, w = y.shape
    f = h // SIDE
    y = y[:, :f * SIDE, :f * SIDE].reshape(n, SIDE, f, SIDE, f).mean(axis=(2, 4))
    if BLUR > 0:
        from scipy import ndimage
        y = ndimage.gaussian_filter(y, (0, BLUR, BLUR), mode="nearest")
    y = y.reshape(n, -1)
    y = y - y.mean(1, keepdims=True)
    return y / (y.std(1, keepdims=True) + 1e-6)


class Space:
    def __init__(self, npz):
        z = np.load(npz)
        self.mean, self.comps, self.scale = z["mean"], z["comps"], z["scale"]
        self.tau, self.face_max = float(z["tau"]), float(z["face_max"])
        # the loop's threshold (painted pairs); older calibrations have only tau
        self.tau_loop = float(z["tau_loop"]) if "tau_loop" in z.files else None

    def embed(self, rgb):
        x = std32(rgb) - self.mean
        c = x @ self.comps.T
        rec = c @ self.comps
        dffs = ((x - rec) ** 2).sum(1) / ((x ** 2).sum(1) + 1e-6)
        return c / self.scale / np.sqrt(K), dffs


CASCADES = os.environ.get("LIFE_CASCADES", "/usr/share/opencv4")
DETAIL_FILE = "life-face.json"


class Faces:
    """Haar and LBP cascades agreeing on one face box, with detail inside it."""

    def __init__(self, detail_min=None):
        try:
            import cv2
        except ImportError:
            sys.exit("life: the face measure needs OpenCV: apt install python3-opencv opencv-data"
                     " (tools/install-deps.sh --tools)")
        self.cv2 = cv2
        self.haar = cv2.CascadeClassifier(
            os.path.join(CASCADES, "haarcascades", "haarcascade_frontalface_alt2.xml"))
        self.lbp = cv2.CascadeClassifier(
            os.path.join(CASCADES, "lbpcascades", "lbpcascade_frontalface_improved.xml"))
        if self.haar.empty() or self.lbp.empty():
            sys.exit(f"life: OpenCV's face cascades are not under {CASCADES}: apt install"
                     " opencv-data (tools/install-deps.sh --tools)")
        self.detail_min = detail_min

    def _boxes(self, clf, grey, neighbours):
        return clf.detectMultiScale(grey, scaleFactor=1.1, minNeighbors=neighbours,
                                    minSize=(64, 64))

    def detail(self, rgb):
        """The detail of the face both cascades agree on, or None when they do not agree."""
        cv2 = self.cv2
        grey = cv2.equalizeHist(cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2GRAY))
        haar = self._boxes(self.haar, grey, 5)
        if len(haar) == 0:
            return None
        best, box = 0.3, None
        for b in self._boxes(self.lbp, grey, 3):
            for h in haar:
                overlap = iou(h, b)
                if overlap >= best:
                    best, box = overlap, h
        if box is None:
            return None
        x, y, w, h = box
        crop = cv2.resize(grey[y:y + h, x:x + w], (64, 64), interpolation=cv2.INTER_AREA)
        crop = crop.astype(np.float32)
        return float(np.abs(cv2.Laplacian(crop, cv2.CV_32F)).mean() / (crop.std() + 1e-6))

    def found(self, rgb):
        d = self.detail(rgb)
        return d is not None and d >= self.detail_min


def iou(a, b):
    ix = max(0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
    iy = max(0, min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))
    inter = ix * iy
    return inter / float(a[2] * a[3] + b[2] * b[3] - inter)


def load_faces(cache):
    path = os.path.join(cache, DETAIL_FILE)
    if not os.path.exists(path):
        sys.exit(f"life: {path} missing: run `life.py calibrate` (life.sh does it once)")
    return Faces(json.load(open(path))["face_detail_min"])


# ---- calibration -------------------------------------------------------------------------

def degrade(rgb, kind, rs):
    im = Image.fromarray(rgb)
    if kind == "blur":
        return np.asarray(im.filter(ImageFilter.GaussianBlur(2.0)))
    if kind == "noise":
        return np.clip(rgb + rs.normal(0, 20, rgb.shape), 0, 255).astype(np.uint8)
    if kind == "jpeg":
        b = io.BytesIO()
        im.save(b, "JPEG", quality=15)
        return np.asarray(Image.open(b).convert("RGB"))
    if kind == "shift":
        return np.roll(np.roll(rgb, 6, 0), -6, 1)
    if kind == "colour":
        g = rs.uniform(0.8, 1.2, 3)
        return np.clip(rgb * g + rs.uniform(-20, 20), 0, 255).astype(np.uint8)
    raise ValueError(kind)


def nonfaces(real, rs):
    """Pictures that are not faces, for the face threshold's report."""
    out = {}
    n = len(real)
    out["noise"] = rs.randint(0, 256, (n, 256, 256, 3)).astype(np.uint8)
    out["smooth noise"] = blurred(out["noise"], 8)
    stripes = np.zeros((n, 256, 256, 3), np.uint8)
    for i in range(n):
        period = rs.randint(6, 30)
        xs = (np.arange(256) // period) % 2
        stripes[i] = (xs[None, :, None] * rs.randint(120, 255) + 40)
        lo, hi = sorted(rs.randint(40, 216, 2))
        stripes[i, :, :lo] = stripes[i, :, hi:] = rs.randint(0, 255, 3)  # a vertical strip
    out["vertical strip of bars"] = stripes
    # the blocks of a real portrait, shuffled (face colours and texture, no face layout)
    sh = []
    for x in real:
        b = x.reshape(4, 64, 4, 64, 3).transpose(0, 2, 1, 3, 4).reshape(16, 64, 64, 3)
        b = b[rs.permutation(16)].reshape(4, 4, 64, 64, 3).transpose(0, 2, 1, 3, 4)
        sh.append(b.reshape(256, 256, 3))
    out["shuffled portrait blocks"] = np.stack(sh)
    out["portrait upside down"] = real[:, ::-1]
    out["heavy blur (sigma 8)"] = blurred(real, 8)
    return out


def paint_all(painter, sketches_u8, mnemo, tmp):
    """mnemo infer of the painter on each sketch (PNG in, PNG out)."""
    out = []
    for i, s in enumerate(sketches_u8):
        ip, op = os.path.join(tmp, f"s{i}.png"), os.path.join(tmp, f"p{i}.png")
        Image.fromarray(s).save(ip)
        r = subprocess.run([mnemo, "infer", "--model", painter, "--input", ip, "--output", op,
                            "--backend", "cpu"], capture_output=True, text=True,
                           env=dict(os.environ, OMP_NUM_THREADS="1"))
        if r.returncode:
            sys.exit(f"life: mnemo infer failed: {r.stderr}")
        out.append(np.asarray(Image.open(op).convert("RGB").resize((256, 256))))
    return np.stack(out)


def calibrate(a):
    import data as D
    import sketchify as sk
    files = D.list_images([a.data])
    images, sketches = D.load_cached(files, 256, dict(sk.DEFAULTS), a.train_cache)
    tr = [i for i, f in enumerate(files) if not D.is_heldout(f, 0.05)]
    he = [i for i, f in enumerate(files) if D.is_heldout(f, 0.05)]
    rs = np.random.RandomState(0)
    pick = sorted(rs.choice(tr, min(3000, len(tr)), replace=False).tolist())
    X = std32(images[pick])
    mean = X.mean(0)
    u, s, vt = np.linalg.svd(X - mean, full_matrices=False)
    comps = vt[:K]
    scale = s[:K] / np.sqrt(len(pick))
    tmp_npz = os.path.join(a.cache, "life-space.npz")
    os.makedirs(a.cache, exist_ok=True)
    np.savez(tmp_npz, mean=mean, comps=comps, scale=scale, tau=0.0, face_max=0.0)
    sp = Space(tmp_npz)
    held = np.asarray(images[he[:a.n]])
    e0, f0 = sp.embed(held)
    res = {"basis_images": len(pick), "heldout": len(held), "explained": float(
        (s[:K] ** 2).sum() / (s ** 2).sum())}
    same = {}
    for kind in ("blur", "noise", "jpeg", "shift", "colour"):
        e1, _ = sp.embed(np.stack([degrade(x, kind, rs) for x in held]))
        same[kind] = np.linalg.norm(e1 - e0, axis=1)
    if a.painter:
        with tempfile.TemporaryDirectory() as tmp:
            painted = paint_all(a.painter, np.asarray(sketches[he[:a.n]]), a.mnemo, tmp)
        e1, fp = sp.embed(painted)
        same["painted (painter on its sketch)"] = np.linalg.norm(e1 - e0, axis=1)
        res["painted_dffs_median"] = float(np.median(fp))
        ep = e1
    i, j = np.triu_indices(len(held), 1)
    diff = np.linalg.norm(e0[i] - e0[j], axis=1)
    diffs = {"different real people": diff}
    if a.painter:
        diffs["different people, both painted"] = np.linalg.norm(ep[i] - ep[j], axis=1)
    tau = crossing(np.concatenate(list(same.values())), diff)
    face_max = float(np.quantile(f0, 0.99))
    tau_loop = tau
    if a.painter:
        with tempfile.TemporaryDirectory() as tmp:
            shaken = [loop_shake(x, rs) for x in np.asarray(sketches[he[:a.n]])]
            e2, _ = sp.embed(paint_all(a.painter, np.stack(shaken), a.mnemo, tmp))
        same_loop = np.linalg.norm(e2 - ep, axis=1)
        diff_loop = diffs["different people, both painted"]
        tau_loop = crossing(same_loop, diff_loop)
        res["tau_loop"] = tau_loop
        res["loop_pairs"] = {
            "same person (perturbed sketch), median": float(np.median(same_loop)),
            "same person above tau_loop": float((same_loop > tau_loop).mean()),
            "different painted people, median": float(np.median(diff_loop)),
            "different painted people below tau_loop": float((diff_loop < tau_loop).mean()),
            "different painted people below tau": float((diff_loop < tau).mean())}
    np.savez(tmp_npz, mean=mean, comps=comps, scale=scale, tau=tau, face_max=face_max,
             tau_loop=tau_loop)
    res["tau"] = tau
    res["same_person_above_tau"] = {k: float((v > tau).mean()) for k, v in same.items()}
    res["same_person_median"] = {k: float(np.median(v)) for k, v in same.items()}
    res["different_below_tau"] = {k: float((v < tau).mean()) for k, v in diffs.items()}
    res["different_median"] = {k: float(np.median(v)) for k, v in diffs.items()}
    res["face_max_dffs"] = face_max
    res["real_dffs_median"] = float(np.median(f0))
    res["nonface_pass_rate"] = {}
    for k, v in nonfaces(held[:100], rs).items():
        _, f = sp.embed(v)
        res["nonface_pass_rate"][k] = float((f < face_max).mean())
    for kind in ("blur", "noise", "jpeg"):
        _, f = sp.embed(np.stack([degrade(x, kind, rs) for x in held[:100]]))
        res["nonface_pass_rate"][f"real, degraded ({kind})"] = float((f < face_max).mean())
    if a.painter:
        res["nonface_pass_rate"]["painted (painter on its sketch)"] = float(
            (sp.embed(painted)[1] < face_max).mean())
    res["faces"] = calibrate_faces(a, held, painted if a.painter else None, rs)
    json.dump(res, open(os.path.join(a.cache, "life-calibration.json"), "w"), indent=1)
    print(json.dumps(res, indent=1))


def crossing(same, diff):
    """The threshold where the share of same-pairs above it equals different pairs below."""
    grid = np.linspace(0, max(diff.max(), same.max()), 2000)
    fr = np.array([(same > t).mean() for t in grid])
    fa = np.array([(diff < t).mean() for t in grid])
    return float(grid[np.argmin(np.abs(fr - fa))])


def loop_shake(sketch, rs):
    """A sketch (uint8, 255 paper) as the loop's perturb leaves it at the guard's full boost
    (defaults x 3): rotation <= 3 deg, shift <= 3 px, noise sigma 0.15 of [-1, 1], three
    erased 10 px squares of paper."""
    im = Image.fromarray(sketch).rotate(rs.uniform(-3, 3), Image.BILINEAR,
                                        translate=tuple(rs.uniform(-3, 3, 2)), fillcolor=255)
    x = np.asarray(im, np.float32) + rs.normal(0, 0.15 * 127.5, sketch.shape)
    for _ in range(3):
        y0, x0 = rs.randint(0, sketch.shape[0] - 10, 2)
        x[y0:y0 + 10, x0:x0 + 10] = 255
    return np.clip(x, 0, 255).astype(np.uint8)


def blurred(xs, sigma):
    return np.stack([np.asarray(Image.fromarray(x).filter(ImageFilter.GaussianBlur(sigma)))
                     for x in xs])


def melted_frames(videos):
    """The portraits of recordings of a loop that melted: frames 100 on, every 3rd."""
    out = []
    for v in (v for v in videos if os.path.exists(v)):
        out += [f[:, :256].copy() for t, f in enumerate(frames(v)) if t >= 100 and t % 3 == 0]
    return np.stack(out) if out else None


def calibrate_faces(a, held, painted, rs):
    """The detail floor, and each set's pass rate under the paired detector."""
    faces = Faces()
    soft = [faces.detail(x) for x in blurred(held, 2.0)]
    lost = [faces.detail(x) for x in blurred(held, 8.0)]
    soft = np.array([d for d in soft if d is not None])
    lost = np.array([d for d in lost if d is not None])
    faces.detail_min = float(np.sqrt(np.quantile(soft, 0.01) * np.quantile(lost, 0.99)))
    json.dump({"face_detail_min": faces.detail_min},
              open(os.path.join(a.cache, DETAIL_FILE), "w"))
    sets = {"real": held}
    for kind in ("blur", "noise", "jpeg"):
        sets[f"real, degraded ({kind})"] = np.stack([degrade(x, kind, rs) for x in held])
    if painted is not None:
        sets["painted (painter on its sketch)"] = painted
    sets.update(nonfaces(held[:100], rs))
    melted = melted_frames(a.melted or [])
    if melted is not None:
        sets["melted strips (first default models)"] = melted
    rates = {k: float(np.mean([faces.found(x) for x in v])) for k, v in sets.items()}
    return {"face_detail_min": faces.detail_min, "pass_rate": rates,
            "set_sizes": {k: len(v) for k, v in sets.items()}}


# ---- measuring a run -------------------------------------------------------------------

def frames(video, w=512, h=256):
    p = subprocess.Popen(["ffmpeg", "-v", "error", "-i", video, "-f", "rawvideo",
                          "-pix_fmt", "rgb24", "-"], stdout=subprocess.PIPE)
    n = w * h * 3
    while True:
        b = p.stdout.read(n)
        if len(b) < n:
            break
        yield np.frombuffer(b, np.uint8).reshape(h, w, 3)
    p.wait()


def sheet(thumbs, cols, path):
    th, tw = thumbs[0].shape[:2]
    rows = (len(thumbs) + cols - 1) // cols
    g = np.full((rows * th, cols * tw, 3), 255, np.uint8)
    for k, t in enumerate(thumbs):
        r, c = divmod(k, cols)
        g[r * th:(r + 1) * th, c * tw:(c + 1) * tw] = t
    Image.fromarray(g).save(path, optimize=True)


def thumb(frame, side=96):
    p = Image.fromarray(frame[:, :256]).resize((side, side), Image.BILINEAR)
    s = Image.fromarray(frame[:, 256:]).resize((side, side // 2), Image.BILINEAR)
    out = np.full((side + side // 2, side, 3), 255, np.uint8)
    out[:side] = np.asarray(p)
    out[side:] = np.asarray(s)
    return out


def mark_faceless(th, has_face):
    """A red bar over the top of a sheet thumbnail the face measure found no face in, so
    the sheet shows the eye what the measure said."""
    if not has_face:
        th = th.copy()
        th[:4] = (230, 0, 0)
    return th


def measure(a):
    sp = Space(os.path.join(a.cache, "life-space.npz"))
    faces = load_faces(a.cache)
    os.makedirs(a.out, exist_ok=True)
    embs, dffs, change, colour, ink, face = [], [], [], [], [], []
    every50, first300 = [], []
    prev = None
    batch = []

    def flush():
        if batch:
            e, f = sp.embed(np.stack(batch))
            embs.append(e)
            dffs.append(f)
            batch.clear()
    for t, fr in enumerate(frames(a.video)):
        por = fr[:, :256]
        batch.append(por)
        if len(batch) == 256:
            flush()
        pf = por.astype(np.float32) / 127.5 - 1
        colour.append(pf.reshape(-1, 3).mean(0))
        ink.append(float((fr[:, 256:, 1] < 128).mean()))
        if t % a.face_every == 0:
            face.append(faces.found(por))
        if prev is not None:
            change.append(float(np.abs(pf - prev).mean()))
        prev = pf
        if t % 50 == 0:
            every50.append(mark_faceless(thumb(fr, 64), face[-1] if t % a.face_every == 0 else True))
        if t < 300 and t % 2 == 0:
            first300.append(thumb(fr, 96))
    flush()
    E, Fd = np.concatenate(embs), np.concatenate(dffs)
    n = len(E)
    colour, change, ink, face = np.array(colour), np.array(change), np.array(ink), np.array(face)
    per_k_face = [face[i:i + 1000 // a.face_every].mean()
                  for i in range(0, len(face), 1000 // a.face_every)]
    sheet(every50, 25, os.path.join(a.out, "sheet_every50.png"))
    sheet(first300, 15, os.path.join(a.out, "sheet_first300.png"))
    # stretches tolerate a person's drift (tau, real pairs: on these runs its count of
    # people matches the eye's); a return claims the same person again, so it takes the
    # strict threshold that rarely joins two different painted people (tau_loop)
    tau = sp.tau
    tau_same = sp.tau_loop or sp.tau
    # identity stretches
    stretches, anchors = [], []
    start, anchor, ema, out_run = 0, E[:8].mean(0), E[0].copy(), 0
    for t in range(n):
        ema = 0.9 * ema + 0.1 * E[t] if t > start else E[t].copy()
        if t - start == 8:
            anchor = E[start:t].mean(0)
        if np.linalg.norm(ema - anchor) > tau and t - start >= 8:
            out_run += 1
        else:
            out_run = 0
        if out_run >= 16:
            s_new = t - 15
            stretches.append((start, s_new))
            anchors.append(anchor)
            start, out_run = s_new, 0
            anchor = E[start:min(n, start + 8)].mean(0)
            ema = E[start].copy()
    stretches.append((start, n))
    anchors.append(E[start:min(n, start + 8)].mean(0))
    lens = np.array([b - s for s, b in stretches])
    hour = int(3600 * a.rate)
    returns = 0
    for k in range(1, len(anchors)):
        for m in range(k - 1, -1, -1):
            if stretches[k][0] - stretches[m][0] > hour:
                break
            if k - m >= 2 and np.linalg.norm(anchors[k] - anchors[m]) < tau_same:
                returns += 1
                break
    # near-repeats in identity space (tau/4), against frames >= 32 back within 4096
    rep = 0
    for t in range(32, n):
        lo = max(0, t - 4096)
        d = np.linalg.norm(E[lo:t - 31] - E[t], axis=1)
        rep += bool((d < tau / 4).any())
    stats = {}
    if a.stats and os.path.exists(a.stats):
        lines = [json.loads(l) for l in open(a.stats) if l.strip()]
        if lines:
            stats = lines[-1]
    it = stats.get("iterations", n)
    k1000 = 1000.0 / max(it, 1)
    per_k = np.array([colour[i:i + 1000].mean(0) for i in range(0, n, 1000)])
    res = {
        "label": a.label, "iterations": int(it), "frames": int(n),
        "it_per_s": stats.get("it_per_s"),  # the last --stats line: the recent rate
        "it_per_s_mean": it / stats["t"] if stats.get("t") else None,
        "reseeds_per_1000": stats.get("reseeds", 0) * k1000 if stats else None,
        "turns_per_1000": stats.get("turns", 0) * k1000 if stats else None,
        "boosts_per_1000": stats.get("boosts", 0) * k1000 if stats else None,
        "guard_events_per_1000": {k: v * k1000 for k, v in stats.get("events", {}).items()},
        "face_share": float(face.mean()),
        "face_frames_tested": int(len(face)),
        "face_share_worst_1000": float(min(per_k_face)),
        "face_share_dffs": float((Fd < sp.face_max).mean()),
        "dffs_median": float(np.median(Fd)),
        "stretches": len(stretches),
        "longest_stretch": int(lens.max()), "median_stretch": float(np.median(lens)),
        "people_per_hour_at_rate": len(stretches) / (n / (a.rate * 3600.0)),
        "returns_within_hour": returns,
        "wander_median_dist_100": float(np.median(np.linalg.norm(E[100:] - E[:-100], axis=1)))
        if n > 100 else None,
        "stall_share": float((change < 0.004).mean()) if len(change) else None,
        "repeat_share": rep / max(n - 32, 1),
        "mean_change": float(change.mean()) if len(change) else None,
        "colour_mean_rgb": colour.mean(0).round(3).tolist(),
        "colour_std_of_frame_means": float(colour.std(0).mean()),
        "colour_range_of_1000_means": float((per_k.max(0) - per_k.min(0)).mean()),
        "ink_median": float(np.median(ink)),
        "tau": tau,
        "tau_returns": tau_same,
    }
    json.dump(res, open(os.path.join(a.out, "life.json"), "w"), indent=1)
    np.savez_compressed(os.path.join(a.out, "series.npz"), emb=E.astype(np.float16), dffs=Fd,
                        change=change, colour=colour, ink=ink, face=face)
    print(json.dumps(res, indent=1))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("cmd", choices=["calibrate", "measure"])
    ap.add_argument("--cache", default="/work/train-runs/life", help="calibration files")
    ap.add_argument("--data", default="/work/shared/data/portraits/artflow")
    ap.add_argument("--train-cache", default="/work/train-runs/cache")
    ap.add_argument("--painter", help="calibrate: ONNX painter for the painted pairs")
    ap.add_argument("--mnemo", default=os.path.join(ROOT, "build", "mnemo"))
    ap.add_argument("--n", type=int, default=200, help="held-out portraits to calibrate on")
    ap.add_argument("--melted", nargs="*", help="calibrate: recordings of a loop that melted")
    ap.add_argument("--face-every", type=int, default=5,
                    help="measure: face test stride (a divisor of 50: every sheet frame is tested)")
    ap.add_argument("--video")
    ap.add_argument("--stats")
    ap.add_argument("--out")
    ap.add_argument("--label", default="")
    ap.add_argument("--rate", type=float, default=8.0, help="loop.rate for per-hour figures")
    a = ap.parse_args()
    calibrate(a) if a.cmd == "calibrate" else measure(a)


if __name__ == "__main__":
    main()

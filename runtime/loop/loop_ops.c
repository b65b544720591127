/* loop_ops.c — warp, perturbation, mixing, conversion and resizing (see loop_ops.h).
 *
 * The per-pixel passes run on every OpenMP thread (the count the engine set) once an
 * image is big enough to pay for waking them; each output is computed exactly as one
 * thread would, so the result does not depend on the thread count. */
#include "loop_ops.h"

#include <math.h>
#include <string.h>

#define DEG_TO_RAD 0.017453292519943295

size_t lo_size(const struct planar *im)
{
    return (size_t)im->channels * (size_t)im->height * (size_t)im->width;
}

static float clampf(float v, float lo, float hi)
{
    return v < lo ? lo : (v > hi ? hi : v);
}

/* One plane's pixel, or the background outside it. */
static float tap(const float *plane, int32_t w, int32_t h, int32_t x, int32_t y, float bg)
{
    return (x < 0 || y < 0 || x >= w || y >= h) ? bg : plane[(size_t)y * (size_t)w + (size_t)x];
}

static float sample_bilinear(const float *plane, int32_t w, int32_t h, float sx, float sy, float bg)
{
    float fx0 = floorf(sx), fy0 = floorf(sy);
    /* Far outside: the background, and no float -> int overflow below. */
    if (fx0 < -2 || fy0 < -2 || fx0 > (float)w || fy0 > (float)h)
        return bg;
    int32_t x0 = (int32_t)fx0, y0 = (int32_t)fy0;
    float fx = sx - fx0, fy = sy - fy0;
    float top = tap(plane, w, h, x0, y0, bg) * (1 - fx) + tap(plane, w, h, x0 + 1, y0, bg) * fx;
    float bottom =
        tap(plane, w, h, x0, y0 + 1, bg) * (1 - fx) + tap(plane, w, h, x0 + 1, y0 + 1, bg) * fx;
    /* At whole coordinates fx = fy = 0 and this is exactly the pixel (identity warp). */
    return top * (1 - fy) + bottom * fy;
}

void lo_warp(const struct planar *in, struct planar *out, const struct warp *w, float background)
{
    int32_t width = in->width, height = in->height;
    float cx = (float)(width - 1) * 0.5f, cy = (float)(height - 1) * 0.5f;
    double angle = (double)w->angle_deg * DEG_TO_RAD;
    float zoom = w->zoom > 0 ? w->zoom : 1;
    /* Inverse map: source = c + R(-angle) (dest - c - shift) / zoom. */
    float c = (float)cos(angle) / zoom, s = (float)sin(angle) / zoom;
    size_t plane = (size_t)width * (size_t)height;
#pragma omp parallel for collapse(2) schedule(static) if (lo_size(in) >= LO_PARALLEL_MIN)
    for (int32_t ch = 0; ch < in->channels; ch++) {
        for (int32_t y = 0; y < height; y++) {
            const float *src = in->data + (size_t)ch * plane;
            float *dst = out->data + (size_t)ch * plane;
            float dy = (float)y - cy - w->shift_y;
            for (int32_t x = 0; x < width; x++) {
                float dx = (float)x - cx - w->shift_x;
                float sx = cx + c * dx - s * dy, sy = cy + s * dx + c * dy;
                dst[(size_t)y * (size_t)width + (size_t)x] =
                    sample_bilinear(src, width, height, sx, sy, background);
            }
        }
    }
}

struct perturb_strength lo_perturb_strength(const struct params *p, float boost)
{
    struct perturb_strength s = {
        .zoom = p->perturb.zoom * boost,
        .rotate = p->perturb.rotate * boost,
        .drift = p->perturb.drift * boost,
        .noise = p->perturb.noise * boost,
        .erase_count = (int32_t)lroundf((float)p->perturb.erase_count * boost),
        .erase_size = p->perturb.erase_size,
    };
    return s;
}

void lo_perturb(const struct planar *in, struct planar *out, const struct perturb_strength *s,
                struct rng *rng)
{
    /* Always four draws, so the warp's randomness does not depend on which are zero. */
    struct warp w;
    w.zoom = 1 + s->zoom * rng_range(rng, -1, 1);
    w.angle_deg = s->rotate * rng_range(rng, -1, 1);
    w.shift_x = s->drift * rng_range(rng, -1, 1);
    w.shift_y = s->drift * rng_range(rng, -1, 1);
    lo_warp(in, out, &w, LO_PAPER);
    lo_add_noise(out, s->noise, rng);
    lo_erase(out, s->erase_count, s->erase_size, rng);
}

/* Pixels per noise block: each block draws from its own PCG stream. */
#define NOISE_BLOCK 4096

void lo_add_noise(struct planar *im, float std, struct rng *rng)
{
    if (!(std > 0))
        return;
    size_t n = lo_size(im), blocks = (n + NOISE_BLOCK - 1) / NOISE_BLOCK;
    /* One 64-bit draw from the loop's stream seeds every block's stream: the noise is
     * reproducible from the loop's rng and the same for any thread count. */
    uint64_t high = rng_u32(rng);
    uint64_t seed = high << 32 | rng_u32(rng);
#pragma omp parallel for schedule(static) if (n >= LO_PARALLEL_MIN)
    for (size_t b = 0; b < blocks; b++) {
        struct rng local;
        rng_seed(&local, seed, b);
        size_t end = (b + 1) * NOISE_BLOCK < n ? (b + 1) * NOISE_BLOCK : n;
        for (size_t i = b * NOISE_BLOCK; i < end; i++)
            im->data[i] = clampf(im->data[i] + std * rng_normal(&local), LO_INK, LO_PAPER);
    }
}

static void fill_rect(struct planar *im, int32_t x0, int32_t y0, int32_t side, float v)
{
    size_t plane = (size_t)im->width * (size_t)im->height;
    for (int32_t ch = 0; ch < im->channels; ch++) {
        for (int32_t y = y0; y < y0 + side; y++) {
            float *row = im->data + (size_t)ch * plane + (size_t)y * (size_t)im->width;
            for (int32_t x = x0; x < x0 + side; x++)
                row[x] = v;
        }
    }
}

void lo_erase(struct planar *im, int32_t count, float size, struct rng *rng)
{
    int32_t shorter = im->width < im->height ? im->width : im->height;
    int32_t side = (int32_t)lroundf(clampf(size, 0, 1) * (float)shorter);
    if (count <= 0 || !(size > 0))
        return;
    side = side < 1 ? 1 : side;
    for (int32_t k = 0; k < count; k++) {
        int32_t x0 = (int32_t)rng_below(rng, (uint32_t)(im->width - side + 1));
        int32_t y0 = (int32_t)rng_below(rng, (uint32_t)(im->height - side + 1));
        fill_rect(im, x0, y0, side, LO_PAPER);
    }
}

void lo_blend(const float *fresh, const float *prev, float a, float *out, size_t n)
{
    float b = 1 - a;
#pragma omp parallel for schedule(static) if (n >= LO_PARALLEL_MIN)
    for (size_t i = 0; i < n; i++)
        out[i] = b * fresh[i] + a * prev[i];
}

void lo_rgb_to_gray(const struct planar *rgb, struct planar *gray)
{
    size_t plane = (size_t)rgb->width * (size_t)rgb->height;
    const float *r = rgb->data, *g = r + plane, *b = g + plane;
    for (size_t i = 0; i < plane; i++)
        gray->data[i] = 0.299f * r[i] + 0.587f * g[i] + 0.114f * b[i];
}

void lo_gray_to_rgb(const struct planar *gray, struct planar *rgb)
{
    size_t plane = (size_t)gray->width * (size_t)gray->height;
    for (int c = 0; c < 3; c++)
        memcpy(rgb->data + (size_t)c * plane, gray->data, plane * sizeof(float));
}

void lo_map_range(float *data, size_t n, struct value_range from, struct value_range to)
{
    float scale = (to.hi - to.lo) / (from.hi - from.lo);
    for (size_t i = 0; i < n; i++)
        data[i] = to.lo + (data[i] - from.lo) * scale;
}

/* ---- resize: per output index, which source indices with which weights ---------------- */

struct taps {
    int32_t first, last; /* source index range */
    float a, b;          /* shrinking: the source interval [a, b) this output averages */
    float frac;          /* growing: weight of `last` (bilinear) */
    int grow;
};

static struct taps axis_taps(int32_t i, int32_t in_n, int32_t out_n)
{
    struct taps t = {0};
    float scale = (float)in_n / (float)out_n;
    if (out_n > in_n) {
        float centre = ((float)i + 0.5f) * scale - 0.5f;
        float f0 = floorf(centre);
        t.grow = 1;
        t.frac = centre - f0;
        t.first = f0 < 0 ? 0 : (int32_t)f0;
        t.last = (int32_t)f0 + 1 > in_n - 1 ? in_n - 1 : (int32_t)f0 + 1;
        t.first = t.first > in_n - 1 ? in_n - 1 : t.first;
        return t;
    }
    t.a = (float)i * scale;
    t.b = (float)(i + 1) * scale;
    t.first = (int32_t)floorf(t.a);
    t.last = (int32_t)ceilf(t.b) - 1;
    t.last = t.last > in_n - 1 ? in_n - 1 : t.last;
    return t;
}

static float tap_weight(const struct taps *t, int32_t j)
{
    if (t->grow) {
        if (t->first == t->last)
            return 1;
        return j == t->first ? 1 - t->frac : t->frac;
    }
    float lo = (float)j > t->a ? (float)j : t->a;
    float hi = (float)(j + 1) < t->b ? (float)(j + 1) : t->b;
    return (hi - lo) / (t->b - t->a);
}

static float resample(const float *plane, int32_t in_w, const struct taps *ty,
                      const struct taps *tx)
{
    float sum = 0;
    for (int32_t j = ty->first; j <= ty->last; j++) {
        const float *row = plane + (size_t)j * (size_t)in_w;
        float rsum = 0;
        for (int32_t k = tx->first; k <= tx->last; k++)
            rsum += tap_weight(tx, k) * row[k];
        sum += tap_weight(ty, j) * rsum;
    }
    return sum;
}

void lo_resize(const struct planar *in, struct planar *out)
{
    if (in->width == out->width && in->height == out->height) {
        memcpy(out->data, in->data, lo_size(in) * sizeof(float));
        return;
    }
    size_t in_plane = (size_t)in->width * (size_t)in->height;
    size_t out_plane = (size_t)out->width * (size_t)out->height;
#pragma omp parallel for collapse(2) schedule(static) if (lo_size(out) >= LO_PARALLEL_MIN)
    for (int32_t ch = 0; ch < out->channels; ch++) {
        for (int32_t y = 0; y < out->height; y++) {
            const float *src = in->data + (size_t)ch * in_plane;
            float *dst = out->data + (size_t)ch * out_plane;
            struct taps ty = axis_taps(y, in->height, out->height);
            for (int32_t x = 0; x < out->width; x++) {
                struct taps tx = axis_taps(x, in->width, out->width);
                dst[(size_t)y * (size_t)out->width + (size_t)x] =
                    resample(src, in->width, &ty, &tx);
            }
        }
    }
}

/* loop_simplify.c — blur, threshold and thinning that keep the sketch a clean line drawing
 * (see loop_ops.h). */
#include "loop_ops.h"

#include <math.h>
#include <string.h>

#define BLUR_SIGMA_MAX  8.0f
#define BLUR_RADIUS_MAX 24 /* ceil(3 * BLUR_SIGMA_MAX) */

struct simplify_opts lo_simplify_opts(const struct params *p)
{
    struct simplify_opts o = {
        .blur = p->simplify.blur,
        .threshold = p->simplify.threshold,
        .softness = p->simplify.softness,
        .thin = p->simplify.thin,
    };
    return o;
}

/* Half-sample mirror (... 1 0 | 0 1 2 ... n-1 | n-1 n-2 ...), folded for any i. The
 * mirrored signal convolved with a symmetric kernel keeps its sum, so blur keeps the mean. */
static int32_t mirror(int32_t i, int32_t n)
{
    int32_t period = 2 * n;
    i %= period;
    i = i < 0 ? i + period : i;
    return i < n ? i : period - 1 - i;
}

static int32_t gaussian_kernel(float sigma, float *k)
{
    int32_t r = (int32_t)ceilf(3 * sigma);
    r = r > BLUR_RADIUS_MAX ? BLUR_RADIUS_MAX : (r < 1 ? 1 : r);
    float sum = 0;
    for (int32_t i = -r; i <= r; i++) {
        k[i + r] = expf(-(float)(i * i) / (2 * sigma * sigma));
        sum += k[i + r];
    }
    for (int32_t i = 0; i <= 2 * r; i++)
        k[i] /= sum;
    return r;
}

/* The blur's two 1-D passes: dst = sum over j of k[j] * src at mirror(i + j - r). Each
 * output's terms are added in the same order (j up) in both, and the loops run over whole
 * rows so that they vectorise and split across threads; only the edges need the mirror. */

/* Along each row (n = width), one row per line. */
static void blur_rows(const float *src, float *dst, int32_t n, int32_t lines, const float *k,
                      int32_t r)
{
#pragma omp parallel for schedule(static) if ((size_t)n * (size_t)lines >= LO_PARALLEL_MIN)
    for (int32_t line = 0; line < lines; line++) {
        const float *s = src + (size_t)line * (size_t)n;
        float *d = dst + (size_t)line * (size_t)n;
        for (int32_t i = 0; i < n; i++)
            d[i] = 0;
        for (int32_t j = 0; j <= 2 * r; j++)
            for (int32_t i = r; i < n - r; i++)
                d[i] += k[j] * s[i - r + j];
        for (int32_t i = 0; i < n; i++) {
            if (i >= r && i + r < n)
                continue;
            float sum = 0;
            for (int32_t j = -r; j <= r; j++)
                sum += k[j + r] * s[mirror(i + j, n)];
            d[i] = sum;
        }
    }
}

/* Along each column (n = height): output row y is a weighted sum of 2r + 1 input rows. */
static void blur_columns(const float *src, float *dst, int32_t w, int32_t n, const float *k,
                         int32_t r)
{
#pragma omp parallel for schedule(static) if ((size_t)w * (size_t)n >= LO_PARALLEL_MIN)
    for (int32_t y = 0; y < n; y++) {
        float *d = dst + (size_t)y * (size_t)w;
        for (int32_t x = 0; x < w; x++)
            d[x] = 0;
        for (int32_t j = -r; j <= r; j++) {
            const float *s = src + (size_t)mirror(y + j, n) * (size_t)w;
            for (int32_t x = 0; x < w; x++)
                d[x] += k[j + r] * s[x];
        }
    }
}

void lo_blur(struct planar *im, float sigma, float *scratch)
{
    if (!(sigma > 0))
        return;
    float k[2 * BLUR_RADIUS_MAX + 1];
    int32_t r = gaussian_kernel(sigma < BLUR_SIGMA_MAX ? sigma : BLUR_SIGMA_MAX, k);
    size_t plane = (size_t)im->width * (size_t)im->height;
    for (int32_t ch = 0; ch < im->channels; ch++) {
        float *data = im->data + (size_t)ch * plane;
        blur_rows(data, scratch, im->width, im->height, k, r);
        blur_columns(scratch, data, im->width, im->height, k, r);
    }
}

void lo_threshold(struct planar *im, float threshold, float softness)
{
    size_t n = lo_size(im);
    if (!(softness > 0)) {
        for (size_t i = 0; i < n; i++)
            im->data[i] = im->data[i] < threshold ? LO_INK : LO_PAPER;
        return;
    }
    for (size_t i = 0; i < n; i++) {
        float x = (im->data[i] - threshold) / softness;
        x = x < -1 ? -1 : (x > 1 ? 1 : x);
        /* A smooth cubic step: flat at both ends, so near-white stays white. */
        im->data[i] = 0.5f * x * (3 - x * x);
    }
}

/* ---- thinning (Zhang & Suen 1984) on the ink of one plane --------------------------- */

static int ink_at(const float *p, int32_t w, int32_t h, int32_t x, int32_t y)
{
    return x >= 0 && y >= 0 && x < w && y < h && p[(size_t)y * (size_t)w + (size_t)x] < 0;
}

/* Whether the ink pixel at (x, y) is a removable border pixel in this sub-iteration. */
static int zs_removable(const float *p, int32_t w, int32_t h, int32_t x, int32_t y, int second)
{
    /* Neighbours P2..P9 clockwise from north. */
    static const int8_t dx[8] = {0, 1, 1, 1, 0, -1, -1, -1};
    static const int8_t dy[8] = {-1, -1, 0, 1, 1, 1, 0, -1};
    int n[8], count = 0, transitions = 0;
    for (int i = 0; i < 8; i++) {
        n[i] = ink_at(p, w, h, x + dx[i], y + dy[i]);
        count += n[i];
    }
    for (int i = 0; i < 8; i++)
        transitions += !n[i] && n[(i + 1) % 8];
    if (count < 2 || count > 6 || transitions != 1)
        return 0;
    /* n[0] = P2 (N), n[2] = P4 (E), n[4] = P6 (S), n[6] = P8 (W). */
    if (!second)
        return !(n[0] && n[2] && n[4]) && !(n[2] && n[4] && n[6]);
    return !(n[0] && n[2] && n[6]) && !(n[0] && n[4] && n[6]);
}

static int zs_subiteration(float *p, int32_t w, int32_t h, int second, float *marks)
{
    int removed = 0;
    for (int32_t y = 0; y < h; y++)
        for (int32_t x = 0; x < w; x++)
            marks[(size_t)y * (size_t)w + (size_t)x] =
                (float)(ink_at(p, w, h, x, y) && zs_removable(p, w, h, x, y, second));
    for (size_t i = 0; i < (size_t)w * (size_t)h; i++) {
        if (marks[i] != 0) {
            p[i] = LO_PAPER;
            removed++;
        }
    }
    return removed;
}

void lo_thin(struct planar *im, int32_t passes, float *scratch)
{
    size_t plane = (size_t)im->width * (size_t)im->height;
    for (int32_t ch = 0; ch < im->channels; ch++) {
        float *p = im->data + (size_t)ch * plane;
        for (int32_t pass = 0; pass < passes; pass++) {
            int removed = zs_subiteration(p, im->width, im->height, 0, scratch);
            removed += zs_subiteration(p, im->width, im->height, 1, scratch);
            if (!removed)
                break; /* already one pixel wide */
        }
    }
}

void lo_simplify(struct planar *sketch, const struct simplify_opts *o, float *scratch)
{
    lo_blur(sketch, o->blur, scratch);
    lo_threshold(sketch, o->threshold, o->softness);
    lo_thin(sketch, o->thin, scratch);
}

/* loop_metrics.c — measures of one iteration for the guard (see loop_ops.h). */
#include "loop_ops.h"

#include <math.h>

#define HASH_SIDE 32
#define HASH_FREQ 8

float lo_mean_abs_change(const float *a, const float *b, size_t n)
{
    double sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += fabsf(a[i] - b[i]);
    return n ? (float)(sum / (double)n) : 0;
}

static double plane_mean(const float *p, size_t n)
{
    double sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += p[i];
    return sum / (double)n;
}

static double plane_variance(const float *p, size_t n)
{
    double mean = plane_mean(p, n), sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += ((double)p[i] - mean) * ((double)p[i] - mean);
    return sum / (double)n;
}

float lo_variance(const struct planar *im)
{
    size_t plane = (size_t)im->width * (size_t)im->height;
    double sum = 0;
    for (int32_t ch = 0; ch < im->channels; ch++)
        sum += plane_variance(im->data + (size_t)ch * plane, plane);
    return im->channels ? (float)(sum / im->channels) : 0;
}

/* Mean squared (pixel - mean of its 4 neighbours) over the interior. */
static double plane_detail(const float *p, int32_t w, int32_t h)
{
    double sum = 0;
    for (int32_t y = 1; y < h - 1; y++) {
        const float *row = p + (size_t)y * (size_t)w;
        for (int32_t x = 1; x < w - 1; x++) {
            double around = 0.25 * ((double)row[x - 1] + row[x + 1] + row[x - w] + row[x + w]);
            sum += (row[x] - around) * (row[x] - around);
        }
    }
    double count = (double)(w - 2) * (double)(h - 2);
    return count > 0 ? sum / count : 0;
}

float lo_hf_ratio(const struct planar *im)
{
    size_t plane = (size_t)im->width * (size_t)im->height;
    double sum = 0;
    for (int32_t ch = 0; ch < im->channels; ch++) {
        const float *p = im->data + (size_t)ch * plane;
        double var = plane_variance(p, plane);
        /* A flat field has no structure to be noisy: 0, not 0/0. */
        sum += var > 1e-9 ? plane_detail(p, im->width, im->height) / var : 0;
    }
    return im->channels ? (float)(sum / im->channels) : 0;
}

float lo_saturation(const struct planar *im, float level)
{
    size_t n = lo_size(im), high = 0, low = 0;
    for (size_t i = 0; i < n; i++) {
        high += im->data[i] >= level;
        low += im->data[i] <= -level;
    }
    /* Both ends: a white background alone is a picture, black and white static is not. */
    size_t fewer = high < low ? high : low;
    return n ? 2 * (float)fewer / (float)n : 0;
}

float lo_ink_fraction(const struct planar *sketch, float threshold)
{
    size_t n = (size_t)sketch->width * (size_t)sketch->height, count = 0;
    for (size_t i = 0; i < n; i++)
        count += sketch->data[i] < threshold;
    return n ? (float)count / (float)n : 0;
}

void lo_ink_spread(const struct planar *sketch, float *spread_x, float *spread_y)
{
    double n = 0, sx = 0, sy = 0, sxx = 0, syy = 0;
    for (int32_t y = 0; y < sketch->height; y++)
        for (int32_t x = 0; x < sketch->width; x++) {
            if (!(sketch->data[(size_t)y * sketch->width + x] < 0))
                continue;
            n++;
            sx += x;
            sy += y;
            sxx += (double)x * x;
            syy += (double)y * y;
        }
    if (n < 1) {
        *spread_x = *spread_y = 0;
        return;
    }
    double vx = sxx / n - (sx / n) * (sx / n), vy = syy / n - (sy / n) * (sy / n);
    *spread_x = (float)(sqrt(vx > 0 ? vx : 0) / sketch->width);
    *spread_y = (float)(sqrt(vy > 0 ? vy : 0) / sketch->height);
}

/* Luma of im area-averaged to HASH_SIDE x HASH_SIDE, on the stack. */
static void hash_luma(const struct planar *im, float *luma)
{
    float small[3 * HASH_SIDE * HASH_SIDE];
    int32_t channels = im->channels >= 3 ? 3 : 1;
    struct planar in = {channels, im->height, im->width, im->data};
    struct planar out = {channels, HASH_SIDE, HASH_SIDE, small};
    lo_resize(&in, &out);
    struct planar gray = {1, HASH_SIDE, HASH_SIDE, luma};
    if (channels == 3)
        lo_rgb_to_gray(&out, &gray);
    else
        for (int i = 0; i < HASH_SIDE * HASH_SIDE; i++)
            luma[i] = small[i];
}

/* The HASH_FREQ lowest DCT-II frequencies of each row, then of each column of those. */
static void low_dct(const float *luma, float *coef)
{
    float basis[HASH_FREQ][HASH_SIDE], rows[HASH_SIDE][HASH_FREQ];
    for (int k = 0; k < HASH_FREQ; k++)
        for (int n = 0; n < HASH_SIDE; n++)
            basis[k][n] = cosf(3.14159265f / HASH_SIDE * ((float)n + 0.5f) * (float)k);
    for (int y = 0; y < HASH_SIDE; y++)
        for (int k = 0; k < HASH_FREQ; k++) {
            float s = 0;
            for (int n = 0; n < HASH_SIDE; n++)
                s += basis[k][n] * luma[y * HASH_SIDE + n];
            rows[y][k] = s;
        }
    for (int ky = 0; ky < HASH_FREQ; ky++)
        for (int kx = 0; kx < HASH_FREQ; kx++) {
            float s = 0;
            for (int y = 0; y < HASH_SIDE; y++)
                s += basis[ky][y] * rows[y][kx];
            coef[ky * HASH_FREQ + kx] = s;
        }
}

static float median(const float *v, int n)
{
    float s[HASH_FREQ * HASH_FREQ];
    for (int i = 0; i < n; i++) {
        int j = i;
        for (; j > 0 && s[j - 1] > v[i]; j--)
            s[j] = s[j - 1];
        s[j] = v[i];
    }
    return n % 2 ? s[n / 2] : 0.5f * (s[n / 2 - 1] + s[n / 2]);
}

uint64_t lo_phash(const struct planar *im)
{
    float luma[HASH_SIDE * HASH_SIDE], coef[HASH_FREQ * HASH_FREQ];
    hash_luma(im, luma);
    low_dct(luma, coef);
    /* The DC term only says how bright the picture is: left out (bit 0 stays 0). */
    float mid = median(coef + 1, HASH_FREQ * HASH_FREQ - 1);
    uint64_t hash = 0;
    for (int i = 1; i < HASH_FREQ * HASH_FREQ; i++)
        hash |= (uint64_t)(coef[i] > mid) << i;
    return hash;
}

int lo_hamming(uint64_t a, uint64_t b)
{
    return __builtin_popcountll(a ^ b);
}

void lo_measure(const struct planar *portrait, const struct planar *prev,
                const struct planar *sketch, struct lo_metrics *m)
{
    m->change = prev ? lo_mean_abs_change(portrait->data, prev->data, lo_size(portrait)) : 1;
    m->variance = lo_variance(portrait);
    m->hf_ratio = lo_hf_ratio(portrait);
    m->saturation = lo_saturation(portrait, LO_EXTREME_LEVEL);
    m->ink = sketch ? lo_ink_fraction(sketch, 0) : 1;
    m->ink_spread_x = m->ink_spread_y = 1; /* no sketch: nothing to call shapeless */
    if (sketch)
        lo_ink_spread(sketch, &m->ink_spread_x, &m->ink_spread_y);
    m->hash = lo_phash(portrait);
}

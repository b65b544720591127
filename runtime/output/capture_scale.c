/* capture_scale.c — the recording upscaler and the side-by-side layout (see capture.h).
 *
 * Separable resampling with weights computed once at open: for every visible output
 * column (then row) a fixed number of taps, each a clamped source index and a weight,
 * normalised to sum 1 so a flat field stays exactly flat. Rows are resampled first into
 * a float scratch image (channels x src_height x visible width), then columns, which
 * also maps the value range to 8 bits and interleaves to RGB24. */
#include "capture.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* One axis of the resampling: output positions [start, start + count) of the
 * destination are covered by content; the rest is letterbox. */
struct axis {
    int32_t start, count, taps;
    int32_t *index; /* count x taps source positions, clamped to the edge */
    float *weight;  /* count x taps */
};

struct scaler {
    struct scaler_config cfg;
    struct axis x, y;
    float *rows; /* channels x src_height x x.count, after the row pass */
    float *acc;  /* channels x x.count, one output row being summed */
};

/* ---- kernels ------------------------------------------------------------------------- */

static double catmull_rom(double t)
{
    t = fabs(t);
    if (t < 1.0)
        return (1.5 * t - 2.5) * t * t + 1.0;
    if (t < 2.0)
        return ((-0.5 * t + 2.5) * t - 4.0) * t + 2.0;
    return 0.0;
}

static double sinc(double t)
{
    if (fabs(t) < 1e-9)
        return 1.0;
    double a = 3.14159265358979323846 * t;
    return sin(a) / a;
}

static double lanczos3(double t)
{
    return fabs(t) < 3.0 ? sinc(t) * sinc(t / 3.0) : 0.0;
}

static double kernel_support(enum scale_filter f)
{
    return f == SCALE_FILTER_LANCZOS3 ? 3.0 : 2.0;
}

static double kernel_at(enum scale_filter f, double t)
{
    return f == SCALE_FILTER_LANCZOS3 ? lanczos3(t) : catmull_rom(t);
}

/* ---- weights ------------------------------------------------------------------------- */

static int32_t clamp_i(int32_t v, int32_t lo, int32_t hi)
{
    return v < lo ? lo : (v > hi ? hi : v);
}

/* Taps of one output position whose center falls at `center` in source pixels. `widen`
 * stretches the kernel when shrinking so every source pixel contributes (antialiasing). */
static void axis_fill_taps(struct axis *a, int32_t i, double center, double widen, int32_t src_n,
                           enum scale_filter f)
{
    double support = kernel_support(f) * widen;
    int32_t first = (int32_t)floor(center - support) + 1;
    int32_t *index = a->index + (size_t)i * a->taps;
    float *weight = a->weight + (size_t)i * a->taps;
    double w[64], sum = 0.0;
    for (int32_t t = 0; t < a->taps; t++) {
        w[t] = kernel_at(f, (first + t - center) / widen);
        sum += w[t];
        index[t] = clamp_i(first + t, 0, src_n - 1);
    }
    for (int32_t t = 0; t < a->taps; t++)
        weight[t] = (float)(w[t] / sum);
}

/* Content of src_n pixels shown as content_n destination pixels, centered in dst_n
 * (content_n > dst_n: cropped on both sides). */
static int axis_make(struct axis *a, int32_t src_n, int32_t dst_n, int32_t content_n,
                     enum scale_filter f)
{
    int32_t offset = (dst_n - content_n) / 2;
    a->start = offset > 0 ? offset : 0;
    int32_t end = offset + content_n < dst_n ? offset + content_n : dst_n;
    a->count = end - a->start;
    double step = (double)src_n / content_n; /* source pixels per output pixel */
    double widen = step > 1.0 ? step : 1.0;
    a->taps = 2 * (int32_t)ceil(kernel_support(f) * widen) + 1;
    if (a->taps > 64)
        return -1;
    a->index = malloc((size_t)a->count * a->taps * sizeof *a->index);
    a->weight = malloc((size_t)a->count * a->taps * sizeof *a->weight);
    if (!a->index || !a->weight)
        return -1;
    for (int32_t i = 0; i < a->count; i++) {
        double center = (a->start + i - offset + 0.5) * step - 0.5;
        axis_fill_taps(a, i, center, widen, src_n, f);
    }
    return 0;
}

/* ---- open / close -------------------------------------------------------------------- */

static int config_check(const struct scaler_config *cfg, struct error *err)
{
    if (cfg->src_width <= 0 || cfg->src_height <= 0 || cfg->dst_width <= 0 || cfg->dst_height <= 0)
        return error_set(err, "cannot scale %dx%d to %dx%d: sizes must be positive", cfg->src_width,
                         cfg->src_height, cfg->dst_width, cfg->dst_height);
    if (cfg->src_channels != 1 && cfg->src_channels != 3)
        return error_set(err, "cannot scale an image of %d channels: 1 (gray) or 3 (RGB)",
                         cfg->src_channels);
    if (!(cfg->range.hi > cfg->range.lo))
        return error_set(err, "cannot scale values in [%g,%g]: the range is empty", cfg->range.lo,
                         cfg->range.hi);
    /* Shrinking more than ~10x would need kernels wider than the tap table. */
    if (cfg->src_width > 8 * cfg->dst_width || cfg->src_height > 8 * cfg->dst_height)
        return error_set(err, "cannot scale %dx%d down to %dx%d: at most 8x smaller",
                         cfg->src_width, cfg->src_height, cfg->dst_width, cfg->dst_height);
    return 0;
}

/* Content size in the destination: the source scaled by one factor on both axes, the
 * smaller (whole picture visible) or the larger (destination filled). */
static void content_size(const struct scaler_config *cfg, int32_t *w, int32_t *h)
{
    double sx = (double)cfg->dst_width / cfg->src_width;
    double sy = (double)cfg->dst_height / cfg->src_height;
    double s = cfg->fit == SCALE_FIT_CROP ? fmax(sx, sy) : fmin(sx, sy);
    *w = (int32_t)lround(cfg->src_width * s);
    *h = (int32_t)lround(cfg->src_height * s);
    *w = *w < 1 ? 1 : *w;
    *h = *h < 1 ? 1 : *h;
}

struct scaler *scaler_open(const struct scaler_config *cfg, struct error *err)
{
    if (config_check(cfg, err))
        return NULL;
    struct scaler *s = calloc(1, sizeof *s);
    if (!s) {
        error_set(err, "out of memory making the capture scaler");
        return NULL;
    }
    s->cfg = *cfg;
    int32_t cw, ch;
    content_size(cfg, &cw, &ch);
    int rc = axis_make(&s->x, cfg->src_width, cfg->dst_width, cw, cfg->filter);
    rc = rc ? rc : axis_make(&s->y, cfg->src_height, cfg->dst_height, ch, cfg->filter);
    size_t plane = (size_t)cfg->src_height * (size_t)s->x.count;
    if (!rc) {
        s->rows = malloc((size_t)cfg->src_channels * plane * sizeof *s->rows);
        s->acc = malloc((size_t)cfg->src_channels * (size_t)s->x.count * sizeof *s->acc);
    }
    if (rc || !s->rows || !s->acc) {
        scaler_close(s);
        error_set(err, "out of memory making the capture scaler (%dx%d to %dx%d)", cfg->src_width,
                  cfg->src_height, cfg->dst_width, cfg->dst_height);
        return NULL;
    }
    return s;
}

void scaler_close(struct scaler *s)
{
    if (!s)
        return;
    free(s->x.index);
    free(s->x.weight);
    free(s->y.index);
    free(s->y.weight);
    free(s->rows);
    free(s->acc);
    free(s);
}

struct fit_box scaler_content_box(const struct scaler *s)
{
    return (struct fit_box){s->x.start, s->y.start, s->x.count, s->y.count};
}

/* ---- run ----------------------------------------------------------------------------- */

static void row_pass(struct scaler *s, const float *src)
{
    const struct axis *a = &s->x;
    int32_t planes = s->cfg.src_channels * s->cfg.src_height;
    for (int32_t r = 0; r < planes; r++) {
        const float *in = src + (size_t)r * s->cfg.src_width;
        float *out = s->rows + (size_t)r * a->count;
        for (int32_t i = 0; i < a->count; i++) {
            const int32_t *index = a->index + (size_t)i * a->taps;
            const float *weight = a->weight + (size_t)i * a->taps;
            float sum = 0.0f;
            for (int32_t t = 0; t < a->taps; t++)
                sum += in[index[t]] * weight[t];
            out[i] = sum;
        }
    }
}

/* Sums the taps of output row `i` into s->acc, channel by channel. */
static void column_pass_row(struct scaler *s, int32_t i)
{
    const struct axis *a = &s->y;
    int32_t w = s->x.count;
    const int32_t *index = a->index + (size_t)i * a->taps;
    const float *weight = a->weight + (size_t)i * a->taps;
    for (int32_t c = 0; c < s->cfg.src_channels; c++) {
        float *restrict acc = s->acc + (size_t)c * w;
        memset(acc, 0, (size_t)w * sizeof *acc);
        const float *plane = s->rows + (size_t)c * s->cfg.src_height * w;
        for (int32_t t = 0; t < a->taps; t++) {
            const float *restrict in = plane + (size_t)index[t] * w;
            const float wt = weight[t];
            for (int32_t x = 0; x < w; x++)
                acc[x] += in[x] * wt;
        }
    }
}

/* Selects rather than branches, so the row vectorises (max/min instructions); a NaN
 * fails the first comparison and becomes 0. */
static uint8_t to_byte(float v, float lo, float scale)
{
    float b = (v - lo) * scale + 0.5f;
    b = b > 0.0f ? b : 0.0f;
    b = b < 255.0f ? b : 255.0f;
    return (uint8_t)(int32_t)b;
}

/* s->acc as RGB24 into out (the content part of a destination row). */
static void emit_row(const struct scaler *s, uint8_t *out)
{
    int32_t w = s->x.count;
    float lo = s->cfg.range.lo, scale = 255.0f / (s->cfg.range.hi - s->cfg.range.lo);
    int32_t green = s->cfg.src_channels == 3 ? 1 : 0, blue = s->cfg.src_channels == 3 ? 2 : 0;
    const float *r = s->acc, *g = s->acc + (size_t)green * w, *b = s->acc + (size_t)blue * w;
    for (int32_t x = 0; x < w; x++) {
        out[3 * x + 0] = to_byte(r[x], lo, scale);
        out[3 * x + 1] = to_byte(g[x], lo, scale);
        out[3 * x + 2] = to_byte(b[x], lo, scale);
    }
}

void scaler_run(struct scaler *s, const float *src, uint8_t *dst, size_t dst_stride)
{
    row_pass(s, src);
    size_t row_bytes = (size_t)s->cfg.dst_width * 3;
    size_t left = (size_t)s->x.start * 3, content = (size_t)s->x.count * 3;
    for (int32_t y = 0; y < s->cfg.dst_height; y++) {
        uint8_t *row = dst + (size_t)y * dst_stride;
        int32_t i = y - s->y.start;
        if (i < 0 || i >= s->y.count) {
            memset(row, 0, row_bytes);
            continue;
        }
        memset(row, 0, left);
        memset(row + left + content, 0, row_bytes - left - content);
        column_pass_row(s, i);
        emit_row(s, row + left);
    }
}

/* ---- side by side -------------------------------------------------------------------- */

struct side_by_side {
    struct scaler *left, *right;
    int32_t width, height;
};

struct side_by_side *side_by_side_open(const struct scaler_config *portrait,
                                       const struct scaler_config *sketch, int32_t frame_width,
                                       int32_t frame_height, struct error *err)
{
    if (frame_width < 2 || frame_height < 1) {
        error_set(err, "cannot lay out a %dx%d side-by-side frame: at least 2x1", frame_width,
                  frame_height);
        return NULL;
    }
    struct side_by_side *sbs = calloc(1, sizeof *sbs);
    if (!sbs) {
        error_set(err, "out of memory making the side-by-side layout");
        return NULL;
    }
    struct scaler_config l = *portrait, r = *sketch;
    l.dst_width = frame_width / 2;
    r.dst_width = frame_width - l.dst_width;
    l.dst_height = r.dst_height = frame_height;
    sbs->width = frame_width;
    sbs->height = frame_height;
    sbs->left = scaler_open(&l, err);
    sbs->right = sbs->left ? scaler_open(&r, err) : NULL;
    if (!sbs->right) {
        error_prefix(err, "side-by-side %s", sbs->left ? "sketch" : "portrait");
        side_by_side_close(sbs);
        return NULL;
    }
    return sbs;
}

void side_by_side_run(struct side_by_side *sbs, const float *portrait, const float *sketch,
                      uint8_t *frame)
{
    size_t stride = (size_t)sbs->width * 3;
    scaler_run(sbs->left, portrait, frame, stride);
    scaler_run(sbs->right, sketch, frame + (size_t)(sbs->width / 2) * 3, stride);
}

void side_by_side_close(struct side_by_side *sbs)
{
    if (!sbs)
        return;
    scaler_close(sbs->left);
    scaler_close(sbs->right);
    free(sbs);
}

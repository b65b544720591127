/* loop_model.c — see loop_model.h. */
#include "loop_model.h"

#include "onnx.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct value_range canonical = {-1.0f, 1.0f};

static bool is_image(const struct shape *s)
{
    return s->rank == 4 && s->dim[0] == 1 && (s->dim[1] == 1 || s->dim[1] == 3) && s->dim[2] > 0 &&
           s->dim[3] > 0;
}

static int shapes_take(struct loop_model *m, struct error *err)
{
    const struct shape *in = &m->graph.values[m->graph.input].shape;
    const struct shape *out = &m->graph.values[m->graph.output].shape;
    char a[64], b[64];
    if (!is_image(in) || !is_image(out))
        return error_set(err,
                         "%s '%s' takes %s and gives %s: a %s must take and give one image "
                         "(1x1xHxW or 1x3xHxW); export it with batch 1",
                         m->role, m->path, shape_str(in, a, sizeof a), shape_str(out, b, sizeof b),
                         m->role);
    m->in_c = (int32_t)in->dim[1];
    m->in_h = (int32_t)in->dim[2];
    m->in_w = (int32_t)in->dim[3];
    m->out_c = (int32_t)out->dim[1];
    m->out_h = (int32_t)out->dim[2];
    m->out_w = (int32_t)out->dim[3];
    m->in_range = graph_value_range(&m->graph, "input_range");
    m->out_range = graph_value_range(&m->graph, "output_range");
    return 0;
}

static int buffers_make(struct loop_model *m, struct error *err)
{
    size_t in = (size_t)m->in_c * m->in_h * m->in_w, out = (size_t)m->out_c * m->out_h * m->out_w;
    m->input = calloc(in, sizeof(float));
    m->output = calloc(out, sizeof(float));
    m->work = calloc((size_t)3 * m->size * m->size, sizeof(float));
    if (!m->input || !m->output || !m->work)
        return error_set(err, "out of memory for the %s's buffers", m->role);
    return 0;
}

int loop_model_open(struct loop_model *m, const char *role, const char *path, int32_t size,
                    const char *backend, const struct backend_options *opt, struct error *err)
{
    memset(m, 0, sizeof *m);
    m->role = role;
    m->size = size;
    snprintf(m->path, sizeof m->path, "%s", path);
    struct onnx_options load = {.height = size, .width = size, .size_is_hint = true};
    if (onnx_load(&m->graph, path, &load, err)) {
        error_prefix(err, "loop.%s", role);
        return -1;
    }
    if (shapes_take(m, err) || buffers_make(m, err))
        goto fail;
    m->backend = backend_open(&m->graph, backend, opt, err);
    if (!m->backend) {
        error_prefix(err, "loop.%s %s", role, path);
        goto fail;
    }
    return 0;
fail:
    loop_model_close(m);
    return -1;
}

void loop_model_close(struct loop_model *m)
{
    backend_close(m->backend);
    m->backend = NULL;
    graph_free(&m->graph);
    free(m->input);
    free(m->output);
    free(m->work);
    m->input = m->output = m->work = NULL;
}

void loop_model_feed(struct loop_model *m, const float *image, int32_t channels)
{
    int64_t plane = (int64_t)m->size * m->size;
    const float *src = image;
    if (channels != m->in_c) {
        planar_channels_convert(image, channels, m->work, m->in_c, plane);
        src = m->work;
    }
    int64_t count = (int64_t)m->in_c * m->in_h * m->in_w;
    if (m->in_h == m->size && m->in_w == m->size)
        memcpy(m->input, src, (size_t)count * sizeof(float));
    else
        planar_resize_bilinear(src, m->in_c, m->size, m->size, m->input, m->in_h, m->in_w);
    planar_range_map(m->input, count, canonical, m->in_range);
}

int loop_model_run(struct loop_model *m, struct error *err)
{
    if (backend_run(m->backend, m->input, m->output, err)) {
        error_prefix(err, "%s", m->role);
        return -1;
    }
    return 0;
}

/* Canonical images stay in [-1,1] whatever a model returns: a model that overshoots (or
 * returns NaN, which would poison the loop for good) gives clipped paint, not a loop that
 * feeds ever larger values back into itself. NaN becomes mid gray. */
static void canonical_clamp(float *x, int64_t count)
{
    for (int64_t i = 0; i < count; i++)
        x[i] = x[i] != x[i] ? 0.0f : x[i] < -1.0f ? -1.0f : x[i] > 1.0f ? 1.0f : x[i];
}

void loop_model_take(struct loop_model *m, float *image, int32_t channels)
{
    int64_t plane = (int64_t)m->size * m->size;
    int64_t out_count = (int64_t)m->out_c * m->out_h * m->out_w;
    planar_range_map(m->output, out_count, m->out_range, canonical);
    canonical_clamp(m->output, out_count);
    const float *src = m->output;
    if (m->out_h != m->size || m->out_w != m->size) {
        float *dst = channels == m->out_c ? image : m->work;
        planar_resize_bilinear(m->output, m->out_c, m->out_h, m->out_w, dst, m->size, m->size);
        if (dst == image)
            return;
        src = m->work;
    }
    if (channels == m->out_c)
        memcpy(image, src, (size_t)(channels * plane) * sizeof(float));
    else
        planar_channels_convert(src, m->out_c, image, channels, plane);
}

/* ---- planar conversions --------------------------------------------------------------- */

void planar_channels_convert(const float *src, int32_t src_c, float *dst, int32_t dst_c,
                             int64_t plane)
{
    if (src_c == dst_c) {
        memcpy(dst, src, (size_t)(src_c * plane) * sizeof(float));
    } else if (src_c == 3) { /* RGB to gray: Rec.601 luma */
        for (int64_t i = 0; i < plane; i++)
            dst[i] = 0.299f * src[i] + 0.587f * src[plane + i] + 0.114f * src[2 * plane + i];
    } else { /* gray to RGB */
        for (int32_t c = 0; c < dst_c; c++)
            memcpy(dst + c * plane, src, (size_t)plane * sizeof(float));
    }
}

/* Half-pixel centres (as PIL and PyTorch's align_corners=False), edges clamped. */
static void axis_sample(int32_t dst_i, int32_t dst_n, int32_t src_n, int32_t *i0, int32_t *i1,
                        float *t)
{
    float x = ((float)dst_i + 0.5f) * (float)src_n / (float)dst_n - 0.5f;
    if (x < 0)
        x = 0;
    int32_t lo = (int32_t)x;
    if (lo > src_n - 1)
        lo = src_n - 1;
    *i0 = lo;
    *i1 = lo + 1 < src_n ? lo + 1 : src_n - 1;
    *t = x - (float)lo;
}

void planar_resize_bilinear(const float *src, int32_t channels, int32_t sh, int32_t sw, float *dst,
                            int32_t dh, int32_t dw)
{
    for (int32_t c = 0; c < channels; c++) {
        const float *s = src + (int64_t)c * sh * sw;
        float *d = dst + (int64_t)c * dh * dw;
        for (int32_t y = 0; y < dh; y++) {
            int32_t y0, y1, x0, x1;
            float ty, tx;
            axis_sample(y, dh, sh, &y0, &y1, &ty);
            for (int32_t x = 0; x < dw; x++) {
                axis_sample(x, dw, sw, &x0, &x1, &tx);
                float top = s[y0 * sw + x0] + (s[y0 * sw + x1] - s[y0 * sw + x0]) * tx;
                float bottom = s[y1 * sw + x0] + (s[y1 * sw + x1] - s[y1 * sw + x0]) * tx;
                d[y * dw + x] = top + (bottom - top) * ty;
            }
        }
    }
}

void planar_range_map(float *x, int64_t count, struct value_range from, struct value_range to)
{
    if (from.lo == to.lo && from.hi == to.hi)
        return;
    float scale = (to.hi - to.lo) / (from.hi - from.lo);
    for (int64_t i = 0; i < count; i++)
        x[i] = to.lo + (x[i] - from.lo) * scale;
}

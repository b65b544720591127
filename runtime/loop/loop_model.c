/* loop_model.c — see loop_model.h. */
#include "loop_model.h"

#include "onnx.h"

#include <math.h>
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
    const struct shape *in = &m->graph->values[m->graph->input].shape;
    const struct shape *out = &m->graph->values[m->graph->output].shape;
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
    m->in_range = graph_value_range(m->graph, "input_range");
    m->out_range = graph_value_range(m->graph, "output_range");
    return 0;
}

static int buffers_make(struct loop_model *m, struct error *err)
{
    size_t in = (size_t)m->in_c * m->in_h * m->in_w, out = (size_t)m->out_c * m->out_h * m->out_w;
    m->input = calloc(in, sizeof(float));
    m->output = calloc(out, sizeof(float));
    m->work = calloc((size_t)3 * m->size * m->size, sizeof(float));
    if (!m->input || !m->output || !m->work)
        return error_set(err,
                         "out of memory for the %s's buffers at loop.size %d; set a smaller "
                         "loop.size or free memory",
                         m->role, m->size);
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
    m->graph = calloc(1, sizeof *m->graph);
    if (!m->graph) {
        error_set(err, "loop.%s %s: out of memory for its graph", role, path);
        return -1;
    }
    if (onnx_load(m->graph, path, &load, err)) {
        error_prefix(err, "loop.%s", role);
        goto fail;
    }
    if (shapes_take(m, err) || buffers_make(m, err))
        goto fail;
    m->backend = backend_open(m->graph, backend, opt, err);
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
    if (m->graph)
        graph_free(m->graph);
    free(m->graph);
    m->graph = NULL;
    free(m->input);
    free(m->output);
    free(m->work);
    m->input = m->output = m->work = NULL;
}

/* In place: `from` onto `to`, skipped when they are the same range (x + 1 - 1 is not
 * always x in float: the loop must not drift by rounding where nothing converts). */
static void range_map(float *x, int64_t count, struct value_range from, struct value_range to)
{
    if (from.lo != to.lo || from.hi != to.hi)
        lo_map_range(x, (size_t)count, from, to);
}

/* RGB to gray (Rec.601 luma) or gray to RGB, same size. */
static void channels_convert(const struct planar *src, struct planar *dst)
{
    if (src->channels == 3)
        lo_rgb_to_gray(src, dst);
    else
        lo_gray_to_rgb(src, dst);
}

void loop_model_feed(struct loop_model *m, const float *image, int32_t channels)
{
    struct planar src = {channels, m->size, m->size, (float *)image};
    struct planar work = {m->in_c, m->size, m->size, m->work};
    struct planar input = {m->in_c, m->in_h, m->in_w, m->input};
    if (channels != m->in_c) {
        channels_convert(&src, &work);
        src = work;
    }
    lo_resize(&src, &input);
    range_map(m->input, (int64_t)lo_size(&input), canonical, m->in_range);
}

int loop_model_run(struct loop_model *m, struct error *err)
{
    if (backend_run(m->backend, m->input, m->output, err)) {
        error_prefix(err, "%s", m->role);
        return -1;
    }
    return 0;
}

/* Canonical images stay in [-1,1] whatever a model returns: a model that overshoots gives
 * clipped paint, not a loop that feeds ever larger values back into itself. NaN is left for
 * nan_replace, after the resize has carried it to every pixel it touches; it is counted
 * here with the infinities. */
static int64_t canonical_clamp(float *x, int64_t count)
{
    int64_t nonfinite = 0;
    for (int64_t i = 0; i < count; i++) {
        nonfinite += !isfinite(x[i]);
        x[i] = x[i] < -1.0f ? -1.0f : x[i] > 1.0f ? 1.0f : x[i]; /* NaN compares false */
    }
    return nonfinite;
}

/* A NaN would poison the loop for good (every blend, every measure after it): each pixel
 * that holds one takes what the loop had there before. */
static void nan_replace(float *x, size_t count, const float *previous)
{
    for (size_t i = 0; i < count; i++)
        if (x[i] != x[i])
            x[i] = previous ? previous[i] : 0.0f;
}

void loop_model_take(struct loop_model *m, float *image, int32_t channels, const float *previous)
{
    struct planar output = {m->out_c, m->out_h, m->out_w, m->output};
    int64_t out_count = (int64_t)lo_size(&output);
    range_map(m->output, out_count, m->out_range, canonical);
    m->nonfinite = canonical_clamp(m->output, out_count);
    struct planar dst = {channels, m->size, m->size, image};
    if (channels == m->out_c) {
        lo_resize(&output, &dst);
    } else {
        struct planar work = {m->out_c, m->size, m->size, m->work};
        lo_resize(&output, &work);
        channels_convert(&work, &dst);
    }
    if (m->nonfinite > 0)
        nan_replace(image, lo_size(&dst), previous);
}

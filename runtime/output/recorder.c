/* recorder.c — see recorder.h. */
#include "recorder.h"

#include "capture.h"
#include "present_offscreen.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Image values: -1 black ink .. +1 white paper (loop_ops.h's LO_INK, LO_PAPER). */
#define INK   (-1.0f)
#define PAPER 1.0f

/* The encoder, the frame and its composer; the two ends of the crossfade. */
struct recorder {
    struct capture *capture;
    struct scaler *scaler;     /* portrait or sketch stream */
    struct side_by_side *both; /* side_by_side stream */
    struct gl_composer *gl;    /* capture.renderer = gl: the presenter's shaders instead */
    uint64_t composed;         /* frames composed (the grain's frame index) */
    float *portrait_from, *portrait_now, *sketch_from, *sketch_now; /* crossfade ends */
    float *portrait_mix, *sketch_mix;
    uint8_t *frame;
    int32_t size, width, height, stream, per_iteration;
    struct params p;
};

int32_t recorder_frames_per_iteration(const struct params *p)
{
    if (p->capture.frames_per_iteration > 0)
        return p->capture.frames_per_iteration;
    if (p->loop.rate <= 0)
        return 1;
    long n = lroundf((float)p->capture.fps / p->loop.rate);
    return n < 1 ? 1 : (int32_t)n;
}

static struct scaler_config scaler_config_for(int32_t size, int32_t channels, int32_t width,
                                              int32_t height)
{
    return (struct scaler_config){.src_width = size,
                                  .src_height = size,
                                  .src_channels = channels,
                                  .range = {INK, PAPER},
                                  .dst_width = width,
                                  .dst_height = height,
                                  .fit = SCALE_FIT_LETTERBOX,
                                  .filter = SCALE_FILTER_CATMULL_ROM};
}

static void recorder_free(struct recorder *r)
{
    scaler_close(r->scaler);
    side_by_side_close(r->both);
    gl_composer_close(r->gl);
    float *buffers[] = {r->portrait_from, r->portrait_now, r->sketch_from,
                        r->sketch_now,    r->portrait_mix, r->sketch_mix};
    for (size_t i = 0; i < sizeof buffers / sizeof buffers[0]; i++)
        free(buffers[i]);
    free(r->frame);
    free(r);
}

static int composer_open(struct recorder *r, struct error *err)
{
    if (r->p.capture.renderer == RENDERER_GL) {
        r->gl = gl_composer_open(r->size, r->width, r->height, &r->p, err);
        return r->gl ? 0 : -1;
    }
    if (r->stream == STREAM_SIDE_BY_SIDE) {
        struct scaler_config pc = scaler_config_for(r->size, 3, r->width / 2, r->height);
        struct scaler_config sc = scaler_config_for(r->size, 1, r->width - r->width / 2, r->height);
        r->both = side_by_side_open(&pc, &sc, r->width, r->height, err);
        return r->both ? 0 : -1;
    }
    int32_t channels = r->stream == STREAM_SKETCH ? 1 : 3;
    struct scaler_config c = scaler_config_for(r->size, channels, r->width, r->height);
    r->scaler = scaler_open(&c, err);
    return r->scaler ? 0 : -1;
}

static int buffers_alloc(struct recorder *r, struct error *err)
{
    size_t plane = (size_t)r->size * r->size;
    float **buffers[] = {&r->portrait_from, &r->portrait_now, &r->portrait_mix};
    for (size_t i = 0; i < 3; i++)
        *buffers[i] = calloc(3 * plane, sizeof(float));
    float **sketches[] = {&r->sketch_from, &r->sketch_now, &r->sketch_mix};
    for (size_t i = 0; i < 3; i++)
        *sketches[i] = calloc(plane, sizeof(float));
    r->frame = calloc((size_t)r->width * r->height, 3);
    if (!r->portrait_from || !r->portrait_now || !r->portrait_mix || !r->sketch_from ||
        !r->sketch_now || !r->sketch_mix || !r->frame)
        return error_set(err, "out of memory for %dx%d capture frames", r->width, r->height);
    return 0;
}

int recorder_open(struct recorder **out_r, int32_t size, const struct params *p, const char *out,
                  volatile sig_atomic_t *stop, struct error *err)
{
    struct recorder *r = *out_r = calloc(1, sizeof *r);
    if (!r)
        return error_set(err, "out of memory");
    r->p = *p;
    r->size = size;
    r->width = p->capture.width;
    r->height = p->capture.height;
    r->stream = p->capture.stream;
    r->per_iteration = recorder_frames_per_iteration(p);
    int32_t crf =
        p->capture.codec == CODEC_PNG || p->capture.codec == CODEC_FFV1 ? -1 : p->capture.quality;
    int rc = buffers_alloc(r, err) || composer_open(r, err) ? -1 : 0;
    if (rc == 0 && !(r->capture = capture_open(out, r->width, r->height, p->capture.fps,
                                               capture_codec_name(p->capture.codec), crf, err)))
        rc = MNEMO_EXIT_OUTPUT_FAILED;
    if (rc == 0)
        capture_watch_stop(r->capture, stop);
    if (rc) {
        recorder_free(r);
        *out_r = NULL;
    }
    return rc;
}

void recorder_advance(struct recorder *r, const float *portrait, const float *sketch, bool first)
{
    size_t plane = (size_t)r->size * r->size;
    memcpy(r->portrait_from, first ? portrait : r->portrait_now, 3 * plane * sizeof(float));
    memcpy(r->sketch_from, first ? sketch : r->sketch_now, plane * sizeof(float));
    memcpy(r->portrait_now, portrait, 3 * plane * sizeof(float));
    memcpy(r->sketch_now, sketch, plane * sizeof(float));
    if (r->gl)
        gl_composer_upload(r->gl, portrait, sketch, first);
}

/* out = from + t (to - from): the crossfade. */
static void mix(const float *from, const float *to, float t, float *out, size_t n)
{
    for (size_t i = 0; i < n; i++)
        out[i] = from[i] + t * (to[i] - from[i]);
}

/* Frame k (1..per_iteration) of the crossfade into r->frame. */
static void compose(struct recorder *r, int32_t k)
{
    size_t plane = (size_t)r->size * r->size;
    float t = (float)k / (float)r->per_iteration;
    if (r->gl) {
        gl_composer_frame(r->gl, t, r->composed++, r->frame);
        return;
    }
    mix(r->portrait_from, r->portrait_now, t, r->portrait_mix, 3 * plane);
    mix(r->sketch_from, r->sketch_now, t, r->sketch_mix, plane);
    if (r->both)
        side_by_side_run(r->both, r->portrait_mix, r->sketch_mix, r->frame);
    else
        scaler_run(r->scaler, r->stream == STREAM_SKETCH ? r->sketch_mix : r->portrait_mix,
                   r->frame, (size_t)r->width * 3);
}

int recorder_write(struct recorder *r, int64_t *written, int64_t frames, struct error *err)
{
    for (int32_t k = 1; k <= r->per_iteration && *written < frames; k++) {
        compose(r, k);
        if (capture_write(r->capture, r->frame, err))
            return -1;
        (*written)++;
    }
    return 0;
}

int recorder_close(struct recorder *r, struct error *err)
{
    if (!r)
        return 0;
    int rc = r->capture && capture_close(r->capture, err) < 0 ? -1 : 0;
    recorder_free(r);
    return rc;
}

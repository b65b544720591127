/* headless.c — see headless.h. */
#include "headless.h"

#include "capture.h"
#include "kiosk.h"
#include "present_offscreen.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* What one recording needs besides the loop: the encoder, the frame and its composer. */
struct recorder {
    struct capture *capture;
    struct scaler *scaler;     /* portrait or sketch stream */
    struct side_by_side *both; /* side_by_side stream */
    struct gl_composer *gl;    /* capture.renderer = gl: the presenter's shaders instead */
    uint64_t composed;         /* frames composed (the grain's frame index) */
    float *portrait_from, *portrait_now, *sketch_from, *sketch_now; /* crossfade ends */
    float *portrait_mix, *sketch_mix;
    uint8_t *frame;
    int32_t width, height, stream, per_iteration;
};

int32_t headless_frames_per_iteration(const struct params *p)
{
    if (p->capture.frames_per_iteration > 0)
        return p->capture.frames_per_iteration;
    if (p->loop.rate <= 0)
        return 1;
    long n = lroundf((float)p->capture.fps / p->loop.rate);
    return n < 1 ? 1 : (int32_t)n;
}

static const char *codec_name(int32_t codec)
{
    static const char *const names[] = {
        [CODEC_AUTO] = CAPTURE_DEFAULT_CODEC,
        [CODEC_PNG] = "png",
        [CODEC_H264] = "libx264",
        [CODEC_H265] = "libx265",
        [CODEC_VP9] = "libvpx-vp9",
        [CODEC_FFV1] = "ffv1",
    };
    return names[codec];
}

static struct scaler_config scaler_config_for(const struct loop *L, int32_t channels, int32_t width,
                                              int32_t height)
{
    return (struct scaler_config){.src_width = L->size,
                                  .src_height = L->size,
                                  .src_channels = channels,
                                  .range = {LO_INK, LO_PAPER},
                                  .dst_width = width,
                                  .dst_height = height,
                                  .fit = SCALE_FIT_LETTERBOX,
                                  .filter = SCALE_FILTER_CATMULL_ROM};
}

static void recorder_close(struct recorder *r)
{
    scaler_close(r->scaler);
    side_by_side_close(r->both);
    gl_composer_close(r->gl);
    float *buffers[] = {r->portrait_from, r->portrait_now, r->sketch_from,
                        r->sketch_now,    r->portrait_mix, r->sketch_mix};
    for (size_t i = 0; i < sizeof buffers / sizeof buffers[0]; i++)
        free(buffers[i]);
    free(r->frame);
}

static int composer_open(struct recorder *r, const struct loop *L, struct error *err)
{
    if (L->p.capture.renderer == RENDERER_GL) {
        r->gl = gl_composer_open(L->size, r->width, r->height, &L->p, err);
        return r->gl ? 0 : -1;
    }
    if (r->stream == STREAM_SIDE_BY_SIDE) {
        struct scaler_config pc = scaler_config_for(L, 3, r->width / 2, r->height);
        struct scaler_config sc = scaler_config_for(L, 1, r->width - r->width / 2, r->height);
        r->both = side_by_side_open(&pc, &sc, r->width, r->height, err);
        return r->both ? 0 : -1;
    }
    int32_t channels = r->stream == STREAM_SKETCH ? 1 : 3;
    struct scaler_config c = scaler_config_for(L, channels, r->width, r->height);
    r->scaler = scaler_open(&c, err);
    return r->scaler ? 0 : -1;
}

static int recorder_open(struct recorder *r, const struct loop *L, struct error *err)
{
    memset(r, 0, sizeof *r);
    const struct params *p = &L->p;
    r->width = p->capture.width;
    r->height = p->capture.height;
    r->stream = p->capture.stream;
    r->per_iteration = headless_frames_per_iteration(p);
    size_t plane = (size_t)L->size * L->size;
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
    return composer_open(r, L, err);
}

/* The loop's newest images become the crossfade's target; the old target its start. */
static void recorder_advance(struct recorder *r, const struct loop *L, bool first)
{
    size_t plane = (size_t)L->size * L->size;
    memcpy(r->portrait_from, first ? L->portrait.data : r->portrait_now, 3 * plane * sizeof(float));
    memcpy(r->sketch_from, first ? L->sketch.data : r->sketch_now, plane * sizeof(float));
    memcpy(r->portrait_now, L->portrait.data, 3 * plane * sizeof(float));
    memcpy(r->sketch_now, L->sketch.data, plane * sizeof(float));
    if (r->gl)
        gl_composer_upload(r->gl, L->portrait.data, L->sketch.data, first);
}

/* Frame k (1..per_iteration) of the crossfade into r->frame. */
static void recorder_compose(struct recorder *r, const struct loop *L, int32_t k)
{
    size_t plane = (size_t)L->size * L->size;
    float t = (float)k / (float)r->per_iteration;
    if (r->gl) {
        gl_composer_frame(r->gl, t, r->composed++, r->frame);
        return;
    }
    lo_blend(r->portrait_now, r->portrait_from, 1.0f - t, r->portrait_mix, 3 * plane);
    lo_blend(r->sketch_now, r->sketch_from, 1.0f - t, r->sketch_mix, plane);
    if (r->both)
        side_by_side_run(r->both, r->portrait_mix, r->sketch_mix, r->frame);
    else
        scaler_run(r->scaler, r->stream == STREAM_SKETCH ? r->sketch_mix : r->portrait_mix,
                   r->frame, (size_t)r->width * 3);
}

static int frames_write(struct recorder *r, struct step *s, int64_t frames,
                        volatile sig_atomic_t *stop, struct error *err)
{
    struct loop *L = s->L;
    struct progress progress;
    progress_init(&progress, stderr, frames);
    int64_t written = 0;
    for (bool first = true; written < frames && !(stop && *stop); first = false) {
        if (piece_step(s, stop, err))
            return -1;
        recorder_advance(r, L, first);
        for (int32_t k = 1; k <= r->per_iteration && written < frames; k++) {
            recorder_compose(r, L, k);
            if (capture_write(r->capture, r->frame, err))
                return MNEMO_EXIT_OUTPUT_FAILED;
            written++;
        }
        progress_update(&progress, written);
        stats_tick(s->stats, L, written, false);
    }
    progress_finish(&progress);
    stats_tick(s->stats, L, written, true);
    return 0;
}

int headless_run(struct step *s, int64_t frames, const char *out, volatile sig_atomic_t *stop,
                 struct error *err)
{
    struct loop *L = s->L;
    struct recorder r;
    int rc = recorder_open(&r, L, err);
    if (rc == 0) {
        const struct params *p = &L->p;
        int32_t crf = p->capture.codec == CODEC_PNG || p->capture.codec == CODEC_FFV1
                          ? -1
                          : p->capture.quality;
        r.capture = capture_open(out, r.width, r.height, p->capture.fps,
                                 codec_name(p->capture.codec), crf, err);
        rc = r.capture ? frames_write(&r, s, frames, stop, err) : MNEMO_EXIT_OUTPUT_FAILED;
    }
    /* Always finalise what was written: a cut recording stays playable. */
    struct error close_err;
    if (r.capture && capture_close(r.capture, &close_err) < 0 && rc == 0) {
        *err = close_err;
        rc = MNEMO_EXIT_OUTPUT_FAILED;
    }
    recorder_close(&r);
    return rc;
}

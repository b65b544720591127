/* screen_record.c — see screen_record.h: the recording's clock, the queue and the encoder
 * thread that feeds ffmpeg. The GL readback is in screen_readback.c. */
#include "screen_record_internal.h"

#include "capture.h"
#include "clock.h"
#include "log.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

void screen_record_size(int32_t screen_w, int32_t screen_h, int32_t live_height, int32_t *width,
                        int32_t *height)
{
    int32_t h = live_height > 0 && live_height < screen_h ? live_height : screen_h;
    int32_t w = h == screen_h ? screen_w : (int32_t)lround((double)screen_w * h / screen_h);
    *width = w < 2 ? 2 : w & ~1;
    *height = h < 2 ? 2 : h & ~1;
}

/* ---- the encoder thread --------------------------------------------------------------- */

/* One line, once: the recording has stopped and the piece goes on. The capture is closed at
 * once (ffmpeg reaped, bounded by give_up) and nothing more is queued. */
static void record_fail(struct screen_record *r, const char *why)
{
    log_line(LOG_ERR, "recording to '%s' stopped: %s; the piece goes on without it", r->target,
             why);
    atomic_store(&r->failed, true);
    struct error ignored; /* its reason is the one above */
    r->give_up = 1;
    capture_close(r->capture, &ignored);
    r->capture = NULL;
}

static void slot_write(struct screen_record *r, const struct record_slot *s)
{
    struct error err;
    for (int32_t k = 0; k < s->repeat && r->capture; k++) {
        if (capture_write(r->capture, s->bgra, &err)) {
            record_fail(r, err.msg);
            return;
        }
        atomic_fetch_add(&r->frames, 1);
    }
}

static void *encoder_thread(void *arg)
{
    struct screen_record *r = arg;
    for (;;) {
        while (sem_wait(&r->queued) != 0 && errno == EINTR)
            ;
        uint64_t tail = atomic_load(&r->tail);
        if (tail == atomic_load_explicit(&r->head, memory_order_acquire)) {
            if (!atomic_load(&r->closing))
                continue;
            atomic_store(&r->finished, true);
            return NULL;
        }
        if (r->capture)
            slot_write(r, &r->slots[tail % RECORD_QUEUE]);
        atomic_store_explicit(&r->tail, tail + 1, memory_order_release);
    }
}

/* Every signal goes to the other threads: this one only waits on ffmpeg. */
static int thread_start(struct screen_record *r, struct error *err)
{
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    int rc = pthread_create(&r->thread, NULL, encoder_thread, r);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc)
        return error_set(err, "cannot start the recording's thread (%s)", strerror(rc));
    return 0;
}

/* ---- the presenter's side ------------------------------------------------------------- */

void record_drop(struct screen_record *r, int32_t repeat)
{
    atomic_fetch_add(&r->dropped, (uint64_t)repeat);
    r->carry += repeat;
}

void record_push(struct screen_record *r, const uint8_t *gl_rows, int32_t repeat)
{
    uint64_t head = atomic_load(&r->head);
    if (head - atomic_load_explicit(&r->tail, memory_order_acquire) >= RECORD_QUEUE) {
        record_drop(r, repeat);
        return;
    }
    struct record_slot *s = &r->slots[head % RECORD_QUEUE];
    memcpy(s->bgra, gl_rows, r->frame_bytes); /* one copy: ffmpeg turns it over */
    int32_t most = (int32_t)ceil(r->fps);     /* a long stall is not made up */
    s->repeat = repeat + r->carry > most ? most : repeat + r->carry;
    r->carry = 0;
    atomic_store_explicit(&r->head, head + 1, memory_order_release);
    sem_post(&r->queued);
}

/* Ticks of the recording's clock since the last frame taken, this one's included. */
static int32_t ticks_due(struct screen_record *r, double now)
{
    if (r->clock_start == 0)
        r->clock_start = now;
    uint64_t tick = (uint64_t)floor((now - r->clock_start) * r->fps) + 1;
    int64_t due = (int64_t)(tick - r->ticks);
    r->ticks = tick;
    return due > 0 ? (int32_t)(due > (int64_t)ceil(r->fps) ? ceil(r->fps) : due) : 0;
}

/* An encoder that takes nothing while frames wait is given up on after RECORD_STALL_S: the
 * write in progress then fails (capture_watch_stop) and the thread reports it. */
static void stall_check(struct screen_record *r, double now)
{
    uint64_t frames = atomic_load(&r->frames);
    bool waiting = atomic_load(&r->head) != atomic_load(&r->tail);
    if (frames != r->seen_frames || !waiting || r->seen_at == 0) {
        r->seen_frames = frames;
        r->seen_at = now;
    } else if (now - r->seen_at > RECORD_STALL_S) {
        r->give_up = 1;
    }
}

void screen_record_frame(struct screen_record *r, int32_t screen_w, int32_t screen_h, double now)
{
    if (!r || !r->gl.ready || atomic_load(&r->failed))
        return;
    stall_check(r, now);
    readback_collect(r);
    int32_t due = ticks_due(r, now);
    if (due > 0)
        readback_start(r, screen_w, screen_h, due);
}

/* ---- open, counts, close -------------------------------------------------------------- */

static void record_free(struct screen_record *r)
{
    for (int i = 0; i < RECORD_QUEUE; i++)
        free(r->slots[i].bgra);
    sem_destroy(&r->queued);
    free(r);
}

static int encoder_open(struct screen_record *r, const struct params *p, struct error *err)
{
    int32_t crf =
        p->capture.codec == CODEC_PNG || p->capture.codec == CODEC_FFV1 ? -1 : p->capture.quality;
    struct capture_video_options o = {.fps = r->fps,
                                      .codec = capture_codec_name(p->capture.codec),
                                      .crf = crf,
                                      .segment_s = p->capture.segment_s,
                                      .live = true,
                                      .quiet = true,
                                      .gl_rows = true};
    r->capture = capture_open_video(r->target, r->width, r->height, &o, err);
    if (!r->capture)
        return -1;
    capture_watch_stop(r->capture, &r->give_up);
    return 0;
}

struct screen_record *screen_record_open(const struct params *p, int32_t width, int32_t height,
                                         struct error *err)
{
    struct screen_record *r = calloc(1, sizeof *r);
    if (!r || sem_init(&r->queued, 0, 0) != 0) {
        free(r);
        error_set(err, "out of memory for the recording");
        return NULL;
    }
    snprintf(r->target, sizeof r->target, "%s", p->capture.out);
    r->width = width;
    r->height = height;
    r->frame_bytes = (size_t)width * height * 4;
    r->fps = p->capture.fps;
    for (int i = 0; i < RECORD_QUEUE; i++)
        if (!(r->slots[i].bgra = malloc(r->frame_bytes))) {
            error_set(err, "out of memory for %dx%d recording frames", width, height);
            record_free(r);
            return NULL;
        }
    if (encoder_open(r, p, err) || thread_start(r, err)) {
        struct error ignored;
        capture_close(r->capture, &ignored);
        record_free(r);
        return NULL;
    }
    return r;
}

void screen_record_counts(struct screen_record *r, struct screen_record_counts *c)
{
    c->frames = atomic_load(&r->frames);
    c->dropped = atomic_load(&r->dropped);
    c->failed = atomic_load(&r->failed);
}

void screen_record_close(struct screen_record *r, struct screen_record_counts *last)
{
    if (!r)
        return;
    readback_finish(r); /* the screen's last frames too */
    screen_record_gl_close(r);
    atomic_store(&r->closing, true);
    sem_post(&r->queued);
    /* the frames still queued go to ffmpeg, unless it takes too long over them */
    double until = clock_now() + RECORD_DRAIN_S;
    while (!atomic_load(&r->finished) && clock_now() < until)
        clock_sleep_until(clock_now() + 0.01);
    r->give_up = 1; /* from here every wait on ffmpeg is bounded */
    pthread_join(r->thread, NULL);
    struct error err;
    struct screen_record_counts c;
    screen_record_counts(r, &c);
    if (r->capture && capture_close(r->capture, &err) < 0)
        log_line(LOG_ERR, "recording to '%s': %s", r->target, err.msg);
    else if (r->capture)
        log_line(LOG_INFO, "recorded %llu frames to '%s' (%llu dropped)",
                 (unsigned long long)c.frames, r->target, (unsigned long long)c.dropped);
    if (last)
        *last = c;
    record_free(r);
}

/* screen_record_internal.h — what the two halves of screen_record.h share: the queue and
 * the encoder thread (screen_record.c) and the GL readback (screen_readback.c). Not for use
 * outside them. */
#ifndef MNEMO_SCREEN_RECORD_INTERNAL_H
#define MNEMO_SCREEN_RECORD_INTERNAL_H

#include "screen_record.h"

#include <GL/glew.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdatomic.h>

/* Frames that may wait for the encoder: enough to ride out a slow frame of ffmpeg's, few
 * enough that a recording that cannot keep up drops frames within a fraction of a second
 * rather than holding many large buffers. */
#define RECORD_QUEUE 4
/* Readbacks in flight on the GPU: one is normally back by the next frame. */
#define RECORD_READBACKS 3
/* At the end: how long the GPU may take with a readback, and the encoder with the frames
 * still queued, before they are given up. */
#define RECORD_FINISH_WAIT_S 0.05
#define RECORD_DRAIN_S       0.5

struct record_slot {
    uint8_t *bgra;  /* width x height BGRA, bottom row first: as glReadPixels reads it */
    int32_t repeat; /* frames of video it stands for */
};

struct readback {
    GLuint pbo[RECORD_READBACKS];
    GLsync fence[RECORD_READBACKS];
    int32_t repeat[RECORD_READBACKS];
    int32_t first, count; /* the oldest in flight; how many */
    GLuint fbo, color;    /* the recording's size, for a screen of another size */
    bool ready;
};

struct screen_record {
    struct capture *capture; /* the encoder thread's alone while it runs */
    char target[PARAM_STRING_MAX];
    int32_t width, height;
    size_t frame_bytes;
    double fps;

    /* the queue: slots [tail, head) wait for the encoder (single producer, single consumer) */
    struct record_slot slots[RECORD_QUEUE];
    _Atomic uint64_t head, tail;
    sem_t queued; /* posted once per queued slot, and once at close */
    pthread_t thread;
    atomic_bool closing, failed, finished; /* finished: the thread is about to end */
    _Atomic uint64_t frames, dropped;
    /* the capture's stop (capture_watch_stop): set at close and on a stall, it bounds every
     * wait on ffmpeg */
    volatile sig_atomic_t give_up;

    /* the presenter's side */
    double clock_start; /* the recording's clock: 0 until the first frame */
    uint64_t ticks;     /* ticks of that clock given a frame (or a drop) so far */
    int32_t carry;      /* ticks of dropped frames, added to the next queued one */
    uint64_t seen_frames;
    double seen_at; /* when the encoder was last seen to take a frame */
    struct readback gl;
};

/* A frame read back (`width` x `height` BGRA, bottom row first) into the queue standing for
 * `repeat` ticks, or dropped when the queue is full. Presenter thread. */
void record_push(struct screen_record *r, const uint8_t *gl_rows, int32_t repeat);
/* `repeat` ticks whose frame could not be read back. Presenter thread. */
void record_drop(struct screen_record *r, int32_t repeat);

/* screen_readback.c: readbacks that are back into the queue (record_push), oldest first;
 * a readback of the screen_w x screen_h default framebuffer standing for `repeat` ticks
 * started (or dropped when all are in flight). */
void readback_collect(struct screen_record *r);
/* At the end: the readbacks still in flight waited for (RECORD_FINISH_WAIT_S at most each)
 * and queued, so the recording ends on the screen's last frames. */
void readback_finish(struct screen_record *r);
void readback_start(struct screen_record *r, int32_t screen_w, int32_t screen_h, int32_t repeat);

#endif

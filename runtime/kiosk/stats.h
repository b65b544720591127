/* stats.h — `--stats FILE|-`: one JSON object per line, about once a second, for
 * monitoring kiosks and for benchmarks (DESIGN.md). Fields: time since start, loop
 * iterations and iterations/s, frames written, the stream's change metrics, the guard's
 * event counters, live parameter sets taken (params_version) and perturb.noise as the loop
 * uses it now (so a live change shows), the models that run (painter, sketcher: their
 * settings) and how many were swapped in live (swaps), resident memory, backend; with a
 * presenter also display frames, display fps, dropped display frames and whether the kiosk
 * is closed (kiosk.hours), with "opens_at" (seconds since the epoch) while it is, and with
 * a recording of the screen its frames, dropped frames and whether it failed. Written
 * from the thread that drives the loop between iterations, never inside one. */
#ifndef MNEMO_STATS_H
#define MNEMO_STATS_H

#include "error.h"
#include "loop.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>

/* The presenter's counters, written by the display thread and read by the thread that
 * writes the stats lines (atomics: monitoring only, no ordering needed). */
struct stats_display {
    _Atomic uint64_t frames;   /* presented */
    _Atomic uint64_t dropped;  /* frames that came later than 1.5 frame intervals */
    _Atomic uint32_t fps_x100; /* presented frames per second over the last second, x100 */
    atomic_bool closed;        /* outside kiosk.hours: the loop paused, the screens black */
    _Atomic int64_t opens_at;  /* while closed: when it opens (seconds since the epoch), 0 never */
};

/* Someone beside the stats file who watches the piece (the web page: control.h), called
 * from the thread that drives the loop, between iterations: `line` with each stats line
 * (the JSON object, no newline), `frame` with the newest portrait (3 x size x size,
 * planar, [-1,1]) at most every STATS_FRAME_S. Both must only copy and never wait. */
#define STATS_FRAME_S  0.2
#define STATS_LINE_MAX 4096 /* room for two model settings of PARAM_STRING_MAX, escaped */
struct stats_monitor {
    void (*line)(void *ctx, const char *json);
    void (*frame)(void *ctx, const float *portrait, int32_t size);
    void *ctx;
};

/* A recording of the screen (capture.out), copied by the presenter from the recorder's
 * own counts every frame: "record_frames", "record_dropped", "record_failed". */
struct stats_record {
    _Atomic uint64_t frames;  /* frames of video handed to the encoder */
    _Atomic uint64_t dropped; /* of those, frames that repeat an older one instead of theirs */
    atomic_bool failed;       /* the recording stopped (or could not start); the piece goes on */
};

struct stats {
    struct stats_display *display; /* NULL: no presenter; else "display_fps", "dropped" */
    struct stats_record *record;   /* NULL: no recording while presenting */
    FILE *out;                     /* NULL: no stats file */
    struct stats_monitor monitor;  /* zeroed by stats_open; NULL functions: none */
    double frame_s;                /* when the monitor was last handed a frame */
    char line[STATS_LINE_MAX];     /* the line being written */
    bool owned;
    double start_s, last_s;
    uint64_t last_iterations;
    uint64_t params_version; /* live parameter sets taken so far (control.h); the driver's */
};

/* path "-" is stdout; NULL means no stats. */
int stats_open(struct stats *s, const char *path, struct error *err);
/* Writes a line when a second has passed since the last one, or always when `final`. */
void stats_tick(struct stats *s, const struct loop *L, int64_t frames, bool final);
void stats_close(struct stats *s);

/* Resident set size in KiB (from /proc/self/statm), 0 when unknown. */
long stats_rss_kib(void);

#endif

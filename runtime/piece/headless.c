/* headless.c — see headless.h. */
#include "headless.h"

#include "capture.h"
#include "recorder.h"

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
        recorder_advance(r, L->portrait.data, L->sketch.data, first);
        if (recorder_write(r, &written, frames, err))
            return MNEMO_EXIT_OUTPUT_FAILED;
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
    struct recorder *r;
    int rc = recorder_open(&r, s->L->size, &s->L->p, out, stop, err);
    if (rc)
        return rc;
    rc = frames_write(r, s, frames, stop, err);
    /* Always finalise what was written: a cut recording stays playable. */
    struct error close_err;
    if (recorder_close(r, &close_err) && rc == 0) {
        *err = close_err;
        rc = MNEMO_EXIT_OUTPUT_FAILED;
    }
    return rc;
}

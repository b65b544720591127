/* piece.c — see piece.h. */
#include "piece.h"
#include "clock.h"

#include "checkpoint.h"
#include "kiosk.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Longest single sleep while pacing, so a stop request is seen promptly. */
#define SLEEP_SLICE_S 0.02
/* How often a paused loop thread looks up (stop, resume, parameters, --stats lines). */
#define PAUSED_SLICE_S 0.05

struct slot {
    uint64_t iteration;
    double time_s;
    float *portrait, *sketch;
};

/* Triple buffer: the writer fills slots[back], then swaps it with `middle` (tagging it
 * FRESH); the reader swaps its `front` with `middle` when FRESH is set. Each side owns
 * its slot outright, so neither ever waits. */
#define FRESH 4u

struct piece {
    struct loop *L;
    struct stats *stats;
    struct checkpoint *checkpoint; /* may be NULL */
    struct swap *swap;             /* may be NULL */
    struct stats_display display;
    pthread_t thread;
    atomic_bool stop, failed, reseed;
    atomic_bool pause, idle; /* asked for by the presenter; taken by the loop thread */
    struct slot slots[3];
    unsigned back, front;
    atomic_uint middle;
    size_t plane;

    pthread_mutex_t params_lock; /* guards pending only */
    struct params pending;
    atomic_uint_fast64_t params_version;
    uint64_t applied_version; /* loop thread's */

    _Atomic uint32_t rate_x100;
    struct error err; /* loop thread's last failure */
};

/* Sleeps until `until` (stats_now clock) or a stop request. */
static void pace(struct piece *pc, double until)
{
    for (double now = clock_now(); now < until && !atomic_load(&pc->stop); now = clock_now()) {
        clock_sleep_until(until - now < SLEEP_SLICE_S ? until : now + SLEEP_SLICE_S);
        kiosk_alive(KIOSK_LOOP); /* waiting on purpose is progress for the watchdog */
    }
}

/* New parameters, if any, between two iterations; try-lock so a reader copying them
 * never delays an iteration (we pick them up next time). */
static void params_take(struct piece *pc)
{
    uint64_t v = atomic_load(&pc->params_version);
    if (v == pc->applied_version || pthread_mutex_trylock(&pc->params_lock))
        return;
    struct params p = pc->pending;
    pthread_mutex_unlock(&pc->params_lock);
    loop_set_params(pc->L, &p);
    swap_want(pc->swap, &p);
    pc->applied_version = v;
}

void piece_set_paused(struct piece *pc, bool paused)
{
    atomic_store(&pc->pause, paused);
}

bool piece_paused(const struct piece *pc)
{
    return atomic_load(&((struct piece *)pc)->idle);
}

void piece_request_reseed(struct piece *pc)
{
    atomic_store(&pc->reseed, true);
}

static void publish(struct piece *pc)
{
    struct slot *s = &pc->slots[pc->back];
    memcpy(s->portrait, pc->L->portrait.data, 3 * pc->plane * sizeof(float));
    memcpy(s->sketch, pc->L->sketch.data, pc->plane * sizeof(float));
    s->iteration = pc->L->iterations;
    s->time_s = clock_now();
    pc->back = atomic_exchange(&pc->middle, pc->back | FRESH) & ~FRESH;
}

/* One iteration with the loop's retry policy (loop_after_step); false when the thread
 * should give up (pc->err says why). A good one is published and offered to the
 * checkpoint (a copy when one is due, never a wait). */
static bool iterate(struct piece *pc, int *failures)
{
    int rc = loop_step(pc->L, &pc->err);
    switch (loop_after_step(pc->L, rc, failures, &pc->err)) {
    case LOOP_NEXT:
        publish(pc);
        checkpoint_offer(pc->checkpoint);
        return true;
    case LOOP_RETRY:
        pace(pc, clock_now() + LOOP_RETRY_S);
        return true;
    case LOOP_GIVE_UP:
        break;
    }
    return false;
}

static void rate_update(struct piece *pc, double *since, uint64_t *at)
{
    double now = clock_now();
    if (now - *since < 1.0)
        return;
    double rate = (double)(pc->L->iterations - *at) / (now - *since);
    atomic_store(&pc->rate_x100, (uint32_t)(rate * 100.0 + 0.5));
    *since = now;
    *at = pc->L->iterations;
}

static void *loop_thread(void *arg)
{
    struct piece *pc = arg;
    int failures = 0;
    double rate_since = clock_now();
    uint64_t rate_at = 0;
    while (!atomic_load(&pc->stop)) {
        params_take(pc);
        swap_between(pc->swap); /* also while paused: a swap needs no iteration */
        bool paused = atomic_load(&pc->pause);
        atomic_store(&pc->idle, paused); /* every iteration before this one is published */
        if (!paused && atomic_exchange(&pc->reseed, false))
            guard_request_reseed(&pc->L->guard);
        double start = clock_now();
        if (!paused && !iterate(pc, &failures)) {
            atomic_store(&pc->failed, true);
            break;
        }
        kiosk_count(KIOSK_LOOP, pc->L->iterations);
        kiosk_freeze_point(KIOSK_LOOP, pc->L->iterations);
        rate_update(pc, &rate_since, &rate_at);
        if (pc->stats)
            stats_tick(pc->stats, pc->L, (int64_t)atomic_load(&pc->display.frames), false);
        float rate = pc->L->p.loop.rate;
        if (paused) /* no model runs: the GPU idles until piece_set_paused(false) */
            pace(pc, start + PAUSED_SLICE_S);
        else if (rate > 0)
            pace(pc, start + 1.0 / rate);
    }
    return NULL;
}

static void piece_free(struct piece *pc)
{
    for (int i = 0; i < 3; i++) {
        free(pc->slots[i].portrait);
        free(pc->slots[i].sketch);
    }
    pthread_mutex_destroy(&pc->params_lock);
    free(pc);
}

static int slots_alloc(struct piece *pc, struct error *err)
{
    for (int i = 0; i < 3; i++) {
        pc->slots[i].portrait = calloc(3 * pc->plane, sizeof(float));
        pc->slots[i].sketch = calloc(pc->plane, sizeof(float));
        if (!pc->slots[i].portrait || !pc->slots[i].sketch)
            return error_set(err, "out of memory for the loop's frame buffers");
    }
    return 0;
}

static struct piece *piece_launch(struct loop *L, struct stats *stats,
                                  struct checkpoint *checkpoint, struct swap *swap, bool paused,
                                  struct error *err)
{
    struct piece *pc = calloc(1, sizeof *pc);
    if (!pc) {
        error_set(err, "out of memory");
        return NULL;
    }
    pc->L = L;
    pc->stats = stats;
    pc->checkpoint = checkpoint;
    pc->swap = swap;
    pc->plane = (size_t)L->size * L->size;
    pc->back = 0;
    atomic_init(&pc->middle, 1);
    pc->front = 2;
    pc->pending = L->p;
    atomic_init(&pc->pause, paused);
    pthread_mutex_init(&pc->params_lock, NULL);
    if (stats)
        stats->display = &pc->display;
    if (slots_alloc(pc, err)) {
        piece_free(pc);
        return NULL;
    }
    int rc = pthread_create(&pc->thread, NULL, loop_thread, pc);
    if (rc) {
        error_set(err, "cannot start the loop thread (%s)", strerror(rc));
        piece_free(pc);
        return NULL;
    }
    return pc;
}

struct piece *piece_start(struct loop *L, struct stats *stats, struct checkpoint *checkpoint,
                          struct swap *swap, struct error *err)
{
    return piece_launch(L, stats, checkpoint, swap, false, err);
}

struct piece *piece_start_paused(struct loop *L, struct stats *stats, struct checkpoint *checkpoint,
                                 struct swap *swap, struct error *err)
{
    return piece_launch(L, stats, checkpoint, swap, true, err);
}

bool piece_latest(struct piece *pc, uint64_t after_iteration, struct piece_frame *f)
{
    if (atomic_load(&pc->middle) & FRESH)
        pc->front = atomic_exchange(&pc->middle, pc->front) & ~FRESH;
    const struct slot *s = &pc->slots[pc->front];
    if (s->iteration == 0 || s->iteration <= after_iteration)
        return false;
    *f = (struct piece_frame){.iteration = s->iteration,
                              .time_s = s->time_s,
                              .portrait = s->portrait,
                              .sketch = s->sketch,
                              .size = pc->L->size};
    return true;
}

void piece_set_params(struct piece *pc, const struct params *p)
{
    pthread_mutex_lock(&pc->params_lock);
    pc->pending = *p;
    atomic_fetch_add(&pc->params_version, 1);
    pthread_mutex_unlock(&pc->params_lock);
}

void piece_get_params(struct piece *pc, struct params *p)
{
    pthread_mutex_lock(&pc->params_lock);
    *p = pc->pending;
    pthread_mutex_unlock(&pc->params_lock);
}

uint64_t piece_params_version(struct piece *pc)
{
    return atomic_load(&pc->params_version);
}

struct stats_display *piece_display(struct piece *pc)
{
    return &pc->display;
}

const char *piece_backend(const struct piece *pc)
{
    return loop_backend(pc->L);
}

double piece_rate(const struct piece *pc)
{
    return atomic_load(&((struct piece *)pc)->rate_x100) / 100.0;
}

bool piece_failed(const struct piece *pc)
{
    return atomic_load(&((struct piece *)pc)->failed);
}

int piece_stop(struct piece *pc, struct error *err)
{
    if (!pc)
        return 0;
    atomic_store(&pc->stop, true);
    pthread_join(pc->thread, NULL);
    int rc = 0;
    if (atomic_load(&pc->failed)) {
        *err = pc->err;
        rc = -1;
    }
    if (pc->stats) {
        stats_tick(pc->stats, pc->L, (int64_t)atomic_load(&pc->display.frames), true);
        pc->stats->display = NULL;
    }
    piece_free(pc);
    return rc;
}

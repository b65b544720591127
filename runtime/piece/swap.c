/* swap.c — see swap.h. */
#include "swap.h"

#include "clock.h"
#include "log.h"

#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#define ROLES 2

/* One loaded model on its way: the loader fills it and marks it READY; the driver swaps it
 * in, which leaves the old model in its place, and marks it TAKEN; the loader frees that
 * and marks it EMPTY. Each side writes the model only in its own states. */
enum handoff { HANDOFF_EMPTY, HANDOFF_READY, HANDOFF_TAKEN };

struct swap {
    struct loop *L;
    struct control *ctl; /* may be NULL */
    pthread_t thread;
    sem_t wake; /* posted for a request, a model taken, a stop: never lost, never waits */
    atomic_bool stop, finished;

    /* the driver's own */
    char want[ROLES][PARAM_STRING_MAX];
    char posted[ROLES][PARAM_STRING_MAX];

    pthread_mutex_t mu; /* guards request, request_seq, busy's clearing; the driver try-locks */
    char request[ROLES][PARAM_STRING_MAX];
    uint64_t request_seq;
    atomic_bool busy;

    /* the loader's own */
    char running[ROLES][PARAM_STRING_MAX];
    char refused[ROLES][PARAM_STRING_MAX]; /* refused for the request being served */
    uint64_t seq_seen;
    atomic_ulong refused_count, swapped_count;

    /* the handoff (above): role, setting and fresh written by the loader before READY; fresh
     * and swapped_at by the driver before TAKEN */
    _Atomic int handoff;
    enum loop_role role;
    char setting[PARAM_STRING_MAX];
    struct loop_model fresh;
    uint64_t swapped_at;
};

/* ---- the driver's side --------------------------------------------------------------- */

void swap_want(struct swap *sw, const struct params *p)
{
    if (!sw)
        return;
    snprintf(sw->want[LOOP_PAINTER], PARAM_STRING_MAX, "%s", p->loop.painter);
    snprintf(sw->want[LOOP_SKETCHER], PARAM_STRING_MAX, "%s", p->loop.sketcher);
}

/* What swap_want asked for, to the loader, unless the loader holds the mailbox this very
 * instant (it copies two strings): then at the next call. */
static void request_post(struct swap *sw)
{
    if (memcmp(sw->want, sw->posted, sizeof sw->want) == 0 || pthread_mutex_trylock(&sw->mu))
        return;
    memcpy(sw->request, sw->want, sizeof sw->request);
    sw->request_seq++;
    atomic_store(&sw->busy, true);
    pthread_mutex_unlock(&sw->mu);
    memcpy(sw->posted, sw->want, sizeof sw->posted);
    sem_post(&sw->wake);
}

/* A ready model into the loop: a struct copy. The loader frees the old one. */
static bool handoff_take(struct swap *sw)
{
    if (atomic_load_explicit(&sw->handoff, memory_order_acquire) != HANDOFF_READY)
        return false;
    loop_swap_model(sw->L, sw->role, &sw->fresh, sw->setting);
    sw->swapped_at = sw->L->iterations;
    atomic_store_explicit(&sw->handoff, HANDOFF_TAKEN, memory_order_release);
    sem_post(&sw->wake);
    return true;
}

bool swap_between(struct swap *sw)
{
    if (!sw)
        return false;
    request_post(sw);
    return handoff_take(sw);
}

unsigned long swap_swapped(const struct swap *sw)
{
    return sw ? atomic_load(&((struct swap *)sw)->swapped_count) : 0;
}

unsigned long swap_refused(const struct swap *sw)
{
    return sw ? atomic_load(&((struct swap *)sw)->refused_count) : 0;
}

bool swap_busy(const struct swap *sw)
{
    return sw && (atomic_load(&((struct swap *)sw)->busy) ||
                  memcmp(sw->want, sw->posted, sizeof sw->want) != 0);
}

/* ---- the loader's side --------------------------------------------------------------- */

static void wake_wait(struct swap *sw)
{
    while (sem_wait(&sw->wake) != 0 && errno == EINTR)
        ;
}

/* Freed heap back to the system: glibc keeps freed blocks in its arenas (one per thread
 * that allocated), so without this a model's worth of pages stays resident after each
 * swap. Off the loop's thread, after a free, so its cost (a walk of the arenas) is
 * nobody's wait. */
static void heap_return(void)
{
#ifdef __GLIBC__
    malloc_trim(0);
#endif
}

/* The control's value of role back to the model that runs, unless something newer was
 * asked for meanwhile. The control has no compare-and-set: a change that lands between
 * the get and the set is lost, and the running model stays, which is what a refusal
 * means anyway. */
static void value_restore(struct swap *sw, enum loop_role role, const char *refused)
{
    if (!sw->ctl)
        return;
    char name[32], now[PARAM_TEXT_MAX];
    struct error err;
    snprintf(name, sizeof name, "loop.%s", loop_role_name(role));
    if (control_get(sw->ctl, name, now, sizeof now, &err) == 0 && strcmp(now, refused) == 0 &&
        control_set(sw->ctl, name, sw->running[role], &err))
        log_warn("live: %s cannot go back to %s: %s", name, sw->running[role], err.msg);
}

static void refuse(struct swap *sw, enum loop_role role, const char *setting,
                   const struct error *err)
{
    atomic_fetch_add(&sw->refused_count, 1);
    snprintf(sw->refused[role], PARAM_STRING_MAX, "%s", setting);
    log_warn("live: %s; nothing changes, the piece keeps loop.%s = %s", err->msg,
             loop_role_name(role), sw->running[role]);
    value_restore(sw, role, setting);
}

/* Until the driver has taken the ready model; false when stopped first. */
static bool taken_wait(struct swap *sw)
{
    while (atomic_load_explicit(&sw->handoff, memory_order_acquire) != HANDOFF_TAKEN) {
        if (atomic_load(&sw->stop))
            return false;
        wake_wait(sw);
    }
    return true;
}

/* Loads setting for role, hands it over, frees what it replaced. */
static void model_replace(struct swap *sw, enum loop_role role, const char *setting)
{
    struct error err;
    if (loop_model_load(sw->L, role, setting, &sw->fresh, &err)) {
        refuse(sw, role, setting, &err);
        return;
    }
    sw->role = role;
    snprintf(sw->setting, sizeof sw->setting, "%s", setting);
    atomic_store_explicit(&sw->handoff, HANDOFF_READY, memory_order_release);
    bool taken = taken_wait(sw);
    char old[sizeof sw->fresh.path];
    snprintf(old, sizeof old, "%s", sw->fresh.path); /* after TAKEN: the model that ran */
    loop_model_close(&sw->fresh);
    heap_return();
    atomic_store_explicit(&sw->handoff, HANDOFF_EMPTY, memory_order_release);
    if (!taken)
        return;
    snprintf(sw->running[role], PARAM_STRING_MAX, "%s", setting);
    atomic_fetch_add(&sw->swapped_count, 1);
    log_line(LOG_NOTICE, "live: loop.%s = %s swapped in after iteration %llu (%s freed)",
             loop_role_name(role), setting, (unsigned long long)sw->swapped_at, old);
}

/* The first role whose request is neither what runs nor refused already, or -1. */
static int role_pending(const struct swap *sw, char request[ROLES][PARAM_STRING_MAX])
{
    for (int r = 0; r < ROLES; r++)
        if (strcmp(request[r], sw->running[r]) != 0 && strcmp(request[r], sw->refused[r]) != 0)
            return r;
    return -1;
}

/* Serves the newest request until nothing differs from what runs. */
static void requests_serve(struct swap *sw)
{
    char request[ROLES][PARAM_STRING_MAX];
    while (!atomic_load(&sw->stop)) {
        pthread_mutex_lock(&sw->mu);
        if (sw->request_seq != sw->seq_seen) { /* a new request: refusals start over */
            memset(sw->refused, 0, sizeof sw->refused);
            sw->seq_seen = sw->request_seq;
        }
        memcpy(request, sw->request, sizeof request);
        int role = role_pending(sw, request);
        if (role < 0)
            atomic_store(&sw->busy, false);
        pthread_mutex_unlock(&sw->mu);
        if (role < 0)
            return;
        model_replace(sw, (enum loop_role)role, request[role]);
    }
}

/* glibc serves a block of 128 KiB or more with its own mapping, until the first such block
 * is freed: then it raises that threshold to the freed size, and later model-sized blocks
 * (weights, activation arenas) come from the arenas, where a swap's frees leave them
 * scattered among what stays (about 1 MiB of resident noise over 200 swaps, measured).
 * Fixed at the default, every big block stays a mapping that goes back to the system when
 * freed. Only allocation at load time is concerned: nothing allocates per iteration. */
static void heap_policy(void)
{
#ifdef __GLIBC__
    mallopt(M_MMAP_THRESHOLD, 128 * 1024);
#endif
}

static void *loader_thread(void *arg)
{
    struct swap *sw = arg;
    while (!atomic_load(&sw->stop)) {
        wake_wait(sw);
        requests_serve(sw);
    }
    atomic_store(&sw->finished, true);
    return NULL;
}

/* ---- open, close ------------------------------------------------------------------- */

struct swap *swap_open(struct loop *L, struct control *ctl, struct error *err)
{
    struct swap *sw = calloc(1, sizeof *sw);
    if (!sw) {
        error_set(err, "out of memory for the model swap");
        return NULL;
    }
    sw->L = L;
    sw->ctl = ctl;
    for (int r = 0; r < ROLES; r++) {
        const char *setting = loop_model_setting(L, (enum loop_role)r);
        snprintf(sw->running[r], PARAM_STRING_MAX, "%s", setting);
        memcpy(sw->want[r], sw->running[r], PARAM_STRING_MAX);
        memcpy(sw->posted[r], sw->running[r], PARAM_STRING_MAX);
        memcpy(sw->request[r], sw->running[r], PARAM_STRING_MAX);
    }
    heap_policy();
    pthread_mutex_init(&sw->mu, NULL);
    sem_init(&sw->wake, 0, 0);
    int rc = pthread_create(&sw->thread, NULL, loader_thread, sw);
    if (rc) {
        error_set(err, "cannot start the model loading thread (%s)", strerror(rc));
        sem_destroy(&sw->wake);
        pthread_mutex_destroy(&sw->mu);
        free(sw);
        return NULL;
    }
    return sw;
}

/* How long swap_close waits for a load in progress before it leaves it behind. */
#define CLOSE_WAIT_S 2

void swap_close(struct swap *sw)
{
    if (!sw)
        return;
    atomic_store(&sw->stop, true);
    sem_post(&sw->wake);
    for (double until = clock_now() + CLOSE_WAIT_S; !atomic_load(&sw->finished);) {
        if (clock_now() >= until)
            break;
        clock_sleep_until(clock_now() + 0.01);
    }
    if (!atomic_load(&sw->finished)) {
        log_warn("live: the model loader is stuck in a load (a file that does not finish "
                 "reading?); left behind as the piece exits");
        pthread_detach(sw->thread);
        return; /* sw stays: the loader still uses it */
    }
    pthread_join(sw->thread, NULL);
    sem_destroy(&sw->wake);
    pthread_mutex_destroy(&sw->mu);
    free(sw);
}

/* control.c — see control.h. The mailbox, the control thread, config reloads, presets,
 * MIDI mapping, applying OSC requests, and control_follow (the glide is params/glide.c). */
#include "control.h"
#include "control_internal.h"
#include "clock.h"
#include "fault.h"
#include "log.h"

#include "config.h"
#include "osc.h"
#include "presets.h"
#include "web.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#define NAME_MAX_LEN 128
#define MIDI_FDS     8
/* How long control_close waits for the thread. It wakes at once (its eventfd) unless a
 * read blocks it (a FIFO in the config, a hung network file system): then the piece exits
 * without it, its state already saved, rather than hang until a supervisor's SIGKILL
 * (systemd: TimeoutStopSec=10s). */
#define JOIN_WAIT_S 2.0

struct control {
    /* mailbox: everything below `mu` is guarded by it; held only for copies */
    pthread_mutex_t mu;
    struct params desired; /* what every source asked for; restart-only = as started */
    atomic_bool pending, reseed;
    atomic_bool reload; /* SIGHUP: read the config file again now */
    char error[ERROR_MSG_MAX];
    uint64_t error_seq;
    char load_preset[NAME_MAX_LEN], save_preset[NAME_MAX_LEN], learn[NAME_MAX_LEN];

    /* the control thread's own */
    pthread_t thread;
    bool running;
    atomic_bool quit;
    atomic_bool finished;  /* the thread has returned: joining it cannot wait */
    atomic_bool reloading; /* it is reading the config file (what a stuck thread is doing) */
    bool hang_on_reload;   /* MNEMO_FAULT=control:hang_on_reload (control.h) */
    int wake_fd;           /* eventfd: stop, or a queued request */
    char *config_path;
    char **overrides;
    size_t override_count;
    struct params file; /* the last good load of the file (+ overrides) */
    struct watch watch;
    bool watching;
    struct osc *osc;
    int osc_port;
    struct web *web; /* web.enabled: its own threads (web.h) */
    struct midi_in *midi;
    struct midi_map map; /* parsed from map_text */
    char map_text[PARAM_TEXT_MAX];
};

static void control_reject(struct control *ctl, const char *fmt, ...) MNEMO_PRINTF(2, 3);

/* A rejected change: logged as a warning and kept as control_last_error. */
static void control_reject(struct control *ctl, const char *fmt, ...)
{
    char msg[ERROR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    log_warn("%s", msg);
    pthread_mutex_lock(&ctl->mu);
    memcpy(ctl->error, msg, sizeof msg);
    ctl->error_seq++;
    pthread_mutex_unlock(&ctl->mu);
}

static void wake(struct control *ctl)
{
    uint64_t one = 1;
    if (write(ctl->wake_fd, &one, sizeof one) < 0) {
        /* The counter cannot overflow in practice; a lost wake-up only delays a request. */
    }
}

/* ---- the mailbox ------------------------------------------------------------------- */

bool control_take(struct control *ctl, struct params *target)
{
    if (!ctl || !atomic_load(&ctl->pending))
        return false;
    if (pthread_mutex_trylock(&ctl->mu) != 0)
        return false; /* a writer holds it for a copy: next iteration */
    *target = ctl->desired;
    atomic_store(&ctl->pending, false);
    pthread_mutex_unlock(&ctl->mu);
    return true;
}

bool control_take_reseed(struct control *ctl)
{
    return ctl && atomic_exchange(&ctl->reseed, false);
}

void control_reload(struct control *ctl)
{
    if (!ctl)
        return;
    atomic_store(&ctl->reload, true);
    uint64_t one = 1;
    if (write(ctl->wake_fd, &one, sizeof one) < 0)
        return; /* the eventfd is full: a wake-up is pending anyway */
}

void control_reseed(struct control *ctl)
{
    atomic_store(&ctl->reseed, true);
}

uint64_t control_last_error(struct control *ctl, char *buf, size_t size)
{
    pthread_mutex_lock(&ctl->mu);
    snprintf(buf, size, "%s", ctl->error);
    uint64_t seq = ctl->error_seq;
    pthread_mutex_unlock(&ctl->mu);
    return seq;
}

/* The desired parameters, copied under the mailbox lock. */
static void control_snapshot(struct control *ctl, struct params *out)
{
    pthread_mutex_lock(&ctl->mu);
    *out = ctl->desired;
    pthread_mutex_unlock(&ctl->mu);
}

/* A validated change to one live parameter from `remote` (a source away from the machine:
 * "OSC"; setup parameters refused) or, when NULL, the machine's own keyboard. */
static int control_set_def(struct control *ctl, const struct param_def *def, const char *value,
                           const char *remote, struct error *err)
{
    if (remote && param_check_remote(def, remote, err))
        return -1;
    if (!(def->flags & PARAM_LIVE))
        return error_set(err, "%s is restart-only: change it in the config file and restart",
                         def->name);
    pthread_mutex_lock(&ctl->mu);
    int rc = param_set(&ctl->desired, def, value, err); /* validates before it stores */
    if (rc == 0)
        atomic_store(&ctl->pending, true);
    pthread_mutex_unlock(&ctl->mu);
    return rc;
}

int control_set(struct control *ctl, const char *name, const char *value, struct error *err)
{
    const struct param_def *def = params_find(name);
    return def ? control_set_def(ctl, def, value, NULL, err) : params_unknown_error(name, err);
}

int control_set_from(struct control *ctl, const char *name, const char *value, const char *source,
                     const char *who, struct error *err)
{
    const struct param_def *def = params_find(name);
    int rc = def ? control_set_def(ctl, def, value, source, err) : params_unknown_error(name, err);
    if (rc)
        control_reject(ctl, "%s ignored: %s", who, err->msg);
    return rc;
}

void control_params(struct control *ctl, struct params *out)
{
    control_snapshot(ctl, out);
}

void control_post_status(struct control *ctl, const char *stats_json)
{
    if (ctl)
        web_post_status(ctl->web, stats_json);
}

void control_post_frame(struct control *ctl, const float *portrait, int32_t size)
{
    if (ctl)
        web_post_frame(ctl->web, portrait, size);
}

bool control_serves_web(const struct control *ctl)
{
    return ctl && ctl->web;
}

int control_web_port(const struct control *ctl)
{
    return ctl ? web_port(ctl->web) : 0;
}

int control_get(struct control *ctl, const char *name, char *buf, size_t size, struct error *err)
{
    const struct param_def *def = params_find(name);
    if (!def)
        return params_unknown_error(name, err);
    pthread_mutex_lock(&ctl->mu);
    param_format_public(&ctl->desired, def, buf, size);
    pthread_mutex_unlock(&ctl->mu);
    return 0;
}

int control_osc_port(const struct control *ctl)
{
    return ctl ? ctl->osc_port : 0;
}

/* ---- requests queued to the thread ------------------------------------------------- */

static void request(struct control *ctl, char *slot, const char *name)
{
    pthread_mutex_lock(&ctl->mu);
    snprintf(slot, NAME_MAX_LEN, "%s", name ? name : "");
    pthread_mutex_unlock(&ctl->mu);
    wake(ctl);
}

void control_preset_load(struct control *ctl, const char *name)
{
    request(ctl, ctl->load_preset, name);
}

void control_preset_save(struct control *ctl, const char *name)
{
    request(ctl, ctl->save_preset, name);
}

int control_midi_learn(struct control *ctl, const char *param, struct error *err)
{
    if (param) {
        /* Refused now, not when the knob moves: a parameter no knob can drive. */
        char entry[NAME_MAX_LEN + 16];
        snprintf(entry, sizeof entry, "cc=0 param=%.100s", param);
        if (midi_map_check(entry, err))
            return -1;
    }
    pthread_mutex_lock(&ctl->mu);
    snprintf(ctl->learn, sizeof ctl->learn, "%s", param ? param : "");
    pthread_mutex_unlock(&ctl->mu);
    if (param)
        log_line(LOG_NOTICE, "live: midi learn: move a knob to bind it to %s", param);
    return 0;
}

bool control_midi_learning(struct control *ctl, char *buf, size_t size)
{
    pthread_mutex_lock(&ctl->mu);
    snprintf(buf, size, "%s", ctl->learn);
    pthread_mutex_unlock(&ctl->mu);
    return *buf != '\0';
}

/* Takes a queued name out of its slot (empty when none). */
static void take_request(struct control *ctl, char *slot, char *name)
{
    pthread_mutex_lock(&ctl->mu);
    memcpy(name, slot, NAME_MAX_LEN);
    slot[0] = '\0';
    pthread_mutex_unlock(&ctl->mu);
}

static void preset_load_now(struct control *ctl, const char *name)
{
    static _Thread_local struct params p;
    control_snapshot(ctl, &p);
    struct error err;
    if (preset_load(p.control.presets, name, &p, &err)) {
        control_reject(ctl, "preset %s not loaded: %s", name, err.msg);
        return;
    }
    pthread_mutex_lock(&ctl->mu);
    params_glide(&ctl->desired, &p, 1.0f); /* live values only, in one step */
    atomic_store(&ctl->pending, true);
    pthread_mutex_unlock(&ctl->mu);
    log_line(LOG_NOTICE, "live: preset %s loaded", name);
}

static void preset_save_now(struct control *ctl, const char *name)
{
    static _Thread_local struct params p;
    control_snapshot(ctl, &p);
    struct error err;
    if (preset_save(p.control.presets, name, &p, &err))
        control_reject(ctl, "preset %s not saved: %s", name, err.msg);
    else
        log_line(LOG_NOTICE, "live: preset %s saved to %s/%s.cfg", name, p.control.presets, name);
}

static void thread_reload(struct control *ctl);

static void requests_serve(struct control *ctl)
{
    if (atomic_exchange(&ctl->reload, false)) {
        if (ctl->config_path)
            thread_reload(ctl);
        else
            log_line(LOG_NOTICE,
                     "live: reload asked for (SIGHUP), but the piece runs without --config");
    }
    char name[NAME_MAX_LEN];
    take_request(ctl, ctl->save_preset, name);
    if (*name)
        preset_save_now(ctl, name);
    take_request(ctl, ctl->load_preset, name);
    if (*name)
        preset_load_now(ctl, name);
}

/* ---- MIDI -------------------------------------------------------------------------- */

/* midi.map may have changed by any source: parse it again when its text did. Under mu. */
static void map_refresh(struct control *ctl, const char *text)
{
    if (strcmp(text, ctl->map_text) == 0)
        return;
    struct error err;
    if (midi_map_parse(&ctl->map, text, &err)) {
        ctl->map.count = 0; /* not expected: midi.map is validated on every set */
        log_warn("midi.map: %s", err.msg);
    }
    snprintf(ctl->map_text, sizeof ctl->map_text, "%s", text);
}

/* The CC binds the parameter waiting in learn mode; true when it did. */
static bool learn_take(struct control *ctl, const struct midi_cc *ev)
{
    bool learnt = false;
    struct error err = {{0}};
    pthread_mutex_lock(&ctl->mu);
    if (ctl->learn[0]) {
        learnt = midi_map_learn(ctl->desired.midi.map, sizeof ctl->desired.midi.map, ev, ctl->learn,
                                &err) == 0;
        atomic_store(&ctl->pending, true);
    }
    char param[NAME_MAX_LEN];
    memcpy(param, ctl->learn, sizeof param);
    ctl->learn[0] = '\0';
    pthread_mutex_unlock(&ctl->mu);
    if (learnt)
        log_line(LOG_NOTICE, "live: midi learn: cc %d now drives %s", ev->cc, param);
    else if (*param)
        control_reject(ctl, "midi learn of %s: %s", param, err.msg);
    return *param != '\0';
}

void control_midi_event(struct control *ctl, const struct midi_cc *ev)
{
    if (learn_take(ctl, ev))
        return;
    pthread_mutex_lock(&ctl->mu);
    map_refresh(ctl, ctl->desired.midi.map);
    if (midi_map_apply(&ctl->map, ev, &ctl->desired) > 0)
        atomic_store(&ctl->pending, true);
    pthread_mutex_unlock(&ctl->mu);
}

static void midi_serve(struct control *ctl)
{
    struct midi_cc evs[64];
    int n = midi_in_read(ctl->midi, evs, 64);
    for (int i = 0; i < n; i++)
        control_midi_event(ctl, &evs[i]);
}

/* ---- OSC --------------------------------------------------------------------------- */

static void osc_set(struct control *ctl, const struct osc_request *rq)
{
    struct error err;
    if (control_set_def(ctl, rq->def, rq->value, "OSC", &err))
        control_reject(ctl, "osc " OSC_PREFIX "%s from %s ignored: %s", rq->def->name, rq->who,
                       err.msg);
}

static void osc_get(struct control *ctl, struct osc *o, const struct osc_request *rq)
{
    static _Thread_local struct params p;
    control_snapshot(ctl, &p);
    osc_reply_value(o, rq, &p);
}

void control_osc_request(struct control *ctl, struct osc *o, const struct osc_request *rq)
{
    switch (rq->kind) {
    case OSC_SET:
        osc_set(ctl, rq);
        break;
    case OSC_GET:
        osc_get(ctl, o, rq);
        break;
    case OSC_LIST:
        osc_reply_list(o, rq);
        break;
    case OSC_PRESET:
        control_preset_load(ctl, rq->name);
        break;
    case OSC_RESEED:
        control_reseed(ctl);
        break;
    case OSC_IGNORED:
        control_reject(ctl, "%s", rq->why);
        break;
    }
}

static void osc_serve(struct control *ctl)
{
    static _Thread_local struct osc_request rq;
    while (osc_receive(ctl->osc, &rq))
        control_osc_request(ctl, ctl->osc, &rq);
}

/* ---- config reload ----------------------------------------------------------------- */

/* defaults + file + -o, as the piece started; the file list goes to the watcher. */
static int file_load(struct control *ctl, struct params *p, struct error *err)
{
    params_defaults(p);
    if (ctl->watching)
        watch_reset_files(&ctl->watch);
    if (params_load_file_watched(p, ctl->config_path, ctl->watching ? watch_add : NULL, &ctl->watch,
                                 err))
        return -1;
    for (size_t i = 0; i < ctl->override_count; i++)
        if (params_set_assignment(p, ctl->overrides[i], err))
            return error_prefix(err, "-o %s", ctl->overrides[i]);
    return 0;
}

/* Appends name to a ", "-separated list, keeping the end when it overflows. */
static void list_add(char *list, size_t size, const char *name)
{
    size_t used = strlen(list);
    snprintf(list + used, size - used, "%s%s", used ? ", " : "", name);
}

/* Takes the parameters that changed in the file into the desired set: what OSC or MIDI
 * changed since stays as it is unless the file changes that same parameter. */
static void file_apply(struct control *ctl, const struct params *next, bool quiet)
{
    char live[2048] = "", restart[2048] = "";
    pthread_mutex_lock(&ctl->mu);
    for (size_t i = 0; i < params_count(); i++) {
        const struct param_def *def = params_at(i);
        if (param_equal(def, &ctl->file, next))
            continue;
        if (def->flags & PARAM_LIVE) {
            param_copy(def, &ctl->desired, next);
            list_add(live, sizeof live, def->name);
        } else if (!param_equal(def, &ctl->desired, next)) {
            list_add(restart, sizeof restart, def->name); /* differs from what runs */
        }
    }
    if (*live)
        atomic_store(&ctl->pending, true);
    ctl->error[0] = '\0';
    pthread_mutex_unlock(&ctl->mu);
    if (*live || !quiet)
        log_line(LOG_NOTICE, "live: %s: %s%s", ctl->config_path,
                 *live ? "changed " : "no live change", live);
    if (*restart)
        log_line(LOG_NOTICE, "live: %s: restart needed for: %s", ctl->config_path, restart);
}

static void config_reload(struct control *ctl, bool quiet)
{
    static _Thread_local struct params next;
    struct error err;
    int rc = file_load(ctl, &next, &err);
    ctl->watch.broken = rc != 0;
    if (rc) {
        control_reject(ctl, "%s (the piece keeps its last good values)", err.msg);
        return;
    }
    file_apply(ctl, &next, quiet);
    ctl->file = next;
}

/* ---- the thread -------------------------------------------------------------------- */

/* A reload on the control's own thread (a save seen, SIGHUP). It may block for good in a
 * read (a FIFO, a hung file system), which control_close survives; the fault seam makes
 * it do so on purpose. */
static void thread_reload(struct control *ctl)
{
    atomic_store(&ctl->reloading, true);
    if (ctl->hang_on_reload) {
        log_warn("MNEMO_FAULT=control:hang_on_reload: the control thread hangs here for good");
        for (;;)
            pause();
    }
    config_reload(ctl, false);
    atomic_store(&ctl->reloading, false);
}

static int pollfds_build(struct control *ctl, struct pollfd *fds)
{
    int n = 0;
    fds[n++] = (struct pollfd){.fd = ctl->wake_fd, .events = POLLIN};
    fds[n++] = (struct pollfd){.fd = ctl->watching ? ctl->watch.fd : -1, .events = POLLIN};
    fds[n++] = (struct pollfd){.fd = ctl->osc ? osc_fd(ctl->osc) : -1, .events = POLLIN};
    if (ctl->midi)
        n += midi_in_pollfds(ctl->midi, fds + n, MIDI_FDS);
    return n;
}

static void *control_thread(void *arg)
{
    struct control *ctl = arg;
    struct pollfd fds[3 + MIDI_FDS];
    while (!atomic_load(&ctl->quit)) {
        int n = pollfds_build(ctl, fds);
        if (poll(fds, (nfds_t)n, -1) < 0)
            continue; /* EINTR */
        if (fds[0].revents & POLLIN) {
            uint64_t count;
            if (read(ctl->wake_fd, &count, sizeof count) < 0)
                count = 0;
            requests_serve(ctl);
        }
        if ((fds[1].revents & POLLIN) && watch_changed(&ctl->watch))
            thread_reload(ctl);
        if (fds[2].revents & POLLIN)
            osc_serve(ctl);
        if (n > 3)
            midi_serve(ctl);
    }
    atomic_store(&ctl->finished, true);
    return NULL;
}

/* ---- open / close ------------------------------------------------------------------ */

static int options_copy(struct control *ctl, const struct control_options *o, struct error *err)
{
    if (o->config_path && !(ctl->config_path = strdup(o->config_path)))
        return error_set(err, "out of memory");
    ctl->overrides = calloc(o->override_count + 1, sizeof *ctl->overrides);
    if (!ctl->overrides)
        return error_set(err, "out of memory");
    for (size_t i = 0; i < o->override_count; i++)
        if (!(ctl->overrides[ctl->override_count++] = strdup(o->overrides[i])))
            return error_set(err, "out of memory");
    return 0;
}

/* Watching starts from a load of its own, so that the file list (includes) is known and
 * an edit saved while the models were loading is not lost. */
static int watch_start(struct control *ctl, struct error *err)
{
    if (!ctl->config_path || !ctl->desired.control.watch)
        return 0;
    if (watch_open(&ctl->watch, err))
        return -1;
    ctl->watching = true;
    config_reload(ctl, true);
    return 0;
}

static void midi_start(struct control *ctl)
{
    if (!ctl->desired.midi.enabled)
        return;
    struct error err;
    ctl->midi = midi_in_open(&err);
    if (!ctl->midi)
        log_line(LOG_NOTICE, "live: midi: %s; carrying on without MIDI", err.msg);
}

static int sources_start(struct control *ctl, struct error *err)
{
    if (watch_start(ctl, err))
        return -1;
    if (ctl->desired.osc.enabled) {
        ctl->osc = osc_open(ctl->desired.osc.address, ctl->desired.osc.port, err);
        if (!ctl->osc)
            return -1;
        ctl->osc_port = osc_port(ctl->osc);
        log_line(LOG_NOTICE, "live: osc: listening on %s:%d", ctl->desired.osc.address,
                 ctl->osc_port);
    }
    midi_start(ctl);
    if (ctl->desired.web.enabled && !(ctl->web = web_open(ctl, &ctl->desired, err)))
        return -1;
    return 0;
}

struct control *control_open(const struct control_options *o, const struct params *start,
                             struct error *err)
{
    struct control *ctl = calloc(1, sizeof *ctl);
    if (!ctl) {
        error_set(err, "out of memory for the control");
        return NULL;
    }
    pthread_mutex_init(&ctl->mu, NULL);
    ctl->desired = *start;
    ctl->file = o->loaded ? *o->loaded : *start;
    ctl->watch.fd = -1;
    ctl->hang_on_reload = fault_switch("control", "hang_on_reload");
    ctl->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    int rc = ctl->wake_fd < 0 ? error_set(err, "eventfd failed") : options_copy(ctl, o, err);
    if (rc == 0)
        rc = sources_start(ctl, err);
    if (rc == 0 && pthread_create(&ctl->thread, NULL, control_thread, ctl) != 0)
        rc = error_set(err, "cannot start the control thread");
    ctl->running = rc == 0;
    if (rc) {
        control_close(ctl);
        return NULL;
    }
    return ctl;
}

/* Asks the thread to quit and joins it when it does within JOIN_WAIT_S; false when it
 * did not (it is still running, blocked somewhere). */
static bool thread_stop(struct control *ctl)
{
    atomic_store(&ctl->quit, true);
    wake(ctl);
    for (double until = clock_now() + JOIN_WAIT_S; !atomic_load(&ctl->finished);) {
        if (clock_now() >= until)
            return false;
        clock_sleep_until(clock_now() + 0.01);
    }
    pthread_join(ctl->thread, NULL);
    return true;
}

void control_close(struct control *ctl)
{
    if (!ctl)
        return;
    if (ctl->running && !thread_stop(ctl)) {
        log_line(LOG_ERR,
                 "live: the control thread did not stop within %.0f s (%s); the piece exits "
                 "without it",
                 JOIN_WAIT_S,
                 atomic_load(&ctl->reloading)
                     ? "it is stuck reading the config file or an @include: a FIFO, a device "
                       "or a hung file system?"
                     : "it is stuck");
        return; /* what it holds stays: it may still touch it, and the process is ending */
    }
    web_close(ctl->web); /* first: its threads read the mailbox */
    osc_close(ctl->osc);
    midi_in_close(ctl->midi);
    if (ctl->watching)
        watch_close(&ctl->watch);
    if (ctl->wake_fd >= 0)
        close(ctl->wake_fd);
    for (size_t i = 0; i < ctl->override_count; i++)
        free(ctl->overrides[i]);
    free(ctl->overrides);
    free(ctl->config_path);
    pthread_mutex_destroy(&ctl->mu);
    free(ctl);
}

/* ---- the driver's side ------------------------------------------------------------- */

bool control_follow(struct control *ctl, struct glide *g, double now_s)
{
    static _Thread_local struct params taken;
    if (control_take(ctl, &taken))
        glide_retarget(g, &taken, now_s);
    return glide_advance(g, now_s);
}

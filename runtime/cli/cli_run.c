/* cli_run.c — `mnemo [run]`: the piece, and `mnemo params` / `mnemo check` on its settings.
 *
 * Settings come in this order, each on top of the last: the registry's defaults, the
 * --config file, then every -o name=value, then --seed and --backend. Each is validated
 * against the registry (params.c) with a message naming the file:line or the option. */
#include "checkpoint.h"
#include "clock.h"
#include "cli.h"
#include "config.h"
#include "control.h"
#include "datapath.h"
#include "headless.h"
#include "kiosk.h"
#include "log.h"
#include "show.h"
#include "signals.h"
#include "step.h"
#include "supervise.h"
#include "swap.h"

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct run_args {
    const char *config, *backend, *out, *stats, *record;
    int64_t frames, iterations;
    bool headless, supervise;
    const char *watchdog;
};

/* Longest sleep between two signs of life while pacing (kiosk.h's watchdog). */
#define PACE_SLICE_S 0.25

static volatile sig_atomic_t stop_requested;
/* The settings as the config file and the command line gave them, before what the process
 * adds itself (systemd's StateDirectory, a checkpoint's live values): what a reload of the
 * file is compared with to tell what the file changed. */
static struct params settings_as_loaded;
static struct control *volatile reload_control; /* what SIGHUP reloads */

static void on_stop_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

static void on_reload_signal(int sig)
{
    (void)sig;
    control_reload(reload_control);
}

/* SIGTERM/SIGINT stop the piece cleanly, every time (signal_catch: a second SIGTERM
 * during shutdown must not kill the process before it saves its state); SIGHUP reads the
 * config again (`systemctl reload`) and must never end the piece, even with nothing to
 * reload. SIGPIPE: stderr to a journal that restarted gives EPIPE, not death (ffmpeg
 * children get it back at its default, capture_video.c). */
static void signals_install(struct control *ctl)
{
    reload_control = ctl;
    signal_catch(SIGINT, on_stop_signal);
    signal_catch(SIGTERM, on_stop_signal);
    signal_catch(SIGHUP, ctl ? on_reload_signal : SIG_IGN);
    signal_catch(SIGPIPE, SIG_IGN);
}

static int usage_error(const char *fmt, const char *what)
{
    fprintf(stderr, "mnemo run: ");
    fprintf(stderr, fmt, what);
    fprintf(stderr, "\n(see mnemo --help)\n");
    return MNEMO_EXIT_USAGE;
}

/* An -o, --seed or --backend into the parameters; MNEMO_EXIT_OK or a usage error. */
static int override_apply(struct params *p, const char *name, const char *value)
{
    struct error err;
    int rc = name ? params_set(p, name, value, &err) : params_set_assignment(p, value, &err);
    if (rc) {
        fprintf(stderr, "mnemo run: %s\n", err.msg);
        return MNEMO_EXIT_USAGE;
    }
    return MNEMO_EXIT_OK;
}

static int count_parse(int64_t *count, const char *option, const char *text)
{
    char *end;
    long long n = strtoll(text, &end, 10);
    if (*end || n < 1 || n > 1000000000) {
        fprintf(stderr, "mnemo run: %s takes a count from 1 to 1000000000, not '%s'\n", option,
                text);
        return MNEMO_EXIT_USAGE;
    }
    *count = n;
    return MNEMO_EXIT_OK;
}

/* One option at argv[*i] that takes a value; *handled says whether it was one. */
static int value_option(struct run_args *a, int argc, char **argv, int *i, bool *handled, bool *bad)
{
    const char *v;
    *handled = true;
    if ((v = cli_option(argc, argv, i, "--config", bad)))
        a->config = v;
    else if ((v = cli_option(argc, argv, i, "--out", bad)))
        a->out = v;
    else if ((v = cli_option(argc, argv, i, "--stats", bad)))
        a->stats = v;
    else if ((v = cli_option(argc, argv, i, "--record", bad)))
        a->record = v; /* second pass: capture.out */
    else if ((v = cli_option(argc, argv, i, "--backend", bad)))
        a->backend = v;
    else if ((v = cli_option(argc, argv, i, "--frames", bad)))
        return count_parse(&a->frames, "--frames", v);
    else if ((v = cli_option(argc, argv, i, "--iterations", bad)))
        return count_parse(&a->iterations, "--iterations", v);
    else
        *handled = false;
    return MNEMO_EXIT_OK;
}

/* First pass: everything but -o/--seed (which apply after the config file). */
static int args_parse(struct run_args *a, int argc, char **argv)
{
    for (int i = 0; i < argc; i++) {
        bool handled, bad = false;
        int rc = value_option(a, argc, argv, &i, &handled, &bad);
        if (bad)
            return MNEMO_EXIT_USAGE;
        if (rc != MNEMO_EXIT_OK || handled)
            continue;
        const char *arg = argv[i];
        if (strcmp(arg, "--headless") == 0)
            a->headless = true;
        else if (strcmp(arg, "--supervise") == 0)
            a->supervise = true;
        else if (strcmp(arg, "--watchdog") == 0 && i + 1 < argc)
            a->watchdog = argv[++i]; /* supervise.c reads it */
        else if ((strcmp(arg, "-o") == 0 || strcmp(arg, "--seed") == 0) && i + 1 < argc)
            i++; /* second pass */
        else if (strcmp(arg, "--windowed") == 0 || strcmp(arg, "--fullscreen") == 0)
            continue; /* second pass: they set present.fullscreen */
        else if (strcmp(arg, "--display") == 0 && i + 1 < argc)
            i++; /* second pass: present.display */
        else
            return usage_error("unknown or incomplete option '%s'", arg);
    }
    return MNEMO_EXIT_OK;
}

/* --record PATH or --record=PATH at argv[*i] (checked by the first pass), or NULL. */
static const char *record_option(int argc, char **argv, int *i)
{
    bool bad = false;
    return cli_option(argc, argv, i, "--record", &bad);
}

/* Second pass, after the config file: -o name=value, --seed N, --display N, --record PATH,
 * --windowed and --fullscreen, in order. */
static int overrides_apply(struct params *p, int argc, char **argv)
{
    for (int i = 0; i < argc; i++) {
        int rc = MNEMO_EXIT_OK;
        const char *record;
        bool has_value = i + 1 < argc;
        if (strcmp(argv[i], "-o") == 0 && has_value)
            rc = override_apply(p, NULL, argv[++i]);
        else if (strcmp(argv[i], "--seed") == 0 && has_value)
            rc = override_apply(p, "loop.seed", argv[++i]);
        else if (strcmp(argv[i], "--display") == 0 && has_value)
            rc = override_apply(p, "present.display", argv[++i]);
        else if ((record = record_option(argc, argv, &i)))
            rc = override_apply(p, "capture.out", record);
        else if (strcmp(argv[i], "--windowed") == 0)
            rc = override_apply(p, "present.fullscreen", "false");
        else if (strcmp(argv[i], "--fullscreen") == 0)
            rc = override_apply(p, "present.fullscreen", "true");
        if (rc != MNEMO_EXIT_OK)
            return rc;
    }
    return MNEMO_EXIT_OK;
}

/* systemd's StateDirectory= (the installed units: /var/lib/mnemo) is where a service keeps
 * its state: the checkpoint goes there unless kiosk.state_dir says otherwise. */
static void state_dir_from_systemd(struct params *p)
{
    const char *dir = getenv("STATE_DIRECTORY");
    if (!dir || !*dir || *p->kiosk.state_dir)
        return;
    size_t len = strcspn(dir, ":"); /* several directories: the first */
    struct error err;
    char value[PARAM_TEXT_MAX];
    snprintf(value, sizeof value, "%.*s", (int)len, dir);
    if (params_set(p, "kiosk.state_dir", value, &err) == 0)
        log_line(LOG_INFO, "kiosk.state_dir = %s (systemd's StateDirectory)", value);
}

static int settings_load(struct params *p, const struct run_args *a, int argc, char **argv)
{
    params_defaults(p);
    datapath_set_config(a->config); /* relative model paths are looked for beside it too */
    struct error err;
    if (a->config && params_load_file(p, a->config, &err)) {
        log_line(LOG_ERR, "%s", err.msg);
        return MNEMO_EXIT_FAILED;
    }
    int rc = overrides_apply(p, argc, argv);
    settings_as_loaded = *p;
    if (rc == MNEMO_EXIT_OK)
        state_dir_from_systemd(p);
    return rc;
}

static int headless_check(const struct run_args *a)
{
    if (a->headless && a->record)
        return usage_error("%s", "--record is for recording while presenting; with --headless "
                                 "the recording is --out PATH");
    if (!a->headless) {
        if (a->frames || a->out || a->iterations)
            return usage_error("%s", "--frames, --out and --iterations need --headless");
        return MNEMO_EXIT_OK; /* the presenter */
    }
    if (a->iterations && !a->frames && !a->out)
        return MNEMO_EXIT_OK; /* the loop alone, nothing recorded */
    if (!a->frames || !a->out || a->iterations)
        return usage_error("%s", "--headless needs --frames N and --out PATH (or --iterations N "
                                 "alone, to run the loop without recording)");
    return MNEMO_EXIT_OK;
}

/* Sleeps until the next iteration's slot at loop.rate iterations per second (read every
 * time: it is live). A loop slower than the rate runs at once and does not try to catch
 * up, so a slow stretch never turns into a burst. */
static void pace(double *next, float rate)
{
    double now = clock_now();
    if (rate <= 0) {
        *next = now;
        return;
    }
    *next = fmax(*next + 1.0 / rate, now);
    /* in slices, each a sign of life, so a slow loop.rate never looks hung to a watchdog */
    for (double t = now; t < *next && !stop_requested; t = clock_now()) {
        clock_sleep_until(fmin(t + PACE_SLICE_S, *next));
        kiosk_alive(KIOSK_LOOP);
    }
}

/* The loop alone for n iterations at loop.rate (soak tests; benchmarks set rate 0):
 * stats, nothing recorded. A failed iteration is retried (piece_step) and does not count. */
static int iterations_run(struct step *s, int64_t n, struct error *err)
{
    double next = clock_now();
    for (int64_t i = 0; i < n && !stop_requested; i++) {
        if (i > 0)
            pace(&next, s->L->p.loop.rate);
        if (piece_step(s, &stop_requested, err))
            return -1;
        stats_tick(s->stats, s->L, 0, false);
    }
    stats_tick(s->stats, s->L, 0, true);
    return 0;
}

/* What overrides_apply sets, as "name=value" in the same order: the control applies them
 * after the config file on every reload, as at start, so that a reload does not take
 * --windowed for a change in the file. One buffer per option that needs one: when an
 * option comes twice, the earlier entry shows the later value, which the later entry sets
 * anyway. Returns how many (at most argc). */
static size_t overrides_collect(int argc, char **argv, const char **out,
                                char (*made)[PARAM_STRING_MAX + 16])
{
    size_t n = 0;
    for (int i = 0; i < argc; i++) {
        bool has_value = i + 1 < argc;
        const char *record;
        if (strcmp(argv[i], "-o") == 0 && has_value) {
            out[n++] = argv[++i];
        } else if (strcmp(argv[i], "--seed") == 0 && has_value) {
            snprintf(made[0], sizeof made[0], "loop.seed=%.40s", argv[++i]);
            out[n++] = made[0];
        } else if (strcmp(argv[i], "--display") == 0 && has_value) {
            snprintf(made[1], sizeof made[1], "present.display=%.40s", argv[++i]);
            out[n++] = made[1];
        } else if ((record = record_option(argc, argv, &i))) {
            snprintf(made[2], sizeof made[2], "capture.out=%.*s", PARAM_STRING_MAX, record);
            out[n++] = made[2];
        } else if (strcmp(argv[i], "--windowed") == 0) {
            out[n++] = "present.fullscreen=false";
        } else if (strcmp(argv[i], "--fullscreen") == 0) {
            out[n++] = "present.fullscreen=true";
        }
    }
    return n;
}

/* Live tuning (control.h) when there is something to listen to; NULL otherwise. */
static int control_start(struct control **ctl, const struct params *p, const struct run_args *a,
                         int argc, char **argv)
{
    *ctl = NULL;
    if (!a->config && !p->osc.enabled && !p->midi.enabled && !p->web.enabled)
        return 0;
    const char **overrides = calloc((size_t)argc + 1, sizeof *overrides);
    char made[3][PARAM_STRING_MAX + 16];
    if (!overrides)
        return -1;
    struct control_options o = {.config_path = a->config,
                                .overrides = overrides,
                                .override_count = overrides_collect(argc, argv, overrides, made),
                                .loaded = &settings_as_loaded};
    struct error err;
    *ctl = control_open(&o, p, &err);
    free(overrides);
    if (!*ctl)
        log_line(LOG_ERR, "%s", err.msg);
    return *ctl ? 0 : -1;
}

/* The piece on an open loop until it ends or is stopped; the exit code. */
static int piece_drive(struct loop *loop, const struct params *p, const struct run_args *a,
                       int argc, char **argv)
{
    struct error err;
    struct stats stats;
    if (stats_open(&stats, a->stats, &err)) {
        log_line(LOG_ERR, "%s", err.msg);
        return MNEMO_EXIT_FAILED;
    }
    /* kiosk.state_dir: continue the piece where the last process left it. */
    static struct params resumed; /* with the live values restored: off the stack */
    resumed = *p;
    struct checkpoint *ck = checkpoint_open(loop, p);
    checkpoint_restore(ck, &resumed);
    p = &resumed;
    struct control *ctl;
    if (control_start(&ctl, p, a, argc, argv)) {
        checkpoint_close(ck);
        stats_close(&stats);
        return MNEMO_EXIT_FAILED;
    }
    /* live model swap; a restored checkpoint may already ask for other models */
    struct swap *swap = swap_open(loop, ctl, &err);
    if (!swap) {
        log_line(LOG_ERR, "%s", err.msg);
        control_close(ctl);
        checkpoint_close(ck);
        stats_close(&stats);
        return MNEMO_EXIT_FAILED;
    }
    swap_want(swap, p);
    signals_install(ctl);
    static struct step step; /* holds two parameter sets: off the stack */
    step_init(&step, loop, &stats, ctl, ck, swap);
    int rc = !a->headless ? show_run(&step, &stop_requested, &err)
             : a->out     ? headless_run(&step, a->frames, a->out, &stop_requested, &err)
                          : iterations_run(&step, a->iterations, &err);
    signals_install(NULL);
    if (rc)
        log_line(LOG_ERR, "%s", err.msg);
    else if (a->out)
        log_line(LOG_INFO, "recorded %s (%llu iterations on %s)", a->out,
                 (unsigned long long)loop->iterations, loop_backend(loop));
    /* Every way out (the end, SIGTERM, a lost device, a failure the loop could not get
     * past) leaves the loop as its last good iteration did: save it for the restart. First,
     * before anything that may wait: the control's thread may be stuck in a read. */
    checkpoint_save_now(ck);
    checkpoint_close(ck);
    swap_close(swap);   /* before the control, which it may set; a load finishes first */
    control_close(ctl); /* never touches the loop; waits for its thread 2 s at most */
    bool lost = loop_device_lost(loop);
    stats_close(&stats);
    if (lost)
        return MNEMO_EXIT_DEVICE_LOST;
    return rc == MNEMO_EXIT_OUTPUT_FAILED ? MNEMO_EXIT_OUTPUT_FAILED
           : rc                           ? MNEMO_EXIT_FAILED
                                          : MNEMO_EXIT_OK;
}

/* kiosk.state_dir for this process alone (checkpoint_lock), or for none when `keep` is
 * false (a look: the supervisor's children take it); MNEMO_EXIT_FAILED when another has it. */
static int state_dir_take(const struct params *p, bool keep)
{
    struct error err;
    if (!p->kiosk.state_dir[0] || checkpoint_lock(p->kiosk.state_dir, keep, &err) == 0)
        return MNEMO_EXIT_OK;
    log_line(LOG_ERR, "%s", err.msg);
    return MNEMO_EXIT_FAILED;
}

static int piece_run(const struct params *p, const struct run_args *a, int argc, char **argv)
{
    /* before the models load and a window opens: a second piece on one state folder stops
     * at once */
    if (state_dir_take(p, true))
        return MNEMO_EXIT_FAILED;
    struct error err;
    unsigned needs = KIOSK_NEEDS(KIOSK_LOOP) | (a->headless ? 0 : KIOSK_NEEDS(KIOSK_PRESENTER));
    if (kiosk_start(needs, &err)) {
        log_line(LOG_ERR, "%s", err.msg);
        return MNEMO_EXIT_FAILED;
    }
    signals_install(NULL); /* a SIGTERM while the models load ends the run once they are */
    struct loop loop;
    int rc = MNEMO_EXIT_FAILED;
    if (loop_open(&loop, p, a->backend, &err)) {
        log_line(LOG_ERR, "%s", err.msg);
    } else {
        rc = stop_requested ? MNEMO_EXIT_OK : piece_drive(&loop, p, a, argc, argv);
        loop_close(&loop);
    }
    kiosk_stop();
    return rc;
}

int cli_run(int argc, char **argv)
{
    struct run_args a = {0};
    int rc = args_parse(&a, argc, argv);
    if (rc == MNEMO_EXIT_OK)
        rc = headless_check(&a);
    if (rc == MNEMO_EXIT_OK && a.watchdog && !a.supervise)
        rc = usage_error("%s", "--watchdog goes with --supervise");
    if (rc != MNEMO_EXIT_OK)
        return rc;
    struct params p;
    rc = settings_load(&p, &a, argc, argv); /* also checked before supervising: fail fast */
    if (rc == MNEMO_EXIT_OK && a.headless && p.capture.out[0])
        log_warn("capture.out ('%s') records while presenting; --headless records to --out only",
                 p.capture.out);
    if (rc == MNEMO_EXIT_OK && a.supervise)
        return state_dir_take(&p, false) ? MNEMO_EXIT_FAILED : supervise_run(argc, argv);
    return rc == MNEMO_EXIT_OK ? piece_run(&p, &a, argc, argv) : rc;
}

/* ---- mnemo params / mnemo check ------------------------------------------------------- */

static void params_list(void)
{
    struct params p;
    params_defaults(&p);
    for (size_t i = 0; i < params_count(); i++) {
        const struct param_def *d = params_at(i);
        char value[PARAM_TEXT_MAX], kind[128];
        printf("%-30s %-38s default %-22s %s\n    %s\n", d->name,
               param_describe(d, kind, sizeof kind),
               param_format_public(&p, d, value, sizeof value),
               !(d->flags & PARAM_LIVE)   ? "restart"
               : (d->flags & PARAM_SETUP) ? "setup"
                                          : "live",
               d->doc);
    }
}

int cli_params(int argc, char **argv)
{
    if (argc == 1 && strcmp(argv[0], "--config") == 0) {
        struct params p;
        params_defaults(&p);
        struct error err;
        if (params_write_config(stdout, &p, &err)) {
            fprintf(stderr, "mnemo params: %s\n", err.msg);
            return MNEMO_EXIT_FAILED;
        }
        return MNEMO_EXIT_OK;
    }
    if (argc != 0) {
        fprintf(stderr, "mnemo params: takes no arguments but --config\n");
        return MNEMO_EXIT_USAGE;
    }
    params_list();
    return MNEMO_EXIT_OK;
}

/* Where the files the settings name are found from here (datapath.h), so that a
 * technician sees before a restart that the piece will find them; a missing model fails. */
static int files_report(const struct params *p)
{
    const char *names[] = {"loop.painter", "loop.sketcher", "loop.seed_image", "loop.seed_bank"};
    const char *paths[] = {p->loop.painter, p->loop.sketcher, p->loop.seed_image,
                           p->loop.seed_source == SEED_BANK ? p->loop.seed_bank : ""};
    int rc = MNEMO_EXIT_OK;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char found[4096];
        struct error err;
        if (!paths[i][0])
            continue; /* no seed image, or no bank in use */
        if (datapath_find(paths[i], found, sizeof found, &err)) {
            fprintf(stderr, "mnemo: %s: %s\n", names[i], err.msg);
            rc = MNEMO_EXIT_FAILED;
        } else {
            printf("  %-16s %s\n", names[i], found);
        }
    }
    char dir[4096];
    const char *shaders = datapath_shader_dir(p->present.shaders, dir, sizeof dir);
    printf("  %-16s %s\n", "shaders", shaders ? shaders : "(built-in copies)");
    return rc;
}

int cli_check(int argc, char **argv)
{
    if (argc != 1) {
        fprintf(stderr, "mnemo check: give one config file (mnemo check FILE.cfg)\n");
        return MNEMO_EXIT_USAGE;
    }
    struct params p;
    params_defaults(&p);
    struct error err;
    if (params_load_file(&p, argv[0], &err)) {
        fprintf(stderr, "mnemo: %s\n", err.msg);
        return MNEMO_EXIT_FAILED;
    }
    printf("%s: ok (%zu parameters known)\n", argv[0], params_count());
    datapath_set_config(argv[0]);
    return files_report(&p);
}

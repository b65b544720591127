/* show.c — see show.h. The frame loop: take the newest iteration without waiting,
 * crossfade, draw every window, swap, pace (vsync, or our own clock where the display has
 * none, e.g. Xvfb), count, handle keys. */
#include "show.h"
#include "clock.h"

#include "checkpoint.h"
#include "control.h"
#include "kiosk.h"

#include "capture.h"
#include "datapath.h"
#include "piece.h"
#include "hours.h"
#include "present_internal.h"
#include "log.h"
#include "screen_record.h"

#include <SDL.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_WINDOWS 8
/* Share of the way a smoothed parameter glides to a new value per frame (~1/4 s). */
#define GLIDE_ALPHA 0.08f
/* A frame that took longer than this many intervals counts as dropped. */
#define DROP_FACTOR 1.5

struct window {
    SDL_Window *sdl;
    int32_t layout; /* enum present_layout, or -1: follow present.layout (live) */
};

struct hooks {
    long exit_after, recreate_at;
    const char *snapshot, *keys;
    bool mid, pattern;
};

struct presenter {
    struct loop *L;
    struct step *step; /* its stats and checkpoint, for the way out when the display dies */
    struct piece *piece;
    struct params cur, target; /* what is drawn now; where smoothed values glide to */
    uint64_t params_version;
    struct control *ctl; /* live changes from outside; NULL without one */
    struct glide follow; /* their glide toward the loop (control.glide_ms) */
    SDL_GLContext ctx;
    struct window win[MAX_WINDOWS];
    int nwin;
    struct gl_state gl;
    bool gl_ready, vsync;
    double refresh_hz;
    /* the two newest iterations, also on the CPU: re-upload after a recreate, references */
    float *from[SRC_COUNT], *to[SRC_COUNT];
    uint64_t from_iteration, to_iteration;
    double arrival, prev_arrival;
    /* counters */
    uint64_t frames, fps_frames;
    double fps_since, last_frame_end;
    size_t selected; /* HUD: index of the parameter being tuned */
    struct hooks hooks;
    struct hours hours; /* kiosk.hours: closed = loop paused, screens black, slow frames */
    bool quit;
    double frame_start;          /* clock_now() at the start of the frame being drawn */
    struct screen_record *rec;   /* capture.out: what the first window shows; NULL: none */
    struct stats_record rec_out; /* its counts, for --stats */
};

/* ---- windows and GL ------------------------------------------------------------------- */

static void gl_attributes(void)
{
    SDL_GL_SetAttribute(SDL_GL_CONTEXT_MAJOR_VERSION, 3);
    SDL_GL_SetAttribute(SDL_GL_CONTEXT_MINOR_VERSION, 3);
    SDL_GL_SetAttribute(SDL_GL_CONTEXT_PROFILE_MASK, SDL_GL_CONTEXT_PROFILE_CORE);
    SDL_GL_SetAttribute(SDL_GL_DOUBLEBUFFER, 1);
    SDL_GL_SetAttribute(SDL_GL_RED_SIZE, 8);
    SDL_GL_SetAttribute(SDL_GL_GREEN_SIZE, 8);
    SDL_GL_SetAttribute(SDL_GL_BLUE_SIZE, 8);
}

/* present.displays ("portrait,sketch") into layouts; empty: one window following
 * present.layout. Returns the count or -1. */
static int layouts_parse(const struct params *p, int32_t *layouts, struct error *err)
{
    if (!p->present.displays[0]) {
        layouts[0] = -1;
        return 1;
    }
    char list[PARAM_STRING_MAX];
    snprintf(list, sizeof list, "%s", p->present.displays);
    int n = 0;
    char *save = NULL;
    for (char *tok = strtok_r(list, ", ", &save); tok; tok = strtok_r(NULL, ", ", &save)) {
        struct params tmp = *p;
        if (n == MAX_WINDOWS)
            return error_set(err, "present.displays: at most %d screens", MAX_WINDOWS);
        if (params_set(&tmp, "present.layout", tok, err))
            return error_prefix(err, "present.displays");
        layouts[n++] = tmp.present.layout;
    }
    return n ? n : error_set(err, "present.displays: no layout in '%s'", p->present.displays);
}

static SDL_Window *window_create(const struct params *p, int display, struct error *err)
{
    int displays = SDL_GetNumVideoDisplays();
    if (display >= displays) {
        error_set(err, "present.display %d: this machine has %d display(s) (0 .. %d)", display,
                  displays, displays - 1);
        return NULL;
    }
    Uint32 flags = SDL_WINDOW_OPENGL | SDL_WINDOW_SHOWN;
    SDL_Rect b = {SDL_WINDOWPOS_CENTERED_DISPLAY(display), SDL_WINDOWPOS_CENTERED_DISPLAY(display),
                  p->present.width, p->present.height};
    if (p->present.fullscreen) {
        /* Created at the display's bounds: without a window manager (a kiosk, Xvfb)
         * FULLSCREEN_DESKTOP alone does not resize the window. */
        SDL_GetDisplayBounds(display, &b);
        flags |= SDL_WINDOW_BORDERLESS | SDL_WINDOW_FULLSCREEN_DESKTOP;
    }
    SDL_Window *w = SDL_CreateWindow("mnemo", b.x, b.y, b.w, b.h, flags);
    if (!w)
        error_set(err, "cannot open a window on display %d (%s)", display, SDL_GetError());
    return w;
}

static int context_create(struct presenter *P, struct error *err)
{
    P->ctx = SDL_GL_CreateContext(P->win[0].sdl);
    if (!P->ctx)
        return error_set(err, "no OpenGL 3.3 core context (%s)", SDL_GetError());
    glewExperimental = GL_TRUE;
    GLenum rc = glewInit();
    /* 4 = GLEW_ERROR_NO_GLX_DISPLAY: Debian's GLEW on an EGL context, functions loaded. */
    if (rc != GLEW_OK && rc != 4)
        return error_set(err, "GLEW: %s", (const char *)glewGetErrorString(rc));
    glGetError(); /* glewInit leaves GL_INVALID_ENUM on core profiles */
    P->vsync =
        P->cur.present.vsync && (SDL_GL_SetSwapInterval(-1) == 0 || SDL_GL_SetSwapInterval(1) == 0);
    SDL_DisplayMode mode;
    int d = SDL_GetWindowDisplayIndex(P->win[0].sdl);
    P->refresh_hz = SDL_GetCurrentDisplayMode(d < 0 ? 0 : d, &mode) == 0 && mode.refresh_rate > 0
                        ? mode.refresh_rate
                        : 60;
    return 0;
}

/* ---- recording what the screen shows (capture.out) ------------------------------------ */

static void record_counts_put(struct presenter *P, const struct screen_record_counts *c)
{
    atomic_store(&P->rec_out.frames, c->frames);
    atomic_store(&P->rec_out.dropped, c->dropped);
    atomic_store(&P->rec_out.failed, c->failed);
}

static void record_counts_out(struct presenter *P)
{
    struct screen_record_counts c;
    if (!P->rec)
        return;
    screen_record_counts(P->rec, &c);
    record_counts_put(P, &c);
}

/* The recording failed to start or to get its GL part: one line, and the piece goes on. */
static void record_give_up(struct presenter *P, const char *why)
{
    log_line(LOG_ERR, "%s; the piece goes on without recording", why);
    struct screen_record_counts c = {.failed = true};
    screen_record_close(P->rec, &c);
    c.failed = true;
    record_counts_put(P, &c);
    P->rec = NULL;
}

/* The readback's GL part in the new context (after windows_open). */
static void record_gl_open(struct presenter *P)
{
    struct error err;
    if (P->rec && screen_record_gl_open(P->rec, &err))
        record_give_up(P, err.msg);
}

/* At the size of the first window as it is now (capture.live_height rows when set). */
static void record_start(struct presenter *P)
{
    if (!P->cur.capture.out[0])
        return;
    if (P->step->stats)
        P->step->stats->record = &P->rec_out;
    int sw, sh;
    int32_t w, h;
    SDL_GL_GetDrawableSize(P->win[0].sdl, &sw, &sh);
    screen_record_size(sw, sh, P->cur.capture.live_height, &w, &h);
    struct error err;
    if (!(P->rec = screen_record_open(&P->cur, w, h, &err))) {
        record_give_up(P, err.msg);
        return;
    }
    bool segments = P->cur.capture.segment_s > 0 && !capture_is_stream(P->cur.capture.out);
    log_line(LOG_INFO, "recording the screen (%dx%d at %d fps) to '%s'%s", w, h, P->cur.capture.fps,
             P->cur.capture.out,
             segments ? ", a new file (named with its start time) every capture.segment_s" : "");
    record_gl_open(P);
}

/* Before the windows close (the readback's GL part goes with the context); ffmpeg's end
 * is bounded. */
static void record_stop(struct presenter *P)
{
    if (!P->rec)
        return;
    struct screen_record_counts c;
    screen_record_close(P->rec, &c);
    record_counts_put(P, &c);
    P->rec = NULL;
}

/* ---- windows and GL, again ------------------------------------------------------------ */

static void windows_close(struct presenter *P)
{
    if (P->rec && P->ctx)
        screen_record_gl_close(P->rec);
    if (P->gl_ready)
        gl_close(&P->gl);
    P->gl_ready = false;
    if (P->ctx)
        SDL_GL_DeleteContext(P->ctx);
    P->ctx = NULL;
    for (int i = 0; i < P->nwin; i++)
        SDL_DestroyWindow(P->win[i].sdl);
    P->nwin = 0;
}

static void sources_reupload(struct presenter *P)
{
    if (!P->to_iteration && !P->hooks.pattern)
        return;
    gl_upload(&P->gl, P->from[SRC_PORTRAIT], P->from[SRC_SKETCH], true);
    gl_upload(&P->gl, P->to[SRC_PORTRAIT], P->to[SRC_SKETCH], false);
}

static int windows_open(struct presenter *P, struct error *err)
{
    int32_t layouts[MAX_WINDOWS];
    int n = layouts_parse(&P->cur, layouts, err);
    if (n < 0)
        return -1;
    gl_attributes();
    for (int i = 0; i < n; i++, P->nwin++) {
        P->win[i].layout = layouts[i];
        P->win[i].sdl = window_create(&P->cur, P->cur.present.display + i, err);
        if (!P->win[i].sdl)
            return -1;
    }
    if (context_create(P, err))
        return -1;
    char dirbuf[4096];
    const char *dir = datapath_shader_dir(P->cur.present.shaders, dirbuf, sizeof dirbuf);
    if (!dir)
        log_warn("no shaders/ folder found next to the binary, in the source tree or under the "
                 "install prefix; using the built-in shaders");
    if (gl_open(&P->gl, P->L->size, dir, err))
        return -1;
    P->gl_ready = true;
    sources_reupload(P);
    record_gl_open(P);
    return 0;
}

/* ---- sources -------------------------------------------------------------------------- */

static void pattern_make(struct presenter *P)
{
    size_t plane = (size_t)P->L->size * P->L->size;
    gl_pattern(P->to[SRC_PORTRAIT], P->to[SRC_SKETCH], P->L->size);
    memcpy(P->from[SRC_PORTRAIT], P->to[SRC_PORTRAIT], 3 * plane * sizeof(float));
    memcpy(P->from[SRC_SKETCH], P->to[SRC_SKETCH], plane * sizeof(float));
}

/* The newest iteration, when there is one we have not shown: uploaded, kept on the CPU. */
static void frame_take(struct presenter *P, double now)
{
    struct piece_frame f;
    if (P->hooks.pattern || !piece_latest(P->piece, P->to_iteration, &f))
        return;
    size_t plane = (size_t)f.size * f.size;
    bool first = P->to_iteration == 0;
    memcpy(P->from[SRC_PORTRAIT], first ? f.portrait : P->to[SRC_PORTRAIT], 3 * plane * 4);
    memcpy(P->from[SRC_SKETCH], first ? f.sketch : P->to[SRC_SKETCH], plane * 4);
    memcpy(P->to[SRC_PORTRAIT], f.portrait, 3 * plane * sizeof(float));
    memcpy(P->to[SRC_SKETCH], f.sketch, plane * sizeof(float));
    gl_upload(&P->gl, f.portrait, f.sketch, first);
    P->from_iteration = first ? f.iteration : P->to_iteration;
    P->to_iteration = f.iteration;
    P->prev_arrival = first ? now : P->arrival;
    P->arrival = now;
}

/* How far the crossfade is: over one iteration's time (1 / loop.rate, or the measured
 * time between the last two iterations when the loop is unpaced). */
static float fade_t(const struct presenter *P, double now)
{
    if (P->cur.present.interpolate == INTERPOLATE_CUT || P->from_iteration == P->to_iteration)
        return 1.0f;
    double d = P->cur.loop.rate > 0 ? 1.0 / P->cur.loop.rate : P->arrival - P->prev_arrival;
    d = d < 0.02 ? 0.02 : (d > 10 ? 10 : d);
    double t = (now - P->arrival) / d;
    return (float)(t < 0 ? 0 : (t > 1 ? 1 : t));
}

/* ---- drawing -------------------------------------------------------------------------- */

static void hud_text(const struct presenter *P, char *buf, size_t size)
{
    const struct param_def *d = params_at(P->selected);
    char value[64];
    param_format(&P->target, d, value, sizeof value);
    struct stats_display *s = piece_display(P->piece);
    snprintf(buf, size,
             "MNEMO  %s\nLOOP %.1f IT/S  ITERATION %llu\nDISPLAY %.1f FPS%s  DROPPED %llu\n"
             "%s = %s\nUP/DOWN SELECT  +/- CHANGE  H HIDE",
             piece_backend(P->piece), piece_rate(P->piece), (unsigned long long)P->to_iteration,
             atomic_load(&s->fps_x100) / 100.0, P->vsync ? " VSYNC" : "",
             (unsigned long long)atomic_load(&s->dropped), d->name, value);
}

static void snapshot_take(struct presenter *P, int32_t w, int32_t h, float t);

static void window_draw(struct presenter *P, int i, float t, bool last)
{
    struct window *win = &P->win[i];
    SDL_GL_MakeCurrent(win->sdl, P->ctx);
    int w, h;
    SDL_GL_GetDrawableSize(win->sdl, &w, &h);
    glBindFramebuffer(GL_FRAMEBUFFER, 0);
    glViewport(0, 0, w, h);
    glClearColor(0, 0, 0, 1);
    glClear(GL_COLOR_BUFFER_BIT);
    bool black = P->hours.closed || (!P->to_iteration && !P->hooks.pattern);
    if (!black) { /* black until the first portrait, and while closed */
        struct view v[2];
        int n = gl_views(win->layout < 0 ? P->cur.present.layout : win->layout, w, h, v);
        for (int k = 0; k < n; k++)
            gl_draw_view(&P->gl, &v[k], &P->cur, P->frames);
    }
    if (i == 0) /* the piece as shown, without the HUD: an artist's tool, not the piece */
        screen_record_frame(P->rec, w, h, P->frame_start);
    if (i == 0 && P->cur.present.hud && !P->hours.closed) {
        char text[512];
        hud_text(P, text, sizeof text);
        hud_draw(&P->gl, text, w, h);
    }
    if (i == 0 && last && P->hooks.snapshot)
        snapshot_take(P, w, h, t);
    SDL_GL_SwapWindow(win->sdl);
}

/* ---- test hooks ----------------------------------------------------------------------- */

static void png_write(const char *path, uint8_t *rgb, int32_t w, int32_t h)
{
    struct image img = {.width = w, .height = h, .channels = 3, .pixels = rgb};
    struct error err;
    if (image_write_png(&img, path, &err))
        log_warn("snapshot: %s", err.msg);
}

/* The frame at t as capture.h would make it on the CPU (portrait layout, no rotation). */
static void reference_write(struct presenter *P, const char *suffix, float t, int32_t w, int32_t h)
{
    int32_t s = P->L->size;
    size_t n = 3 * (size_t)s * s;
    float *mix = malloc(n * sizeof(float));
    uint8_t *rgb = malloc((size_t)w * h * 3);
    struct scaler_config c = {s,
                              s,
                              3,
                              {LO_INK, LO_PAPER},
                              w,
                              h,
                              P->cur.present.fit == FIT_FILL ? SCALE_FIT_CROP : SCALE_FIT_LETTERBOX,
                              P->cur.present.filter == FILTER_LANCZOS3 ? SCALE_FILTER_LANCZOS3
                                                                       : SCALE_FILTER_CATMULL_ROM};
    struct error err;
    struct scaler *sc = mix && rgb ? scaler_open(&c, &err) : NULL;
    if (sc) {
        for (size_t k = 0; k < n; k++)
            mix[k] = P->from[SRC_PORTRAIT][k] * (1 - t) + P->to[SRC_PORTRAIT][k] * t;
        scaler_run(sc, mix, rgb, (size_t)w * 3);
        char path[4096];
        snprintf(path, sizeof path, "%s.%s.png", P->hooks.snapshot, suffix);
        png_write(path, rgb, w, h);
        scaler_close(sc);
    }
    free(mix);
    free(rgb);
}

static void snapshot_take(struct presenter *P, int32_t w, int32_t h, float t)
{
    uint8_t *rgb = malloc((size_t)w * h * 3), *row = malloc((size_t)w * 3);
    if (!rgb || !row) {
        free(rgb);
        free(row);
        return;
    }
    glReadBuffer(GL_BACK); /* before the swap: after it the back buffer is undefined */
    glReadPixels(0, 0, w, h, GL_RGB, GL_UNSIGNED_BYTE, rgb);
    for (int32_t y = 0; y < h / 2; y++) { /* GL rows go bottom up */
        memcpy(row, rgb + (size_t)y * w * 3, (size_t)w * 3);
        memcpy(rgb + (size_t)y * w * 3, rgb + (size_t)(h - 1 - y) * w * 3, (size_t)w * 3);
        memcpy(rgb + (size_t)(h - 1 - y) * w * 3, row, (size_t)w * 3);
    }
    png_write(P->hooks.snapshot, rgb, w, h);
    free(rgb);
    free(row);
    reference_write(P, "ref", t, w, h);
    reference_write(P, "from", 0, w, h);
    reference_write(P, "to", 1, w, h);
    char path[4096];
    snprintf(path, sizeof path, "%s.txt", P->hooks.snapshot);
    FILE *f = fopen(path, "w");
    if (f) {
        const struct param_def *d = params_at(P->selected);
        char value[64];
        fprintf(f, "t=%.4f from=%llu to=%llu frame=%llu selected=%s=%s\n", (double)t,
                (unsigned long long)P->from_iteration, (unsigned long long)P->to_iteration,
                (unsigned long long)P->frames, d->name,
                param_format(&P->target, d, value, sizeof value));
        fclose(f);
    }
}

static long env_long(const char *name)
{
    const char *v = getenv(name);
    return v ? strtol(v, NULL, 10) : 0;
}

static void hooks_read(struct hooks *h)
{
    h->exit_after = env_long("MNEMO_PRESENT_EXIT_AFTER");
    h->recreate_at = env_long("MNEMO_PRESENT_RECREATE_AT");
    h->snapshot = getenv("MNEMO_PRESENT_SNAPSHOT");
    h->keys = getenv("MNEMO_PRESENT_KEYS");
    h->mid = env_long("MNEMO_PRESENT_SNAPSHOT_MID") != 0;
    h->pattern = env_long("MNEMO_PRESENT_PATTERN") != 0;
}

/* MNEMO_PRESENT_KEYS="h,Down,=,Shift+1": key presses queued as if typed (SDL key names,
 * "Shift+" for the shift modifier). */
static void keys_push(const char *keys)
{
    char list[256];
    snprintf(list, sizeof list, "%s", keys);
    char *save = NULL;
    for (char *k = strtok_r(list, ",", &save); k; k = strtok_r(NULL, ",", &save)) {
        SDL_Event e = {.type = SDL_KEYDOWN};
        if (strncmp(k, "Shift+", 6) == 0) {
            e.key.keysym.mod = KMOD_LSHIFT;
            k += 6;
        }
        e.key.keysym.sym = SDL_GetKeyFromName(k);
        if (e.key.keysym.sym == SDLK_UNKNOWN)
            log_warn("MNEMO_PRESENT_KEYS: unknown key '%s'", k);
        else
            SDL_PushEvent(&e);
    }
}

/* Is this the frame the test hooks end on? Not while the screen is still black waiting for
 * the first portrait (a slow load, a loaded machine: a snapshot of that black says nothing).
 * With SNAPSHOT_MID, the first one past EXIT_AFTER that is half way through a crossfade. Either
 * way 600 frames later, regardless. */
static bool last_frame(const struct presenter *P, float t)
{
    const struct hooks *h = &P->hooks;
    if (!h->exit_after || (long)P->frames + 1 < h->exit_after)
        return false;
    if ((long)P->frames + 1 >= h->exit_after + 600)
        return true;
    bool waiting = !P->to_iteration && !h->pattern && !P->hours.closed;
    bool mid = t > 0.3f && t < 0.7f && P->from_iteration != P->to_iteration;
    return !waiting && (!h->mid || mid);
}

/* ---- keyboard: quit, HUD, tuning ------------------------------------------------------ */

static bool tunable(const struct param_def *d)
{
    return (d->flags & PARAM_LIVE) && d->type != PARAM_STRING;
}

/* A change made here (HUD keys): through the control when there is one, like an OSC
 * message, so that it glides and a later config reload does not undo it; straight to the
 * loop thread otherwise. */
static void param_push(struct presenter *P, const char *name, const char *text)
{
    struct error err;
    if (P->ctl) {
        if (control_set(P->ctl, name, text, &err))
            log_warn("%s", err.msg);
        return;
    }
    if (params_set(&P->target, name, text, &err))
        log_warn("%s", err.msg);
    piece_set_params(P->piece, &P->target);
}

static void select_step(struct presenter *P, int dir)
{
    size_t n = params_count();
    for (size_t k = 1; k <= n; k++) {
        size_t i = (P->selected + (dir > 0 ? k : n - k)) % n;
        if (tunable(params_at(i))) {
            P->selected = i;
            return;
        }
    }
}

static int choice_count(const char *choices)
{
    int n = 1;
    for (const char *c = choices; *c; c++)
        n += *c == '|';
    return n;
}

/* One step of the selected parameter, through the registry like a config or OSC change. */
static void tune(struct presenter *P, int dir)
{
    const struct param_def *d = params_at(P->selected);
    struct params *p = &P->target;
    char text[64];
    if (d->type == PARAM_FLOAT) {
        double v = param_get_float(p, d) + dir * (d->max - d->min) / 100.0;
        snprintf(text, sizeof text, "%.6g", fmin(d->max, fmax(d->min, v)));
    } else if (d->type == PARAM_INT) {
        long v = (long)param_get_int(p, d) + dir;
        snprintf(text, sizeof text, "%ld", (long)fmin(d->max, fmax(d->min, (double)v)));
    } else if (d->type == PARAM_BOOL) {
        snprintf(text, sizeof text, "%s", param_get_bool(p, d) ? "false" : "true");
    } else {
        int n = choice_count(d->choices), i = (param_get_int(p, d) + dir + n) % n;
        struct params tmp = *p;
        *(int32_t *)((char *)&tmp + d->offset) = i;
        param_get_choice(&tmp, d, text, sizeof text);
    }
    param_push(P, d->name, text);
}

static void toggle_hud(struct presenter *P)
{
    bool hud = !P->target.present.hud;
    P->target.present.hud = P->cur.present.hud = hud; /* shown or hidden at once */
    param_push(P, "present.hud", hud ? "true" : "false");
}

/* Keys 1-9 recall presets "1".."9", with Shift they store the live values there. The
 * control does the file work on its own thread. */
static bool preset_key(struct presenter *P, SDL_Keycode k, Uint16 mod)
{
    if (!P->ctl || k < SDLK_1 || k > SDLK_9)
        return false;
    char name[2] = {(char)('1' + (k - SDLK_1)), '\0'};
    if (mod & KMOD_SHIFT)
        control_preset_save(P->ctl, name);
    else
        control_preset_load(P->ctl, name);
    return true;
}

static void key_down(struct presenter *P, SDL_Keycode k, Uint16 mod)
{
    if (preset_key(P, k, mod))
        return;
    if ((k == SDLK_ESCAPE || k == SDLK_q) && P->cur.present.allow_quit)
        P->quit = true;
    else if (k == SDLK_h)
        toggle_hud(P);
    else if (P->cur.present.hud && (k == SDLK_UP || k == SDLK_DOWN))
        select_step(P, k == SDLK_UP ? -1 : 1);
    else if (P->cur.present.hud && (k == SDLK_PLUS || k == SDLK_EQUALS || k == SDLK_KP_PLUS))
        tune(P, +1);
    else if (P->cur.present.hud && (k == SDLK_MINUS || k == SDLK_KP_MINUS))
        tune(P, -1);
}

/* Returns true when the windows must be recreated (a display came or went). */
static bool events_handle(struct presenter *P)
{
    bool recreate = false;
    SDL_Event e;
    while (SDL_PollEvent(&e)) {
        if (e.type == SDL_KEYDOWN)
            key_down(P, e.key.keysym.sym, e.key.keysym.mod);
        else if (e.type == SDL_QUIT && P->cur.present.allow_quit)
            P->quit = true;
        else if (e.type == SDL_DISPLAYEVENT && e.display.event != SDL_DISPLAYEVENT_ORIENTATION)
            recreate = true;
    }
    return recreate;
}

/* Live changes from the config file, OSC and MIDI: the control's glide is followed into
 * the loop thread a step per displayed frame; a reseed request is passed on. */
static void control_poll(struct presenter *P)
{
    if (!P->ctl)
        return;
    if (control_follow(P->ctl, &P->follow, clock_now()))
        piece_set_params(P->piece, &P->follow.cur);
    if (control_take_reseed(P->ctl))
        piece_request_reseed(P->piece);
}

/* Parameters changed elsewhere (the control, piece_set_params), then one glide step. */
static void params_follow(struct presenter *P)
{
    control_poll(P);
    uint64_t v = piece_params_version(P->piece);
    if (v != P->params_version) {
        piece_get_params(P->piece, &P->target);
        P->params_version = v;
    }
    params_glide(&P->cur, &P->target, GLIDE_ALPHA);
}

/* ---- pacing and counters -------------------------------------------------------------- */

static double frame_interval(const struct presenter *P)
{
    if (P->hours.closed)
        return 1.0 / HOURS_CLOSED_FPS;
    return P->vsync ? 1.0 / P->refresh_hz : 1.0 / P->cur.present.fps;
}

/* Without vsync the swap returns at once: wait out the rest of the frame ourselves; while
 * closed, whatever the vsync, so the GPU idles. */
static void frame_end(struct presenter *P, double start)
{
    double interval = frame_interval(P);
    if (!P->vsync || P->hours.closed)
        clock_sleep_until(start + interval);
    double now = clock_now();
    struct stats_display *s = piece_display(P->piece);
    bool paced = P->frames > 2 && !P->hours.changed; /* opening ends a slow frame */
    if (paced && now - P->last_frame_end > DROP_FACTOR * interval)
        atomic_fetch_add(&s->dropped, 1);
    P->last_frame_end = now;
    P->frames++;
    P->fps_frames++;
    atomic_store(&s->frames, P->frames);
    if (now - P->fps_since >= 1.0) {
        double fps = (double)P->fps_frames / (now - P->fps_since);
        atomic_store(&s->fps_x100, (uint32_t)(fps * 100 + 0.5));
        P->fps_since = now;
        P->fps_frames = 0;
    }
}

/* ---- the run -------------------------------------------------------------------------- */

static int recreate(struct presenter *P, volatile sig_atomic_t *stop, struct error *err)
{
    windows_close(P);
    for (int tries = 0; !(stop && *stop); tries++) {
        if (windows_open(P, err) == 0) {
            kiosk_state(NULL);
            log_warn("display changed: windows and GL resources recreated");
            return 0;
        }
        windows_close(P);
        if (tries == 0)
            log_warn("cannot recreate the windows (%s); retrying every second", err->msg);
        kiosk_state("waiting for the display to come back");
        kiosk_alive(KIOSK_PRESENTER); /* waiting on purpose, not hung */
        clock_sleep_until(clock_now() + 1.0);
    }
    return -1;
}

static void frame(struct presenter *P)
{
    double start = P->frame_start = clock_now();
    params_follow(P);
    bool closed = hours_update(&P->hours, &P->cur, P->piece, P->win[0].sdl, start);
    frame_take(P, start);
    float t = fade_t(P, start);
    bool last = last_frame(P, t);
    if (!closed)
        gl_mix(&P->gl, t);
    for (int i = 0; i < P->nwin; i++)
        window_draw(P, i, t, last);
    if (last)
        P->quit = true;
    record_counts_out(P);
    frame_end(P, start);
    if (P->to_iteration > 0 || closed)
        kiosk_ready(); /* the first portrait is on screen, or closed hours' black */
    kiosk_count(KIOSK_PRESENTER, P->frames);
    kiosk_freeze_point(KIOSK_PRESENTER, P->frames);
}

static int frames_run(struct presenter *P, volatile sig_atomic_t *stop, struct error *err)
{
    P->fps_since = P->last_frame_end = clock_now();
    if (P->hooks.keys)
        keys_push(P->hooks.keys);
    while (!P->quit && !(stop && *stop)) {
        bool again = events_handle(P) ||
                     (P->hooks.recreate_at && (long)P->frames == P->hooks.recreate_at && P->frames);
        if (again && recreate(P, stop, err))
            return (stop && *stop) ? 0 : -1;
        if (piece_failed(P->piece))
            break; /* piece_stop reports why */
        frame(P);
    }
    return 0;
}

static int buffers_alloc(struct presenter *P, struct error *err)
{
    size_t plane = (size_t)P->L->size * P->L->size;
    for (int s = 0; s < SRC_COUNT; s++) {
        size_t n = (s == SRC_PORTRAIT ? 3 : 1) * plane;
        P->from[s] = calloc(n, sizeof(float));
        P->to[s] = calloc(n, sizeof(float));
        if (!P->from[s] || !P->to[s])
            return error_set(err, "out of memory");
    }
    if (P->hooks.pattern)
        pattern_make(P);
    return 0;
}

static void presenter_free(struct presenter *P)
{
    windows_close(P);
    for (int s = 0; s < SRC_COUNT; s++) {
        free(P->from[s]);
        free(P->to[s]);
    }
    free(P);
}

static bool no_screen(const char *driver)
{
    return !driver || strcmp(driver, "offscreen") == 0 || strcmp(driver, "dummy") == 0;
}

static int video_init(struct error *err)
{
    /* our SIGINT/SIGTERM handlers stay (a kiosk's SIGTERM must stop, not post SDL_QUIT) */
    SDL_SetHint(SDL_HINT_NO_SIGNAL_HANDLERS, "1");
    /* a full-screen window on a second screen must not minimise when the first has focus */
    SDL_SetHint(SDL_HINT_VIDEO_MINIMIZE_ON_FOCUS_LOSS, "0");
    const char *why = NULL;
    if (SDL_Init(SDL_INIT_VIDEO) != 0) {
        why = SDL_GetError();
    } else if (!getenv("SDL_VIDEODRIVER") && no_screen(SDL_GetCurrentVideoDriver())) {
        /* SDL falls back to its offscreen driver when there is no display: the piece would
         * run forever with nobody seeing it. Only an explicit SDL_VIDEODRIVER gets that. */
        why = "no X11 or Wayland display, only SDL's offscreen driver";
        SDL_Quit();
    }
    if (!why) {
        SDL_ShowCursor(SDL_DISABLE);
        SDL_DisableScreenSaver();
        return 0;
    }
    return error_set(err,
                     "no display to present on (%s); set DISPLAY, or record without a display: "
                     "mnemo run --headless --frames N --out PATH",
                     why);
}

/* Under a supervisor the display may come up after us (a desktop session still starting,
 * X restarted after a crash): wait for it, saying so, rather than exit into a restart
 * loop. Run by hand, say at once that there is none. 1 when a stop came first. */
static int video_wait(volatile sig_atomic_t *stop, struct error *err)
{
    for (int tries = 0;; tries++) {
        if (video_init(err) == 0) {
            if (tries)
                log_warn("a display is here now; starting the piece");
            kiosk_state(NULL);
            return 0;
        }
        if (!kiosk_supervised())
            return -1;
        if (tries == 0)
            log_warn("%s; waiting for one (checking every second)", err->msg);
        kiosk_state("waiting for a display");
        for (int i = 0; i < 10; i++) {
            if (stop && *stop)
                return 1;
            kiosk_alive(KIOSK_PRESENTER); /* waiting on purpose, not hung */
            clock_sleep_until(clock_now() + 0.1);
        }
    }
}

/* The X server went away (display_lost_catch, present_internal.h): inside Xlib on this
 * thread, with the process about to end. The loop thread never touches X: stop it (the
 * final --stats line), then save and close as every other way out does (cli_run.c). A
 * recording of the screen is left alone (its readback is GL): ffmpeg, in a process group
 * of its own, sees its pipe end with ours and finishes the file by itself. */
static void display_lost(void *arg)
{
    struct presenter *P = arg;
    struct error err;
    if (piece_stop(P->piece, &err))
        log_line(LOG_ERR, "%s", err.msg);
    P->piece = NULL;
    checkpoint_save_now(P->step->checkpoint);
    if (P->step->stats)
        stats_close(P->step->stats);
    fflush(stdout); /* --stats -: _exit flushes nothing */
    kiosk_stop();
}

int show_run(struct step *s, volatile sig_atomic_t *stop, struct error *err)
{
    struct loop *L = s->L;
    struct control *ctl = s->ctl;
    struct presenter *P = calloc(1, sizeof *P);
    if (!P)
        return error_set(err, "out of memory");
    P->L = L;
    P->step = s;
    P->ctl = ctl;
    glide_init(&P->follow, &L->p);
    P->cur = P->target = L->p;
    hooks_read(&P->hooks);
    select_step(P, 1);
    int wait = buffers_alloc(P, err) ? -1 : video_wait(stop, err);
    if (wait) {
        presenter_free(P);
        return wait > 0 ? 0 : -1;
    }
    int rc = windows_open(P, err);
    if (rc == 0) {
        display_lost_catch(display_lost, P);
        record_start(P);
    }
    bool closed = rc == 0 && hours_closed_now(&P->cur); /* then not one iteration runs */
    if (rc == 0 && !(P->piece = (closed ? piece_start_paused
                                        : piece_start)(L, s->stats, s->checkpoint, s->swap, err)))
        rc = -1;
    if (rc == 0)
        rc = frames_run(P, stop, err);
    record_stop(P); /* the recording's end is not the piece's: it never sets rc */
    if (P->nwin)
        hours_end(&P->hours, P->win[0].sdl);
    struct error stop_err;
    if (piece_stop(P->piece, &stop_err) && rc == 0) {
        *err = stop_err;
        rc = -1;
    }
    if (s->stats)
        s->stats->record = NULL; /* P->rec_out goes with P */
    presenter_free(P);
    SDL_Quit();
    return rc;
}

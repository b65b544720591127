/* control.h — live tuning: config hot reload, OSC, MIDI, the web page, presets, and the
 * glide that carries every change into the running loop.
 *
 * A control owns one thread that watches the config file and its @includes (inotify on
 * their directories, so editors that save by rename work), listens for OSC (osc.*) and
 * MIDI (midi.*), and serves preset and learn requests; with web.enabled it also owns the
 * web page's server (web.h) and its threads. Every source changes one "desired" parameter
 * set; a change is parsed and validated on the control's threads, never on the loop's, and
 * an invalid one changes nothing (logged, and kept for the HUD:
 * control_last_error). Restart-only parameters keep the values the piece started with;
 * changing one in the file logs "restart needed for: ...".
 *
 * The thread driving the loop picks changes up between two iterations without ever
 * waiting (control_take is an atomic flag and a trylock), and glides smoothable numbers
 * to them over control.glide_ms (struct glide: params/glide.h). The piece's drivers follow
 * it into the loop (piece/step.h: step_follow_control) and forward reseed requests.
 *
 *   struct control *ctl = control_open(&opts, &params, &err);
 *   struct glide g; glide_init(&g, &params);
 *   for (;;) { if (control_follow(ctl, &g, clock_now())) use(&g.cur); ... }
 *
 * Thread safety: every function may be called from any thread; control_take and
 * control_follow from one driver thread at a time. */
#ifndef MNEMO_CONTROL_H
#define MNEMO_CONTROL_H

#include "error.h"
#include "glide.h"
#include "midi_map.h"
#include "params.h"

#include <stdbool.h>
#include <stdint.h>

struct control;
struct osc;
struct osc_request;

struct control_options {
    const char *config_path;      /* watched and reloaded; NULL: no file (OSC/MIDI only) */
    const char *const *overrides; /* "name=value" (-o), applied after the file on each reload */
    size_t override_count;
    /* defaults + file + overrides as they were loaded at start, before what the process
     * added (systemd's StateDirectory, a checkpoint's live values): what a reload is
     * compared with, so that only what the file changed since counts. NULL: `start`. */
    const struct params *loaded;
};

/* Starts the control thread for a piece that runs with `start` (defaults + file + -o).
 * OSC that cannot bind is an error; no MIDI sequencer is not (logged once). */
struct control *control_open(const struct control_options *o, const struct params *start,
                             struct error *err);
/* Stops the thread and frees everything. NULL is fine. Waits at most 2 s: a thread stuck
 * in a read (a FIFO or a hung file system in the config) is logged and left behind with
 * what it holds, for a process about to exit (so save the piece's state before this).
 *
 * Fault injection (fault.h): MNEMO_FAULT=control:hang_on_reload makes the thread hang for
 * good at its first reload (a save seen, SIGHUP), as behind a read that never returns. */
void control_close(struct control *ctl);

/* Never blocks. When a new parameter set was posted since the last take, copies it into
 * *target and returns true; otherwise (or when the mailbox is busy this instant) false. */
bool control_take(struct control *ctl, struct params *target);
/* True once per reseed request (OSC /mnemo/reseed, a key): call guard_request_reseed. */
bool control_take_reseed(struct control *ctl);

/* The newest rejected change (config error with file:line, bad OSC value, missing preset)
 * into buf, "" when the config loads cleanly again; returns a number that grows with each
 * new error, so a HUD can show it for a while. */
uint64_t control_last_error(struct control *ctl, char *buf, size_t size);

/* A change from a source away from the machine (`source`: "the web page"): validated like
 * OSC's (setup and restart-only parameters refused). A rejection is also logged and kept
 * as last_error, as "<who> ignored: <why>" (who: "web POST /api/params/x from 10.0.0.5"). */
int control_set_from(struct control *ctl, const char *name, const char *value, const char *source,
                     const char *who, struct error *err);
/* Every desired value at once (what the web page shows), copied under the mailbox lock. */
void control_params(struct control *ctl, struct params *out);

/* The web page (web.h), when web.enabled: the newest --stats line and portrait for it,
 * from the thread that drives the loop; copies only, never waits. No web page: nothing. */
void control_post_status(struct control *ctl, const char *stats_json);
void control_post_frame(struct control *ctl, const float *portrait, int32_t size);
/* Whether a web page is served (then post to it), and its TCP port (0 if none). */
bool control_serves_web(const struct control *ctl);
int control_web_port(const struct control *ctl);

/* A change from the keyboard or HUD, validated like config values. */
int control_set(struct control *ctl, const char *name, const char *value, struct error *err);
/* The desired value of `name` as text (what /mnemo/get replies). */
int control_get(struct control *ctl, const char *name, char *buf, size_t size, struct error *err);
void control_reseed(struct control *ctl);
/* Reads the config file again now, as if it had been saved (SIGHUP). Async-signal-safe:
 * an atomic flag and a write to the thread's eventfd. NULL is fine. */
void control_reload(struct control *ctl);

/* Presets (keys 1-9 load, Shift+1-9 save; OSC /mnemo/preset NAME): queued to the control
 * thread, which does the file I/O; the outcome is logged, errors also in last_error. */
void control_preset_load(struct control *ctl, const char *name);
void control_preset_save(struct control *ctl, const char *name);

/* MIDI learn: the next CC that moves is bound to `param` (midi.map is rewritten, so a
 * preset or `mnemo params` shows it). NULL cancels. control_midi_learning tells the HUD
 * which parameter waits ("" when none). */
int control_midi_learn(struct control *ctl, const char *param, struct error *err);
bool control_midi_learning(struct control *ctl, char *buf, size_t size);
/* One decoded control change, as the ALSA reader delivers it (tests call it directly). */
void control_midi_event(struct control *ctl, const struct midi_cc *ev);

/* One decoded OSC request, as osc_receive delivers it (the fuzzer calls it directly):
 * applied like a keyboard change, replies (get, list) sent through o to its sender, and
 * anything rejected logged and kept as last_error. */
void control_osc_request(struct control *ctl, struct osc *o, const struct osc_request *rq);

/* The UDP port OSC listens on (osc.port, or the one chosen for osc.port = 0), 0 if off. */
int control_osc_port(const struct control *ctl);

/* ---- on the driver's side: follow the posted values, gliding ------------------------ */

/* control_take, and glide_retarget to a set taken, then glide_advance (glide.h). Returns
 * true when g->cur changed. */
bool control_follow(struct control *ctl, struct glide *g, double now_s);

#endif

/* show.h — the piece on screen: SDL2 window(s) + OpenGL 3.3 core, full-screen at the
 * display's refresh rate, fluid however slow the networks are.
 *
 * The loop runs on its own thread (piece.h); the presenter shows a crossfade between the
 * two newest portraits timed over one iteration, upscaled (Catmull-Rom / Lanczos-3),
 * rotated for portrait-mounted screens, calibrated for the room (shaders/). Gallery
 * behaviour: no cursor, no screensaver, borderless full-screen, Esc/q quit only with
 * present.allow_quit, a HUD on `h` with keyboard tuning (up/down select a live
 * parameter, +/- change it through the registry), windows and GL resources recreated
 * when a display comes or goes.
 *
 * Several screens: present.displays = "portrait,sketch" opens one borderless window per
 * entry on displays present.display, present.display+1, ..., each with that layout, all
 * drawn by one GL context.
 *
 * Test hooks (environment, read at start):
 *   MNEMO_PRESENT_EXIT_AFTER=N   stop after N presented frames (exit 0), but not before the
 *                                first portrait is on screen (600 frames later, regardless)
 *   MNEMO_PRESENT_SNAPSHOT=F.png at the last frame, read the back buffer before the swap
 *                                into F.png, and write F.png.ref.png / .from.png / .to.png
 *                                (the same frame made on the CPU by capture.h's scaler, and
 *                                the two ends of the crossfade) and F.png.txt ("t=... ")
 *   MNEMO_PRESENT_SNAPSHOT_MID=1 delay that last frame until a crossfade is half way
 *                                (0.3 < t < 0.7) between two different portraits
 *   MNEMO_PRESENT_PATTERN=1      show a fixed test card (quadrants red, green, blue, white
 *                                from the top left) instead of the loop: geometry tests
 *   MNEMO_PRESENT_KEYS=h,Down,=  key presses (SDL key names) queued before the first frame;
 *                                the snapshot's .txt names the selected parameter's value
 *   MNEMO_PRESENT_RECREATE_AT=N  tear down and recreate windows + GL at frame N, as a
 *                                display loss does */
#ifndef MNEMO_SHOW_H
#define MNEMO_SHOW_H

#include "step.h"

#include <signal.h>

/* Presents the open loop s->L until `stop` is set (SIGTERM/SIGINT), a quit key when
 * allowed, or a test hook says so. Parameters are s->L->p. The loop runs on its own thread
 * (piece.h), with s->stats and s->checkpoint; live changes from s->ctl (may be NULL: the
 * config file, OSC, MIDI) are followed, with glide, into that thread every displayed
 * frame. Returns 0, or -1 with err (no display: the message suggests --headless). */
int show_run(struct step *s, volatile sig_atomic_t *stop, struct error *err);

#endif

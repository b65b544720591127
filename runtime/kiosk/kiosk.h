/* kiosk.h — telling a supervisor (systemd, `mnemo run --supervise`) how the piece is.
 *
 * The notify protocol of sd_notify(3): one datagram per message ("READY=1", "WATCHDOG=1",
 * "STATUS=...", "STOPPING=1") to the unix socket named by $NOTIFY_SOCKET ("/path" or
 * "@abstract"). Without $NOTIFY_SOCKET every call here does nothing.
 *
 * Watchdog: with $WATCHDOG_USEC (and $WATCHDOG_PID unset or ours) a thread pings every
 * half interval, but only while every part the piece needs is alive: each part calls
 * kiosk_alive while it makes progress (the loop between iterations and in its pacing
 * sleeps, the presenter every frame). A part silent for a whole interval — a hung GPU
 * call, a frozen presenter — stops the pings, and the supervisor restarts the process.
 * Before READY the pings are unconditional: a hang while loading is the start timeout's
 * business (TimeoutStartSec=, the supervisor's start limit).
 *
 * The variables are read once by kiosk_start and removed from the environment, so the
 * children we start (ffmpeg) do not talk to our supervisor. Call it before any thread. */
#ifndef MNEMO_KIOSK_H
#define MNEMO_KIOSK_H

#include "error.h"

#include <stdbool.h>
#include <stdint.h>

enum kiosk_part { KIOSK_LOOP, KIOSK_PRESENTER, KIOSK_PARTS };

#define KIOSK_NEEDS(part) (1u << (part))

/* Reads the environment and starts the watchdog thread when one is asked for. `needs`:
 * KIOSK_NEEDS(...) of the parts that must stay alive; 0 opens the socket only (a relay
 * such as --supervise, which pings when its child does). Fails only when the thread
 * cannot start. */
int kiosk_start(unsigned needs, struct error *err);
/* Sends STOPPING=1 and stops the thread. Safe without kiosk_start. */
void kiosk_stop(void);

/* A sign of life from `part` (an atomic store; any thread, hot path safe). */
void kiosk_alive(enum kiosk_part part);
/* One loop iteration done / one frame shown: counted for STATUS, and a sign of life. */
void kiosk_count(enum kiosk_part part, uint64_t total);

/* Test hook MNEMO_TEST_FREEZE=loop@N or presenter@N (read by kiosk_start): that part hangs
 * for good at its Nth iteration or frame, as behind a hung GPU call or a wedged driver,
 * so tests can watch the watchdog pings stop. Costs one compare otherwise. */
void kiosk_freeze_point(enum kiosk_part part, uint64_t count);

/* READY=1, once: the first portrait is on screen (or the first iteration is done). */
void kiosk_ready(void);

/* What the piece is doing besides running, for STATUS ("waiting for a display",
 * "closed until 10:00"); NULL when it just runs. The text is copied. Any thread. */
void kiosk_state(const char *text);

/* True when a supervisor listens ($NOTIFY_SOCKET was set). */
bool kiosk_supervised(void);

/* The watchdog interval in seconds, 0 when none. */
double kiosk_watchdog_s(void);

/* Sends one raw notify message now ("KEY=value\n..."); 0 or -1. Tests and --supervise. */
int kiosk_notify(const char *message);

#endif

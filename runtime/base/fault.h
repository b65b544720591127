/* fault.h — fault injection at the seams: the MNEMO_FAULT environment variable.
 *
 * MNEMO_FAULT holds comma-separated entries "seam:what", e.g.
 *   MNEMO_FAULT=backend:sticky@21,checkpoint:kill_before_rename
 * Each seam (backend.h, checkpoint.h, control.h) reads its own entry once, when it is set
 * up, never on a hot path, and ignores the others' entries. Tests and fault drills use it to make a
 * running piece meet the failures a gallery will meet over months.
 *
 * It is not the only test switch. Four families exist, each read where it acts:
 *   MNEMO_FAULT (here) and MNEMO_FAULT_DISK_FULL_AFTER (capture.h: a full disk after N
 *     frames), failures at a seam;
 *   MNEMO_TEST_FREEZE (kiosk.h), a part that hangs, for the watchdog;
 *   MNEMO_TEST_TIME (clock.h), the wall clock that kiosk.hours reads;
 *   MNEMO_PRESENT_* (piece/show.h, output/present_internal.h), the presenter's hooks.
 * Folding them into MNEMO_FAULT=<seam>:<what> is left for later (shared/LAYOUT.md). */
#ifndef MNEMO_FAULT_H
#define MNEMO_FAULT_H

#include <stdbool.h>
#include <stddef.h>

/* The text after "seam:" of the first MNEMO_FAULT entry for `seam`, copied into buf;
 * NULL when MNEMO_FAULT is unset or names no such entry. */
const char *fault_entry(const char *seam, char *buf, size_t size);

/* Is MNEMO_FAULT's entry for `seam` the switch `what` (a seam with one fault, no argument)?
 * Any other entry for that seam is warned about, naming the one it knows. */
bool fault_switch(const char *seam, const char *what);

#endif

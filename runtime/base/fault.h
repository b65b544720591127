/* fault.h — the one switch for fault injection: the MNEMO_FAULT environment variable.
 *
 * MNEMO_FAULT holds comma-separated entries "seam:what", e.g.
 *   MNEMO_FAULT=backend:sticky@21,checkpoint:kill_before_rename
 * Each seam (backend.h, checkpoint.h) reads its own entry once, when it is set up, never
 * on a hot path, and ignores the others' entries. Tests and fault drills use it to make a
 * running piece meet the failures a gallery will meet over months. */
#ifndef MNEMO_FAULT_H
#define MNEMO_FAULT_H

#include <stddef.h>

/* The text after "seam:" of the first MNEMO_FAULT entry for `seam`, copied into buf;
 * NULL when MNEMO_FAULT is unset or names no such entry. */
const char *fault_entry(const char *seam, char *buf, size_t size);

#endif

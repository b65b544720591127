/* checkpoint_internal.h — the checkpoint file's format (checkpoint_file.c): bytes <->
 * snapshot, for the part that takes snapshots, writes them and decides what to restore
 * (checkpoint.c, its only caller). The format reads no file, logs nothing and decides
 * nothing.
 *
 * Layout, all little-endian (CHECKPOINT_VERSION 3):
 *   header, 56 bytes: "MNEMOCKP", u32 version, u32 0, u64 total file length, u32
 *     loop.size, u32 0, u64 models digest, u64 iteration count, u64 unix time saved
 *   generators: perturb, seed (u64 state, u64 inc, f64 spare, u8 has_spare)
 *   guard action, metrics of the last iteration, guard state and counters, its hash ring
 *     (u32 count, then count u64, oldest first)
 *   images (f32): sketch (size^2), portrait (3 size^2), seed sketch (size^2)
 *   memory (memory.h): u32 age, u32 recent_len, u32 recent_head, BANK_RECENT u32 recent
 *     draws; its sketches from, to, now (f32, size^2 each)
 *   live parameters: u32 length + "name=value\n" lines; the values they started from,
 *     the same way
 *   u32 CRC-32 of everything before it */
#ifndef MNEMO_CHECKPOINT_INTERNAL_H
#define MNEMO_CHECKPOINT_INTERNAL_H

#include "guard.h"
#include "loop_ops.h"
#include "memory.h"
#include "params.h"
#include "rng.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The file's format version; a file of another version is ignored. */
#define CHECKPOINT_VERSION 3
#define CKPT_HEADER_BYTES  56

/* The loop's state between two iterations, as checkpoint_offer copies it. */
struct snapshot {
    uint64_t iterations;
    struct rng perturb_rng, seed_rng;
    struct guard_action action;
    struct lo_metrics metrics;
    struct guard guard; /* counters and stats; its ring pointer is the loop's, unused */
    uint64_t *ring;     /* guard.count hashes, oldest first */
    struct params p;
    float *sketch, *portrait, *seed; /* plane, 3 planes, plane */
    float *memory;                   /* the memory's from, to, now: 3 planes */
    int32_t memory_age;
    int32_t recent[BANK_RECENT], recent_len, recent_head; /* the bank's last draws */
};

/* A growing byte buffer for serialising (a writer thread or an exit path, not the loop). */
struct buf {
    unsigned char *data;
    size_t len, cap;
    bool oom;
};

/* What a file holds besides the snapshot: when it was saved, and the live parameters as
 * "name=value\n" lines (pointing into the file's bytes; not terminated). */
struct ckpt_extra {
    uint64_t saved_unix;
    const char *live, *from;
    size_t live_len, from_len;
};

/* The file for snapshot s (loop.size `size`, images of `plane` floats per channel, the
 * models' `digest`; live parameters compared with `start`) into b. -1: out of memory. */
int ckpt_serialise(struct buf *b, const struct snapshot *s, int32_t size, size_t plane,
                   uint64_t digest, const struct params *start);
/* Why the file in data cannot be a checkpoint of a piece at loop.size `size` with models
 * `digest` (written into why when it needs numbers); NULL when it can. */
const char *ckpt_check(const unsigned char *data, size_t len, int32_t size, uint64_t digest,
                       char *why, size_t why_size);
/* A checked file into s (at most ring_capacity hashes: the newest) and x; false when its
 * contents do not parse. */
bool ckpt_parse(const unsigned char *data, size_t len, size_t plane, int32_t ring_capacity,
                struct snapshot *s, struct ckpt_extra *x);
/* Why a parsed snapshot cannot be a loop's state: a value no iteration leaves behind (a
 * generator that cannot run, a counter beyond the iterations it counts or the registry's
 * bounds on what it follows, a pixel outside [-1, 1]), named with its range in why; NULL
 * when every value is one a loop can hold. A file with a good checksum can still be forged. */
const char *ckpt_values_check(const struct snapshot *s, size_t plane, char *why, size_t why_size);
/* Whether the file holds parameter d: a live look parameter (not how the piece is
 * controlled: control, OSC, MIDI, kiosk). */
bool ckpt_param_saved(const struct param_def *d);
/* The value of `name` in a block of "name=value\n" lines (ckpt_extra's live or from),
 * copied into buf; false when absent or longer than size. */
bool ckpt_text_value(const char *text, size_t len, const char *name, char *buf, size_t size);

#endif

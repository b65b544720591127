/* memory.h — the person the loop remembers, and the bank of people it draws them from.
 *
 * Left alone, a painter <-> sketcher loop forgets the face: each network is fed the
 * other's imperfect output, the sketch thickens into glyphs within ~60-80 iterations, and
 * the only way back is a reseed (FACTS.md, "How a painter <-> sketcher loop dies"). The
 * memory holds one person's sketch and blends memory.anchor of it into every sketch the
 * loop makes: a partial redrawing that keeps the stream on a face while the networks'
 * translation errors keep moving it. Every memory.hold iterations the memory turns into
 * another person over memory.fade iterations (a smooth cross-dissolve of the two
 * sketches), so that one person slowly becomes another; a guard reseed starts the turn at
 * once. With memory.anchor 0 the loop runs on its own, as it did before.
 *
 * The people come from loop.seed_source: with `bank` (the default), a seed bank of
 * sketches of real portraits (models/faces.png, made by tools/train/seed_bank.py): an
 * 8-bit grayscale PNG `side` pixels wide and count x side tall, person k in rows
 * k*side .. (k+1)*side - 1, ink black on white paper. Each draw picks a person not seen in
 * the last min(count / 2, BANK_RECENT) draws, mirrored half the time and slightly zoomed,
 * turned and moved, so a person who returns hours later is not the same drawing.
 *
 * Nothing here allocates after seed_bank_open / memory_init; every draw takes its
 * randomness from the caller's rng (the loop's seed generator), so runs are repeatable. */
#ifndef MNEMO_MEMORY_H
#define MNEMO_MEMORY_H

#include "error.h"
#include "image.h"
#include "loop_ops.h"
#include "rng.h"

#include <stdint.h>

#define BANK_RECENT 96 /* draws a person must wait before they can be drawn again */

/* The largest seed bank read: 64 Mi pixels (1024 people of 256 x 256; models/faces.png has
 * 208), a 256 MiB file. The size is checked before decoding (image.h). */
#define SEED_BANK_CAPS                                                                             \
    ((struct png_caps){(int64_t)256 << 20, (int64_t)64 << 20,                                      \
                       "1024 sketches of 256 x 256; make it with fewer or smaller ones: "          \
                       "tools/train/seed_bank.py --max, --size"})
/* loop.seed_image, a single sketch fitted to loop.size (at most 2048): 16 Mi pixels
 * (4096 x 4096), a 64 MiB file. */
#define SEED_IMAGE_CAPS                                                                            \
    ((struct png_caps){(int64_t)64 << 20, (int64_t)16 << 20, "4096 x 4096; scale it down"})

struct seed_bank {
    uint8_t *pixels; /* count tiles of side x side, one after the other */
    int32_t side, count;
    int32_t recent[BANK_RECENT]; /* the last draws, newest at recent_head - 1 */
    int32_t recent_len, recent_head;
    struct planar tile; /* side x side, one channel: a tile as floats */
};

/* Reads and checks the PNG at path (already resolved). Errors name the file and say what
 * the layout must be. */
int seed_bank_open(struct seed_bank *b, const char *path, struct error *err);
void seed_bank_close(struct seed_bank *b);
/* The last draws as a checkpoint saved them (seed_bank's recent, recent_len, recent_head);
 * a ring that does not fit this bank (one changed since the save: a length, a position or
 * a person beyond it) starts empty. */
void seed_bank_resume(struct seed_bank *b, const int32_t *recent, int32_t len, int32_t head);
/* A person into out (one channel, any size; resized from the tile), varied as above.
 * scratch: the size of out. Returns the person's index in the bank. */
int32_t seed_bank_draw(struct seed_bank *b, struct planar *out, struct planar *scratch,
                       struct rng *rng);

/* The remembered person: `from` turning into `to` over the turn; `now` what is blended in. */
struct memory {
    struct planar from, to, now; /* one channel, loop.size */
    int32_t age;                 /* iterations since the current turn began */
};

int memory_init(struct memory *m, int32_t size, struct error *err);
void memory_free(struct memory *m);
/* Starts at person `first` (no turn in progress). */
void memory_start(struct memory *m, const struct planar *first, int32_t fade);
/* True when the person has been held for `hold` iterations after a `fade`-long turn. */
bool memory_due(const struct memory *m, int32_t hold, int32_t fade);
/* Begins a turn from what is remembered now to the next person, over the next `fade`
 * iterations: returns the sketch to draw that person into. */
struct planar *memory_turn(struct memory *m);
/* One iteration on: `now` follows the turn (a smoothstep of age / fade; fade >= 1). */
void memory_advance(struct memory *m, int32_t fade);

#endif

/* memory.c — see memory.h. */
#include "memory.h"

#include "image.h"

#include <stdlib.h>
#include <string.h>

/* How far a drawn person is varied: a person drawn twice is not the same drawing. */
#define DRAW_ZOOM  0.06f /* +-6% */
#define DRAW_TURN  5.0f  /* +-5 degrees */
#define DRAW_SHIFT 0.03f /* +-3% of the side along each axis */
#define MIN_SIDE   32
#define MIN_PEOPLE 2

int seed_bank_open(struct seed_bank *b, const char *path, struct error *err)
{
    memset(b, 0, sizeof *b);
    struct image img;
    if (image_read_png_capped(&img, path, 1, SEED_BANK_CAPS, err))
        return -1;
    int32_t side = img.width;
    if (side < MIN_SIDE || img.height % side != 0 || img.height / side < MIN_PEOPLE) {
        error_set(err,
                  "%s: %dx%d is not a seed bank: it must be one column of at least %d square "
                  "sketches, at least %d pixels wide (tools/train/seed_bank.py makes one)",
                  path, (int)img.width, (int)img.height, MIN_PEOPLE, MIN_SIDE);
        image_free(&img);
        return -1;
    }
    b->pixels = img.pixels; /* the bank keeps the decoded tiles */
    b->side = side;
    b->count = img.height / side;
    b->tile = (struct planar){1, side, side, malloc((size_t)side * side * sizeof(float))};
    if (!b->tile.data) {
        seed_bank_close(b);
        return error_set(err, "%s: out of memory for a %dx%d tile", path, (int)side, (int)side);
    }
    return 0;
}

void seed_bank_close(struct seed_bank *b)
{
    free(b->pixels);
    free(b->tile.data);
    memset(b, 0, sizeof *b);
}

static bool seen_lately(const struct seed_bank *b, int32_t k)
{
    for (int32_t i = 0; i < b->recent_len; i++)
        if (b->recent[i] == k)
            return true;
    return false;
}

/* How many of the last draws a person must not be among: min(count / 2, BANK_RECENT). */
static int32_t waiting(const struct seed_bank *b)
{
    return b->count / 2 < BANK_RECENT ? b->count / 2 : BANK_RECENT;
}

void seed_bank_resume(struct seed_bank *b, const int32_t *recent, int32_t len, int32_t head)
{
    int32_t wait = waiting(b);
    bool fits = len >= 0 && len <= wait && head >= 0 && (head < wait || (wait == 0 && head == 0));
    for (int32_t i = 0; fits && i < len; i++)
        fits = recent[i] >= 0 && recent[i] < b->count; /* persons of this bank */
    memcpy(b->recent, recent, sizeof b->recent);
    b->recent_len = fits ? len : 0;
    b->recent_head = fits ? head : 0;
}

/* A person not among the last waiting(b) draws. */
static int32_t pick(struct seed_bank *b, struct rng *rng)
{
    int32_t wait = waiting(b);
    /* At most half the bank waits, so a few random tries find a free person; the scan
     * after them bounds the time when they do not. */
    int32_t k = (int32_t)rng_below(rng, (uint32_t)b->count);
    for (int tries = 0; tries < 16 && seen_lately(b, k); tries++)
        k = (int32_t)rng_below(rng, (uint32_t)b->count);
    while (seen_lately(b, k))
        k = (k + 1) % b->count;
    if (wait > 0) {
        b->recent[b->recent_head] = k;
        b->recent_head = (b->recent_head + 1) % wait;
        b->recent_len += b->recent_len < wait;
    }
    return k;
}

/* Tile k as floats in [-1, 1], mirrored left to right when asked. */
static void tile_load(struct seed_bank *b, int32_t k, bool mirror)
{
    int32_t s = b->side;
    const uint8_t *src = b->pixels + (size_t)k * s * s;
    for (int32_t y = 0; y < s; y++)
        for (int32_t x = 0; x < s; x++) {
            uint8_t v = src[(size_t)y * s + (mirror ? s - 1 - x : x)];
            b->tile.data[(size_t)y * s + x] = (float)v * (2.0f / 255.0f) - 1.0f;
        }
}

int32_t seed_bank_draw(struct seed_bank *b, struct planar *out, struct planar *scratch,
                       struct rng *rng)
{
    int32_t k = pick(b, rng);
    tile_load(b, k, rng_below(rng, 2) == 1);
    lo_resize(&b->tile, scratch);
    float shift = DRAW_SHIFT * (float)out->width;
    struct warp w = {1 + rng_range(rng, -DRAW_ZOOM, DRAW_ZOOM),
                     rng_range(rng, -DRAW_TURN, DRAW_TURN), rng_range(rng, -shift, shift),
                     rng_range(rng, -shift, shift)};
    lo_warp(scratch, out, &w, LO_PAPER);
    return k;
}

static int plane_make(struct planar *p, int32_t size)
{
    *p = (struct planar){1, size, size, malloc((size_t)size * size * sizeof(float))};
    return p->data ? 0 : -1;
}

int memory_init(struct memory *m, int32_t size, struct error *err)
{
    memset(m, 0, sizeof *m);
    if (plane_make(&m->from, size) || plane_make(&m->to, size) || plane_make(&m->now, size)) {
        memory_free(m);
        return error_set(err,
                         "out of memory for the loop's memory at loop.size %d; set a smaller "
                         "loop.size or free memory",
                         (int)size);
    }
    return 0;
}

void memory_free(struct memory *m)
{
    free(m->from.data);
    free(m->to.data);
    free(m->now.data);
    memset(m, 0, sizeof *m);
}

void memory_start(struct memory *m, const struct planar *first, int32_t fade)
{
    size_t n = lo_size(&m->now);
    memcpy(m->from.data, first->data, n * sizeof(float));
    memcpy(m->to.data, first->data, n * sizeof(float));
    memcpy(m->now.data, first->data, n * sizeof(float));
    m->age = fade;
}

bool memory_due(const struct memory *m, int32_t hold, int32_t fade)
{
    return m->age >= fade + hold;
}

struct planar *memory_turn(struct memory *m)
{
    memcpy(m->from.data, m->now.data, lo_size(&m->now) * sizeof(float));
    m->age = 0;
    return &m->to;
}

void memory_advance(struct memory *m, int32_t fade)
{
    if (m->age < fade) {
        float t = (float)(m->age + 1) / (float)fade;
        float s = t * t * (3 - 2 * t); /* eases in and out: no visible start or stop */
        lo_blend(m->from.data, m->to.data, s, m->now.data, lo_size(&m->now));
    }
    if (m->age < INT32_MAX)
        m->age++;
}

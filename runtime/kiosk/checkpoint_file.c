/* checkpoint_file.c — the checkpoint file's bytes: writing a snapshot, checking and
 * reading one back, its checksum (see checkpoint_internal.h for the layout). A pure
 * format: no file, no log line, no decision about what to restore (checkpoint.c). */
#include "checkpoint_internal.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The format writes these field by field; a change to them needs CHECKPOINT_VERSION + 1
 * and its fields in put_ and get_ below. */
static_assert(GUARD_EVENT_COUNT == 7, "checkpoint format: a guard event changes the file");
static_assert(sizeof(struct rng) == 32, "checkpoint format: struct rng changed");
static_assert(sizeof(struct lo_metrics) == 40, "checkpoint format: struct lo_metrics changed");
static_assert(sizeof(struct guard_action) == 20, "checkpoint format: guard_action changed");

#define MAGIC "MNEMOCKP"

/* ---- checksums ----------------------------------------------------------------------- */

/* CRC-32 (IEEE 802.3, as zlib and PNG), table built per call: it runs once per save. */
static uint32_t crc32_of(const unsigned char *data, size_t len)
{
    uint32_t table[256];
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        table[i] = c;
    }
    uint32_t crc = 0xFFFFFFFFu;
    for (size_t i = 0; i < len; i++)
        crc = table[(crc ^ data[i]) & 0xFF] ^ (crc >> 8);
    return crc ^ 0xFFFFFFFFu;
}

/* ---- writing ------------------------------------------------------------------------ */

static void put_bytes(struct buf *b, const void *data, size_t len)
{
    if (b->oom || len == 0) /* an empty block may have no data at all */
        return;
    if (b->len + len > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + len)
            cap *= 2;
        unsigned char *grown = realloc(b->data, cap);
        if (!grown) {
            b->oom = true;
            return;
        }
        b->data = grown;
        b->cap = cap;
    }
    memcpy(b->data + b->len, data, len);
    b->len += len;
}

static void put_u64(struct buf *b, uint64_t v)
{
    unsigned char le[8];
    for (int i = 0; i < 8; i++)
        le[i] = (unsigned char)(v >> (8 * i));
    put_bytes(b, le, sizeof le);
}

static void put_u32(struct buf *b, uint32_t v)
{
    unsigned char le[4];
    for (int i = 0; i < 4; i++)
        le[i] = (unsigned char)(v >> (8 * i));
    put_bytes(b, le, sizeof le);
}

static void put_u8(struct buf *b, uint8_t v)
{
    put_bytes(b, &v, 1);
}

static void put_f32(struct buf *b, float v)
{
    uint32_t bits;
    memcpy(&bits, &v, sizeof bits);
    put_u32(b, bits);
}

static void put_floats(struct buf *b, const float *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        put_f32(b, v[i]);
}

static void put_rng(struct buf *b, const struct rng *r)
{
    uint64_t spare;
    memcpy(&spare, &r->spare, sizeof spare);
    put_u64(b, r->state);
    put_u64(b, r->inc);
    put_u64(b, spare);
    put_u8(b, r->has_spare);
}

static void put_action(struct buf *b, const struct guard_action *a)
{
    put_u32(b, (uint32_t)a->remedy);
    put_f32(b, a->boost);
    put_u8(b, a->turn);
    put_u8(b, a->reseed_start);
    put_f32(b, a->reseed_mix);
    put_u32(b, a->events);
}

static void put_metrics(struct buf *b, const struct lo_metrics *m)
{
    const float f[] = {m->change, m->variance,     m->hf_ratio,    m->saturation,
                       m->ink,    m->ink_spread_x, m->ink_spread_y};
    put_floats(b, f, sizeof f / sizeof f[0]);
    put_u64(b, m->hash);
}

static void put_guard(struct buf *b, const struct guard *g, const uint64_t *ring)
{
    put_u32(b, (uint32_t)g->still_run);
    put_f32(b, g->level);
    put_u32(b, (uint32_t)g->episode_age);
    put_u8(b, g->turned);
    put_u32(b, (uint32_t)g->reseed_step);
    put_u32(b, (uint32_t)g->grace);
    put_u8(b, g->reseed_requested);
    put_u32(b, g->last_events);
    const struct guard_stats *s = &g->stats;
    put_u64(b, s->iterations);
    for (int e = 0; e < GUARD_EVENT_COUNT; e++)
        put_u64(b, s->onsets[e]);
    for (int e = 0; e < GUARD_EVENT_COUNT; e++)
        put_u64(b, s->active[e]);
    put_u64(b, s->boosts);
    put_u64(b, s->turns);
    put_u64(b, s->reseeds);
    put_u32(b, (uint32_t)s->novelty);
    put_f32(b, s->boost_now);
    put_u32(b, (uint32_t)g->count);
    for (int32_t i = 0; i < g->count; i++)
        put_u64(b, ring[i]);
}

bool ckpt_param_saved(const struct param_def *d)
{
    return (d->flags & PARAM_LIVE) && !(d->flags & PARAM_SETUP);
}

static void put_line(struct buf *b, const char *name, const char *value)
{
    put_bytes(b, name, strlen(name));
    put_bytes(b, "=", 1);
    put_bytes(b, value, strlen(value));
    put_bytes(b, "\n", 1);
}

/* The live parameters that differ from the start, as "name=value\n" lines in `live`
 * and the values they started from in `from`, same order; each block length-prefixed. */
static void put_params(struct buf *b, const struct params *now, const struct params *start)
{
    struct buf live = {0}, from = {0};
    char value[PARAM_TEXT_MAX];
    for (size_t i = 0; i < params_count(); i++) {
        const struct param_def *d = params_at(i);
        if (!ckpt_param_saved(d) || param_equal(d, now, start))
            continue;
        char was[PARAM_TEXT_MAX];
        param_format(now, d, value, sizeof value);
        param_format(start, d, was, sizeof was);
        if (strchr(value, '\n') || strchr(was, '\n'))
            continue; /* a line per value: a (live string) value with a newline stays out */
        put_line(&live, d->name, value);
        put_line(&from, d->name, was);
    }
    b->oom |= live.oom || from.oom;
    put_u32(b, (uint32_t)live.len);
    put_bytes(b, live.data, live.len);
    put_u32(b, (uint32_t)from.len);
    put_bytes(b, from.data, from.len);
    free(live.data);
    free(from.data);
}

int ckpt_serialise(struct buf *b, const struct snapshot *s, int32_t size, size_t plane,
                   uint64_t digest, const struct params *start)
{
    b->len = 0;
    b->oom = false;
    put_bytes(b, MAGIC, 8);
    put_u32(b, CHECKPOINT_VERSION);
    put_u32(b, 0);
    put_u64(b, 0); /* total length, filled in below */
    put_u32(b, (uint32_t)size);
    put_u32(b, 0);
    put_u64(b, digest);
    put_u64(b, s->iterations);
    put_u64(b, (uint64_t)time(NULL));
    put_rng(b, &s->perturb_rng);
    put_rng(b, &s->seed_rng);
    put_action(b, &s->action);
    put_metrics(b, &s->metrics);
    put_guard(b, &s->guard, s->ring);
    put_floats(b, s->sketch, plane);
    put_floats(b, s->portrait, 3 * plane);
    put_floats(b, s->seed, plane);
    put_u32(b, (uint32_t)s->memory_age);
    put_u32(b, (uint32_t)s->recent_len);
    put_u32(b, (uint32_t)s->recent_head);
    for (int i = 0; i < BANK_RECENT; i++)
        put_u32(b, (uint32_t)s->recent[i]);
    put_floats(b, s->memory, 3 * plane);
    put_params(b, &s->p, start);
    if (b->oom)
        return -1;
    uint64_t total = b->len + 4;
    for (int i = 0; i < 8; i++)
        b->data[16 + i] = (unsigned char)(total >> (8 * i));
    put_u32(b, crc32_of(b->data, b->len));
    return b->oom ? -1 : 0;
}

/* ---- checking and reading ------------------------------------------------------------- */

static uint32_t le32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t le64(const unsigned char *p)
{
    return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32;
}

const char *ckpt_check(const unsigned char *data, size_t len, int32_t size, uint64_t digest,
                       char *why, size_t why_size)
{
    if (len < 8 || memcmp(data, MAGIC, 8) != 0)
        return "not a mnemo checkpoint (no MNEMOCKP at its start)";
    if (len < CKPT_HEADER_BYTES + 4) {
        snprintf(why, why_size, "truncated: %zu bytes, shorter than a header", len);
        return why;
    }
    uint32_t version = le32(data + 8);
    if (version != CHECKPOINT_VERSION) {
        snprintf(why, why_size, "format version %" PRIu32 "; this mnemo reads version %d", version,
                 CHECKPOINT_VERSION);
        return why;
    }
    uint64_t total = le64(data + 16);
    if (total != len) {
        snprintf(why, why_size, "%s: %zu bytes, its header says %" PRIu64,
                 len < total ? "truncated" : "too long", len, total);
        return why;
    }
    if (crc32_of(data, len - 4) != le32(data + len - 4))
        return "checksum mismatch: the file is corrupt";
    int32_t size_saved = (int32_t)le32(data + 24);
    if (size_saved != size) {
        snprintf(why, why_size, "saved at loop.size %d, this piece runs at %d", (int)size_saved,
                 (int)size);
        return why;
    }
    if (le64(data + 32) != digest)
        return "saved with other models (loop.painter / loop.sketcher files differ)";
    return NULL;
}

struct reader {
    const unsigned char *at, *end;
    bool ok;
};

static const unsigned char *get_bytes(struct reader *r, size_t len)
{
    if (!r->ok || (size_t)(r->end - r->at) < len) {
        r->ok = false;
        return NULL;
    }
    const unsigned char *p = r->at;
    r->at += len;
    return p;
}

static uint64_t get_u64(struct reader *r)
{
    const unsigned char *p = get_bytes(r, 8);
    uint64_t v = 0;
    for (int i = 0; p && i < 8; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

static uint32_t get_u32(struct reader *r)
{
    const unsigned char *p = get_bytes(r, 4);
    uint32_t v = 0;
    for (int i = 0; p && i < 4; i++)
        v |= (uint32_t)p[i] << (8 * i);
    return v;
}

static uint8_t get_u8(struct reader *r)
{
    const unsigned char *p = get_bytes(r, 1);
    return p ? p[0] : 0;
}

static float get_f32(struct reader *r)
{
    uint32_t bits = get_u32(r);
    float v;
    memcpy(&v, &bits, sizeof v);
    return v;
}

static void get_floats(struct reader *r, float *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        v[i] = get_f32(r);
}

static void get_rng(struct reader *r, struct rng *g)
{
    g->state = get_u64(r);
    g->inc = get_u64(r);
    uint64_t spare = get_u64(r);
    memcpy(&g->spare, &spare, sizeof spare);
    g->has_spare = get_u8(r) != 0;
}

static void get_action(struct reader *r, struct guard_action *a)
{
    uint32_t remedy = get_u32(r);
    r->ok &= remedy <= GUARD_RESEED; /* no other remedy exists: not one of our files */
    a->remedy = remedy <= GUARD_RESEED ? (enum guard_remedy)remedy : GUARD_NONE;
    a->boost = get_f32(r);
    a->turn = get_u8(r) != 0;
    a->reseed_start = get_u8(r) != 0;
    a->reseed_mix = get_f32(r);
    a->events = get_u32(r);
}

static void get_metrics(struct reader *r, struct lo_metrics *m)
{
    float f[7];
    get_floats(r, f, 7);
    *m = (struct lo_metrics){f[0], f[1], f[2], f[3], f[4], f[5], f[6], get_u64(r)};
}

/* The guard's state into s->guard and s->ring (at most `capacity` hashes: the newest). */
static void get_guard(struct reader *r, struct snapshot *s, int32_t capacity)
{
    struct guard *g = &s->guard;
    g->still_run = (int32_t)get_u32(r);
    g->level = get_f32(r);
    g->episode_age = (int32_t)get_u32(r);
    g->turned = get_u8(r) != 0;
    g->reseed_step = (int32_t)get_u32(r);
    g->grace = (int32_t)get_u32(r);
    g->reseed_requested = get_u8(r) != 0;
    g->last_events = get_u32(r);
    struct guard_stats *st = &g->stats;
    st->iterations = get_u64(r);
    for (int e = 0; e < GUARD_EVENT_COUNT; e++)
        st->onsets[e] = get_u64(r);
    for (int e = 0; e < GUARD_EVENT_COUNT; e++)
        st->active[e] = get_u64(r);
    st->boosts = get_u64(r);
    st->turns = get_u64(r);
    st->reseeds = get_u64(r);
    st->novelty = (int32_t)get_u32(r);
    st->boost_now = get_f32(r);
    uint32_t count = get_u32(r);
    uint32_t skip = count > (uint32_t)capacity ? count - (uint32_t)capacity : 0;
    get_bytes(r, (size_t)skip * 8); /* a smaller guard.history keeps the newest */
    g->count = (int32_t)(count - skip);
    for (int32_t i = 0; i < g->count; i++)
        s->ring[i] = get_u64(r);
}

/* A length-prefixed text block: its start and length (not terminated). */
static const char *get_text(struct reader *r, size_t *len)
{
    *len = get_u32(r);
    return (const char *)get_bytes(r, *len);
}

bool ckpt_parse(const unsigned char *data, size_t len, size_t plane, int32_t ring_capacity,
                struct snapshot *s, struct ckpt_extra *x)
{
    struct reader r = {data + 40, data + len - 4, true};
    s->iterations = get_u64(&r);
    x->saved_unix = get_u64(&r);
    get_rng(&r, &s->perturb_rng);
    get_rng(&r, &s->seed_rng);
    get_action(&r, &s->action);
    get_metrics(&r, &s->metrics);
    get_guard(&r, s, ring_capacity);
    get_floats(&r, s->sketch, plane);
    get_floats(&r, s->portrait, 3 * plane);
    get_floats(&r, s->seed, plane);
    s->memory_age = (int32_t)get_u32(&r);
    s->recent_len = (int32_t)get_u32(&r);
    s->recent_head = (int32_t)get_u32(&r);
    for (int i = 0; i < BANK_RECENT; i++)
        s->recent[i] = (int32_t)get_u32(&r);
    get_floats(&r, s->memory, 3 * plane);
    x->live = get_text(&r, &x->live_len);
    x->from = get_text(&r, &x->from_len);
    return r.ok && r.at == r.end;
}

/* ---- the values: what a loop can hold -------------------------------------------------- */

/* A value restored from a file with a good checksum can still be one no loop leaves
 * behind (a forged file, or one a buggy writer made): a generator that cannot move (a
 * zeroed PCG32 state loops forever in rng_below's rejection), a counter near the end of
 * its type (signed overflow on the next iteration), a pixel outside [-1, 1]. Each is
 * checked against the range the loop's own rules keep it in, as the registry bounds the
 * parameters those rules read. */

#define PIXEL_SLACK 1e-3 /* blends of values in [-1, 1] may pass 1 by a rounding */
#define EVENTS_ALL  ((1u << GUARD_EVENT_COUNT) - 1)

/* One restored value and the range it must be in (NaN is in none). */
struct bound {
    const char *field;
    double value, lo, hi;
};

static double registry_max(const char *name)
{
    const struct param_def *d = params_find(name);
    return d ? d->max : 0;
}

/* The first of n values outside its range, written into why; NULL when all are inside. */
static const char *bounds_why(const struct bound *b, size_t n, char *why, size_t why_size)
{
    for (size_t i = 0; i < n; i++)
        if (!(b[i].value >= b[i].lo && b[i].value <= b[i].hi)) {
            snprintf(why, why_size,
                     "%s is %.10g, out of its range %.10g .. %.10g (a forged or miswritten file)",
                     b[i].field, b[i].value, b[i].lo, b[i].hi);
            return why;
        }
    return NULL;
}

/* A PCG32 generator runs only on an odd stream selector (inc): with an even one, and a
 * zeroed one above all, it can stand still and rng_below never returns. */
static const char *rng_why(const char *name, const struct rng *g, char *why, size_t why_size)
{
    if (!(g->inc & 1))
        snprintf(why, why_size,
                 "the %s generator cannot run: its stream selector is even (%#" PRIx64
                 "; a zeroed or forged file)",
                 name, g->inc);
    else if (g->has_spare && !isfinite(g->spare))
        snprintf(why, why_size, "the %s generator's kept normal draw is %g (a forged file)", name,
                 g->spare);
    else
        return NULL;
    return why;
}

/* Counts that only grow with the iterations: none more than the count it is part of. */
static const char *counts_why(const struct snapshot *s, char *why, size_t why_size)
{
    const struct guard_stats *st = &s->guard.stats;
    const char *bad = st->iterations > s->iterations ? "guard iterations"
                      : st->boosts > st->iterations  ? "guard boosts"
                      : st->turns > st->iterations   ? "guard turns"
                      : st->reseeds > st->iterations ? "guard reseeds"
                                                     : NULL;
    for (int e = 0; !bad && e < GUARD_EVENT_COUNT; e++)
        bad = st->active[e] > st->iterations  ? "guard event iterations"
              : st->onsets[e] > st->active[e] ? "guard event onsets"
                                              : NULL;
    if (!bad)
        return NULL;
    snprintf(why, why_size,
             "its %s count is more than the iterations it counts (%" PRIu64
             " saved; a forged or miswritten file)",
             bad, s->iterations);
    return why;
}

/* The guard as guard.c keeps it (counters of iterations, never more than the loop ran;
 * what a reseed, a grace or a boost can reach by the registry's bounds), what the next
 * iteration does, and the metrics of the last. */
static const char *guard_why(const struct snapshot *s, char *why, size_t why_size)
{
    const struct guard *g = &s->guard;
    const struct guard_action *a = &s->action;
    const struct lo_metrics *m = &s->metrics;
    double ran = (double)s->iterations, boost = registry_max("guard.boost");
    double reseed = registry_max("guard.reseed_iterations");
    /* a boost episode ends in a reseed at guard.reseed_after, or after one under way */
    double episode = fmin(ran, registry_max("guard.reseed_after") + reseed);
    const struct bound b[] = {
        {"the guard's still run", g->still_run, 0, ran},
        {"the guard's boost level", g->level, 0, 1},
        {"the guard's boost episode", g->episode_age, 0, episode},
        {"the guard's reseed step", g->reseed_step, 0, reseed},
        {"the guard's grace", g->grace, 0, registry_max("guard.stall_window")},
        {"the guard's last events", g->last_events, 0, EVENTS_ALL},
        {"the guard's novelty", g->stats.novelty, 0, 64},
        {"the guard's boost", g->stats.boost_now, 1, boost},
        {"the next iteration's boost", a->boost, 1, boost},
        {"the next iteration's reseed mix", a->reseed_mix, 0, 1},
        {"the next iteration's events", a->events, 0, EVENTS_ALL},
        {"the last change metric", m->change, 0, HUGE_VAL},
        {"the last variance metric", m->variance, 0, HUGE_VAL},
        {"the last hf_ratio metric", m->hf_ratio, 0, HUGE_VAL},
        {"the last saturation metric", m->saturation, 0, HUGE_VAL},
        {"the last ink metric", m->ink, 0, HUGE_VAL},
        {"the last ink spread x metric", m->ink_spread_x, 0, HUGE_VAL},
        {"the last ink spread y metric", m->ink_spread_y, 0, HUGE_VAL},
    };
    const char *r = bounds_why(b, sizeof b / sizeof b[0], why, why_size);
    return r ? r : counts_why(s, why, why_size);
}

/* The memory's turn, the bank's ring of last draws (whether they are persons of the bank
 * read now is seed_bank_resume's to judge: a ring that does not fit starts empty). */
static const char *memory_why(const struct snapshot *s, char *why, size_t why_size)
{
    const struct bound b[] = {
        {"the memory's age", s->memory_age, 0,
         registry_max("memory.hold") + registry_max("memory.fade")},
        {"the bank's count of last draws", s->recent_len, 0, BANK_RECENT},
        {"the bank's next draw slot", s->recent_head, 0, BANK_RECENT - 1},
    };
    const char *r = bounds_why(b, sizeof b / sizeof b[0], why, why_size);
    for (int32_t i = 0; !r && i < s->recent_len; i++) {
        const struct bound draw = {"a last draw of the bank", s->recent[i], 0, INT32_MAX};
        r = bounds_why(&draw, 1, why, why_size);
    }
    return r;
}

/* Every pixel of an image canonical: finite, in [-1, 1]. */
static const char *pixels_why(const char *name, const float *v, size_t n, char *why,
                              size_t why_size)
{
    for (size_t i = 0; i < n; i++)
        if (!(fabsf(v[i]) <= 1 + PIXEL_SLACK)) {
            snprintf(why, why_size,
                     "pixel %zu of its %s is %g, outside [-1, 1] (a forged or miswritten file)", i,
                     name, (double)v[i]);
            return why;
        }
    return NULL;
}

static const char *images_why(const struct snapshot *s, size_t plane, char *why, size_t why_size)
{
    const struct {
        const char *name;
        const float *data;
        size_t n;
    } images[] = {{"sketch", s->sketch, plane},
                  {"portrait", s->portrait, 3 * plane},
                  {"seed sketch", s->seed, plane},
                  {"memory", s->memory, 3 * plane}};
    for (size_t i = 0; i < sizeof images / sizeof images[0]; i++)
        if (pixels_why(images[i].name, images[i].data, images[i].n, why, why_size))
            return why;
    return NULL;
}

const char *ckpt_values_check(const struct snapshot *s, size_t plane, char *why, size_t why_size)
{
    if (rng_why("perturbation", &s->perturb_rng, why, why_size) ||
        rng_why("seed", &s->seed_rng, why, why_size) || guard_why(s, why, why_size) ||
        memory_why(s, why, why_size) || images_why(s, plane, why, why_size))
        return why;
    return NULL;
}

/* ---- live parameters ------------------------------------------------------------------ */

bool ckpt_text_value(const char *text, size_t len, const char *name, char *buf, size_t size)
{
    size_t name_len = strlen(name);
    for (const char *line = text, *end = text + len; line < end;) {
        const char *nl = memchr(line, '\n', (size_t)(end - line));
        if (!nl)
            return false;
        if ((size_t)(nl - line) > name_len && memcmp(line, name, name_len) == 0 &&
            line[name_len] == '=') {
            size_t n = (size_t)(nl - line) - name_len - 1;
            if (n >= size)
                return false;
            memcpy(buf, line + name_len + 1, n);
            buf[n] = '\0';
            return true;
        }
        line = nl + 1;
    }
    return false;
}

/* guard.c — the loop's watchdog over its own pictures (see guard.h). */
#include "guard.h"

#include <stdlib.h>
#include <string.h>

#define BIT(e) (1u << (e))
/* More perturbation cannot bring these back: a blank sketch re-thresholded stays blank,
 * noise made noisier stays noise. They go straight to a reseed. */
#define SEVERE                                                                                     \
    (BIT(GUARD_FLAT) | BIT(GUARD_EXPLODE) | BIT(GUARD_SATURATE) | BIT(GUARD_INKLESS) |             \
     BIT(GUARD_SHAPELESS))
#define MILD (BIT(GUARD_STALL) | BIT(GUARD_REPEAT))

struct guard_config guard_config_from_params(const struct params *p)
{
    struct guard_config c = {
        .enabled = p->guard.enabled,
        .stall_threshold = p->guard.stall_threshold,
        .stall_window = p->guard.stall_window,
        .flat_variance = p->guard.flat_variance,
        .explode_level = p->guard.explode_level,
        .saturate_level = p->guard.saturate_level,
        .ink_min = p->guard.ink_min,
        .spread_min = p->guard.spread_min,
        .shape_min = p->guard.shape_min,
        .repeat_bits = p->guard.repeat_bits,
        .repeat_skip = p->guard.repeat_skip,
        .history = p->guard.history,
        .boost = p->guard.boost,
        .ramp = p->guard.ramp,
        /* a turn works through the memory: with memory.anchor 0 it would change nothing */
        .turn_after = p->memory.anchor > 0 ? p->guard.turn_after : 0,
        .reseed_after = p->guard.reseed_after,
        .reseed_iterations = p->guard.reseed_iterations,
    };
    return c;
}

int guard_init(struct guard *g, const struct guard_config *cfg, struct error *err)
{
    memset(g, 0, sizeof *g);
    if (cfg->history < 1)
        return error_set(err, "guard.history: %d, must be at least 1", (int)cfg->history);
    g->ring = calloc((size_t)cfg->history, sizeof g->ring[0]);
    if (!g->ring)
        return error_set(err, "guard.history: no memory for %d hashes", (int)cfg->history);
    g->capacity = cfg->history;
    g->cfg = *cfg;
    g->stats.novelty = 64;
    g->stats.boost_now = 1;
    return 0;
}

void guard_free(struct guard *g)
{
    free(g->ring);
    g->ring = NULL;
    g->capacity = g->count = g->head = 0;
}

void guard_configure(struct guard *g, const struct guard_config *cfg)
{
    int32_t history = g->cfg.history;
    g->cfg = *cfg;
    g->cfg.history = history;
}

void guard_request_reseed(struct guard *g)
{
    g->reseed_requested = true;
}

/* Bits to the nearest hash older than repeat_skip iterations (64 when there is none). */
static int32_t novelty(const struct guard *g, uint64_t hash)
{
    int32_t best = 64;
    for (int32_t age = g->cfg.repeat_skip; age < g->count; age++) {
        int32_t idx = (g->head - 1 - age) % g->capacity;
        idx = idx < 0 ? idx + g->capacity : idx;
        int32_t d = lo_hamming(hash, g->ring[idx]);
        best = d < best ? d : best;
    }
    return best;
}

static void remember(struct guard *g, uint64_t hash)
{
    g->ring[g->head] = hash;
    g->head = (g->head + 1) % g->capacity;
    g->count += g->count < g->capacity;
}

/* A sketch with ink, but no longer the outline of a face: too small, or far narrower one
 * way than the other (FACTS.md: loops die into glyph-like strips before they go blank). */
static bool shapeless(const struct guard_config *c, const struct lo_metrics *m)
{
    float lo = fminf(m->ink_spread_x, m->ink_spread_y);
    float hi = fmaxf(m->ink_spread_x, m->ink_spread_y);
    return lo < c->spread_min || lo < c->shape_min * hi;
}

static unsigned detect(struct guard *g, const struct lo_metrics *m)
{
    const struct guard_config *c = &g->cfg;
    /* still_run grows without bound while the guard is off: it stops at the top of its
     * type rather than overflow */
    g->still_run = m->change < c->stall_threshold ? g->still_run + (g->still_run < INT32_MAX) : 0;
    g->stats.novelty = novelty(g, m->hash);
    remember(g, m->hash);
    unsigned events = 0;
    events |= g->still_run >= c->stall_window ? BIT(GUARD_STALL) : 0;
    events |= m->variance < c->flat_variance ? BIT(GUARD_FLAT) : 0;
    events |= m->hf_ratio > c->explode_level ? BIT(GUARD_EXPLODE) : 0;
    events |= m->saturation > c->saturate_level ? BIT(GUARD_SATURATE) : 0;
    events |= g->stats.novelty <= c->repeat_bits ? BIT(GUARD_REPEAT) : 0;
    events |= m->ink < c->ink_min ? BIT(GUARD_INKLESS) : 0;
    events |= m->ink >= c->ink_min && shapeless(c, m) ? BIT(GUARD_SHAPELESS) : 0;
    return events;
}

static void count_events(struct guard *g, unsigned events)
{
    for (int e = 0; e < GUARD_EVENT_COUNT; e++) {
        if (!(events & BIT(e)))
            continue;
        g->stats.active[e]++;
        g->stats.onsets[e] += !(g->last_events & BIT(e));
    }
    g->last_events = events;
}

static void start_reseed(struct guard *g)
{
    g->reseed_step = 0;
    g->episode_age = 0;
    g->reseed_requested = false;
    g->stats.reseeds++;
}

/* Advances a reseed in progress (or just begun): the seed's share grows k / N. */
static void reseed_progress(struct guard *g, struct guard_action *a)
{
    int32_t n = g->cfg.reseed_iterations > 0 ? g->cfg.reseed_iterations : 1;
    g->reseed_step++;
    a->remedy = GUARD_RESEED;
    a->reseed_start = g->reseed_step == 1;
    a->reseed_mix = (float)g->reseed_step / (float)n;
    if (g->reseed_step >= n) {
        g->reseed_step = 0;
        g->grace = g->cfg.stall_window;
        g->still_run = 0;
    }
}

/* The boost ramp: up while trouble lasts, down once it is gone. */
static void ramp_boost(struct guard *g, bool trouble)
{
    float step = 1.0f / (float)(g->cfg.ramp > 0 ? g->cfg.ramp : 1);
    if (trouble && g->level == 0)
        g->stats.boosts++;
    g->level += trouble ? step : -step;
    g->level = g->level < 0 ? 0 : (g->level > 1 ? 1 : g->level);
    g->episode_age = g->level > 0 ? g->episode_age + 1 : 0;
    g->turned = g->turned && g->level > 0; /* a new episode may turn again */
}

/* Boosting has not helped for turn_after iterations: the memory turns to the next person
 * (once an episode), and the reseed's clock starts again from the turn, so the turn has
 * reseed_after iterations to work before a reseed. */
static bool turn_due(struct guard *g)
{
    int32_t after = g->cfg.turn_after;
    if (after <= 0 || g->turned || g->level <= 0 || g->episode_age < after)
        return false;
    g->turned = true;
    g->episode_age = 0;
    g->stats.turns++;
    return true;
}

static void decide(struct guard *g, unsigned events, struct guard_action *a)
{
    bool held = g->grace > 0;
    g->grace -= held;
    bool reseeding = g->reseed_step > 0;
    bool severe = !held && (events & SEVERE);
    bool mild = !held && (events & MILD);
    ramp_boost(g, mild && !reseeding && !severe);
    a->turn = !reseeding && !severe && !g->reseed_requested && turn_due(g);
    bool stuck = g->episode_age >= g->cfg.reseed_after;
    if (!reseeding && (severe || stuck || g->reseed_requested)) {
        start_reseed(g);
        reseeding = true;
    }
    if (reseeding)
        reseed_progress(g, a);
    else if (a->turn)
        a->remedy = GUARD_TURN;
    else if (g->level > 0)
        a->remedy = GUARD_BOOST;
    a->boost = 1 + (g->cfg.boost - 1) * g->level;
}

struct guard_action guard_step(struct guard *g, const struct lo_metrics *m)
{
    struct guard_action a = {GUARD_NONE, 1, false, false, 0, 0};
    g->stats.iterations++;
    a.events = detect(g, m);
    count_events(g, a.events);
    if (g->cfg.enabled)
        decide(g, a.events, &a);
    else
        g->reseed_requested = false;
    g->stats.boost_now = a.boost;
    return a;
}

const char *guard_event_name(enum guard_event e)
{
    static const char *const names[GUARD_EVENT_COUNT] = {
        "stall", "flat", "explode", "saturate", "repeat", "inkless", "shapeless"};
    return e >= 0 && e < GUARD_EVENT_COUNT ? names[e] : "?";
}

const char *guard_remedy_name(enum guard_remedy r)
{
    switch (r) {
    case GUARD_NONE:
        return "none";
    case GUARD_BOOST:
        return "boost";
    case GUARD_TURN:
        return "turn";
    case GUARD_RESEED:
        return "reseed";
    }
    return "?";
}

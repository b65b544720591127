/* loop.c — see loop.h. */
#include "loop.h"

#include "chain.h"
#include "datapath.h"
#include "log.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *const backend_names[] = {[LOOP_BACKEND_AUTO] = "auto",
                                            [LOOP_BACKEND_CUDA] = "cuda",
                                            [LOOP_BACKEND_CPU] = "cpu",
                                            [LOOP_BACKEND_REF] = "ref"};

static int planar_make(struct planar *im, int32_t channels, int32_t size)
{
    im->channels = channels;
    im->height = im->width = size;
    im->data = calloc((size_t)channels * size * size, sizeof(float));
    return im->data ? 0 : -1;
}

static int buffers_make(struct loop *L, struct error *err)
{
#define OUT_OF_MEMORY_IMAGES                                                                       \
    "out of memory for the loop's %dx%d images; set a smaller loop.size or free memory"
    int32_t s = L->size;
    if (planar_make(&L->sketch, 1, s) || planar_make(&L->painter_in, 1, s) ||
        planar_make(&L->raw_sketch, 1, s) || planar_make(&L->seed, 1, s) ||
        planar_make(&L->draw_scratch, 1, s) || planar_make(&L->portrait, 3, s) ||
        planar_make(&L->prev_portrait, 3, s))
        return error_set(err, OUT_OF_MEMORY_IMAGES, s, s);
    L->scratch = calloc((size_t)s * s, sizeof(float));
    if (!L->scratch)
        return error_set(err, OUT_OF_MEMORY_IMAGES, s, s);
    return memory_init(&L->memory, s, err);
}

/* loop.seed_image as a canonical sketch of the loop's size (read once, at open). */
static int seed_image_load(struct loop *L, struct error *err)
{
    struct image img;
    char path[4096];
    if (datapath_find(L->p.loop.seed_image, path, sizeof path, err) ||
        image_read_png_capped(&img, path, 1, SEED_IMAGE_CAPS, err)) {
        error_prefix(err, "loop.seed_image");
        return -1;
    }
    L->seed_image = malloc((size_t)L->size * L->size * sizeof(float));
    if (!L->seed_image) {
        image_free(&img);
        return error_set(err, "out of memory for loop.seed_image");
    }
    struct shape shape = shape_make4(1, 1, L->size, L->size);
    image_to_tensor(&img, &shape, L->seed_image, (struct value_range){LO_INK, LO_PAPER});
    image_free(&img);
    return 0;
}

/* loop.seed_bank, found by datapath.h's rule. */
static int seed_bank_load(struct loop *L, struct error *err)
{
    char path[4096];
    if (datapath_find(L->p.loop.seed_bank, path, sizeof path, err) ||
        seed_bank_open(&L->bank, path, err))
        return error_prefix(err, "loop.seed_bank");
    return 0;
}

/* A fresh sketch into `out` from loop.seed_source (restart-only, like the files it names:
 * they are read at open, off the hot path; an empty bank draws the procedural face). */
static void seed_draw(struct loop *L, struct planar *out)
{
    if (L->p.loop.seed_source == SEED_BANK && L->bank.count > 0)
        seed_bank_draw(&L->bank, out, &L->draw_scratch, &L->seed_rng);
    else if (L->p.loop.seed_source == SEED_IMAGE && L->seed_image)
        memcpy(out->data, L->seed_image, lo_size(out) * sizeof(float));
    else if (L->p.loop.seed_source == SEED_NOISE)
        lo_seed_noise(out, &L->seed_rng);
    else
        lo_seed_face(out, &L->seed_rng);
}

/* One of the models, found by datapath.h's rule (the setting may be relative). */
static int model_open(struct loop *L, struct loop_model *m, const char *role, const char *setting,
                      const struct backend_options *opt, struct error *err)
{
    char path[4096];
    if (datapath_find(setting, path, sizeof path, err))
        return error_prefix(err, "loop.%s", role);
    return loop_model_open(m, role, path, L->size, L->backend_name, opt, err);
}

/* Both directions must chain; the loop converts sizes and channels at its borders, so
 * this refuses only what cannot be an image. */
static int models_chain(const struct loop_model *painter, const struct loop_model *sketcher,
                        struct error *err)
{
    char plan[256];
    if (chain_check(painter->graph, painter->path, sketcher->graph, sketcher->path, plan,
                    sizeof plan, err) ||
        chain_check(sketcher->graph, sketcher->path, painter->graph, painter->path, plan,
                    sizeof plan, err))
        return -1;
    return 0;
}

static int models_open(struct loop *L, struct error *err)
{
    if (model_open(L, &L->painter, "painter", L->p.loop.painter, &L->opt, err) ||
        model_open(L, &L->sketcher, "sketcher", L->p.loop.sketcher, &L->opt, err))
        return -1;
    return models_chain(&L->painter, &L->sketcher, err);
}

int loop_open(struct loop *L, const struct params *p, const char *backend, struct error *err)
{
    memset(L, 0, sizeof *L);
    L->p = *p;
    L->size = p->loop.size;
    L->backend_name = backend ? backend : backend_names[p->loop.backend];
    L->opt = (struct backend_options){.precision = (enum precision)p->loop.precision};
    rng_seed(&L->perturb_rng, (uint64_t)p->loop.seed, 1);
    rng_seed(&L->seed_rng, (uint64_t)p->loop.seed, 2);
    struct guard_config gc = guard_config_from_params(p);
    if (buffers_make(L, err) || guard_init(&L->guard, &gc, err) ||
        (p->loop.seed_source == SEED_IMAGE && seed_image_load(L, err)) ||
        (p->loop.seed_source == SEED_BANK && seed_bank_load(L, err)) || models_open(L, err)) {
        loop_close(L);
        return -1;
    }
    seed_draw(L, &L->sketch);
    memory_start(&L->memory, &L->sketch, p->memory.fade);
    L->action = (struct guard_action){.remedy = GUARD_NONE, .boost = 1.0f};
    return 0;
}

void loop_close(struct loop *L)
{
    loop_model_close(&L->painter);
    loop_model_close(&L->sketcher);
    guard_free(&L->guard);
    seed_bank_close(&L->bank);
    memory_free(&L->memory);
    struct planar *images[] = {&L->sketch,   &L->painter_in,    &L->raw_sketch,  &L->seed,
                               &L->portrait, &L->prev_portrait, &L->draw_scratch};
    for (size_t i = 0; i < sizeof images / sizeof images[0]; i++) {
        free(images[i]->data);
        images[i]->data = NULL;
    }
    free(L->scratch);
    free(L->seed_image);
    L->scratch = L->seed_image = NULL;
}

/* The share of the previous portrait kept: loop.blend, or more while a swap fades in, so
 * that a new model's first portraits dissolve into the stream over loop.swap_fade
 * iterations instead of replacing it at once (the presenter's own crossfade lasts only
 * one iteration). A failed iteration that retries has used up one step: harmless. */
static float portrait_blend(struct loop *L)
{
    float blend = L->p.loop.blend;
    if (L->swap_fade_left <= 0)
        return blend;
    float fade = (float)L->swap_fade_left / (float)(L->p.loop.swap_fade + 1);
    L->swap_fade_left--;
    return fade > blend ? fade : blend;
}

/* Sketch -> perturbed -> painter -> portrait, blended with the previous one. */
static int paint(struct loop *L, struct error *err)
{
    struct perturb_strength strength = lo_perturb_strength(&L->p, L->action.boost);
    lo_perturb(&L->sketch, &L->painter_in, &strength, &L->perturb_rng);
    loop_model_feed(&L->painter, L->painter_in.data, 1);
    if (loop_model_run(&L->painter, err))
        return -1;
    size_t n = lo_size(&L->portrait);
    memcpy(L->prev_portrait.data, L->portrait.data, n * sizeof(float));
    loop_model_take(&L->painter, L->portrait.data, 3, L->prev_portrait.data);
    if (L->iterations > 0) /* the first portrait has nothing to blend with */
        lo_blend(L->portrait.data, L->prev_portrait.data, portrait_blend(L), L->portrait.data, n);
    return 0;
}

/* The memory moves on: a turn to the next person when one is due or the guard asks for
 * one early, or to the guard's fresh seed when it reseeds (drawn into L->seed, which the
 * reseed blends in too). */
static void remember(struct loop *L)
{
    int32_t fade = L->p.memory.fade;
    if (L->action.reseed_start) {
        seed_draw(L, &L->seed);
        struct planar *next = memory_turn(&L->memory);
        memcpy(next->data, L->seed.data, lo_size(next) * sizeof(float));
    } else if (L->action.turn || memory_due(&L->memory, L->p.memory.hold, fade)) {
        seed_draw(L, memory_turn(&L->memory));
    }
    memory_advance(&L->memory, fade);
}

/* Portrait -> sketcher -> simplified sketch, anchored to the remembered person, with a
 * fresh seed blended in on a reseed. */
static int sketch(struct loop *L, struct error *err)
{
    loop_model_feed(&L->sketcher, L->portrait.data, 3);
    if (loop_model_run(&L->sketcher, err))
        return -1;
    loop_model_take(&L->sketcher, L->raw_sketch.data, 1, L->sketch.data);
    struct simplify_opts so = lo_simplify_opts(&L->p);
    lo_simplify(&L->raw_sketch, &so, L->scratch);
    remember(L);
    size_t n = lo_size(&L->sketch);
    lo_blend(L->raw_sketch.data, L->memory.now.data, L->p.memory.anchor, L->sketch.data, n);
    if (L->action.reseed_mix > 0)
        lo_blend(L->seed.data, L->sketch.data, 1.0f - L->action.reseed_mix, L->sketch.data, n);
    return 0;
}

/* A model that gave values that are not numbers: they were kept out of the images
 * (loop_model_take), and the guard reseeds, so that the loop moves off the input that made
 * them. Said once a model (the only line the loop writes while it runs well). */
static void nonfinite_check(struct loop *L)
{
    struct loop_model *models[] = {&L->painter, &L->sketcher};
    bool any = false;
    for (size_t i = 0; i < 2; i++) {
        struct loop_model *m = models[i];
        if (m->nonfinite == 0)
            continue;
        any = true;
        if (m->nonfinite_said)
            continue;
        m->nonfinite_said = true;
        double share = 100.0 * (double)m->nonfinite / ((double)m->out_c * m->out_h * m->out_w);
        log_warn("%s %s: %.3g%% of its output is not a number (NaN or infinite) at iteration "
                 "%" PRIu64 "; those pixels keep their last values and the loop reseeds (said "
                 "once; --stats counts \"nonfinite\" iterations)",
                 m->role, m->path, share, L->iterations + 1);
    }
    if (any) {
        L->nonfinite_iterations++;
        guard_request_reseed(&L->guard);
    }
}

int loop_step(struct loop *L, struct error *err)
{
    /* A failed network leaves the loop as it was: the perturbation's draws are taken back
     * and a painted portrait undone (paint kept the old one in prev_portrait, which the
     * next paint overwrites before anything reads it). The seed generator draws only after
     * both networks ran. */
    struct rng perturb_before = L->perturb_rng;
    if (paint(L, err)) {
        L->perturb_rng = perturb_before;
        return -1;
    }
    if (sketch(L, err)) {
        L->perturb_rng = perturb_before;
        memcpy(L->portrait.data, L->prev_portrait.data, lo_size(&L->portrait) * sizeof(float));
        return -1;
    }
    nonfinite_check(L);
    const struct planar *prev = L->iterations > 0 ? &L->prev_portrait : NULL;
    lo_measure(&L->portrait, prev, &L->sketch, &L->metrics);
    L->action = guard_step(&L->guard, &L->metrics);
    L->iterations++;
    return 0;
}

bool loop_device_lost(const struct loop *L)
{
    return backend_device_lost(L->painter.backend) || backend_device_lost(L->sketcher.backend);
}

enum loop_outcome loop_after_step(struct loop *L, int rc, int *failures, struct error *err)
{
    if (rc == 0) {
        if (*failures > 0)
            log_warn("loop iteration %" PRIu64 " ran after %d failed %s; going on", L->iterations,
                     *failures, *failures == 1 ? "try" : "tries");
        *failures = 0;
        return LOOP_NEXT;
    }
    if (loop_device_lost(L))
        return LOOP_GIVE_UP; /* err says so, with the exit code */
    if ((*failures)++ == 0)
        log_warn("loop iteration %" PRIu64 " failed (%s); retrying every %.1f s, at most %d times",
                 L->iterations + 1, err->msg, LOOP_RETRY_S, LOOP_MAX_FAILURES);
    if (*failures < LOOP_MAX_FAILURES)
        return LOOP_RETRY;
    error_prefix(err, "the loop stopped after %d failed iterations in a row", LOOP_MAX_FAILURES);
    return LOOP_GIVE_UP;
}

void loop_set_params(struct loop *L, const struct params *p)
{
    struct params next = L->p;
    params_glide(&next, p, 1.0f); /* every live value taken as is; restart-only stay */
    /* what runs, not what is asked for: only a loaded model changes these */
    memcpy(next.loop.painter, L->p.loop.painter, sizeof next.loop.painter);
    memcpy(next.loop.sketcher, L->p.loop.sketcher, sizeof next.loop.sketcher);
    L->p = next;
    struct guard_config gc = guard_config_from_params(&L->p);
    guard_configure(&L->guard, &gc);
}

const char *loop_backend(const struct loop *L)
{
    return L->painter.backend ? L->painter.backend->ops->name : L->backend_name;
}

/* ---- live model swap ------------------------------------------------------------------ */

const char *loop_role_name(enum loop_role role)
{
    return role == LOOP_PAINTER ? "painter" : "sketcher";
}

static struct loop_model *role_model(struct loop *L, enum loop_role role)
{
    return role == LOOP_PAINTER ? &L->painter : &L->sketcher;
}

const char *loop_model_setting(const struct loop *L, enum loop_role role)
{
    return role == LOOP_PAINTER ? L->p.loop.painter : L->p.loop.sketcher;
}

int loop_model_load(const struct loop *L, enum loop_role role, const char *setting,
                    struct loop_model *fresh, struct error *err)
{
    const char *name = loop_role_name(role);
    const struct loop_model *other = role == LOOP_PAINTER ? &L->sketcher : &L->painter;
    char path[4096];
    memset(fresh, 0, sizeof *fresh);
    if (datapath_find(setting, path, sizeof path, err))
        return error_prefix(err, "loop.%s", name);
    /* the backend that runs now, not loop.backend again: "auto" must not choose anew */
    const char *backend = other->backend ? other->backend->ops->name : L->backend_name;
    if (loop_model_open(fresh, name, path, L->size, backend, &L->opt, err))
        return -1;
    /* The first run of a backend may still set things up (a CUDA graph is captured, caches
     * fill): it happens here, not in the loop. The buffers are zero: a mid-grey image. */
    int rc = loop_model_run(fresh, err);
    if (rc == 0)
        rc = role == LOOP_PAINTER ? models_chain(fresh, other, err)
                                  : models_chain(other, fresh, err);
    if (rc) {
        error_prefix(err, "loop.%s %s", name, path);
        loop_model_close(fresh);
    }
    return rc;
}

void loop_swap_model(struct loop *L, enum loop_role role, struct loop_model *fresh,
                     const char *setting)
{
    struct loop_model *slot = role_model(L, role);
    struct loop_model old = *slot;
    *slot = *fresh;
    *fresh = old;
    char *field = role == LOOP_PAINTER ? L->p.loop.painter : L->p.loop.sketcher;
    snprintf(field, PARAM_STRING_MAX, "%s", setting);
    L->swaps++;
    L->swap_fade_left = L->p.loop.swap_fade;
}

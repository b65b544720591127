/* The loop's per-iteration image operations, metrics and guard. */
#include "alloc_count.h"
#include "check.h"
#include "guard.h"
#include "loop_ops.h"

#include <math.h>
#include <omp.h>
#include <string.h>

/* ---- helpers ------------------------------------------------------------------------ */

static struct planar new_image(int32_t c, int32_t h, int32_t w)
{
    struct planar im = {c, h, w, NULL};
    im.data = calloc(lo_size(&im), sizeof(float));
    return im;
}

static void fill(struct planar *im, float v)
{
    for (size_t i = 0; i < lo_size(im); i++)
        im->data[i] = v;
}

static void fill_random(struct planar *im, uint64_t seed)
{
    struct rng r;
    rng_seed(&r, seed, 9);
    for (size_t i = 0; i < lo_size(im); i++)
        im->data[i] = rng_range(&r, -1, 1);
}

static float *at(const struct planar *im, int32_t c, int32_t y, int32_t x)
{
    return im->data + ((size_t)c * (size_t)im->height + (size_t)y) * (size_t)im->width + x;
}

static double mean(const struct planar *im)
{
    double s = 0;
    for (size_t i = 0; i < lo_size(im); i++)
        s += im->data[i];
    return s / (double)lo_size(im);
}

static void face(struct planar *im, uint64_t seed)
{
    struct rng r;
    rng_seed(&r, seed, 1);
    lo_seed_face(im, &r);
}

/* ---- geometry ----------------------------------------------------------------------- */

static void test_identity_warp_is_exact(void)
{
    struct planar in = new_image(3, 37, 50), out = new_image(3, 37, 50);
    fill_random(&in, 1);
    struct warp w = {1, 0, 0, 0};
    lo_warp(&in, &out, &w, LO_PAPER);
    CHECK(memcmp(in.data, out.data, lo_size(&in) * sizeof(float)) == 0);
    struct perturb_strength none = {0, 0, 0, 0, 0, 0};
    struct rng r;
    rng_seed(&r, 5, 0);
    fill(&out, 0);
    lo_perturb(&in, &out, &none, &r);
    CHECK(memcmp(in.data, out.data, lo_size(&in) * sizeof(float)) == 0);
    free(in.data);
    free(out.data);
}

/* Warps a single ink dot at (x, y) on a 65x65 sketch and checks where it lands. */
static void check_dot_moves(struct warp w, int32_t x, int32_t y, int32_t want_x, int32_t want_y)
{
    struct planar in = new_image(1, 65, 65), out = new_image(1, 65, 65);
    fill(&in, LO_PAPER);
    *at(&in, 0, y, x) = LO_INK;
    lo_warp(&in, &out, &w, LO_PAPER);
    CHECK_NEAR(*at(&out, 0, want_y, want_x), LO_INK, 1e-3);
    double darkest = 1;
    int32_t dx = -1, dy = -1;
    for (int32_t yy = 0; yy < 65; yy++)
        for (int32_t xx = 0; xx < 65; xx++)
            if (*at(&out, 0, yy, xx) < darkest) {
                darkest = *at(&out, 0, yy, xx);
                dx = xx;
                dy = yy;
            }
    CHECK_MSG(dx == want_x && dy == want_y, "dot at (%d,%d), want (%d,%d)", dx, dy, want_x, want_y);
    free(in.data);
    free(out.data);
}

static void test_warp_moves_known_points(void)
{
    /* Centre (32, 32). 90 degrees counterclockwise on screen: right of centre goes up. */
    check_dot_moves((struct warp){1, 90, 0, 0}, 42, 32, 32, 22);
    check_dot_moves((struct warp){1, -90, 0, 0}, 42, 32, 32, 42);
    check_dot_moves((struct warp){1, 180, 0, 0}, 40, 30, 24, 34);
    check_dot_moves((struct warp){1, 0, 3, -2}, 10, 10, 13, 8);
    check_dot_moves((struct warp){2, 0, 0, 0}, 42, 32, 52, 32);
}

static void test_warp_edges_read_background(void)
{
    struct planar in = new_image(1, 20, 20), out = new_image(1, 20, 20);
    fill(&in, LO_INK);
    lo_warp(&in, &out, &(struct warp){0.5f, 0, 0, 0}, LO_PAPER);
    CHECK(*at(&out, 0, 0, 0) == LO_PAPER);
    CHECK(*at(&out, 0, 10, 10) == LO_INK);
    lo_warp(&in, &out, &(struct warp){1, 0, 1e9f, 0}, LO_PAPER);
    CHECK(*at(&out, 0, 10, 10) == LO_PAPER);
    free(in.data);
    free(out.data);
}

static void test_perturb_deterministic_bounded_and_erases(void)
{
    struct planar in = new_image(1, 64, 64), a = new_image(1, 64, 64), b = new_image(1, 64, 64);
    fill(&in, LO_INK);
    struct perturb_strength s = {0.01f, 1, 1, 0.2f, 3, 0.1f};
    struct rng r1, r2;
    rng_seed(&r1, 11, 0);
    rng_seed(&r2, 11, 0);
    lo_perturb(&in, &a, &s, &r1);
    lo_perturb(&in, &b, &s, &r2);
    CHECK(memcmp(a.data, b.data, lo_size(&a) * sizeof(float)) == 0);
    size_t paper = 0;
    for (size_t i = 0; i < lo_size(&a); i++) {
        CHECK(a.data[i] >= -1 && a.data[i] <= 1);
        paper += a.data[i] == LO_PAPER;
    }
    /* Three erased 6x6 patches (perhaps overlapping) plus the warp's edge. */
    CHECK(paper >= 36);
    struct params p;
    params_defaults(&p);
    struct perturb_strength d = lo_perturb_strength(&p, 2);
    CHECK_NEAR(d.noise, 2 * p.perturb.noise, 1e-7);
    CHECK_NEAR(d.rotate, 2 * p.perturb.rotate, 1e-7);
    free(in.data);
    free(a.data);
    free(b.data);
}

/* ---- mixing and conversion ---------------------------------------------------------- */

static void test_blend_and_map_range(void)
{
    float fresh[3] = {1, -1, 0}, prev[3] = {-1, 1, 0.5f}, out[3];
    lo_blend(fresh, prev, 0.25f, out, 3);
    CHECK_NEAR(out[0], 0.5, 1e-7);
    CHECK_NEAR(out[1], -0.5, 1e-7);
    CHECK_NEAR(out[2], 0.125, 1e-7);
    lo_blend(fresh, prev, 0.5f, fresh, 3); /* in place */
    CHECK_NEAR(fresh[0], 0, 1e-7);
    float v[3] = {0, 0.5f, 1};
    lo_map_range(v, 3, (struct value_range){0, 1}, (struct value_range){-1, 1});
    CHECK(v[0] == -1 && v[1] == 0 && v[2] == 1);
}

static void test_gray_rgb(void)
{
    struct planar rgb = new_image(3, 2, 2), gray = new_image(1, 2, 2), back = new_image(3, 2, 2);
    fill_random(&rgb, 3);
    lo_rgb_to_gray(&rgb, &gray);
    CHECK_NEAR(gray.data[1], 0.299 * rgb.data[1] + 0.587 * rgb.data[5] + 0.114 * rgb.data[9], 1e-6);
    lo_gray_to_rgb(&gray, &back);
    CHECK(back.data[2] == gray.data[2] && back.data[6] == gray.data[2] &&
          back.data[10] == gray.data[2]);
    fill(&rgb, -1);
    lo_rgb_to_gray(&rgb, &gray);
    CHECK_NEAR(gray.data[0], -1, 1e-6);
    free(rgb.data);
    free(gray.data);
    free(back.data);
}

static void test_resize(void)
{
    struct planar in = new_image(1, 4, 4), half = new_image(1, 2, 2), big = new_image(1, 9, 7);
    for (int i = 0; i < 16; i++)
        in.data[i] = (float)i / 16;
    lo_resize(&in, &half);
    /* Area average of each 2x2 block. */
    CHECK_NEAR(half.data[0], (0 + 1 + 4 + 5) / 64.0, 1e-6);
    CHECK_NEAR(half.data[3], (10 + 11 + 14 + 15) / 64.0, 1e-6);
    fill(&in, 0.3f);
    lo_resize(&in, &big);
    for (size_t i = 0; i < lo_size(&big); i++)
        CHECK_NEAR(big.data[i], 0.3, 1e-6);
    struct planar odd = new_image(2, 30, 17), small = new_image(2, 7, 5);
    fill_random(&odd, 4);
    lo_resize(&odd, &small);
    CHECK_NEAR(mean(&small), mean(&odd), 1e-5); /* area averaging keeps the mean */
    free(in.data);
    free(half.data);
    free(big.data);
    free(odd.data);
    free(small.data);
}

/* ---- simplify ----------------------------------------------------------------------- */

static void test_blur_preserves_mean(void)
{
    struct planar im = new_image(2, 40, 53), scratch = new_image(1, 40, 53);
    fill_random(&im, 5);
    double before = mean(&im), var_before = lo_variance(&im);
    lo_blur(&im, 2.5f, scratch.data);
    CHECK_NEAR(mean(&im), before, 1e-5);
    CHECK(lo_variance(&im) < 0.2 * var_before);
    /* A kernel wider than the image folds its mirror more than once. */
    struct planar tiny = new_image(1, 5, 7);
    fill_random(&tiny, 6);
    before = mean(&tiny);
    lo_blur(&tiny, 8, scratch.data);
    CHECK_NEAR(mean(&tiny), before, 1e-5);
    free(im.data);
    free(scratch.data);
    free(tiny.data);
}

/* The blur against a plain separable reference (rows, then columns, mirrored edges),
 * on an image wider than the kernel and on one narrower than it. */
static int32_t ref_mirror(int32_t i, int32_t n)
{
    while (i < 0 || i >= n)
        i = i < 0 ? -1 - i : 2 * n - 1 - i;
    return i;
}

static void ref_blur(struct planar *im, float sigma)
{
    int32_t r = (int32_t)ceilf(3 * sigma), w = im->width, h = im->height;
    float k[2 * 24 + 1], sum = 0;
    for (int32_t i = -r; i <= r; i++)
        sum += k[i + r] = expf(-(float)(i * i) / (2 * sigma * sigma));
    for (int32_t i = 0; i <= 2 * r; i++)
        k[i] /= sum;
    float *tmp = malloc((size_t)w * (size_t)h * sizeof(float));
    for (int32_t c = 0; c < im->channels; c++) {
        for (int32_t y = 0; y < h; y++)
            for (int32_t x = 0; x < w; x++) {
                float acc = 0;
                for (int32_t j = -r; j <= r; j++)
                    acc += k[j + r] * *at(im, c, y, ref_mirror(x + j, w));
                tmp[(size_t)y * (size_t)w + (size_t)x] = acc;
            }
        for (int32_t y = 0; y < h; y++)
            for (int32_t x = 0; x < w; x++) {
                float acc = 0;
                for (int32_t j = -r; j <= r; j++)
                    acc += k[j + r] * tmp[(size_t)ref_mirror(y + j, h) * (size_t)w + (size_t)x];
                *at(im, c, y, x) = acc;
            }
    }
    free(tmp);
}

static void test_blur_matches_reference(void)
{
    const int32_t sizes[][2] = {{37, 61}, {256, 256}, {5, 7}};
    const float sigmas[] = {0.8f, 2.5f, 4};
    for (int s = 0; s < 3; s++) {
        struct planar im = new_image(3, sizes[s][0], sizes[s][1]);
        struct planar ref = new_image(3, sizes[s][0], sizes[s][1]);
        struct planar scratch = new_image(1, sizes[s][0], sizes[s][1]);
        fill_random(&im, 40 + (uint64_t)s);
        memcpy(ref.data, im.data, lo_size(&im) * sizeof(float));
        lo_blur(&im, sigmas[s], scratch.data);
        ref_blur(&ref, sigmas[s]);
        float worst = 0;
        for (size_t i = 0; i < lo_size(&im); i++)
            worst = fmaxf(worst, fabsf(im.data[i] - ref.data[i]));
        CHECK_MSG(worst <= 1e-6f, "%dx%d sigma %.1f: blur differs from the reference by %g",
                  sizes[s][0], sizes[s][1], (double)sigmas[s], (double)worst);
        free(im.data);
        free(ref.data);
        free(scratch.data);
    }
}

/* The passes that split across threads (warp, noise, blur, resize, blend) give the same
 * bytes on one thread and on several, at a size where they do split. */
static void passes_on(int threads, const struct planar *in, struct planar *out)
{
    omp_set_num_threads(threads);
    struct planar warped = new_image(3, in->height, in->width);
    struct planar scratch = new_image(1, in->height, in->width);
    struct planar half = new_image(3, in->height / 2, in->width / 2);
    struct warp w = {1.03f, 2.5f, 1.5f, -0.75f};
    struct rng r;
    rng_seed(&r, 77, 1);
    lo_warp(in, &warped, &w, 1);
    lo_add_noise(&warped, 0.1f, &r);
    lo_blur(&warped, 1.5f, scratch.data);
    lo_blend(warped.data, in->data, 0.3f, out->data, lo_size(in));
    lo_resize(out, &half);
    memcpy(out->data, half.data, lo_size(&half) * sizeof(float));
    free(warped.data);
    free(scratch.data);
    free(half.data);
}

static void test_passes_same_on_any_thread_count(void)
{
    struct planar in = new_image(3, 256, 256);
    struct planar one = new_image(3, 256, 256), two = new_image(3, 256, 256);
    CHECK(lo_size(&in) >= LO_PARALLEL_MIN);
    fill_random(&in, 8);
    int threads = omp_get_max_threads();
    passes_on(1, &in, &one);
    passes_on(4, &in, &two);
    omp_set_num_threads(threads);
    CHECK(memcmp(one.data, two.data, lo_size(&one) * sizeof(float)) == 0);
    free(in.data);
    free(one.data);
    free(two.data);
}

static void test_threshold_binary_and_soft(void)
{
    struct planar im = new_image(1, 16, 16);
    fill_random(&im, 7);
    lo_threshold(&im, 0.1f, 0);
    for (size_t i = 0; i < lo_size(&im); i++)
        CHECK(im.data[i] == LO_INK || im.data[i] == LO_PAPER);
    float v[5] = {-0.5f, -0.05f, 0, 0.05f, 0.5f};
    struct planar row = {1, 1, 5, v};
    lo_threshold(&row, 0, 0.1f);
    CHECK(v[0] == LO_INK && v[4] == LO_PAPER);
    CHECK(v[1] < 0 && v[1] > -1 && v[2] == 0 && v[3] > 0 && v[3] < 1);
    free(im.data);
}

static void test_thin_makes_bars_thin_and_keeps_them(void)
{
    struct planar im = new_image(1, 20, 30), scratch = new_image(1, 20, 30);
    fill(&im, LO_PAPER);
    for (int32_t y = 8; y < 13; y++)
        for (int32_t x = 3; x < 27; x++)
            *at(&im, 0, y, x) = LO_INK;
    lo_thin(&im, 8, scratch.data);
    int column_ink = 0, total = 0;
    for (int32_t y = 0; y < 20; y++)
        column_ink += *at(&im, 0, y, 15) < 0;
    for (size_t i = 0; i < lo_size(&im); i++)
        total += im.data[i] < 0;
    CHECK_MSG(column_ink == 1, "bar is %d pixels thick", column_ink);
    CHECK(total >= 15 && total < 5 * 24 / 2);
    free(im.data);
    free(scratch.data);
}

static void test_simplify_from_params(void)
{
    struct params p;
    params_defaults(&p);
    struct simplify_opts o = lo_simplify_opts(&p);
    CHECK(o.blur == p.simplify.blur && o.thin == p.simplify.thin);
    struct planar im = new_image(1, 48, 48), scratch = new_image(1, 48, 48);
    face(&im, 3);
    o.softness = 0;
    lo_simplify(&im, &o, scratch.data);
    float ink = lo_ink_fraction(&im, 0);
    CHECK(ink > 0.02 && ink < 0.3);
    free(im.data);
    free(scratch.data);
}

/* ---- seeds -------------------------------------------------------------------------- */

static void test_seed_face_varies_by_seed_only(void)
{
    struct planar a = new_image(1, 96, 80), b = new_image(1, 96, 80), c = new_image(1, 96, 80);
    face(&a, 1);
    face(&b, 1);
    face(&c, 2);
    CHECK(memcmp(a.data, b.data, lo_size(&a) * sizeof(float)) == 0);
    CHECK(lo_variance(&a) > 0.05);
    float ink = lo_ink_fraction(&a, 0);
    CHECK_MSG(ink > 0.02 && ink < 0.25, "ink %g", ink);
    CHECK(lo_mean_abs_change(a.data, c.data, lo_size(&a)) > 0.02);
    for (size_t i = 0; i < lo_size(&a); i++)
        CHECK(a.data[i] >= -1 && a.data[i] <= 1);
    /* Any size, any channel count. */
    struct planar big = new_image(3, 256, 256);
    face(&big, 1);
    CHECK(lo_variance(&big) > 0.05 && *at(&big, 0, 5, 5) == LO_PAPER);
    free(a.data);
    free(b.data);
    free(c.data);
    free(big.data);
}

static void test_seed_noise(void)
{
    struct planar a = new_image(1, 40, 40), b = new_image(1, 40, 40);
    struct rng r;
    rng_seed(&r, 1, 0);
    lo_seed_noise(&a, &r);
    lo_seed_noise(&b, &r);
    CHECK(lo_variance(&a) > 0.02);
    CHECK(lo_hf_ratio(&a) < 0.1); /* smooth, not static */
    CHECK(lo_mean_abs_change(a.data, b.data, lo_size(&a)) > 0.1);
    free(a.data);
    free(b.data);
}

/* ---- metrics ------------------------------------------------------------------------ */

static void test_metrics(void)
{
    struct planar im = new_image(3, 64, 64);
    fill(&im, 0.2f);
    CHECK_NEAR(lo_variance(&im), 0, 1e-9);
    CHECK(lo_hf_ratio(&im) == 0);
    CHECK(lo_saturation(&im, 0.95f) == 0);
    fill_random(&im, 8); /* uniform white noise */
    CHECK_NEAR(lo_variance(&im), 1.0 / 3, 0.02);
    CHECK_NEAR(lo_hf_ratio(&im), 1.25, 0.08);
    CHECK_NEAR(lo_saturation(&im, 0.95f), 0.05, 0.01);
    fill(&im, LO_PAPER);
    CHECK(lo_saturation(&im, 0.95f) == 0); /* one-sided: not saturated */
    for (size_t i = 0; i < lo_size(&im); i++)
        im.data[i] = i % 2 ? LO_INK : LO_PAPER;
    CHECK_NEAR(lo_saturation(&im, 0.95f), 1, 1e-6);
    struct planar sk = new_image(1, 64, 64);
    face(&sk, 4);
    struct planar scratch = new_image(1, 64, 64);
    lo_blur(&sk, 2, scratch.data);
    CHECK(lo_hf_ratio(&sk) < 0.1);
    float a[4] = {0, 1, 0, 1}, b[4] = {1, 1, 0, 0};
    CHECK_NEAR(lo_mean_abs_change(a, b, 4), 0.5, 1e-7);
    free(im.data);
    free(sk.data);
    free(scratch.data);
}

static void test_phash_near_for_alike_far_for_different(void)
{
    struct planar a = new_image(1, 128, 128), shifted = new_image(1, 128, 128);
    struct planar other = new_image(1, 128, 128);
    face(&a, 1);
    CHECK(lo_phash(&a) == lo_phash(&a));
    lo_warp(&a, &shifted, &(struct warp){1, 0, 2, 1}, LO_PAPER);
    int near = lo_hamming(lo_phash(&a), lo_phash(&shifted));
    struct rng r;
    rng_seed(&r, 2, 0);
    lo_seed_noise(&other, &r);
    int far = lo_hamming(lo_phash(&a), lo_phash(&other));
    CHECK_MSG(near <= 6, "shift by (2,1) moved the hash %d bits", near);
    CHECK_MSG(far >= 20, "face vs noise only %d bits apart", far);
    face(&other, 2);
    int faces = lo_hamming(lo_phash(&a), lo_phash(&other));
    CHECK_MSG(faces > near, "two faces %d bits apart, a shift %d", faces, near);
    /* RGB hashes by luma: the same picture in gray and RGB hashes the same. */
    struct planar rgb = new_image(3, 128, 128);
    lo_gray_to_rgb(&a, &rgb);
    CHECK(lo_hamming(lo_phash(&rgb), lo_phash(&a)) <= 1);
    CHECK(lo_hamming(0, ~0ULL) == 64 && lo_hamming(5, 4) == 1);
    free(a.data);
    free(shifted.data);
    free(other.data);
    free(rgb.data);
}

/* ---- guard -------------------------------------------------------------------------- */

static struct guard_config test_guard_config(void)
{
    struct params p;
    params_defaults(&p);
    struct guard_config c = guard_config_from_params(&p);
    c.stall_window = 10;
    c.repeat_skip = 4;
    c.history = 64;
    c.ramp = 5;
    c.turn_after = 0; /* the tests below that want turns set it */
    c.reseed_after = 20;
    c.reseed_iterations = 4;
    return c;
}

/* Feeds `frames` as a stream (frame i = frames[i % count]); tallies the actions. */
struct tally {
    int none, boost, turns, reseed, reseed_starts, first_event_at[GUARD_EVENT_COUNT];
    int first_turn_at, first_reseed_at;
    float max_boost;
};

static struct tally feed(struct guard *g, struct planar *frames, int count, int steps,
                         const struct planar *sketch)
{
    struct tally t = {0};
    for (int e = 0; e < GUARD_EVENT_COUNT; e++)
        t.first_event_at[e] = -1;
    t.first_turn_at = t.first_reseed_at = -1;
    float last_boost = 1;
    for (int i = 0; i < steps; i++) {
        struct lo_metrics m;
        lo_measure(&frames[i % count], i ? &frames[(i - 1) % count] : NULL, sketch, &m);
        struct guard_action a = guard_step(g, &m);
        if (getenv("GUARD_TRACE"))
            printf("%d events %#x remedy %s boost %.2f mix %.2f\n", i, a.events,
                   guard_remedy_name(a.remedy), a.boost, a.reseed_mix);
        for (int e = 0; e < GUARD_EVENT_COUNT; e++)
            if ((a.events & (1u << e)) && t.first_event_at[e] < 0)
                t.first_event_at[e] = i;
        t.none += a.remedy == GUARD_NONE;
        t.boost += a.remedy == GUARD_BOOST;
        t.reseed += a.remedy == GUARD_RESEED;
        t.reseed_starts += a.reseed_start;
        CHECK(a.turn == (a.remedy == GUARD_TURN));
        t.turns += a.turn;
        t.first_turn_at = a.turn && t.first_turn_at < 0 ? i : t.first_turn_at;
        t.first_reseed_at = a.reseed_start && t.first_reseed_at < 0 ? i : t.first_reseed_at;
        t.max_boost = a.boost > t.max_boost ? a.boost : t.max_boost;
        /* Gentle: the boost never jumps by more than one ramp step. */
        CHECK(fabsf(a.boost - last_boost) <= (g->cfg.boost - 1) / (float)g->cfg.ramp + 1e-5f);
        last_boost = a.boost;
    }
    return t;
}

static void free_frames(struct planar *frames, int count)
{
    for (int i = 0; i < count; i++)
        free(frames[i].data);
}

static void test_guard_stall_on_constant_stream(void)
{
    struct guard_config c = test_guard_config();
    struct guard g;
    struct error err;
    CHECK(guard_init(&g, &c, &err) == 0);
    struct planar frame = new_image(3, 48, 48);
    face(&frame, 1);
    struct tally t = feed(&g, &frame, 1, 60, NULL);
    /* Iteration 0 has no previous frame; 1..10 are still: stall at index 10. */
    CHECK_MSG(t.first_event_at[GUARD_STALL] == c.stall_window, "stall at %d",
              t.first_event_at[GUARD_STALL]);
    CHECK(t.boost > 0 && t.max_boost == c.boost);
    /* Boosting a frozen stream does not help: after reseed_after, a reseed. */
    CHECK(t.reseed_starts >= 1 && g.stats.reseeds >= 1);
    CHECK(g.stats.onsets[GUARD_STALL] >= 1 && g.stats.boosts >= 1);
    CHECK(t.first_event_at[GUARD_EXPLODE] < 0 && t.first_event_at[GUARD_FLAT] < 0);
    guard_free(&g);
    free(frame.data);
}

static int first_mild_event(const struct tally *t)
{
    int stall = t->first_event_at[GUARD_STALL], repeat = t->first_event_at[GUARD_REPEAT];
    return stall < 0 ? repeat : (repeat < 0 || stall < repeat ? stall : repeat);
}

/* A nudge long before a reseed: boosting a frozen stream has not helped after turn_after
 * iterations, so the memory turns (once); the reseed waits reseed_after from the turn. */
static void test_guard_turns_before_it_reseeds(void)
{
    struct guard_config c = test_guard_config();
    c.turn_after = 8;
    struct guard g;
    struct error err;
    CHECK(guard_init(&g, &c, &err) == 0);
    struct planar frame = new_image(3, 48, 48);
    face(&frame, 1);
    struct tally t = feed(&g, &frame, 1, 80, NULL);
    /* the boost episode starts at the first mild event (the frozen frame repeats before it
     * counts as a stall); its turn_after-th iteration turns */
    int mild_at = first_mild_event(&t);
    CHECK_MSG(t.first_turn_at == mild_at + c.turn_after - 1, "trouble %d, turn %d", mild_at,
              t.first_turn_at);
    CHECK_MSG(t.first_reseed_at == t.first_turn_at + c.reseed_after, "turn %d, reseed %d",
              t.first_turn_at, t.first_reseed_at);
    /* one turn an episode: none between the turn and the reseed */
    CHECK(g.stats.turns >= 1 && (uint64_t)t.turns == g.stats.turns);
    guard_free(&g);

    /* turn_after 0: no turn, the reseed at reseed_after as before */
    c.turn_after = 0;
    CHECK(guard_init(&g, &c, &err) == 0);
    t = feed(&g, &frame, 1, 80, NULL);
    CHECK(t.turns == 0 && g.stats.turns == 0);
    CHECK(t.first_reseed_at == first_mild_event(&t) + c.reseed_after - 1);
    guard_free(&g);
    free(frame.data);

    /* a turn works through the memory: with memory.anchor 0 there is none */
    struct params p;
    params_defaults(&p);
    CHECK(guard_config_from_params(&p).turn_after == p.guard.turn_after);
    p.memory.anchor = 0;
    CHECK(guard_config_from_params(&p).turn_after == 0);
}

static void test_guard_reseed_blends_in_gradually(void)
{
    struct guard_config c = test_guard_config();
    struct guard g;
    struct error err;
    CHECK(guard_init(&g, &c, &err) == 0);
    struct lo_metrics m = {.change = 0.1f,
                           .variance = 0.2f,
                           .hf_ratio = 0.05f,
                           .ink = 0.1f,
                           .ink_spread_x = 0.17f,
                           .ink_spread_y = 0.23f,
                           .hash = 1};
    guard_request_reseed(&g);
    float mix[6];
    bool starts[6];
    for (int i = 0; i < 6; i++) {
        m.hash = (uint64_t)i * 0x9e3779b97f4a7c15ULL;
        struct guard_action a = guard_step(&g, &m);
        mix[i] = a.reseed_mix;
        starts[i] = a.reseed_start;
    }
    CHECK(starts[0] && !starts[1]);
    CHECK_NEAR(mix[0], 0.25, 1e-6);
    CHECK_NEAR(mix[1], 0.5, 1e-6);
    CHECK_NEAR(mix[3], 1, 1e-6);
    CHECK(mix[4] == 0 && mix[5] == 0);
    guard_free(&g);
}

static void test_guard_explosion_on_noise(void)
{
    struct guard_config c = test_guard_config();
    struct guard g;
    struct error err;
    CHECK(guard_init(&g, &c, &err) == 0);
    struct planar frames[4];
    for (int i = 0; i < 4; i++) {
        frames[i] = new_image(3, 48, 48);
        fill_random(&frames[i], 100 + (uint64_t)i);
    }
    struct tally t = feed(&g, frames, 4, 3, NULL);
    CHECK(t.first_event_at[GUARD_EXPLODE] == 0);
    CHECK(t.reseed_starts == 1 && t.boost == 0);
    guard_free(&g);
    free_frames(frames, 4);
}

static void test_guard_repeat_on_cycle(void)
{
    struct guard_config c = test_guard_config();
    c.history = 8; /* smaller than the run: the ring wraps */
    struct guard g;
    struct error err;
    CHECK(guard_init(&g, &c, &err) == 0);
    enum { CYCLE = 6 };
    struct planar frames[CYCLE];
    struct rng r;
    rng_seed(&r, 77, 0);
    for (int i = 0; i < CYCLE; i++) {
        frames[i] = new_image(1, 48, 48);
        lo_seed_noise(&frames[i], &r);
    }
    struct tally t = feed(&g, frames, CYCLE, 40, NULL);
    /* Frame 6 is frame 0 again, 6 iterations back, beyond repeat_skip 4. */
    CHECK_MSG(t.first_event_at[GUARD_REPEAT] == CYCLE, "repeat at %d",
              t.first_event_at[GUARD_REPEAT]);
    CHECK(t.first_event_at[GUARD_STALL] < 0);
    CHECK(t.boost > 0 && g.stats.onsets[GUARD_REPEAT] >= 1);
    guard_free(&g);
    free_frames(frames, CYCLE);
}

/* A stream that keeps changing and never comes back: keyframes of smooth noise, each
 * morphing into the next over 10 iterations. */
static void test_guard_quiet_on_healthy_stream(void)
{
    struct guard_config c = test_guard_config();
    c.repeat_skip = 24;
    struct guard g;
    struct error err;
    CHECK(guard_init(&g, &c, &err) == 0);
    enum { KEYS = 21, STEPS = 10 };
    struct planar keys[KEYS], frames[2] = {new_image(3, 48, 48), new_image(3, 48, 48)};
    struct rng r;
    rng_seed(&r, 5, 0);
    for (int k = 0; k < KEYS; k++) {
        keys[k] = new_image(3, 48, 48);
        lo_seed_noise(&keys[k], &r);
    }
    struct planar sketch = new_image(1, 48, 48);
    face(&sketch, 1);
    int remedies = 0;
    for (int i = 0; i < (KEYS - 1) * STEPS; i++) {
        struct planar *cur = &frames[i % 2], *prev = &frames[(i + 1) % 2];
        float a = (float)(i % STEPS) / STEPS;
        const struct planar *k0 = &keys[i / STEPS], *k1 = &keys[i / STEPS + 1];
        lo_blend(k1->data, k0->data, 1 - a, cur->data, lo_size(cur));
        struct lo_metrics m;
        lo_measure(cur, i ? prev : NULL, &sketch, &m);
        struct guard_action act = guard_step(&g, &m);
        remedies += act.remedy != GUARD_NONE;
        CHECK_MSG(act.events == 0, "iteration %d: events %#x (novelty %d)", i, act.events,
                  (int)g.stats.novelty);
    }
    CHECK(remedies == 0);
    for (int e = 0; e < GUARD_EVENT_COUNT; e++)
        CHECK(g.stats.onsets[e] == 0);
    guard_free(&g);
    free_frames(keys, KEYS);
    free_frames(frames, 2);
    free(sketch.data);
}

/* Ink gathered into a narrow upright strip (how the trained loop dies, FACTS.md) or a small
 * knot is shapeless; the drawn seed face is not. */
static void test_guard_shapeless_sketch(void)
{
    struct params p;
    params_defaults(&p);
    struct guard_config c = guard_config_from_params(&p);
    struct planar sketch = new_image(1, 64, 64);
    struct rng r;
    rng_seed(&r, 3, 2);
    lo_seed_face(&sketch, &r);
    struct lo_metrics m;
    lo_measure(&sketch, NULL, &sketch, &m);
    CHECK_MSG(m.ink_spread_x > 0.1f && m.ink_spread_y > 0.1f, "face spread %g x %g",
              (double)m.ink_spread_x, (double)m.ink_spread_y);
    struct guard g;
    struct error err;
    CHECK(guard_init(&g, &c, &err) == 0);
    struct guard_action a = guard_step(&g, &m);
    CHECK(!(a.events & (1u << GUARD_SHAPELESS)));
    for (int i = 0; i < 64 * 64; i++) /* a strip: x in 28..35, y in 4..59 */
        sketch.data[i] = (i % 64 >= 28 && i % 64 < 36 && i / 64 >= 4 && i / 64 < 60 && i % 3)
                             ? LO_INK
                             : LO_PAPER;
    lo_measure(&sketch, NULL, &sketch, &m);
    a = guard_step(&g, &m);
    CHECK(a.events & (1u << GUARD_SHAPELESS));
    CHECK(a.remedy == GUARD_RESEED && a.reseed_start);
    CHECK(strcmp(guard_event_name(GUARD_SHAPELESS), "shapeless") == 0);
    guard_free(&g);
    free(sketch.data);
}

static void test_guard_inkless_sketch_reseeds_and_disabled_only_counts(void)
{
    struct guard_config c = test_guard_config();
    struct guard g;
    struct error err;
    CHECK(guard_init(&g, &c, &err) == 0);
    struct planar frame = new_image(3, 32, 32), blank = new_image(1, 32, 32);
    face(&frame, 1);
    fill(&blank, LO_PAPER);
    struct tally t = feed(&g, &frame, 1, 2, &blank);
    CHECK(t.first_event_at[GUARD_INKLESS] == 0 && t.reseed_starts == 1);
    guard_free(&g);
    c.enabled = false;
    CHECK(guard_init(&g, &c, &err) == 0);
    t = feed(&g, &frame, 1, 60, &blank);
    CHECK(t.none == 60 && t.first_event_at[GUARD_STALL] == c.stall_window);
    CHECK(g.stats.onsets[GUARD_INKLESS] == 1 && g.stats.active[GUARD_INKLESS] == 60);
    CHECK(strcmp(guard_event_name(GUARD_INKLESS), "inkless") == 0);
    guard_free(&g);
    free(frame.data);
    free(blank.data);
}

/* With the guard off nothing ends a still run: after 2^31 still iterations (two years at
 * 30 per second) it stays at the top of its type instead of overflowing to negative. */
static void test_guard_still_run_stops_at_the_top(void)
{
    struct guard_config c = test_guard_config();
    c.enabled = false;
    struct guard g;
    struct error err;
    CHECK(guard_init(&g, &c, &err) == 0);
    struct planar frame = new_image(3, 32, 32);
    face(&frame, 1);
    struct lo_metrics still;
    lo_measure(&frame, &frame, NULL, &still); /* no change from the previous portrait */
    guard_step(&g, &still);
    CHECK(g.still_run == 1);
    g.still_run = INT32_MAX - 1;
    for (int i = 0; i < 3; i++)
        guard_step(&g, &still);
    CHECK_MSG(g.still_run == INT32_MAX, "still run %d", (int)g.still_run);
    guard_free(&g);
    free(frame.data);
}

/* ---- one iteration's worth of ops, many times, with no allocation ------------------- */

static void test_iteration_allocates_nothing(void)
{
    enum { S = 64 };
    struct planar sketch = new_image(1, S, S), perturbed = new_image(1, S, S);
    struct planar seed = new_image(1, S, S), scratch = new_image(1, S, S);
    struct planar portrait = new_image(3, S, S), prev = new_image(3, S, S);
    struct planar big = new_image(3, 2 * S, 2 * S), gray = new_image(1, S, S);
    struct params p;
    params_defaults(&p);
    struct guard_config gc = guard_config_from_params(&p);
    struct guard g;
    struct error err;
    CHECK(guard_init(&g, &gc, &err) == 0);
    struct rng r;
    rng_seed(&r, 1, 0);
    struct simplify_opts so = lo_simplify_opts(&p);
    so.thin = 2;
    lo_seed_face(&sketch, &r);
    long before = allocations;
    for (int i = 0; i < 20; i++) {
        struct perturb_strength ps = lo_perturb_strength(&p, 1.5f);
        lo_perturb(&sketch, &perturbed, &ps, &r);
        lo_gray_to_rgb(&perturbed, &big); /* stand-in for the painter, at another size */
        lo_resize(&big, &portrait);
        lo_blend(portrait.data, prev.data, p.loop.blend, portrait.data, lo_size(&portrait));
        lo_rgb_to_gray(&portrait, &gray);
        lo_simplify(&gray, &so, scratch.data);
        lo_seed_face(&seed, &r);
        lo_seed_noise(&seed, &r);
        lo_blend(seed.data, gray.data, 0.5f, sketch.data, lo_size(&sketch));
        struct lo_metrics m;
        lo_measure(&portrait, &prev, &sketch, &m);
        guard_step(&g, &m);
        memcpy(prev.data, portrait.data, lo_size(&portrait) * sizeof(float));
    }
    CHECK_MSG(allocations == before, "%ld allocations in the loop", allocations - before);
    /* The counter itself works. */
    void *volatile probe = malloc(16); /* volatile: no malloc/free elision */
    free(probe);
    CHECK(allocations == before + 1);
    guard_free(&g);
    struct planar all[] = {sketch, perturbed, seed, scratch, portrait, prev, big, gray};
    free_frames(all, 8);
}

int main(void)
{
    RUN(test_identity_warp_is_exact);
    RUN(test_warp_moves_known_points);
    RUN(test_warp_edges_read_background);
    RUN(test_perturb_deterministic_bounded_and_erases);
    RUN(test_blend_and_map_range);
    RUN(test_gray_rgb);
    RUN(test_resize);
    RUN(test_blur_preserves_mean);
    RUN(test_blur_matches_reference);
    RUN(test_passes_same_on_any_thread_count);
    RUN(test_threshold_binary_and_soft);
    RUN(test_thin_makes_bars_thin_and_keeps_them);
    RUN(test_simplify_from_params);
    RUN(test_seed_face_varies_by_seed_only);
    RUN(test_seed_noise);
    RUN(test_metrics);
    RUN(test_phash_near_for_alike_far_for_different);
    RUN(test_guard_stall_on_constant_stream);
    RUN(test_guard_turns_before_it_reseeds);
    RUN(test_guard_reseed_blends_in_gradually);
    RUN(test_guard_explosion_on_noise);
    RUN(test_guard_repeat_on_cycle);
    RUN(test_guard_quiet_on_healthy_stream);
    RUN(test_guard_inkless_sketch_reseeds_and_disabled_only_counts);
    RUN(test_guard_shapeless_sketch);
    RUN(test_guard_still_run_stops_at_the_top);
    RUN(test_iteration_allocates_nothing);
    return check_report();
}

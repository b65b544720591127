/* test_loop.c — the loop in-process: no allocation once running, determinism by seed on
 * every backend built, live parameter changes between iterations. Links with
 * --wrap=malloc/calloc/realloc to count allocations (tests/loop.cmake). */
#include "backend.h"
#include "alloc_count.h"
#include "check.h"
#include "loop.h"

#include <malloc.h>
#include <math.h>
#include <string.h>

static struct error err;

static void params_small(struct params *p, int32_t seed);

/* A loop on the 64x64 fixtures; false (test failed) when it does not open. */
static bool small_open(struct loop *L, struct params *p, const char *backend)
{
    params_small(p, 1);
    if (loop_open(L, p, backend, &err)) {
        CHECK_MSG(0, "%s", err.msg);
        return false;
    }
    return true;
}

static void params_small(struct params *p, int32_t seed)
{
    params_defaults(p);
    snprintf(p->loop.painter, sizeof p->loop.painter, "%s/unet_bn.onnx", MNEMO_TEST_DATA);
    snprintf(p->loop.sketcher, sizeof p->loop.sketcher, "%s/resnet_in_op13.onnx", MNEMO_TEST_DATA);
    p->loop.size = 64;
    p->loop.seed = seed;
    p->memory.hold = 3; /* the memory turns to a new person every few iterations */
    p->memory.fade = 4;
}

/* The ref backend and the loop's own code allocate nothing per iteration. (oneDNN, under
 * the cpu backend, makes a few small allocations of its own inside each primitive call;
 * that is the library's, measured in the closing note, not ours.) */
static void test_steady_state_allocates_nothing(void)
{
    struct params p;
    struct loop L;
    if (!small_open(&L, &p, "ref"))
        return;
    CHECK(loop_step(&L, &err) == 0); /* the first iteration may settle lazily */
    long before = allocations;
    void *volatile probe = malloc(1); /* the counter itself works */
    free(probe);
    CHECK(allocations == before + 1);
    before = allocations;
    for (int i = 0; i < 30; i++)
        CHECK(loop_step(&L, &err) == 0);
    CHECK_MSG(allocations == before, "%ld allocations in 30 iterations", allocations - before);
    loop_close(&L);
}

/* With oneDNN underneath (a shared library: --wrap cannot see its calls) the heap must
 * stay flat: the bytes in use after 60 more iterations are what they were. */
static void test_cpu_backend_heap_flat(void)
{
    if (!backend_find("cpu"))
        SKIP("no cpu backend in this build");
    struct params p;
    struct loop L;
    if (!small_open(&L, &p, "cpu"))
        return;
    for (int i = 0; i < 5; i++)
        CHECK(loop_step(&L, &err) == 0);
    size_t before = mallinfo2().uordblks;
    for (int i = 0; i < 60; i++)
        CHECK(loop_step(&L, &err) == 0);
    size_t after = mallinfo2().uordblks;
    CHECK_MSG(after <= before, "heap in use grew by %zu bytes over 60 iterations", after - before);
    loop_close(&L);
}

/* n iterations from seed; the final sketch and portrait into out (3 + 1 planes). */
static int run_seed(const char *backend, int32_t seed, int n, float *out)
{
    struct params p;
    params_small(&p, seed);
    struct loop L;
    if (loop_open(&L, &p, backend, &err))
        return -1;
    for (int i = 0; i < n; i++)
        if (loop_step(&L, &err)) {
            loop_close(&L);
            return -1;
        }
    size_t plane = 64 * 64;
    memcpy(out, L.portrait.data, 3 * plane * sizeof(float));
    memcpy(out + 3 * plane, L.sketch.data, plane * sizeof(float));
    loop_close(&L);
    return 0;
}

static void check_deterministic(const char *backend)
{
    static float a[4 * 64 * 64], b[4 * 64 * 64], c[4 * 64 * 64];
    CHECK_MSG(run_seed(backend, 5, 12, a) == 0, "%s", err.msg);
    CHECK_MSG(run_seed(backend, 5, 12, b) == 0, "%s", err.msg);
    CHECK_MSG(run_seed(backend, 6, 12, c) == 0, "%s", err.msg);
    CHECK_MSG(memcmp(a, b, sizeof a) == 0, "%s: the same seed gave different images", backend);
    CHECK_MSG(memcmp(a, c, sizeof a) != 0, "%s: seeds 5 and 6 gave the same images", backend);
}

/* A painter that returns NaN wherever its input is ink: the loop counts it, asks the guard
 * for a reseed, and keeps every image it holds (the portrait and its blend, the sketch, the
 * memory of the person) finite, allocating nothing. */
static bool all_finite(const struct planar *im)
{
    for (size_t i = 0; i < lo_size(im); i++)
        if (!isfinite(im->data[i]))
            return false;
    return true;
}

static void test_nan_output_is_counted_and_kept_out(void)
{
    struct params p;
    struct loop L;
    params_small(&p, 1);
    snprintf(p.loop.painter, sizeof p.loop.painter, "%s/bad/nan_painter.onnx", MNEMO_TEST_DATA);
    if (loop_open(&L, &p, "ref", &err)) {
        CHECK_MSG(0, "%s", err.msg);
        return;
    }
    CHECK(loop_step(&L, &err) == 0);
    long before = allocations;
    for (int i = 0; i < 30; i++) {
        CHECK(loop_step(&L, &err) == 0);
        CHECK_MSG(all_finite(&L.portrait) && all_finite(&L.prev_portrait) &&
                      all_finite(&L.sketch) && all_finite(&L.memory.now),
                  "iteration %d: NaN in the loop's images", i);
        CHECK(isfinite(L.metrics.change) && isfinite(L.metrics.variance));
    }
    CHECK_MSG(allocations == before, "%ld allocations", allocations - before);
    CHECK_MSG(L.nonfinite_iterations == 31, "%llu iterations with NaN counted",
              (unsigned long long)L.nonfinite_iterations);
    CHECK(L.guard.stats.reseeds > 0);
    loop_close(&L);
}

static void test_deterministic_ref(void)
{
    check_deterministic("ref");
}

static void test_deterministic_cpu(void)
{
    if (!backend_find("cpu"))
        SKIP("no cpu backend in this build");
    check_deterministic("cpu");
}

static void test_live_params_apply_restart_ones_wait(void)
{
    struct params p;
    struct loop L;
    if (!small_open(&L, &p, "ref"))
        return;
    struct params next = p;
    next.perturb.noise = 0.5f; /* live */
    next.loop.size = 128;      /* restart-only */
    loop_set_params(&L, &next);
    CHECK(L.p.perturb.noise == 0.5f);
    CHECK(L.p.loop.size == 64);
    CHECK(loop_step(&L, &err) == 0);
    loop_close(&L);
}

/* loop.backend picks the backend as --backend does, for every one of its choices (it once
 * named the enum's old list: "ref" read past the names, "cuda" ran on the cpu). */
static void test_backend_param_is_the_backend(void)
{
    const char *names[] = {"ref", "cpu", "cuda"};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        struct params p;
        params_small(&p, 1);
        CHECK(params_set(&p, "loop.backend", names[i], &err) == 0);
        struct loop by_param, by_flag;
        struct error flag_err;
        int rc_param = loop_open(&by_param, &p, NULL, &err);
        int rc_flag = loop_open(&by_flag, &p, names[i], &flag_err);
        CHECK_MSG(rc_param == rc_flag, "loop.backend=%s: %d, --backend %s: %d", names[i], rc_param,
                  names[i], rc_flag);
        if (rc_param == 0) {
            CHECK_MSG(strcmp(loop_backend(&by_param), names[i]) == 0, "loop.backend=%s runs on %s",
                      names[i], loop_backend(&by_param));
            loop_close(&by_param);
        } else {
            CHECK_MSG(strcmp(err.msg, flag_err.msg) == 0, "loop.backend=%s: '%s' vs '%s'", names[i],
                      err.msg, flag_err.msg);
        }
        if (rc_flag == 0)
            loop_close(&by_flag);
    }
}

int main(void)
{
    RUN(test_backend_param_is_the_backend);
    RUN(test_steady_state_allocates_nothing);
    RUN(test_cpu_backend_heap_flat);
    RUN(test_nan_output_is_counted_and_kept_out);
    RUN(test_deterministic_ref);
    RUN(test_deterministic_cpu);
    RUN(test_live_params_apply_restart_ones_wait);
    return check_report();
}

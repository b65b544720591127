/* test_swap.c — live model swap (piece/swap.h, loop_model_load / loop_swap_model): a good
 * swap dissolves in and frees the old model, a bad file or a model that does not chain
 * changes nothing (and the control's value goes back), the loop iterates on while a load
 * hangs, the driver's thread allocates nothing for a swap, and resident memory is flat over
 * 200 swaps back and forth. Links with --wrap=malloc/calloc/realloc (tests/piece.cmake).
 *
 * SWAP_BACKEND (a compile definition) picks the backend: "ref" by default, "cuda" for the
 * gpu-labelled copy, which also counts device memory over the 200 swaps. */
#include "alloc_count.h"
#include "check.h"
#include "clock.h"
#include "control.h"
#include "piece.h"
#include "stats.h"
#include "step.h"
#include "swap.h"

#include <fcntl.h>
#include <malloc.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef SWAP_BACKEND
#define SWAP_BACKEND "ref"
#endif
#ifdef SWAP_CUDART
#include <cuda_runtime_api.h>
#endif

#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1 /* resident memory means nothing under ASan's quarantine */
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif

static struct error err;

#define PAINTER_A MNEMO_TEST_DATA "/unet_bn.onnx"
#define PAINTER_B MNEMO_TEST_DATA "/chain_a.onnx"
#define SKETCHER  MNEMO_TEST_DATA "/resnet_in_op13.onnx"

static void params_small(struct params *p)
{
    params_defaults(p);
    snprintf(p->loop.painter, sizeof p->loop.painter, "%s", PAINTER_A);
    snprintf(p->loop.sketcher, sizeof p->loop.sketcher, "%s", SKETCHER);
    p->loop.size = 64;
    p->loop.rate = 0;
    p->loop.swap_fade = 8;
}

static bool small_open(struct loop *L, struct params *p)
{
    params_small(p);
    if (loop_open(L, p, SWAP_BACKEND, &err)) {
        CHECK_MSG(0, "%s", err.msg);
        return false;
    }
    return true;
}

static bool backend_usable(void)
{
    if (strcmp(SWAP_BACKEND, "cuda") != 0)
        return true;
#ifdef SWAP_CUDART
    return backend_cuda_device_count(NULL) > 0;
#else
    return false;
#endif
}

/* Drives L as a single-threaded driver does (swap_between, one iteration) until the swap
 * has nothing left to do; false after timeout_s. */
static bool settle(struct loop *L, struct swap *sw, double timeout_s)
{
    double until = clock_now() + timeout_s;
    while (clock_now() < until) {
        swap_between(sw);
        if (!swap_busy(sw))
            return true;
        if (loop_step(L, &err)) {
            CHECK_MSG(0, "%s", err.msg);
            return false;
        }
    }
    return false;
}

/* Asks sw for painter (sketcher as it is) and drives L until it has settled. */
static bool swap_painter(struct loop *L, struct swap *sw, const char *painter)
{
    struct params p = L->p;
    snprintf(p.loop.painter, sizeof p.loop.painter, "%s", painter);
    swap_want(sw, &p);
    return settle(L, sw, 30);
}

static float max_abs_diff(const float *a, const float *b, size_t n)
{
    float m = 0;
    for (size_t i = 0; i < n; i++)
        m = fabsf(a[i] - b[i]) > m ? fabsf(a[i] - b[i]) : m;
    return m;
}

/* The new painter runs, L->p says so, the old one is freed; the first portraits after the
 * swap move at most 1/(swap_fade+1) of the way from the old stream (no cut), and none is
 * black or flat. */
static void test_good_swap_dissolves_in(void)
{
    struct params p;
    struct loop L;
    if (!backend_usable())
        SKIP("no usable %s backend", SWAP_BACKEND);
    if (!small_open(&L, &p))
        return;
    for (int i = 0; i < 3; i++)
        CHECK(loop_step(&L, &err) == 0);
    struct swap *sw = swap_open(&L, NULL, &err);
    CHECK(sw != NULL);
    snprintf(p.loop.painter, sizeof p.loop.painter, "%s", PAINTER_B);
    swap_want(sw, &p);
    double until = clock_now() + 30;
    while (L.swaps == 0 && clock_now() < until)
        swap_between(sw); /* the driver does not iterate meanwhile: nothing else changes */
    CHECK(L.swaps == 1);
    CHECK(strcmp(L.p.loop.painter, PAINTER_B) == 0);
    CHECK(strstr(L.painter.path, "chain_a.onnx") != NULL);
    CHECK(L.swap_fade_left == 8);
    size_t n = lo_size(&L.portrait);
    for (int i = 0; i < 8; i++) {
        CHECK(loop_step(&L, &err) == 0);
        float step = max_abs_diff(L.portrait.data, L.prev_portrait.data, n);
        /* the new painter's share this iteration is 1 - (8 - i) / 9 at most, of a range 2 */
        CHECK_MSG(step <= 2.0f * (float)(i + 1) / 9.0f + 1e-4f,
                  "iteration %d after the swap "
                  "moved %.3f",
                  i + 1, (double)step);
        CHECK(L.metrics.variance > 0);
    }
    CHECK(L.swap_fade_left == 0);
    CHECK(settle(&L, sw, 10)); /* the old model freed */
    CHECK(swap_refused(sw) == 0);
    swap_close(sw);
    loop_close(&L);
}

/* A file that is no model, one that is missing, and a sketcher that takes no image (two
 * channels: it cannot chain): each refused with a message naming the file; the loop goes
 * on with what it had, and L->p still names it. */
static void test_bad_models_change_nothing(void)
{
    struct params p;
    struct loop L;
    if (!backend_usable())
        SKIP("no usable %s backend", SWAP_BACKEND);
    if (!small_open(&L, &p))
        return;
    struct loop_model fresh;
    CHECK(loop_model_load(&L, LOOP_PAINTER, MNEMO_TEST_DATA "/bad/not_a_model.onnx", &fresh,
                          &err) == -1);
    CHECK_MSG(strstr(err.msg, "loop.painter") && strstr(err.msg, "not_a_model.onnx"), "%s",
              err.msg);
    CHECK(fresh.graph == NULL && fresh.backend == NULL);
    CHECK(loop_model_load(&L, LOOP_SKETCHER, MNEMO_TEST_DATA "/chain_b_mismatch.onnx", &fresh,
                          &err) == -1);
    CHECK_MSG(strstr(err.msg, "chain_b_mismatch.onnx") && strstr(err.msg, "image"), "%s", err.msg);

    struct swap *sw = swap_open(&L, NULL, &err);
    const char *bad[] = {MNEMO_TEST_DATA "/bad/not_a_model.onnx", MNEMO_TEST_DATA "/missing.onnx"};
    for (size_t i = 0; i < 2; i++)
        CHECK(swap_painter(&L, sw, bad[i]));
    struct params q = L.p;
    snprintf(q.loop.sketcher, sizeof q.loop.sketcher, "%s",
             MNEMO_TEST_DATA "/chain_b_mismatch.onnx");
    swap_want(sw, &q);
    CHECK(settle(&L, sw, 30));
    CHECK(swap_refused(sw) == 3);
    CHECK(L.swaps == 0);
    CHECK(strcmp(L.p.loop.painter, PAINTER_A) == 0 && strcmp(L.p.loop.sketcher, SKETCHER) == 0);
    CHECK(strstr(L.painter.path, "unet_bn.onnx") && strstr(L.sketcher.path, "resnet_in_op13"));
    uint64_t before = L.iterations;
    CHECK(loop_step(&L, &err) == 0 && L.iterations == before + 1);
    /* the same request again is not tried again (a driver re-posting its parameters) */
    swap_want(sw, &q);
    CHECK(settle(&L, sw, 30));
    CHECK(swap_refused(sw) == 3);
    swap_close(sw);
    loop_close(&L);
}

/* Through the control, as the piece runs it (step.h): a refused painter's value goes back
 * to the one that runs, so /mnemo/get and the HUD say what is on screen; a good one stays. */
static void test_refused_value_goes_back(void)
{
    struct params p;
    static struct loop L; /* the step holds parameter sets: off the stack */
    static struct step s;
    if (!backend_usable())
        SKIP("no usable %s backend", SWAP_BACKEND);
    if (!small_open(&L, &p))
        return;
    struct control_options o = {0};
    struct control *ctl = control_open(&o, &p, &err);
    CHECK_MSG(ctl != NULL, "%s", err.msg);
    struct swap *sw = swap_open(&L, ctl, &err);
    step_init(&s, &L, NULL, ctl, NULL, sw);
    CHECK(control_set(ctl, "loop.painter", MNEMO_TEST_DATA "/bad/not_a_model.onnx", &err) == 0);
    char now[PARAM_TEXT_MAX] = "";
    double until = clock_now() + 30;
    while (clock_now() < until) {
        CHECK(piece_step(&s, NULL, &err) == 0);
        control_get(ctl, "loop.painter", now, sizeof now, &err);
        if (swap_refused(sw) == 1 && strcmp(now, PAINTER_A) == 0)
            break;
    }
    CHECK_MSG(strcmp(now, PAINTER_A) == 0, "the control still asks for %s", now);
    CHECK(control_set(ctl, "loop.painter", PAINTER_B, &err) == 0);
    until = clock_now() + 30;
    while (L.swaps == 0 && clock_now() < until)
        CHECK(piece_step(&s, NULL, &err) == 0);
    CHECK(L.swaps == 1 && strcmp(L.p.loop.painter, PAINTER_B) == 0);
    control_get(ctl, "loop.painter", now, sizeof now, &err);
    CHECK(strcmp(now, PAINTER_B) == 0);
    swap_close(sw);
    control_close(ctl);
    loop_close(&L);
}

/* The loop thread (piece.h) iterates on while the loader hangs in a read (a FIFO that
 * nobody writes yet, as a file on a slow disk or still being written); once the bytes come,
 * the model is swapped in without stopping the piece. */
static void test_loop_never_waits_for_a_load(void)
{
    struct params p;
    struct loop L;
    if (!backend_usable())
        SKIP("no usable %s backend", SWAP_BACKEND);
    char dir[] = "/tmp/mnemo-swap-XXXXXX", fifo[64];
    if (!mkdtemp(dir))
        SKIP("no temp folder");
    snprintf(fifo, sizeof fifo, "%s/painter.onnx", dir);
    CHECK(mkfifo(fifo, 0600) == 0);
    if (!small_open(&L, &p))
        return;
    struct swap *sw = swap_open(&L, NULL, &err);
    struct piece *pc = piece_start(&L, NULL, NULL, sw, &err);
    CHECK(pc != NULL);
    snprintf(p.loop.painter, sizeof p.loop.painter, "%s", fifo);
    piece_set_params(pc, &p);
    uint64_t first = 0, last = 0;
    double until = clock_now() + 30;
    struct piece_frame f;
    while (last < first + 20 && clock_now() < until) /* 20 iterations while the load hangs */
        if (piece_latest(pc, last, &f)) {
            first = first ? first : f.iteration;
            last = f.iteration;
        }
    CHECK_MSG(last >= first + 20, "the loop went from iteration %llu to %llu in 30 s",
              (unsigned long long)first, (unsigned long long)last);
    FILE *model = fopen(PAINTER_B, "rb");
    int out = open(fifo, O_WRONLY); /* the loader is reading it: this does not block */
    char buf[65536];
    size_t got;
    while (model && out >= 0 && (got = fread(buf, 1, sizeof buf, model)) > 0)
        CHECK(write(out, buf, got) == (ssize_t)got);
    if (model)
        fclose(model);
    close(out);
    until = clock_now() + 30;
    while (swap_swapped(sw) == 0 && clock_now() < until)
        ;
    CHECK(swap_swapped(sw) == 1);
    uint64_t at = last;
    int flat = 0;
    while (last < at + 5 && clock_now() < until + 30) /* and it goes on after the swap */
        if (piece_latest(pc, last, &f)) {
            last = f.iteration;
            float lo = 2, hi = -2;
            for (size_t i = 0; i < 3 * 64 * 64; i++) {
                lo = f.portrait[i] < lo ? f.portrait[i] : lo;
                hi = f.portrait[i] > hi ? f.portrait[i] : hi;
            }
            flat += !(lo >= -1.0f && hi <= 1.0f && hi > lo); /* never black, never empty */
        }
    CHECK(last >= at + 5);
    CHECK_MSG(flat == 0, "%d frames after the swap were flat or out of range", flat);
    CHECK(piece_stop(pc, &err) == 0);
    CHECK(L.swaps == 1 && strcmp(L.p.loop.painter, fifo) == 0);
    swap_close(sw);
    loop_close(&L);
    unlink(fifo);
    rmdir(dir);
}

/* The loop's side of a swap (loop_swap_model, then iterations with the fade) allocates
 * nothing on the driver's thread, and neither does swap_between around it. */
static void test_driver_allocates_nothing(void)
{
    struct params p;
    struct loop L;
    if (strcmp(SWAP_BACKEND, "ref") != 0)
        SKIP("counted on ref only (a GPU runtime allocates inside its own library calls)");
    if (!small_open(&L, &p))
        return;
    CHECK(loop_step(&L, &err) == 0);
    struct swap *sw = swap_open(&L, NULL, &err);
    struct params q = L.p;
    snprintf(q.loop.painter, sizeof q.loop.painter, "%s", PAINTER_B);
    long before = thread_allocations;
    swap_want(sw, &q);
    CHECK(settle(&L, sw, 30));
    CHECK_MSG(thread_allocations == before, "%ld allocations on the driver's thread",
              thread_allocations - before);
    CHECK(L.swaps == 1);
    swap_close(sw);
    loop_close(&L);
}

/* Device memory in use, in bytes (0 without a CUDA runtime linked). */
static long long device_used(void)
{
#ifdef SWAP_CUDART
    size_t free_b = 0, total_b = 0;
    if (cudaMemGetInfo(&free_b, &total_b) == cudaSuccess)
        return (long long)(total_b - free_b);
#endif
    return 0;
}

/* 200 swaps back and forth, the loop iterating between them: resident memory (and device
 * memory on cuda) ends within 1 MiB of where it started. The start is measured after one
 * round trip, so that what a backend keeps for the process (oneDNN's and CUDA's caches, a
 * thread's arena and stack) is counted once, in both; the cold figure is printed too. */
static void test_memory_flat_over_200_swaps(void)
{
    struct params p;
    struct loop L;
    if (!backend_usable())
        SKIP("no usable %s backend", SWAP_BACKEND);
    if (!small_open(&L, &p))
        return;
    struct swap *sw = swap_open(&L, NULL, &err);
    CHECK(loop_step(&L, &err) == 0);
    malloc_trim(0);
    long cold = stats_rss_kib();
    CHECK(swap_painter(&L, sw, PAINTER_B) && swap_painter(&L, sw, PAINTER_A));
    malloc_trim(0);
    long start = stats_rss_kib();
    long long dev_start = device_used();
    for (int i = 0; i < 100; i++) {
        CHECK(swap_painter(&L, sw, PAINTER_B));
        CHECK(swap_painter(&L, sw, PAINTER_A));
        if (i % 25 == 24) { /* the trend, not only the end */
            malloc_trim(0);
            printf("  %3d swaps: %ld KiB resident, %zu bytes of heap in use\n", 2 * (i + 1),
                   stats_rss_kib(), mallinfo2().uordblks);
        }
    }
    CHECK(L.swaps == 202 && swap_refused(sw) == 0);
    malloc_trim(0); /* the driver's own arena: the loader trims after each free */
    long end = stats_rss_kib();
    long long dev_end = device_used();
    printf("  rss: %ld KiB cold, %ld KiB after one round trip, %ld KiB after 200 more swaps "
           "(%+ld KiB); device %+lld bytes\n",
           cold, start, end, end - start, dev_end - dev_start);
#ifdef UNDER_ASAN
    printf("  (resident memory not checked under ASan: its quarantine holds freed blocks)\n");
#else
    CHECK_MSG(end - start <= 1024, "resident memory grew %ld KiB over 200 swaps", end - start);
#endif
    CHECK_MSG(dev_end - dev_start <= (1 << 20), "device memory grew %lld bytes over 200 swaps",
              dev_end - dev_start);
    swap_close(sw);
    loop_close(&L);
}

int main(void)
{
    RUN(test_good_swap_dissolves_in);
    RUN(test_bad_models_change_nothing);
    RUN(test_refused_value_goes_back);
    RUN(test_loop_never_waits_for_a_load);
    RUN(test_driver_allocates_nothing);
    RUN(test_memory_flat_over_200_swaps);
    return check_report();
}

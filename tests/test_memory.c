/* test_memory.c — the seed bank and the loop's memory (runtime/loop/memory.h): a bank
 * is refused unless it is one column of square sketches; draws do not repeat a person
 * within the waiting window and reach everyone; a checkpoint's ring of last draws is kept
 * only when it fits the bank; a turn eases from one person to the next and ends exactly
 * on them; the loop blends memory.anchor of the remembered person into every sketch (0:
 * the loop alone, 1: the person alone); the guard's early turn turns it at once. */
#include "check.h"
#include "image.h"
#include "loop.h"
#include "memory.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static struct error err;

/* A bank of `count` tiles of side 32; tile k is paper with k + 1 ink pixels in row 0, so
 * a draw (mirrored or not, before the warp) is known by its tile. */
static void bank_write(const char *path, int32_t count, int32_t width, int32_t height)
{
    struct image img = {width, height, 1, malloc((size_t)width * height)};
    memset(img.pixels, 255, (size_t)width * height);
    for (int32_t k = 0; width == 32 && k < count; k++)
        memset(img.pixels + (size_t)k * 32 * 32, 0, (size_t)k + 1);
    CHECK_MSG(image_write_png(&img, path, &err) == 0, "%s", err.msg);
    free(img.pixels);
}

static void tmp_path(char *buf, size_t size, const char *name)
{
    snprintf(buf, size, "/tmp/mnemo-test-memory-%d-%s", (int)getpid(), name);
}

static void test_bank_refuses_what_is_not_a_column_of_squares(void)
{
    char path[256];
    struct seed_bank b;
    tmp_path(path, sizeof path, "wide.png");
    bank_write(path, 0, 64, 100);
    CHECK(seed_bank_open(&b, path, &err) != 0);
    CHECK_MSG(strstr(err.msg, path) && strstr(err.msg, "64x100") && strstr(err.msg, "seed_bank.py"),
              "%s", err.msg);
    bank_write(path, 1, 32, 32); /* one person is not a bank */
    CHECK(seed_bank_open(&b, path, &err) != 0);
    unlink(path);
    CHECK(seed_bank_open(&b, path, &err) != 0);
    CHECK_MSG(strstr(err.msg, path) != NULL, "%s", err.msg);
}

static void test_bank_draws_wait_and_reach_everyone(void)
{
    char path[256];
    tmp_path(path, sizeof path, "bank.png");
    enum { PEOPLE = 10 };
    bank_write(path, PEOPLE, 32, 32 * PEOPLE);
    struct seed_bank b;
    if (seed_bank_open(&b, path, &err)) {
        CHECK_MSG(0, "%s", err.msg);
        return;
    }
    unlink(path);
    CHECK(b.count == PEOPLE && b.side == 32);
    float out_px[48 * 48], scratch_px[48 * 48];
    struct planar out = {1, 48, 48, out_px}, scratch = {1, 48, 48, scratch_px};
    struct rng rng;
    rng_seed(&rng, 3, 2);
    int32_t drawn[200], seen[PEOPLE] = {0};
    for (int i = 0; i < 200; i++) {
        drawn[i] = seed_bank_draw(&b, &out, &scratch, &rng);
        CHECK(drawn[i] >= 0 && drawn[i] < PEOPLE);
        seen[drawn[i]]++;
        for (int j = i - PEOPLE / 2 + 1; j >= 0 && j < i; j++)
            CHECK_MSG(drawn[j] != drawn[i], "person %d again after %d draws", drawn[i], i - j);
    }
    for (int k = 0; k < PEOPLE; k++)
        CHECK_MSG(seen[k] > 0, "person %d never drawn in 200 draws", k);
    /* The draw is the tile, resized and varied: mostly paper, values in range. */
    float lo = 1, hi = -1;
    for (int i = 0; i < 48 * 48; i++) {
        lo = out_px[i] < lo ? out_px[i] : lo;
        hi = out_px[i] > hi ? out_px[i] : hi;
    }
    CHECK(lo >= -1 && hi <= 1 && hi > 0.99f);
    seed_bank_close(&b);
}

/* A checkpoint's ring of last draws is kept when it fits the bank read now, and dropped
 * (the bank starts with no one waiting) when a length, a position or a person does not:
 * a bank changed since the save, or a forged file. */
static void test_bank_resume_keeps_only_a_ring_that_fits(void)
{
    char path[256];
    tmp_path(path, sizeof path, "resume.png");
    enum { PEOPLE = 10 }; /* 5 wait */
    bank_write(path, PEOPLE, 32, 32 * PEOPLE);
    struct seed_bank b;
    if (seed_bank_open(&b, path, &err)) {
        CHECK_MSG(0, "%s", err.msg);
        return;
    }
    unlink(path);
    int32_t recent[BANK_RECENT] = {4, 7, 1};
    seed_bank_resume(&b, recent, 3, 3);
    CHECK(b.recent_len == 3 && b.recent_head == 3 && b.recent[1] == 7);
    const struct {
        int32_t person, len, head;
    } misfits[] = {{PEOPLE, 3, 3}, {-1, 3, 3}, {7, 6, 0}, {7, -1, 0}, {7, 3, 5}};
    for (size_t i = 0; i < sizeof misfits / sizeof misfits[0]; i++) {
        recent[1] = misfits[i].person;
        seed_bank_resume(&b, recent, misfits[i].len, misfits[i].head);
        CHECK_MSG(b.recent_len == 0 && b.recent_head == 0, "ring %zu (person %d, %d at %d) kept", i,
                  (int)misfits[i].person, (int)misfits[i].len, (int)misfits[i].head);
    }
    seed_bank_close(&b);
}

static void test_memory_turn_eases_and_ends_on_the_next_person(void)
{
    struct memory m;
    if (memory_init(&m, 8, &err)) {
        CHECK_MSG(0, "%s", err.msg);
        return;
    }
    float ink[64], paper[64];
    for (int i = 0; i < 64; i++)
        ink[i] = -1, paper[i] = 1;
    memory_start(&m, &(struct planar){1, 8, 8, paper}, 10);
    CHECK(!memory_due(&m, 5, 10));
    for (int i = 0; i < 5; i++)
        memory_advance(&m, 10);
    CHECK(m.now.data[0] == 1); /* held, untouched */
    CHECK(memory_due(&m, 5, 10));
    struct planar *next = memory_turn(&m);
    memcpy(next->data, ink, sizeof ink);
    float last = 1;
    for (int i = 0; i < 10; i++) {
        memory_advance(&m, 10);
        CHECK_MSG(m.now.data[7] < last, "the turn stood still at step %d", i);
        CHECK(m.now.data[7] >= -1);
        last = m.now.data[7];
        if (i == 0)
            CHECK(m.now.data[7] > 0.9f); /* eases in: the first step is small */
    }
    CHECK(m.now.data[7] == -1 && m.now.data[63] == -1); /* ends exactly on the person */
    CHECK(!memory_due(&m, 5, 10));
    memory_free(&m);
}

/* The loop's sketch is (1 - anchor) x the simplified sketcher output + anchor x memory. */
static void test_loop_sketch_is_anchored_to_the_memory(void)
{
    const float anchors[] = {0, 0.6f, 1};
    for (size_t a = 0; a < sizeof anchors / sizeof anchors[0]; a++) {
        struct params p;
        params_defaults(&p);
        snprintf(p.loop.painter, sizeof p.loop.painter, "%s/unet_bn.onnx", MNEMO_TEST_DATA);
        snprintf(p.loop.sketcher, sizeof p.loop.sketcher, "%s/resnet_in_op13.onnx",
                 MNEMO_TEST_DATA);
        p.loop.size = 64;
        p.memory.anchor = anchors[a];
        p.memory.hold = 2;
        p.memory.fade = 3; /* turns happen within the test */
        p.guard.enabled = false;
        struct loop L;
        if (loop_open(&L, &p, "ref", &err)) {
            CHECK_MSG(0, "%s", err.msg);
            return;
        }
        CHECK(L.bank.count >= 2); /* the default bank, models/faces.png, was found */
        float worst = 0;
        for (int i = 0; i < 12; i++) {
            CHECK(loop_step(&L, &err) == 0);
            for (size_t j = 0; j < 64 * 64; j++) {
                float want =
                    (1 - anchors[a]) * L.raw_sketch.data[j] + anchors[a] * L.memory.now.data[j];
                float d = fabsf(L.sketch.data[j] - want);
                worst = d > worst ? d : worst;
            }
        }
        CHECK_MSG(worst < 1e-5f, "anchor %g: sketch off the blend by %g", anchors[a], worst);
        loop_close(&L);
    }
}

/* The guard's early turn (guard_action.turn) turns the memory to a new person from the
 * bank at once, long before memory.hold is up. */
static void test_guard_turn_turns_the_memory_early(void)
{
    struct params p;
    params_defaults(&p);
    snprintf(p.loop.painter, sizeof p.loop.painter, "%s/unet_bn.onnx", MNEMO_TEST_DATA);
    snprintf(p.loop.sketcher, sizeof p.loop.sketcher, "%s/resnet_in_op13.onnx", MNEMO_TEST_DATA);
    p.loop.size = 64;
    p.guard.enabled = false; /* only the test's own turn */
    struct loop L;
    if (loop_open(&L, &p, "ref", &err)) {
        CHECK_MSG(0, "%s", err.msg);
        return;
    }
    for (int i = 0; i < 3; i++)
        CHECK(loop_step(&L, &err) == 0);
    int32_t age = L.memory.age, draws = L.bank.recent_len;
    CHECK(age >= 3 && age < p.memory.hold + p.memory.fade); /* no turn due of itself */
    L.action.turn = true;
    CHECK(loop_step(&L, &err) == 0);
    CHECK_MSG(L.memory.age == 1, "memory age %d after the turn (was %d)", L.memory.age, age);
    CHECK(L.bank.recent_len == draws + 1); /* a new person was drawn from the bank */
    CHECK(!L.action.turn);                 /* the disabled guard asks for nothing */
    CHECK(loop_step(&L, &err) == 0);
    CHECK(L.memory.age == 2);
    loop_close(&L);
}

int main(void)
{
    RUN(test_bank_refuses_what_is_not_a_column_of_squares);
    RUN(test_bank_draws_wait_and_reach_everyone);
    RUN(test_bank_resume_keeps_only_a_ring_that_fits);
    RUN(test_memory_turn_eases_and_ends_on_the_next_person);
    RUN(test_loop_sketch_is_anchored_to_the_memory);
    RUN(test_guard_turn_turns_the_memory_early);
    return check_report();
}

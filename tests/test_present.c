/* The presenter's parts that need no display: the loop thread and its hand-over (piece.h),
 * the embedded shaders, compile-log rewriting, fit geometry, the HUD font. */
#include "check.h"
#include "clock.h"
#include "piece.h"
#include "present_internal.h"

#include <string.h>

static struct error err;

static void params_small(struct params *p)
{
    params_defaults(p);
    snprintf(p->loop.painter, sizeof p->loop.painter, "%s/unet_bn.onnx", MNEMO_TEST_DATA);
    snprintf(p->loop.sketcher, sizeof p->loop.sketcher, "%s/resnet_in_op13.onnx", MNEMO_TEST_DATA);
    p->loop.size = 64;
    p->loop.rate = 0; /* as fast as it goes */
}

static void wait_s(double s)
{
    double until = clock_now() + s;
    while (clock_now() < until)
        ;
}

/* The reader gets newer and newer iterations without waiting, never the same twice, and
 * images that are the loop's (in range, not all zero). */
static void test_piece_hands_over_newest(void)
{
    struct params p;
    params_small(&p);
    struct loop L;
    if (loop_open(&L, &p, "ref", &err)) {
        CHECK_MSG(0, "%s", err.msg);
        return;
    }
    struct piece *pc = piece_start(&L, NULL, NULL, NULL, &err);
    CHECK(pc != NULL);
    uint64_t last = 0;
    int got = 0;
    double until = clock_now() + 10;
    while (got < 5 && clock_now() < until) {
        struct piece_frame f;
        if (!piece_latest(pc, last, &f))
            continue;
        CHECK(f.iteration > last);
        CHECK(f.size == 64);
        float lo = 2, hi = -2;
        for (size_t i = 0; i < 3 * 64 * 64; i++) {
            lo = f.portrait[i] < lo ? f.portrait[i] : lo;
            hi = f.portrait[i] > hi ? f.portrait[i] : hi;
        }
        CHECK(lo >= -1.0f && hi <= 1.0f && hi > lo);
        last = f.iteration;
        got++;
    }
    CHECK(got == 5);
    struct piece_frame f;
    CHECK(!piece_latest(pc, UINT64_MAX - 1, &f)); /* nothing newer than that */
    double t0 = clock_now();
    CHECK(piece_stop(pc, &err) == 0);
    CHECK(clock_now() - t0 < 2.0);
    loop_close(&L);
}

/* piece_set_params reaches the loop between iterations; loop.rate paces the thread. */
static void test_piece_params_and_pacing(void)
{
    struct params p;
    params_small(&p);
    p.loop.rate = 20;
    struct loop L;
    if (loop_open(&L, &p, "ref", &err)) {
        CHECK_MSG(0, "%s", err.msg);
        return;
    }
    struct piece *pc = piece_start(&L, NULL, NULL, NULL, &err);
    uint64_t v = piece_params_version(pc);
    p.perturb.noise = 0.25f;
    piece_set_params(pc, &p);
    CHECK(piece_params_version(pc) == v + 1);
    struct params back;
    piece_get_params(pc, &back);
    CHECK_NEAR(back.perturb.noise, 0.25, 0);
    wait_s(1.0);
    double t0 = clock_now();
    CHECK(piece_stop(pc, &err) == 0);
    CHECK(clock_now() - t0 < 2.0);
    CHECK_NEAR(L.p.perturb.noise, 0.25, 0);
    CHECK(L.iterations >= 1 && L.iterations <= 23); /* <= 20 in one second (+ slack), never more */
    loop_close(&L);
}

static char *file_text(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    static char buf[65536];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    return buf;
}

/* The copy in the binary is the one in shaders/ (the build regenerates it). */
static void test_embedded_shaders_equal_files(void)
{
    const char *names[] = {"quad.vert", "mix.frag", "present.frag", "hud.frag"};
    for (size_t i = 0; i < 4; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/shaders/%s", MNEMO_SOURCE_DIR, names[i]);
        const char *file = file_text(path), *embedded = shader_embedded(names[i]);
        CHECK_MSG(file && embedded && strcmp(file, embedded) == 0, "%s", names[i]);
    }
    CHECK(shader_embedded("nonesuch.frag") == NULL);
}

static void test_log_names_file_and_line(void)
{
    char out[512];
    shader_log_rewrite("0:12(5): error: syntax error, unexpected '}'\n0:13(1): warning: x\n",
                       "shaders/present.frag", out, sizeof out);
    CHECK_MSG(strcmp(out, "shaders/present.frag:12: error: syntax error, unexpected '}'\n"
                          "shaders/present.frag:13: warning: x") == 0,
              "%s", out);
    shader_log_rewrite("ERROR: 0:7: 'x' : undeclared", "a.frag", out, sizeof out);
    CHECK_MSG(strcmp(out, "a.frag:7: 'x' : undeclared") == 0, "%s", out);
}

static void test_fit_geometry(void)
{
    float h[2];
    gl_fit(FIT_FIT, ROTATE_0, 64, 64, 1280, 720, h); /* square in 16:9: bars left, right */
    CHECK_NEAR(h[0], 720.0 / 1280.0, 1e-6);
    CHECK_NEAR(h[1], 1.0, 1e-6);
    gl_fit(FIT_FILL, ROTATE_0, 64, 64, 1280, 720, h); /* covered, top and bottom cut */
    CHECK_NEAR(h[0], 1.0, 1e-6);
    CHECK_NEAR(h[1], 1280.0 / 720.0, 1e-6);
    gl_fit(FIT_STRETCH, ROTATE_0, 64, 64, 1280, 720, h);
    CHECK(h[0] == 1.0f && h[1] == 1.0f);
    gl_fit(FIT_FIT, ROTATE_90, 200, 100, 100, 200, h); /* a wide picture on a tall screen */
    CHECK_NEAR(h[0], 1.0, 1e-6);
    CHECK_NEAR(h[1], 1.0, 1e-6);
}

static void test_hud_font(void)
{
    const uint8_t *a = hud_glyph('a'), *A = hud_glyph('A'), *space = hud_glyph(' ');
    CHECK(a == A);
    int ink = 0;
    for (int y = 0; y < 7; y++)
        ink += A[y] != 0;
    CHECK(ink == 7);
    for (int y = 0; y < 7; y++)
        CHECK(space[y] == 0);
    const char *needed = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ.:/-+=%_";
    for (const char *c = needed; *c; c++) {
        int bits = 0;
        for (int y = 0; y < 7; y++)
            bits += hud_glyph(*c)[y] != 0;
        CHECK_MSG(bits > 0, "glyph '%c' is blank", *c);
    }
}

int main(void)
{
    RUN(test_embedded_shaders_equal_files);
    RUN(test_log_names_file_and_line);
    RUN(test_fit_geometry);
    RUN(test_hud_font);
    RUN(test_piece_hands_over_newest);
    RUN(test_piece_params_and_pacing);
    return check_report();
}

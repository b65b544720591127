/* test_loop_model.c — the conversions at the borders of the loop's models, and opening a
 * painter/sketcher pair whose sizes and channels differ from the loop's. */
#include "check.h"
#include "loop_model.h"

#include <string.h>

static struct error err;

static void test_channels_convert(void)
{
    /* One pixel per plane: RGB (1, 0, -1) has luma 0.299 - 0.114 = 0.185. */
    const float rgb[3] = {1, 0, -1};
    float gray[1], back[3];
    planar_channels_convert(rgb, 3, gray, 1, 1);
    CHECK_NEAR(gray[0], 0.185, 1e-6);
    planar_channels_convert(gray, 1, back, 3, 1);
    for (int c = 0; c < 3; c++)
        CHECK_NEAR(back[c], 0.185, 1e-6);
}

static void test_resize(void)
{
    float src[2 * 4 * 4], dst[2 * 8 * 8], same[2 * 4 * 4];
    for (int i = 0; i < 32; i++)
        src[i] = i < 16 ? 0.25f : (float)(i % 4); /* plane 0 constant, plane 1 a ramp in x */
    planar_resize_bilinear(src, 2, 4, 4, same, 4, 4);
    CHECK(memcmp(src, same, sizeof src) == 0); /* same size: exactly the input */
    planar_resize_bilinear(src, 2, 4, 4, dst, 8, 8);
    for (int i = 0; i < 64; i++)
        CHECK_NEAR(dst[i], 0.25, 1e-6); /* a constant stays constant */
    for (int y = 0; y < 8; y++)
        for (int x = 1; x < 8; x++) /* a ramp stays monotonic, from 0 to 3 */
            CHECK(dst[64 + y * 8 + x] >= dst[64 + y * 8 + x - 1]);
    CHECK_NEAR(dst[64], 0, 1e-6);
    CHECK_NEAR(dst[64 + 7], 3, 1e-6);
}

static void test_range_map(void)
{
    float x[3] = {-1, 0, 1};
    planar_range_map(x, 3, (struct value_range){-1, 1}, (struct value_range){0, 1});
    CHECK_NEAR(x[0], 0, 1e-7);
    CHECK_NEAR(x[1], 0.5, 1e-7);
    CHECK_NEAR(x[2], 1, 1e-7);
}

/* chain_a paints 64x64 gray into 64x64 RGB; chain_b_convert takes 32x32 gray. At a loop
 * size of 48 every border converts: sizes both ways, RGB to gray. */
static void test_pair_with_conversions(void)
{
    struct loop_model painter, sketcher;
    const int32_t size = 48;
    CHECK_MSG(loop_model_open(&painter, "painter", MNEMO_TEST_DATA "/chain_a.onnx", size, "ref",
                              NULL, &err) == 0,
              "%s", err.msg);
    CHECK_MSG(loop_model_open(&sketcher, "sketcher", MNEMO_TEST_DATA "/chain_b_convert.onnx", size,
                              "ref", NULL, &err) == 0,
              "%s", err.msg);
    CHECK(painter.in_c == 1 && painter.out_c == 3 && painter.in_h == 64);
    CHECK(sketcher.in_c == 1 && sketcher.in_h == 32);
    float sketch[48 * 48], portrait[3 * 48 * 48];
    for (int i = 0; i < size * size; i++)
        sketch[i] = (i / size) % 8 < 2 ? -1.0f : 1.0f; /* stripes of ink */
    for (int i = 0; i < 3 * size * size; i++)
        portrait[i] = NAN;
    loop_model_feed(&painter, sketch, 1);
    CHECK(loop_model_run(&painter, &err) == 0);
    loop_model_take(&painter, portrait, 3);
    float again[48 * 48];
    loop_model_feed(&sketcher, portrait, 3);
    CHECK(loop_model_run(&sketcher, &err) == 0);
    for (int i = 0; i < size * size; i++)
        again[i] = NAN;
    loop_model_take(&sketcher, again, 1);
    bool finite = true;
    for (int i = 0; i < 3 * size * size; i++)
        finite = finite && isfinite(portrait[i]);
    for (int i = 0; i < size * size; i++)
        finite = finite && isfinite(again[i]);
    CHECK(finite); /* every canonical pixel written */
    loop_model_close(&painter);
    loop_model_close(&sketcher);
}

static void test_not_an_image_model(void)
{
    struct loop_model m;
    CHECK(loop_model_open(&m, "sketcher", MNEMO_TEST_DATA "/chain_b_mismatch.onnx", 32, "ref", NULL,
                          &err) != 0);
    CHECK_MSG(strstr(err.msg, "sketcher") && strstr(err.msg, "chain_b_mismatch.onnx") &&
                  strstr(err.msg, "1x2x32x32"),
              "%s", err.msg);
    CHECK(loop_model_open(&m, "painter", MNEMO_TEST_DATA "/no_such_model.onnx", 32, "ref", NULL,
                          &err) != 0);
    CHECK_MSG(strstr(err.msg, "painter") && strstr(err.msg, "no_such_model.onnx"), "%s", err.msg);
}

int main(void)
{
    RUN(test_channels_convert);
    RUN(test_resize);
    RUN(test_range_map);
    RUN(test_pair_with_conversions);
    RUN(test_not_an_image_model);
    return check_report();
}

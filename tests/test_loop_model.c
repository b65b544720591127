/* test_loop_model.c — opening a painter/sketcher pair whose sizes and channels differ
 * from the loop's, converting at every border (the conversions themselves, lo_resize and
 * friends, are tested in test_loop_ops.c). */
#include "check.h"
#include "loop_model.h"

#include <string.h>

static struct error err;

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
    loop_model_take(&painter, portrait, 3, NULL);
    float again[48 * 48];
    loop_model_feed(&sketcher, portrait, 3);
    CHECK(loop_model_run(&sketcher, &err) == 0);
    for (int i = 0; i < size * size; i++)
        again[i] = NAN;
    loop_model_take(&sketcher, again, 1, NULL);
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
    RUN(test_pair_with_conversions);
    RUN(test_not_an_image_model);
    return check_report();
}

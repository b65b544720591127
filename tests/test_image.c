/* PNG and .npy files, and fitting images to a model's input (runtime/engine/image.c). */
#include "check.h"
#include "image.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char tmp_dir[] = "/tmp/mnemo-test-image-XXXXXX";

static const char *tmp_path(const char *name)
{
    static char path[256];
    snprintf(path, sizeof path, "%s/%s", tmp_dir, name);
    return path;
}

static void write_bytes(const char *path, const void *bytes, size_t n)
{
    FILE *f = fopen(path, "wb");
    fwrite(bytes, 1, n, f);
    fclose(f);
}

static void test_npy_roundtrip(void)
{
    float data[2 * 3 * 4];
    for (int i = 0; i < 24; i++)
        data[i] = (float)i * 0.5f - 3.0f;
    struct tensor t = {.shape = {.rank = 3, .dim = {2, 3, 4}}, .data = data};
    struct error err;
    CHECK(tensor_write_npy(&t, tmp_path("a.npy"), &err) == 0);
    struct tensor back;
    CHECK(tensor_read_npy(&back, tmp_path("a.npy"), &err) == 0);
    CHECK(shape_equal(&back.shape, &t.shape));
    CHECK(back.data && memcmp(back.data, data, sizeof data) == 0);
    tensor_free(&back);
    /* numpy's layout: the header pads the data start to a multiple of 64 bytes. */
    FILE *f = fopen(tmp_path("a.npy"), "rb");
    fseek(f, 0, SEEK_END);
    CHECK((ftell(f) - (long)sizeof data) % 64 == 0);
    fclose(f);
}

static void test_npy_rejects_bad_files(void)
{
    struct tensor t;
    struct error err;
    CHECK(tensor_read_npy(&t, tmp_path("missing.npy"), &err) != 0);
    CHECK(strstr(err.msg, "missing.npy") && strstr(err.msg, "No such file"));

    write_bytes(tmp_path("magic.npy"), "hello world, not numpy", 22);
    CHECK(tensor_read_npy(&t, tmp_path("magic.npy"), &err) != 0);
    CHECK(strstr(err.msg, "not a .npy file"));

    /* A valid float32 file whose descr is patched to float64. */
    struct tensor one = {.shape = {.rank = 1, .dim = {2}}, .data = (float[2]){1, 2}};
    CHECK(tensor_write_npy(&one, tmp_path("f8.npy"), &err) == 0);
    FILE *patch = fopen(tmp_path("f8.npy"), "r+b");
    fseek(patch, 22, SEEK_SET); /* after "\x93NUMPY\1\0", length, "{'descr': '<f" */
    fputc('8', patch);
    fclose(patch);
    CHECK(tensor_read_npy(&t, tmp_path("f8.npy"), &err) != 0);
    CHECK(strstr(err.msg, "float32"));

    /* A valid header promising 4 floats followed by only 2. */
    float two[2] = {1, 2};
    struct tensor small = {.shape = {.rank = 1, .dim = {4}}, .data = (float[4]){1, 2, 3, 4}};
    CHECK(tensor_write_npy(&small, tmp_path("trunc.npy"), &err) == 0);
    FILE *f = fopen(tmp_path("trunc.npy"), "r+b");
    fseek(f, 0, SEEK_END);
    long full = ftell(f);
    fclose(f);
    CHECK(truncate(tmp_path("trunc.npy"), full - (long)sizeof two) == 0);
    CHECK(tensor_read_npy(&t, tmp_path("trunc.npy"), &err) != 0);
    CHECK(strstr(err.msg, "truncated"));
}

static void test_png_roundtrip_gray_and_rgb(void)
{
    uint8_t gray[6] = {0, 50, 100, 150, 200, 255};
    struct image g = {.width = 3, .height = 2, .channels = 1, .pixels = gray};
    struct error err;
    CHECK(image_write_png(&g, tmp_path("g.png"), &err) == 0);
    struct image back;
    CHECK(image_read_png(&back, tmp_path("g.png"), 1, &err) == 0);
    CHECK(back.width == 3 && back.height == 2 && back.channels == 1);
    CHECK(memcmp(back.pixels, gray, 6) == 0);
    image_free(&back);
    /* The same gray file read as RGB repeats each value in all three channels. */
    CHECK(image_read_png(&back, tmp_path("g.png"), 3, &err) == 0);
    CHECK(back.channels == 3 && back.pixels[3 * 4] == 200 && back.pixels[3 * 4 + 2] == 200);
    image_free(&back);

    CHECK(image_read_png(&back, tmp_path("nothing.png"), 3, &err) != 0);
    CHECK(strstr(err.msg, "nothing.png") != NULL);
    write_bytes(tmp_path("junk.png"), "\x89PNG but not really", 19);
    CHECK(image_read_png(&back, tmp_path("junk.png"), 3, &err) != 0);
    CHECK(strstr(err.msg, "junk.png") != NULL);
}

/* The caps hold before anything is decoded; a FIFO is refused without blocking. */
static void test_png_caps_and_files_that_are_no_image(void)
{
    uint8_t px[40 * 30] = {0};
    struct image img = {.width = 40, .height = 30, .channels = 1, .pixels = px}, back;
    struct error err;
    CHECK(image_write_png(&img, tmp_path("c.png"), &err) == 0);
    struct png_caps caps = {(int64_t)1 << 20, 1000, "what fits; scale it down"};
    CHECK(image_read_png_capped(&back, tmp_path("c.png"), 1, caps, &err) != 0);
    CHECK_MSG(strstr(err.msg, "c.png' is 40x30 pixels; at most 1000 pixels are read (what fits"),
              "%s", err.msg);
    CHECK(back.pixels == NULL);
    caps.pixels = 1200;
    CHECK_MSG(image_read_png_capped(&back, tmp_path("c.png"), 1, caps, &err) == 0, "%s", err.msg);
    image_free(&back);
    caps.file_bytes = 50;
    CHECK(image_read_png_capped(&back, tmp_path("c.png"), 1, caps, &err) != 0);
    CHECK_MSG(strstr(err.msg, "c.png: is ") && strstr(err.msg, "over the 50 bytes"), "%s", err.msg);
    alarm(20); /* a blocked open ends the test instead of hanging it */
    CHECK(mkfifo(tmp_path("fifo.png"), 0600) == 0);
    CHECK(image_read_png(&back, tmp_path("fifo.png"), 1, &err) != 0);
    CHECK_MSG(strstr(err.msg, "fifo.png: is a FIFO"), "%s", err.msg);
    alarm(0);
    unlink(tmp_path("fifo.png"));
    unlink(tmp_path("c.png"));
}

static void test_fit_keeps_aspect_and_replicates_edges(void)
{
    /* A 4x2 (w x h) image: left half black, right half white. */
    uint8_t px[8] = {0, 0, 255, 255, 0, 0, 255, 255};
    struct image img = {.width = 4, .height = 2, .channels = 1, .pixels = px};
    struct shape s = shape_make4(1, 1, 4, 4);
    float out[16];
    struct fit_box box = image_to_tensor(&img, &s, out, (struct value_range){-1, 1});
    CHECK(box.x == 0 && box.y == 1 && box.width == 4 && box.height == 2);
    /* Same size horizontally: exact values, black -> -1, white -> 1. */
    CHECK_NEAR(out[1 * 4 + 0], -1.0, 1e-6);
    CHECK_NEAR(out[1 * 4 + 3], 1.0, 1e-6);
    /* The margin rows repeat the nearest content row. */
    for (int x = 0; x < 4; x++) {
        CHECK_NEAR(out[0 * 4 + x], out[1 * 4 + x], 1e-6);
        CHECK_NEAR(out[3 * 4 + x], out[2 * 4 + x], 1e-6);
    }
}

static void test_fit_converts_rgb_to_gray_and_ranges(void)
{
    uint8_t px[3] = {255, 0, 0}; /* one red pixel */
    struct image img = {.width = 1, .height = 1, .channels = 3, .pixels = px};
    struct shape s = shape_make4(1, 1, 2, 2);
    float out[4];
    image_to_tensor(&img, &s, out, (struct value_range){0, 1});
    for (int i = 0; i < 4; i++)
        CHECK_NEAR(out[i], 0.299, 1e-5);
}

static void test_fit_shrinks_by_averaging(void)
{
    /* A 4x4 checkerboard shrunk to 2x2 averages to mid gray; sampling would not. */
    uint8_t px[16];
    for (int i = 0; i < 16; i++)
        px[i] = ((i / 4 + i % 4) % 2) ? 255 : 0;
    struct image img = {.width = 4, .height = 4, .channels = 1, .pixels = px};
    struct shape s = shape_make4(1, 1, 2, 2);
    float out[4];
    image_to_tensor(&img, &s, out, (struct value_range){0, 1});
    for (int i = 0; i < 4; i++)
        CHECK_NEAR(out[i], 0.5, 0.1);
}

static void test_tensor_to_image_crops_clamps_and_survives_nan(void)
{
    struct shape s = shape_make4(1, 1, 2, 3);
    float data[6] = {-2.0f, -1.0f, 0.0f, 1.0f, 5.0f, NAN};
    struct image img;
    struct error err;
    struct fit_box box = {1, 0, 2, 2};
    CHECK(image_from_tensor(&img, &s, data, box, (struct value_range){-1, 1}, &err) == 0);
    CHECK(img.width == 2 && img.height == 2);
    CHECK(img.pixels[0] == 0);   /* -1 */
    CHECK(img.pixels[1] == 128); /* 0 -> 127.5 rounds to even 128 */
    CHECK(img.pixels[2] == 255); /* 5 clamps */
    CHECK(img.pixels[3] == 0);   /* NaN becomes black */
    image_free(&img);

    struct shape four = shape_make4(1, 4, 2, 3);
    CHECK(image_from_tensor(&img, &four, data, box, (struct value_range){-1, 1}, &err) != 0);
    CHECK(strstr(err.msg, ".npy") != NULL);
}

static void test_value_range_parse(void)
{
    struct value_range r;
    CHECK(value_range_parse("[-1,1]", &r) == 0 && r.lo == -1 && r.hi == 1);
    CHECK(value_range_parse(" [0, 1] ", &r) == 0 && r.lo == 0 && r.hi == 1);
    CHECK(value_range_parse("[1,0]", &r) != 0);
    CHECK(value_range_parse("zero to one", &r) != 0);
}

int main(void)
{
    if (!mkdtemp(tmp_dir))
        return 1;
    RUN(test_npy_roundtrip);
    RUN(test_npy_rejects_bad_files);
    RUN(test_png_roundtrip_gray_and_rgb);
    RUN(test_png_caps_and_files_that_are_no_image);
    RUN(test_fit_keeps_aspect_and_replicates_edges);
    RUN(test_fit_converts_rgb_to_gray_and_ranges);
    RUN(test_fit_shrinks_by_averaging);
    RUN(test_tensor_to_image_crops_clamps_and_survives_nan);
    RUN(test_value_range_parse);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmp_dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", tmp_dir);
    return check_report();
}

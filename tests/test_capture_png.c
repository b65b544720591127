/* Capture to a PNG sequence (runtime/output/capture.c): names, contents, bad paths, full disk. */
#include "capture_internal.h"
#include "check.h"
#include "image.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char tmp_dir[] = "/tmp/mnemo-test-capture-png-XXXXXX";

static const char *tmp_path(const char *name)
{
    static char path[512];
    snprintf(path, sizeof path, "%s/%s", tmp_dir, name);
    return path;
}

/* A frame that differs per frame number and per pixel, so order and layout both show. */
static void make_frame(uint8_t *rgb, int32_t w, int32_t h, int32_t n)
{
    for (int32_t y = 0; y < h; y++)
        for (int32_t x = 0; x < w; x++) {
            uint8_t *p = rgb + ((size_t)y * w + x) * 3;
            p[0] = (uint8_t)(x * 3 + n);
            p[1] = (uint8_t)(y * 5 + n * 7);
            p[2] = (uint8_t)(n * 40);
        }
}

/* Reads dir/frame_<n>.png and compares it with make_frame's frame n. */
static int frame_matches(const char *dir, int32_t n, int32_t w, int32_t h)
{
    char path[600];
    snprintf(path, sizeof path, "%s/frame_%06d.png", dir, n);
    struct image img;
    struct error err;
    if (image_read_png(&img, path, 3, &err)) {
        fprintf(stderr, "  %s\n", err.msg);
        return 0;
    }
    uint8_t *want = malloc((size_t)w * h * 3);
    make_frame(want, w, h, n);
    int ok = img.width == w && img.height == h && memcmp(img.pixels, want, (size_t)w * h * 3) == 0;
    free(want);
    image_free(&img);
    return ok;
}

/* Files in dir whose name starts with a dot other than . and .. (temporaries). */
static int hidden_files(const char *dir)
{
    DIR *d = opendir(dir);
    int n = 0;
    for (struct dirent *e; d && (e = readdir(d));)
        n += e->d_name[0] == '.' && strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
    if (d)
        closedir(d);
    return n;
}

static void test_png_sequence(void)
{
    const int32_t w = 40, h = 30;
    char dir[512];
    snprintf(dir, sizeof dir, "%s", tmp_path("seq/nested"));
    struct error err;
    struct capture *c = capture_open(dir, w, h, 25, NULL, -1, &err);
    CHECK_MSG(c, "%s", err.msg);
    if (!c)
        return;
    uint8_t rgb[40 * 30 * 3];
    for (int32_t n = 1; n <= 5; n++) {
        make_frame(rgb, w, h, n);
        CHECK(capture_write(c, rgb, &err) == 0);
    }
    CHECK(capture_frames(c) == 5);
    CHECK(capture_encoder_pid(c) == 0);
    CHECK(capture_close(c, &err) == 5);
    for (int32_t n = 1; n <= 5; n++)
        CHECK_MSG(frame_matches(dir, n, w, h), "frame %d", n);
    char sixth[600];
    snprintf(sixth, sizeof sixth, "%s/frame_000006.png", dir);
    CHECK(access(sixth, F_OK) != 0);
    CHECK(hidden_files(dir) == 0);
}

/* libpng's memory comes from the arena made at open: a frame allocates nothing. */
static void test_png_no_allocation_per_frame(void)
{
    const int32_t w = 1920, h = 1080;
    struct error err;
    struct capture *c = capture_open(tmp_path("big/"), w, h, 25, NULL, -1, &err);
    CHECK_MSG(c, "%s", err.msg);
    if (!c)
        return;
    uint8_t *rgb = malloc((size_t)w * h * 3);
    for (int32_t n = 1; n <= 2; n++) {
        make_frame(rgb, w, h, n);
        CHECK(capture_write(c, rgb, &err) == 0);
    }
    CHECK_MSG(capture_png_heap_allocs(c) == 0, "%lld", (long long)capture_png_heap_allocs(c));
    CHECK(capture_close(c, &err) == 2);
    CHECK(frame_matches(tmp_path("big"), 2, w, h));
    free(rgb);
}

static void test_png_unwritable_path(void)
{
    FILE *f = fopen(tmp_path("plainfile"), "w");
    fclose(f);
    struct error err;
    /* Root ignores permission bits, so use a path that cannot be a directory at all. */
    char under_file[512];
    snprintf(under_file, sizeof under_file, "%s", tmp_path("plainfile/frames"));
    CHECK(capture_open(under_file, 8, 8, 25, NULL, -1, &err) == NULL);
    CHECK_MSG(strstr(err.msg, under_file) && strstr(err.msg, "Not a directory"), "%s", err.msg);

    CHECK(capture_open(tmp_path("plainfile"), 8, 8, 25, NULL, -1, &err) == NULL);
    CHECK_MSG(strstr(err.msg, "plainfile") && strstr(err.msg, "not a directory"), "%s", err.msg);

    CHECK(capture_open("/proc/mnemo-capture-test/frames", 8, 8, 25, NULL, -1, &err) == NULL);
    CHECK_MSG(strstr(err.msg, "/proc/mnemo-capture-test/frames"), "%s", err.msg);
}

static void test_bad_arguments(void)
{
    struct error err;
    CHECK(capture_open(tmp_path("clip.avi"), 8, 8, 25, NULL, -1, &err) == NULL);
    CHECK_MSG(strstr(err.msg, "clip.avi") && strstr(err.msg, ".mp4"), "%s", err.msg);
    CHECK(access(tmp_path("clip.avi"), F_OK) != 0);
    CHECK(capture_open(tmp_path("zero"), 0, 8, 25, NULL, -1, &err) == NULL);
    CHECK_MSG(strstr(err.msg, "0x8"), "%s", err.msg);
    CHECK(capture_close(NULL, &err) == 0);
}

/* MNEMO_FAULT_DISK_FULL_AFTER=3: frame 4 meets ENOSPC halfway through its file. */
static void test_png_disk_full(void)
{
    const int32_t w = 64, h = 48;
    char dir[512];
    snprintf(dir, sizeof dir, "%s", tmp_path("full"));
    setenv("MNEMO_FAULT_DISK_FULL_AFTER", "3", 1);
    struct error err;
    struct capture *c = capture_open(dir, w, h, 25, NULL, -1, &err);
    unsetenv("MNEMO_FAULT_DISK_FULL_AFTER");
    CHECK_MSG(c, "%s", err.msg);
    if (!c)
        return;
    uint8_t rgb[64 * 48 * 3];
    for (int32_t n = 1; n <= 3; n++) {
        make_frame(rgb, w, h, n);
        CHECK(capture_write(c, rgb, &err) == 0);
    }
    make_frame(rgb, w, h, 4);
    CHECK(capture_write(c, rgb, &err) != 0);
    CHECK_MSG(strstr(err.msg, "frame_000004.png") && strstr(err.msg, "No space left") &&
                  strstr(err.msg, "frames 1-3"),
              "%s", err.msg);
    CHECK(capture_write(c, rgb, &err) != 0); /* stays failed, no frame 5 */
    CHECK(capture_frames(c) == 3);
    CHECK(capture_close(c, &err) == -1);
    CHECK_MSG(strstr(err.msg, "No space left"), "%s", err.msg);
    CHECK(access(tmp_path("full/frame_000004.png"), F_OK) != 0);
    CHECK(access(tmp_path("full/frame_000005.png"), F_OK) != 0);
    CHECK(hidden_files(dir) == 0);
    for (int32_t n = 1; n <= 3; n++)
        CHECK_MSG(frame_matches(dir, n, w, h), "frame %d", n);
}

int main(void)
{
    if (!mkdtemp(tmp_dir))
        return 1;
    RUN(test_png_sequence);
    RUN(test_png_no_allocation_per_frame);
    RUN(test_png_unwritable_path);
    RUN(test_bad_arguments);
    RUN(test_png_disk_full);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmp_dir);
    if (system(cmd) != 0)
        return 1;
    return check_report();
}

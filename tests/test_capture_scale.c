/* The recording upscaler, the side-by-side layout and the progress bar
 * (runtime/output/capture_scale.c, runtime/output/capture_progress.c). */
#define _XOPEN_SOURCE 700 /* posix_openpt, for a terminal to draw the progress bar on */
#include "capture.h"
#include "check.h"

#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static struct scaler_config config(int32_t sw, int32_t sh, int32_t ch, int32_t dw, int32_t dh,
                                   enum scale_fit fit, enum scale_filter filter)
{
    return (struct scaler_config){.src_width = sw,
                                  .src_height = sh,
                                  .src_channels = ch,
                                  .range = {-1.0f, 1.0f},
                                  .dst_width = dw,
                                  .dst_height = dh,
                                  .fit = fit,
                                  .filter = filter};
}

/* Scales src with cfg into a new packed RGB24 buffer (caller frees). */
static uint8_t *scale(const struct scaler_config *cfg, const float *src)
{
    struct error err;
    struct scaler *s = scaler_open(cfg, &err);
    CHECK_MSG(s, "%s", err.msg);
    if (!s)
        return NULL;
    uint8_t *dst = malloc((size_t)cfg->dst_width * cfg->dst_height * 3);
    memset(dst, 0x55, (size_t)cfg->dst_width * cfg->dst_height * 3); /* bars must be drawn */
    scaler_run(s, src, dst, (size_t)cfg->dst_width * 3);
    scaler_close(s);
    return dst;
}

static float *constant_image(int32_t w, int32_t h, const float *values, int32_t channels)
{
    float *img = malloc((size_t)w * h * channels * sizeof *img);
    for (int32_t c = 0; c < channels; c++)
        for (int32_t i = 0; i < w * h; i++)
            img[(size_t)c * w * h + i] = values[c];
    return img;
}

/* Counts pixels of the box whose RGB differs from want, and pixels outside it that are
 * not black. */
static long count_wrong(const uint8_t *dst, int32_t w, int32_t h, struct fit_box box,
                        const uint8_t want[3])
{
    long wrong = 0;
    for (int32_t y = 0; y < h; y++)
        for (int32_t x = 0; x < w; x++) {
            const uint8_t *p = dst + ((size_t)y * w + x) * 3;
            int inside =
                x >= box.x && x < box.x + box.width && y >= box.y && y < box.y + box.height;
            const uint8_t black[3] = {0, 0, 0};
            wrong += memcmp(p, inside ? want : black, 3) != 0;
        }
    return wrong;
}

static void test_constant_stays_constant(void)
{
    const float values[3] = {0.3f, -0.5f, 0.6f};
    /* (v + 1) / 2 * 255, rounded */
    const uint8_t want[3] = {166, 64, 204};
    float *src = constant_image(256, 256, values, 3);
    enum scale_filter filters[2] = {SCALE_FILTER_CATMULL_ROM, SCALE_FILTER_LANCZOS3};
    for (int f = 0; f < 2; f++) {
        struct scaler_config up = config(256, 256, 3, 1920, 1080, SCALE_FIT_LETTERBOX, filters[f]);
        uint8_t *dst = scale(&up, src);
        struct fit_box box = {420, 0, 1080, 1080};
        CHECK_MSG(dst && count_wrong(dst, 1920, 1080, box, want) == 0, "filter %d", f);
        free(dst);
        struct scaler_config down = config(256, 256, 3, 100, 60, SCALE_FIT_CROP, filters[f]);
        dst = scale(&down, src);
        CHECK_MSG(dst && count_wrong(dst, 100, 60, (struct fit_box){0, 0, 100, 60}, want) == 0,
                  "filter %d shrinking", f);
        free(dst);
    }
    free(src);
}

/* A gray ramp from black (left) to white (right), enlarged 4x: every row rises or stays
 * level from left to right, and spans nearly the full range. */
static void test_ramp_stays_monotonic(void)
{
    float *src = malloc(256 * 256 * sizeof *src);
    for (int32_t y = 0; y < 256; y++)
        for (int32_t x = 0; x < 256; x++)
            src[y * 256 + x] = -1.0f + 2.0f * (float)x / 255.0f;
    enum scale_filter filters[2] = {SCALE_FILTER_CATMULL_ROM, SCALE_FILTER_LANCZOS3};
    for (int f = 0; f < 2; f++) {
        struct scaler_config cfg = config(256, 256, 1, 1024, 1024, SCALE_FIT_LETTERBOX, filters[f]);
        uint8_t *dst = scale(&cfg, src);
        if (!dst)
            continue;
        long drops = 0;
        for (int32_t y = 0; y < 1024; y++)
            for (int32_t x = 1; x < 1024; x++)
                drops += dst[(y * 1024 + x) * 3] < dst[(y * 1024 + x - 1) * 3];
        CHECK_MSG(drops == 0, "filter %d: %ld decreasing steps", f, drops);
        CHECK(dst[0] <= 1 && dst[1023 * 3] >= 254);
        CHECK(dst[512 * 3] > 100 && dst[512 * 3] < 155);
        /* gray in, R = G = B out */
        CHECK(dst[300 * 3] == dst[300 * 3 + 1] && dst[300 * 3] == dst[300 * 3 + 2]);
        free(dst);
    }
    free(src);
}

/* A steep ramp (4 levels per source pixel) enlarged 16x is interpolated, not a
 * staircase of repeated pixels: neighbours differ by at most one level. */
static void test_enlarging_interpolates(void)
{
    float *src = malloc(64 * 64 * sizeof *src);
    for (int32_t i = 0; i < 64 * 64; i++)
        src[i] = -1.0f + 2.0f * (float)(i % 64) / 63.0f;
    struct scaler_config cfg =
        config(64, 64, 1, 1024, 1024, SCALE_FIT_LETTERBOX, SCALE_FILTER_CATMULL_ROM);
    uint8_t *dst = scale(&cfg, src);
    int max_step = 0;
    for (int32_t x = 1; dst && x < 1024; x++) {
        int step = dst[(500 * 1024 + x) * 3] - dst[(500 * 1024 + x - 1) * 3];
        max_step = step > max_step ? step : max_step;
    }
    CHECK_MSG(max_step <= 1, "largest step between neighbours: %d", max_step);
    free(dst);
    free(src);
}

/* 256x256 into 16:9 keeps the square: letterbox bars left and right; crop fills the
 * frame with the middle of the picture. */
static void test_aspect_letterbox_and_crop(void)
{
    float *src = malloc(256 * 256 * sizeof *src);
    for (int32_t i = 0; i < 256 * 256; i++)
        src[i] = i < 128 * 256 ? -1.0f : 1.0f; /* top half black, bottom half white */
    struct scaler_config cfg =
        config(256, 256, 1, 640, 360, SCALE_FIT_LETTERBOX, SCALE_FILTER_CATMULL_ROM);
    struct error err;
    struct scaler *s = scaler_open(&cfg, &err);
    struct fit_box box = scaler_content_box(s);
    CHECK(box.x == 140 && box.y == 0 && box.width == 360 && box.height == 360);
    scaler_close(s);
    uint8_t *dst = scale(&cfg, src);
    const uint8_t *bottom_row = dst + (size_t)359 * 640 * 3;
    CHECK(bottom_row[139 * 3] == 0 && bottom_row[140 * 3] == 255 && bottom_row[499 * 3] == 255 &&
          bottom_row[500 * 3] == 0);
    free(dst);

    cfg.fit = SCALE_FIT_CROP;
    s = scaler_open(&cfg, &err);
    box = scaler_content_box(s);
    CHECK(box.x == 0 && box.y == 0 && box.width == 640 && box.height == 360);
    scaler_close(s);
    dst = scale(&cfg, src);
    /* content is 640x640, rows 140..499 visible: the top is black, the bottom white */
    CHECK(dst[0] == 0 && dst[(size_t)359 * 640 * 3 + 639 * 3] == 255);
    CHECK(dst[(size_t)170 * 640 * 3] == 0 && dst[(size_t)190 * 640 * 3] == 255);
    free(dst);
    free(src);
}

static void test_draws_into_a_stride(void)
{
    const float gray = 0.0f; /* -> 128 */
    float *src = constant_image(8, 8, &gray, 1);
    struct scaler_config cfg =
        config(8, 8, 1, 16, 16, SCALE_FIT_LETTERBOX, SCALE_FILTER_CATMULL_ROM);
    struct error err;
    struct scaler *s = scaler_open(&cfg, &err);
    uint8_t frame[32 * 20 * 3];
    memset(frame, 7, sizeof frame);
    scaler_run(s, src, frame + (2 * 32 + 4) * 3, 32 * 3); /* at (4, 2) of a 32x20 frame */
    scaler_close(s);
    long inside = 0, outside = 0;
    for (int32_t y = 0; y < 20; y++)
        for (int32_t x = 0; x < 32; x++) {
            int in = x >= 4 && x < 20 && y >= 2 && y < 18;
            uint8_t v = frame[(y * 32 + x) * 3];
            inside += in && v == 128;
            outside += !in && v == 7;
        }
    CHECK(inside == 16 * 16 && outside == 32 * 20 - 16 * 16);
    free(src);
}

static void test_rejects_bad_config(void)
{
    struct error err;
    struct scaler_config cfg = config(8, 8, 2, 16, 16, SCALE_FIT_LETTERBOX, 0);
    CHECK(scaler_open(&cfg, &err) == NULL);
    CHECK_MSG(strstr(err.msg, "2 channels"), "%s", err.msg);
    cfg = config(8, 8, 3, 0, 16, SCALE_FIT_LETTERBOX, 0);
    CHECK(scaler_open(&cfg, &err) == NULL);
    cfg = config(8, 8, 3, 16, 16, SCALE_FIT_LETTERBOX, 0);
    cfg.range = (struct value_range){1.0f, 1.0f};
    CHECK(scaler_open(&cfg, &err) == NULL);
}

/* Portrait (red) left, gray sketch right, each fitted into its half. */
static void test_side_by_side(void)
{
    const float red[3] = {1.0f, -1.0f, -1.0f}, gray = 0.0f;
    float *portrait = constant_image(256, 256, red, 3);
    float *sketch = constant_image(256, 256, &gray, 1);
    struct scaler_config p = config(256, 256, 3, 0, 0, SCALE_FIT_LETTERBOX, 0);
    struct scaler_config k = config(256, 256, 1, 0, 0, SCALE_FIT_LETTERBOX, 0);
    struct error err;
    struct side_by_side *sbs = side_by_side_open(&p, &k, 640, 256, &err);
    CHECK_MSG(sbs, "%s", err.msg);
    if (!sbs)
        return;
    uint8_t *frame = malloc(640 * 256 * 3);
    memset(frame, 0x55, 640 * 256 * 3);
    side_by_side_run(sbs, portrait, sketch, frame);
    side_by_side_close(sbs);
    /* halves 320 wide: a 256-wide square each, centered with 32 px bars */
    long wrong = 0;
    for (int32_t y = 0; y < 256; y++)
        for (int32_t x = 0; x < 640; x++) {
            const uint8_t *px = frame + ((size_t)y * 640 + x) * 3;
            uint8_t want[3] = {0, 0, 0};
            if (x >= 32 && x < 288)
                want[0] = 255;
            else if (x >= 352 && x < 608)
                want[0] = want[1] = want[2] = 128;
            wrong += memcmp(px, want, 3) != 0;
        }
    CHECK_MSG(wrong == 0, "%ld pixels wrong", wrong);
    free(frame);
    free(portrait);
    free(sketch);
}

static void test_progress_line(void)
{
    char line[160];
    progress_format(line, sizeof line, 25, 100, 2.5);
    CHECK_MSG(strstr(line, "25/100 frames") && strstr(line, "10.0 fps") && strstr(line, "ETA 0:08"),
              "%s", line);
    CHECK_MSG(strncmp(line, "[#######-", 9) == 0, "%s", line);
    progress_format(line, sizeof line, 0, 100, 0.0);
    CHECK_MSG(strstr(line, "ETA --:--"), "%s", line);
    progress_format(line, sizeof line, 1, 7201, 1.0);
    CHECK_MSG(strstr(line, "ETA 2:00:00"), "%s", line);
}

/* Not a terminal: nothing at all is written. */
static void test_progress_silent_off_terminal(void)
{
    FILE *f = tmpfile();
    struct progress p;
    progress_init(&p, f, 3);
    for (int i = 1; i <= 3; i++)
        progress_update(&p, i);
    progress_finish(&p);
    CHECK(!p.enabled && ftell(f) == 0);
    fclose(f);
}

/* On a terminal the line is redrawn in place and ends with a newline. */
static void test_progress_on_terminal(void)
{
    int master = posix_openpt(O_RDWR | O_NOCTTY);
    if (master < 0 || grantpt(master) || unlockpt(master))
        SKIP("no pseudo-terminal available");
    FILE *tty = fopen(ptsname(master), "w");
    if (!tty) {
        close(master);
        SKIP("cannot open the pseudo-terminal");
    }
    struct progress p;
    progress_init(&p, tty, 3);
    for (int i = 1; i <= 3; i++)
        progress_update(&p, i);
    progress_finish(&p);
    fclose(tty);
    /* A pty hands the writes over in pieces: read until nothing more comes. */
    char buf[1024] = {0};
    ssize_t n = 0, got;
    struct pollfd pfd = {.fd = master, .events = POLLIN};
    while (n < (ssize_t)sizeof buf - 1 && poll(&pfd, 1, 200) > 0 &&
           (got = read(master, buf + n, sizeof buf - 1 - (size_t)n)) > 0)
        n += got;
    close(master);
    CHECK(p.enabled);
    CHECK_MSG(n > 0 && buf[0] == '\r' && strstr(buf, "3/3 frames") && strchr(buf, '\n'), "%s", buf);
}

int main(void)
{
    RUN(test_constant_stays_constant);
    RUN(test_ramp_stays_monotonic);
    RUN(test_enlarging_interpolates);
    RUN(test_aspect_letterbox_and_crop);
    RUN(test_draws_into_a_stride);
    RUN(test_rejects_bad_config);
    RUN(test_side_by_side);
    RUN(test_progress_line);
    RUN(test_progress_silent_off_terminal);
    RUN(test_progress_on_terminal);
    return check_report();
}

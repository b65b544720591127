/* The recording of the screen without a screen (runtime/output/screen_record.c): the queue
 * and the encoder thread, fed as the GL readback feeds them (record_push with GL's bottom-up
 * rows). Every frame handed over is in the file, repeats included, the right way up; a
 * full queue drops frames (counted) without waiting and the next frame makes their time up;
 * the presenter's side allocates nothing; an encoder that takes nothing is given up on
 * within seconds at close; segments get their start time in their names; the recording's
 * size. Tests that need the real ffmpeg skip when it is absent. */
#include "alloc_count.h"
#include "capture.h"
#include "check.h"
#include "clock.h"
#include "screen_record_internal.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char tmp_dir[] = "/tmp/mnemo-test-screen-record-XXXXXX";
static int have_ffmpeg;

static const char *tmp_path(const char *name)
{
    static char path[512];
    snprintf(path, sizeof path, "%s/%s", tmp_dir, name);
    return path;
}

static void params_for(struct params *p, const char *out, int32_t segment_s)
{
    params_defaults(p);
    snprintf(p->capture.out, sizeof p->capture.out, "%s", out);
    p->capture.segment_s = segment_s;
    p->capture.fps = 25;
    p->capture.quality = 0;
}

/* GL rows (BGRA, bottom first) of a frame whose top half is white and bottom half black. */
static void gl_frame(uint8_t *rows, int32_t w, int32_t h)
{
    for (int32_t y = 0; y < h; y++)
        memset(rows + (size_t)y * w * 4, y < h / 2 ? 0 : 255, (size_t)w * 4);
}

/* Until the encoder has taken every queued slot (2 s at most). */
static void drain(struct screen_record *r)
{
    for (int i = 0; i < 200 && atomic_load(&r->tail) != atomic_load(&r->head); i++)
        clock_sleep_until(clock_now() + 0.01);
}

/* "frames,top,bottom": frames that decode, and the luma of the first frame's top-left and
 * bottom-left pixels. */
static void probe(const char *path, char *out, size_t size)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd,
             "n=$(ffprobe -v error -count_frames -select_streams v:0 -show_entries "
             "stream=nb_read_frames -of csv=p=0 '%s'); "
             "px=$(ffmpeg -v error -i '%s' -frames:v 1 -vf format=gray -f rawvideo - | "
             "od -An -tu1 -v | tr -s ' ' '\\n' | sed -n '2p;%dp' | tr '\\n' ','); echo $n,$px",
             path, path, 64 * 47 + 2);
    out[0] = '\0';
    FILE *p = popen(cmd, "r");
    if (p && !fgets(out, (int)size, p))
        out[0] = '\0';
    if (p)
        pclose(p);
    out[strcspn(out, "\r\n")] = '\0';
}

static void test_size(void)
{
    int32_t w, h;
    screen_record_size(1920, 1080, 0, &w, &h);
    CHECK(w == 1920 && h == 1080);
    screen_record_size(1920, 1080, 720, &w, &h);
    CHECK(w == 1280 && h == 720);
    screen_record_size(1366, 767, 0, &w, &h); /* odd: one row less */
    CHECK(w == 1366 && h == 766);
    screen_record_size(1080, 1920, 4000, &w, &h); /* no upscaling */
    CHECK(w == 1080 && h == 1920);
    screen_record_size(321, 181, 91, &w, &h);
    CHECK(w == 160 && h == 90);
}

static void test_every_frame_upright(void)
{
    if (!have_ffmpeg)
        SKIP("ffmpeg/ffprobe not on PATH (apt install ffmpeg)");
    struct params p;
    params_for(&p, tmp_path("all.mkv"), 0);
    struct error err;
    struct screen_record *r = screen_record_open(&p, 64, 48, &err);
    CHECK_MSG(r, "%s", err.msg);
    if (!r)
        return;
    static uint8_t rows[64 * 48 * 4];
    gl_frame(rows, 64, 48);
    int32_t repeats[] = {1, 3, 1, 2, 1};
    long before = thread_allocations;
    for (size_t i = 0; i < sizeof repeats / sizeof repeats[0]; i++) {
        record_push(r, rows, repeats[i]);
        drain(r);
    }
    CHECK_MSG(thread_allocations == before, "the presenter's side allocated %ld times",
              thread_allocations - before);
    struct screen_record_counts c;
    screen_record_close(r, &c);
    CHECK(c.frames == 8 && c.dropped == 0 && !c.failed);
    char probed[128];
    probe(tmp_path("all.mkv"), probed, sizeof probed);
    /* the first row of the file is the GL frame's last row (white), its last the first */
    int n = 0, top = 0, bottom = 0;
    CHECK_MSG(sscanf(probed, "%d,%d,%d", &n, &top, &bottom) == 3 && n == 8 && top > 200 &&
                  bottom < 40,
              "frames %d, top %d, bottom %d: '%s'", n, top, bottom, probed);
}

/* A fake ffmpeg that reads nothing and ignores SIGTERM, first on PATH. */
static void fake_stuck_ffmpeg(char *saved_path, size_t size)
{
    char bin[512], script[600];
    snprintf(bin, sizeof bin, "%s", tmp_path("bin"));
    mkdir(bin, 0755);
    snprintf(script, sizeof script, "%s/ffmpeg", bin);
    FILE *f = fopen(script, "w");
    if (f) {
        fputs("#!/bin/sh\ntrap '' TERM INT\nexec sleep 600\n", f);
        fclose(f);
    }
    chmod(script, 0755);
    snprintf(saved_path, size, "%s", getenv("PATH") ? getenv("PATH") : "/usr/bin:/bin");
    char path[8192];
    snprintf(path, sizeof path, "%s:%s", bin, saved_path);
    setenv("PATH", path, 1);
}

static void test_full_queue_drops(void)
{
    char saved[4096];
    fake_stuck_ffmpeg(saved, sizeof saved);
    struct params p;
    params_for(&p, tmp_path("stuck.mkv"), 0);
    struct error err;
    /* frames larger than a pipe holds: the first write waits on the fake for good */
    struct screen_record *r = screen_record_open(&p, 320, 240, &err);
    setenv("PATH", saved, 1);
    CHECK_MSG(r, "%s", err.msg);
    if (!r)
        return;
    static uint8_t rows[320 * 240 * 4];
    double start = clock_now();
    /* the thread waits in the first for good (its slot stays taken), the queue fills */
    for (int i = 0; i < RECORD_QUEUE + 3; i++)
        record_push(r, rows, i < RECORD_QUEUE ? 1 : 2);
    CHECK_MSG(clock_now() - start < 1.0, "pushing waited %.2f s", clock_now() - start);
    CHECK(atomic_load(&r->head) == RECORD_QUEUE); /* no room: nothing more queued */
    CHECK(atomic_load(&r->dropped) == 6 && r->carry == 6);
    double close_start = clock_now();
    struct screen_record_counts c;
    screen_record_close(r, &c);
    double took = clock_now() - close_start;
    CHECK_MSG(took < 6.0, "closing on a stuck ffmpeg took %.2f s", took);
    CHECK(c.dropped == 6 && c.frames == 0);
}

/* The frame after drops stands for their ticks too, up to a second of them. */
static void test_carry(void)
{
    if (!have_ffmpeg)
        SKIP("ffmpeg/ffprobe not on PATH (apt install ffmpeg)");
    struct params p;
    params_for(&p, tmp_path("carry.mkv"), 0);
    struct error err;
    struct screen_record *r = screen_record_open(&p, 64, 48, &err);
    CHECK_MSG(r, "%s", err.msg);
    if (!r)
        return;
    static uint8_t rows[64 * 48 * 4];
    record_drop(r, 2);
    record_push(r, rows, 1);
    drain(r);
    record_drop(r, 100);
    record_push(r, rows, 1);
    drain(r);
    struct screen_record_counts c;
    screen_record_close(r, &c);
    CHECK_MSG(c.frames == 3 + 25 && c.dropped == 102, "frames %llu dropped %llu",
              (unsigned long long)c.frames, (unsigned long long)c.dropped);
}

static int segments_found(const char *stem)
{
    DIR *d = opendir(tmp_dir);
    int n = 0;
    for (struct dirent *e; d && (e = readdir(d));) {
        int y, mo, dd, hh, mm, ss;
        char tail[16];
        n += strncmp(e->d_name, stem, strlen(stem)) == 0 &&
             sscanf(e->d_name + strlen(stem), "-%4d%2d%2d-%2d%2d%2d%15s", &y, &mo, &dd, &hh, &mm,
                    &ss, tail) == 7 &&
             strcmp(tail, ".mp4") == 0 && y >= 2020;
    }
    if (d)
        closedir(d);
    return n;
}

/* In real time (as the screen gives them), 2.4 s of frames in segments of 1 s. */
static void test_segments_named_by_time(void)
{
    if (!have_ffmpeg)
        SKIP("ffmpeg/ffprobe not on PATH (apt install ffmpeg)");
    struct params p;
    params_for(&p, tmp_path("seg.mp4"), 1);
    struct error err;
    struct screen_record *r = screen_record_open(&p, 64, 48, &err);
    CHECK_MSG(r, "%s", err.msg);
    if (!r)
        return;
    static uint8_t rows[64 * 48 * 4];
    double t = clock_now();
    for (int i = 0; i < 12; i++, t += 0.2) {
        record_push(r, rows, 5); /* 5 frames at 25 fps: 0.2 s */
        clock_sleep_until(t + 0.2);
    }
    struct screen_record_counts c;
    screen_record_close(r, &c);
    CHECK(c.frames == 60 && !c.failed);
    CHECK_MSG(access(tmp_path("seg.mp4"), F_OK) != 0, "the path itself is not written");
    int n = segments_found("seg");
    CHECK_MSG(n >= 2, "%d segments named seg-YYYYmmdd-HHMMSS.mp4", n);
}

static void test_unwritable(void)
{
    char made[600];
    snprintf(made, sizeof made, "%s", tmp_path("new/folder/show.mp4"));
    struct params q;
    params_for(&q, made, 3600);
    struct error e;
    struct screen_record *r = have_ffmpeg ? screen_record_open(&q, 64, 48, &e) : NULL;
    CHECK_MSG(!have_ffmpeg || r, "segments into a new folder: %s", e.msg);
    screen_record_close(r, NULL);
    CHECK(!have_ffmpeg || access(tmp_path("new/folder"), W_OK) == 0);
    struct params p;
    params_for(&p, "/proc/mnemo-no/such.mp4", 3600);
    struct error err;
    CHECK(screen_record_open(&p, 64, 48, &err) == NULL);
    CHECK_MSG(strstr(err.msg, "/proc/mnemo-no") && strstr(err.msg, "writable"), "%s", err.msg);
    params_for(&p, tmp_path("odd.avi"), 0);
    CHECK(screen_record_open(&p, 64, 48, &err) == NULL);
    CHECK_MSG(strstr(err.msg, ".avi"), "%s", err.msg);
}

int main(void)
{
    if (!mkdtemp(tmp_dir))
        return 1;
    have_ffmpeg =
        system("ffmpeg -version >/dev/null 2>&1 && ffprobe -version >/dev/null 2>&1") == 0;
    RUN(test_size);
    RUN(test_every_frame_upright);
    RUN(test_full_queue_drops);
    RUN(test_carry);
    RUN(test_segments_named_by_time);
    RUN(test_unwritable);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmp_dir);
    if (system(cmd) != 0)
        return 1;
    return check_report();
}

/* test_checkpoint.c — the loop's state on disk (checkpoint.h) and the backend fault seam
 * (backend.h) on the 64x64 fixtures:
 *   - a restored loop continues bit for bit (ref and cpu), mid-reseed included, live
 *     parameters included (and the config wins where it changed since), a shorter
 *     guard.history keeping the newest hashes;
 *   - a corrupt, truncated, other-version, other-model or other-size file is ignored with
 *     a line naming it and why, and the piece starts fresh; so is a forged one (a good
 *     checksum) whose values no loop leaves behind: a zeroed generator, a counter at the
 *     top of its type, a pixel outside [-1, 1], a live value outside its registry range;
 *   - one process at a time has a state folder: another's is refused (naming its pid), a
 *     look takes nothing, a holder killed outright lets it go;
 *   - a kill between write and rename leaves the old checkpoint, and its temp file (named
 *     for its process) goes when the next process takes the folder; an unwritable folder
 *     and a full disk are one log line each and the piece goes on;
 *   - the loop thread's offer allocates nothing; the piece's thread offers by itself;
 *   - a transient backend fault is retried and changes nothing; a sticky one loses the
 *     device at once, on every backend, with no retries.
 * Links with --wrap=malloc/calloc/realloc (tests/checkpoint.cmake) to count the offering
 * thread's allocations. */
#include "alloc_count.h" /* thread_allocations: the writer may allocate, the loop not */
#include "backend.h"
#include "check.h"
#include "step.h"
#include "checkpoint.h"
#include "checkpoint_internal.h"
#include "piece.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static struct error err;
static char dir[256];      /* this run's kiosk.state_dir */
static char log_path[300]; /* stderr while a test captures it */
static char log_text[16384];
#define PLANE (64 * 64)
#define N     12 /* iterations before the checkpoint */
#define M     8  /* and after it */

static void params_small(struct params *p, const char *painter)
{
    params_defaults(p);
    snprintf(p->loop.painter, sizeof p->loop.painter, "%s/%s", MNEMO_TEST_DATA, painter);
    snprintf(p->loop.sketcher, sizeof p->loop.sketcher, "%s/resnet_in_op13.onnx", MNEMO_TEST_DATA);
    p->loop.size = 64;
    p->loop.seed = 3;
    p->kiosk.checkpoint_s = 0;
    snprintf(p->kiosk.state_dir, sizeof p->kiosk.state_dir, "%s", dir);
}

static bool open_loop(struct loop *L, const struct params *p, const char *backend)
{
    if (loop_open(L, p, backend, &err)) {
        CHECK_MSG(0, "%s", err.msg);
        return false;
    }
    return true;
}

/* Runs n iterations; each one's portrait and sketch appended to frames (may be NULL). */
static bool run(struct loop *L, int n, float *frames)
{
    for (int i = 0; i < n; i++) {
        if (loop_step(L, &err)) {
            CHECK_MSG(0, "iteration %d: %s", i, err.msg);
            return false;
        }
        if (frames) {
            memcpy(frames + (size_t)i * 4 * PLANE, L->portrait.data, 3 * PLANE * sizeof(float));
            memcpy(frames + ((size_t)i * 4 + 3) * PLANE, L->sketch.data, PLANE * sizeof(float));
        }
    }
    return true;
}

/* stderr into a file between log_begin and log_end (which loads it into log_text). */
static int saved_stderr = -1;
static void log_begin(void)
{
    fflush(stderr);
    saved_stderr = dup(2);
    int fd = open(log_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(fd, 2);
    close(fd);
}
static const char *log_end(void)
{
    fflush(stderr);
    dup2(saved_stderr, 2);
    close(saved_stderr);
    FILE *f = fopen(log_path, "r");
    size_t n = f ? fread(log_text, 1, sizeof log_text - 1, f) : 0;
    log_text[n] = '\0';
    if (f)
        fclose(f);
    return log_text;
}
static int count_of(const char *text, const char *needle)
{
    int n = 0;
    for (const char *at = strstr(text, needle); at; at = strstr(at + 1, needle))
        n++;
    return n;
}

/* The temp file process `pid` writes before its rename. */
static void tmp_name(char *buf, size_t size, long pid)
{
    snprintf(buf, size, "%s/%s.%ld.tmp", dir, CHECKPOINT_FILE, pid);
}

static void state_clear(void)
{
    char path[400];
    snprintf(path, sizeof path, "%s/%s", dir, CHECKPOINT_FILE);
    unlink(path);
    tmp_name(path, sizeof path, (long)getpid());
    unlink(path);
}

/* A loop run N iterations (a reseed under way at the end), saved, then M more recorded
 * into after[]. p: the config it opened with (live changes by `change`, may be NULL). */
static bool saved_run(const struct params *p, const char *backend, const struct params *change,
                      float *after)
{
    struct loop L;
    if (!open_loop(&L, p, backend))
        return false;
    struct checkpoint *ck = checkpoint_open(&L, p);
    CHECK(ck != NULL);
    if (change)
        loop_set_params(&L, change);
    bool ok = run(&L, N - 2, NULL);
    guard_request_reseed(&L.guard); /* so the seed sketch and the blend are state too */
    ok = ok && run(&L, 2, NULL);
    CHECK_MSG(L.guard.reseed_step > 0, "no reseed under way at the checkpoint");
    CHECK(checkpoint_save_now(ck) == 0);
    ok = ok && run(&L, M, after);
    checkpoint_close(ck);
    loop_close(&L);
    return ok;
}

static void check_resume_identical(const char *backend)
{
    static float after[M * 4 * PLANE], resumed[M * 4 * PLANE], fresh[M * 4 * PLANE];
    state_clear();
    struct params p;
    params_small(&p, "unet_bn.onnx");
    if (!saved_run(&p, backend, NULL, after))
        return;
    struct loop L;
    if (!open_loop(&L, &p, backend))
        return;
    struct checkpoint *ck = checkpoint_open(&L, &p);
    struct params live = p;
    CHECK(checkpoint_restore(ck, &live));
    CHECK(L.iterations == N);
    CHECK(L.guard.stats.iterations == N);
    run(&L, M, resumed);
    CHECK_MSG(memcmp(after, resumed, sizeof after) == 0,
              "%s: the resumed loop's frames differ from the original's", backend);
    checkpoint_close(ck);
    loop_close(&L);
    /* Without the restore the same M iterations are other pictures (the test can fail). */
    if (!open_loop(&L, &p, backend))
        return;
    run(&L, M, fresh);
    CHECK(memcmp(after, fresh, sizeof after) != 0);
    loop_close(&L);
}

static void test_resume_identical_ref(void)
{
    check_resume_identical("ref");
}

static void test_resume_identical_cpu(void)
{
    if (!backend_find("cpu"))
        SKIP("no cpu backend in this build");
    check_resume_identical("cpu");
}

/* perturb.noise and loop.blend changed live survive; the config wins where it changed. */
static void test_live_params_survive(void)
{
    static float after[M * 4 * PLANE], resumed[M * 4 * PLANE];
    state_clear();
    struct params p, change;
    params_small(&p, "unet_bn.onnx");
    change = p;
    change.perturb.noise = 0.2f;
    change.loop.blend = 0.5f;
    if (!saved_run(&p, "ref", &change, after))
        return;
    struct loop L;
    if (!open_loop(&L, &p, "ref"))
        return;
    struct checkpoint *ck = checkpoint_open(&L, &p);
    struct params live = p;
    log_begin();
    bool restored = checkpoint_restore(ck, &live);
    const char *log = log_end();
    CHECK(restored);
    CHECK(live.perturb.noise == 0.2f && L.p.perturb.noise == 0.2f);
    CHECK(live.loop.blend == 0.5f && L.p.loop.blend == 0.5f);
    CHECK_MSG(strstr(log, "perturb.noise=0.2") != NULL, "log: %s", log);
    run(&L, M, resumed);
    CHECK(memcmp(after, resumed, sizeof after) == 0);
    checkpoint_close(ck);
    loop_close(&L);

    /* The config now says perturb.noise 0.1 (it said 0.05 when 0.2 was set live). */
    struct params edited = p;
    edited.perturb.noise = 0.1f;
    if (!open_loop(&L, &edited, "ref"))
        return;
    ck = checkpoint_open(&L, &edited);
    live = edited;
    log_begin();
    restored = checkpoint_restore(ck, &live);
    log = log_end();
    CHECK(restored);
    CHECK(live.perturb.noise == 0.1f && L.p.perturb.noise == 0.1f);
    CHECK(live.loop.blend == 0.5f);
    CHECK_MSG(strstr(log, "keeping the config's") != NULL, "log: %s", log);
    checkpoint_close(ck);
    loop_close(&L);
}

/* A config with a shorter guard.history keeps the newest hashes of the saved ring. */
static void test_shorter_history_keeps_newest(void)
{
    state_clear();
    struct params p;
    params_small(&p, "unet_bn.onnx");
    struct loop L;
    if (!open_loop(&L, &p, "ref"))
        return;
    struct checkpoint *ck = checkpoint_open(&L, &p);
    run(&L, 12, NULL);
    uint64_t newest[8]; /* oldest first */
    for (int i = 0; i < 8; i++)
        newest[i] = L.guard.ring[(L.guard.head - 8 + i + L.guard.capacity) % L.guard.capacity];
    log_begin();
    CHECK(checkpoint_save_now(ck) == 0);
    log_end();
    checkpoint_close(ck);
    loop_close(&L);
    p.guard.history = 8;
    if (!open_loop(&L, &p, "ref"))
        return;
    ck = checkpoint_open(&L, &p);
    struct params live = p;
    log_begin();
    CHECK(checkpoint_restore(ck, &live));
    log_end();
    CHECK(L.guard.capacity == 8 && L.guard.count == 8 && L.guard.head == 0);
    CHECK(memcmp(L.guard.ring, newest, sizeof newest) == 0);
    CHECK(run(&L, 3, NULL));
    checkpoint_close(ck);
    loop_close(&L);
}

/* ---- files that must be ignored ------------------------------------------------------ */

static long file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) ? -1 : (long)st.st_size;
}

static void byte_flip(const char *path, long at, unsigned char x)
{
    FILE *f = fopen(path, "r+b");
    fseek(f, at, SEEK_SET);
    int c = fgetc(f);
    fseek(f, at, SEEK_SET);
    fputc(c ^ x, f);
    fclose(f);
}

/* A good checkpoint of the default small piece. */
static bool good_checkpoint(char *path, size_t size)
{
    state_clear();
    struct params p;
    params_small(&p, "unet_bn.onnx");
    struct loop L;
    if (!open_loop(&L, &p, "ref"))
        return false;
    struct checkpoint *ck = checkpoint_open(&L, &p);
    run(&L, 3, NULL);
    log_begin();
    CHECK(checkpoint_save_now(ck) == 0);
    log_end();
    snprintf(path, size, "%s", checkpoint_path(ck));
    checkpoint_close(ck);
    loop_close(&L);
    return file_size(path) > 0;
}

/* Opens a loop as p says and expects the checkpoint ignored with `why` in its log line, and
 * the loop exactly as fresh. */
static void expect_ignored(const struct params *p, const char *why)
{
    struct loop L, fresh;
    if (!open_loop(&L, p, "ref") || !open_loop(&fresh, p, "ref"))
        return;
    struct checkpoint *ck = checkpoint_open(&L, p);
    struct params live = *p;
    log_begin();
    bool restored = checkpoint_restore(ck, &live);
    const char *log = log_end();
    CHECK_MSG(!restored, "restored a checkpoint that should be ignored (%s)", why);
    CHECK_MSG(strstr(log, "ignoring the checkpoint") && strstr(log, checkpoint_path(ck)) &&
                  strstr(log, why),
              "want a line naming the file and '%s': %s", why, log);
    CHECK(count_of(log, "\n") == 1);
    CHECK(L.iterations == 0);
    CHECK(memcmp(L.sketch.data, fresh.sketch.data, PLANE * sizeof(float)) == 0);
    checkpoint_close(ck);
    loop_close(&L);
    loop_close(&fresh);
}

static void test_bad_files_ignored(void)
{
    char path[400];
    struct params p;
    params_small(&p, "unet_bn.onnx");
    if (!good_checkpoint(path, sizeof path))
        return;
    long size = file_size(path);

    byte_flip(path, size / 2, 0x10); /* an image byte */
    expect_ignored(&p, "checksum mismatch");

    good_checkpoint(path, sizeof path);
    CHECK(truncate(path, size - 100) == 0);
    expect_ignored(&p, "truncated");

    good_checkpoint(path, sizeof path);
    byte_flip(path, 8, 0x02); /* version 3 -> 1 */
    expect_ignored(&p, "format version 1");

    good_checkpoint(path, sizeof path);
    byte_flip(path, 0, 0x20); /* magic */
    expect_ignored(&p, "not a mnemo checkpoint");

    good_checkpoint(path, sizeof path);
    struct params other_models = p; /* the same weights, exported at another opset */
    snprintf(other_models.loop.sketcher, sizeof other_models.loop.sketcher,
             "%s/resnet_in_op17.onnx", MNEMO_TEST_DATA);
    expect_ignored(&other_models, "other models");

    good_checkpoint(path, sizeof path);
    struct params other_size = p;
    other_size.loop.size = 96;
    expect_ignored(&other_size, "loop.size 64");
}

/* ---- forged files: a good checksum, values no loop leaves behind --------------------- */

/* The good checkpoint at path with its snapshot changed by `forge`, written back through
 * the format's own writer: the checksum, length, size and models all fit. */
static bool forged_checkpoint(const char *path, const struct params *p,
                              void (*forge)(struct snapshot *s))
{
    FILE *f = fopen(path, "rb");
    static unsigned char data[1 << 20];
    size_t len = f ? fread(data, 1, sizeof data, f) : 0;
    if (f)
        fclose(f);
    uint64_t digest = 0;
    for (int i = 7; i >= 0; i--)
        digest = digest << 8 | data[32 + i];
    static float sketch[PLANE], portrait[3 * PLANE], seed[PLANE], memory[3 * PLANE];
    static uint64_t ring[4096];
    struct snapshot s = {
        .sketch = sketch, .portrait = portrait, .seed = seed, .memory = memory, .ring = ring};
    struct ckpt_extra x;
    CHECK(ckpt_check(data, len, 64, digest, (char[64]){0}, 64) == NULL);
    if (!ckpt_parse(data, len, PLANE, 4096, &s, &x)) {
        CHECK_MSG(0, "the good checkpoint %s does not parse", path);
        return false;
    }
    s.p = *p; /* no live change, unless forge makes one */
    forge(&s);
    struct buf out = {0};
    bool ok = ckpt_serialise(&out, &s, 64, PLANE, digest, p) == 0;
    f = fopen(path, "wb");
    ok = ok && f && fwrite(out.data, 1, out.len, f) == out.len;
    if (f)
        fclose(f);
    free(out.data);
    CHECK_MSG(ok, "cannot write the forged %s", path);
    return ok;
}

static void zero_perturb_rng(struct snapshot *s)
{
    s->perturb_rng = (struct rng){0};
}
static void zero_seed_rng(struct snapshot *s)
{
    s->seed_rng = (struct rng){0};
}
static void nan_spare(struct snapshot *s)
{
    s->perturb_rng.has_spare = true;
    s->perturb_rng.spare = NAN;
}
static void still_run_at_top(struct snapshot *s)
{
    s->guard.still_run = INT32_MAX;
}
static void episode_at_top(struct snapshot *s)
{
    s->guard.episode_age = INT32_MAX;
}
static void reseed_step_at_top(struct snapshot *s)
{
    s->guard.reseed_step = INT32_MAX;
}
static void grace_for_ever(struct snapshot *s)
{
    s->guard.grace = 1 << 30;
}
static void level_nan(struct snapshot *s)
{
    s->guard.level = NAN;
}
static void more_onsets_than_iterations(struct snapshot *s)
{
    s->guard.stats.onsets[GUARD_STALL] = s->guard.stats.active[GUARD_STALL] + 1;
}
static void boost_beyond_registry(struct snapshot *s)
{
    s->action.boost = 1e30f;
}
static void memory_age_negative(struct snapshot *s)
{
    s->memory_age = -5;
}
static void bank_ring_too_long(struct snapshot *s)
{
    s->recent_len = BANK_RECENT + 1;
}
static void portrait_pixel_nan(struct snapshot *s)
{
    s->portrait[PLANE + 17] = NAN;
}
static void sketch_pixel_huge(struct snapshot *s)
{
    s->sketch[5] = 7.0f;
}
static void noise_out_of_range(struct snapshot *s)
{
    s->p.perturb.noise = 50.0f; /* the registry allows 0 .. 1 */
}
static void harmless(struct snapshot *s)
{
    s->guard.still_run = 2; /* a value a loop can hold: the forging itself is sound */
}

/* Each forged value makes the checkpoint ignored, named, with the value's field; the
 * loop starts fresh (and runs: a zeroed generator hung rng_below for good before). */
static void test_forged_values_ignored(void)
{
    const struct {
        void (*forge)(struct snapshot *s);
        const char *why;
    } cases[] = {
        {zero_perturb_rng, "perturbation generator cannot run"},
        {zero_seed_rng, "seed generator cannot run"},
        {nan_spare, "kept normal draw"},
        {still_run_at_top, "still run is 2147483647"},
        {episode_at_top, "boost episode is 2147483647"},
        {reseed_step_at_top, "reseed step is 2147483647"},
        {grace_for_ever, "grace is 1073741824"},
        {level_nan, "boost level is nan"},
        {more_onsets_than_iterations, "guard event onsets count"},
        {boost_beyond_registry, "next iteration's boost"},
        {memory_age_negative, "memory's age is -5"},
        {bank_ring_too_long, "count of last draws"},
        {portrait_pixel_nan, "of its portrait is nan"},
        {sketch_pixel_huge, "of its sketch is 7"},
        {noise_out_of_range, "refused: perturb.noise: 50 is out of range"},
    };
    char path[400];
    struct params p;
    params_small(&p, "unet_bn.onnx");
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        if (!good_checkpoint(path, sizeof path) || !forged_checkpoint(path, &p, cases[i].forge))
            return;
        expect_ignored(&p, cases[i].why);
    }
    /* The same forging with a sound value: restored, and the loop runs on. */
    if (!good_checkpoint(path, sizeof path) || !forged_checkpoint(path, &p, harmless))
        return;
    struct loop L;
    if (!open_loop(&L, &p, "ref"))
        return;
    struct checkpoint *ck = checkpoint_open(&L, &p);
    struct params live = p;
    log_begin();
    CHECK(checkpoint_restore(ck, &live));
    log_end();
    CHECK(L.iterations == 3 && L.guard.still_run == 2);
    CHECK(run(&L, 2, NULL));
    checkpoint_close(ck);
    loop_close(&L);
}

/* A zeroed generator as a forged checkpoint left it, had it been restored: rng_below
 * cannot return (every draw is 0, under the rejection threshold), which is why
 * ckpt_values_check refuses it. Run in a child with an alarm so a hang is a failure. */
static void test_zeroed_generator_would_hang(void)
{
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        alarm(2);
        struct rng r = {0};
        rng_below(&r, 3);
        _exit(0);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    CHECK_MSG(WIFSIGNALED(status) && WTERMSIG(status) == SIGALRM,
              "a zeroed generator returned from rng_below (status %d): the check may be moot",
              status);
}

/* No file: one line saying so, a fresh start. */
static void test_no_file_starts_fresh(void)
{
    state_clear();
    struct params p;
    params_small(&p, "unet_bn.onnx");
    struct loop L;
    if (!open_loop(&L, &p, "ref"))
        return;
    struct checkpoint *ck = checkpoint_open(&L, &p);
    struct params live = p;
    log_begin();
    CHECK(!checkpoint_restore(ck, &live));
    const char *log = log_end();
    CHECK_MSG(strstr(log, "no checkpoint in") && count_of(log, "\n") == 1, "%s", log);
    checkpoint_close(ck);
    loop_close(&L);
}

/* ---- the write: atomic, and failures that do not stop the piece ---------------------- */

/* A process killed between writing the temp file and the rename leaves the old
 * checkpoint as it was. */
static void test_kill_before_rename_keeps_old(void)
{
    char path[400];
    if (!good_checkpoint(path, sizeof path)) /* iteration 3 */
        return;
    struct params p;
    params_small(&p, "unet_bn.onnx");
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        setenv("MNEMO_FAULT", "checkpoint:kill_before_rename", 1);
        struct loop L;
        if (loop_open(&L, &p, "ref", &err))
            _exit(3);
        struct checkpoint *ck = checkpoint_open(&L, &p);
        L.iterations = 1000;
        checkpoint_save_now(ck);
        _exit(4); /* not reached: the fault kills the process */
    }
    int status = 0;
    waitpid(pid, &status, 0);
    CHECK_MSG(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, "child status %d", status);
    char tmp[420];
    tmp_name(tmp, sizeof tmp, (long)pid); /* the killed process's own */
    CHECK_MSG(file_size(tmp) > 0, "the killed write left no temp file %s", tmp);
    struct loop L;
    if (!open_loop(&L, &p, "ref"))
        return;
    struct checkpoint *ck = checkpoint_open(&L, &p);
    struct params live = p;
    log_begin();
    CHECK(checkpoint_restore(ck, &live));
    log_end();
    CHECK_MSG(L.iterations == 3, "restored iteration %llu, want the old 3",
              (unsigned long long)L.iterations);
    checkpoint_close(ck);
    loop_close(&L);
    /* The next process to take the folder removes what the killed writer left. */
    CHECK(checkpoint_lock(dir, true, &err) == 0);
    CHECK_MSG(file_size(tmp) < 0, "the killed writer's %s is still there", tmp);
    CHECK(file_size(path) > 0);
}

/* ---- one process per state folder ---------------------------------------------------- */

/* A child that takes folder `dir2` and holds it until told (a byte on the pipe) or killed. */
static char dir2[300];
static pid_t holder_start(int *tell)
{
    int up[2], down[2];
    if (pipe(up) || pipe(down))
        return -1;
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        close(up[0]);
        close(down[1]);
        char c = checkpoint_lock(dir2, true, &err) == 0 ? 'y' : 'n';
        if (write(up[1], &c, 1) != 1 || read(down[0], &c, 1) < 0)
            _exit(3);
        _exit(0);
    }
    close(up[1]);
    close(down[0]);
    char c = 0;
    CHECK_MSG(read(up[0], &c, 1) == 1 && c == 'y', "the holder could not take %s", dir2);
    close(up[0]);
    *tell = down[1];
    return pid;
}

/* Another process's folder is refused, naming it, that process and what to do; a look
 * takes nothing; the folder is free again once the holder ends, by exit or SIGKILL. */
static void test_state_dir_lock(void)
{
    snprintf(dir2, sizeof dir2, "%s/two", dir); /* not the others' folder: this one stays ours */
    int tell;
    pid_t pid = holder_start(&tell);
    if (pid < 0)
        return;
    struct error e;
    char want[64];
    snprintf(want, sizeof want, "another mnemo (pid %ld)", (long)pid);
    CHECK(checkpoint_lock(dir2, true, &e) == -1);
    CHECK_MSG(strstr(e.msg, dir2) && strstr(e.msg, want) && strstr(e.msg, "kiosk.state_dir") &&
                  strstr(e.msg, "of its own"),
              "want the folder, pid %ld and what to do: %s", (long)pid, e.msg);
    CHECK(checkpoint_lock(dir2, false, &e) == -1); /* a look sees it too */
    kill(pid, SIGKILL);                            /* a power cut: the kernel lets the lock go */
    waitpid(pid, NULL, 0);
    close(tell);

    /* A look takes nothing: a holder after it gets the folder. */
    CHECK(checkpoint_lock(dir2, false, &e) == 0);
    pid = holder_start(&tell);
    if (pid < 0)
        return;
    CHECK(checkpoint_lock(dir2, true, &e) == -1);
    CHECK(write(tell, "x", 1) == 1); /* the holder exits */
    close(tell);
    int status = 0;
    waitpid(pid, &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);

    /* Ours now, and again: a second take by the same process is no refusal. */
    CHECK_MSG(checkpoint_lock(dir2, true, &e) == 0, "%s", e.msg);
    CHECK(checkpoint_lock(dir2, true, &e) == 0);
    char lock_path[400], text[32] = "";
    snprintf(lock_path, sizeof lock_path, "%s/%s", dir2, CHECKPOINT_LOCK_FILE);
    FILE *f = fopen(lock_path, "r");
    CHECK(f && fgets(text, sizeof text, f));
    if (f)
        fclose(f);
    CHECK_MSG(atol(text) == (long)getpid(), "the lock file says '%s', want our pid", text);
    unlink(lock_path);
    rmdir(dir2);
}

/* A folder that cannot be made: one line naming it and what to do, however many saves
 * fail; the piece goes on. */
static void test_unwritable_folder_one_line(void)
{
    char file[200];
    snprintf(file, sizeof file, "%.180s/a_file", dir);
    FILE *f = fopen(file, "w");
    fclose(f);
    struct params p;
    params_small(&p, "unet_bn.onnx");
    snprintf(p.kiosk.state_dir, sizeof p.kiosk.state_dir, "%s/state", file);
    struct loop L;
    if (!open_loop(&L, &p, "ref"))
        return;
    log_begin();
    struct checkpoint *ck = checkpoint_open(&L, &p);
    struct params live = p;
    bool restored = checkpoint_restore(ck, &live);
    run(&L, 2, NULL);
    int rc1 = checkpoint_save_now(ck);
    run(&L, 2, NULL);
    int rc2 = checkpoint_save_now(ck);
    const char *log = log_end();
    CHECK(ck != NULL && !restored && rc1 == -1 && rc2 == -1);
    CHECK(L.iterations == 4);
    CHECK_MSG(count_of(log, "mnemo: warning:") == 1 && strstr(log, file) &&
                  strstr(log, "kiosk.state_dir"),
              "want one warning naming %s and kiosk.state_dir: %s", file, log);
    checkpoint_close(ck);
    loop_close(&L);
    unlink(file);
}

/* A full disk (the temp file is /dev/full): one line naming the temp file; the old
 * checkpoint stays; once there is room again, saving works again and says so. */
static void test_full_disk(void)
{
    char path[400], tmp[420];
    if (!good_checkpoint(path, sizeof path)) /* iteration 3 */
        return;
    tmp_name(tmp, sizeof tmp, (long)getpid());
    CHECK(symlink("/dev/full", tmp) == 0);
    struct params p;
    params_small(&p, "unet_bn.onnx");
    struct loop L;
    if (!open_loop(&L, &p, "ref"))
        return;
    struct checkpoint *ck = checkpoint_open(&L, &p);
    run(&L, 5, NULL);
    log_begin();
    int rc = checkpoint_save_now(ck);
    const char *log = log_end();
    CHECK(rc == -1);
    CHECK_MSG(count_of(log, "mnemo: warning:") == 1 && strstr(log, tmp) &&
                  strstr(log, "No space left"),
              "want one warning naming %s and the full disk: %s", tmp, log);
    struct loop R;
    struct params live = p;
    if (open_loop(&R, &p, "ref")) {
        struct checkpoint *rk = checkpoint_open(&R, &p);
        log_begin();
        CHECK(checkpoint_restore(rk, &live) && R.iterations == 3);
        log_end();
        checkpoint_close(rk);
        loop_close(&R);
    }
    /* The failed write removed its temp file (here: the link), so there is room again. */
    log_begin();
    rc = checkpoint_save_now(ck);
    log = log_end();
    CHECK(rc == 0);
    CHECK_MSG(strstr(log, "works again") != NULL, "%s", log);
    checkpoint_close(ck);
    loop_close(&L);
}

/* ---- offers: from the loop's thread, no allocation, and by the piece's own thread ---- */

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static void test_offer_allocates_nothing(void)
{
    state_clear();
    struct params p;
    params_small(&p, "unet_bn.onnx");
    p.kiosk.checkpoint_s = 0.01f;
    struct loop L;
    if (!open_loop(&L, &p, "ref"))
        return;
    struct checkpoint *ck = checkpoint_open(&L, &p);
    run(&L, 1, NULL);
    char path[400];
    snprintf(path, sizeof path, "%s", checkpoint_path(ck));
    long before = thread_allocations;
    int offers = 0;
    for (double end = now() + 10; now() < end && file_size(path) <= 0; offers++) {
        struct timespec wait = {0, 20 * 1000 * 1000};
        nanosleep(&wait, NULL);
        checkpoint_offer(ck);
    }
    CHECK_MSG(thread_allocations == before, "%ld allocations in %d offers",
              thread_allocations - before, offers);
    CHECK_MSG(file_size(path) > 0, "no checkpoint written after %d offers", offers);
    checkpoint_close(ck);
    loop_close(&L);
}

/* The presenter's path: the piece's loop thread offers by itself. */
static void test_piece_thread_offers(void)
{
    state_clear();
    struct params p;
    params_small(&p, "unet_bn.onnx");
    p.kiosk.checkpoint_s = 0.05f;
    p.loop.rate = 0;
    struct loop L;
    if (!open_loop(&L, &p, "ref"))
        return;
    struct checkpoint *ck = checkpoint_open(&L, &p);
    struct piece *pc = piece_start(&L, NULL, ck, NULL, &err);
    CHECK(pc != NULL);
    char path[400];
    snprintf(path, sizeof path, "%s", checkpoint_path(ck));
    for (double end = now() + 20; now() < end && file_size(path) <= 0;) {
        struct timespec wait = {0, 20 * 1000 * 1000};
        nanosleep(&wait, NULL);
    }
    CHECK(piece_stop(pc, &err) == 0);
    CHECK_MSG(file_size(path) > 0, "the piece's thread wrote no checkpoint");
    checkpoint_close(ck);
    loop_close(&L);
}

/* ---- the backend fault seam ------------------------------------------------------------ */

/* A transient fault in the painter (run 5) and one in the sketcher (run 6): each failed
 * iteration is retried and, since a failure leaves the loop as it was, the frames are
 * those of a run with no fault at all. */
static void test_transient_fault_changes_nothing(void)
{
    static float clean[6 * 4 * PLANE], faulty[6 * 4 * PLANE];
    struct params p;
    params_small(&p, "unet_bn.onnx");
    struct loop L;
    if (!open_loop(&L, &p, "ref"))
        return;
    run(&L, 6, clean);
    loop_close(&L);
    const char *faults[] = {"transient@5", "transient@6"};
    for (int f = 0; f < 2; f++) {
        if (!open_loop(&L, &p, "ref"))
            return;
        CHECK(backend_fault_arm(faults[f], &err) == 0);
        log_begin();
        for (int i = 0; i < 6; i++) {
            CHECK(step_retrying(&L, NULL, &err) == 0);
            memcpy(faulty + (size_t)i * 4 * PLANE, L.portrait.data, 3 * PLANE * sizeof(float));
            memcpy(faulty + ((size_t)i * 4 + 3) * PLANE, L.sketch.data, PLANE * sizeof(float));
        }
        const char *log = log_end();
        backend_fault_arm(NULL, &err);
        CHECK_MSG(count_of(log, "retrying") == 1 && count_of(log, "after 1 failed try") == 1,
                  "%s: want one retry and one recovery logged: %s", faults[f], log);
        CHECK_MSG(strstr(log, "iteration 3 failed") != NULL, "%s: %s", faults[f], log);
        CHECK(L.iterations == 6 && !loop_device_lost(&L));
        CHECK_MSG(memcmp(clean, faulty, sizeof clean) == 0, "%s changed the frames", faults[f]);
        loop_close(&L);
    }
}

/* A sticky fault at run 7 (iteration 4's painter): that iteration and every later run, on
 * both backends, fail; the device is lost; no retry; the message names exit code 75. */
static void test_sticky_fault_loses_device(void)
{
    struct params p;
    params_small(&p, "unet_bn.onnx");
    struct loop L;
    if (!open_loop(&L, &p, "ref"))
        return;
    CHECK(backend_fault_arm("sticky@7", &err) == 0);
    run(&L, 3, NULL);
    struct rng rng_before = L.perturb_rng;
    log_begin();
    double start = now();
    int rc = step_retrying(&L, NULL, &err);
    double took = now() - start;
    const char *log = log_end();
    CHECK(rc == -1 && loop_device_lost(&L));
    CHECK(L.iterations == 3);
    CHECK(memcmp(&rng_before, &L.perturb_rng, sizeof rng_before) == 0);
    CHECK_MSG(strstr(err.msg, "exit code 75") != NULL, "%s", err.msg);
    CHECK_MSG(count_of(log, "retrying") == 0 && took < LOOP_RETRY_S, "retried: %s", log);
    CHECK(backend_device_lost(L.painter.backend));
    /* The sketcher's device goes with it at its next run. */
    CHECK(backend_run(L.sketcher.backend, L.sketcher.input, L.sketcher.output, &err) == -1);
    CHECK(backend_device_lost(L.sketcher.backend));
    CHECK(loop_step(&L, &err) == -1);
    backend_fault_arm(NULL, &err);
    CHECK_MSG(loop_step(&L, &err) == -1, "a lost backend ran again once the fault was disarmed");
    loop_close(&L);
}

/* The presenter's loop thread gives up at once on a lost device (no 50 retries). */
static void test_piece_gives_up_on_lost_device(void)
{
    struct params p;
    params_small(&p, "unet_bn.onnx");
    p.loop.rate = 0;
    struct loop L;
    if (!open_loop(&L, &p, "ref"))
        return;
    CHECK(backend_fault_arm("sticky@5", &err) == 0);
    log_begin();
    struct piece *pc = piece_start(&L, NULL, NULL, NULL, &err);
    double end = now() + 20;
    while (pc && !piece_failed(pc) && now() < end) {
        struct timespec wait = {0, 5 * 1000 * 1000};
        nanosleep(&wait, NULL);
    }
    CHECK(pc && piece_failed(pc));
    CHECK(piece_stop(pc, &err) == -1);
    const char *log = log_end();
    backend_fault_arm(NULL, &err);
    CHECK_MSG(strstr(err.msg, "exit code 75") != NULL, "%s", err.msg);
    CHECK_MSG(count_of(log, "retrying") == 0, "%s", log);
    CHECK(L.iterations == 2 && loop_device_lost(&L));
    loop_close(&L);
}

static void test_fault_spec_errors(void)
{
    const char *bad[] = {"sticky", "sticky@", "sticky@0", "sticky@-3", "sticky@3x", "flaky@3"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err.msg[0] = '\0';
        CHECK_MSG(backend_fault_arm(bad[i], &err) == -1, "%s accepted", bad[i]);
        CHECK_MSG(strstr(err.msg, "backend:transient@N") != NULL, "%s: %s", bad[i], err.msg);
    }
    CHECK(backend_fault_arm("transient@12", &err) == 0);
    CHECK(backend_fault_arm(NULL, &err) == 0);
}

int main(void)
{
    snprintf(dir, sizeof dir, "/tmp/mnemo-test-checkpoint-%d", (int)getpid());
    snprintf(log_path, sizeof log_path, "%s.log", dir);
    RUN(test_resume_identical_ref);
    RUN(test_resume_identical_cpu);
    RUN(test_live_params_survive);
    RUN(test_shorter_history_keeps_newest);
    RUN(test_bad_files_ignored);
    RUN(test_forged_values_ignored);
    RUN(test_zeroed_generator_would_hang);
    RUN(test_no_file_starts_fresh);
    RUN(test_state_dir_lock);
    RUN(test_kill_before_rename_keeps_old);
    RUN(test_unwritable_folder_one_line);
    RUN(test_full_disk);
    RUN(test_offer_allocates_nothing);
    RUN(test_piece_thread_offers);
    RUN(test_transient_fault_changes_nothing);
    RUN(test_sticky_fault_loses_device);
    RUN(test_piece_gives_up_on_lost_device);
    RUN(test_fault_spec_errors);
    state_clear();
    char lock_path[400];
    snprintf(lock_path, sizeof lock_path, "%s/%s", dir, CHECKPOINT_LOCK_FILE);
    unlink(lock_path);
    rmdir(dir);
    unlink(log_path);
    return check_report();
}

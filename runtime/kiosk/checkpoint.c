/* checkpoint.c — see checkpoint.h. Snapshots, the writer thread, the atomic write, the
 * state folder's lock, the models' digest and the restore policy (which saved live values
 * win over the config); the file's bytes are checkpoint_file.c's. */
#define _DEFAULT_SOURCE /* flock */
#include "checkpoint.h"
#include "checkpoint_internal.h"
#include "clock.h"

#include "fault.h"
#include "input_file.h"
#include "log.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* A state file is a few MiB (loop.size 2048: 5 planes of 16 MiB at the most); anything
 * far larger is not ours. */
#define FILE_MAX ((size_t)512 << 20)

struct checkpoint {
    struct loop *L;
    struct params start;
    size_t plane;
    uint64_t models_digest;
    char dir[PARAM_STRING_MAX], path[PARAM_STRING_MAX + 16], tmp_path[PARAM_STRING_MAX + 32];
    struct snapshot snap;
    struct buf out;
    double last_offer_s;
    bool failing; /* the last save failed and said so: the next failure is quiet */
    bool kill_before_rename;

    pthread_t writer;
    bool writer_started;
    sem_t wake;
    atomic_bool busy, stop; /* busy: the snapshot is the writer's until it clears it */
    pthread_mutex_t lock;   /* with `idle`: only for checkpoint_save_now to wait on */
    pthread_cond_t idle;
};

/* ---- the atomic write ----------------------------------------------------------------- */

/* mkdir -p: every missing folder of `dir`. */
static int dir_make(const char *dir, struct error *err)
{
    char path[PARAM_STRING_MAX];
    snprintf(path, sizeof path, "%s", dir);
    for (char *p = path + 1;; p++) {
        bool end = *p == '\0';
        if (*p != '/' && !end)
            continue;
        *p = '\0';
        if (mkdir(path, 0755) && errno != EEXIST)
            return error_set(err, "cannot create the folder %s (%s)", path, strerror(errno));
        if (end)
            break;
        *p = '/';
    }
    struct stat st;
    if (stat(dir, &st) || !S_ISDIR(st.st_mode))
        return error_set(err, "%s is not a folder", dir);
    return 0;
}

static int write_all(int fd, const unsigned char *data, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, data, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        data += n;
        len -= (size_t)n;
    }
    return 0;
}

/* The temp file, written and synced; unlinked again when that fails (a full disk gets
 * its space back). */
static int tmp_write(const struct checkpoint *ck, struct error *err)
{
    int fd = open(ck->tmp_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return error_set(err, "cannot create %s (%s)", ck->tmp_path, strerror(errno));
    int rc = write_all(fd, ck->out.data, ck->out.len) || fsync(fd) ? -1 : 0;
    int saved = errno;
    if (close(fd) && rc == 0) {
        rc = -1;
        saved = errno;
    }
    if (rc) {
        unlink(ck->tmp_path);
        return error_set(err, "cannot write %s (%s)", ck->tmp_path, strerror(saved));
    }
    return 0;
}

/* Temp file, fsync, rename over the old one, fsync of the folder (so the rename itself
 * survives a power cut). */
static int file_replace(const struct checkpoint *ck, struct error *err)
{
    if (dir_make(ck->dir, err) || tmp_write(ck, err))
        return -1;
    if (ck->kill_before_rename)
        raise(SIGKILL); /* fault drill: a power cut between write and rename */
    if (rename(ck->tmp_path, ck->path)) {
        int saved = errno;
        unlink(ck->tmp_path);
        return error_set(err, "cannot rename %s to %s (%s)", ck->tmp_path, ck->path,
                         strerror(saved));
    }
    int dfd = open(ck->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0 || fsync(dfd)) {
        int saved = errno;
        if (dfd >= 0)
            close(dfd);
        return error_set(err, "cannot sync the folder %s (%s)", ck->dir, strerror(saved));
    }
    close(dfd);
    return 0;
}

/* ---- one process per state folder ------------------------------------------------------ */

/* The lock this process holds on its state folder: open until the process ends, when the
 * kernel lets it go, however it ends (a SIGKILL, a power cut). O_CLOEXEC, so a program we
 * start (ffmpeg) never holds it after us. */
static struct {
    int fd;
    char dir[PARAM_STRING_MAX];
} held = {.fd = -1};

/* The pid the holder wrote into the lock file, 0 when it wrote none (yet). */
static long lock_holder(int fd)
{
    char text[32];
    ssize_t n = pread(fd, text, sizeof text - 1, 0);
    if (n <= 0)
        return 0;
    text[n] = '\0';
    long pid = strtol(text, NULL, 10);
    return pid > 0 ? pid : 0;
}

static int lock_refuse(const char *dir, long pid, struct error *err)
{
    char who[64] = "another mnemo", stop[64] = "";
    if (pid) {
        snprintf(who, sizeof who, "another mnemo (pid %ld)", pid);
        snprintf(stop, sizeof stop, " (kill %ld, or stop its service)", pid);
    }
    return error_set(err,
                     "kiosk.state_dir %s is in use by %s: two pieces on one state folder would "
                     "overwrite each other's state; stop the other one%s, or give this one a "
                     "kiosk.state_dir of its own",
                     dir, who, stop);
}

/* The temp files of writers killed between write and rename (each process writes its
 * own): the folder's holder is the only writer, so what is left there is stale. */
static void stale_temps_remove(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    size_t prefix = strlen(CHECKPOINT_FILE ".");
    for (struct dirent *e; (e = readdir(d));) {
        size_t len = strlen(e->d_name);
        if (len > prefix + 3 && strncmp(e->d_name, CHECKPOINT_FILE ".", prefix) == 0 &&
            strcmp(e->d_name + len - 4, ".tmp") == 0)
            unlinkat(dirfd(d), e->d_name, 0);
    }
    closedir(d);
}

/* Our pid into the lock file, for the message of an instance refused after us. */
static void lock_sign(int fd)
{
    char text[32];
    int n = snprintf(text, sizeof text, "%ld\n", (long)getpid());
    if (ftruncate(fd, 0) == 0 && pwrite(fd, text, (size_t)n, 0) != n)
        log_warn("cannot write this process's pid into the state folder's lock");
}

int checkpoint_lock(const char *dir, bool keep, struct error *err)
{
    if (held.fd >= 0 && strcmp(held.dir, dir) == 0)
        return 0; /* ours already (a lock of ours on a second descriptor would refuse us) */
    struct error made;
    if (dir_make(dir, &made))
        return 0; /* checkpoint_open says so; the piece goes on unsaved, nothing to share */
    char path[PARAM_STRING_MAX + 16];
    snprintf(path, sizeof path, "%s/%s", dir, CHECKPOINT_LOCK_FILE);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0 || flock(fd, LOCK_EX | LOCK_NB)) {
        int saved = errno;
        if (fd >= 0 && saved == EWOULDBLOCK) {
            lock_refuse(dir, lock_holder(fd), err);
            close(fd);
            return -1;
        }
        log_warn("cannot lock %s (%s); a second mnemo on %s would go unnoticed", path,
                 strerror(saved), dir);
        if (fd >= 0)
            close(fd);
        return 0;
    }
    if (!keep) {
        close(fd); /* a look only: free again at once */
        return 0;
    }
    lock_sign(fd);
    if (held.fd >= 0)
        close(held.fd); /* another folder before (tests): one at a time */
    held.fd = fd;
    snprintf(held.dir, sizeof held.dir, "%s", dir);
    stale_temps_remove(dir);
    return 0;
}

/* Serialises and writes the snapshot; logs a failure once per run of failures. */
static int snapshot_save(struct checkpoint *ck)
{
    struct error err;
    int rc =
        ckpt_serialise(&ck->out, &ck->snap, ck->L->size, ck->plane, ck->models_digest, &ck->start);
    if (rc)
        error_set(&err, "out of memory serialising the state for %s", ck->path);
    else
        rc = file_replace(ck, &err);
    if (rc && !ck->failing)
        log_warn("cannot save the loop's state: %s; the piece goes on, unsaved: make room on that "
                 "disk or point kiosk.state_dir at a writable folder",
                 err.msg);
    else if (rc == 0 && ck->failing)
        log_line(LOG_NOTICE, "state: saving to %s works again", ck->path);
    ck->failing = rc != 0;
    return rc;
}

/* ---- snapshots ------------------------------------------------------------------------- */

static void snapshot_take(struct checkpoint *ck)
{
    const struct loop *L = ck->L;
    struct snapshot *s = &ck->snap;
    s->iterations = L->iterations;
    s->perturb_rng = L->perturb_rng;
    s->seed_rng = L->seed_rng;
    s->action = L->action;
    s->metrics = L->metrics;
    s->guard = L->guard;
    const struct guard *g = &L->guard;
    for (int32_t i = 0; i < g->count; i++) { /* oldest first: head - count .. head - 1 */
        int32_t idx = (g->head - g->count + i) % g->capacity;
        s->ring[i] = g->ring[idx < 0 ? idx + g->capacity : idx];
    }
    s->p = L->p;
    memcpy(s->sketch, L->sketch.data, ck->plane * sizeof(float));
    memcpy(s->portrait, L->portrait.data, 3 * ck->plane * sizeof(float));
    memcpy(s->seed, L->seed.data, ck->plane * sizeof(float));
    const struct memory *m = &L->memory;
    memcpy(s->memory, m->from.data, ck->plane * sizeof(float));
    memcpy(s->memory + ck->plane, m->to.data, ck->plane * sizeof(float));
    memcpy(s->memory + 2 * ck->plane, m->now.data, ck->plane * sizeof(float));
    s->memory_age = m->age;
    memcpy(s->recent, L->bank.recent, sizeof s->recent);
    s->recent_len = L->bank.recent_len;
    s->recent_head = L->bank.recent_head;
}

static void writer_done(struct checkpoint *ck)
{
    pthread_mutex_lock(&ck->lock);
    atomic_store(&ck->busy, false);
    pthread_cond_broadcast(&ck->idle);
    pthread_mutex_unlock(&ck->lock);
}

static void *writer_main(void *arg)
{
    struct checkpoint *ck = arg;
    for (;;) {
        while (sem_wait(&ck->wake) && errno == EINTR)
            ;
        if (atomic_load(&ck->busy)) { /* an offered snapshot, even when stopping */
            snapshot_save(ck);
            writer_done(ck);
        }
        if (atomic_load(&ck->stop))
            return NULL;
    }
}

void checkpoint_offer(struct checkpoint *ck)
{
    if (!ck)
        return;
    float every = ck->L->p.kiosk.checkpoint_s;
    if (every <= 0)
        return;
    double now = clock_now();
    if (now - ck->last_offer_s < every || atomic_load(&ck->busy))
        return; /* not due, or the writer is still at the last one: next time */
    snapshot_take(ck);
    ck->last_offer_s = now;
    atomic_store(&ck->busy, true);
    sem_post(&ck->wake);
}

int checkpoint_save_now(struct checkpoint *ck)
{
    if (!ck)
        return 0;
    pthread_mutex_lock(&ck->lock);
    while (atomic_load(&ck->busy))
        pthread_cond_wait(&ck->idle, &ck->lock);
    atomic_store(&ck->busy, true); /* the snapshot is ours now */
    pthread_mutex_unlock(&ck->lock);
    snapshot_take(ck);
    int rc = snapshot_save(ck);
    if (rc == 0)
        log_line(LOG_NOTICE, "state: saved iteration %" PRIu64 " to %s", ck->snap.iterations,
                 ck->path);
    writer_done(ck);
    return rc;
}

/* ---- reading it back ------------------------------------------------------------------- */

/* Reads the whole file into *data; NULL why on success, else why it cannot be used (in
 * why_buf when it is not a fixed text). A FIFO or a directory in its place is refused
 * without blocking, a file over FILE_MAX before it is read (input_file.h). */
static const char *file_read(const char *path, unsigned char **data, size_t *len, int *errno_out,
                             char *why_buf, size_t why_size)
{
    *data = NULL;
    *errno_out = 0;
    struct error err;
    int fd = input_file_open(path, (int64_t)FILE_MAX, &err);
    struct stat st;
    if (fd < 0 || fstat(fd, &st)) {
        *errno_out = errno;
        if (fd >= 0)
            close(fd);
        /* err starts with the path, which the caller's line names already */
        size_t skip = strncmp(err.msg, path, strlen(path)) == 0 ? strlen(path) + 2 : 0;
        snprintf(why_buf, why_size, "%s", fd >= 0 ? strerror(*errno_out) : err.msg + skip);
        return why_buf;
    }
    *len = (size_t)st.st_size;
    *data = malloc(*len ? *len : 1);
    size_t got = 0;
    while (*data && got < *len) {
        ssize_t n = read(fd, *data + got, *len - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    close(fd);
    if (!*data)
        return "out of memory reading it";
    if (got != *len)
        return "it could not be read whole";
    return NULL;
}

/* The saved memory and the bank's last draws. */
static void memory_apply(struct loop *L, const struct snapshot *s, size_t plane)
{
    struct memory *m = &L->memory;
    memcpy(m->from.data, s->memory, plane * sizeof(float));
    memcpy(m->to.data, s->memory + plane, plane * sizeof(float));
    memcpy(m->now.data, s->memory + 2 * plane, plane * sizeof(float));
    m->age = s->memory_age < 0 ? 0 : s->memory_age;
    seed_bank_resume(&L->bank, s->recent, s->recent_len, s->recent_head);
}

/* ck->snap into the loop (its parameters are set by the caller). */
static void snapshot_apply(struct checkpoint *ck)
{
    struct loop *L = ck->L;
    const struct snapshot *s = &ck->snap;
    L->iterations = s->iterations;
    L->perturb_rng = s->perturb_rng;
    L->seed_rng = s->seed_rng;
    L->action = s->action;
    L->metrics = s->metrics;
    struct guard *g = &L->guard;
    g->still_run = s->guard.still_run;
    g->level = s->guard.level;
    g->episode_age = s->guard.episode_age;
    g->turned = s->guard.turned;
    g->reseed_step = s->guard.reseed_step;
    g->grace = s->guard.grace;
    g->reseed_requested = s->guard.reseed_requested;
    g->last_events = s->guard.last_events;
    g->stats = s->guard.stats;
    g->count = s->guard.count;
    memcpy(g->ring, s->ring, (size_t)g->count * sizeof g->ring[0]);
    g->head = g->count % g->capacity;
    memcpy(L->sketch.data, s->sketch, ck->plane * sizeof(float));
    memcpy(L->portrait.data, s->portrait, 3 * ck->plane * sizeof(float));
    memcpy(L->prev_portrait.data, s->portrait, 3 * ck->plane * sizeof(float));
    memcpy(L->seed.data, s->seed, ck->plane * sizeof(float));
    memory_apply(L, s, ck->plane);
}

/* ---- live parameters ------------------------------------------------------------------ */

/* The saved live value of d into *p when the config has not changed d since the save
 * (then the config wins, logged); true when it was set. */
static bool param_restore(const struct ckpt_extra *x, const struct param_def *d, struct params *p,
                          char *value)
{
    char was[PARAM_TEXT_MAX], now[PARAM_TEXT_MAX];
    param_format(p, d, now, sizeof now);
    if (!ckpt_text_value(x->from, x->from_len, d->name, was, sizeof was))
        snprintf(was, sizeof was, "unknown");
    if (strcmp(was, now) != 0) {
        log_line(LOG_NOTICE, "state: %s: keeping the config's %s (it was %s when %s was set live)",
                 d->name, now, was, value);
        return false;
    }
    struct error err;
    if (param_set(p, d, value, &err)) {
        log_warn("checkpoint: not restoring %s", err.msg);
        return false;
    }
    return true;
}

/* Why a saved live value cannot be set (out of its registry range or not of its type: a
 * forged file, or a range this mnemo narrowed), into why; NULL when every one can. Tried
 * on a copy of p, before anything of the checkpoint is applied. */
static const char *params_why(const struct ckpt_extra *x, const struct params *p, char *why,
                              size_t why_size)
{
    static struct params trial; /* restores run once, before the loop's thread: off the stack */
    trial = *p;
    for (size_t i = 0; i < params_count(); i++) {
        const struct param_def *d = params_at(i);
        char value[PARAM_TEXT_MAX];
        struct error err;
        if (ckpt_param_saved(d) &&
            ckpt_text_value(x->live, x->live_len, d->name, value, sizeof value) &&
            param_set(&trial, d, value, &err)) {
            snprintf(why, why_size, "a saved live value is refused: %.200s", err.msg);
            return why;
        }
    }
    return NULL;
}

/* Every saved live value restored into *p by param_restore; lists what it set ("a=1,
 * b=2") in applied. */
static void params_restore(const struct ckpt_extra *x, struct params *p, char *applied,
                           size_t applied_size)
{
    applied[0] = '\0';
    size_t used = 0;
    for (size_t i = 0; i < params_count(); i++) {
        const struct param_def *d = params_at(i);
        char value[PARAM_TEXT_MAX];
        if (!ckpt_param_saved(d) ||
            !ckpt_text_value(x->live, x->live_len, d->name, value, sizeof value) ||
            !param_restore(x, d, p, value))
            continue;
        int n = snprintf(applied + used, applied_size - used, "%s%s=%s", used ? ", " : "", d->name,
                         value);
        used += n > 0 && (size_t)n < applied_size - used ? (size_t)n : 0;
    }
}

static void restore_log(const struct checkpoint *ck, const struct ckpt_extra *x,
                        const char *applied)
{
    int64_t ago = (int64_t)time(NULL) - (int64_t)x->saved_unix;
    log_line(LOG_NOTICE,
             "state: resumed from %s at iteration %" PRIu64 " (saved %" PRId64 " s ago)%s%s",
             ck->path, ck->snap.iterations, ago, applied[0] ? "; live parameters: " : "", applied);
}

bool checkpoint_restore(struct checkpoint *ck, struct params *p)
{
    if (!ck)
        return false;
    unsigned char *data;
    size_t len = 0;
    int read_errno;
    char why_buf[ERROR_MSG_MAX];
    const char *why = file_read(ck->path, &data, &len, &read_errno, why_buf, sizeof why_buf);
    if (why && (read_errno == ENOENT || read_errno == ENOTDIR)) {
        log_line(LOG_NOTICE, "state: no checkpoint in %s yet; the piece starts fresh", ck->dir);
        free(data);
        return false;
    }
    struct ckpt_extra x;
    if (!why)
        why = ckpt_check(data, len, ck->L->size, ck->models_digest, why_buf, sizeof why_buf);
    if (!why && !ckpt_parse(data, len, ck->plane, ck->L->guard.capacity, &ck->snap, &x))
        why = "its contents do not parse (a forged file, or a writer bug)";
    /* A good checksum proves no damage, not that the values are a loop's: each one is
     * checked as the config's are, before any of them is applied. */
    if (!why)
        why = ckpt_values_check(&ck->snap, ck->plane, why_buf, sizeof why_buf);
    if (!why)
        why = params_why(&x, p, why_buf, sizeof why_buf);
    if (why) {
        log_warn("ignoring the checkpoint %s: %s; the piece starts fresh", ck->path, why);
        free(data);
        return false;
    }
    char applied[1024];
    params_restore(&x, p, applied, sizeof applied);
    loop_set_params(ck->L, p);
    snapshot_apply(ck);
    restore_log(ck, &x, applied);
    free(data);
    return true;
}

/* ---- open and close -------------------------------------------------------------------- */

static int snapshot_alloc(struct snapshot *s, size_t plane, int32_t ring)
{
    s->sketch = calloc(plane, sizeof(float));
    s->portrait = calloc(3 * plane, sizeof(float));
    s->seed = calloc(plane, sizeof(float));
    s->memory = calloc(3 * plane, sizeof(float));
    s->ring = calloc((size_t)(ring > 0 ? ring : 1), sizeof(uint64_t));
    return s->sketch && s->portrait && s->seed && s->memory && s->ring ? 0 : -1;
}

static void checkpoint_free(struct checkpoint *ck)
{
    free(ck->snap.sketch);
    free(ck->snap.portrait);
    free(ck->snap.seed);
    free(ck->snap.memory);
    free(ck->snap.ring);
    free(ck->out.data);
    sem_destroy(&ck->wake);
    pthread_mutex_destroy(&ck->lock);
    pthread_cond_destroy(&ck->idle);
    free(ck);
}

#define FNV_OFFSET 14695981039346656037ULL
#define FNV_PRIME  1099511628211ULL

/* FNV-1a of a file's bytes and length, continuing from *h. -1 with errno when unreadable. */
static int digest_file(const char *path, uint64_t *h)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    unsigned char chunk[65536];
    uint64_t total = 0;
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        for (size_t i = 0; i < n; i++)
            *h = (*h ^ chunk[i]) * FNV_PRIME;
        total += n;
    }
    int rc = ferror(f) ? -1 : 0;
    int saved = errno;
    fclose(f);
    errno = saved;
    for (int i = 0; i < 8; i++) /* the length ends each file's part */
        *h = (*h ^ ((total >> (8 * i)) & 0xFF)) * FNV_PRIME;
    return rc;
}

/* The digest that ties a checkpoint to two model files (their bytes and lengths). -1
 * with errno set and *bad naming the file that could not be read. */
static int digest_files(const char *painter, const char *sketcher, uint64_t *digest,
                        const char **bad)
{
    uint64_t h = FNV_OFFSET;
    *bad = digest_file(painter, &h) ? painter : digest_file(sketcher, &h) ? sketcher : NULL;
    *digest = h;
    return *bad ? -1 : 0;
}

/* The digest that ties a checkpoint to the two model files the loop loaded: the paths
 * loop_open found (datapath.h), not the settings, which may be relative to a folder
 * other than the working directory (a service runs in /var/lib/mnemo). */
static int models_digest(struct checkpoint *ck)
{
    const char *bad;
    if (digest_files(ck->L->painter.path, ck->L->sketcher.path, &ck->models_digest, &bad) == 0)
        return 0;
    log_warn("checkpoints off: cannot read %s to tell its checkpoints apart (%s)", bad,
             strerror(errno));
    return -1;
}

static bool paths_set(struct checkpoint *ck, const char *dir)
{
    int a = snprintf(ck->dir, sizeof ck->dir, "%s", dir);
    int b = snprintf(ck->path, sizeof ck->path, "%s/%s", dir, CHECKPOINT_FILE);
    int c = snprintf(ck->tmp_path, sizeof ck->tmp_path, "%s/%s.%ld.tmp", dir, CHECKPOINT_FILE,
                     (long)getpid()); /* per process: two writers never share a temp file */
    return a > 0 && b > 0 && c > 0 && (size_t)a < sizeof ck->dir && (size_t)b < sizeof ck->path &&
           (size_t)c < sizeof ck->tmp_path;
}

/* Everything a checkpoint needs before the loop runs: NULL, or why not ("" when said). */
static const char *setup(struct checkpoint *ck)
{
    const struct loop *L = ck->L;
    if (!paths_set(ck, L->p.kiosk.state_dir))
        return "kiosk.state_dir is too long";
    if (snapshot_alloc(&ck->snap, ck->plane, L->guard.capacity))
        return "out of memory";
    if (models_digest(ck))
        return "";
    if (pthread_create(&ck->writer, NULL, writer_main, ck))
        return "cannot start the writer thread";
    ck->writer_started = true;
    return NULL;
}

struct checkpoint *checkpoint_open(struct loop *L, const struct params *start)
{
    if (!L->p.kiosk.state_dir[0])
        return NULL;
    struct checkpoint *ck = calloc(1, sizeof *ck);
    if (!ck) {
        log_warn("checkpoints off: out of memory");
        return NULL;
    }
    ck->L = L;
    ck->start = *start;
    ck->plane = (size_t)L->size * L->size;
    sem_init(&ck->wake, 0, 0);
    pthread_mutex_init(&ck->lock, NULL);
    pthread_cond_init(&ck->idle, NULL);
    ck->kill_before_rename = fault_switch("checkpoint", "kill_before_rename");
    const char *why = setup(ck);
    if (why) {
        if (why[0])
            log_warn("checkpoints off: %s", why);
        checkpoint_close(ck);
        return NULL;
    }
    struct error err;
    if (dir_make(ck->dir, &err)) {
        log_warn("cannot save the loop's state: %s; the piece goes on, unsaved: create it or point "
                 "kiosk.state_dir at a writable folder",
                 err.msg);
        ck->failing = true;
    }
    ck->last_offer_s = clock_now();
    return ck;
}

void checkpoint_close(struct checkpoint *ck)
{
    if (!ck)
        return;
    if (ck->writer_started) {
        atomic_store(&ck->stop, true);
        sem_post(&ck->wake);
        pthread_join(ck->writer, NULL);
    }
    checkpoint_free(ck);
}

const char *checkpoint_path(const struct checkpoint *ck)
{
    return ck ? ck->path : "";
}

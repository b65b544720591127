/* stats.c — see stats.h. */
#include "stats.h"

#include "clock.h"

#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

long stats_rss_kib(void)
{
    int fd = open("/proc/self/statm", O_RDONLY);
    if (fd < 0)
        return 0;
    char buf[128];
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return 0;
    buf[n] = '\0';
    long size = 0, resident = 0;
    if (sscanf(buf, "%ld %ld", &size, &resident) != 2)
        return 0;
    return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

int stats_open(struct stats *s, const char *path, struct error *err)
{
    *s = (struct stats){.start_s = clock_now()};
    s->last_s = s->start_s;
    if (!path)
        return 0;
    if (path[0] == '-' && path[1] == '\0') {
        s->out = stdout;
        return 0;
    }
    s->out = fopen(path, "w");
    if (!s->out)
        return error_set(err, "--stats %s: cannot write it (%s)", path, strerror(errno));
    s->owned = true;
    return 0;
}

/* Appends to s->line (snprintf semantics: a line that would not fit is cut, never
 * overrun; 4 KiB holds every field with room to spare). */
static void line_add(struct stats *s, size_t *used, const char *fmt, ...) MNEMO_PRINTF(3, 4);
static void line_add(struct stats *s, size_t *used, const char *fmt, ...)
{
    if (*used >= sizeof s->line)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(s->line + *used, sizeof s->line - *used, fmt, ap);
    va_end(ap);
    *used = n < 0 ? sizeof s->line : *used + (size_t)n;
}

static void events_add(struct stats *s, size_t *used, const struct guard_stats *g)
{
    line_add(s, used, "\"events\":{");
    for (int e = 0; e < GUARD_EVENT_COUNT; e++)
        line_add(s, used, "%s\"%s\":%llu", e ? "," : "", guard_event_name((enum guard_event)e),
                 (unsigned long long)g->onsets[e]);
    line_add(s, used,
             "},\"boosts\":%llu,\"turns\":%llu,\"reseeds\":%llu,\"boost\":%.3g,\"novelty\":%d",
             (unsigned long long)g->boosts, (unsigned long long)g->turns,
             (unsigned long long)g->reseeds, (double)g->boost_now, g->novelty);
}

/* `value` as a JSON string: quotes, backslashes and control characters escaped. */
static void json_string_add(struct stats *s, size_t *used, const char *value)
{
    char out[6 * PARAM_STRING_MAX + 3], *o = out;
    *o++ = '"';
    for (const unsigned char *c = (const unsigned char *)value; *c; c++) {
        if (*c == '"' || *c == '\\')
            o += sprintf(o, "\\%c", *c);
        else if (*c < 0x20)
            o += sprintf(o, "\\u%04x", *c);
        else
            *o++ = (char)*c;
    }
    *o++ = '"';
    *o = '\0';
    line_add(s, used, "%s", out);
}

/* The models that run (a live swap changes them), as their settings, and the swaps. */
static void models_add(struct stats *s, size_t *used, const struct loop *L)
{
    line_add(s, used, ",\"painter\":");
    json_string_add(s, used, L->p.loop.painter);
    line_add(s, used, ",\"sketcher\":");
    json_string_add(s, used, L->p.loop.sketcher);
    line_add(s, used, ",\"swaps\":%llu", (unsigned long long)L->swaps);
}

static void display_add(struct stats *s, size_t *used)
{
    const struct stats_display *d = s->display;
    line_add(s, used,
             ",\"display_frames\":%llu,\"display_fps\":%.2f,\"dropped\":%llu,\"closed\":%s",
             (unsigned long long)atomic_load_explicit(&d->frames, memory_order_relaxed),
             atomic_load_explicit(&d->fps_x100, memory_order_relaxed) / 100.0,
             (unsigned long long)atomic_load_explicit(&d->dropped, memory_order_relaxed),
             atomic_load_explicit(&d->closed, memory_order_relaxed) ? "true" : "false");
    int64_t opens = atomic_load_explicit(&d->opens_at, memory_order_relaxed);
    if (opens && atomic_load_explicit(&d->closed, memory_order_relaxed))
        line_add(s, used, ",\"opens_at\":%lld", (long long)opens);
}

static void record_add(struct stats *s, size_t *used, struct stats_record *r)
{
    line_add(s, used, ",\"record_frames\":%llu,\"record_dropped\":%llu,\"record_failed\":%s",
             (unsigned long long)atomic_load_explicit(&r->frames, memory_order_relaxed),
             (unsigned long long)atomic_load_explicit(&r->dropped, memory_order_relaxed),
             atomic_load_explicit(&r->failed, memory_order_relaxed) ? "true" : "false");
}

static void line_format(struct stats *s, const struct loop *L, int64_t frames, double now,
                        bool final)
{
    double dt = now - s->last_s;
    double rate = dt > 0 ? (double)(L->iterations - s->last_iterations) / dt : 0;
    const struct lo_metrics *m = &L->metrics;
    size_t used = 0;
    line_add(s, &used,
             "{\"t\":%.3f,\"iterations\":%llu,\"it_per_s\":%.2f,\"frames\":%lld,"
             "\"change\":%.4f,\"variance\":%.4f,\"hf_ratio\":%.3f,\"ink\":%.3f,",
             now - s->start_s, (unsigned long long)L->iterations, rate, (long long)frames,
             (double)m->change, (double)m->variance, (double)m->hf_ratio, (double)m->ink);
    events_add(s, &used, &L->guard.stats);
    line_add(s, &used, ",\"nonfinite\":%llu", (unsigned long long)L->nonfinite_iterations);
    line_add(s, &used, ",\"params_version\":%llu,\"perturb_noise\":%.6g",
             (unsigned long long)s->params_version, (double)L->p.perturb.noise);
    models_add(s, &used, L);
    if (s->display)
        display_add(s, &used);
    if (s->record)
        record_add(s, &used, s->record);
    line_add(s, &used, ",\"rss_kib\":%ld,\"backend\":\"%s\"%s}", stats_rss_kib(), loop_backend(L),
             final ? ",\"final\":true" : "");
}

/* The newest portrait to the monitor, a few times a second. */
static void frame_offer(struct stats *s, const struct loop *L, double now)
{
    if (!s->monitor.frame || L->iterations == 0 || now - s->frame_s < STATS_FRAME_S)
        return;
    s->monitor.frame(s->monitor.ctx, L->portrait.data, L->size);
    s->frame_s = now;
}

void stats_tick(struct stats *s, const struct loop *L, int64_t frames, bool final)
{
    double now = clock_now();
    frame_offer(s, L, now);
    bool wanted = s->out || s->monitor.line;
    if (!wanted || (!final && now - s->last_s < 1.0))
        return;
    line_format(s, L, frames, now, final);
    if (s->out) {
        fprintf(s->out, "%s\n", s->line);
        fflush(s->out);
    }
    if (s->monitor.line)
        s->monitor.line(s->monitor.ctx, s->line);
    s->last_s = now;
    s->last_iterations = L->iterations;
}

void stats_close(struct stats *s)
{
    if (s->owned && s->out)
        fclose(s->out);
    s->out = NULL;
}

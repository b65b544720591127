/* stats.c — see stats.h. */
#include "stats.h"

#include "clock.h"

#include <errno.h>
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

static void events_write(FILE *f, const struct guard_stats *g)
{
    fputs("\"events\":{", f);
    for (int e = 0; e < GUARD_EVENT_COUNT; e++)
        fprintf(f, "%s\"%s\":%llu", e ? "," : "", guard_event_name((enum guard_event)e),
                (unsigned long long)g->onsets[e]);
    fprintf(f, "},\"boosts\":%llu,\"reseeds\":%llu,\"boost\":%.3g,\"novelty\":%d",
            (unsigned long long)g->boosts, (unsigned long long)g->reseeds, (double)g->boost_now,
            g->novelty);
}

static void record_write(FILE *f, struct stats_record *r)
{
    fprintf(f, ",\"record_frames\":%llu,\"record_dropped\":%llu,\"record_failed\":%s",
            (unsigned long long)atomic_load_explicit(&r->frames, memory_order_relaxed),
            (unsigned long long)atomic_load_explicit(&r->dropped, memory_order_relaxed),
            atomic_load_explicit(&r->failed, memory_order_relaxed) ? "true" : "false");
}

void stats_tick(struct stats *s, const struct loop *L, int64_t frames, bool final)
{
    double now = clock_now();
    if (!s->out || (!final && now - s->last_s < 1.0))
        return;
    double dt = now - s->last_s;
    double rate = dt > 0 ? (double)(L->iterations - s->last_iterations) / dt : 0;
    const struct lo_metrics *m = &L->metrics;
    fprintf(s->out,
            "{\"t\":%.3f,\"iterations\":%llu,\"it_per_s\":%.2f,\"frames\":%lld,"
            "\"change\":%.4f,\"variance\":%.4f,\"hf_ratio\":%.3f,\"ink\":%.3f,",
            now - s->start_s, (unsigned long long)L->iterations, rate, (long long)frames,
            (double)m->change, (double)m->variance, (double)m->hf_ratio, (double)m->ink);
    events_write(s->out, &L->guard.stats);
    fprintf(s->out, ",\"nonfinite\":%llu", (unsigned long long)L->nonfinite_iterations);
    fprintf(s->out, ",\"params_version\":%llu,\"perturb_noise\":%.6g",
            (unsigned long long)s->params_version, (double)L->p.perturb.noise);
    if (s->display)
        fprintf(
            s->out, ",\"display_frames\":%llu,\"display_fps\":%.2f,\"dropped\":%llu,\"closed\":%s",
            (unsigned long long)atomic_load_explicit(&s->display->frames, memory_order_relaxed),
            atomic_load_explicit(&s->display->fps_x100, memory_order_relaxed) / 100.0,
            (unsigned long long)atomic_load_explicit(&s->display->dropped, memory_order_relaxed),
            atomic_load_explicit(&s->display->closed, memory_order_relaxed) ? "true" : "false");
    if (s->record)
        record_write(s->out, s->record);
    fprintf(s->out, ",\"rss_kib\":%ld,\"backend\":\"%s\"%s}\n", stats_rss_kib(), loop_backend(L),
            final ? ",\"final\":true" : "");
    fflush(s->out);
    s->last_s = now;
    s->last_iterations = L->iterations;
}

void stats_close(struct stats *s)
{
    if (s->owned && s->out)
        fclose(s->out);
    s->out = NULL;
}

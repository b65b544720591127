/* capture_progress.c — the recording's progress bar on a terminal (see capture.h). */
#include "capture.h"

#include <stdio.h>
#include <time.h>
#include <unistd.h>

#define BAR_WIDTH 30
#define REDRAW_S  0.1

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

void progress_init(struct progress *p, FILE *out, int64_t total)
{
    p->out = out;
    p->enabled = out && isatty(fileno(out));
    p->total = total;
    p->start_s = now_s();
    p->last_draw_s = -1.0;
}

/* "1:05" or "2:01:05". */
static void format_duration(char *buf, size_t size, double s)
{
    long long t = (long long)(s + 0.5);
    if (t >= 3600)
        snprintf(buf, size, "%lld:%02lld:%02lld", t / 3600, t / 60 % 60, t % 60);
    else
        snprintf(buf, size, "%lld:%02lld", t / 60, t % 60);
}

void progress_format(char *buf, size_t size, int64_t done, int64_t total, double elapsed_s)
{
    double fps = elapsed_s > 0.0 ? (double)done / elapsed_s : 0.0;
    char eta[32] = "--:--";
    if (fps > 0.0 && total > 0)
        format_duration(eta, sizeof eta, (double)(total - done) / fps);
    if (total <= 0) {
        snprintf(buf, size, "%lld frames  %.1f fps", (long long)done, fps);
        return;
    }
    char bar[BAR_WIDTH + 1];
    int filled = (int)(BAR_WIDTH * (done > total ? total : done) / total);
    for (int i = 0; i < BAR_WIDTH; i++)
        bar[i] = i < filled ? '#' : '-';
    bar[BAR_WIDTH] = '\0';
    snprintf(buf, size, "[%s] %lld/%lld frames  %.1f fps  ETA %s", bar, (long long)done,
             (long long)total, fps, eta);
}

void progress_update(struct progress *p, int64_t done)
{
    if (!p->enabled)
        return;
    double now = now_s();
    /* Redrawing every frame would cost more than the frame on a slow terminal. */
    if (done < p->total && p->last_draw_s >= 0.0 && now - p->last_draw_s < REDRAW_S)
        return;
    p->last_draw_s = now;
    char line[160];
    progress_format(line, sizeof line, done, p->total, now - p->start_s);
    /* \033[K clears what a longer previous line left to the right. */
    fprintf(p->out, "\r%s\033[K", line);
    fflush(p->out);
}

void progress_finish(struct progress *p)
{
    if (p->enabled && p->last_draw_s >= 0.0) {
        fputc('\n', p->out);
        fflush(p->out);
    }
}

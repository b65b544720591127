/* web_events.c — see web_internal.h: GET /api/events, what keeps every open page current.
 *
 * Each live page holds one connection on a thread of its own (libmicrohttpd's thread per
 * connection may block in the reader), which looks every WEB_EVENT_PERIOD_MS at what
 * changed and sends it as Server-Sent Events:
 *   event: params  data: {"NAME": value, ...}   the desired values that changed (any source)
 *   event: stats   data: the newest --stats line
 *   event: log     data: [{"seq","time","level","text"}, ...]
 *   event: rejected data: {"error": "..."}        a rejected change (control_last_error)
 *   event: frame   data: N                         a new thumbnail at /api/frame.jpg
 * The first message carries every parameter and the kept log lines. */
#include "web_internal.h"

#include "clock.h"
#include "control.h"

#include <stdlib.h>
#include <string.h>

/* A quiet stream still says something this often, so that proxies and the idle timeout
 * keep it, and a page sees it is alive. */
#define KEEPALIVE_S 5.0

struct stream {
    struct web *w;
    struct params seen; /* the desired values the page has */
    bool started;
    uint64_t log_seq, status_seq, error_seq, frame_seq;
    struct text out; /* the events not yet sent */
    size_t sent;
    double last_send_s;
};

static void event_begin(struct text *t, const char *name)
{
    text_add(t, "event: %s\ndata: ", name);
}

static void event_end(struct text *t)
{
    text_add(t, "\n\n");
}

static void params_collect(struct stream *s)
{
    static _Thread_local struct params now;
    control_params(s->w->ctl, &now);
    struct text t = {0};
    if (web_params_changed_json(&t, s->started ? &s->seen : NULL, &now)) {
        event_begin(&s->out, "params");
        text_add(&s->out, "%s", t.data);
        event_end(&s->out);
    }
    text_free(&t);
    s->seen = now;
}

static void status_collect(struct stream *s)
{
    uint64_t seq = atomic_load(&s->w->status_seq);
    if (seq == s->status_seq)
        return;
    s->status_seq = seq;
    event_begin(&s->out, "stats");
    web_status_copy(s->w, &s->out);
    event_end(&s->out);
}

static void log_collect(struct stream *s)
{
    struct text t = {0};
    uint64_t last = s->log_seq;
    web_log_json(&t, s->log_seq, &last);
    if (last != s->log_seq) {
        event_begin(&s->out, "log");
        text_add(&s->out, "%s", t.data);
        event_end(&s->out);
    }
    s->log_seq = last;
    text_free(&t);
}

static void error_collect(struct stream *s)
{
    char msg[ERROR_MSG_MAX];
    uint64_t seq = control_last_error(s->w->ctl, msg, sizeof msg);
    bool fresh = seq != s->error_seq && s->started && msg[0];
    s->error_seq = seq;
    if (!fresh)
        return;
    event_begin(&s->out, "rejected");
    text_add(&s->out, "{\"error\":");
    text_add_json_string(&s->out, msg);
    text_add(&s->out, "}");
    event_end(&s->out);
}

static void frame_collect(struct stream *s)
{
    uint64_t seq = atomic_load(&s->w->frame_seq);
    if (seq == s->frame_seq)
        return;
    s->frame_seq = seq;
    event_begin(&s->out, "frame");
    text_add(&s->out, "%llu", (unsigned long long)seq);
    event_end(&s->out);
}

/* Everything new since the last look into s->out. */
static void stream_collect(struct stream *s, double now)
{
    s->out.len = 0;
    s->sent = 0;
    if (s->out.data)
        s->out.data[0] = '\0';
    error_collect(s);
    params_collect(s);
    status_collect(s);
    log_collect(s);
    frame_collect(s);
    s->started = true;
    if (s->out.len == 0 && now - s->last_send_s >= KEEPALIVE_S)
        text_add(&s->out, ": still here\n\n");
    if (s->out.len)
        s->last_send_s = now;
}

static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    (void)pos;
    struct stream *s = cls;
    while (s->sent >= s->out.len) {
        if (atomic_load(&s->w->quit))
            return MHD_CONTENT_READER_END_OF_STREAM;
        stream_collect(s, clock_now());
        if (s->out.failed)
            return MHD_CONTENT_READER_END_WITH_ERROR;
        if (s->out.len == 0)
            clock_sleep_until(clock_now() + WEB_EVENT_PERIOD_MS / 1000.0);
    }
    size_t n = s->out.len - s->sent < max ? s->out.len - s->sent : max;
    memcpy(buf, s->out.data + s->sent, n);
    s->sent += n;
    return (ssize_t)n;
}

static void stream_free(void *cls)
{
    struct stream *s = cls;
    atomic_fetch_sub(&s->w->streams, 1);
    text_free(&s->out);
    free(s);
}

enum MHD_Result web_events_start(struct web *w, struct MHD_Connection *c)
{
    if (atomic_fetch_add(&w->streams, 1) >= WEB_EVENT_STREAMS) {
        atomic_fetch_sub(&w->streams, 1);
        static const char busy[] = "{\"error\":\"too many live pages open at once\"}\n";
        struct MHD_Response *r =
            MHD_create_response_from_buffer(sizeof busy - 1, (void *)busy, MHD_RESPMEM_PERSISTENT);
        if (!r)
            return MHD_NO;
        enum MHD_Result rc = MHD_queue_response(c, 503, r);
        MHD_destroy_response(r);
        return rc;
    }
    struct stream *s = calloc(1, sizeof *s);
    if (s)
        s->w = w;
    struct MHD_Response *r =
        s ? MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, stream_read, s, stream_free)
          : NULL;
    if (!r) {
        if (s)
            stream_free(s);
        else
            atomic_fetch_sub(&w->streams, 1);
        return MHD_NO;
    }
    s->last_send_s = clock_now();
    MHD_add_response_header(r, "Content-Type", "text/event-stream");
    MHD_add_response_header(r, "Cache-Control", "no-store");
    enum MHD_Result rc = MHD_queue_response(c, 200, r);
    MHD_destroy_response(r);
    return rc;
}

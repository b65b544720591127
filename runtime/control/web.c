/* web.c — see web.h: the HTTP server, its routes and the live pages' event streams. The
 * JSON is web_json.c, the thumbnail web_frame.c, the page itself web/ (embedded). */
#include "web.h"
#include "web_internal.h"

#include "control.h"
#include "log.h"
#include "presets.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <microhttpd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* One request: its body as it arrives (POST), and who sent it. */
struct request {
    char body[WEB_BODY_MAX];
    size_t len;
    bool too_big;
};

/* ---- replies ------------------------------------------------------------------------- */

/* What every answer says of itself: its type, taken as is (no sniffing), and that the page
 * loads nothing from elsewhere and is framed by nobody. */
static void safety_headers_add(struct MHD_Response *r, const char *type)
{
    MHD_add_response_header(r, "Content-Type", type);
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(r, "Content-Security-Policy",
                            "default-src 'self'; img-src 'self' blob:; frame-ancestors 'none'");
}

static enum MHD_Result reply(struct MHD_Connection *c, unsigned status, const char *type,
                             const void *data, size_t len)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(len, (void *)data, MHD_RESPMEM_MUST_COPY);
    if (!r)
        return MHD_NO;
    MHD_add_response_header(r, "Cache-Control", "no-store");
    safety_headers_add(r, type);
    enum MHD_Result rc = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return rc;
}

static enum MHD_Result reply_text(struct MHD_Connection *c, unsigned status, struct text *t)
{
    enum MHD_Result rc =
        t->failed ? reply(c, 500, "application/json", "{\"error\":\"out of memory\"}", 25)
                  : reply(c, status, "application/json", t->data, t->len);
    text_free(t);
    return rc;
}

/* {"error": msg} with status. */
static enum MHD_Result reply_error(struct MHD_Connection *c, unsigned status, const char *msg)
{
    struct text t = {0};
    text_add(&t, "{\"error\":");
    text_add_json_string(&t, msg);
    text_add(&t, "}\n");
    return reply_text(c, status, &t);
}

/* ---- who asks, and may they ---------------------------------------------------------- */

static void client_name(struct MHD_Connection *c, char *buf, size_t size)
{
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    snprintf(buf, size, "?");
    if (!info || !info->client_addr)
        return;
    const struct sockaddr *sa = info->client_addr;
    if (sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, buf,
                  (socklen_t)size);
    else if (sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, buf,
                  (socklen_t)size);
}

/* Compares in time that does not depend on where the texts differ. */
static bool secret_equal(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    unsigned char diff = (unsigned char)(la != lb);
    for (size_t i = 0; i < la; i++)
        diff |= (unsigned char)(a[i] ^ b[i % (lb ? lb : 1)]);
    return diff == 0;
}

static const char *bearer(struct MHD_Connection *c)
{
    const char *h = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
    return h && strncmp(h, "Bearer ", 7) == 0 ? h + 7 : NULL;
}

static bool authorized(const struct web *w, struct MHD_Connection *c)
{
    if (!w->token[0])
        return true;
    const char *given[] = {MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "token"),
                           bearer(c),
                           MHD_lookup_connection_value(c, MHD_COOKIE_KIND, "mnemo_token")};
    for (size_t i = 0; i < sizeof given / sizeof given[0]; i++)
        if (given[i] && secret_equal(given[i], w->token))
            return true;
    return false;
}

/* ---- routes -------------------------------------------------------------------------- */

static enum MHD_Result get_file(struct web *w, struct MHD_Connection *c, const char *url)
{
    const struct web_file *f = web_file_find(strcmp(url, "/") == 0 ? "index.html" : url + 1);
    if (!f)
        return reply_error(c, 404, "no such page: try / or /api/params");
    struct MHD_Response *r =
        MHD_create_response_from_buffer(strlen(f->text), (void *)f->text, MHD_RESPMEM_PERSISTENT);
    if (!r)
        return MHD_NO;
    safety_headers_add(r, web_file_type(f->name));
    /* A token given once in the address keeps the page's own requests authorized. */
    const char *token = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "token");
    if (w->token[0] && token) {
        char cookie[PARAM_STRING_MAX + 64];
        snprintf(cookie, sizeof cookie, "mnemo_token=%s; Path=/; HttpOnly; SameSite=Strict",
                 w->token);
        MHD_add_response_header(r, "Set-Cookie", cookie);
    }
    enum MHD_Result rc = MHD_queue_response(c, 200, r);
    MHD_destroy_response(r);
    return rc;
}

static enum MHD_Result get_params(struct web *w, struct MHD_Connection *c)
{
    static _Thread_local struct params p;
    control_params(w->ctl, &p);
    struct text t = {0};
    web_params_json(&t, &p);
    text_add(&t, "\n");
    return reply_text(c, 200, &t);
}

static enum MHD_Result post_param(struct web *w, struct MHD_Connection *c, const char *name,
                                  const struct request *rq)
{
    static _Thread_local char value[PARAM_TEXT_MAX];
    struct error err;
    if (rq->too_big)
        return reply_error(c, 413, "the request body is over 4096 bytes");
    if (!params_find(name)) {
        params_unknown_error(name, &err);
        return reply_error(c, 404, err.msg);
    }
    if (web_body_value(rq->body, rq->len, value, sizeof value, &err))
        return reply_error(c, 400, err.msg);
    char who[192], from[64];
    client_name(c, from, sizeof from);
    snprintf(who, sizeof who, "web POST /api/params/%.40s from %s", name, from);
    if (control_set_from(w->ctl, name, value, "the web page", who, &err))
        return reply_error(c, 400, err.msg);
    static _Thread_local struct params now;
    control_params(w->ctl, &now);
    struct text t = {0};
    text_add(&t, "{\"name\":\"%s\",\"value\":", name);
    web_value_json(&t, &now, params_find(name));
    text_add(&t, "}\n");
    return reply_text(c, 200, &t);
}

static enum MHD_Result get_stats(struct web *w, struct MHD_Connection *c)
{
    struct text t = {0};
    if (!web_status_copy(w, &t))
        return reply_error(c, 503, "no stats yet: the first line comes a second after start");
    text_add(&t, "\n");
    return reply_text(c, 200, &t);
}

static enum MHD_Result get_frame(struct web *w, struct MHD_Connection *c)
{
    unsigned char *jpeg = NULL;
    size_t len = 0;
    if (web_frame_jpeg(w, &jpeg, &len))
        return reply_error(c, 503, "no frame yet: the first comes after the first iteration");
    enum MHD_Result rc = reply(c, 200, "image/jpeg", jpeg, len);
    free(jpeg);
    return rc;
}

static enum MHD_Result get_log(struct MHD_Connection *c)
{
    const char *after = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "after");
    struct text t = {0};
    text_add(&t, "{\"log\":");
    web_log_json(&t, after ? strtoull(after, NULL, 10) : 0, NULL);
    text_add(&t, "}\n");
    return reply_text(c, 200, &t);
}

static enum MHD_Result get_presets(struct web *w, struct MHD_Connection *c)
{
    static _Thread_local struct params p;
    control_params(w->ctl, &p);
    struct text t = {0};
    text_add(&t, "{\"dir\":");
    text_add_json_string(&t, p.control.presets);
    text_add(&t, ",\"presets\":[");
    DIR *d = opendir(p.control.presets[0] ? p.control.presets : ".");
    size_t n = 0;
    for (struct dirent *e; d && (e = readdir(d));) {
        size_t len = strlen(e->d_name);
        char path[4096];
        struct error err;
        if (len < 5 || strcmp(e->d_name + len - 4, ".cfg") != 0)
            continue;
        char name[256];
        snprintf(name, sizeof name, "%.*s", (int)(len - 4), e->d_name);
        if (preset_path(path, sizeof path, p.control.presets, name, &err))
            continue; /* not a name a preset can have */
        text_add(&t, "%s", n++ ? "," : "");
        text_add_json_string(&t, name);
    }
    if (d)
        closedir(d);
    text_add(&t, "]}\n");
    return reply_text(c, 200, &t);
}

/* POST /api/presets/NAME/recall or /store: queued to the control's thread, which does the
 * file I/O; what becomes of it comes as a log line (and an error event when it fails). */
static enum MHD_Result post_preset(struct web *w, struct MHD_Connection *c, const char *rest)
{
    static _Thread_local struct params p;
    control_params(w->ctl, &p);
    char name[128], path[4096];
    const char *slash = strchr(rest, '/');
    struct error err;
    if (!slash || (size_t)(slash - rest) >= sizeof name)
        return reply_error(c, 404, "use POST /api/presets/NAME/recall or /api/presets/NAME/store");
    snprintf(name, sizeof name, "%.*s", (int)(slash - rest), rest);
    if (preset_path(path, sizeof path, p.control.presets, name, &err))
        return reply_error(c, 400, err.msg);
    bool recall = strcmp(slash, "/recall") == 0;
    if (!recall && strcmp(slash, "/store") != 0)
        return reply_error(c, 404, "use POST /api/presets/NAME/recall or /api/presets/NAME/store");
    if (recall && access(path, R_OK) != 0) {
        char msg[4400];
        snprintf(msg, sizeof msg, "preset %s: %s cannot be read", name, path);
        return reply_error(c, 404, msg);
    }
    if (recall)
        control_preset_load(w->ctl, name);
    else
        control_preset_save(w->ctl, name);
    struct text t = {0};
    text_add(&t, "{\"preset\":");
    text_add_json_string(&t, name);
    text_add(&t, ",\"queued\":\"%s\"}\n", recall ? "recall" : "store");
    return reply_text(c, 202, &t);
}

static enum MHD_Result route_get(struct web *w, struct MHD_Connection *c, const char *url)
{
    if (strcmp(url, "/api/params") == 0)
        return get_params(w, c);
    if (strcmp(url, "/api/stats") == 0)
        return get_stats(w, c);
    if (strcmp(url, "/api/frame.jpg") == 0)
        return get_frame(w, c);
    if (strcmp(url, "/api/log") == 0)
        return get_log(c);
    if (strcmp(url, "/api/presets") == 0)
        return get_presets(w, c);
    if (strcmp(url, "/api/events") == 0)
        return web_events_start(w, c);
    if (strncmp(url, "/api/", 5) == 0)
        return reply_error(c, 404, "no such endpoint (README: \"The web page\" lists them)");
    return get_file(w, c, url);
}

static enum MHD_Result route_post(struct web *w, struct MHD_Connection *c, const char *url,
                                  const struct request *rq)
{
    if (strncmp(url, "/api/params/", 12) == 0)
        return post_param(w, c, url + 12, rq);
    if (strncmp(url, "/api/presets/", 13) == 0)
        return post_preset(w, c, url + 13);
    if (strcmp(url, "/api/reseed") == 0) {
        control_reseed(w->ctl);
        log_line(LOG_NOTICE, "live: web: reseed asked for");
        return reply(c, 202, "application/json", "{\"reseed\":\"queued\"}\n", 20);
    }
    return reply_error(c, 404, "no such endpoint (README: \"The web page\" lists them)");
}

/* Collects a POST body in pieces (refusing more than WEB_BODY_MAX); true once it is all in. */
static bool body_collect(struct request *rq, const char *data, size_t *size)
{
    if (*size == 0)
        return true;
    if (rq->len + *size > sizeof rq->body)
        rq->too_big = true;
    else
        memcpy(rq->body + rq->len, data, *size);
    if (!rq->too_big)
        rq->len += *size;
    *size = 0;
    return false;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *data,
                                  size_t *size, void **state)
{
    (void)version;
    struct web *w = cls;
    bool post = strcmp(method, "POST") == 0;
    if (!*state) { /* the first call: only the headers are in */
        if (!authorized(w, c))
            return reply_error(c, 401, "this page needs web.token: open it as /?token=...");
        if (!post && strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
            return reply_error(c, 405, "only GET and POST");
        if (!(*state = calloc(1, sizeof(struct request))))
            return MHD_NO;
        return MHD_YES;
    }
    if (post && !body_collect(*state, data, size))
        return MHD_YES;
    return post ? route_post(w, c, url, *state) : route_get(w, c, url);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **state,
                         enum MHD_RequestTerminationCode why)
{
    (void)cls, (void)c, (void)why;
    free(*state);
    *state = NULL;
}

static void on_mhd_error(void *cls, const char *fmt, va_list ap)
{
    struct web *w = cls;
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    size_t n = strlen(msg);
    while (n && msg[n - 1] == '\n')
        msg[--n] = '\0';
    if (strstr(msg, "no longer available") || strstr(msg, "Connection reset"))
        return;        /* a page closed, a phone went to sleep: nothing to tell anyone */
    if (w->starting) { /* said once, in web_open's own error */
        snprintf(w->start_error, sizeof w->start_error, "%s", msg);
        return;
    }
    log_line(LOG_INFO, "web: %s", msg);
}

/* ---- open / close -------------------------------------------------------------------- */

/* p->web.address as a socket address; whether it is a loopback one. */
static int address_parse(const struct params *p, struct sockaddr_storage *sa, bool *loopback,
                         struct error *err)
{
    memset(sa, 0, sizeof *sa);
    struct sockaddr_in *v4 = (struct sockaddr_in *)sa;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)sa;
    if (inet_pton(AF_INET, p->web.address, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons((uint16_t)p->web.port);
        *loopback = (ntohl(v4->sin_addr.s_addr) >> 24) == 127;
        return 0;
    }
    if (inet_pton(AF_INET6, p->web.address, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons((uint16_t)p->web.port);
        *loopback = IN6_IS_ADDR_LOOPBACK(&v6->sin6_addr);
        return 0;
    }
    return error_set(err,
                     "web.address: '%s' is not a numeric IP address (127.0.0.1 = this "
                     "machine, 0.0.0.0 = every network, :: = every IPv6 network)",
                     p->web.address);
}

static struct MHD_Daemon *daemon_start(struct web *w, const struct sockaddr_storage *sa)
{
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION |
                     MHD_USE_ERROR_LOG | (sa->ss_family == AF_INET6 ? MHD_USE_IPv6 : 0);
    return MHD_start_daemon(
        flags, 0, NULL, NULL, on_request, w, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_error, w,
        MHD_OPTION_SOCK_ADDR, (const struct sockaddr *)sa, MHD_OPTION_CONNECTION_LIMIT,
        (unsigned)WEB_CONNECTIONS, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)WEB_TIMEOUT_S,
        MHD_OPTION_THREAD_STACK_SIZE, (size_t)(512 * 1024), MHD_OPTION_NOTIFY_COMPLETED,
        on_completed, w, MHD_OPTION_LISTENING_ADDRESS_REUSE, 1u, MHD_OPTION_END);
}

struct web *web_open(struct control *ctl, const struct params *p, struct error *err)
{
    struct sockaddr_storage sa;
    bool loopback = false;
    if (address_parse(p, &sa, &loopback, err))
        return NULL;
    if (!loopback && !p->web.token[0]) {
        error_set(err,
                  "web.address %s reaches beyond this machine: set web.token too (a long "
                  "random word; open the page as http://HOST:%d/?token=...)",
                  p->web.address, p->web.port);
        return NULL;
    }
    struct web *w = web_state_new(ctl, p->web.token);
    if (!w) {
        error_set(err, "out of memory for the web page");
        return NULL;
    }
    w->starting = true;
    w->daemon = daemon_start(w, &sa);
    w->starting = false;
    const union MHD_DaemonInfo *info =
        w->daemon ? MHD_get_daemon_info(w->daemon, MHD_DAEMON_INFO_BIND_PORT) : NULL;
    if (!info) {
        const char *why = strrchr(w->start_error, ':');
        error_set(err, "web: cannot listen on %s:%d (%s; web.port = 0 picks a free one)",
                  p->web.address, p->web.port, why ? why + 2 : "libmicrohttpd did not start");
        web_close(w);
        return NULL;
    }
    w->port = info->port;
    log_line(LOG_NOTICE, "live: web: the page is at http://%s:%d/%s", p->web.address, w->port,
             w->token[0] ? " (with ?token=...)" : "");
    return w;
}

void web_close(struct web *w)
{
    if (!w)
        return;
    atomic_store(&w->quit, true);
    if (w->daemon)
        MHD_stop_daemon(w->daemon);
    web_state_free(w);
}

int web_port(const struct web *w)
{
    return w ? w->port : 0;
}

/* The web page's server (control/web.c) through real sockets on loopback: every endpoint,
 * the token, bad bodies, unknown and out-of-range parameters, the limits (100 clients at
 * once, a client that never reads, one that sends nothing), the live event stream, presets,
 * and the JSON pieces on their own. */
#include "check.h"
#include "control.h"
#include "log.h"
#include "web.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static struct params start;

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + t.tv_nsec * 1e-9;
}

static void sleep_s(double s)
{
    struct timespec t = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
    nanosleep(&t, NULL);
}

/* ---- a minimal HTTP/1.0 client ---- */

static int connect_to(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static void send_all(int fd, const char *data, size_t len)
{
    while (len) {
        ssize_t n = send(fd, data, len, MSG_NOSIGNAL);
        if (n <= 0)
            return;
        data += n;
        len -= (size_t)n;
    }
}

/* Reads until the server closes or `size` is full or `timeout_s` passes; returns bytes. */
static size_t read_all(int fd, char *buf, size_t size, double timeout_s)
{
    size_t used = 0;
    double until = now_s() + timeout_s;
    while (used + 1 < size && now_s() < until) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, 100) <= 0)
            continue;
        ssize_t n = recv(fd, buf + used, size - 1 - used, 0);
        if (n <= 0)
            break;
        used += (size_t)n;
    }
    buf[used] = '\0';
    return used;
}

/* One request; returns the status (0: no answer) and the whole response in resp. */
static int http(int port, const char *method, const char *path, const char *headers,
                const char *body, char *resp, size_t size)
{
    int fd = connect_to(port);
    if (fd < 0)
        return 0;
    char req[8192];
    size_t blen = body ? strlen(body) : 0;
    int n = snprintf(req, sizeof req, "%s %s HTTP/1.0\r\nHost: x\r\n%sContent-Length: %zu\r\n\r\n",
                     method, path, headers ? headers : "", blen);
    send_all(fd, req, (size_t)n);
    if (body)
        send_all(fd, body, blen);
    size_t got = read_all(fd, resp, size, 10.0);
    close(fd);
    int status = 0;
    if (got > 12)
        sscanf(resp, "HTTP/1.%*d %d", &status);
    return status;
}

static char resp[1 << 17];

static struct control *web_control(const char *token, const char *presets)
{
    params_defaults(&start);
    start.web.enabled = true;
    start.web.port = 0;
    snprintf(start.web.token, sizeof start.web.token, "%s", token);
    if (presets)
        snprintf(start.control.presets, sizeof start.control.presets, "%s", presets);
    struct control_options o = {0};
    struct error err;
    struct control *ctl = control_open(&o, &start, &err);
    CHECK_MSG(ctl, "%s", err.msg);
    if (ctl)
        CHECK(control_web_port(ctl) > 0);
    return ctl;
}

/* ---- the JSON pieces ---- */

static void test_body_values(void)
{
    char v[64];
    struct error err;
    CHECK(web_body_value("{\"value\": 0.25}", 15, v, sizeof v, &err) == 0 && !strcmp(v, "0.25"));
    CHECK(web_body_value(" {\"value\":\"a\\\"b\"} ", 18, v, sizeof v, &err) == 0 &&
          !strcmp(v, "a\"b"));
    CHECK(web_body_value("{\"value\":true}", 14, v, sizeof v, &err) == 0 && !strcmp(v, "true"));
    CHECK(web_body_value("0.3\n", 4, v, sizeof v, &err) == 0 && !strcmp(v, "0.3"));
    CHECK(web_body_value("{\"value\": 1", 11, v, sizeof v, &err) == -1 &&
          strstr(err.msg, "bad JSON"));
    CHECK(web_body_value("{\"v\": 1}", 8, v, sizeof v, &err) == -1 && strstr(err.msg, "\"v\""));
    CHECK(web_body_value("{\"value\": [1]}", 14, v, sizeof v, &err) == -1);
    CHECK(web_body_value("{\"value\": 1, \"x\": 2}", 20, v, sizeof v, &err) == -1);
    CHECK(web_body_value("{\"value\": \"\\u0041\"}", 19, v, sizeof v, &err) == -1);
    char longer[100];
    memset(longer, '7', sizeof longer);
    CHECK(web_body_value(longer, sizeof longer, v, sizeof v, &err) == -1 &&
          strstr(err.msg, "longer"));
}

static void test_params_json_hides_the_token(void)
{
    params_defaults(&start);
    snprintf(start.web.token, sizeof start.web.token, "hunter2-secret");
    struct text t = {0};
    web_params_json(&t, &start);
    CHECK(t.data && !strstr(t.data, "hunter2"));
    CHECK(t.data && strstr(t.data, "\"name\":\"web.token\""));
    CHECK(t.data && strstr(t.data, "(set)"));
    CHECK(t.data && strstr(t.data, "\"name\":\"perturb.noise\",\"group\":\"perturb\",\"type\":"
                                   "\"float\",\"value\":0.05,\"min\":0,\"max\":1"));
    text_free(&t);
    char buf[64];
    CHECK(!strcmp(param_format_public(&start, params_find("web.token"), buf, sizeof buf), "(set)"));
    start.web.token[0] = '\0';
    CHECK(!strcmp(param_format_public(&start, params_find("web.token"), buf, sizeof buf), ""));
}

/* ---- the endpoints ---- */

static void test_params_get_and_set(void)
{
    struct control *ctl = web_control("", NULL);
    if (!ctl)
        return;
    int port = control_web_port(ctl);
    CHECK(http(port, "GET", "/api/params", NULL, NULL, resp, sizeof resp) == 200);
    CHECK(strstr(resp, "\"name\":\"perturb.noise\""));
    CHECK(strstr(resp, "Content-Type: application/json"));

    CHECK(http(port, "POST", "/api/params/perturb.noise", NULL, "{\"value\": 0.125}", resp,
               sizeof resp) == 200);
    CHECK(strstr(resp, "{\"name\":\"perturb.noise\",\"value\":0.125}"));
    static struct params taken;
    CHECK(control_take(ctl, &taken) && taken.perturb.noise == 0.125f);

    CHECK(http(port, "POST", "/api/params/perturb.noise", NULL, "{\"value\": 7}", resp,
               sizeof resp) == 400);
    CHECK(strstr(resp, "perturb.noise: 7 is out of range (0 .. 1)"));
    CHECK(http(port, "POST", "/api/params/perturb.noise", NULL, "{\"value\": 0.1", resp,
               sizeof resp) == 400);
    CHECK(strstr(resp, "bad JSON"));
    CHECK(http(port, "POST", "/api/params/perturb.nois", NULL, "0.1", resp, sizeof resp) == 404);
    CHECK(strstr(resp, "did you mean 'perturb.noise'"));
    CHECK(http(port, "POST", "/api/params/kiosk.hours", NULL, "\"\"", resp, sizeof resp) == 400);
    CHECK(strstr(resp, "setup parameter"));
    CHECK(http(port, "POST", "/api/params/loop.size", NULL, "512", resp, sizeof resp) == 400);
    CHECK(strstr(resp, "restart-only"));
    char msg[ERROR_MSG_MAX];
    control_last_error(ctl, msg, sizeof msg);
    CHECK_MSG(strstr(msg, "web POST /api/params/loop.size from 127.0.0.1 ignored"), "%s", msg);

    char value[32];
    struct error err;
    control_get(ctl, "perturb.noise", value, sizeof value, &err);
    CHECK_MSG(!strcmp(value, "0.125"), "bad values changed nothing: %s", value);

    static char big[WEB_BODY_MAX + 1000];
    memset(big, '1', sizeof big - 1);
    CHECK(http(port, "POST", "/api/params/perturb.noise", NULL, big, resp, sizeof resp) == 413);
    CHECK(http(port, "DELETE", "/api/params", NULL, NULL, resp, sizeof resp) == 405);
    CHECK(http(port, "GET", "/api/nothing", NULL, NULL, resp, sizeof resp) == 404);
    control_close(ctl);
}

static void test_page_stats_frame_and_log(void)
{
    struct control *ctl = web_control("", NULL);
    if (!ctl)
        return;
    int port = control_web_port(ctl);
    CHECK(http(port, "GET", "/", NULL, NULL, resp, sizeof resp) == 200);
    CHECK(strstr(resp, "<title>mnemo</title>") && strstr(resp, "text/html"));
    CHECK(http(port, "GET", "/app.js", NULL, NULL, resp, sizeof resp) == 200);
    CHECK(strstr(resp, "EventSource"));
    CHECK(http(port, "GET", "/style.css", NULL, NULL, resp, sizeof resp) == 200);
    CHECK(http(port, "GET", "/../etc/passwd", NULL, NULL, resp, sizeof resp) == 404);

    CHECK(http(port, "GET", "/api/stats", NULL, NULL, resp, sizeof resp) == 503);
    control_post_status(ctl, "{\"t\":1.5,\"iterations\":42}");
    CHECK(http(port, "GET", "/api/stats", NULL, NULL, resp, sizeof resp) == 200);
    CHECK(strstr(resp, "\r\n\r\n{\"t\":1.5,\"iterations\":42}\n"));

    CHECK(http(port, "GET", "/api/frame.jpg", NULL, NULL, resp, sizeof resp) == 503);
    static float portrait[3 * 64 * 64];
    for (size_t i = 0; i < sizeof portrait / sizeof portrait[0]; i++)
        portrait[i] = (float)(i % 64) / 32.0f - 1.0f;
    control_post_frame(ctl, portrait, 64);
    CHECK(http(port, "GET", "/api/frame.jpg", NULL, NULL, resp, sizeof resp) == 200);
    const char *body = strstr(resp, "\r\n\r\n");
    CHECK(body && (unsigned char)body[4] == 0xff && (unsigned char)body[5] == 0xd8);
    CHECK(strstr(resp, "image/jpeg"));

    log_line(LOG_NOTICE, "a line the web page shows");
    CHECK(http(port, "GET", "/api/log", NULL, NULL, resp, sizeof resp) == 200);
    CHECK(strstr(resp, "\"level\":\"notice\",\"text\":\"a line the web page shows\""));
    control_close(ctl);
}

static void test_token(void)
{
    struct control *ctl = web_control("s3cret-token", NULL);
    if (!ctl)
        return;
    int port = control_web_port(ctl);
    CHECK(http(port, "GET", "/api/params", NULL, NULL, resp, sizeof resp) == 401);
    CHECK(http(port, "GET", "/", NULL, NULL, resp, sizeof resp) == 401);
    CHECK(http(port, "GET", "/api/params?token=wrong", NULL, NULL, resp, sizeof resp) == 401);
    CHECK(http(port, "GET", "/api/params?token=s3cret-token", NULL, NULL, resp, sizeof resp) ==
          200);
    CHECK(!strstr(resp, "s3cret"));
    CHECK(http(port, "GET", "/api/stats", "Authorization: Bearer s3cret-token\r\n", NULL, resp,
               sizeof resp) == 503); /* past the token; no stats yet */
    CHECK(http(port, "GET", "/?token=s3cret-token", NULL, NULL, resp, sizeof resp) == 200);
    CHECK(strstr(resp, "Set-Cookie: mnemo_token=s3cret-token"));
    CHECK(http(port, "POST", "/api/reseed", "Cookie: mnemo_token=s3cret-token\r\n", NULL, resp,
               sizeof resp) == 202);
    CHECK(control_take_reseed(ctl));
    CHECK(http(port, "POST", "/api/reseed", "Cookie: mnemo_token=s3cret-tokem\r\n", NULL, resp,
               sizeof resp) == 401);
    CHECK(!control_take_reseed(ctl));
    control_close(ctl);
}

static void test_open_refuses_unsafe_or_bad_addresses(void)
{
    params_defaults(&start);
    start.web.enabled = true;
    start.web.port = 0;
    struct control_options o = {0};
    struct error err;
    snprintf(start.web.address, sizeof start.web.address, "0.0.0.0");
    CHECK(!control_open(&o, &start, &err));
    CHECK_MSG(strstr(err.msg, "web.address 0.0.0.0 reaches beyond this machine: set web.token"),
              "%s", err.msg);
    snprintf(start.web.address, sizeof start.web.address, "localhost");
    CHECK(!control_open(&o, &start, &err));
    CHECK_MSG(strstr(err.msg, "not a numeric IP address"), "%s", err.msg);
    snprintf(start.web.address, sizeof start.web.address, "0.0.0.0");
    snprintf(start.web.token, sizeof start.web.token, "long-random-word");
    struct control *ctl = control_open(&o, &start, &err);
    CHECK_MSG(ctl, "%s", err.msg);
    control_close(ctl);
}

/* ---- limits ---- */

/* Threads of this process now (the server's are one per connection). */
static int thread_count(void)
{
    DIR *d = opendir("/proc/self/task");
    int n = 0;
    for (struct dirent *e; d && (e = readdir(d));)
        n += e->d_name[0] != '.';
    if (d)
        closedir(d);
    return n;
}

struct client_run {
    int port, status;
};

static void *one_client(void *arg)
{
    struct client_run *c = arg;
    char buf[4096];
    c->status = http(c->port, "GET", "/api/params", NULL, NULL, buf, sizeof buf);
    return NULL;
}

static void test_hundred_clients_at_once(void)
{
    struct control *ctl = web_control("", NULL);
    if (!ctl)
        return;
    enum { CLIENTS = 100 };
    static struct client_run runs[CLIENTS];
    pthread_t threads[CLIENTS];
    double t0 = now_s();
    for (int i = 0; i < CLIENTS; i++) {
        runs[i] = (struct client_run){.port = control_web_port(ctl)};
        CHECK(pthread_create(&threads[i], NULL, one_client, &runs[i]) == 0);
    }
    int ok = 0, refused = 0;
    for (int i = 0; i < CLIENTS; i++) {
        pthread_join(threads[i], NULL);
        ok += runs[i].status == 200;
        refused += runs[i].status == 0;
    }
    printf("  100 clients: %d answered, %d closed at the limit, %.2f s\n", ok, refused,
           now_s() - t0);
    CHECK(ok + refused == CLIENTS);
    CHECK(ok >= WEB_CONNECTIONS / 2);
    CHECK(http(control_web_port(ctl), "GET", "/api/params", NULL, NULL, resp, sizeof resp) == 200);

    /* 100 that hold on (headers never finished): the server takes at most WEB_CONNECTIONS
     * (a thread each; the rest wait in the kernel's backlog, unaccepted), and answers again
     * as soon as they go. */
    int threads_before = thread_count();
    int fds[CLIENTS];
    for (int i = 0; i < CLIENTS; i++) {
        fds[i] = connect_to(control_web_port(ctl));
        send_all(fds[i], "GET /api/params HTTP/1.0\r\n", 26);
    }
    int most = 0;
    for (double until = now_s() + 1.5; now_s() < until; sleep_s(0.05)) {
        int n = thread_count() - threads_before;
        most = n > most ? n : most;
    }
    printf("  100 clients holding on: %d server threads at most (limit %d)\n", most,
           WEB_CONNECTIONS);
    CHECK(most <= WEB_CONNECTIONS && most >= WEB_CONNECTIONS / 2);
    for (int i = 0; i < CLIENTS; i++)
        if (fds[i] >= 0)
            close(fds[i]);
    int status = 0;
    for (double until = now_s() + 5; status != 200 && now_s() < until; sleep_s(0.05))
        status = http(control_web_port(ctl), "GET", "/api/params", NULL, NULL, resp, sizeof resp);
    CHECK(status == 200);
    control_close(ctl);
}

static void test_stuck_clients_stall_nothing(void)
{
    struct control *ctl = web_control("", NULL);
    if (!ctl)
        return;
    int port = control_web_port(ctl);
    int silent = connect_to(port); /* connects, sends nothing */
    int unread[4];                 /* live pages that never read */
    for (int i = 0; i < 4; i++) {
        unread[i] = connect_to(port);
        const char *rq = "GET /api/events HTTP/1.0\r\n\r\n";
        send_all(unread[i], rq, strlen(rq));
    }
    int partial = connect_to(port); /* a POST whose body never comes */
    const char *head = "POST /api/params/perturb.noise HTTP/1.0\r\nContent-Length: 100\r\n\r\n1";
    send_all(partial, head, strlen(head));
    static float portrait[3 * 256 * 256];
    double t0 = now_s();
    for (int i = 0; i < 50; i++) { /* the loop's side keeps posting, never waiting */
        control_post_frame(ctl, portrait, 256);
        control_post_status(ctl, "{\"t\":1}");
    }
    CHECK_MSG(now_s() - t0 < 1.0, "posting took %.2f s", now_s() - t0);
    CHECK(http(port, "GET", "/api/stats", NULL, NULL, resp, sizeof resp) == 200);
    CHECK(http(port, "POST", "/api/params/perturb.noise", NULL, "0.2", resp, sizeof resp) == 200);
    t0 = now_s();
    control_close(ctl);
    double closing = now_s() - t0;
    printf("  closed with 6 stuck clients in %.2f s\n", closing);
    CHECK(closing < 3.0);
    close(silent);
    close(partial);
    for (int i = 0; i < 4; i++)
        close(unread[i]);
}

/* ---- live pages ---- */

/* Reads the stream until `want` shows up or timeout_s; true when it did. */
static bool stream_until(int fd, const char *want, double timeout_s)
{
    static char seen[1 << 16];
    size_t used = 0;
    double until = now_s() + timeout_s;
    while (now_s() < until) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, 100) <= 0)
            continue;
        if (used + 1 >= sizeof seen)
            used = 0;
        ssize_t n = recv(fd, seen + used, sizeof seen - 1 - used, 0);
        if (n <= 0)
            return false;
        used += (size_t)n;
        seen[used] = '\0';
        if (strstr(seen, want))
            return true;
    }
    return false;
}

static void test_event_stream_follows_every_source(void)
{
    struct control *ctl = web_control("", NULL);
    if (!ctl)
        return;
    int port = control_web_port(ctl);
    int fd = connect_to(port);
    const char *rq = "GET /api/events HTTP/1.0\r\n\r\n";
    send_all(fd, rq, strlen(rq));
    CHECK(stream_until(fd, "\"perturb.noise\":0.05", 5.0));
    struct error err;
    CHECK(control_set(ctl, "perturb.noise", "0.33", &err) == 0); /* as a key would */
    CHECK(stream_until(fd, "event: params\ndata: {\"perturb.noise\":0.33}", 5.0));
    control_post_status(ctl, "{\"t\":9}");
    CHECK(stream_until(fd, "event: stats\ndata: {\"t\":9}", 5.0));
    static float portrait[3 * 32 * 32];
    control_post_frame(ctl, portrait, 32);
    CHECK(stream_until(fd, "event: frame\ndata: 1", 5.0));
    CHECK(http(port, "POST", "/api/params/perturb.noise", NULL, "2", resp, sizeof resp) == 400);
    CHECK(stream_until(fd, "event: rejected\ndata: {\"error\":\"web POST", 5.0));

    int more[WEB_EVENT_STREAMS];
    for (int i = 0; i < WEB_EVENT_STREAMS - 1; i++) {
        more[i] = connect_to(port);
        send_all(more[i], rq, strlen(rq));
    }
    sleep_s(0.5);
    CHECK(http(port, "GET", "/api/events", NULL, NULL, resp, sizeof resp) == 503);
    CHECK(strstr(resp, "too many live pages"));
    for (int i = 0; i < WEB_EVENT_STREAMS - 1; i++)
        close(more[i]);
    close(fd);
    control_close(ctl);
}

static void test_presets_from_the_page(void)
{
    char dir[] = "/tmp/mnemo-web-presets-XXXXXX";
    CHECK(mkdtemp(dir));
    struct control *ctl = web_control("", dir);
    if (!ctl)
        return;
    int port = control_web_port(ctl);
    struct error err;
    CHECK(control_set(ctl, "perturb.noise", "0.4", &err) == 0);
    CHECK(http(port, "POST", "/api/presets/calm/store", NULL, NULL, resp, sizeof resp) == 202);
    char path[256];
    snprintf(path, sizeof path, "%s/calm.cfg", dir);
    struct stat st;
    for (double until = now_s() + 5; stat(path, &st) != 0 && now_s() < until;)
        sleep_s(0.02);
    CHECK(stat(path, &st) == 0);
    CHECK(http(port, "GET", "/api/presets", NULL, NULL, resp, sizeof resp) == 200);
    CHECK(strstr(resp, "\"presets\":[\"calm\"]"));
    CHECK(control_set(ctl, "perturb.noise", "0.1", &err) == 0);
    CHECK(http(port, "POST", "/api/presets/calm/recall", NULL, NULL, resp, sizeof resp) == 202);
    char value[32] = "";
    for (double until = now_s() + 5; strcmp(value, "0.4") && now_s() < until; sleep_s(0.02))
        control_get(ctl, "perturb.noise", value, sizeof value, &err);
    CHECK_MSG(!strcmp(value, "0.4"), "recalled: %s", value);
    CHECK(http(port, "POST", "/api/presets/..%2Fx/recall", NULL, NULL, resp, sizeof resp) == 400 ||
          http(port, "POST", "/api/presets/..%2Fx/recall", NULL, NULL, resp, sizeof resp) == 404);
    CHECK(http(port, "POST", "/api/presets/nope/recall", NULL, NULL, resp, sizeof resp) == 404);
    CHECK(http(port, "POST", "/api/presets/bad.name/store", NULL, NULL, resp, sizeof resp) == 400);
    control_close(ctl);
    unlink(path);
    rmdir(dir);
}

int main(void)
{
    RUN(test_body_values);
    RUN(test_params_json_hides_the_token);
    RUN(test_params_get_and_set);
    RUN(test_page_stats_frame_and_log);
    RUN(test_token);
    RUN(test_open_refuses_unsafe_or_bad_addresses);
    RUN(test_hundred_clients_at_once);
    RUN(test_stuck_clients_stall_nothing);
    RUN(test_event_stream_follows_every_source);
    RUN(test_presets_from_the_page);
    return check_report();
}

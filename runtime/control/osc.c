/* osc.c — see osc.h. Datagrams in, requests out; replies out when asked. */
#include "osc.h"

#include "log.h"

#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

struct osc {
    int fd, port;
    unsigned char packet[OSC_PACKET_MAX];
};

struct osc *osc_open(const char *address, int port, struct error *err)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    if (inet_pton(AF_INET, address, &sa.sin_addr) != 1) {
        error_set(err, "osc.address: '%s' is not an IPv4 address (e.g. 127.0.0.1)", address);
        return NULL;
    }
    struct osc *o = calloc(1, sizeof *o);
    if (!o) {
        error_set(err, "out of memory for OSC");
        return NULL;
    }
    o->fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    socklen_t len = sizeof sa;
    if (o->fd < 0 || bind(o->fd, (struct sockaddr *)&sa, sizeof sa) != 0 ||
        getsockname(o->fd, (struct sockaddr *)&sa, &len) != 0) {
        error_set(err, "osc: cannot listen on %s:%d: %s", address, port, strerror(errno));
        osc_close(o);
        return NULL;
    }
    o->port = ntohs(sa.sin_port);
    return o;
}

void osc_close(struct osc *o)
{
    if (!o)
        return;
    if (o->fd >= 0)
        close(o->fd);
    free(o);
}

int osc_fd(const struct osc *o)
{
    return o->fd;
}

int osc_port(const struct osc *o)
{
    return o->port;
}

/* ---- values ------------------------------------------------------------------------ */

static bool is_number(char t)
{
    return t == LO_INT32 || t == LO_INT64 || t == LO_FLOAT || t == LO_DOUBLE;
}

/* OSC arguments sit on 4-byte boundaries inside the packet, while the lo_arg union asks
 * for 8: reading its members in place is a misaligned access (undefined; UBSan stops on
 * it). Copy the bytes out instead. */
static const char *arg_string(const lo_arg *a)
{
    return (const char *)(const void *)a;
}

static double number(char t, const lo_arg *a)
{
    int32_t i;
    int64_t h;
    float f;
    double d;
    switch (t) {
    case LO_INT32:
        memcpy(&i, a, sizeof i);
        return i;
    case LO_INT64:
        memcpy(&h, a, sizeof h);
        return (double)h;
    case LO_FLOAT:
        memcpy(&f, a, sizeof f);
        return f;
    default:
        memcpy(&d, a, sizeof d);
        return d;
    }
}

static int enum_index_text(const struct param_def *def, double v, char *buf, size_t size,
                           struct error *err)
{
    int n = 1;
    for (const char *c = def->choices; *c; c++)
        n += *c == '|';
    if (v != floor(v) || v < 0 || v >= n)
        return error_set(err, "%s: %g is not a choice index (0 .. %d)", def->name, v, n - 1);
    const char *c = def->choices;
    for (int i = 0; i < (int)v; i++)
        c = strchr(c, '|') + 1;
    const char *end = strchr(c, '|');
    snprintf(buf, size, "%.*s", end ? (int)(end - c) : (int)strlen(c), c);
    return 0;
}

/* A number argument for def, by def's type. */
static int number_text(const struct param_def *def, char t, const lo_arg *a, char *buf, size_t size,
                       struct error *err)
{
    double v = number(t, a);
    switch (def->type) {
    case PARAM_INT:
        if (v != floor(v) || fabs(v) > 9e15)
            return error_set(err, "%s: %g is not an integer", def->name, v);
        snprintf(buf, size, "%.0f", v);
        return 0;
    case PARAM_FLOAT:
        /* A float's shortest text: 0.2f is "0.2", within a range ending at 0.2, where its
         * exact value 0.200000003 would not be. */
        snprintf(buf, size, "%.6g", v);
        if (strtof(buf, NULL) != (float)v)
            snprintf(buf, size, t == LO_FLOAT ? "%.9g" : "%.17g", v);
        return 0;
    case PARAM_BOOL:
        snprintf(buf, size, "%s", v != 0 ? "true" : "false"); /* toggles send 1.0 / 0.0 */
        return 0;
    case PARAM_ENUM:
        return enum_index_text(def, v, buf, size, err);
    case PARAM_STRING:
        break;
    }
    return error_set(err, "%s: expects a string, got a number", def->name);
}

int osc_value_text(const struct param_def *def, char type, const lo_arg *arg, char *buf,
                   size_t size, struct error *err)
{
    if (type == LO_STRING || type == LO_SYMBOL) {
        /* Refused whole: a cut string would be a different value, and might even pass. */
        size_t len = strlen(arg_string(arg));
        if (len >= size)
            return error_set(err, "%s: a string of %zu characters; at most %zu are taken",
                             def->name, len, size - 1);
        memcpy(buf, arg_string(arg), len + 1);
        return 0;
    }
    if (is_number(type))
        return number_text(def, type, arg, buf, size, err);
    if ((type == LO_TRUE || type == LO_FALSE) && def->type == PARAM_BOOL) {
        snprintf(buf, size, "%s", type == LO_TRUE ? "true" : "false");
        return 0;
    }
    return error_set(err, "%s: an OSC argument of type '%c' does not fit a %s", def->name, type,
                     param_type_name(def->type));
}

int osc_value_append(lo_message m, const struct params *p, const struct param_def *def)
{
    char text[PARAM_TEXT_MAX];
    switch (def->type) {
    case PARAM_INT:
        return lo_message_add_int32(m, param_get_int(p, def));
    case PARAM_FLOAT:
        return lo_message_add_float(m, param_get_float(p, def));
    case PARAM_BOOL:
        return lo_message_add_int32(m, param_get_bool(p, def));
    case PARAM_STRING:
    case PARAM_ENUM:
        break;
    }
    return lo_message_add_string(m, param_format_public(p, def, text, sizeof text));
}

/* ---- decoding ---------------------------------------------------------------------- */

struct packet {
    const char *path, *types;
    lo_arg **argv;
    int argc;
};

static void ignore(struct osc_request *rq, const char *fmt, ...) MNEMO_PRINTF(2, 3);

/* rq becomes OSC_IGNORED, with the line that says why. */
static void ignore(struct osc_request *rq, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(rq->why, sizeof rq->why, fmt, ap);
    va_end(ap);
    rq->kind = OSC_IGNORED;
}

/* /mnemo/list [index] [padding...]: the page's first name. */
static void decode_list(const struct packet *pk, struct osc_request *rq)
{
    rq->start = 0;
    if (pk->argc > 0) {
        double v = is_number(pk->types[0]) ? number(pk->types[0], pk->argv[0]) : -1;
        if (v != floor(v) || v < 0 || v > INT32_MAX) {
            ignore(rq, "osc %s from %s ignored: takes an optional index (an int from 0)", pk->path,
                   rq->who);
            return;
        }
        rq->start = (int32_t)v;
    }
    rq->kind = OSC_LIST;
}

static void decode_get(const struct packet *pk, struct osc_request *rq)
{
    const char *name = arg_string(pk->argv[0]);
    struct error err;
    rq->def = params_find(name);
    if (!rq->def) {
        params_unknown_error(name, &err);
        ignore(rq, "osc " OSC_PREFIX "get from %s: %s", rq->who, err.msg);
        return;
    }
    rq->kind = OSC_GET;
}

static void decode_set(const struct packet *pk, const char *name, struct osc_request *rq)
{
    struct error err;
    rq->def = params_find(name);
    int rc = !rq->def        ? params_unknown_error(name, &err)
             : pk->argc != 1 ? error_set(&err, "%s takes one value, got %d", name, pk->argc)
                             : osc_value_text(rq->def, pk->types[0], pk->argv[0], rq->value,
                                              sizeof rq->value, &err);
    if (rc)
        ignore(rq, "osc %s from %s ignored: %s", pk->path, rq->who, err.msg);
    else
        rq->kind = OSC_SET;
}

static bool first_string(const struct packet *pk)
{
    return pk->argc >= 1 && (pk->types[0] == LO_STRING || pk->types[0] == LO_SYMBOL);
}

static bool one_string(const struct packet *pk)
{
    return pk->argc == 1 && first_string(pk);
}

static void decode_message(const struct packet *pk, struct osc_request *rq)
{
    const char *cmd = pk->path + strlen(OSC_PREFIX);
    if (strncmp(pk->path, OSC_PREFIX, strlen(OSC_PREFIX)) != 0) {
        ignore(rq, "osc %s from %s ignored: mnemo's addresses start with " OSC_PREFIX, pk->path,
               rq->who);
    } else if (strcmp(cmd, "get") == 0 && first_string(pk)) {
        decode_get(pk, rq); /* arguments after the name: padding for a long value */
    } else if (strcmp(cmd, "list") == 0) {
        decode_list(pk, rq);
    } else if (strcmp(cmd, "preset") == 0 && one_string(pk)) {
        rq->kind = OSC_PRESET;
        snprintf(rq->name, sizeof rq->name, "%s", arg_string(pk->argv[0]));
    } else if (strcmp(cmd, "reseed") == 0) {
        rq->kind = OSC_RESEED;
    } else if (strcmp(cmd, "get") == 0) {
        ignore(rq, "osc %s from %s ignored: takes a parameter name (a string)", pk->path, rq->who);
    } else if (strcmp(cmd, "preset") == 0) {
        ignore(rq, "osc %s from %s ignored: takes one string", pk->path, rq->who);
    } else {
        decode_set(pk, cmd, rq);
    }
}

static void sender_name(struct osc_request *rq)
{
    const struct sockaddr_in *in = (const struct sockaddr_in *)&rq->from;
    char ip[INET_ADDRSTRLEN] = "?";
    if (in->sin_family == AF_INET)
        inet_ntop(AF_INET, &in->sin_addr, ip, sizeof ip);
    snprintf(rq->who, sizeof rq->who, "%s:%d", ip, ntohs(in->sin_port));
}

static void request_start(struct osc_request *rq, const struct sockaddr *from, socklen_t from_len)
{
    rq->def = NULL;
    rq->start = 0;
    rq->value[0] = rq->name[0] = rq->why[0] = '\0';
    memset(&rq->from, 0, sizeof rq->from);
    rq->from_len = from_len < sizeof rq->from ? from_len : sizeof rq->from;
    memcpy(&rq->from, from, rq->from_len);
    sender_name(rq);
}

void osc_decode(const void *data, size_t n, const struct sockaddr *from, socklen_t from_len,
                struct osc_request *rq)
{
    request_start(rq, from, from_len);
    rq->bytes = n;
    if (n > OSC_PACKET_MAX) {
        ignore(rq, "osc packet of %zu bytes from %s ignored: over %d bytes", n, rq->who,
               OSC_PACKET_MAX);
        return;
    }
    if (n >= 8 && memcmp(data, "#bundle", 8) == 0) {
        ignore(rq, "osc bundle from %s ignored: send plain messages", rq->who);
        return;
    }
    int result = 0;
    /* liblo copies the bytes it keeps and does not write to `data` (its prototype predates
     * const). */
    lo_message msg = lo_message_deserialise((void *)data, n, &result);
    if (!msg) {
        ignore(rq, "osc packet of %zu bytes from %s ignored: not an OSC message (%d)", n, rq->who,
               result);
        return;
    }
    struct packet pk = {.path = data, /* a message starts with its NUL-terminated path */
                        .types = lo_message_get_types(msg),
                        .argc = lo_message_get_argc(msg),
                        .argv = lo_message_get_argv(msg)};
    decode_message(&pk, rq);
    lo_message_free(msg);
}

bool osc_receive(struct osc *o, struct osc_request *rq)
{
    struct sockaddr_storage from;
    socklen_t from_len = sizeof from;
    /* MSG_TRUNC: the real size of a datagram too big for the buffer, to say so. */
    ssize_t n = recvfrom(o->fd, o->packet, sizeof o->packet, MSG_TRUNC, (struct sockaddr *)&from,
                         &from_len);
    if (n < 0)
        return false;
    osc_decode(o->packet, (size_t)n, (const struct sockaddr *)&from, from_len, rq);
    return true;
}

/* ---- replies ----------------------------------------------------------------------- */

/* The bound of every reply to rq. */
static size_t reply_budget(const struct osc_request *rq)
{
    return OSC_REPLY_FACTOR * rq->bytes;
}

static void reply(struct osc *o, const struct osc_request *rq, const char *path, lo_message m)
{
    size_t len = lo_message_length(m, path);
    if (len > reply_budget(rq)) {
        log_warn("osc: reply %s of %zu bytes to %s not sent: replies are at most %d x the "
                 "request's %zu bytes (pad the request with a string argument)",
                 path, len, rq->who, OSC_REPLY_FACTOR, rq->bytes);
        return;
    }
    void *data = lo_message_serialise(m, path, NULL, &len);
    if (!data || sendto(o->fd, data, len, 0, (const struct sockaddr *)&rq->from, rq->from_len) < 0)
        log_warn("osc: reply %s to %s not sent: %s", path, rq->who,
                 data ? strerror(errno) : "memory");
    free(data);
}

void osc_reply_value(struct osc *o, const struct osc_request *rq, const struct params *p)
{
    lo_message m = lo_message_new();
    lo_message_add_string(m, rq->def->name);
    osc_value_append(m, p, rq->def);
    reply(o, rq, OSC_PREFIX "value", m);
    lo_message_free(m);
}

/* Bytes of an OSC string of len characters: its NUL, padded to 4. */
static size_t osc_string_bytes(size_t len)
{
    return (len + 4) & ~(size_t)3;
}

/* How many names from `start` one page holds: path, type tags ",i" + one 's' a name, the
 * index, the names, within the budget; at least one, so that any request pages on. */
static size_t list_page_count(const char *path, size_t start, size_t budget)
{
    size_t total = params_count(), k = 0;
    size_t names = 0, fixed = osc_string_bytes(strlen(path)) + 4;
    while (start + k < total) {
        size_t more = names + osc_string_bytes(strlen(params_at(start + k)->name));
        if (k > 0 && fixed + osc_string_bytes(2 + k + 1) + more > budget)
            break;
        names = more;
        k++;
    }
    return k;
}

void osc_reply_list(struct osc *o, const struct osc_request *rq)
{
    const char *path = OSC_PREFIX "list";
    size_t start = (size_t)rq->start, total = params_count();
    size_t k = start < total ? list_page_count(path, start, reply_budget(rq)) : 0;
    lo_message m = lo_message_new();
    lo_message_add_int32(m, start + k < total ? (int32_t)(start + k) : -1);
    for (size_t i = start; i < start + k; i++)
        lo_message_add_string(m, params_at(i)->name);
    reply(o, rq, path, m);
    lo_message_free(m);
}

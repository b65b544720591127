/* web_json.c — see web.h: the JSON the web page and its API read and write. */
#include "web.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- text ---------------------------------------------------------------------------- */

static bool text_reserve(struct text *t, size_t more)
{
    if (t->failed)
        return false;
    if (t->len + more + 1 <= t->cap)
        return true;
    size_t cap = t->cap ? t->cap : 1024;
    while (cap < t->len + more + 1)
        cap *= 2;
    char *data = realloc(t->data, cap);
    if (!data) {
        t->failed = true;
        return false;
    }
    t->data = data;
    t->cap = cap;
    return true;
}

void text_add(struct text *t, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || !text_reserve(t, (size_t)n))
        return;
    va_start(ap, fmt);
    vsnprintf(t->data + t->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    t->len += (size_t)n;
}

void text_add_json_string(struct text *t, const char *s)
{
    text_add(t, "\"");
    for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
        if (*c == '"' || *c == '\\')
            text_add(t, "\\%c", *c);
        else if (*c < 0x20 || *c == 0x7f)
            text_add(t, "\\u%04x", *c);
        else
            text_add(t, "%c", *c);
    }
    text_add(t, "\"");
}

void text_free(struct text *t)
{
    free(t->data);
    *t = (struct text){0};
}

/* ---- the request body ---------------------------------------------------------------- */

static const char *skip_space(const char *s, const char *end)
{
    while (s < end && isspace((unsigned char)*s))
        s++;
    return s;
}

/* A JSON string at s (its opening quote) into buf; the position after it, or NULL. Escapes
 * outside ASCII are refused: no parameter needs them. */
static const char *json_string(const char *s, const char *end, char *buf, size_t size,
                               struct error *err)
{
    size_t n = 0;
    for (s++; s < end && *s != '"'; s++) {
        char c = *s;
        if (c == '\\') {
            if (++s >= end)
                break;
            const char *from = "\"\\/bfnrt", *to = "\"\\/\b\f\n\r\t";
            const char *k = strchr(from, *s);
            if (!k || !*s) {
                error_set(err, "bad JSON: the escape \\%c is not supported here", *s);
                return NULL;
            }
            c = to[k - from];
        } else if ((unsigned char)c < 0x20) {
            error_set(err, "bad JSON: a control character inside a string");
            return NULL;
        }
        if (n + 1 >= size) {
            error_set(err, "the value is longer than %zu bytes", size - 1);
            return NULL;
        }
        buf[n++] = c;
    }
    if (s >= end) {
        error_set(err, "bad JSON: a string is not closed");
        return NULL;
    }
    buf[n] = '\0';
    return s + 1;
}

/* A bare JSON number, true or false at s into buf. */
static const char *json_literal(const char *s, const char *end, char *buf, size_t size,
                                struct error *err)
{
    size_t n = 0;
    while (s + n < end && (isalnum((unsigned char)s[n]) || strchr("+-.", s[n])))
        n++;
    if (n == 0 || n >= size) {
        error_set(err, "bad JSON: \"value\" must be a string, a number, true or false");
        return NULL;
    }
    memcpy(buf, s, n);
    buf[n] = '\0';
    return s + n;
}

static int json_object_value(const char *s, const char *end, char *buf, size_t size,
                             struct error *err)
{
    char key[16];
    s = skip_space(s + 1, end);
    if (s >= end || *s != '"')
        return error_set(err, "bad JSON: expected {\"value\": ...}");
    if (!(s = json_string(s, end, key, sizeof key, err)))
        return -1;
    if (strcmp(key, "value") != 0)
        return error_set(err, "bad JSON: the only key is \"value\", not \"%s\"", key);
    s = skip_space(s, end);
    if (s >= end || *s != ':')
        return error_set(err, "bad JSON: expected ':' after \"value\"");
    s = skip_space(s + 1, end);
    s = s < end && *s == '"' ? json_string(s, end, buf, size, err)
                             : json_literal(s, end, buf, size, err);
    if (!s)
        return -1;
    s = skip_space(s, end);
    if (s >= end || *s != '}' || skip_space(s + 1, end) != end)
        return error_set(err, "bad JSON: expected one \"value\" and then '}'");
    return 0;
}

int web_body_value(const char *body, size_t len, char *buf, size_t size, struct error *err)
{
    const char *end = body + len, *s = skip_space(body, end);
    if (s < end && *s == '{')
        return json_object_value(s, end, buf, size, err);
    while (end > s && isspace((unsigned char)end[-1]))
        end--;
    if ((size_t)(end - s) >= size)
        return error_set(err, "the value is longer than %zu bytes", size - 1);
    if (memchr(s, '\0', (size_t)(end - s)))
        return error_set(err, "the value holds a NUL byte");
    memcpy(buf, s, (size_t)(end - s));
    buf[end - s] = '\0';
    return 0;
}

/* ---- parameters ---------------------------------------------------------------------- */

void web_value_json(struct text *t, const struct params *p, const struct param_def *d)
{
    static _Thread_local char v[PARAM_TEXT_MAX];
    param_format_public(p, d, v, sizeof v);
    if (d->type == PARAM_INT || d->type == PARAM_FLOAT || d->type == PARAM_BOOL)
        text_add(t, "%s", v);
    else
        text_add_json_string(t, v);
}

static void group_json(struct text *t, const char *name)
{
    const char *dot = strchr(name, '.');
    text_add(t, "\"group\":\"%.*s\"", dot ? (int)(dot - name) : (int)strlen(name), name);
}

static void param_json(struct text *t, const struct params *p, const struct param_def *d)
{
    struct error err;
    bool web = param_check_remote(d, "web", &err) == 0;
    text_add(t, "{\"name\":\"%s\",", d->name);
    group_json(t, d->name);
    text_add(t, ",\"type\":\"%s\",\"value\":", param_type_name(d->type));
    web_value_json(t, p, d);
    if (d->type == PARAM_INT || d->type == PARAM_FLOAT)
        text_add(t, ",\"min\":%.17g,\"max\":%.17g", d->min, d->max);
    if (d->type == PARAM_ENUM) {
        text_add(t, ",\"choices\":");
        text_add_json_string(t, d->choices);
    }
    text_add(t, ",\"kind\":\"%s\",\"web\":%s,\"doc\":",
             !(d->flags & PARAM_LIVE)   ? "restart"
             : (d->flags & PARAM_SETUP) ? "setup"
                                        : "live",
             web ? "true" : "false");
    text_add_json_string(t, d->doc);
    if (!web)
        text_add(t, ",\"why\":");
    if (!web)
        text_add_json_string(t, err.msg);
    text_add(t, "}");
}

void web_params_json(struct text *t, const struct params *p)
{
    text_add(t, "{\"params\":[");
    for (size_t i = 0; i < params_count(); i++) {
        if (i)
            text_add(t, ",\n");
        param_json(t, p, params_at(i));
    }
    text_add(t, "]}");
}

size_t web_params_changed_json(struct text *t, const struct params *a, const struct params *b)
{
    size_t n = 0;
    text_add(t, "{");
    for (size_t i = 0; i < params_count(); i++) {
        const struct param_def *d = params_at(i);
        if (a && param_equal(d, a, b))
            continue;
        text_add(t, "%s\"%s\":", n++ ? "," : "", d->name);
        web_value_json(t, b, d);
    }
    text_add(t, "}");
    return n;
}

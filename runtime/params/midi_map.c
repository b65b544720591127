/* midi_map.c — see midi_map.h. */
#include "midi_map.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* exp and log curves bend by e^4 (~55x between the ends): gentle enough that the whole
 * knob stays useful, strong enough that the fine end is really fine. */
#define CURVE_K 4.0

static const char *const curve_names[] = {"lin", "exp", "log"};

static int parse_number(const char *v, double lo, double hi, double *out)
{
    char *end;
    double x = strtod(v, &end);
    if (end == v || *end || !isfinite(x) || x < lo || x > hi)
        return -1;
    *out = x;
    return 0;
}

static int parse_curve(const char *v, enum midi_curve *c)
{
    for (int i = 0; i < 3; i++) {
        if (strcmp(v, curve_names[i]) == 0) {
            *c = (enum midi_curve)i;
            return 0;
        }
    }
    return -1;
}

static int bind_param(struct midi_binding *b, const char *v, struct error *err)
{
    b->def = params_find(v);
    if (!b->def)
        return params_unknown_error(v, err);
    if (!(b->def->flags & PARAM_LIVE) || b->def->type == PARAM_STRING)
        return error_set(err, "%s cannot follow a knob (%s)", v,
                         b->def->type == PARAM_STRING ? "a string" : "restart-only");
    return param_check_remote(b->def, "MIDI", err);
}

/* One key=value word of an entry into b. */
static int parse_word(struct midi_binding *b, char *word, bool *has_min, bool *has_max,
                      struct error *err)
{
    char *eq = strchr(word, '=');
    if (!eq)
        return error_set(err, "'%s' is not key=value", word);
    *eq = '\0';
    const char *k = word, *v = eq + 1;
    double x;
    if (strcmp(k, "param") == 0)
        return bind_param(b, v, err);
    if (strcmp(k, "cc") == 0 && parse_number(v, 0, 127, &x) == 0 && x == floor(x))
        b->cc = (int)x;
    else if (strcmp(k, "channel") == 0 && parse_number(v, 1, 16, &x) == 0 && x == floor(x))
        b->channel = (int)x;
    else if (strcmp(k, "min") == 0 && parse_number(v, -1e30, 1e30, &b->min) == 0)
        *has_min = true;
    else if (strcmp(k, "max") == 0 && parse_number(v, -1e30, 1e30, &b->max) == 0)
        *has_max = true;
    else if (strcmp(k, "curve") == 0 && parse_curve(v, &b->curve) == 0)
        ;
    else if (strstr("cc channel min max curve", k))
        return error_set(err,
                         "%s=%s: cc takes 0-127, channel 1-16, min/max numbers, "
                         "curve lin|exp|log",
                         k, v);
    else
        return error_set(err, "unknown key '%s' (cc, param, min, max, curve, channel)", k);
    return 0;
}

/* min/max default to the parameter's range and must stay inside it. */
static int finish_binding(struct midi_binding *b, bool has_min, bool has_max, struct error *err)
{
    if (b->cc < 0 || !b->def)
        return error_set(err, "needs both cc=N and param=NAME");
    double lo = b->def->type == PARAM_BOOL || b->def->type == PARAM_ENUM ? 0 : b->def->min;
    double hi = b->def->type == PARAM_BOOL || b->def->type == PARAM_ENUM ? 1 : b->def->max;
    b->min = has_min ? b->min : lo;
    b->max = has_max ? b->max : hi;
    if (b->min < lo || b->min > hi || b->max < lo || b->max > hi)
        return error_set(err, "%s: min/max must lie in %g .. %g", b->def->name, lo, hi);
    return 0;
}

static int parse_entry(struct midi_binding *b, char *entry, struct error *err)
{
    *b = (struct midi_binding){.cc = -1};
    bool has_min = false, has_max = false;
    char *save = NULL;
    for (char *w = strtok_r(entry, " \t\r\n", &save); w; w = strtok_r(NULL, " \t\r\n", &save))
        if (parse_word(b, w, &has_min, &has_max, err))
            return -1;
    return finish_binding(b, has_min, has_max, err);
}

static bool blank(const char *s)
{
    while (*s && isspace((unsigned char)*s))
        s++;
    return *s == '\0';
}

int midi_map_parse(struct midi_map *m, const char *text, struct error *err)
{
    char buf[PARAM_TEXT_MAX];
    if (strlen(text) >= sizeof buf)
        return error_set(err, "the map is longer than %d characters", PARAM_TEXT_MAX - 1);
    strcpy(buf, text);
    m->count = 0;
    char *save = NULL;
    int n = 0;
    for (char *e = strtok_r(buf, ";", &save); e; e = strtok_r(NULL, ";", &save)) {
        if (blank(e))
            continue;
        n++;
        char shown[48];
        snprintf(shown, sizeof shown, "%s", e + strspn(e, " \t\r\n"));
        if (m->count == MIDI_MAP_MAX)
            return error_set(err, "more than %d entries", MIDI_MAP_MAX);
        if (parse_entry(&m->b[m->count], e, err))
            return error_prefix(err, "entry %d (%s)", n, shown);
        m->count++;
    }
    return 0;
}

int midi_map_check(const char *text, struct error *err)
{
    static _Thread_local struct midi_map scratch; /* 7 KiB: off the caller's stack */
    return midi_map_parse(&scratch, text, err);
}

int midi_map_format(const struct midi_map *m, char *buf, size_t size, struct error *err)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < m->count; i++) {
        const struct midi_binding *b = &m->b[i];
        char channel[16] = "";
        if (b->channel)
            snprintf(channel, sizeof channel, " channel=%d", b->channel);
        int n = snprintf(buf + used, size - used, "%scc=%d param=%s min=%.9g max=%.9g curve=%s%s",
                         i ? "; " : "", b->cc, b->def->name, b->min, b->max, curve_names[b->curve],
                         channel);
        if (n < 0 || (size_t)n >= size - used)
            return error_set(err, "midi.map would be longer than %zu characters", size - 1);
        used += (size_t)n;
    }
    return 0;
}

static double curve(enum midi_curve c, double t)
{
    switch (c) {
    case MIDI_CURVE_EXP:
        return (exp(CURVE_K * t) - 1) / (exp(CURVE_K) - 1);
    case MIDI_CURVE_LOG:
        return log1p((exp(CURVE_K) - 1) * t) / CURVE_K;
    case MIDI_CURVE_LIN:
        break;
    }
    return t;
}

static int choice_count(const char *choices)
{
    int n = 1;
    for (const char *c = choices; *c; c++)
        n += *c == '|';
    return n;
}

static void copy_choice(const char *choices, int index, char *buf, size_t size)
{
    const char *c = choices;
    for (int i = 0; i < index; i++)
        c = strchr(c, '|') + 1;
    const char *end = strchr(c, '|');
    snprintf(buf, size, "%.*s", end ? (int)(end - c) : (int)strlen(c), c);
}

void midi_binding_text(const struct midi_binding *b, int value, char *buf, size_t size)
{
    double t = curve(b->curve, (value < 0 ? 0 : value > 127 ? 127 : value) / 127.0);
    double x = b->min + t * (b->max - b->min);
    switch (b->def->type) {
    case PARAM_INT:
        snprintf(buf, size, "%.0f", round(x));
        break;
    case PARAM_BOOL:
        snprintf(buf, size, "%s", x >= 0.5 ? "true" : "false");
        break;
    case PARAM_ENUM: {
        int n = choice_count(b->def->choices);
        int i = (int)floor(x * n);
        copy_choice(b->def->choices, i < 0 ? 0 : i >= n ? n - 1 : i, buf, size);
        break;
    }
    default:
        /* Rounding may step a hair past the range's end; the ends are exact. */
        x = x < b->def->min ? b->def->min : x > b->def->max ? b->def->max : x;
        snprintf(buf, size, "%.9g", x);
    }
}

int midi_map_apply(const struct midi_map *m, const struct midi_cc *ev, struct params *p)
{
    int applied = 0;
    for (size_t i = 0; i < m->count; i++) {
        const struct midi_binding *b = &m->b[i];
        if (b->cc != ev->cc || (b->channel && b->channel != ev->channel))
            continue;
        char text[64];
        midi_binding_text(b, ev->value, text, sizeof text);
        struct error err;
        applied += param_set(p, b->def, text, &err) == 0;
    }
    return applied;
}

int midi_map_learn(char *text, size_t size, const struct midi_cc *ev, const char *param,
                   struct error *err)
{
    static _Thread_local struct midi_map m;
    if (midi_map_parse(&m, text, err))
        return -1;
    size_t kept = 0;
    for (size_t i = 0; i < m.count; i++)
        if (m.b[i].cc != ev->cc)
            m.b[kept++] = m.b[i];
    m.count = kept;
    if (m.count == MIDI_MAP_MAX)
        return error_set(err, "midi.map is full (%d entries)", MIDI_MAP_MAX);
    struct midi_binding *b = &m.b[m.count];
    *b = (struct midi_binding){.cc = ev->cc};
    if (bind_param(b, param, err) || finish_binding(b, false, false, err))
        return -1;
    m.count++;
    char out[PARAM_TEXT_MAX];
    if (midi_map_format(&m, out, size < sizeof out ? size : sizeof out, err))
        return -1;
    strcpy(text, out);
    return 0;
}

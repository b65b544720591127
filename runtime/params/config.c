#include "config.h"

#include "config_text.h"

#include <errno.h>
#include <limits.h>
#include <libconfig.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define NAME_MAX_LEN 128

/* Where a setting was written, for "file:line" in messages. */
static int error_at(struct error *err, const config_setting_t *s, const struct config_text *src)
{
    int line;
    const char *file = config_text_where(src, (int)config_setting_source_line(s), &line);
    return error_prefix(err, "%s:%d", file, line);
}

static const char *setting_type_name(int type)
{
    switch (type) {
    case CONFIG_TYPE_GROUP:
        return "a group";
    case CONFIG_TYPE_INT:
    case CONFIG_TYPE_INT64:
        return "an integer";
    case CONFIG_TYPE_FLOAT:
        return "a float";
    case CONFIG_TYPE_STRING:
        return "a string";
    case CONFIG_TYPE_BOOL:
        return "a boolean";
    case CONFIG_TYPE_ARRAY:
        return "an array";
    case CONFIG_TYPE_LIST:
        return "a list";
    }
    return "a value of unknown type";
}

static bool type_fits(enum param_type want, int type)
{
    bool is_int = type == CONFIG_TYPE_INT || type == CONFIG_TYPE_INT64;
    switch (want) {
    case PARAM_INT:
        return is_int;
    case PARAM_FLOAT:
        return is_int || type == CONFIG_TYPE_FLOAT;
    case PARAM_BOOL:
        return type == CONFIG_TYPE_BOOL;
    case PARAM_STRING:
    case PARAM_ENUM:
        return type == CONFIG_TYPE_STRING;
    }
    return false;
}

static const char *expected_name(enum param_type type)
{
    switch (type) {
    case PARAM_INT:
        return "an integer";
    case PARAM_FLOAT:
        return "a number";
    case PARAM_BOOL:
        return "true or false";
    case PARAM_STRING:
    case PARAM_ENUM:
        return "a string in double quotes";
    }
    return "?";
}

/* The setting's value as text for param_set, which owns all range checks. */
static const char *setting_text(const config_setting_t *s, char *buf, size_t size)
{
    switch (config_setting_type(s)) {
    case CONFIG_TYPE_INT:
    case CONFIG_TYPE_INT64:
        snprintf(buf, size, "%lld", config_setting_get_int64(s));
        return buf;
    case CONFIG_TYPE_FLOAT: {
        double v = config_setting_get_float(s);
        snprintf(buf, size, "%g", v);
        if (strtod(buf, NULL) != v)
            snprintf(buf, size, "%.17g", v);
        return buf;
    }
    case CONFIG_TYPE_BOOL:
        return config_setting_get_bool(s) ? "true" : "false";
    case CONFIG_TYPE_STRING:
        return config_setting_get_string(s);
    }
    return "";
}

/* True when some parameter lives under "name." (so `loop = 5;` is a misused group). */
static bool is_group_name(const char *name)
{
    size_t len = strlen(name);
    for (size_t i = 0; i < params_count(); i++) {
        const char *pn = params_at(i)->name;
        if (strncmp(pn, name, len) == 0 && pn[len] == '.')
            return true;
    }
    return false;
}

static int apply_leaf(struct params *p, const config_setting_t *s, const char *full,
                      struct error *err)
{
    const struct param_def *def = params_find(full);
    int type = config_setting_type(s);
    if (!def && is_group_name(full))
        return error_set(err, "'%s' is a group of parameters: write %s = { ... };", full, full);
    if (!def)
        return params_unknown_error(full, err);
    if (!type_fits(def->type, type))
        return error_set(err, "%s: expects %s, got %s", full, expected_name(def->type),
                         setting_type_name(type));
    char text[64];
    return param_set(p, def, setting_text(s, text, sizeof text), err);
}

static int apply_group(struct params *p, const config_setting_t *group, const char *prefix,
                       const struct config_text *src, struct error *err);

static int apply_setting(struct params *p, const config_setting_t *s, const char *prefix,
                         const struct config_text *src, struct error *err)
{
    char full[NAME_MAX_LEN];
    const char *key = config_setting_name(s);
    int n = snprintf(full, sizeof full, "%s%s%s", prefix, *prefix ? "." : "", key ? key : "?");
    if (n < 0 || (size_t)n >= sizeof full) {
        error_set(err, "setting name '%.40s...' is too long", full);
        return error_at(err, s, src);
    }
    /* A group whose dotted name is a parameter is a type error, not more names. */
    if (config_setting_type(s) == CONFIG_TYPE_GROUP && !params_find(full))
        return apply_group(p, s, full, src, err);
    if (apply_leaf(p, s, full, err))
        return error_at(err, s, src);
    return 0;
}

static int apply_group(struct params *p, const config_setting_t *group, const char *prefix,
                       const struct config_text *src, struct error *err)
{
    int count = config_setting_length(group);
    for (int i = 0; i < count; i++) {
        if (apply_setting(p, config_setting_get_elem(group, (unsigned)i), prefix, src, err))
            return -1;
    }
    return 0;
}

/* Runs the settings of a parsed config onto a copy of *p, so that a bad file leaves *p
 * (the running piece, on hot reload) untouched. */
static int apply_config(struct params *p, config_t *cfg, const struct config_text *src,
                        struct error *err)
{
    struct params next = *p;
    if (apply_group(&next, config_root_setting(cfg), "", src, err))
        return -1;
    *p = next;
    return 0;
}

static int parse_error(const config_t *cfg, const struct config_text *src, struct error *err)
{
    int line;
    const char *file = config_text_where(src, config_error_line(cfg), &line);
    return error_set(err, "%s:%d: %s", file, line, config_error_text(cfg));
}

/* libconfig parses text only: config_text.c has read the files (see config_text.h why). */
static int parse_and_apply(struct params *p, const struct config_text *src, struct error *err)
{
    config_t cfg;
    config_init(&cfg);
    /* Were an @include left in the text, libconfig would open it itself: make that fail
     * instead of reading (or blocking on) a file. */
    config_set_include_dir(&cfg, "/dev/null");
    int rc = config_read_string(&cfg, src->text) == CONFIG_TRUE ? apply_config(p, &cfg, src, err)
                                                                : parse_error(&cfg, src, err);
    config_destroy(&cfg);
    return rc;
}

int params_load_file_watched(struct params *p, const char *path, config_file_fn fn, void *ctx,
                             struct error *err)
{
    struct config_text src;
    int rc = config_text_load(&src, path, err);
    if (rc == 0)
        rc = parse_and_apply(p, &src, err);
    for (size_t i = 0; fn && i < src.file_count; i++)
        fn(src.files[i], ctx);
    config_text_free(&src);
    return rc;
}

int params_load_file(struct params *p, const char *path, struct error *err)
{
    return params_load_file_watched(p, path, NULL, NULL, err);
}

int params_load_string(struct params *p, const char *text, const char *name, struct error *err)
{
    struct config_text src;
    int rc = config_text_string(&src, text, name, err);
    if (rc == 0)
        rc = parse_and_apply(p, &src, err);
    config_text_free(&src);
    return rc;
}

/* ---- writing ------------------------------------------------------------------------ */

static void write_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            fputc('\\', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

/* The value in libconfig syntax: floats always with a '.' or exponent (else libconfig
 * reads an integer, which is fine for us but not what the registry says it is). */
static void write_value(FILE *f, const struct params *p, const struct param_def *def)
{
    char text[PARAM_TEXT_MAX];
    param_format(p, def, text, sizeof text);
    if (def->type == PARAM_STRING || def->type == PARAM_ENUM) {
        write_string(f, text);
        return;
    }
    fputs(text, f);
    if (def->type == PARAM_FLOAT && !strpbrk(text, ".e"))
        fputs(".0", f);
}

static void write_param(FILE *f, const struct params *p, const struct params *defaults,
                        const struct param_def *def)
{
    char range[PARAM_STRING_MAX];
    const char *how = !(def->flags & PARAM_LIVE)    ? "restart"
                      : (def->flags & PARAM_SETUP)  ? "live; setup: not from OSC or MIDI"
                      : (def->flags & PARAM_SMOOTH) ? "live, glides"
                                                    : "live";
    fprintf(f, "    # %s\n    # (%s; %s", def->doc, param_describe(def, range, sizeof range), how);
    if (!param_equal(def, p, defaults)) {
        char text[PARAM_TEXT_MAX];
        fprintf(f, "; default %s", param_format(defaults, def, text, sizeof text));
    }
    fprintf(f, ")\n    %s = ", strchr(def->name, '.') + 1);
    write_value(f, p, def);
    fputs(";\n", f);
}

static const char config_header[] =
    "# mnemo configuration: every parameter, with its doc, type, range and whether it\n"
    "# takes effect live or at restart. Written by `mnemo params --config` from the\n"
    "# registry in runtime/params/params.c (configs/default.cfg is that output; a test keeps\n"
    "# them equal). Levels are on the image scale: -1 black ink .. 1 white paper.\n"
    "# Any subset of these settings makes a valid config; the rest keep their defaults.\n";

/* Every row `keep` accepts, grouped as libconfig groups. */
static void write_rows(FILE *f, const struct params *p, bool (*keep)(const struct param_def *))
{
    struct params defaults;
    params_defaults(&defaults);
    size_t group_len = 0;
    const char *group = NULL;
    for (size_t i = 0; i < params_count(); i++) {
        const struct param_def *def = params_at(i);
        if (!keep(def))
            continue;
        size_t len = (size_t)(strchr(def->name, '.') - def->name);
        bool same = group && len == group_len && strncmp(group, def->name, len) == 0;
        if (!same) {
            fprintf(f, "%s\n%.*s = {\n", group ? "};\n" : "", (int)len, def->name);
            group = def->name;
            group_len = len;
        } else {
            fputc('\n', f);
        }
        write_param(f, p, &defaults, def);
    }
    if (group)
        fputs("};\n", f);
}

static bool every_row(const struct param_def *def)
{
    return true;
}

static bool preset_row(const struct param_def *def)
{
    return (def->flags & PARAM_LIVE) && !(def->flags & PARAM_SETUP);
}

int params_write_config(FILE *f, const struct params *p, struct error *err)
{
    fputs(config_header, f);
    write_rows(f, p, every_row);
    if (ferror(f))
        return error_set(err, "cannot write the config: %s", strerror(errno));
    return 0;
}

int params_write_preset(FILE *f, const struct params *p, const char *name, struct error *err)
{
    fprintf(f,
            "# mnemo preset '%s': the live parameters of the piece (a config fragment; load it\n"
            "# with its key, OSC /mnemo/preset %s, or @include it in a config).\n",
            name, name);
    write_rows(f, p, preset_row);
    if (ferror(f))
        return error_set(err, "cannot write the preset: %s", strerror(errno));
    return 0;
}

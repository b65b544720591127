/* config_text.c — see config_text.h. */
#include "config_text.h"

#include "input_file.h"

#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* The files being expanded, outermost first: an include of one of them is a cycle. */
struct include_stack {
    dev_t dev[CONFIG_DEPTH_MAX + 1];
    ino_t ino[CONFIG_DEPTH_MAX + 1];
    int depth;
};

/* Where the expansion is in one file's text. */
struct cursor {
    const char *text;
    size_t len;
    const char *path; /* for messages and for finding relative includes */
    int file;         /* index in t->files */
    bool may_include; /* false for text that is no file */
};

static int expand_file(struct config_text *t, const char *path, struct include_stack *stack,
                       struct error *err);

/* ---- the output ------------------------------------------------------------------------ */

static int emit(struct config_text *t, const char *s, size_t n, struct error *err)
{
    if (t->len + n > CONFIG_TEXT_MAX) {
        char cap[32];
        return error_set(err, "%s: with its includes it is over %s of text; nothing was applied",
                         t->files[0], input_file_size_text((int64_t)CONFIG_TEXT_MAX, cap, 32));
    }
    if (t->len + n + 1 > t->cap) {
        size_t cap = t->cap ? t->cap : 4096;
        while (cap < t->len + n + 1)
            cap *= 2;
        char *grown = realloc(t->text, cap);
        if (!grown)
            return error_set(err, "%s: out of memory reading the config", t->files[0]);
        t->text = grown;
        t->cap = cap;
    }
    memcpy(t->text + t->len, s, n);
    t->len += n;
    t->text[t->len] = '\0';
    for (size_t i = 0; i < n; i++)
        t->flat_line += s[i] == '\n';
    return 0;
}

/* From the next flat line on, lines come from `file` starting at `line`. */
static int span_push(struct config_text *t, int file, int line, struct error *err)
{
    if (t->span_count == t->span_cap) {
        size_t cap = t->span_cap ? t->span_cap * 2 : 16;
        struct config_span *grown = realloc(t->spans, cap * sizeof *grown);
        if (!grown)
            return error_set(err, "%s: out of memory reading the config", t->files[0]);
        t->spans = grown;
        t->span_cap = cap;
    }
    t->spans[t->span_count++] = (struct config_span){t->flat_line, file, line};
    return 0;
}

static int file_add(struct config_text *t, const char *path, struct error *err)
{
    if (t->file_count == CONFIG_FILES_MAX)
        return error_set(err, "%s: reads more than %d files with its includes", t->files[0],
                         CONFIG_FILES_MAX);
    if (!(t->files[t->file_count] = strdup(path)))
        return error_set(err, "%s: out of memory", path);
    return (int)t->file_count++;
}

const char *config_text_where(const struct config_text *t, int flat_line, int *line)
{
    const struct config_span *at = t->spans;
    for (size_t i = 1; i < t->span_count && t->spans[i].flat_line <= flat_line; i++)
        at = &t->spans[i];
    if (!at) {
        *line = flat_line;
        return t->file_count ? t->files[0] : "?";
    }
    *line = at->line + (flat_line - at->flat_line);
    return t->files[at->file];
}

/* ---- finding @include lines ------------------------------------------------------------- */

/* Whether the line starting at text[i] is an @include directive (libconfig's
 * ^[ \t]*@include[ \t]+\"). */
static bool include_starts(const struct cursor *c, size_t i, size_t *quote)
{
    while (i < c->len && (c->text[i] == ' ' || c->text[i] == '\t'))
        i++;
    static const char word[] = "@include";
    size_t n = sizeof word - 1;
    if (c->len - i < n + 2 || memcmp(c->text + i, word, n) != 0)
        return false;
    i += n;
    if (c->text[i] != ' ' && c->text[i] != '\t')
        return false;
    while (i < c->len && (c->text[i] == ' ' || c->text[i] == '\t'))
        i++;
    if (i == c->len || c->text[i] != '"')
        return false;
    *quote = i;
    return true;
}

/* The quoted name from text[quote]; *end is just past its closing quote. */
static int include_name(const struct cursor *c, size_t quote, int line, char *name, size_t size,
                        size_t *end, struct error *err)
{
    size_t n = 0;
    for (size_t i = quote + 1; i < c->len; i++) {
        char ch = c->text[i];
        if (ch == '\n')
            break;
        if (ch == '"') {
            name[n] = '\0';
            *end = i + 1;
            return 0;
        }
        if (ch == '\\' && i + 1 < c->len && (c->text[i + 1] == '"' || c->text[i + 1] == '\\'))
            ch = c->text[++i];
        if (n + 1 == size)
            return error_set(err, "%s:%d: @include: the file name is longer than %zu characters",
                             c->path, line, size - 1);
        name[n++] = ch;
    }
    return error_set(err, "%s:%d: @include: the file name has no closing quote on its line",
                     c->path, line);
}

/* A relative name is found beside the file that includes it. */
static int include_path(const struct cursor *c, const char *name, int line, char *out, size_t size,
                        struct error *err)
{
    const char *slash = strrchr(c->path, '/');
    int n;
    if (name[0] == '/' || !slash)
        n = snprintf(out, size, "%s", name);
    else
        n = snprintf(out, size, "%.*s/%s", (int)(slash - c->path), c->path, name);
    if (n < 0 || (size_t)n >= size)
        return error_set(err, "%s:%d: @include \"%.60s...\": the path is too long", c->path, line,
                         name);
    return 0;
}

/* The @include whose opening quote is at text[quote], on `line`: its file's text goes out in
 * its place; *end is where this file's text goes on. */
static int include_expand(struct config_text *t, const struct cursor *c, size_t quote, int line,
                          struct include_stack *stack, size_t *end, struct error *err)
{
    char name[PATH_MAX], path[PATH_MAX];
    if (include_name(c, quote, line, name, sizeof name, end, err))
        return -1;
    if (!c->may_include)
        return error_set(err, "%s:%d: @include \"%s\": only a config file may include another",
                         c->path, line, name);
    if (include_path(c, name, line, path, sizeof path, err))
        return -1;
    if (stack->depth == CONFIG_DEPTH_MAX)
        return error_set(err, "%s:%d: @include \"%s\": includes nest more than %d deep", c->path,
                         line, name, CONFIG_DEPTH_MAX);
    if (expand_file(t, path, stack, err))
        return error_prefix(err, "%s:%d: @include \"%s\"", c->path, line, name);
    /* The rest of the including line goes on a line of its own, still counted as `line`. */
    if (t->len && t->text[t->len - 1] != '\n' && emit(t, "\n", 1, err))
        return -1;
    return span_push(t, c->file, line, err);
}

enum scan_state { SCAN_CODE, SCAN_COMMENT, SCAN_STRING };

/* Past the token at text[*i] as libconfig's scanner reads it, far enough to know whether
 * the next line starts outside a comment or a string. Counts the newlines it passes. */
static enum scan_state scan_step(const struct cursor *c, size_t *i, enum scan_state s, int *line)
{
    const char *p = c->text;
    char ch = p[*i], next = *i + 1 < c->len ? p[*i + 1] : '\0';
    *line += ch == '\n';
    if (s == SCAN_COMMENT) {
        *i += ch == '*' && next == '/';
        return ch == '*' && next == '/' ? SCAN_CODE : s;
    }
    if (s == SCAN_STRING) {
        if (ch == '\\' && next) {
            *line += next == '\n';
            (*i)++;
            return s;
        }
        return ch == '"' ? SCAN_CODE : s;
    }
    if (ch == '#' || (ch == '/' && next == '/')) {
        const char *nl = memchr(p + *i, '\n', c->len - *i);
        *i = nl ? (size_t)(nl - p) - 1 : c->len - 1; /* the newline is the next step's */
        return s;
    }
    if (ch == '/' && next == '*') {
        (*i)++;
        return SCAN_COMMENT;
    }
    return ch == '"' ? SCAN_STRING : s;
}

/* One file's text, its @include lines expanded. */
static int expand_text(struct config_text *t, const struct cursor *c, struct include_stack *stack,
                       struct error *err)
{
    if (span_push(t, c->file, 1, err))
        return -1;
    enum scan_state s = SCAN_CODE;
    int line = 1;
    size_t copied = 0, quote;
    for (size_t i = 0; i < c->len; i++) {
        bool line_start = i == 0 || c->text[i - 1] == '\n';
        if (s == SCAN_CODE && line_start && include_starts(c, i, &quote)) {
            size_t end;
            if (emit(t, c->text + copied, i - copied, err) ||
                include_expand(t, c, quote, line, stack, &end, err))
                return -1;
            copied = end;
            i = end - 1;
            continue;
        }
        s = scan_step(c, &i, s, &line);
    }
    return emit(t, c->text + copied, c->len - copied, err);
}

/* ---- files ------------------------------------------------------------------------------ */

/* Refuses an include of a file already being read (a cycle), else pushes it. */
static int stack_push(struct include_stack *stack, const char *path, struct error *err)
{
    struct stat st = {0};
    if (stat(path, &st) == 0) {
        for (int i = 0; i < stack->depth; i++)
            if (stack->ino[i] && stack->dev[i] == st.st_dev && stack->ino[i] == st.st_ino)
                return error_set(err, "%s: is already being read: the includes make a cycle", path);
    }
    stack->dev[stack->depth] = st.st_dev;
    stack->ino[stack->depth] = st.st_ino;
    stack->depth++;
    return 0;
}

/* A NUL would end libconfig's reading of the text silently: a file with one is no config. */
static int nul_check(const char *path, const char *text, size_t len, struct error *err)
{
    const char *nul = memchr(text, '\0', len);
    if (!nul)
        return 0;
    int line = 1;
    for (const char *p = text; p < nul; p++)
        line += *p == '\n';
    return error_set(err, "%s:%d: holds a NUL byte: this is not a text file", path, line);
}

static int expand_file(struct config_text *t, const char *path, struct include_stack *stack,
                       struct error *err)
{
    int file = file_add(t, path, err);
    if (file < 0)
        return -1;
    char *text;
    size_t len;
    if (input_file_read(path, CONFIG_FILE_MAX, &text, &len, err))
        return -1;
    int rc = nul_check(path, text, len, err);
    if (rc == 0)
        rc = stack_push(stack, path, err);
    if (rc == 0) {
        struct cursor c = {text, len, t->files[file], file, true};
        rc = expand_text(t, &c, stack, err);
        stack->depth--;
    }
    free(text);
    return rc;
}

/* t->text is "" rather than NULL for an empty file. */
static int text_ready(struct config_text *t, int rc, struct error *err)
{
    return rc == 0 && !t->text ? emit(t, "", 0, err) : rc;
}

int config_text_load(struct config_text *t, const char *path, struct error *err)
{
    memset(t, 0, sizeof *t);
    t->flat_line = 1;
    struct include_stack stack = {.depth = 0};
    return text_ready(t, expand_file(t, path, &stack, err), err);
}

int config_text_string(struct config_text *t, const char *text, const char *name, struct error *err)
{
    memset(t, 0, sizeof *t);
    t->flat_line = 1;
    if (file_add(t, name, err) < 0)
        return -1;
    struct include_stack stack = {.depth = 0};
    struct cursor c = {text, strlen(text), t->files[0], 0, false};
    return text_ready(t, expand_text(t, &c, &stack, err), err);
}

void config_text_free(struct config_text *t)
{
    for (size_t i = 0; i < t->file_count; i++)
        free(t->files[i]);
    free(t->text);
    free(t->spans);
    memset(t, 0, sizeof *t);
}

/* present_shaders.c — shaders/ read at start so an artist can edit them without a
 * rebuild; the copy embedded at build time is used whenever a file is missing or broken,
 * so the piece never goes dark over a shader. */
#include "present_internal.h"
#include "log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *shader_embedded(const char *name)
{
    for (const struct shader_text *s = present_shaders_embedded; s->name; s++)
        if (strcmp(s->name, name) == 0)
            return s->text;
    return NULL;
}

static char *file_read(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *text = NULL;
    if (fseek(f, 0, SEEK_END) == 0) {
        long n = ftell(f);
        rewind(f);
        text = n >= 0 ? malloc((size_t)n + 1) : NULL;
        if (text && fread(text, 1, (size_t)n, f) != (size_t)n) {
            free(text);
            text = NULL;
        } else if (text) {
            text[n] = '\0';
        }
    }
    fclose(f);
    return text;
}

/* One log line rewritten to "path:LINE: rest" when it carries a line number. */
static size_t log_line_rewrite(const char *line, size_t len, const char *path, char *out,
                               size_t size)
{
    int src, lineno, col, used = 0;
    char tmp[512];
    snprintf(tmp, sizeof tmp, "%.*s", (int)len, line);
    const char *rest = tmp;
    if (sscanf(tmp, "%d:%d(%d): %n", &src, &lineno, &col, &used) == 3 && used > 0)
        rest = tmp + used;
    else if (sscanf(tmp, "ERROR: %d:%d: %n", &src, &lineno, &used) == 2 && used > 0)
        rest = tmp + used;
    else
        lineno = 0;
    int n = lineno ? snprintf(out, size, "%s:%d: %s\n", path, lineno, rest)
                   : snprintf(out, size, "%s: %s\n", path, rest);
    return n < 0 ? 0 : ((size_t)n < size ? (size_t)n : size - 1);
}

void shader_log_rewrite(const char *log, const char *path, char *out, size_t size)
{
    size_t used = 0;
    out[0] = '\0';
    for (const char *p = log; *p && used + 1 < size;) {
        const char *end = strchr(p, '\n');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len)
            used += log_line_rewrite(p, len, path, out + used, size - used);
        p += len + (end ? 1 : 0);
    }
    if (used && out[used - 1] == '\n')
        out[used - 1] = '\0';
}

/* defines go right after the #version line, then "#line 2" so the driver's line numbers
 * stay those of the file. */
static GLuint compile(GLenum kind, const char *text, const char *defines, const char *path,
                      char *log, size_t size)
{
    GLuint s = glCreateShader(kind);
    const char *nl = strchr(text, '\n');
    int first = nl ? (int)(nl - text + 1) : (int)strlen(text);
    const char *parts[] = {text, defines ? defines : "", "#line 2\n", text + first};
    GLint lengths[] = {first, -1, -1, -1};
    glShaderSource(s, 4, parts, lengths);
    glCompileShader(s);
    GLint ok = 0;
    glGetShaderiv(s, GL_COMPILE_STATUS, &ok);
    if (ok)
        return s;
    char raw[4096];
    glGetShaderInfoLog(s, sizeof raw, NULL, raw);
    shader_log_rewrite(raw, path, log, size);
    glDeleteShader(s);
    return 0;
}

/* True the first time `path` is seen: a broken file is reported once, not for each
 * program made from it (present.frag is compiled once per filter) or each recreate. */
static bool first_report(const char *path)
{
    static char seen[16][256];
    static int n;
    for (int i = 0; i < n; i++)
        if (strncmp(seen[i], path, sizeof seen[i] - 1) == 0)
            return false;
    if (n < 16)
        snprintf(seen[n++], sizeof seen[0], "%s", path);
    return true;
}

/* The shader `name` from dir, or its embedded copy with a warning saying why. */
static GLuint shader_load(const char *dir, const char *name, GLenum kind, const char *defines)
{
    char path[4096], log[4096];
    snprintf(path, sizeof path, "%s/%s", dir ? dir : "(no shaders folder)", name);
    char *text = dir ? file_read(path) : NULL;
    GLuint s = 0;
    if (text) {
        s = compile(kind, text, defines, path, log, sizeof log);
        if (!s && first_report(path))
            log_warn("shader %s does not compile:\n%s\nusing the built-in %s", path, log, name);
        free(text);
    } else if (dir && first_report(path)) {
        log_warn("shader %s: cannot read it (%s); using the built-in %s", path, strerror(errno),
                 name);
    }
    if (s)
        return s;
    const char *builtin = shader_embedded(name);
    return builtin ? compile(kind, builtin, defines, name, log, sizeof log) : 0;
}

GLuint shader_program(const char *dir, const char *vert, const char *frag, const char *defines,
                      struct error *err)
{
    GLuint vs = shader_load(dir, vert, GL_VERTEX_SHADER, NULL);
    GLuint fs = shader_load(dir, frag, GL_FRAGMENT_SHADER, defines);
    if (!vs || !fs) {
        glDeleteShader(vs);
        glDeleteShader(fs);
        error_set(err, "the built-in shaders %s/%s do not compile on this GL driver", vert, frag);
        return 0;
    }
    GLuint prog = glCreateProgram();
    glAttachShader(prog, vs);
    glAttachShader(prog, fs);
    glLinkProgram(prog);
    glDeleteShader(vs);
    glDeleteShader(fs);
    GLint ok = 0;
    glGetProgramiv(prog, GL_LINK_STATUS, &ok);
    if (!ok) {
        char log[2048];
        glGetProgramInfoLog(prog, sizeof log, NULL, log);
        glDeleteProgram(prog);
        error_set(err, "shaders %s + %s do not link: %s", vert, frag, log);
        return 0;
    }
    return prog;
}

/* Config files: loading with file:line errors, @include (found beside the including file,
 * absolute paths, never a directory, a FIFO, a device or a huge file: refused at the line
 * of the @include, without blocking), and configs/default.cfg kept equal to what the
 * registry generates. */
#include "check.h"
#include "config.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Writes text to a fresh temp file; path receives its name. */
static void temp_config(char *path, size_t size, const char *text)
{
    snprintf(path, size, "/tmp/mnemo_test_config_XXXXXX");
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    if (fd < 0)
        return;
    size_t len = strlen(text);
    CHECK(write(fd, text, len) == (ssize_t)len);
    close(fd);
}

/* Loads text as a file onto defaults; returns the rc, err holds the message. */
static int load_text(struct params *p, const char *text, struct error *err, char *path, size_t size)
{
    params_defaults(p);
    temp_config(path, size, text);
    int rc = params_load_file(p, path, err);
    unlink(path);
    return rc;
}

/* err must start with "path:line: " and contain each of the needles. */
static void check_error_at(const struct error *err, const char *path, int line, const char *needle1,
                           const char *needle2)
{
    char where[300];
    snprintf(where, sizeof where, "%s:%d: ", path, line);
    CHECK_MSG(strncmp(err->msg, where, strlen(where)) == 0, "want '%s...', got '%s'", where,
              err->msg);
    CHECK_MSG(strstr(err->msg, needle1), "'%s' not in '%s'", needle1, err->msg);
    CHECK_MSG(!needle2 || strstr(err->msg, needle2), "'%s' not in '%s'", needle2, err->msg);
}

static void test_loads_groups_into_dotted_names(void)
{
    struct params p;
    struct error err = {{0}};
    char path[64];
    int rc = load_text(&p,
                       "loop = { rate = 12.5; painter = \"m/p.onnx\"; seed_source = \"noise\"; };\n"
                       "guard = { stall_window = 30; enabled = false; boost = 2; };\n",
                       &err, path, sizeof path);
    CHECK_MSG(rc == 0, "%s", err.msg);
    CHECK_NEAR(p.loop.rate, 12.5, 0);
    CHECK(strcmp(p.loop.painter, "m/p.onnx") == 0);
    CHECK(p.loop.seed_source == SEED_NOISE);
    CHECK(p.guard.stall_window == 30);
    CHECK(!p.guard.enabled);
    CHECK_NEAR(p.guard.boost, 2, 0);         /* an integer is fine for a float */
    CHECK_NEAR(p.perturb.noise, 0.05, 1e-7); /* untouched: default */
}

static void test_unknown_name_names_file_line_and_suggests(void)
{
    struct params p;
    struct error err;
    char path[64];
    CHECK(load_text(&p, "loop = {\n  rate = 8.0;\n  rat = 3.0;\n};\n", &err, path, sizeof path));
    check_error_at(&err, path, 3, "unknown parameter 'loop.rat'", "did you mean 'loop.rate'?");
    CHECK(load_text(&p, "# top\n\nlop = { rate = 8.0; };\n", &err, path, sizeof path));
    check_error_at(&err, path, 3, "'lop.rate'", "did you mean 'loop.rate'?");
    CHECK(load_text(&p, "rate = 8.0;\n", &err, path, sizeof path));
    check_error_at(&err, path, 1, "'rate'", "did you mean 'loop.rate'?");
    CHECK(load_text(&p, "loop = 5;\n", &err, path, sizeof path));
    check_error_at(&err, path, 1, "'loop' is a group", NULL);
}

static void test_wrong_type_names_parameter(void)
{
    struct params p;
    struct error err;
    char path[64];
    CHECK(load_text(&p, "guard = {\n  stall_window = 2.5;\n};\n", &err, path, sizeof path));
    check_error_at(&err, path, 2, "guard.stall_window", "expects an integer, got a float");
    CHECK(load_text(&p, "loop = { rate = \"fast\"; };\n", &err, path, sizeof path));
    check_error_at(&err, path, 1, "loop.rate", "got a string");
    CHECK(load_text(&p, "loop = { painter = 3; };\n", &err, path, sizeof path));
    check_error_at(&err, path, 1, "loop.painter", "expects a string");
    CHECK(load_text(&p, "loop = { rate = { x = 1; }; };\n", &err, path, sizeof path));
    check_error_at(&err, path, 1, "loop.rate", "got a group");
    CHECK(load_text(&p, "guard = { enabled = 1; };\n", &err, path, sizeof path));
    check_error_at(&err, path, 1, "guard.enabled", "true or false");
}

static void test_out_of_range_names_range(void)
{
    struct params p;
    struct error err;
    char path[64];
    CHECK(load_text(&p, "\n\nloop = {\n  blend = 0.5;\n  rate = 500.0;\n};\n", &err, path,
                    sizeof path));
    check_error_at(&err, path, 5, "loop.rate: 500 is out of range", "0 .. 240");
    CHECK(load_text(&p, "capture = { stream = \"both\"; };\n", &err, path, sizeof path));
    check_error_at(&err, path, 1, "capture.stream: 'both' is not one of",
                   "portrait|sketch|side_by_side");
}

static void test_syntax_error_names_line(void)
{
    struct params p;
    struct error err;
    char path[64];
    CHECK(
        load_text(&p, "loop = {\n  rate = 8.0;\n  blend = = 0.1;\n};\n", &err, path, sizeof path));
    check_error_at(&err, path, 3, "syntax error", NULL);
}

static void test_failed_load_leaves_params_unchanged(void)
{
    struct params p, before;
    params_defaults(&p);
    p.loop.rate = 3;
    before = p;
    struct error err;
    CHECK(params_load_string(&p, "loop = { rate = 20.0; blend = 7.0; };", "inline", &err));
    CHECK_MSG(strncmp(err.msg, "inline:1: loop.blend", 20) == 0, "%s", err.msg);
    CHECK(memcmp(&p, &before, sizeof p) == 0);
    CHECK(params_load_file(&p, "/nonexistent/mnemo.cfg", &err));
    CHECK_MSG(strstr(err.msg, "/nonexistent/mnemo.cfg: cannot open"), "%s", err.msg);
}

/* ---- @include ---------------------------------------------------------------------- */

/* A fresh directory for a tree of config files. */
static void tree_make(char *dir, size_t size)
{
    snprintf(dir, size, "/tmp/mnemo_test_include_XXXXXX");
    CHECK(mkdtemp(dir) != NULL);
}

static void tree_remove(const char *dir)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    CHECK(system(cmd) == 0);
}

/* dir/name holds text; path receives dir/name. */
static void tree_file(const char *dir, const char *name, const char *text, char *path, size_t size)
{
    snprintf(path, size, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

/* Loading dir/main.cfg (holding text) fails with a message starting "dir/main.cfg:line: "
 * and containing needle; p is left as it was. */
static void check_refused(const char *dir, const char *text, int line, const char *needle)
{
    struct params p, before;
    params_defaults(&p);
    before = p;
    struct error err = {{0}};
    char path[PATH_MAX];
    tree_file(dir, "main.cfg", text, path, sizeof path);
    CHECK_MSG(params_load_file(&p, path, &err) != 0, "%s loaded: %s", needle, text);
    check_error_at(&err, path, line, needle, NULL);
    CHECK(memcmp(&p, &before, sizeof p) == 0);
}

static void test_include_of_what_is_no_file_is_refused_at_its_line(void)
{
    char dir[64], path[PATH_MAX];
    tree_make(dir, sizeof dir);
    alarm(20); /* a FIFO that blocks the load ends this test (SIGALRM) instead of hanging */
    snprintf(path, sizeof path, "%s/sub", dir);
    CHECK(mkdir(path, 0700) == 0);
    check_refused(dir, "loop = { blend = 0.5; };\n@include \"sub\"\n", 2, "@include \"sub\": ");
    check_refused(dir, "@include \"sub\"\n", 1, "sub: is a directory, not a regular file");
    snprintf(path, sizeof path, "%s/pipe.cfg", dir);
    CHECK(mkfifo(path, 0600) == 0);
    check_refused(dir, "\n\n  @include \"pipe.cfg\"  # the palette\n", 3, "is a FIFO");
    struct params p;
    struct error err;
    params_defaults(&p);
    CHECK(params_load_file(&p, path, &err) != 0); /* the config itself a FIFO */
    CHECK_MSG(strstr(err.msg, "pipe.cfg: is a FIFO"), "%s", err.msg);
    snprintf(path, sizeof path, "%s/zero.cfg", dir);
    CHECK(symlink("/dev/zero", path) == 0);
    check_refused(dir, "@include \"zero.cfg\"\n", 1, "zero.cfg: is a device");
    char *big = malloc(((size_t)2 << 20) + 1);
    memset(big, ' ', (size_t)2 << 20);
    big[(size_t)2 << 20] = '\0';
    tree_file(dir, "big.cfg", big, path, sizeof path);
    free(big);
    check_refused(dir, "@include \"big.cfg\"\n", 1, "over the 1 MiB");
    tree_file(dir, "nul.cfg", "loop = {};\n\n", path, sizeof path);
    FILE *f = fopen(path, "a");
    fputc('\0', f);
    fclose(f);
    check_refused(dir, "@include \"nul.cfg\"\n", 1, "nul.cfg:3: holds a NUL byte");
    alarm(0);
    tree_remove(dir);
}

static void note_file(const char *path, void *ctx)
{
    char *list = ctx;
    size_t used = strlen(list);
    snprintf(list + used, 4096 - used, "%s;", path);
}

static void test_include_paths_absolute_and_beside_the_including_file(void)
{
    char dir[64], path[256], main_cfg[256], text[1024];
    tree_make(dir, sizeof dir);
    tree_file(dir, "abs.cfg", "perturb = { noise = 0.125; };\n", path, sizeof path);
    snprintf(text, sizeof text, "@include \"%s\"\n", path); /* absolute */
    tree_file(dir, "main.cfg", text, main_cfg, sizeof main_cfg);
    struct params p;
    struct error err = {{0}};
    params_defaults(&p);
    CHECK_MSG(params_load_file(&p, main_cfg, &err) == 0, "%s", err.msg);
    CHECK(p.perturb.noise == 0.125f);
    /* sub/a.cfg includes "b.cfg": the one beside it, in sub/ */
    snprintf(path, sizeof path, "%s/sub", dir);
    CHECK(mkdir(path, 0700) == 0);
    tree_file(dir, "sub/a.cfg", "@include \"b.cfg\"\n", path, sizeof path);
    tree_file(dir, "sub/b.cfg", "guard = { boost = 3.0; };\n", path, sizeof path);
    tree_file(dir, "main.cfg", "@include \"sub/a.cfg\"\n", main_cfg, sizeof main_cfg);
    params_defaults(&p);
    char files[4096] = "";
    CHECK_MSG(params_load_file_watched(&p, main_cfg, note_file, files, &err) == 0, "%s", err.msg);
    CHECK(p.guard.boost == 3.0f);
    /* what the watcher is given: every file by the path it was read at */
    snprintf(text, sizeof text, "%s;%s/sub/a.cfg;%s/sub/b.cfg;", main_cfg, dir, dir);
    CHECK_MSG(strcmp(files, text) == 0, "watched '%s', want '%s'", files, text);
    tree_remove(dir);
}

static void test_include_errors_name_their_own_file_and_line(void)
{
    char dir[64], part[PATH_MAX], path[PATH_MAX];
    tree_make(dir, sizeof dir);
    tree_file(dir, "part.cfg", "\n\nperturb = { noise = 0.5; };\n", part, sizeof part);
    check_refused(dir, "# one\n@include \"part.cfg\" # two\nloop = {\n  rate = 500.0;\n};\n", 4,
                  "loop.rate: 500 is out of range");
    tree_file(dir, "part.cfg", "\n\nperturb = { noise = 5.0; };\n", part, sizeof part);
    struct params p;
    struct error err = {{0}};
    params_defaults(&p);
    tree_file(dir, "main.cfg", "loop = { blend = 0.5; };\n@include \"part.cfg\"\n", path,
              sizeof path);
    CHECK(params_load_file(&p, path, &err) != 0);
    check_error_at(&err, part, 3, "perturb.noise: 5 is out of range", NULL);
    /* a cycle, however long, is named; so is an include in a comment not taken */
    tree_file(dir, "a.cfg", "@include \"b.cfg\"\n", path, sizeof path);
    tree_file(dir, "b.cfg", "@include \"a.cfg\"\n", path, sizeof path);
    check_refused(dir, "@include \"a.cfg\"\n", 1, "the includes make a cycle");
    tree_file(dir, "main.cfg", "/*\n@include \"nothere.cfg\"\n*/\nloop = { blend = 0.5; };\n", path,
              sizeof path);
    CHECK_MSG(params_load_file(&p, path, &err) == 0, "%s", err.msg);
    /* text in memory has no directory to find an include in */
    CHECK(params_load_string(&p, "\n@include \"part.cfg\"\n", "inline", &err) != 0);
    CHECK_MSG(strstr(err.msg, "inline:2: @include \"part.cfg\": only a config file"), "%s",
              err.msg);
    tree_remove(dir);
}

static char *generated_config(const struct params *p, size_t *len)
{
    char *text = NULL;
    FILE *f = open_memstream(&text, len);
    struct error err;
    CHECK(params_write_config(f, p, &err) == 0);
    fclose(f);
    return text;
}

static char *read_whole(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *text = malloc((size_t)n + 1);
    size_t got = fread(text, 1, (size_t)n, f);
    text[got] = '\0';
    fclose(f);
    return text;
}

static void test_default_cfg_is_generated_text(void)
{
    struct params p;
    params_defaults(&p);
    size_t len;
    char *want = generated_config(&p, &len);
    char *have = read_whole(MNEMO_SOURCE_DIR "/configs/default.cfg");
    CHECK_MSG(have, "configs/default.cfg is missing");
    CHECK_MSG(have && strcmp(have, want) == 0,
              "configs/default.cfg differs from the registry: regenerate it with "
              "`build/tests/test_config --print-default > configs/default.cfg`");
    if (have && strcmp(have, want) != 0)
        fprintf(stderr, "---- generated ----\n%s", want);
    free(want);
    free(have);
}

static void test_default_cfg_loads_to_defaults(void)
{
    struct params p, defaults;
    params_defaults(&defaults);
    memset(&p, 0, sizeof p);
    struct error err = {{0}};
    CHECK_MSG(params_load_file(&p, MNEMO_SOURCE_DIR "/configs/default.cfg", &err) == 0, "%s",
              err.msg);
    for (size_t i = 0; i < params_count(); i++)
        CHECK_MSG(param_equal(params_at(i), &p, &defaults), "%s", params_at(i)->name);
}

static void test_written_config_round_trips(void)
{
    struct params p, back;
    params_defaults(&p);
    struct error err = {{0}};
    CHECK(params_set(&p, "loop.rate", "0.125", &err) == 0);
    CHECK(params_set(&p, "perturb.noise", "0.3333", &err) == 0);
    CHECK(params_set(&p, "loop.seed_image", "dir \"q\"\\x.png", &err) == 0);
    CHECK(params_set(&p, "guard.enabled", "false", &err) == 0);
    CHECK(params_set(&p, "capture.codec", "h265", &err) == 0);
    size_t len;
    char *text = generated_config(&p, &len);
    CHECK(strstr(text, "rate = 0.125;\n"));
    CHECK(strstr(text, "default 8)"));
    params_defaults(&back);
    CHECK_MSG(params_load_string(&back, text, "written", &err) == 0, "%s", err.msg);
    for (size_t i = 0; i < params_count(); i++)
        CHECK_MSG(param_equal(params_at(i), &p, &back), "%s", params_at(i)->name);
    free(text);
}

/* `test_config --print-default` writes the text configs/default.cfg must hold, until
 * `mnemo params --config` exists to do it. */
int main(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "--print-default") == 0) {
        struct params p;
        struct error err;
        params_defaults(&p);
        return params_write_config(stdout, &p, &err) ? 1 : 0;
    }
    RUN(test_loads_groups_into_dotted_names);
    RUN(test_unknown_name_names_file_line_and_suggests);
    RUN(test_wrong_type_names_parameter);
    RUN(test_out_of_range_names_range);
    RUN(test_syntax_error_names_line);
    RUN(test_failed_load_leaves_params_unchanged);
    RUN(test_include_of_what_is_no_file_is_refused_at_its_line);
    RUN(test_include_paths_absolute_and_beside_the_including_file);
    RUN(test_include_errors_name_their_own_file_and_line);
    RUN(test_default_cfg_is_generated_text);
    RUN(test_default_cfg_loads_to_defaults);
    RUN(test_written_config_round_trips);
    return check_report();
}

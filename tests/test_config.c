/* Config files: loading with file:line errors, and configs/default.cfg kept equal to
 * what the registry generates. */
#include "check.h"
#include "config.h"

#include <string.h>
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
    RUN(test_default_cfg_is_generated_text);
    RUN(test_default_cfg_loads_to_defaults);
    RUN(test_written_config_round_trips);
    return check_report();
}

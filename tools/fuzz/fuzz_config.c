/* fuzz_config.c — the config parser on arbitrary text: libconfig's grammar, then every
 * setting validated against the registry (params_load_string, what `mnemo check` and hot
 * reload run on a file), and each line as a `-o name=value` assignment.
 *
 * Invariants checked on every input:
 *   - a failed load says why and leaves the parameters as they were (all or nothing);
 *   - every value a load accepted formats back to text that sets the same value;
 *   - the config written from an accepted set (`mnemo params --config`, presets) loads
 *     again to the same set. */
#include "fuzz.h"

#include "config.h"

#include <string.h>

/* -o lines tried per input: a few show the path; every line would make each input slow
 * (each unknown name is ranked against the whole registry for a did-you-mean). */
#define ASSIGNMENTS_MAX 8

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    return 0;
}

static void params_same(const struct params *a, const struct params *b, const char *what)
{
    for (size_t i = 0; i < params_count(); i++) {
        const struct param_def *def = params_at(i);
        char ta[PARAM_TEXT_MAX], tb[PARAM_TEXT_MAX];
        FUZZ_CHECK(param_equal(def, a, b), "%s: %s is %s, expected %s", what, def->name,
                   param_format(b, def, tb, sizeof tb), param_format(a, def, ta, sizeof ta));
    }
}

/* param_format's text sets the same value again (OSC /mnemo/get, the HUD, presets). */
static void values_round_trip(const struct params *p)
{
    static struct params q;
    for (size_t i = 0; i < params_count(); i++) {
        const struct param_def *def = params_at(i);
        char text[PARAM_TEXT_MAX];
        struct error err = {{0}};
        q = *p;
        param_format(p, def, text, sizeof text);
        FUZZ_CHECK(param_set(&q, def, text, &err) == 0, "%s = '%s' does not read back: %s",
                   def->name, text, err.msg);
        FUZZ_CHECK(param_equal(def, p, &q), "%s = '%s' reads back as another value", def->name,
                   text);
    }
}

/* The config written for p loads onto the defaults as p again. */
static void config_round_trip(const struct params *p)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    FUZZ_CHECK(f != NULL, "open_memstream");
    struct error err = {{0}};
    int rc = params_write_config(f, p, &err);
    FUZZ_CHECK(fclose(f) == 0 && rc == 0, "writing the config: %s", err.msg);
    static struct params q;
    params_defaults(&q);
    FUZZ_CHECK(params_load_string(&q, text, "written.cfg", &err) == 0,
               "the written config does not load: %s", err.msg);
    params_same(p, &q, "written config");
    free(text);
}

/* Each line as -o name=value onto a copy of p (params_set_assignment and its
 * did-you-mean for unknown names). */
static void assignments_try(const struct params *p, char *text)
{
    static struct params q;
    q = *p;
    char *save = NULL;
    int n = 0;
    for (char *line = strtok_r(text, "\n", &save); line && n < ASSIGNMENTS_MAX;
         line = strtok_r(NULL, "\n", &save), n++) {
        struct error err = {{0}};
        if (params_set_assignment(&q, line, &err) != 0)
            FUZZ_CHECK(err.msg[0] != '\0', "a refused -o says why");
    }
    values_round_trip(&q);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    FUZZ_CHECK(text != NULL, "malloc");
    memcpy(text, data, size);
    text[size] = '\0';

    static struct params defaults, p;
    if (!defaults.loop.size)
        params_defaults(&defaults);
    p = defaults;
    struct error err = {{0}};
    if (params_load_string(&p, text, "fuzz.cfg", &err) != 0) {
        FUZZ_CHECK(err.msg[0] != '\0', "a failed load says why");
        params_same(&defaults, &p, "after a failed load");
    } else {
        values_round_trip(&p);
        config_round_trip(&p);
    }
    assignments_try(&defaults, text);
    free(text);
    return 0;
}

/* Live tuning: every parameter through config text, -o and OSC; OSC packets into
 * requests; midi.map parsing, curves and learn on decoded events (no ALSA); the glide;
 * presets; and the control itself with a real config file edited in place and by rename. */
#include "check.h"
#include "config.h"
#include "control.h"
#include "glide.h"
#include "midi_map.h"
#include "osc.h"
#include "presets.h"
#include "stats.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Big structs live here, not on the stack. */
static struct params a, b, c;

/* A valid value of def other than its default, as text. */
static void other_value(const struct param_def *def, char *buf, size_t size)
{
    params_defaults(&a);
    char def_text[PARAM_TEXT_MAX];
    param_format(&a, def, def_text, sizeof def_text);
    switch (def->type) {
    case PARAM_INT:
    case PARAM_FLOAT:
        snprintf(buf, size, "%.17g", strtod(def_text, NULL) == def->max ? def->min : def->max);
        break;
    case PARAM_BOOL:
        snprintf(buf, size, "%s", a.loop.size && strcmp(def_text, "true") ? "true" : "false");
        break;
    case PARAM_ENUM:
        if (strcmp(strrchr(def->choices, '|') + 1, def_text) != 0)
            snprintf(buf, size, "%s", strrchr(def->choices, '|') + 1); /* the last choice */
        else
            snprintf(buf, size, "%.*s", (int)strcspn(def->choices, "|"), def->choices);
        break;
    case PARAM_STRING:
        if (strcmp(def->name, "kiosk.hours") == 0) /* checked: opening hours */
            snprintf(buf, size, "mon-fri 10:00-18:00; sat,sun 11:00-13:00 14:00-17:00");
        else
            snprintf(buf, size, "%s",
                     def->check ? "cc=21 param=perturb.noise min=0 max=0.3 curve=exp; cc=7 "
                                  "param=loop.blend channel=2"
                                : "some dir/a \"quoted\" file.png");
        break;
    }
}

/* a = defaults with def at another value; b gets it through config text, -o and OSC. */
static void round_trip_one(const struct param_def *def)
{
    char text[PARAM_TEXT_MAX];
    struct error err = {{0}};
    other_value(def, text, sizeof text);
    params_defaults(&a);
    CHECK_MSG(param_set(&a, def, text, &err) == 0, "%s=%s: %s", def->name, text, err.msg);
    CHECK_MSG(!param_equal(def, &a, &c), "%s: the test value is the default", def->name);

    char *cfg = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&cfg, &len);
    CHECK(params_write_config(f, &a, &err) == 0);
    fclose(f);
    params_defaults(&b);
    CHECK_MSG(params_load_string(&b, cfg, "mem", &err) == 0, "%s: %s", def->name, err.msg);
    CHECK_MSG(param_equal(def, &a, &b), "%s: config text round trip", def->name);
    free(cfg);

    char assignment[PARAM_TEXT_MAX + 128], formatted[PARAM_TEXT_MAX];
    snprintf(assignment, sizeof assignment, "%s=%s", def->name,
             param_format(&a, def, formatted, sizeof formatted));
    params_defaults(&b);
    CHECK_MSG(params_set_assignment(&b, assignment, &err) == 0, "%s", err.msg);
    CHECK_MSG(param_equal(def, &a, &b), "%s: -o round trip", def->name);

    lo_message m = lo_message_new();
    CHECK(osc_value_append(m, &a, def) == 0);
    size_t size = 0;
    void *data = lo_message_serialise(m, "/mnemo/x", NULL, &size);
    lo_message_free(m);
    int result;
    lo_message back = lo_message_deserialise(data, size, &result);
    CHECK(back != NULL);
    params_defaults(&b);
    if (back) {
        char osc_text[PARAM_TEXT_MAX];
        int rc = osc_value_text(def, lo_message_get_types(back)[0], lo_message_get_argv(back)[0],
                                osc_text, sizeof osc_text, &err);
        CHECK_MSG(rc == 0 && param_set(&b, def, osc_text, &err) == 0, "%s: %s", def->name, err.msg);
        lo_message_free(back);
    }
    free(data);
    if (def->flags & PARAM_SECRET) /* never sent: OSC /mnemo/get says "(set)" */
        CHECK_MSG(!strcmp(param_get_string(&b, def), "(set)"), "%s: OSC shows the secret",
                  def->name);
    else
        CHECK_MSG(param_equal(def, &a, &b), "%s: OSC round trip", def->name);
}

static void test_every_param_round_trips(void)
{
    params_defaults(&c);
    for (size_t i = 0; i < params_count(); i++)
        round_trip_one(params_at(i));
}

/* One OSC argument of the given type into param_set text for `name`. */
static int osc_text(const char *name, char type, lo_arg *arg, char *buf, struct error *err)
{
    return osc_value_text(params_find(name), type, arg, buf, 64, err);
}

static void test_osc_values_convert_sensibly(void)
{
    char buf[64];
    struct error err;
    lo_arg arg;
    arg.f = 3.0f;
    CHECK(osc_text("perturb.erase_count", LO_FLOAT, &arg, buf, &err) == 0 && !strcmp(buf, "3"));
    arg.f = 3.5f;
    CHECK(osc_text("perturb.erase_count", LO_FLOAT, &arg, buf, &err) < 0);
    CHECK(strstr(err.msg, "perturb.erase_count") && strstr(err.msg, "not an integer"));
    arg.i = 2;
    CHECK(osc_text("perturb.noise", LO_INT32, &arg, buf, &err) == 0 && !strcmp(buf, "2"));
    arg.f = 1.0f; /* a toggle button */
    CHECK(osc_text("guard.enabled", LO_FLOAT, &arg, buf, &err) == 0 && !strcmp(buf, "true"));
    CHECK(osc_text("guard.enabled", LO_FALSE, &arg, buf, &err) == 0 && !strcmp(buf, "false"));
    arg.i = 2;
    CHECK(osc_text("loop.seed_source", LO_INT32, &arg, buf, &err) == 0 && !strcmp(buf, "noise"));
    arg.i = 3;
    CHECK(osc_text("loop.seed_source", LO_INT32, &arg, buf, &err) == 0 && !strcmp(buf, "bank"));
    arg.i = 4;
    CHECK(osc_text("loop.seed_source", LO_INT32, &arg, buf, &err) < 0);
    arg.i = 1;
    CHECK(osc_text("loop.seed_image", LO_INT32, &arg, buf, &err) < 0);
    CHECK(osc_text("perturb.noise", LO_TRUE, &arg, buf, &err) < 0);
}

/* A packet with path and arguments, decoded as the control's thread would. */
static enum osc_kind decode(struct osc_request *rq, const char *path, lo_message m)
{
    size_t size = 0;
    void *data = lo_message_serialise(m, path, NULL, &size);
    lo_message_free(m);
    struct sockaddr_in from = {.sin_family = AF_INET, .sin_port = htons(5000)};
    inet_pton(AF_INET, "127.0.0.1", &from.sin_addr);
    osc_decode(data, size, (const struct sockaddr *)&from, sizeof from, rq);
    free(data);
    return rq->kind;
}

static lo_message message_of(const char *types, const char *s, float f)
{
    lo_message m = lo_message_new();
    for (const char *t = types; *t; t++)
        *t == 's' ? lo_message_add_string(m, s) : lo_message_add_float(m, f);
    return m;
}

static void test_osc_packets_decode_into_requests(void)
{
    static struct osc_request rq;
    CHECK(decode(&rq, "/mnemo/perturb.noise", message_of("f", "", 0.25f)) == OSC_SET);
    CHECK(rq.def == params_find("perturb.noise") && !strcmp(rq.value, "0.25"));
    CHECK(!strcmp(rq.who, "127.0.0.1:5000"));
    CHECK(decode(&rq, "/mnemo/get", message_of("s", "loop.blend", 0)) == OSC_GET);
    CHECK(rq.def == params_find("loop.blend"));
    CHECK(decode(&rq, "/mnemo/list", message_of("", "", 0)) == OSC_LIST);
    CHECK(decode(&rq, "/mnemo/preset", message_of("s", "calm", 0)) == OSC_PRESET);
    CHECK(!strcmp(rq.name, "calm"));
    CHECK(decode(&rq, "/mnemo/reseed", message_of("", "", 0)) == OSC_RESEED);
    CHECK(decode(&rq, "/mnemo/get", message_of("s", "loop.blnd", 0)) == OSC_IGNORED);
    CHECK_MSG(strstr(rq.why, "osc /mnemo/get from 127.0.0.1:5000: unknown parameter"), "%s",
              rq.why);
    CHECK(decode(&rq, "/mnemo/perturb.erase_count", message_of("f", "", 3.5f)) == OSC_IGNORED);
    CHECK_MSG(strstr(rq.why, "ignored: perturb.erase_count: 3.5 is not an integer"), "%s", rq.why);
    CHECK(decode(&rq, "/other/x", message_of("f", "", 1)) == OSC_IGNORED);
    CHECK(decode(&rq, "/mnemo/preset", message_of("f", "", 1)) == OSC_IGNORED);
    CHECK(strstr(rq.why, "takes one string"));
    /* A string over what a value holds is refused, not cut to a shorter value that passes
     * (here: a valid midi.map and 5000 spaces). */
    static char map[5100];
    snprintf(map, sizeof map, "cc=21 param=perturb.noise%5000s", "");
    CHECK(decode(&rq, "/mnemo/midi.map", message_of("s", map, 0)) == OSC_IGNORED);
    CHECK_MSG(strstr(rq.why, "midi.map: a string of 5025 characters; at most 4095 are taken"), "%s",
              rq.why);
    struct sockaddr_in from = {.sin_family = AF_INET};
    osc_decode("#bundle\0\0\0\0\0\0\0\0\1", 16, (const struct sockaddr *)&from, sizeof from, &rq);
    CHECK(rq.kind == OSC_IGNORED && strstr(rq.why, "bundle"));
    osc_decode("", OSC_PACKET_MAX + 1, (const struct sockaddr *)&from, sizeof from, &rq);
    CHECK(rq.kind == OSC_IGNORED && strstr(rq.why, "over 8192 bytes"));
}

/* A datagram from `from` decoded, its reply (if any) read back on `client`: the reply's
 * bytes, 0 when none came within 300 ms. */
static size_t ask(struct osc *o, int client, const struct sockaddr_in *from, const char *path,
                  lo_message m, struct params *p, unsigned char *reply, size_t size)
{
    static struct osc_request rq;
    size_t n = 0;
    void *data = lo_message_serialise(m, path, NULL, &n);
    lo_message_free(m);
    osc_decode(data, n, (const struct sockaddr *)from, sizeof *from, &rq);
    free(data);
    if (rq.kind == OSC_LIST)
        osc_reply_list(o, &rq);
    else if (rq.kind == OSC_GET)
        osc_reply_value(o, &rq, p);
    struct pollfd pfd = {.fd = client, .events = POLLIN};
    if (poll(&pfd, 1, 300) <= 0)
        return 0;
    ssize_t got = recv(client, reply, size, 0);
    CHECK_MSG(got > 0 && (size_t)got <= OSC_REPLY_FACTOR * n,
              "%s: a reply of %zd bytes to a request of %zu", path, got, n);
    return got > 0 ? (size_t)got : 0;
}

/* UDP senders can be forged: no reply may be much bigger than its request, or an open OSC
 * port amplifies floods at whoever is named as the sender. /mnemo/list comes in pages. */
static void test_osc_replies_are_no_bigger_than_their_requests(void)
{
    struct error err = {{0}};
    struct osc *o = osc_open("127.0.0.1", 0, &err);
    CHECK_MSG(o, "%s", err.msg);
    int client = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in from = {.sin_family = AF_INET};
    inet_pton(AF_INET, "127.0.0.1", &from.sin_addr);
    socklen_t len = sizeof from;
    CHECK(client >= 0 && bind(client, (struct sockaddr *)&from, sizeof from) == 0 &&
          getsockname(client, (struct sockaddr *)&from, &len) == 0);
    if (!o || client < 0)
        return;
    static unsigned char reply[65536];
    params_defaults(&a);
    size_t names = 0, pages = 0;
    for (int32_t next = 0; next >= 0 && pages < 1000; pages++) {
        lo_message m = lo_message_new();
        if (next > 0)
            lo_message_add_int32(m, next);
        size_t n = ask(o, client, &from, "/mnemo/list", m, &a, reply, sizeof reply);
        int result;
        lo_message back = n ? lo_message_deserialise(reply, n, &result) : NULL;
        CHECK_MSG(back, "page %zu: no reply", pages);
        if (!back)
            break;
        const char *types = lo_message_get_types(back);
        lo_arg **argv = lo_message_get_argv(back);
        int argc = lo_message_get_argc(back);
        CHECK(types[0] == 'i' && argc >= 2);
        for (int i = 1; i < argc; i++, names++)
            CHECK_MSG(names < params_count() &&
                          !strcmp((const char *)(void *)argv[i], params_at(names)->name),
                      "page %zu: name %d is %s", pages, i, (const char *)(void *)argv[i]);
        memcpy(&next, argv[0], sizeof next);
        lo_message_free(back);
    }
    CHECK_MSG(names == params_count(), "%zu names of %zu in %zu pages", names, params_count(),
              pages);
    CHECK(pages > 1);
    /* A value bigger than the bound is not sent, unless the request pays for it. */
    snprintf(a.midi.map, sizeof a.midi.map, "%s",
             "cc=21 param=perturb.noise min=0 max=0.3 curve=exp; cc=22 param=loop.blend; cc=23 "
             "param=perturb.zoom; cc=24 param=perturb.rotate; cc=25 param=perturb.drift");
    CHECK(ask(o, client, &from, "/mnemo/get", message_of("s", "midi.map", 0), &a, reply,
              sizeof reply) == 0);
    char pad[160];
    memset(pad, 'x', sizeof pad - 1);
    pad[sizeof pad - 1] = '\0';
    lo_message m = message_of("s", "midi.map", 0);
    lo_message_add_string(m, pad);
    CHECK(ask(o, client, &from, "/mnemo/get", m, &a, reply, sizeof reply) > 0);
    CHECK(ask(o, client, &from, "/mnemo/get", message_of("s", "perturb.noise", 0), &a, reply,
              sizeof reply) > 0);
    close(client);
    osc_close(o);
}

static void test_midi_map_errors_name_the_entry(void)
{
    struct midi_map m;
    struct error err = {{0}};
    CHECK(midi_map_parse(&m, " ; cc=1 param=loop.blend ;", &err) == 0 && m.count == 1);
    CHECK(midi_map_parse(&m, "cc=1 param=loop.blend; cc=2 parm=loop.blend", &err) < 0);
    CHECK_MSG(strstr(err.msg, "entry 2") && strstr(err.msg, "unknown key 'parm'"), "%s", err.msg);
    CHECK(midi_map_parse(&m, "cc=1 param=perturb.nois", &err) < 0);
    CHECK_MSG(strstr(err.msg, "did you mean 'perturb.noise'"), "%s", err.msg);
    CHECK(midi_map_parse(&m, "cc=1 param=loop.size", &err) < 0);
    CHECK_MSG(strstr(err.msg, "restart-only"), "%s", err.msg);
    CHECK(midi_map_parse(&m, "cc=128 param=loop.blend", &err) < 0);
    CHECK(midi_map_parse(&m, "param=loop.blend", &err) < 0);
    CHECK(midi_map_parse(&m, "cc=3 param=loop.blend max=2", &err) < 0);
    CHECK_MSG(strstr(err.msg, "0 .. 0.95"), "%s", err.msg);
    /* In a config file: the file:line of the setting, as for any value. */
    params_defaults(&a);
    CHECK(params_load_string(&a, "midi = {\n  map = \"cc=1 param=loop.size\";\n};\n", "x.cfg",
                             &err) < 0);
    CHECK_MSG(strncmp(err.msg, "x.cfg:2: midi.map: entry 1", 26) == 0, "%s", err.msg);
}

static double mapped(const char *map, int cc, int channel, int value, const char *name)
{
    struct midi_map m;
    struct error err = {{0}};
    CHECK_MSG(midi_map_parse(&m, map, &err) == 0, "%s", err.msg);
    params_defaults(&a);
    struct midi_cc ev = {.channel = channel, .cc = cc, .value = value};
    midi_map_apply(&m, &ev, &a);
    char text[64];
    return strtod(param_format(&a, params_find(name), text, sizeof text), NULL);
}

static void test_midi_map_curves_and_channels(void)
{
    const char *lin = "cc=21 param=perturb.noise min=0 max=0.3";
    CHECK_NEAR(mapped(lin, 21, 1, 0, "perturb.noise"), 0, 0);
    CHECK_NEAR(mapped(lin, 21, 5, 127, "perturb.noise"), 0.3, 1e-7);
    CHECK_NEAR(mapped(lin, 21, 1, 64, "perturb.noise"), 0.3 * 64 / 127, 1e-6);
    CHECK_NEAR(mapped(lin, 22, 1, 64, "perturb.noise"), 0.05, 1e-7); /* another CC */
    const char *exp_map = "cc=21 param=perturb.noise min=0 max=0.3 curve=exp";
    const char *log_map = "cc=21 param=perturb.noise min=0 max=0.3 curve=log";
    double prev = -1;
    for (int v = 0; v <= 127; v++) {
        double e = mapped(exp_map, 21, 1, v, "perturb.noise");
        CHECK(e >= prev);
        CHECK(e <= mapped(lin, 21, 1, v, "perturb.noise") + 1e-6);
        CHECK(mapped(log_map, 21, 1, v, "perturb.noise") >=
              mapped(lin, 21, 1, v, "perturb.noise") - 1e-6);
        prev = e;
    }
    CHECK_NEAR(prev, 0.3, 1e-6);
    const char *ch = "cc=7 param=loop.blend channel=2 min=0.9 max=0.1";
    CHECK_NEAR(mapped(ch, 7, 1, 127, "loop.blend"), 0.3, 1e-7); /* wrong channel */
    CHECK_NEAR(mapped(ch, 7, 2, 127, "loop.blend"), 0.1, 1e-6); /* turned around */
    CHECK_NEAR(mapped("cc=1 param=perturb.erase_count", 1, 1, 64, "perturb.erase_count"), 32, 0);
    CHECK(mapped("cc=1 param=guard.enabled", 1, 1, 10, "guard.enabled") == 0);
    params_defaults(&a);
    CHECK(mapped("cc=1 param=present.layout", 1, 1, 127, "present.layout") == 0);
    CHECK(a.present.layout == LAYOUT_SIDE_BY_SIDE); /* the top of the range: the last choice */
}

static void test_midi_learn_rewrites_the_map(void)
{
    char text[PARAM_TEXT_MAX] = "cc=5 param=perturb.noise; cc=6 param=loop.blend";
    struct error err = {{0}};
    struct midi_cc ev = {.channel = 3, .cc = 5, .value = 9};
    CHECK_MSG(midi_map_learn(text, sizeof text, &ev, "simplify.blur", &err) == 0, "%s", err.msg);
    CHECK_MSG(strstr(text, "cc=5 param=simplify.blur min=0 max=8 curve=lin") &&
                  !strstr(text, "perturb.noise") && strstr(text, "cc=6 param=loop.blend"),
              "%s", text);
    CHECK(midi_map_check(text, &err) == 0);
    CHECK(midi_map_learn(text, sizeof text, &ev, "loop.size", &err) < 0);
    char tiny[16] = "";
    CHECK(midi_map_learn(tiny, sizeof tiny, &ev, "loop.blend", &err) < 0);
}

static void test_glide_reaches_target_in_monotone_steps(void)
{
    static struct glide f;
    params_defaults(&a);
    a.control.glide_ms = 1000;
    glide_init(&f, &a);
    b = a;
    b.perturb.noise = 0.55f;   /* smoothable: glides */
    b.perturb.erase_count = 9; /* live, not smoothable: jumps */
    b.loop.size = 512;         /* restart-only: stays */
    glide_retarget(&f, &b, 10.0);
    CHECK(glide_advance(&f, 10.0));
    CHECK(f.cur.perturb.erase_count == 9 && f.cur.loop.size == 256);
    CHECK_NEAR(f.cur.perturb.noise, 0.05, 1e-7);
    const double steps[] = {10.013, 10.05, 10.2, 10.21, 10.5, 10.77, 10.99, 11.0};
    float prev = f.cur.perturb.noise;
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        glide_advance(&f, steps[i]);
        float want = 0.05f + 0.5f * (float)(steps[i] - 10.0);
        CHECK_MSG(f.cur.perturb.noise >= prev, "step %zu went back", i);
        CHECK_NEAR(f.cur.perturb.noise, want, 1e-5); /* linear in time */
        prev = f.cur.perturb.noise;
    }
    CHECK(f.cur.perturb.noise == 0.55f); /* exactly there at the glide's end */
    CHECK(!glide_advance(&f, 11.5));
    /* glide_ms = 0: a jump. */
    b.control.glide_ms = 0;
    b.perturb.noise = 0.1f;
    glide_retarget(&f, &b, 12.0);
    glide_advance(&f, 12.0);
    CHECK(f.cur.perturb.noise == 0.1f && f.version == 2);
}

/* A fader swept at 20 messages a second while the loop runs at 8 iterations a second:
 * every iteration takes a new target. Each step must still move the fader's parameter
 * toward it, and a parameter given one new value before the sweep (present.gamma) must
 * glide on its own time, not wait for the fader to stop. */
static void test_glide_follows_a_moving_fader(void)
{
    static struct glide f;
    params_defaults(&a);
    a.control.glide_ms = 300;
    a.perturb.noise = 0;
    glide_init(&f, &a);
    b = a;
    b.present.gamma = 2;
    glide_retarget(&f, &b, 0.0);
    glide_advance(&f, 0.0);
    float noise = f.cur.perturb.noise, gamma = f.cur.present.gamma;
    double t = 0;
    for (int i = 1; i <= 24; i++) { /* 3 s of sweeping */
        t = i * 0.125;
        b.perturb.noise = 0.02f * (float)(i * 0.125 * 20); /* the fader's newest value */
        glide_retarget(&f, &b, t);
        CHECK(glide_advance(&f, t));
        CHECK_MSG(f.cur.perturb.noise > noise, "iteration %d: perturb.noise stood at %g", i,
                  (double)f.cur.perturb.noise);
        CHECK_MSG(f.cur.perturb.noise < b.perturb.noise, "iteration %d: the fader jumped", i);
        CHECK_MSG(f.cur.present.gamma > gamma || f.cur.present.gamma == 2.0f,
                  "iteration %d: present.gamma stood at %g", i, (double)f.cur.present.gamma);
        noise = f.cur.perturb.noise;
        gamma = f.cur.present.gamma;
    }
    CHECK(gamma == 2.0f); /* arrived 0.3 s after it was set, whatever the fader did */
    /* The fader stops: its parameter arrives glide_ms after the last value, in steps. */
    float left = b.perturb.noise - noise, largest = 0;
    for (double s = t + 0.125; s <= t + 0.5; s += 0.125) {
        glide_advance(&f, s);
        float step = f.cur.perturb.noise - noise;
        largest = step > largest ? step : largest;
        noise = f.cur.perturb.noise;
    }
    CHECK(f.cur.perturb.noise == b.perturb.noise);
    CHECK_MSG(largest < 0.5f * left, "the end of the sweep jumped by %g of %g", (double)largest,
              (double)left);
}

static void temp_dir(char *dir)
{
    strcpy(dir, "/tmp/mnemo_test_control_XXXXXX");
    CHECK(mkdtemp(dir) != NULL);
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

static void test_presets_save_and_load_live_values(void)
{
    char dir[64], sub[96];
    temp_dir(dir);
    snprintf(sub, sizeof sub, "%s/presets", dir);
    struct error err = {{0}};
    params_defaults(&a);
    a.perturb.noise = 0.25f;
    a.simplify.thin = 2;
    a.control.glide_ms = 5;
    CHECK_MSG(preset_save(sub, "3", &a, &err) == 0, "%s", err.msg);
    params_defaults(&b);
    b.loop.size = 128;
    CHECK_MSG(preset_load(sub, "3", &b, &err) == 0, "%s", err.msg);
    CHECK(b.perturb.noise == 0.25f && b.simplify.thin == 2);
    CHECK(b.loop.size == 128 && b.control.glide_ms == 300); /* not in a preset */
    CHECK(preset_load(sub, "../3", &b, &err) < 0 && strstr(err.msg, "names are"));
    CHECK(preset_load(sub, "missing", &b, &err) < 0 && strstr(err.msg, "cannot open"));
    CHECK(preset_save(sub, "", &a, &err) < 0);
    char cmd[200];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    CHECK(system(cmd) == 0);
}

/* A FIFO where a preset is (or where its temp file goes) would block the control thread
 * for good: refused on load, replaced on save. */
static void test_presets_never_block_on_a_fifo(void)
{
    char dir[64], path[128];
    temp_dir(dir);
    struct error err = {{0}};
    alarm(20); /* a blocked open ends the test instead of hanging it */
    snprintf(path, sizeof path, "%s/4.cfg", dir);
    CHECK(mkfifo(path, 0600) == 0);
    params_defaults(&b);
    CHECK(preset_load(dir, "4", &b, &err) < 0);
    CHECK_MSG(strstr(err.msg, "4.cfg: is a FIFO (named pipe), not a regular file"), "%s", err.msg);
    snprintf(path, sizeof path, "%s/5.cfg.tmp", dir);
    CHECK(mkfifo(path, 0600) == 0);
    params_defaults(&a);
    a.perturb.noise = 0.375f;
    CHECK_MSG(preset_save(dir, "5", &a, &err) == 0, "%s", err.msg);
    CHECK_MSG(preset_load(dir, "5", &b, &err) == 0, "%s", err.msg);
    CHECK(b.perturb.noise == 0.375f);
    alarm(0);
    char cmd[100];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    CHECK(system(cmd) == 0);
}

static void test_include_is_found_beside_the_file(void)
{
    char dir[64], main_cfg[96], inc[96];
    temp_dir(dir);
    snprintf(main_cfg, sizeof main_cfg, "%s/main.cfg", dir);
    snprintf(inc, sizeof inc, "%s/part.cfg", dir);
    write_file(inc, "perturb = { noise = 0.125; };\n");
    write_file(main_cfg, "@include \"part.cfg\"\nloop = { blend = 0.5; };\n");
    struct error err = {{0}};
    params_defaults(&a);
    CHECK_MSG(params_load_file(&a, main_cfg, &err) == 0, "%s", err.msg);
    CHECK(a.perturb.noise == 0.125f && a.loop.blend == 0.5f);
    write_file(inc, "perturb = { noise = 2; };\n");
    CHECK(params_load_file(&a, main_cfg, &err) < 0);
    CHECK_MSG(strstr(err.msg, "part.cfg:1: perturb.noise"), "%s", err.msg);
    unlink(inc);
    unlink(main_cfg);
    rmdir(dir);
}

/* Polls control_take for up to 3 s. */
static bool take_within(struct control *ctl, struct params *out)
{
    for (int i = 0; i < 300; i++) {
        if (control_take(ctl, out))
            return true;
        nanosleep(&(struct timespec){0, 10 * 1000 * 1000}, NULL);
    }
    return false;
}

/* What makes the piece a kiosk (its hours, its checkpoints, where presets come from) is the
 * installer's: OSC and MIDI cannot change it, and say so. */
static void test_remote_sources_leave_setup_parameters_alone(void)
{
    struct error err = {{0}};
    params_defaults(&a);
    struct control_options o = {0};
    struct control *ctl = control_open(&o, &a, &err);
    CHECK_MSG(ctl, "%s", err.msg);
    if (!ctl)
        return;
    static struct osc_request rq;
    const char *setup[][3] = {{"/mnemo/kiosk.checkpoint_s", "f", "kiosk.checkpoint_s"},
                              {"/mnemo/kiosk.hours", "s", "kiosk.hours"},
                              {"/mnemo/control.presets", "s", "control.presets"},
                              {"/mnemo/kiosk.closed", "s", "kiosk.closed"}};
    const char *texts[] = {"", "mon 10:00-11:00", "/etc", "dpms"};
    for (size_t i = 0; i < sizeof setup / sizeof setup[0]; i++) {
        char before[PARAM_TEXT_MAX], after[PARAM_TEXT_MAX], why[ERROR_MSG_MAX];
        CHECK(control_get(ctl, setup[i][2], before, sizeof before, &err) == 0);
        uint64_t seq = control_last_error(ctl, why, sizeof why);
        decode(&rq, setup[i][0], message_of(setup[i][1], texts[i], 0));
        CHECK_MSG(rq.kind == OSC_SET, "%s: %s", setup[i][0], rq.why);
        control_osc_request(ctl, NULL, &rq);
        CHECK(control_get(ctl, setup[i][2], after, sizeof after, &err) == 0);
        CHECK_MSG(!strcmp(before, after), "%s changed over OSC: %s -> %s", setup[i][2], before,
                  after);
        CHECK(control_last_error(ctl, why, sizeof why) > seq);
        CHECK_MSG(strstr(why, setup[i][2]) && strstr(why, "setup parameter") &&
                      strstr(why, "config file"),
                  "%s", why);
    }
    CHECK(!control_take(ctl, &b));
    decode(&rq, "/mnemo/perturb.noise", message_of("f", "", 0.25f)); /* the look still is */
    control_osc_request(ctl, NULL, &rq);
    CHECK(take_within(ctl, &b) && b.perturb.noise == 0.25f);
    /* MIDI: no knob binds a setup parameter, by map or by learn. */
    CHECK(midi_map_check("cc=1 param=kiosk.checkpoint_s", &err) < 0);
    CHECK_MSG(strstr(err.msg, "setup parameter"), "%s", err.msg);
    CHECK(control_midi_learn(ctl, "control.glide_ms", &err) < 0);
    CHECK_MSG(strstr(err.msg, "setup parameter"), "%s", err.msg);
    control_close(ctl);
    /* A preset (which OSC can load by name) holds the look only: setup rows in one are
     * not taken. */
    char dir[64], path[128];
    temp_dir(dir);
    snprintf(path, sizeof path, "%s/calm.cfg", dir);
    write_file(path, "perturb = { noise = 0.3; };\nkiosk = { checkpoint_s = 0.0; hours = \"mon "
                     "10:00-11:00\"; };\n");
    params_defaults(&b);
    CHECK_MSG(preset_load(dir, "calm", &b, &err) == 0, "%s", err.msg);
    CHECK(b.perturb.noise == 0.3f && b.kiosk.checkpoint_s == 60 && b.kiosk.hours[0] == '\0');
    unlink(path);
    rmdir(dir);
}

static void test_control_reloads_edits_and_keeps_good_values(void)
{
    char dir[64], path[96], tmp[96], err_text[ERROR_MSG_MAX];
    temp_dir(dir);
    snprintf(path, sizeof path, "%s/piece.cfg", dir);
    snprintf(tmp, sizeof tmp, "%s/.piece.cfg.swp", dir);
    write_file(path, "perturb = { noise = 0.1; };\n");
    struct error err = {{0}};
    params_defaults(&a);
    CHECK(params_load_file(&a, path, &err) == 0);
    const char *overrides[] = {"loop.blend=0.6"};
    CHECK(params_set_assignment(&a, overrides[0], &err) == 0);
    struct control_options o = {.config_path = path, .overrides = overrides, .override_count = 1};
    struct control *ctl = control_open(&o, &a, &err);
    CHECK_MSG(ctl, "%s", err.msg);
    if (!ctl)
        return;
    CHECK(!control_take(ctl, &b));
    write_file(path, "perturb = { noise = 0.2; };\nloop = { blend = 0.1; };\n"); /* in place */
    CHECK(take_within(ctl, &b) && b.perturb.noise == 0.2f && b.loop.blend == 0.6f);
    write_file(tmp, "perturb = { noise = 0.3; };\nloop = { size = 512; };\n");
    CHECK(rename(tmp, path) == 0); /* as vim and VS Code save */
    CHECK(take_within(ctl, &b) && b.perturb.noise == 0.3f && b.loop.size == 256);
    write_file(path, "perturb = {\n  noise = 3;\n};\n"); /* broken */
    nanosleep(&(struct timespec){0, 400 * 1000 * 1000}, NULL);
    CHECK(!control_take(ctl, &b));
    CHECK(control_last_error(ctl, err_text, sizeof err_text) > 0);
    CHECK_MSG(strstr(err_text, "piece.cfg:2: perturb.noise: 3 is out of range"), "%s", err_text);
    /* Keyboard / OSC path: validated, restart-only refused, reseed forwarded. */
    CHECK(control_set(ctl, "simplify.thin", "3", &err) == 0);
    CHECK(take_within(ctl, &b) && b.simplify.thin == 3 && b.perturb.noise == 0.3f);
    CHECK(control_set(ctl, "loop.size", "64", &err) < 0 && strstr(err.msg, "restart-only"));
    CHECK(control_set(ctl, "simplify.thin", "99", &err) < 0);
    char value[64];
    CHECK(control_get(ctl, "simplify.thin", value, sizeof value, &err) == 0 && !strcmp(value, "3"));
    CHECK(!control_take_reseed(ctl));
    control_reseed(ctl);
    CHECK(control_take_reseed(ctl) && !control_take_reseed(ctl));
    /* MIDI: mapping and learn, from decoded events. */
    CHECK(control_set(ctl, "midi.map", "cc=21 param=perturb.noise min=0 max=0.5", &err) == 0);
    control_midi_event(ctl, &(struct midi_cc){.channel = 1, .cc = 21, .value = 127});
    CHECK(take_within(ctl, &b) && b.perturb.noise == 0.5f);
    CHECK(control_midi_learn(ctl, "loop.size", &err) < 0);
    CHECK(control_midi_learn(ctl, "loop.blend", &err) == 0);
    CHECK(control_midi_learning(ctl, value, sizeof value) && !strcmp(value, "loop.blend"));
    control_midi_event(ctl, &(struct midi_cc){.channel = 1, .cc = 30, .value = 0});
    control_midi_event(ctl, &(struct midi_cc){.channel = 1, .cc = 30, .value = 127});
    CHECK(take_within(ctl, &b) && b.loop.blend == 0.95f && strstr(b.midi.map, "cc=30"));
    /* Presets through the control's thread. */
    char presets[96];
    snprintf(presets, sizeof presets, "%s/presets", dir);
    CHECK(control_set(ctl, "control.presets", presets, &err) == 0);
    control_preset_save(ctl, "7");
    nanosleep(&(struct timespec){0, 200 * 1000 * 1000}, NULL);
    CHECK(control_set(ctl, "simplify.thin", "1", &err) == 0);
    CHECK(take_within(ctl, &b) && b.simplify.thin == 1);
    control_preset_load(ctl, "7");
    CHECK(take_within(ctl, &b) && b.simplify.thin == 3);
    /* Fixed again: the error clears. */
    write_file(path, "perturb = { noise = 0.4; };\n");
    CHECK(take_within(ctl, &b) && b.perturb.noise == 0.4f);
    control_last_error(ctl, err_text, sizeof err_text);
    CHECK_MSG(err_text[0] == '\0', "%s", err_text);
    control_close(ctl);
    char cmd[200];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    CHECK(system(cmd) == 0);
}

int main(void)
{
    RUN(test_every_param_round_trips);
    RUN(test_osc_values_convert_sensibly);
    RUN(test_osc_packets_decode_into_requests);
    RUN(test_osc_replies_are_no_bigger_than_their_requests);
    RUN(test_midi_map_errors_name_the_entry);
    RUN(test_midi_map_curves_and_channels);
    RUN(test_midi_learn_rewrites_the_map);
    RUN(test_glide_reaches_target_in_monotone_steps);
    RUN(test_glide_follows_a_moving_fader);
    RUN(test_presets_save_and_load_live_values);
    RUN(test_presets_never_block_on_a_fifo);
    RUN(test_include_is_found_beside_the_file);
    RUN(test_control_reloads_edits_and_keeps_good_values);
    RUN(test_remote_sources_leave_setup_parameters_alone);
    return check_report();
}

/* params.h — the one parameter registry.
 *
 * Every tunable of the piece is one row of the table in params.c: dotted name, type,
 * range, default, one-line doc, and whether it may change while the loop runs. Config
 * files, `-o name=value`, OSC, the HUD, `mnemo params` and configs/default.cfg all derive
 * from that table, so adding a parameter is one line there plus its field here.
 *
 * `struct params` holds the typed current values. It has no pointers (strings are inline
 * arrays), so a whole parameter set is copied by assignment: the loop takes a snapshot
 * per iteration, hot reload builds a new set aside and swaps it in only if it validates.
 *
 * Level-like values (thresholds, noise) are on the loop's image scale: -1 black ink,
 * +1 white paper (see loop_ops.h).
 *
 * params.c and midi_map.c use each other on purpose, inside this folder: the registry
 * checks midi.map's text with midi_map_check, and midi.map names parameters of the
 * registry. One value format that names parameters belongs with the registry. */
#ifndef MNEMO_PARAMS_H
#define MNEMO_PARAMS_H

#include "error.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define PARAM_STRING_MAX 256
/* The few list-like strings (midi.map) hold many entries; formatting buffers for any
 * value need this much room. */
#define PARAM_TEXT_MAX 4096
/* Rows the table may hold (checked when params.c compiles): room for per-row state kept
 * beside a parameter set, such as the glide's arrival times. */
#define PARAMS_MAX 128

/* Enum parameters are stored as the index into their choices; these name the indices
 * (each table row pairs every value with its name: CHOICES in params.c, checked when it
 * compiles). */
enum seed_source { SEED_PROCEDURAL, SEED_IMAGE, SEED_NOISE, SEED_BANK };
enum loop_backend { LOOP_BACKEND_AUTO, LOOP_BACKEND_CUDA, LOOP_BACKEND_CPU, LOOP_BACKEND_REF };
enum capture_stream { STREAM_PORTRAIT, STREAM_SKETCH, STREAM_SIDE_BY_SIDE };
enum capture_codec { CODEC_AUTO, CODEC_PNG, CODEC_H264, CODEC_H265, CODEC_VP9, CODEC_FFV1 };
enum capture_renderer { RENDERER_CPU, RENDERER_GL };
enum present_layout { LAYOUT_PORTRAIT, LAYOUT_SKETCH, LAYOUT_SIDE_BY_SIDE };
enum present_fit { FIT_FIT, FIT_FILL, FIT_STRETCH };
enum present_filter { FILTER_CATMULL_ROM, FILTER_LANCZOS3, FILTER_BILINEAR };
enum present_rotate { ROTATE_0, ROTATE_90, ROTATE_180, ROTATE_270 }; /* quarter turns */
enum present_interpolate { INTERPOLATE_CROSSFADE, INTERPOLATE_CUT };
enum kiosk_closed { KIOSK_CLOSED_BLACK, KIOSK_CLOSED_DPMS };

struct params {
    struct {
        char painter[PARAM_STRING_MAX];
        char sketcher[PARAM_STRING_MAX];
        int32_t size;
        int32_t backend;   /* enum loop_backend */
        int32_t precision; /* enum precision (backend.h) */
        int32_t seed;
        float rate;
        int32_t seed_source; /* enum seed_source */
        char seed_image[PARAM_STRING_MAX];
        char seed_bank[PARAM_STRING_MAX];
        float blend;
        int32_t swap_fade; /* iterations a live model swap dissolves over */
    } loop;
    struct {
        float anchor;
        int32_t hold, fade;
    } memory;
    struct {
        float zoom, rotate, drift, noise;
        int32_t erase_count;
        float erase_size;
    } perturb;
    struct {
        float blur, threshold, softness;
        int32_t thin;
    } simplify;
    struct {
        bool enabled;
        float stall_threshold;
        int32_t stall_window;
        float flat_variance, explode_level, saturate_level, ink_min, spread_min, shape_min;
        int32_t repeat_bits, repeat_skip, history;
        float boost;
        int32_t ramp, turn_after, reseed_after, reseed_iterations;
    } guard;
    struct {
        int32_t fps, frames_per_iteration, width, height;
        int32_t stream; /* enum capture_stream */
        int32_t codec;  /* enum capture_codec */
        int32_t quality;
        int32_t renderer;           /* enum capture_renderer */
        char out[PARAM_STRING_MAX]; /* recording while presenting: a file or a stream URL */
        int32_t segment_s, live_height;
    } capture;
    struct {
        int32_t glide_ms;
        char presets[PARAM_STRING_MAX];
        bool watch;
    } control;
    struct {
        bool enabled;
        int32_t port;
        char address[PARAM_STRING_MAX];
    } osc;
    struct {
        bool enabled;
        int32_t port;
        char address[PARAM_STRING_MAX];
        char token[PARAM_STRING_MAX]; /* PARAM_SECRET: never shown, never logged */
    } web;
    struct {
        bool enabled;
        char map[PARAM_TEXT_MAX]; /* "cc=21 param=perturb.noise min=0 max=0.3 curve=exp; ..." */
    } midi;
    struct {
        bool fullscreen, vsync, allow_quit, hud;
        int32_t display, width, height, fps;
        char displays[PARAM_STRING_MAX];
        char shaders[PARAM_STRING_MAX];
        int32_t layout, fit, filter, rotate, interpolate; /* enum present_* */
        float brightness, contrast, gamma, saturation, grain, vignette;
    } present;
    struct {
        float checkpoint_s;
        char state_dir[PARAM_STRING_MAX];
        char hours[PARAM_STRING_MAX]; /* opening hours (schedule.h); "" = always open */
        int32_t closed;               /* enum kiosk_closed */
    } kiosk;
};

enum param_type { PARAM_INT, PARAM_FLOAT, PARAM_BOOL, PARAM_STRING, PARAM_ENUM };

enum param_flags {
    PARAM_LIVE = 1u << 0,   /* takes effect while running; otherwise needs a restart */
    PARAM_SMOOTH = 1u << 1, /* a live change may glide to the new value (params_glide) */
    /* How the piece is installed and controlled, not how it looks (kiosk.hours,
     * kiosk.checkpoint_s, control.presets, midi.map, ...): the installer's, set in the
     * config file or with -o on the machine. Never in presets or checkpoints, and never
     * changed from a remote source (OSC, MIDI, the web page to come): param_check_remote. */
    PARAM_SETUP = 1u << 2,
    /* A password (web.token): read from the config like any value, but every listing
     * (`mnemo params`, OSC /mnemo/get, the web page) shows param_format_public's "(set)". */
    PARAM_SECRET = 1u << 3,
};

struct param_def {
    const char *name; /* "group.key" */
    enum param_type type;
    size_t offset;       /* of the value in struct params */
    double min, max;     /* inclusive, for int and float */
    const char *def;     /* default, as text parsed by params_set */
    const char *choices; /* enum only: "a|b|c", index order = stored value */
    unsigned flags;      /* enum param_flags */
    const char *doc;     /* one line */
    size_t capacity;     /* string only: bytes of the field, terminator included */
    /* Optional check of a string's content (midi.map), run by param_set before storing. */
    int (*check)(const char *value, struct error *err);
};

/* The table, in declaration (and documentation) order. */
size_t params_count(void);
const struct param_def *params_at(size_t i);
/* The row named exactly `name`, or NULL. */
const struct param_def *params_find(const char *name);
/* The closest known name to a mistyped one (edit distance, or a unique match of the part
 * after the dot), or NULL when nothing is close. */
const char *params_suggest(const char *name);

/* Sets err to "unknown parameter 'x' (did you mean 'y'?)" and returns -1. */
int params_unknown_error(const char *name, struct error *err);

/* Every parameter at its default. */
void params_defaults(struct params *p);

/* Parses `value` by the type of parameter `name` and stores it. On failure p is
 * unchanged and err names the parameter, the value and what is allowed, e.g.
 *   loop.rate: 500 is out of range (0 .. 240)
 *   unknown parameter 'loop.rat' (did you mean 'loop.rate'?) */
int params_set(struct params *p, const char *name, const char *value, struct error *err);
/* The same for one "name=value" text (the CLI's -o and OSC). */
int params_set_assignment(struct params *p, const char *assignment, struct error *err);
/* Parses `value` for def and stores it (params_set once the row is known). */
int param_set(struct params *p, const struct param_def *def, const char *value, struct error *err);

/* Whether a source away from the machine (`source`: "OSC", "MIDI", ...) may change def:
 * only live parameters that are not setup ones. Otherwise -1, and err says why and where to
 * change it instead ("kiosk.hours is a setup parameter: OSC cannot change it; ..."). */
int param_check_remote(const struct param_def *def, const char *source, struct error *err);

/* The value as text that param_set reads back to the same value ("8", "0.05", "true",
 * "procedural", strings unquoted); buf of PARAM_TEXT_MAX holds any value. Returns buf. */
char *param_format(const struct params *p, const struct param_def *def, char *buf, size_t size);
/* param_format, except that a PARAM_SECRET value is "(set)" or "" (not set): what any
 * listing shows. Returns buf. */
char *param_format_public(const struct params *p, const struct param_def *def, char *buf,
                          size_t size);
/* "float, 0 .. 240", "enum: procedural|image|noise", ... for listings. Returns buf. */
char *param_describe(const struct param_def *def, char *buf, size_t size);
const char *param_type_name(enum param_type type);

/* True when a and b hold the same value of def (hot reload: what changed?). */
bool param_equal(const struct param_def *def, const struct params *a, const struct params *b);

/* Copies the value of def from src into dst. */
void param_copy(const struct param_def *def, struct params *dst, const struct params *src);

/* Moves every smoothable float of cur a fraction `alpha` (0..1) of the way to target and
 * copies every other live parameter as is; restart-only parameters stay. Called once per
 * frame after a live change so that, e.g., perturb.noise glides instead of jumping. */
void params_glide(struct params *cur, const struct params *target, float alpha);
/* The same for one row (a glide whose parameters arrive at different times). */
void param_glide(const struct param_def *def, struct params *cur, const struct params *target,
                 float alpha);

/* Typed access to a row's value (the caller knows the type from def->type). */
int32_t param_get_int(const struct params *p, const struct param_def *def);
float param_get_float(const struct params *p, const struct param_def *def);
bool param_get_bool(const struct params *p, const struct param_def *def);
const char *param_get_string(const struct params *p, const struct param_def *def);
/* Enum: the chosen name, copied into buf. Returns buf. */
const char *param_get_choice(const struct params *p, const struct param_def *def, char *buf,
                             size_t size);

#endif

#include "params.h"

#include "backend.h"
#include "midi_map.h"
#include "schedule.h"

#include <assert.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Each row names its field once; the macro checks at compile time that the field has the
 * C type the row's kind stores (a mismatch is a negative array size), so a float row can
 * never write into an int field. */
/* clang-format off */
#define FIELD(f, ctype)                                                                 \
    (offsetof(struct params, f) +                                                       \
     0 * sizeof(char[_Generic(((struct params *)0)->f, ctype: 1, default: -1)]))

#define P_INT(n, f, lo, hi, d, fl, doc)   {n, PARAM_INT, FIELD(f, int32_t), lo, hi, d, NULL, fl, doc, 0, NULL}
#define P_FLOAT(n, f, lo, hi, d, fl, doc) {n, PARAM_FLOAT, FIELD(f, float), lo, hi, d, NULL, fl, doc, 0, NULL}
#define P_BOOL(n, f, d, fl, doc)          {n, PARAM_BOOL, FIELD(f, bool), 0, 1, d, NULL, fl, doc, 0, NULL}
#define P_STR(n, f, d, fl, doc)           {n, PARAM_STRING, FIELD(f, char *), 0, 0, d, NULL, fl, doc, \
                                           sizeof(((struct params *)0)->f), NULL}
#define P_SECRET(n, f, d, fl, doc)        P_STR(n, f, d, (fl) | PARAM_SECRET, doc)
#define P_TEXT(n, f, d, fl, chk, doc)     {n, PARAM_STRING, FIELD(f, char *), 0, 0, d, NULL, fl, doc, \
                                           sizeof(((struct params *)0)->f), chk}
#define P_ENUM(n, f, ch, d, fl, doc)      P_ENUM_(n, f, ch, d, fl, doc)
#define P_ENUM_(n, f, text, ok, d, fl, doc) \
    {n, PARAM_ENUM, FIELD(f, int32_t) + 0 * sizeof(char[(ok) ? 1 : -1]), 0, 0, d, text, fl, doc, 0, NULL}

/* CHOICES(E0, "a", E1, "b", ...) is an enum row's choice text "a|b|..." and the check that
 * E0, E1, ... are 0, 1, ... in that order: an enum and its row that drift apart (a value
 * added to one and not the other, or reordered) do not compile. */
#define CHOICES_N(_1, _2, _3, _4, _5, _6, _7, _8, _9, _10, _11, _12, n, ...) n
#define CHOICES(...)     CHOICES_AT(CHOICES_N(__VA_ARGS__, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1), __VA_ARGS__)
#define CHOICES_AT(n, ...)  CHOICES_AT_(n, __VA_ARGS__)
#define CHOICES_AT_(n, ...) CHOICES_##n(__VA_ARGS__)
#define CHOICES_4(a, sa, b, sb)  sa "|" sb, (a) == 0 && (b) == 1
#define CHOICES_6(a, sa, ...)    sa "|" CHOICES_4_TEXT(__VA_ARGS__), (a) == 0 && CHOICES_4_FROM(1, __VA_ARGS__)
#define CHOICES_8(a, sa, ...)    sa "|" CHOICES_6_TEXT(__VA_ARGS__), (a) == 0 && CHOICES_6_FROM(1, __VA_ARGS__)
#define CHOICES_10(a, sa, ...)   sa "|" CHOICES_8_TEXT(__VA_ARGS__), (a) == 0 && CHOICES_8_FROM(1, __VA_ARGS__)
#define CHOICES_12(a, sa, ...)   sa "|" CHOICES_10_TEXT(__VA_ARGS__), (a) == 0 && CHOICES_10_FROM(1, __VA_ARGS__)
#define CHOICES_4_TEXT(a, sa, b, sb)          sa "|" sb
#define CHOICES_6_TEXT(a, sa, ...)            sa "|" CHOICES_4_TEXT(__VA_ARGS__)
#define CHOICES_8_TEXT(a, sa, ...)            sa "|" CHOICES_6_TEXT(__VA_ARGS__)
#define CHOICES_10_TEXT(a, sa, ...)           sa "|" CHOICES_8_TEXT(__VA_ARGS__)
#define CHOICES_4_FROM(k, a, sa, b, sb)       (a) == (k) && (b) == (k) + 1
#define CHOICES_6_FROM(k, a, sa, ...)         (a) == (k) && CHOICES_4_FROM((k) + 1, __VA_ARGS__)
#define CHOICES_8_FROM(k, a, sa, ...)         (a) == (k) && CHOICES_6_FROM((k) + 1, __VA_ARGS__)
#define CHOICES_10_FROM(k, a, sa, ...)        (a) == (k) && CHOICES_8_FROM((k) + 1, __VA_ARGS__)

#define LIVE    PARAM_LIVE
#define SMOOTH  (PARAM_LIVE | PARAM_SMOOTH)
#define RESTART 0u
#define SETUP   (PARAM_LIVE | PARAM_SETUP)

static const struct param_def table[] = {
    P_STR("loop.painter", loop.painter, "models/painter-small.onnx", LIVE,
          "painter model (sketch -> portrait), ONNX file; a change loads it beside the running "
          "loop and swaps it in if it chains (--stats painter: the one that runs)"),
    P_STR("loop.sketcher", loop.sketcher, "models/sketcher-small.onnx", LIVE,
          "sketcher model (portrait -> sketch), ONNX file; live like loop.painter"),
    P_INT("loop.size", loop.size, 32, 2048, "256", RESTART,
          "side of the loop's square images; models of another size are converted to it"),
    P_ENUM("loop.backend", loop.backend,
           CHOICES(LOOP_BACKEND_AUTO, "auto", LOOP_BACKEND_CUDA, "cuda", LOOP_BACKEND_CPU, "cpu",
                   LOOP_BACKEND_REF, "ref"),
           "auto", RESTART,
           "where the networks run: auto = cuda when a GPU is usable, else cpu; --backend overrides"),
    P_ENUM("loop.precision", loop.precision,
           CHOICES(PRECISION_FP32, "fp32", PRECISION_BF16, "bf16"),
           "fp32", RESTART,
           "arithmetic of the networks; bf16 needs an AVX-512 CPU on the cpu backend"),
    P_INT("loop.seed", loop.seed, 0, 2147483647, "1", RESTART,
          "seed of the one random generator: same seed + config + backend = same frames"),
    P_FLOAT("loop.rate", loop.rate, 0, 240, "8", SMOOTH,
            "cap on loop iterations per second; 0 = as fast as the backend goes"),
    P_ENUM("loop.seed_source", loop.seed_source,
           CHOICES(SEED_PROCEDURAL, "procedural", SEED_IMAGE, "image", SEED_NOISE, "noise",
                   SEED_BANK, "bank"),
           "bank", RESTART,
           "the people the loop starts from and turns into: a drawn face, loop.seed_image, "
           "smooth noise, or a person from loop.seed_bank"),
    P_STR("loop.seed_image", loop.seed_image, "", RESTART,
          "sketch image (PNG) used when loop.seed_source = image"),
    P_STR("loop.seed_bank", loop.seed_bank, "models/faces.png", RESTART,
          "seed bank (PNG: one column of square sketches, tools/train/seed_bank.py), read "
          "at start when loop.seed_source = bank"),
    P_FLOAT("loop.blend", loop.blend, 0, 0.95, "0.3", SMOOTH,
            "temporal smoothing of the portrait: share of the previous portrait kept"),
    P_INT("loop.swap_fade", loop.swap_fade, 0, 100000, "16", LIVE,
          "iterations a live swap of loop.painter or loop.sketcher dissolves over; 0 = the "
          "presenter's one-iteration crossfade only"),
    P_FLOAT("memory.anchor", memory.anchor, 0, 1, "0.6", SMOOTH,
            "share of the remembered person's sketch blended into every sketch, keeping the "
            "stream on a face; 0 = the loop alone"),
    P_INT("memory.hold", memory.hold, 0, 10000000, "120", LIVE,
          "iterations one person is remembered before the memory turns to the next"),
    P_INT("memory.fade", memory.fade, 1, 1000000, "480", LIVE,
          "iterations the memory takes to turn from one person into the next"),
    P_FLOAT("perturb.zoom", perturb.zoom, 0, 0.2, "0.01", SMOOTH,
            "largest zoom step per iteration, as a fraction (0.01 = +-1%)"),
    P_FLOAT("perturb.rotate", perturb.rotate, 0, 45, "1", SMOOTH,
            "largest rotation per iteration, degrees either way"),
    P_FLOAT("perturb.drift", perturb.drift, 0, 64, "1", SMOOTH,
            "largest translation per iteration, pixels along each axis"),
    P_FLOAT("perturb.noise", perturb.noise, 0, 1, "0.05", SMOOTH,
            "std of gaussian noise added to the sketch (image scale -1..1)"),
    P_INT("perturb.erase_count", perturb.erase_count, 0, 64, "1", LIVE,
          "patches of the sketch erased to paper each iteration"),
    P_FLOAT("perturb.erase_size", perturb.erase_size, 0, 0.5, "0.04", SMOOTH,
            "side of an erased patch, as a fraction of the sketch's shorter side"),
    P_FLOAT("simplify.blur", simplify.blur, 0, 8, "0.7", SMOOTH,
            "gaussian blur sigma (pixels) on the sketcher's output before thresholding"),
    P_FLOAT("simplify.threshold", simplify.threshold, -1, 1, "0", SMOOTH,
            "level below which a pixel is ink (-1 black .. 1 white)"),
    P_FLOAT("simplify.softness", simplify.softness, 0, 1, "0.15", SMOOTH,
            "half-width of the soft threshold ramp; 0 = hard black/white"),
    P_INT("simplify.thin", simplify.thin, 0, 8, "0", LIVE,
          "line-thinning passes after thresholding (0 = off)"),
    P_BOOL("guard.enabled", guard.enabled, "true", LIVE,
           "watch the stream and remedy stalls, repeats and explosions"),
    P_FLOAT("guard.stall_threshold", guard.stall_threshold, 0, 1, "0.004", SMOOTH,
            "mean absolute change per iteration below which the portrait counts as still"),
    P_INT("guard.stall_window", guard.stall_window, 2, 100000, "24", LIVE,
          "still iterations in a row that make a stall"),
    P_FLOAT("guard.flat_variance", guard.flat_variance, 0, 1, "0.002", SMOOTH,
            "spatial variance below which the portrait is a flat field"),
    P_FLOAT("guard.explode_level", guard.explode_level, 0, 4, "0.6", SMOOTH,
            "high-frequency energy ratio above which the portrait is noise (white noise ~1.25)"),
    P_FLOAT("guard.saturate_level", guard.saturate_level, 0, 1, "0.4", SMOOTH,
            "portrait saturation (2 x the smaller of its black and white shares) that means it exploded"),
    P_FLOAT("guard.ink_min", guard.ink_min, 0, 0.5, "0.01", SMOOTH,
            "share of ink pixels below which the sketch is dying (reseed before it is blank)"),
    P_FLOAT("guard.spread_min", guard.spread_min, 0, 0.5, "0.06", SMOOTH,
            "ink spread (std of the ink's x or y, share of the side) below which the sketch "
            "is a knot, not a face (reseed)"),
    P_FLOAT("guard.shape_min", guard.shape_min, 0, 1, "0.5", SMOOTH,
            "narrower ink spread over the wider below which the sketch is a strip, not a face "
            "(reseed); 0 = off"),
    P_INT("guard.repeat_bits", guard.repeat_bits, 0, 64, "4", LIVE,
          "perceptual-hash distance (bits of 64) at or below which a portrait repeats"),
    P_INT("guard.repeat_skip", guard.repeat_skip, 0, 100000, "600", LIVE,
          "newest iterations left out of the repeat check: about one person's time "
          "(memory.hold + memory.fade), whose portraits look alike by design"),
    P_INT("guard.history", guard.history, 8, 1048576, "4096", RESTART,
          "portrait hashes remembered for the repeat check"),
    P_FLOAT("guard.boost", guard.boost, 1, 20, "3", SMOOTH,
            "perturbation multiplier reached while remedying a stall or repeat"),
    P_INT("guard.ramp", guard.ramp, 1, 10000, "16", LIVE,
          "iterations for the boost to ramp fully up (and back down)"),
    P_INT("guard.turn_after", guard.turn_after, 0, 100000, "200", LIVE,
          "iterations of trouble while boosting before the memory turns early to the next "
          "person (gently, over memory.fade); 0 = never"),
    P_INT("guard.reseed_after", guard.reseed_after, 1, 100000, "400", LIVE,
          "iterations of trouble while boosting (after the turn, if one came) before a fresh "
          "seed sketch"),
    P_INT("guard.reseed_iterations", guard.reseed_iterations, 1, 1000, "8", LIVE,
          "iterations over which a fresh seed sketch is blended in"),
    P_INT("capture.fps", capture.fps, 1, 240, "30", RESTART,
          "frame rate of the recording"),
    P_INT("capture.frames_per_iteration", capture.frames_per_iteration, 0, 600, "0", RESTART,
          "frames per loop iteration, crossfaded between portraits; 0 = capture.fps / "
          "loop.rate, so the recording moves at the piece's pace"),
    P_INT("capture.width", capture.width, 16, 8192, "1024", RESTART,
          "width of captured frames, pixels"),
    P_INT("capture.height", capture.height, 16, 8192, "1024", RESTART,
          "height of captured frames, pixels"),
    P_ENUM("capture.stream", capture.stream,
           CHOICES(STREAM_PORTRAIT, "portrait", STREAM_SKETCH, "sketch",
                   STREAM_SIDE_BY_SIDE, "side_by_side"),
           "portrait", RESTART,
           "what is recorded"),
    P_ENUM("capture.codec", capture.codec,
           CHOICES(CODEC_AUTO, "auto", CODEC_PNG, "png", CODEC_H264, "h264", CODEC_H265, "h265",
                   CODEC_VP9, "vp9", CODEC_FFV1, "ffv1"),
           "auto", RESTART,
           "video codec for .mp4/.mov/.mkv outputs (a directory always gets PNGs); auto = h264"),
    P_INT("capture.quality", capture.quality, 0, 51, "18", RESTART,
          "encoder CRF: 0 lossless .. 51 worst (video codecs only)"),
    P_ENUM("capture.renderer", capture.renderer,
           CHOICES(RENDERER_CPU, "cpu", RENDERER_GL, "gl"),
           "cpu", RESTART,
           "cpu: capture.h's upscaler; gl: the presenter's shaders offscreen (present.* look)"),
    P_STR("capture.out", capture.out, "", RESTART,
          "while presenting, also record what the screen shows: a .mp4/.mov/.mkv file or a "
          "stream (srt://, udp://, rtmp://...); empty = none; --record sets it"),
    P_INT("capture.segment_s", capture.segment_s, 0, 86400, "3600", RESTART,
          "capture.out as a file: a new file every this many seconds, named after it with the "
          "time it starts (show-20261204-180000.mp4); 0 = one file"),
    P_INT("capture.live_height", capture.live_height, 0, 8192, "0", RESTART,
          "rows of the capture.out recording (the screen's aspect kept); 0 = the screen's own"),
    P_BOOL("present.fullscreen", present.fullscreen, "true", RESTART,
           "cover the whole display, borderless; --windowed / --fullscreen override"),
    P_INT("present.display", present.display, 0, 15, "0", RESTART,
          "SDL display index of the (first) screen; --display overrides"),
    P_STR("present.displays", present.displays, "", RESTART,
          "several screens: one layout per display from present.display on, e.g. "
          "\"portrait,sketch\"; empty = one screen showing present.layout"),
    P_INT("present.width", present.width, 16, 16384, "1280", RESTART,
          "window width when windowed, pixels"),
    P_INT("present.height", present.height, 16, 16384, "720", RESTART,
          "window height when windowed, pixels"),
    P_ENUM("present.layout", present.layout,
           CHOICES(LAYOUT_PORTRAIT, "portrait", LAYOUT_SKETCH, "sketch",
                   LAYOUT_SIDE_BY_SIDE, "side_by_side"),
           "portrait", LIVE,
           "what the screen shows"),
    P_ENUM("present.fit", present.fit,
           CHOICES(FIT_FIT, "fit", FIT_FILL, "fill", FIT_STRETCH, "stretch"),
           "fit", LIVE,
           "fit: whole picture, black bars; fill: screen covered, edges cut; stretch: aspect lost"),
    P_ENUM("present.filter", present.filter,
           CHOICES(FILTER_CATMULL_ROM, "catmull_rom", FILTER_LANCZOS3, "lanczos3",
                   FILTER_BILINEAR, "bilinear"),
           "catmull_rom", LIVE,
           "upscaling filter: bicubic Catmull-Rom (crisp lines), Lanczos-3 (sharper), bilinear"),
    P_ENUM("present.rotate", present.rotate,
           CHOICES(ROTATE_0, "0", ROTATE_90, "90", ROTATE_180, "180", ROTATE_270, "270"),
           "0", LIVE,
           "turn the picture clockwise by this many degrees, for portrait-mounted screens"),
    P_ENUM("present.interpolate", present.interpolate,
           CHOICES(INTERPOLATE_CROSSFADE, "crossfade", INTERPOLATE_CUT, "cut"),
           "crossfade", LIVE,
           "between portraits: crossfade over one iteration's time, or cut"),
    P_INT("present.fps", present.fps, 1, 480, "60", LIVE,
          "frame rate the presenter paces itself to when the display gives no vsync"),
    P_BOOL("present.vsync", present.vsync, "true", RESTART,
           "wait for the display's refresh (adaptive when the driver has it)"),
    P_FLOAT("present.brightness", present.brightness, -1, 1, "0", SMOOTH,
            "added to every channel after contrast (0 = unchanged)"),
    P_FLOAT("present.contrast", present.contrast, 0, 4, "1", SMOOTH,
            "scales the distance from mid grey (1 = unchanged)"),
    P_FLOAT("present.gamma", present.gamma, 0.2, 5, "1", SMOOTH,
            "output = input^(1/gamma); above 1 lifts the shadows"),
    P_FLOAT("present.saturation", present.saturation, 0, 4, "1", SMOOTH,
            "colour saturation (0 = grey, 1 = unchanged)"),
    P_FLOAT("present.grain", present.grain, 0, 1, "0.03", SMOOTH,
            "film grain strength, new every frame"),
    P_FLOAT("present.vignette", present.vignette, 0, 1, "0.25", SMOOTH,
            "darkening toward the corners of the screen"),
    P_BOOL("present.allow_quit", present.allow_quit, "true", LIVE,
           "Esc / q quit; kiosks set false so only SIGTERM ends the piece"),
    P_BOOL("present.hud", present.hud, "false", LIVE,
           "show the HUD (h toggles): it/s, fps, dropped frames, parameter being tuned"),
    P_STR("present.shaders", present.shaders, "", RESTART,
          "folder of quad.vert, mix.frag, present.frag, hud.frag; empty = next to the binary, "
          "the source tree, the install prefix; built-in copies when missing or broken"),
    P_INT("control.glide_ms", control.glide_ms, 0, 60000, "300", SETUP,
          "time a live change of a smoothable number takes to glide to its new value; 0 = jump"),
    P_STR("control.presets", control.presets, "presets", SETUP,
          "directory of preset files NAME.cfg (keys 1-9 recall, Shift+1-9 store, OSC /mnemo/preset)"),
    P_BOOL("control.watch", control.watch, "true", RESTART,
           "reload the config file (and its @includes) when it is saved"),
    P_BOOL("osc.enabled", osc.enabled, "false", RESTART,
           "listen for OSC over UDP: /mnemo/<param> value, /mnemo/get, /mnemo/list, /mnemo/preset, /mnemo/reseed"),
    P_INT("osc.port", osc.port, 0, 65535, "9000", RESTART,
          "UDP port OSC listens on; 0 = any free port (the log names it)"),
    P_STR("osc.address", osc.address, "127.0.0.1", RESTART,
          "address OSC binds to: 127.0.0.1 = this machine only, 0.0.0.0 = every network"),
    P_BOOL("web.enabled", web.enabled, "false", RESTART,
           "serve the control and status page (and its JSON API) over HTTP on web.address:web.port"),
    P_INT("web.port", web.port, 0, 65535, "8080", RESTART,
          "TCP port of the web page; 0 = any free port (the log names it)"),
    P_STR("web.address", web.address, "127.0.0.1", RESTART,
          "address the web page binds to: 127.0.0.1 = this machine only; any other needs web.token"),
    P_SECRET("web.token", web.token, "", RESTART,
             "password every web request must carry (?token=, Authorization: Bearer); never shown"),
    P_BOOL("midi.enabled", midi.enabled, "false", RESTART,
           "take MIDI control changes from any ALSA sequencer port (controllers may come and go)"),
    P_TEXT("midi.map", midi.map, "", SETUP, midi_map_check,
           "CC -> parameter, entries split by ';': cc=21 param=perturb.noise min=0 max=0.3 curve=lin|exp|log [channel=1..16]"),
    P_FLOAT("kiosk.checkpoint_s", kiosk.checkpoint_s, 0, 86400, "60", SETUP,
            "seconds between checkpoints of the loop into kiosk.state_dir; 0 = only at exit"),
    P_STR("kiosk.state_dir", kiosk.state_dir, "", RESTART,
          "folder of the loop's checkpoint, restored at start so a restart continues the piece; empty = none, or $STATE_DIRECTORY under systemd"),
    P_TEXT("kiosk.hours", kiosk.hours, "", SETUP, schedule_check,
           "opening hours on the local wall clock, e.g. \"mon-fri 10:00-18:00; sat,sun 11:00-13:00 "
           "14:00-17:00\"; days not named are closed; fri 20:00-02:00 runs past midnight; "
           "empty = always open"),
    P_ENUM("kiosk.closed", kiosk.closed,
           CHOICES(KIOSK_CLOSED_BLACK, "black", KIOSK_CLOSED_DPMS, "dpms"),
           "black", SETUP,
           "outside kiosk.hours the loop idles and the screens show black, or with dpms are "
           "powered off (X11 DPMS; black where there is none)"),
};
/* clang-format on */

#define TABLE_LEN (sizeof table / sizeof table[0])
static_assert(TABLE_LEN <= PARAMS_MAX, "raise PARAMS_MAX in params.h");

size_t params_count(void)
{
    return TABLE_LEN;
}

const struct param_def *params_at(size_t i)
{
    return i < TABLE_LEN ? &table[i] : NULL;
}

const struct param_def *params_find(const char *name)
{
    for (size_t i = 0; i < TABLE_LEN; i++)
        if (strcmp(table[i].name, name) == 0)
            return &table[i];
    return NULL;
}

/* Levenshtein distance, two rows on the stack; names longer than the rows are compared
 * on their first 63 characters, enough to rank suggestions. */
static size_t edit_distance(const char *a, const char *b)
{
    enum { ROW = 64 };
    size_t la = strnlen(a, ROW - 1), lb = strnlen(b, ROW - 1);
    size_t prev[ROW], cur[ROW];
    for (size_t j = 0; j <= lb; j++)
        prev[j] = j;
    for (size_t i = 1; i <= la; i++) {
        cur[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t sub = prev[j - 1] + (a[i - 1] != b[j - 1]);
            size_t del = prev[j] + 1, ins = cur[j - 1] + 1;
            cur[j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
        }
        memcpy(prev, cur, (lb + 1) * sizeof prev[0]);
    }
    return prev[lb];
}

/* "rate" written without its group: suggest the one parameter whose key it is. */
static const char *unique_key_match(const char *name)
{
    const char *found = NULL;
    for (size_t i = 0; i < TABLE_LEN; i++) {
        const char *dot = strrchr(table[i].name, '.');
        if (dot && strcmp(dot + 1, name) == 0) {
            if (found)
                return NULL;
            found = table[i].name;
        }
    }
    return found;
}

const char *params_suggest(const char *name)
{
    const char *key_match = unique_key_match(name);
    if (key_match)
        return key_match;
    const char *best = NULL;
    size_t best_d = (size_t)-1;
    for (size_t i = 0; i < TABLE_LEN; i++) {
        size_t d = edit_distance(name, table[i].name);
        if (d < best_d) {
            best_d = d;
            best = table[i].name;
        }
    }
    /* Farther than a third of the name is a different word, not a typo. */
    size_t limit = strlen(name) / 3;
    return best_d <= (limit > 2 ? limit : 2) ? best : NULL;
}

void params_defaults(struct params *p)
{
    memset(p, 0, sizeof *p);
    for (size_t i = 0; i < TABLE_LEN; i++) {
        struct error err;
        /* A default that does not parse is a bug in the table; the params test catches
         * it, so here it is simply left zero. */
        (void)param_set(p, &table[i], table[i].def, &err);
    }
}

static void *field(struct params *p, const struct param_def *def)
{
    return (char *)p + def->offset;
}

static const void *cfield(const struct params *p, const struct param_def *def)
{
    return (const char *)p + def->offset;
}

/* Index of `value` among "a|b|c", or -1. */
static int choice_index(const char *choices, const char *value)
{
    size_t len = strlen(value);
    int index = 0;
    for (const char *c = choices; *c; index++) {
        const char *end = strchr(c, '|');
        size_t n = end ? (size_t)(end - c) : strlen(c);
        if (n == len && strncmp(c, value, n) == 0)
            return index;
        if (!end)
            break;
        c = end + 1;
    }
    return -1;
}

static int set_int(struct params *p, const struct param_def *def, const char *value,
                   struct error *err)
{
    char *end;
    errno = 0;
    long long v = strtoll(value, &end, 10);
    if (end == value || *end != '\0')
        return error_set(err, "%s: '%s' is not an integer", def->name, value);
    if (errno == ERANGE || v < (long long)def->min || v > (long long)def->max)
        return error_set(err, "%s: %s is out of range (%.0f .. %.0f)", def->name, value, def->min,
                         def->max);
    *(int32_t *)field(p, def) = (int32_t)v;
    return 0;
}

static int set_float(struct params *p, const struct param_def *def, const char *value,
                     struct error *err)
{
    char *end;
    errno = 0;
    double v = strtod(value, &end);
    if (end == value || *end != '\0' || !isfinite(v))
        return error_set(err, "%s: '%s' is not a number", def->name, value);
    if (v < def->min || v > def->max)
        return error_set(err, "%s: %s is out of range (%g .. %g)", def->name, value, def->min,
                         def->max);
    *(float *)field(p, def) = (float)v;
    return 0;
}

static int set_bool(struct params *p, const struct param_def *def, const char *value,
                    struct error *err)
{
    static const char *const truthy[] = {"true", "1", "yes", "on"};
    static const char *const falsy[] = {"false", "0", "no", "off"};
    for (size_t i = 0; i < 4; i++) {
        if (strcmp(value, truthy[i]) == 0 || strcmp(value, falsy[i]) == 0) {
            *(bool *)field(p, def) = strcmp(value, truthy[i]) == 0;
            return 0;
        }
    }
    return error_set(err, "%s: '%s' is not a boolean (true or false)", def->name, value);
}

static int set_string(struct params *p, const struct param_def *def, const char *value,
                      struct error *err)
{
    size_t len = strlen(value);
    if (len >= def->capacity)
        return error_set(err, "%s: the value is %zu characters long; at most %zu fit", def->name,
                         len, def->capacity - 1);
    if (def->check && def->check(value, err))
        return error_prefix(err, "%s", def->name);
    memcpy(field(p, def), value, len + 1);
    return 0;
}

static int set_enum(struct params *p, const struct param_def *def, const char *value,
                    struct error *err)
{
    int index = choice_index(def->choices, value);
    if (index < 0)
        return error_set(err, "%s: '%s' is not one of %s", def->name, value, def->choices);
    *(int32_t *)field(p, def) = index;
    return 0;
}

int param_set(struct params *p, const struct param_def *def, const char *value, struct error *err)
{
    switch (def->type) {
    case PARAM_INT:
        return set_int(p, def, value, err);
    case PARAM_FLOAT:
        return set_float(p, def, value, err);
    case PARAM_BOOL:
        return set_bool(p, def, value, err);
    case PARAM_STRING:
        return set_string(p, def, value, err);
    case PARAM_ENUM:
        return set_enum(p, def, value, err);
    }
    return error_set(err, "%s: unknown parameter type", def->name);
}

int params_unknown_error(const char *name, struct error *err)
{
    const char *hint = params_suggest(name);
    if (hint)
        return error_set(err, "unknown parameter '%s' (did you mean '%s'?)", name, hint);
    return error_set(err, "unknown parameter '%s' (`mnemo params` lists them all)", name);
}

int param_check_remote(const struct param_def *def, const char *source, struct error *err)
{
    if (!(def->flags & PARAM_LIVE))
        return error_set(err, "%s is restart-only: change it in the config file and restart",
                         def->name);
    if (def->flags & PARAM_SETUP)
        return error_set(err,
                         "%s is a setup parameter: %s cannot change it; set it in the config "
                         "file (or with -o) on the machine",
                         def->name, source);
    return 0;
}

int params_set(struct params *p, const char *name, const char *value, struct error *err)
{
    const struct param_def *def = params_find(name);
    if (!def)
        return params_unknown_error(name, err);
    return param_set(p, def, value, err);
}

int params_set_assignment(struct params *p, const char *assignment, struct error *err)
{
    const char *eq = strchr(assignment, '=');
    if (!eq || eq == assignment)
        return error_set(err, "'%s' is not name=value", assignment);
    char name[128];
    size_t len = (size_t)(eq - assignment);
    if (len >= sizeof name)
        return error_set(err, "'%.40s...' is not a parameter name", assignment);
    memcpy(name, assignment, len);
    name[len] = '\0';
    return params_set(p, name, eq + 1, err);
}

/* Shortest text that reads back to the same float: %.6g nearly always, %.9g otherwise. */
static void format_float(float v, char *buf, size_t size)
{
    snprintf(buf, size, "%.6g", (double)v);
    if (strtof(buf, NULL) != v)
        snprintf(buf, size, "%.9g", (double)v);
}

static void copy_choice(const char *choices, int32_t index, char *buf, size_t size)
{
    const char *c = choices;
    for (int32_t i = 0; i < index && c; i++) {
        c = strchr(c, '|');
        c = c ? c + 1 : NULL;
    }
    if (!c) {
        snprintf(buf, size, "%d", (int)index);
        return;
    }
    const char *end = strchr(c, '|');
    int n = end ? (int)(end - c) : (int)strlen(c);
    snprintf(buf, size, "%.*s", n, c);
}

char *param_format(const struct params *p, const struct param_def *def, char *buf, size_t size)
{
    switch (def->type) {
    case PARAM_INT:
        snprintf(buf, size, "%d", (int)param_get_int(p, def));
        break;
    case PARAM_FLOAT:
        format_float(param_get_float(p, def), buf, size);
        break;
    case PARAM_BOOL:
        snprintf(buf, size, "%s", param_get_bool(p, def) ? "true" : "false");
        break;
    case PARAM_STRING:
        snprintf(buf, size, "%s", param_get_string(p, def));
        break;
    case PARAM_ENUM:
        copy_choice(def->choices, param_get_int(p, def), buf, size);
        break;
    }
    return buf;
}

char *param_format_public(const struct params *p, const struct param_def *def, char *buf,
                          size_t size)
{
    if (!(def->flags & PARAM_SECRET))
        return param_format(p, def, buf, size);
    snprintf(buf, size, "%s", param_get_string(p, def)[0] ? "(set)" : "");
    return buf;
}

const char *param_type_name(enum param_type type)
{
    switch (type) {
    case PARAM_INT:
        return "int";
    case PARAM_FLOAT:
        return "float";
    case PARAM_BOOL:
        return "bool";
    case PARAM_STRING:
        return "string";
    case PARAM_ENUM:
        return "enum";
    }
    return "?";
}

char *param_describe(const struct param_def *def, char *buf, size_t size)
{
    switch (def->type) {
    case PARAM_INT:
        snprintf(buf, size, "int, %.0f .. %.0f", def->min, def->max);
        break;
    case PARAM_FLOAT:
        snprintf(buf, size, "float, %g .. %g", def->min, def->max);
        break;
    case PARAM_ENUM:
        snprintf(buf, size, "one of %s", def->choices);
        break;
    case PARAM_BOOL:
    case PARAM_STRING:
        snprintf(buf, size, "%s", param_type_name(def->type));
        break;
    }
    return buf;
}

static size_t value_size(const struct param_def *def)
{
    switch (def->type) {
    case PARAM_INT:
    case PARAM_ENUM:
        return sizeof(int32_t);
    case PARAM_FLOAT:
        return sizeof(float);
    case PARAM_BOOL:
        return sizeof(bool);
    case PARAM_STRING:
        return def->capacity;
    }
    return 0;
}

bool param_equal(const struct param_def *def, const struct params *a, const struct params *b)
{
    if (def->type == PARAM_STRING)
        return strcmp(param_get_string(a, def), param_get_string(b, def)) == 0;
    return memcmp(cfield(a, def), cfield(b, def), value_size(def)) == 0;
}

void param_copy(const struct param_def *def, struct params *dst, const struct params *src)
{
    memcpy(field(dst, def), cfield(src, def), value_size(def));
}

void param_glide(const struct param_def *def, struct params *cur, const struct params *target,
                 float alpha)
{
    if (!(def->flags & PARAM_LIVE) || param_equal(def, cur, target))
        return;
    if (!(def->flags & PARAM_SMOOTH) || def->type != PARAM_FLOAT) {
        memcpy(field(cur, def), cfield(target, def), value_size(def));
        return;
    }
    float *v = field(cur, def);
    float goal = param_get_float(target, def);
    float next = *v + alpha * (goal - *v);
    /* Snap once within a millionth of the range, so a glide ends. */
    bool close = fabsf(goal - next) <= 1e-6f * (float)(def->max - def->min);
    *v = close ? goal : next;
}

void params_glide(struct params *cur, const struct params *target, float alpha)
{
    for (size_t i = 0; i < TABLE_LEN; i++)
        param_glide(&table[i], cur, target, alpha);
}

int32_t param_get_int(const struct params *p, const struct param_def *def)
{
    return *(const int32_t *)cfield(p, def);
}

float param_get_float(const struct params *p, const struct param_def *def)
{
    return *(const float *)cfield(p, def);
}

bool param_get_bool(const struct params *p, const struct param_def *def)
{
    return *(const bool *)cfield(p, def);
}

const char *param_get_string(const struct params *p, const struct param_def *def)
{
    return (const char *)cfield(p, def);
}

const char *param_get_choice(const struct params *p, const struct param_def *def, char *buf,
                             size_t size)
{
    copy_choice(def->choices, param_get_int(p, def), buf, size);
    return buf;
}

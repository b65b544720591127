/* midi_map.h — MIDI control changes to parameters (midi.map), without any MIDI I/O.
 *
 * midi.map is one string of entries split by ';', each a list of key=value words:
 *
 *   cc=21 param=perturb.noise min=0 max=0.3 curve=exp; cc=22 param=loop.blend channel=2
 *
 * cc (0-127) and param (a live int, float, bool or enum parameter) are required; min and
 * max default to the parameter's range and must lie inside it (max < min turns the knob
 * around); curve is lin (default), exp (fine control near min) or log (near max);
 * channel 1-16 limits the entry to one MIDI channel (default: any). The parsing and the
 * mapping are pure functions so that tests drive them with decoded events, no ALSA. */
#ifndef MNEMO_MIDI_MAP_H
#define MNEMO_MIDI_MAP_H

#include "error.h"
#include "params.h"

#define MIDI_MAP_MAX 128

enum midi_curve { MIDI_CURVE_LIN, MIDI_CURVE_EXP, MIDI_CURVE_LOG };

struct midi_binding {
    int cc;
    int channel; /* 1..16, 0 = any */
    const struct param_def *def;
    double min, max;
    enum midi_curve curve;
};

struct midi_map {
    struct midi_binding b[MIDI_MAP_MAX];
    size_t count;
};

/* One decoded control change. */
struct midi_cc {
    int channel; /* 1..16 */
    int cc;      /* 0..127 */
    int value;   /* 0..127 */
};

/* Parses midi.map text. Errors name the entry: "entry 2 (cc=21 ...): unknown key 'mx'". */
int midi_map_parse(struct midi_map *m, const char *text, struct error *err);
/* The same, result thrown away: the registry's validator for midi.map. */
int midi_map_check(const char *text, struct error *err);
/* Writes m back as midi.map text. Returns -1 with err when it does not fit in size. */
int midi_map_format(const struct midi_map *m, char *buf, size_t size, struct error *err);

/* The value a binding gives to a CC value 0..127, on the binding's curve, in the
 * parameter's type (ints rounded, bools at the middle, enums spread over the choices),
 * as text for param_set. */
void midi_binding_text(const struct midi_binding *b, int value, char *buf, size_t size);
/* Sets every parameter bound to ev's CC in p; returns how many. */
int midi_map_apply(const struct midi_map *m, const struct midi_cc *ev, struct params *p);

/* Learn: binds ev's CC (any channel) to `param` over its whole range, replacing what that
 * CC was bound to, and rewrites the midi.map text `text` (of `size` bytes) in place. */
int midi_map_learn(char *text, size_t size, const struct midi_cc *ev, const char *param,
                   struct error *err);

#endif

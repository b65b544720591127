/* config.h — configuration files (libconfig syntax) in and out of struct params.
 *
 *   loop = { rate = 8.0; painter = "models/painter-small.onnx"; };
 *   guard = { stall_window = 24; };
 *
 * Groups map to the dotted parameter names (loop.rate). Everything is validated against
 * the registry in params.c: unknown names (with a did-you-mean), wrong types and values
 * out of range are errors that name file:line and the parameter.
 *
 * `@include "x.cfg"` is found beside the file that names it (an absolute path as it is).
 * The config and every include must be a regular file of at most 1 MiB (4 MiB together,
 * 64 files, 10 deep; config_text.h): a directory, a FIFO or a device is refused with the
 * file:line of its @include, never read, and never blocks the thread that loads. Not for
 * the hot path: these functions allocate and read or write files. */
#ifndef MNEMO_CONFIG_H
#define MNEMO_CONFIG_H

#include "error.h"
#include "params.h"

#include <stdio.h>

/* Applies every setting of the file at `path` on top of *p (usually defaults). All or
 * nothing: on any error *p is unchanged and err reads "path:line: name: what is wrong". */
int params_load_file(struct params *p, const char *path, struct error *err);

/* Called with each file a load read or tried to read: the file itself, then each
 * @include (as its path was reached: beside the file that includes it), even when the
 * load failed, which is what hot reload watches. */
typedef void (*config_file_fn)(const char *path, void *ctx);
int params_load_file_watched(struct params *p, const char *path, config_file_fn fn, void *ctx,
                             struct error *err);

/* The same for config text in memory; `name` stands for the file in messages. Text may not
 * @include (there is no file for a relative name to be beside). */
int params_load_string(struct params *p, const char *text, const char *name, struct error *err);

/* Writes a complete config holding p's values: every parameter in registry order, grouped,
 * each with its doc, type, range, live/restart, and its default where p differs. With
 * defaults this is configs/default.cfg and `mnemo params --config`; a test keeps the two
 * equal. Returns 0, or -1 with err when the stream reports a write error. */
int params_write_config(FILE *f, const struct params *p, struct error *err);

/* A preset: the live parameters of p that are about the picture (not control.*, midi.map),
 * as a config fragment. */
int params_write_preset(FILE *f, const struct params *p, const char *name, struct error *err);

#endif

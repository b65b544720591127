/* presets.h — named snapshots of the piece's live parameters, as config fragments in
 * control.presets/NAME.cfg (keys 1-9 are presets "1".."9"). Names are 1-64 characters of
 * letters, digits, '-' and '_', so a name can never leave the presets directory. */
#ifndef MNEMO_PRESETS_H
#define MNEMO_PRESETS_H

#include "error.h"
#include "params.h"

#include <stddef.h>

/* dir/NAME.cfg into buf, or -1 with err when the name is not a preset name. */
int preset_path(char *buf, size_t size, const char *dir, const char *name, struct error *err);

/* Writes p's live picture parameters to dir/NAME.cfg (creating dir), atomically: a reader
 * (or the config watcher) never sees half a file. */
int preset_save(const char *dir, const char *name, const struct params *p, struct error *err);

/* Reads dir/NAME.cfg onto a copy of *p and takes only its live values into *p; on any error
 * *p is unchanged and err names file:line. */
int preset_load(const char *dir, const char *name, struct params *p, struct error *err);

#endif

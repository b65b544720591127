/* datapath.h — where mnemo finds the files its settings name (models, the seed image,
 * shaders), wherever it is started from: the repo root, a gallery script's folder, or a
 * systemd service whose working directory is / or /var/lib/mnemo.
 *
 * An absolute path is used as it is. A relative one is looked for, in this order:
 *   1. in the working directory                    (`make run`, the tests, a piece's folder)
 *   2. in the folder of the --config file          (a piece keeps its models beside it)
 *   3. in the installation's data folder: <binary's folder>/../share/mnemo (an install
 *      tree moved as a whole, or under DESTDIR), then MNEMO_DATA_DIR (<prefix>/share/mnemo)
 *   4. in the source tree, for a build that has one (MNEMO_SOURCE_DIR)
 * The first place where it exists wins; where it exists nowhere, the error names every
 * place tried. Reads the file system: call it at start, never on the hot path. */
#ifndef MNEMO_DATAPATH_H
#define MNEMO_DATAPATH_H

#include "error.h"

#include <stdbool.h>
#include <stddef.h>

/* Remembers the folder of the config file for place 2 (NULL: no config file). Call once
 * at start, before any thread looks for a file. */
void datapath_set_config(const char *config_path);

/* `path` (as a setting gives it) into out: unchanged when absolute or found in the working
 * directory, else the full path where it was found. -1 with err naming every place tried
 * when it is nowhere. */
int datapath_find(const char *path, char *out, size_t size, struct error *err);

/* Like datapath_find for mnemo's own files (shaders/quad.vert): only places 3 and 4, so
 * that a folder of the same name in the working directory is never taken by chance. */
int datapath_find_own(const char *path, char *out, size_t size, struct error *err);

/* The presenter's shaders folder: present.shaders when set (a relative one found as
 * above, else kept as given so that each file's warning names it); else shaders/ beside the
 * binary or one folder up (the build tree), then in places 3 and 4. NULL when there is
 * none: the presenter uses its built-in copies. */
const char *datapath_shader_dir(const char *configured, char *buf, size_t size);

#endif

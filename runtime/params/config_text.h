/* config_text.h — a config file and every file it @includes as one text for libconfig,
 * with where each line of that text came from (config.c's; not a public interface).
 *
 * libconfig 1.5 (Debian 12) opens @include files itself, and badly for a show: fopen(3)
 * of a FIFO blocks the thread for good; a directory makes its flex scanner exit(2) the
 * whole process ("input in flex scanner failed"); with an include directory set, it puts
 * that directory in front of absolute paths too; and a nested include is looked for beside
 * the top file, not beside the file that names it. So mnemo reads every file itself
 * (input_file.h: regular files only, opened without blocking, size-capped), replaces each
 * @include line by the text of its file, and hands libconfig nothing but text.
 *
 * An @include is found as libconfig's scanner finds one: at the start of a line (after
 * blanks), outside comments and strings, `@include "name"`, with \" and \\ escapes. A
 * relative name is found beside the file that includes it; an absolute one is used as it
 * is. */
#ifndef MNEMO_CONFIG_TEXT_H
#define MNEMO_CONFIG_TEXT_H

#include "error.h"

#include <stddef.h>
#include <stdint.h>

#define CONFIG_FILE_MAX  ((int64_t)1 << 20) /* one config file or include */
#define CONFIG_TEXT_MAX  ((size_t)4 << 20)  /* a config and its includes together */
#define CONFIG_FILES_MAX 64                 /* files one load may read */
#define CONFIG_DEPTH_MAX 10                 /* includes within includes (libconfig's own) */

/* Lines from flat_line on (until the next span) are lines line, line + 1... of files[file]. */
struct config_span {
    int flat_line, file, line;
};

struct config_text {
    char *text; /* NUL-terminated */
    size_t len, cap;
    int flat_line; /* the line being written, from 1 */
    struct config_span *spans;
    size_t span_count, span_cap;
    char *files[CONFIG_FILES_MAX]; /* every file the load tried to read, the config first */
    size_t file_count;
};

/* The config at path and its includes into *t. On failure err says why, naming the
 * including file:line for an include, and t->files still lists every file tried (what hot
 * reload watches). Always config_text_free *t afterwards. */
int config_text_load(struct config_text *t, const char *path, struct error *err);

/* Config text in memory; `name` stands for its file in messages. It may not @include: there
 * is no file for a relative name to be beside. */
int config_text_string(struct config_text *t, const char *text, const char *name,
                       struct error *err);

/* The file (its path as the load reached it) and line that flat_line of t->text came from. */
const char *config_text_where(const struct config_text *t, int flat_line, int *line);

void config_text_free(struct config_text *t);

#endif

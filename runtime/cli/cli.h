/* cli.h — the subcommands of the mnemo command line (DESIGN.md, "Command line").
 * Each takes the arguments after its name and returns the process exit code:
 * an enum mnemo_exit (exit.h). */
#ifndef MNEMO_CLI_H
#define MNEMO_CLI_H

#include "exit.h"

#include <stdbool.h>
#include <stdint.h>

int cli_infer(int argc, char **argv);
int cli_inspect(int argc, char **argv);
int cli_run(int argc, char **argv);
int cli_params(int argc, char **argv);
int cli_check(int argc, char **argv);

/* "--name value" or "--name=value" at argv[*i]; advances *i past what it used. Returns
 * the value, or NULL when argv[*i] is not this option. Prints a usage error and sets
 * *bad when the option is there without its value. */
const char *cli_option(int argc, char **argv, int *i, const char *name, bool *bad);
/* Parses "HxW" (e.g. 256x256). Returns 0 on success. */
int cli_parse_size(const char *text, int64_t *height, int64_t *width);
/* Parses a positive integer that fits in int32. Returns 0 on success. */
int cli_parse_count(const char *text, int32_t *count);
/* Does `path` end with `suffix` (case-insensitive)? */
bool cli_has_suffix(const char *path, const char *suffix);

#endif

/* cli.h — the subcommands of the mnemo command line (DESIGN.md, "Command line").
 * Each takes the arguments after its name and returns the process exit code:
 * 0 success, 1 the work failed (message printed), 2 the command line was wrong. */
#ifndef MNEMO_CLI_H
#define MNEMO_CLI_H

#include <stdbool.h>
#include <stdint.h>

/* 74 (EX_IOERR): a recording could not be written (full disk). Not restarted by
 * --supervise: a restart would record over what was saved. 75 is backend.h's device lost. */
enum cli_exit { CLI_OK = 0, CLI_FAILED = 1, CLI_USAGE = 2, CLI_OUTPUT_FAILED = 74 };

int cli_infer(int argc, char **argv);
int cli_inspect(int argc, char **argv);
/* `mnemo run --supervise [--watchdog S] ...`: the piece as a child, restarted when it dies
 * or hangs (supervise.c). argv as cli_run's. */
int cli_supervise(int argc, char **argv);
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

/* `handler` for `sig` for good (sigaction): signal() under strict C11 with
 * _POSIX_C_SOURCE resets the handler after the first signal, so a second SIGTERM would
 * kill. No SA_RESTART: a signal must interrupt a sleep. SIG_IGN works too. */
void cli_signal_catch(int sig, void (*handler)(int));

#endif

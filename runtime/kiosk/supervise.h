/* supervise.h — `mnemo run --supervise [--watchdog S] ...`: our own supervisor for
 * machines without systemd. The same binary runs the piece as a child with a notify
 * socket of ours, restarted when it dies or hangs (README "Running a show"). */
#ifndef MNEMO_SUPERVISE_H
#define MNEMO_SUPERVISE_H

/* argv as cli_run's (the run's own arguments, --supervise among them). Returns an enum
 * mnemo_exit. */
int supervise_run(int argc, char **argv);

#endif

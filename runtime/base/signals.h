/* signals.h — installing signal handlers the one way that keeps them. */
#ifndef MNEMO_SIGNALS_H
#define MNEMO_SIGNALS_H

/* `handler` for `sig` for good (sigaction): signal() under strict C11 with
 * _POSIX_C_SOURCE resets the handler after the first signal, so a second SIGTERM would
 * kill. No SA_RESTART: a signal must interrupt a sleep. SIG_IGN works too. */
void signal_catch(int sig, void (*handler)(int));

#endif

/* signals.c — see signals.h. */
#include "signals.h"

#include <signal.h>
#include <string.h>

void signal_catch(int sig, void (*handler)(int))
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = handler;
    sigemptyset(&sa.sa_mask);
    sigaction(sig, &sa, NULL);
}

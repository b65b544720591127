/* present_xlost.c — the X server going away under the presenter (killed, crashed,
 * restarted with the session): see display_lost_catch in present_internal.h.
 *
 * Xlib calls its IO error handler when the connection breaks, and exits the process when
 * that handler returns: the default one prints "X connection to :0 broken" and calls
 * exit(1), so nothing the piece holds is saved. Ours never returns into Xlib: it hands
 * the piece its last chance to save, then _exit()s, without the atexit handlers and
 * library destructors (Mesa, SDL) that would talk to the dead connection again. Built
 * with libX11 (MNEMO_HAVE_XDPMS: CMakeLists.txt finds libX11 and libXext together). */
#include "present_internal.h"

#include "exit.h"
#include "log.h"

#include <stdatomic.h>
#include <unistd.h>

#ifdef MNEMO_HAVE_XDPMS
#include <X11/Xlib.h>

static void (*lost_fn)(void *ctx);
static void *lost_ctx;
static atomic_flag lost_once = ATOMIC_FLAG_INIT;

static int x_io_lost(Display *dpy)
{
    if (atomic_flag_test_and_set(&lost_once)) {
        for (;;) /* another thread is saving; it ends the process */
            pause();
    }
    log_line(LOG_ERR,
             "the X server of display %s went away: saving the piece's state and exiting "
             "(%d) so that a supervisor restarts it",
             dpy ? DisplayString(dpy) : "?", MNEMO_EXIT_DISPLAY_LOST);
    if (lost_fn)
        lost_fn(lost_ctx);
    _exit(MNEMO_EXIT_DISPLAY_LOST);
}

void display_lost_catch(void (*on_lost)(void *ctx), void *ctx)
{
    lost_fn = on_lost;
    lost_ctx = ctx;
    XSetIOErrorHandler(x_io_lost);
}

#else

void display_lost_catch(void (*on_lost)(void *ctx), void *ctx)
{
    (void)on_lost; /* no libX11 in this build: Xlib's own handler stays */
    (void)ctx;
}

#endif

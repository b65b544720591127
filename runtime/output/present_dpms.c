/* present_dpms.c — screens powered down for closed hours (kiosk.closed = dpms) through the
 * X11 DPMS extension, on the X display SDL's window is on. Built with it only when libX11
 * and libXext are there (MNEMO_HAVE_XDPMS, CMakeLists.txt); without them, on Wayland or
 * KMS/DRM, and on X servers without DPMS (Xvfb) dpms_power says why it cannot and the
 * caller shows black instead. */
#include "present_internal.h"

#include <SDL.h>

#ifdef MNEMO_HAVE_XDPMS
#include <SDL_syswm.h>
#include <X11/Xlib.h>
#include <X11/extensions/dpms.h>

/* Xlib's default error handler ends the process; ours notes the error for the caller. */
static int x_error;

static int x_error_note(Display *dpy, XErrorEvent *e)
{
    (void)dpy;
    x_error = e->error_code;
    return 0;
}

static Display *x11_display(SDL_Window *w)
{
    SDL_SysWMinfo info;
    SDL_VERSION(&info.version);
    if (!w || !SDL_GetWindowWMInfo(w, &info) || info.subsystem != SDL_SYSWM_X11)
        return NULL;
    return info.info.x11.display;
}

static int dpms_usable(Display *dpy, struct error *err)
{
    int event_base, error_base;
    if (!dpy)
        return error_set(err, "the video driver is %s, not X11", SDL_GetCurrentVideoDriver());
    if (!DPMSQueryExtension(dpy, &event_base, &error_base))
        return error_set(err, "the X server has no DPMS extension");
    if (!DPMSCapable(dpy))
        return error_set(err, "the X server's screens are not DPMS capable");
    return 0;
}

int dpms_power(struct dpms *d, struct SDL_Window *w, bool on, struct error *err)
{
    Display *dpy = x11_display(w);
    if (dpms_usable(dpy, err))
        return -1;
    x_error = 0;
    XErrorHandler previous = XSetErrorHandler(x_error_note);
    if (!on) {
        CARD16 level;
        BOOL enabled;
        if (!d->off) /* remembered the first time only: re-asserting must not forget it */
            d->was_enabled = DPMSInfo(dpy, &level, &enabled) && enabled;
        DPMSEnable(dpy); /* ForceLevel needs DPMS enabled */
        DPMSForceLevel(dpy, DPMSModeOff);
    } else {
        DPMSForceLevel(dpy, DPMSModeOn);
        if (!d->was_enabled)
            DPMSDisable(dpy);
    }
    XSync(dpy, False);
    XSetErrorHandler(previous);
    if (x_error)
        return error_set(err, "the X server refused (X error %d)", x_error);
    d->off = !on;
    return 0;
}

#else

int dpms_power(struct dpms *d, struct SDL_Window *w, bool on, struct error *err)
{
    (void)d;
    (void)w;
    (void)on;
    return error_set(err, "this build has no X11 DPMS (install libxext-dev and rebuild)");
}

#endif

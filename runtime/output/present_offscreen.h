/* present_offscreen.h — the presenter's GL pipeline with no display, for headless capture
 * with capture.renderer = gl: a recording then shows exactly what the screen shows
 * (shaders/: filter, fit, rotation, calibration, grain, vignette), rendered through SDL's
 * offscreen video driver (EGL underneath; Mesa's llvmpipe when there is no GPU) into a
 * framebuffer of the capture size and read back. */
#ifndef MNEMO_PRESENT_OFFSCREEN_H
#define MNEMO_PRESENT_OFFSCREEN_H

#include "error.h"
#include "params.h"

#include <stdint.h>

struct gl_composer;

/* A width x height composer of the loop's size x size images showing capture.stream, with
 * p's present.* look. NULL with err when no offscreen GL context can be made. */
struct gl_composer *gl_composer_open(int32_t size, int32_t width, int32_t height,
                                     const struct params *p, struct error *err);
/* A new iteration's images: what was newest becomes the crossfade's start. */
void gl_composer_upload(struct gl_composer *c, const float *portrait, const float *sketch,
                        bool first);
/* The frame at crossfade position t (0..1) into rgb (RGB24, top row first). `index`
 * varies the grain as the frame count does on screen. */
void gl_composer_frame(struct gl_composer *c, float t, uint64_t index, uint8_t *rgb);
void gl_composer_close(struct gl_composer *c);

#endif

/* present_internal.h — the presenter's parts: shared by output/present*.c and the display
 * driver (piece/show.c).
 *
 *   present_gl.c       GL resources: source textures, the crossfade pass, drawing a view
 *   present_shaders.c  finding, loading and compiling shaders/ (embedded fallback)
 *   present_hud.c      the HUD: a tiny bitmap font drawn into a texture */
#ifndef MNEMO_PRESENT_INTERNAL_H
#define MNEMO_PRESENT_INTERNAL_H

#include "error.h"
#include "params.h"

#include <GL/glew.h>
#include <stdbool.h>
#include <stdint.h>

/* ---- shaders -------------------------------------------------------------------------- */

struct shader_text {
    const char *name; /* "present.frag" */
    const char *text;
};

/* Generated at build time from shaders/ (cmake/embed_shaders.cmake); ends with {0, 0}. */
extern const struct shader_text present_shaders_embedded[];

/* The embedded copy of `name`, or NULL. */
const char *shader_embedded(const char *name);

/* Links vertex + fragment shader `vert`/`frag` read from dir (NULL: embedded only), with
 * `defines` ("#define X 1\n", may be NULL) put into the fragment shader. A file that is
 * missing or does not compile is reported with log_warn() naming the file (and line, from the
 * driver's log) and replaced by its embedded copy. Returns 0 on failure. */
GLuint shader_program(const char *dir, const char *vert, const char *frag, const char *defines,
                      struct error *err);

/* "0:12(5): error: x" (Mesa) or "ERROR: 0:12: x" -> "path:12: error: x", line by line, into
 * out. Exposed for tests. */
void shader_log_rewrite(const char *log, const char *path, char *out, size_t size);

/* ---- GL resources --------------------------------------------------------------------- */

enum { SRC_PORTRAIT, SRC_SKETCH, SRC_COUNT };

/* What one view draws and where (pixels of the window, origin bottom-left as GL's). */
struct view {
    int32_t x, y, width, height;
    int32_t source; /* SRC_* */
};

struct gl_state {
    GLuint vao;
    GLuint mix_program, hud_program;
    GLuint present_program[3];               /* one per enum present_filter */
    GLuint from[SRC_COUNT], to[SRC_COUNT];   /* planar float sources, R32F */
    GLuint mixed[SRC_COUNT], fbo[SRC_COUNT]; /* crossfaded RGBA16F, S x S */
    GLuint hud_texture;
    int32_t size;
};

/* Compiles the shaders and makes every texture for a loop of size x size. */
int gl_open(struct gl_state *g, int32_t size, const char *shader_dir, struct error *err);
void gl_close(struct gl_state *g);

/* Uploads a new iteration: the old `to` becomes `from`. First call: both. */
void gl_upload(struct gl_state *g, const float *portrait, const float *sketch, bool first);

/* The crossfade pass for both sources at t (0: from, 1: to). */
void gl_mix(struct gl_state *g, float t);

/* Draws the mixed source of v into v's rectangle with p's fit, filter, rotation and
 * calibration. frame varies the grain. */
void gl_draw_view(struct gl_state *g, const struct view *v, const struct params *p, uint64_t frame);

/* The views of a w x h target showing `layout` (enum present_layout); returns how many. */
int gl_views(int32_t layout, int32_t w, int32_t h, struct view *v);

/* The test card (MNEMO_PRESENT_PATTERN): quadrants red, green, blue, white from the top
 * left, as a canonical portrait and sketch of size x size. */
void gl_pattern(float *portrait, float *sketch, int32_t size);

/* Where the picture of a src_w x src_h source lands in a view_w x view_h view turned by
 * `rotate` quarter turns: centre and half size in the view's NDC (fill gives > 1). */
void gl_fit(int32_t fit, int32_t rotate, double src_w, double src_h, double view_w, double view_h,
            float half[2]);

/* ---- HUD ------------------------------------------------------------------------------ */

#define HUD_COLS 48
#define HUD_ROWS 8

/* Draws `lines` (up to HUD_ROWS, '\n'-separated) top-left in a window of the given size. */
void hud_draw(struct gl_state *g, const char *lines, int32_t win_w, int32_t win_h);

/* The 5x7 glyph of c (upper-cased; unknown characters blank): 7 rows, low 5 bits each,
 * bit 4 the leftmost column. Exposed for tests. */
const uint8_t *hud_glyph(char c);

/* ---- a lost X server (present_xlost.c) ---------------------------------------------- */

/* From now on a broken connection to the X server (killed, crashed, restarted) does not
 * end the process the way Xlib's default handler does (exit 1, nothing saved): the loss is
 * logged, on_lost(ctx) runs on the thread that met it, inside Xlib, and the process ends
 * with MNEMO_EXIT_DISPLAY_LOST (_exit: no atexit handler talks to the dead server again).
 * on_lost must not touch X, SDL or GL: it stops what runs and saves the state. The first
 * thread to meet the loss does this; any other waits for it to end the process. Process
 * wide (Xlib has one handler); call once the windows are open (SDL may set its own while
 * it starts). Does nothing in a build without libX11. */
void display_lost_catch(void (*on_lost)(void *ctx), void *ctx);

/* ---- screens powered down (present_dpms.c) ------------------------------------------ */

struct SDL_Window;

/* Screens powered down through X11 DPMS (present_dpms.c). */
struct dpms {
    bool off;         /* we forced the screens off */
    bool was_enabled; /* DPMS was enabled before we touched it (restored on power-up) */
};

/* Powers the screens of w's X display down (on = false) or back up. -1 with err saying why
 * where it cannot (no libXext in this build, not X11, no DPMS in the X server, refused);
 * never fails otherwise, never exits (X errors are caught). */
int dpms_power(struct dpms *d, struct SDL_Window *w, bool on, struct error *err);

#endif

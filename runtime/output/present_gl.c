/* present_gl.c — GL resources of the presenter and the two passes of a frame:
 *   1. mix: previous and newest loop image -> one RGB texture at the loop's size (cheap)
 *   2. present: that texture upscaled, rotated, calibrated into each view (per pixel of
 *      the screen, so the expensive filter reads one texture). */
#include "present_internal.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static GLuint texture_make(GLint internal, int32_t w, int32_t h, GLenum format, GLint filter)
{
    GLuint t;
    glGenTextures(1, &t);
    glBindTexture(GL_TEXTURE_2D, t);
    glTexImage2D(GL_TEXTURE_2D, 0, internal, w, h, 0, format, GL_FLOAT, NULL);
    glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MIN_FILTER, filter);
    glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MAG_FILTER, filter);
    glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_WRAP_S, GL_CLAMP_TO_EDGE);
    glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_WRAP_T, GL_CLAMP_TO_EDGE);
    return t;
}

static int textures_make(struct gl_state *g, struct error *err)
{
    for (int s = 0; s < SRC_COUNT; s++) {
        int32_t rows = s == SRC_PORTRAIT ? 3 * g->size : g->size; /* planes stacked */
        g->from[s] = texture_make(GL_R32F, g->size, rows, GL_RED, GL_NEAREST);
        g->to[s] = texture_make(GL_R32F, g->size, rows, GL_RED, GL_NEAREST);
        g->mixed[s] = texture_make(GL_RGBA8, g->size, g->size, GL_RGBA, GL_LINEAR);
        glGenFramebuffers(1, &g->fbo[s]);
        glBindFramebuffer(GL_FRAMEBUFFER, g->fbo[s]);
        glFramebufferTexture2D(GL_FRAMEBUFFER, GL_COLOR_ATTACHMENT0, GL_TEXTURE_2D, g->mixed[s], 0);
        GLenum status = glCheckFramebufferStatus(GL_FRAMEBUFFER);
        glBindFramebuffer(GL_FRAMEBUFFER, 0);
        if (status != GL_FRAMEBUFFER_COMPLETE)
            return error_set(err, "GL: the crossfade framebuffer is incomplete (0x%x)", status);
    }
    g->hud_texture = texture_make(GL_R8, HUD_COLS * 6, HUD_ROWS * 9, GL_RED, GL_NEAREST);
    return 0;
}

int gl_open(struct gl_state *g, int32_t size, const char *shader_dir, struct error *err)
{
    memset(g, 0, sizeof *g);
    g->size = size;
    glGenVertexArrays(1, &g->vao);
    glBindVertexArray(g->vao);
    g->mix_program = shader_program(shader_dir, "quad.vert", "mix.frag", NULL, err);
    g->hud_program = shader_program(shader_dir, "quad.vert", "hud.frag", NULL, err);
    if (!g->mix_program || !g->hud_program)
        return -1;
    for (int f = 0; f < 3; f++) {
        char define[32];
        snprintf(define, sizeof define, "#define FILTER %d\n", f);
        g->present_program[f] =
            shader_program(shader_dir, "quad.vert", "present.frag", define, err);
        if (!g->present_program[f])
            return -1;
    }
    glPixelStorei(GL_UNPACK_ALIGNMENT, 1);
    glPixelStorei(GL_PACK_ALIGNMENT, 1);
    return textures_make(g, err);
}

void gl_close(struct gl_state *g)
{
    glDeleteProgram(g->mix_program);
    for (int f = 0; f < 3; f++)
        glDeleteProgram(g->present_program[f]);
    glDeleteProgram(g->hud_program);
    for (int s = 0; s < SRC_COUNT; s++) {
        GLuint t[] = {g->from[s], g->to[s], g->mixed[s]};
        glDeleteTextures(3, t);
        glDeleteFramebuffers(1, &g->fbo[s]);
    }
    glDeleteTextures(1, &g->hud_texture);
    glDeleteVertexArrays(1, &g->vao);
    memset(g, 0, sizeof *g);
}

static void upload(GLuint tex, const float *data, int32_t w, int32_t h)
{
    glBindTexture(GL_TEXTURE_2D, tex);
    glTexSubImage2D(GL_TEXTURE_2D, 0, 0, 0, w, h, GL_RED, GL_FLOAT, data);
}

void gl_upload(struct gl_state *g, const float *portrait, const float *sketch, bool first)
{
    for (int s = 0; s < SRC_COUNT; s++) {
        GLuint old_from = g->from[s];
        g->from[s] = g->to[s]; /* the newest becomes the one we fade from */
        g->to[s] = old_from;
        const float *data = s == SRC_PORTRAIT ? portrait : sketch;
        int32_t rows = s == SRC_PORTRAIT ? 3 * g->size : g->size;
        upload(g->to[s], data, g->size, rows);
        if (first)
            upload(g->from[s], data, g->size, rows);
    }
}

static void uniform_uv_full(GLuint prog)
{
    /* corners BL, BR, TL, TR; texture row 0 is the image's top row */
    const float uv[8] = {0, 1, 1, 1, 0, 0, 1, 0};
    glUniform2fv(glGetUniformLocation(prog, "u_uv"), 4, uv);
    glUniform2f(glGetUniformLocation(prog, "u_center"), 0, 0);
    glUniform2f(glGetUniformLocation(prog, "u_half"), 1, 1);
}

void gl_mix(struct gl_state *g, float t)
{
    glUseProgram(g->mix_program);
    uniform_uv_full(g->mix_program);
    glUniform1f(glGetUniformLocation(g->mix_program, "u_t"), t);
    glUniform1i(glGetUniformLocation(g->mix_program, "u_size"), g->size);
    glUniform1i(glGetUniformLocation(g->mix_program, "u_from"), 0);
    glUniform1i(glGetUniformLocation(g->mix_program, "u_to"), 1);
    glViewport(0, 0, g->size, g->size);
    glDisable(GL_BLEND);
    for (int s = 0; s < SRC_COUNT; s++) {
        glBindFramebuffer(GL_FRAMEBUFFER, g->fbo[s]);
        glUniform1i(glGetUniformLocation(g->mix_program, "u_channels"), s == SRC_PORTRAIT ? 3 : 1);
        glActiveTexture(GL_TEXTURE0);
        glBindTexture(GL_TEXTURE_2D, g->from[s]);
        glActiveTexture(GL_TEXTURE1);
        glBindTexture(GL_TEXTURE_2D, g->to[s]);
        glDrawArrays(GL_TRIANGLE_STRIP, 0, 4);
    }
    glActiveTexture(GL_TEXTURE0);
    glBindFramebuffer(GL_FRAMEBUFFER, 0);
}

void gl_fit(int32_t fit, int32_t rotate, double src_w, double src_h, double view_w, double view_h,
            float half[2])
{
    if (rotate % 2) { /* a quarter turn swaps the picture's sides on screen */
        double t = src_w;
        src_w = src_h;
        src_h = t;
    }
    double sx = view_w / src_w, sy = view_h / src_h;
    double s = fit == FIT_FILL ? fmax(sx, sy) : fmin(sx, sy);
    if (fit == FIT_STRETCH) {
        half[0] = half[1] = 1.0f;
        return;
    }
    half[0] = (float)(src_w * s / view_w);
    half[1] = (float)(src_h * s / view_h);
}

/* The corners' texture coordinates turned clockwise by `rotate` quarter turns: the screen
 * corner at position i (going round TL, TR, BR, BL) shows the image corner i - rotate. */
static void rotated_uv(int32_t rotate, float uv[8])
{
    static const float round_uv[4][2] = {{0, 0}, {1, 0}, {1, 1}, {0, 1}}; /* TL TR BR BL */
    static const int strip_of_round[4] = {2, 3, 1, 0}; /* TL->2, TR->3, BR->1, BL->0 */
    for (int i = 0; i < 4; i++) {
        const float *c = round_uv[(i - rotate + 4) % 4];
        uv[2 * strip_of_round[i]] = c[0];
        uv[2 * strip_of_round[i] + 1] = c[1];
    }
}

static void calibration_uniforms(GLuint prog, const struct params *p, uint64_t frame)
{
    glUniform1f(glGetUniformLocation(prog, "u_brightness"), p->present.brightness);
    glUniform1f(glGetUniformLocation(prog, "u_contrast"), p->present.contrast);
    glUniform1f(glGetUniformLocation(prog, "u_gamma"), p->present.gamma);
    glUniform1f(glGetUniformLocation(prog, "u_saturation"), p->present.saturation);
    glUniform1f(glGetUniformLocation(prog, "u_grain"), p->present.grain);
    glUniform1f(glGetUniformLocation(prog, "u_vignette"), p->present.vignette);
    glUniform1f(glGetUniformLocation(prog, "u_frame"), (float)(frame % 4096));
}

void gl_draw_view(struct gl_state *g, const struct view *v, const struct params *p, uint64_t frame)
{
    GLuint prog = g->present_program[p->present.filter];
    glUseProgram(prog);
    glViewport(v->x, v->y, v->width, v->height);
    float half[2], uv[8];
    gl_fit(p->present.fit, p->present.rotate, g->size, g->size, v->width, v->height, half);
    rotated_uv(p->present.rotate, uv);
    glUniform2fv(glGetUniformLocation(prog, "u_uv"), 4, uv);
    glUniform2f(glGetUniformLocation(prog, "u_center"), 0, 0);
    glUniform2f(glGetUniformLocation(prog, "u_half"), half[0], half[1]);
    calibration_uniforms(prog, p, frame);
    glUniform1i(glGetUniformLocation(prog, "u_src"), 0);
    glActiveTexture(GL_TEXTURE0);
    glBindTexture(GL_TEXTURE_2D, g->mixed[v->source]);
    glDisable(GL_BLEND);
    glDrawArrays(GL_TRIANGLE_STRIP, 0, 4);
}

int gl_views(int32_t layout, int32_t w, int32_t h, struct view *v)
{
    if (layout == LAYOUT_SIDE_BY_SIDE) {
        v[0] = (struct view){0, 0, w / 2, h, SRC_PORTRAIT};
        v[1] = (struct view){w / 2, 0, w - w / 2, h, SRC_SKETCH};
        return 2;
    }
    v[0] = (struct view){0, 0, w, h, layout == LAYOUT_SKETCH ? SRC_SKETCH : SRC_PORTRAIT};
    return 1;
}

void gl_pattern(float *portrait, float *sketch, int32_t s)
{
    /* quadrants from the top left: red, green, blue, white (canonical -1..1) */
    static const float colours[4][3] = {{1, -1, -1}, {-1, 1, -1}, {-1, -1, 1}, {1, 1, 1}};
    for (int32_t y = 0; y < s; y++)
        for (int32_t x = 0; x < s; x++) {
            int q = (y >= s / 2) * 2 + (x >= s / 2);
            for (int c = 0; c < 3; c++)
                portrait[((size_t)c * s + y) * s + x] = colours[q][c];
            sketch[(size_t)y * s + x] = colours[q][0];
        }
}

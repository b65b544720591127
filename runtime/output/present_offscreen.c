/* present_offscreen.c — see present_offscreen.h. */
#include "present_offscreen.h"

#include "datapath.h"
#include "present_internal.h"

#include <SDL.h>
#include <stdlib.h>
#include <string.h>

struct gl_composer {
    SDL_Window *window;
    SDL_GLContext ctx;
    struct gl_state gl;
    bool gl_ready, pattern;
    GLuint fbo, target;
    int32_t width, height, layout;
    struct params p;
    float *pattern_portrait, *pattern_sketch;
    uint8_t *row;
};

static int context_open(struct gl_composer *c, struct error *err)
{
    SDL_SetHint(SDL_HINT_NO_SIGNAL_HANDLERS, "1");
    /* the offscreen driver needs no display; chosen explicitly, as SDL only falls back to it */
    if (SDL_VideoInit("offscreen") != 0)
        return error_set(err, "no offscreen GL (SDL offscreen driver: %s)", SDL_GetError());
    SDL_GL_SetAttribute(SDL_GL_CONTEXT_MAJOR_VERSION, 3);
    SDL_GL_SetAttribute(SDL_GL_CONTEXT_MINOR_VERSION, 3);
    SDL_GL_SetAttribute(SDL_GL_CONTEXT_PROFILE_MASK, SDL_GL_CONTEXT_PROFILE_CORE);
    c->window = SDL_CreateWindow("mnemo capture", 0, 0, c->width, c->height,
                                 SDL_WINDOW_OPENGL | SDL_WINDOW_HIDDEN);
    if (!c->window || !(c->ctx = SDL_GL_CreateContext(c->window)))
        return error_set(err, "no offscreen OpenGL 3.3 context (%s)", SDL_GetError());
    glewExperimental = GL_TRUE;
    GLenum rc = glewInit(); /* 4: Debian's GLEW on EGL, functions loaded all the same */
    if (rc != GLEW_OK && rc != 4)
        return error_set(err, "GLEW: %s", (const char *)glewGetErrorString(rc));
    glGetError();
    return 0;
}

static int target_open(struct gl_composer *c, struct error *err)
{
    glGenTextures(1, &c->target);
    glBindTexture(GL_TEXTURE_2D, c->target);
    glTexImage2D(GL_TEXTURE_2D, 0, GL_RGBA8, c->width, c->height, 0, GL_RGBA, GL_UNSIGNED_BYTE,
                 NULL);
    glGenFramebuffers(1, &c->fbo);
    glBindFramebuffer(GL_FRAMEBUFFER, c->fbo);
    glFramebufferTexture2D(GL_FRAMEBUFFER, GL_COLOR_ATTACHMENT0, GL_TEXTURE_2D, c->target, 0);
    GLenum status = glCheckFramebufferStatus(GL_FRAMEBUFFER);
    glBindFramebuffer(GL_FRAMEBUFFER, 0);
    if (status != GL_FRAMEBUFFER_COMPLETE)
        return error_set(err, "GL: the capture framebuffer is incomplete (0x%x)", status);
    return 0;
}

static int pattern_open(struct gl_composer *c, int32_t size, struct error *err)
{
    const char *v = getenv("MNEMO_PRESENT_PATTERN"); /* test hook, as on screen */
    c->pattern = v && atoi(v) != 0;
    if (!c->pattern)
        return 0;
    c->pattern_portrait = malloc(3 * (size_t)size * size * sizeof(float));
    c->pattern_sketch = malloc((size_t)size * size * sizeof(float));
    if (!c->pattern_portrait || !c->pattern_sketch)
        return error_set(err, "out of memory");
    gl_pattern(c->pattern_portrait, c->pattern_sketch, size);
    return 0;
}

static int pipeline_open(struct gl_composer *c, int32_t size, struct error *err)
{
    char buf[4096];
    const char *dir = datapath_shader_dir(c->p.present.shaders, buf, sizeof buf);
    if (gl_open(&c->gl, size, dir, err))
        return -1;
    c->gl_ready = true;
    return 0;
}

struct gl_composer *gl_composer_open(int32_t size, int32_t width, int32_t height,
                                     const struct params *p, struct error *err)
{
    struct gl_composer *c = calloc(1, sizeof *c);
    if (!c) {
        error_set(err, "out of memory");
        return NULL;
    }
    *c = (struct gl_composer){.width = width, .height = height, .p = *p};
    c->layout = p->capture.stream; /* same order as enum present_layout */
    c->row = malloc((size_t)width * 3);
    int rc = c->row ? context_open(c, err) : error_set(err, "out of memory");
    if (rc == 0)
        rc = pipeline_open(c, size, err);
    if (rc == 0)
        rc = target_open(c, err);
    if (rc == 0)
        rc = pattern_open(c, size, err);
    if (rc) {
        error_prefix(err, "capture.renderer = gl");
        gl_composer_close(c);
        return NULL;
    }
    return c;
}

void gl_composer_upload(struct gl_composer *c, const float *portrait, const float *sketch,
                        bool first)
{
    if (c->pattern)
        gl_upload(&c->gl, c->pattern_portrait, c->pattern_sketch, first);
    else
        gl_upload(&c->gl, portrait, sketch, first);
}

void gl_composer_frame(struct gl_composer *c, float t, uint64_t index, uint8_t *rgb)
{
    gl_mix(&c->gl, c->p.present.interpolate == INTERPOLATE_CUT ? 1.0f : t);
    glBindFramebuffer(GL_FRAMEBUFFER, c->fbo);
    glViewport(0, 0, c->width, c->height);
    glClearColor(0, 0, 0, 1);
    glClear(GL_COLOR_BUFFER_BIT);
    struct view v[2];
    int n = gl_views(c->layout, c->width, c->height, v);
    for (int k = 0; k < n; k++)
        gl_draw_view(&c->gl, &v[k], &c->p, index);
    /* the readback also waits for the frame: offscreen swaps never block, so nothing else
     * would keep the GL queue from growing */
    glBindFramebuffer(GL_FRAMEBUFFER, c->fbo);
    glReadBuffer(GL_COLOR_ATTACHMENT0);
    glReadPixels(0, 0, c->width, c->height, GL_RGB, GL_UNSIGNED_BYTE, rgb);
    glBindFramebuffer(GL_FRAMEBUFFER, 0);
    size_t stride = (size_t)c->width * 3;
    for (int32_t y = 0; y < c->height / 2; y++) { /* GL rows go bottom up */
        uint8_t *a = rgb + (size_t)y * stride, *b = rgb + (size_t)(c->height - 1 - y) * stride;
        memcpy(c->row, a, stride);
        memcpy(a, b, stride);
        memcpy(b, c->row, stride);
    }
}

void gl_composer_close(struct gl_composer *c)
{
    if (!c)
        return;
    if (c->gl_ready) {
        gl_close(&c->gl);
        glDeleteFramebuffers(1, &c->fbo);
        glDeleteTextures(1, &c->target);
    }
    if (c->ctx)
        SDL_GL_DeleteContext(c->ctx);
    if (c->window)
        SDL_DestroyWindow(c->window);
    SDL_VideoQuit();
    free(c->pattern_portrait);
    free(c->pattern_sketch);
    free(c->row);
    free(c);
}

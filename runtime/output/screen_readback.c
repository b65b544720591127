/* screen_readback.c — the presented frame off the GPU without waiting for it (see
 * screen_record.h): glReadPixels into a pixel buffer object returns at once, a fence says
 * when the copy is done, and the buffer is mapped only then, a frame or more later. A
 * screen of another size than the recording is first scaled by a blit into a framebuffer
 * of the recording's size. */
#include "screen_record_internal.h"

#include <string.h>

int screen_record_gl_open(struct screen_record *r, struct error *err)
{
    struct readback *g = &r->gl;
    memset(g, 0, sizeof *g);
    glGenBuffers(RECORD_READBACKS, g->pbo);
    for (int i = 0; i < RECORD_READBACKS; i++) {
        glBindBuffer(GL_PIXEL_PACK_BUFFER, g->pbo[i]);
        glBufferData(GL_PIXEL_PACK_BUFFER, (GLsizeiptr)r->frame_bytes, NULL, GL_STREAM_READ);
    }
    glBindBuffer(GL_PIXEL_PACK_BUFFER, 0);
    glGenTextures(1, &g->color);
    glBindTexture(GL_TEXTURE_2D, g->color);
    glTexImage2D(GL_TEXTURE_2D, 0, GL_RGBA8, r->width, r->height, 0, GL_RGBA, GL_UNSIGNED_BYTE,
                 NULL);
    glBindTexture(GL_TEXTURE_2D, 0);
    glGenFramebuffers(1, &g->fbo);
    glBindFramebuffer(GL_FRAMEBUFFER, g->fbo);
    glFramebufferTexture2D(GL_FRAMEBUFFER, GL_COLOR_ATTACHMENT0, GL_TEXTURE_2D, g->color, 0);
    GLenum status = glCheckFramebufferStatus(GL_FRAMEBUFFER);
    glBindFramebuffer(GL_FRAMEBUFFER, 0);
    if (status != GL_FRAMEBUFFER_COMPLETE || glGetError() != GL_NO_ERROR) {
        screen_record_gl_close(r);
        return error_set(err,
                         "cannot read the screen back for the recording (GL framebuffer "
                         "status 0x%x)",
                         status);
    }
    g->ready = true;
    return 0;
}

void screen_record_gl_close(struct screen_record *r)
{
    struct readback *g = &r->gl;
    if (!g->pbo[0])
        return;                        /* closed already, or never opened */
    for (; g->count > 0; g->count--) { /* in flight: lost with the context */
        record_drop(r, g->repeat[g->first]);
        glDeleteSync(g->fence[g->first]);
        g->first = (g->first + 1) % RECORD_READBACKS;
    }
    glDeleteBuffers(RECORD_READBACKS, g->pbo);
    glDeleteFramebuffers(1, &g->fbo);
    glDeleteTextures(1, &g->color);
    memset(g, 0, sizeof *g);
}

static bool fence_passed(GLsync fence)
{
    GLenum s = glClientWaitSync(fence, 0, 0); /* a look, no wait */
    return s == GL_ALREADY_SIGNALED || s == GL_CONDITION_SATISFIED;
}

void readback_collect(struct screen_record *r)
{
    struct readback *g = &r->gl;
    while (g->count > 0 && fence_passed(g->fence[g->first])) {
        int i = g->first;
        glDeleteSync(g->fence[i]);
        glBindBuffer(GL_PIXEL_PACK_BUFFER, g->pbo[i]);
        const uint8_t *rows =
            glMapBufferRange(GL_PIXEL_PACK_BUFFER, 0, (GLsizeiptr)r->frame_bytes, GL_MAP_READ_BIT);
        if (rows) {
            record_push(r, rows, g->repeat[i]);
            glUnmapBuffer(GL_PIXEL_PACK_BUFFER);
        } else {
            record_drop(r, g->repeat[i]);
        }
        glBindBuffer(GL_PIXEL_PACK_BUFFER, 0);
        g->first = (i + 1) % RECORD_READBACKS;
        g->count--;
    }
}

void readback_finish(struct screen_record *r)
{
    struct readback *g = &r->gl;
    for (int i = 0; i < g->count; i++)
        glClientWaitSync(g->fence[(g->first + i) % RECORD_READBACKS], GL_SYNC_FLUSH_COMMANDS_BIT,
                         (GLuint64)(RECORD_FINISH_WAIT_S * 1e9));
    readback_collect(r);
}

/* The back buffer as it is, or scaled into the recording's framebuffer: what to read. */
static void source_bind(struct screen_record *r, int32_t screen_w, int32_t screen_h)
{
    glBindFramebuffer(GL_READ_FRAMEBUFFER, 0);
    glReadBuffer(GL_BACK); /* before the swap: after it the back buffer is undefined */
    if (screen_w == r->width && screen_h == r->height)
        return;
    glBindFramebuffer(GL_DRAW_FRAMEBUFFER, r->gl.fbo);
    glBlitFramebuffer(0, 0, screen_w, screen_h, 0, 0, r->width, r->height, GL_COLOR_BUFFER_BIT,
                      GL_LINEAR);
    glBindFramebuffer(GL_READ_FRAMEBUFFER, r->gl.fbo);
    glReadBuffer(GL_COLOR_ATTACHMENT0);
}

void readback_start(struct screen_record *r, int32_t screen_w, int32_t screen_h, int32_t repeat)
{
    struct readback *g = &r->gl;
    if (g->count == RECORD_READBACKS) { /* the GPU is behind: this frame is not recorded */
        record_drop(r, repeat);
        return;
    }
    int i = (g->first + g->count) % RECORD_READBACKS;
    source_bind(r, screen_w, screen_h);
    glBindBuffer(GL_PIXEL_PACK_BUFFER, g->pbo[i]);
    /* BGRA: the drivers' own layout, a plain copy (RGB took Mesa 6 ms more at 720p) */
    glReadPixels(0, 0, r->width, r->height, GL_BGRA, GL_UNSIGNED_BYTE, NULL);
    glBindBuffer(GL_PIXEL_PACK_BUFFER, 0);
    g->fence[i] = glFenceSync(GL_SYNC_GPU_COMMANDS_COMPLETE, 0);
    g->repeat[i] = repeat;
    g->count++;
    glBindFramebuffer(GL_FRAMEBUFFER, 0);
}

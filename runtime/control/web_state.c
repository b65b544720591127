/* web_state.c — see web_internal.h: what the loop's thread posts for the web page (a stats
 * line, a thumbnail), the JPEG of that thumbnail, the log lines as JSON, the page files. */
#include "web_internal.h"

#include "log.h"

#include <jpeglib.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct web *web_state_new(struct control *ctl, const char *token)
{
    struct web *w = calloc(1, sizeof *w);
    if (!w)
        return NULL;
    w->ctl = ctl;
    snprintf(w->token, sizeof w->token, "%s", token);
    pthread_mutex_init(&w->status_mu, NULL);
    pthread_mutex_init(&w->frame_mu, NULL);
    return w;
}

void web_state_free(struct web *w)
{
    pthread_mutex_destroy(&w->status_mu);
    pthread_mutex_destroy(&w->frame_mu);
    memset(w->token, 0, sizeof w->token);
    free(w);
}

/* ---- posted by the loop's thread ----------------------------------------------------- */

void web_post_status(struct web *w, const char *json)
{
    if (!w || pthread_mutex_trylock(&w->status_mu) != 0)
        return; /* a reader copies it this instant: the next line comes in a second */
    snprintf(w->status, sizeof w->status, "%s", json);
    atomic_fetch_add(&w->status_seq, 1);
    pthread_mutex_unlock(&w->status_mu);
}

static unsigned char to_byte(float v)
{
    float x = (v + 1.0f) * 127.5f + 0.5f;
    return x <= 0.0f ? 0 : x >= 255.0f ? 255 : (unsigned char)x;
}

/* Point-samples the portrait down to at most WEB_THUMB_MAX a side (a thumbnail for a
 * phone: the sharpness of a box filter is not worth the loop's time). */
void web_post_frame(struct web *w, const float *portrait, int32_t size)
{
    if (!w || size <= 0 || pthread_mutex_trylock(&w->frame_mu) != 0)
        return;
    int side = size < WEB_THUMB_MAX ? size : WEB_THUMB_MAX;
    size_t plane = (size_t)size * (size_t)size;
    for (int y = 0; y < side; y++) {
        size_t row = (size_t)(y * size / side) * (size_t)size;
        unsigned char *out = w->thumb + (size_t)y * (size_t)side * 3;
        for (int x = 0; x < side; x++) {
            size_t at = row + (size_t)(x * size / side);
            for (int ch = 0; ch < 3; ch++)
                *out++ = to_byte(portrait[(size_t)ch * plane + at]);
        }
    }
    w->thumb_side = side;
    atomic_fetch_add(&w->frame_seq, 1);
    pthread_mutex_unlock(&w->frame_mu);
}

/* ---- read by the server's threads ---------------------------------------------------- */

bool web_status_copy(struct web *w, struct text *t)
{
    if (atomic_load(&w->status_seq) == 0)
        return false;
    pthread_mutex_lock(&w->status_mu);
    text_add(t, "%s", w->status);
    pthread_mutex_unlock(&w->status_mu);
    return true;
}

/* libjpeg reports errors by calling error_exit, which must not return: back to the
 * encoder through a jump, so that a failure costs this one request, not the process. */
struct jpeg_fail {
    struct jpeg_error_mgr mgr;
    jmp_buf back;
};

static void jpeg_fail_exit(j_common_ptr cinfo)
{
    longjmp(((struct jpeg_fail *)(void *)cinfo->err)->back, 1);
}

static int jpeg_encode(const unsigned char *rgb, int side, unsigned char **jpeg, size_t *len)
{
    struct jpeg_compress_struct ci;
    struct jpeg_fail fail;
    unsigned long size = 0;
    *jpeg = NULL;
    ci.err = jpeg_std_error(&fail.mgr);
    fail.mgr.error_exit = jpeg_fail_exit;
    if (setjmp(fail.back)) {
        jpeg_destroy_compress(&ci);
        free(*jpeg);
        *jpeg = NULL;
        return -1;
    }
    jpeg_create_compress(&ci);
    jpeg_mem_dest(&ci, jpeg, &size);
    ci.image_width = ci.image_height = (JDIMENSION)side;
    ci.input_components = 3;
    ci.in_color_space = JCS_RGB;
    jpeg_set_defaults(&ci);
    jpeg_set_quality(&ci, 85, TRUE);
    jpeg_start_compress(&ci, TRUE);
    while (ci.next_scanline < ci.image_height) {
        JSAMPROW row = (JSAMPROW)(rgb + (size_t)ci.next_scanline * (size_t)side * 3);
        jpeg_write_scanlines(&ci, &row, 1);
    }
    jpeg_finish_compress(&ci);
    jpeg_destroy_compress(&ci);
    *len = size;
    return 0;
}

int web_frame_jpeg(struct web *w, unsigned char **jpeg, size_t *len)
{
    unsigned char *rgb = atomic_load(&w->frame_seq) ? malloc(sizeof w->thumb) : NULL;
    if (!rgb)
        return -1;
    pthread_mutex_lock(&w->frame_mu);
    int side = w->thumb_side;
    memcpy(rgb, w->thumb, (size_t)side * (size_t)side * 3);
    pthread_mutex_unlock(&w->frame_mu);
    int rc = jpeg_encode(rgb, side, jpeg, len);
    free(rgb);
    return rc;
}

static const char *level_name(enum log_level level)
{
    switch (level) {
    case LOG_ERR:
        return "err";
    case LOG_WARNING:
        return "warning";
    case LOG_NOTICE:
        return "notice";
    case LOG_INFO:
        break;
    }
    return "info";
}

void web_log_json(struct text *t, uint64_t after, uint64_t *last)
{
    static _Thread_local struct log_entry lines[LOG_RECENT];
    size_t n = log_recent(after, lines, LOG_RECENT);
    text_add(t, "[");
    for (size_t i = 0; i < n; i++) {
        text_add(t, "%s{\"seq\":%llu,\"time\":%.3f,\"level\":\"%s\",\"text\":", i ? "," : "",
                 (unsigned long long)lines[i].seq, lines[i].wall_s, level_name(lines[i].level));
        text_add_json_string(t, lines[i].text);
        text_add(t, "}");
    }
    text_add(t, "]");
    if (last)
        *last = n ? lines[n - 1].seq : after;
}

/* ---- the page's files ---------------------------------------------------------------- */

const struct web_file *web_file_find(const char *name)
{
    for (const struct web_file *f = web_files_embedded; f->name; f++)
        if (strcmp(f->name, name) == 0)
            return f;
    return NULL;
}

const char *web_file_type(const char *name)
{
    const char *dot = strrchr(name, '.');
    if (dot && strcmp(dot, ".js") == 0)
        return "text/javascript; charset=utf-8";
    if (dot && strcmp(dot, ".css") == 0)
        return "text/css; charset=utf-8";
    return "text/html; charset=utf-8";
}

/* web_internal.h — the parts of the web page in their own files: the state the loop's
 * thread posts into and the server's threads read (web_state.c: stats line, thumbnail and
 * its JPEG), the live pages' event streams (web_events.c) and the embedded page files
 * (generated from web/ by cmake/embed_web.cmake). */
#ifndef MNEMO_WEB_INTERNAL_H
#define MNEMO_WEB_INTERNAL_H

#include "web.h"

#include <microhttpd.h>
#include <pthread.h>
#include <stdatomic.h>

#define WEB_STATUS_MAX 4096

struct web {
    struct control *ctl;
    struct MHD_Daemon *daemon;
    int port;
    char token[PARAM_STRING_MAX];
    atomic_bool quit;
    atomic_bool starting;  /* MHD_start_daemon runs: its messages go into start_error */
    char start_error[256]; /* what libmicrohttpd said when it could not start */
    atomic_int streams;    /* live pages connected */

    /* posted by the loop's thread under try-locks; copied out by the server's */
    pthread_mutex_t status_mu;
    char status[WEB_STATUS_MAX];
    atomic_uint_fast64_t status_seq; /* lines posted (0: none yet) */
    pthread_mutex_t frame_mu;
    unsigned char thumb[WEB_THUMB_MAX * WEB_THUMB_MAX * 3];
    int thumb_side;
    atomic_uint_fast64_t frame_seq; /* thumbnails posted (0: none yet) */
};

struct web *web_state_new(struct control *ctl, const char *token);
void web_state_free(struct web *w);
/* The newest stats line appended to t; false when none came yet. */
bool web_status_copy(struct web *w, struct text *t);
/* The newest thumbnail as a JPEG (malloc'd); -1 when none came yet or encoding failed. */
int web_frame_jpeg(struct web *w, unsigned char **jpeg, size_t *len);
/* The kept log lines after `after` as a JSON array; *last (may be NULL) gets the newest
 * line's number (or `after` when none is newer). */
void web_log_json(struct text *t, uint64_t after, uint64_t *last);

/* GET /api/events: a text/event-stream that stays open (WEB_EVENT_STREAMS at most). */
enum MHD_Result web_events_start(struct web *w, struct MHD_Connection *c);

struct web_file {
    const char *name; /* "index.html", "app.js", "style.css" */
    const char *text;
};
extern const struct web_file web_files_embedded[]; /* ends with {0, 0} */
const struct web_file *web_file_find(const char *name);
const char *web_file_type(const char *name);

#endif

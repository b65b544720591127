/* web.h — the control and status page over HTTP (web.enabled): the piece's parameters as
 * controls generated from the registry, presets, reseed, a live thumbnail, the --stats
 * figures and the newest log lines, pushed to every open page (Server-Sent Events); and the
 * JSON API behind it for a gallery's own monitoring (README: "The web page").
 *
 * It is one more source of the control (control.h): every change goes through the same
 * validation and mailbox as OSC (control_set_from with source "web"), so a bad value gets
 * the registry's message and changes nothing. libmicrohttpd serves it on threads of its
 * own, one per connection, never on the loop's or the presenter's; the loop's thread only
 * copies into it (web_post_status, web_post_frame: try-locks, never waits), and a slow or
 * hostile client meets connection, time and body limits, so it cannot stall the piece.
 *
 * Bound beyond loopback only with web.token; every request then carries it (the query's
 * ?token=, an "Authorization: Bearer" header or the mnemo_token cookie), or gets 401. The
 * token is never logged, and listings show it as "(set)". */
#ifndef MNEMO_WEB_H
#define MNEMO_WEB_H

#include "error.h"
#include "params.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Limits against clients that hold on or flood (per piece, not per client: a kiosk has
 * few legitimate viewers). */
#define WEB_CONNECTIONS     64   /* at once; more are closed at accept */
#define WEB_EVENT_STREAMS   16   /* live pages at once (each holds a connection) */
#define WEB_TIMEOUT_S       10   /* a connection idle this long is closed */
#define WEB_BODY_MAX        4096 /* bytes of a request body */
#define WEB_THUMB_MAX       256  /* the thumbnail's side at most, in pixels */
#define WEB_EVENT_PERIOD_MS 200  /* how often a live page is told what changed */

struct control;
struct web;

/* Serves p->web.address:p->web.port for ctl. NULL with err when the address is not a
 * numeric one, is beyond loopback without a token, or cannot be bound. */
struct web *web_open(struct control *ctl, const struct params *p, struct error *err);
/* Closes every connection (live pages end within WEB_EVENT_PERIOD_MS) and frees. NULL ok. */
void web_close(struct web *w);
/* The bound TCP port (web.port, or the one chosen for 0). */
int web_port(const struct web *w);

/* The newest --stats line (one JSON object) for GET /api/stats and live pages. Never waits:
 * when a reader holds the copy this instant, this line is skipped. */
void web_post_status(struct web *w, const char *json);
/* The newest portrait (3 x size x size planar, [-1,1]), kept as an RGB thumbnail of at most
 * WEB_THUMB_MAX for GET /api/frame.jpg. Never waits, never allocates. */
void web_post_frame(struct web *w, const float *portrait, int32_t size);

/* ---- JSON pieces (web_json.c), shared with the tests ---- */

/* A growing text buffer; on allocation failure it stays as it was and `failed` is set. */
struct text {
    char *data;
    size_t len, cap;
    bool failed;
};
void text_add(struct text *t, const char *fmt, ...) MNEMO_PRINTF(2, 3);
/* s as a JSON string, quotes included. */
void text_add_json_string(struct text *t, const char *s);
void text_free(struct text *t);

/* The value of a request body for POST /api/params/NAME: {"value": V} with V a JSON string,
 * number, true or false, or the bare body text itself. Into buf; -1 with err (what is
 * wrong with the JSON) otherwise. */
int web_body_value(const char *body, size_t len, char *buf, size_t size, struct error *err);

/* The value of def in p as JSON: a number, true/false or a string (secrets "(set)"). */
void web_value_json(struct text *t, const struct params *p, const struct param_def *def);
/* Every parameter as the page and the API describe it: name, group, type, value (secrets
 * as "(set)"), range or choices, doc, and whether the web may change it. */
void web_params_json(struct text *t, const struct params *p);
/* {"NAME": value, ...} of the parameters whose values differ between a and b (all when a is
 * NULL); returns how many. */
size_t web_params_changed_json(struct text *t, const struct params *a, const struct params *b);

#endif

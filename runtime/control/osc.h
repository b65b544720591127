/* osc.h — the OSC endpoint of the control: liblo's message format over our own UDP socket,
 * bound to osc.address:osc.port (our own socket so that the bind address, the packet size
 * limit and every malformed packet are ours to decide and to log). It decodes datagrams
 * into requests and sends the replies it is handed; it never applies a request itself
 * (control.c does: control_osc_request), and knows nothing of the control.
 *
 *   /mnemo/<param> value   sets a live parameter (int, float, string or T/F arguments,
 *                          converted by the parameter's type and validated like config);
 *                          setup parameters are refused (params.h: param_check_remote)
 *   /mnemo/get <param>     replies /mnemo/value <param> <value> to the sender
 *   /mnemo/list [index]    replies one page /mnemo/list <next> <name>... to the sender: the
 *                          names from `index` (0 when left out) that fit the reply's bound;
 *                          ask again with <next>, until it is -1
 *   /mnemo/preset <name>   loads presets/<name>.cfg
 *   /mnemo/reseed          a fresh seed sketch
 *
 * A reply is never more than OSC_REPLY_FACTOR times the bytes of the request it answers:
 * UDP senders can be forged, and a port open beyond loopback must not turn a small packet
 * into a big one sent to someone else. A client that wants longer pages (or the value of a
 * long string, such as midi.map) sends longer requests: any arguments after the ones above
 * are padding, read and ignored. A reply over the bound is not sent, and logged.
 *
 * Anything else (unknown path, wrong type or count, bundles, packets over OSC_PACKET_MAX)
 * is an OSC_IGNORED request: its log line, nothing to apply. */
#ifndef MNEMO_OSC_H
#define MNEMO_OSC_H

#include "error.h"
#include "params.h"

#include <lo/lo.h>
#include <sys/socket.h>

#define OSC_PACKET_MAX   8192
#define OSC_PREFIX       "/mnemo/"
#define OSC_NAME_MAX     128 /* a preset name or a parameter name, as the control keeps it */
#define OSC_REPLY_FACTOR 4   /* a reply's bytes at most this many times its request's */

enum osc_kind { OSC_SET, OSC_GET, OSC_LIST, OSC_PRESET, OSC_RESEED, OSC_IGNORED };

/* One decoded datagram. */
struct osc_request {
    enum osc_kind kind;
    const struct param_def *def;  /* OSC_SET, OSC_GET */
    int32_t start;                /* OSC_LIST: the index of the page's first name */
    size_t bytes;                 /* of the datagram: what bounds a reply to it */
    char value[PARAM_TEXT_MAX];   /* OSC_SET: the argument as param_set text */
    char name[OSC_NAME_MAX];      /* OSC_PRESET: the preset */
    char why[ERROR_MSG_MAX];      /* OSC_IGNORED: the whole log line */
    char who[64];                 /* "127.0.0.1:5000", for log lines */
    struct sockaddr_storage from; /* where replies go */
    socklen_t from_len;
};

struct osc;
struct osc *osc_open(const char *address, int port, struct error *err);
void osc_close(struct osc *o);
int osc_fd(const struct osc *o);
int osc_port(const struct osc *o);
/* The next datagram waiting on the socket, decoded into *rq; false when none waits. */
bool osc_receive(struct osc *o, struct osc_request *rq);
/* One received packet of n bytes from `from` into *rq: what osc_receive does with each
 * datagram, callable without one (tests, the fuzzer in tools/fuzz/). n may exceed
 * OSC_PACKET_MAX (a truncated datagram's real size): then data is not read. */
void osc_decode(const void *data, size_t n, const struct sockaddr *from, socklen_t from_len,
                struct osc_request *rq);

/* The replies to rq's sender: /mnemo/value <rq->def's name> <its value in p>, and one page
 * of /mnemo/list <next index, or -1 after the last> <parameter name>..., each at most
 * OSC_REPLY_FACTOR x rq->bytes. A reply that cannot be sent, or would be over that bound,
 * is logged. */
void osc_reply_value(struct osc *o, const struct osc_request *rq, const struct params *p);
void osc_reply_list(struct osc *o, const struct osc_request *rq);

/* One OSC argument of type `type` as text for param_set of def: ints and floats for numbers
 * (a float for an int parameter only when whole), T/F or numbers (0 = false) for bools,
 * strings for anything, an int index for enums. */
int osc_value_text(const struct param_def *def, char type, const lo_arg *arg, char *buf,
                   size_t size, struct error *err);
/* Appends p's value of def to m in its natural OSC type (i, f, s; bools as i 0/1). */
int osc_value_append(lo_message m, const struct params *p, const struct param_def *def);

#endif

/* osc.h — the OSC endpoint of the control (liblo's message format over our own UDP socket,
 * bound to osc.address:osc.port; our own socket so that the bind address, the packet size
 * limit and every malformed packet are ours to decide and to log).
 *
 *   /mnemo/<param> value   sets a live parameter (int, float, string or T/F arguments,
 *                          converted by the parameter's type and validated like config)
 *   /mnemo/get <param>     replies /mnemo/value <param> <value> to the sender
 *   /mnemo/list            replies /mnemo/list <name>... to the sender
 *   /mnemo/preset <name>   loads presets/<name>.cfg
 *   /mnemo/reseed          a fresh seed sketch
 *
 * Anything else (unknown path, wrong type or count, bundles, packets over OSC_PACKET_MAX)
 * is logged and ignored. */
#ifndef MNEMO_OSC_H
#define MNEMO_OSC_H

#include "control.h"

#include <lo/lo.h>
#include <sys/socket.h>

#define OSC_PACKET_MAX 8192

struct osc;
struct osc *osc_open(const char *address, int port, struct error *err);
void osc_close(struct osc *o);
int osc_fd(const struct osc *o);
int osc_port(const struct osc *o);
/* Handles every packet waiting on the socket. */
void osc_receive(struct osc *o, struct control *ctl);
/* Handles one received packet of n bytes from `from` (where replies go): what osc_receive
 * does with each datagram, callable without one (the fuzzer, tools/fuzz/). n may exceed
 * OSC_PACKET_MAX (a truncated datagram's real size): then data is not read. */
void osc_handle_packet(struct osc *o, struct control *ctl, const void *data, size_t n,
                       const struct sockaddr *from, socklen_t from_len);

/* One OSC argument of type `type` as text for param_set of def: ints and floats for numbers
 * (a float for an int parameter only when whole), T/F or numbers (0 = false) for bools,
 * strings for anything, an int index for enums. */
int osc_value_text(const struct param_def *def, char type, const lo_arg *arg, char *buf,
                   size_t size, struct error *err);
/* Appends p's value of def to m in its natural OSC type (i, f, s; bools as i 0/1). */
int osc_value_append(lo_message m, const struct params *p, const struct param_def *def);

#endif

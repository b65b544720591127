/* fuzz_osc.c — the OSC endpoint on arbitrary packets: liblo's deserialiser and mnemo's
 * decoding into a request (osc_decode, what osc_receive does with each datagram), then
 * the request (/mnemo/<param>, get, list, preset, reseed) applied to a live control
 * (control_osc_request), exactly as the control's thread does.
 *
 * The control is a real one (control_open, its thread serving preset requests) with OSC
 * off: the target feeds packets itself. Replies (/mnemo/get, /mnemo/list) go over UDP on
 * 127.0.0.1 to a socket of the target's own, which reads them back: each must be a
 * well-formed OSC message. After every packet, every parameter the control now wants must
 * format back to text that sets the same value (a packet can never leave the piece with a
 * value the registry would refuse). */
#include "fuzz.h"
#include "fuzz_control.h"

#include "config.h"
#include "control.h"
#include "osc.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static struct control *ctl;
static struct osc *osc;
static int sink = -1; /* where replies go */
static struct sockaddr_in sink_addr;
static char presets_dir[] = "/tmp/mnemo-fuzz-osc-XXXXXX";
static char preset_path[sizeof presets_dir + 16];

static void cleanup(void)
{
    control_close(ctl);
    osc_close(osc);
    if (sink >= 0)
        close(sink);
    unlink(preset_path);
    rmdir(presets_dir);
}

static void sink_open(void)
{
    sink = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    sink_addr = (struct sockaddr_in){.sin_family = AF_INET};
    inet_pton(AF_INET, "127.0.0.1", &sink_addr.sin_addr);
    socklen_t len = sizeof sink_addr;
    FUZZ_CHECK(sink >= 0 && bind(sink, (struct sockaddr *)&sink_addr, sizeof sink_addr) == 0 &&
                   getsockname(sink, (struct sockaddr *)&sink_addr, &len) == 0,
               "cannot open the reply socket");
}

/* A presets folder with one preset ("calm"), so /mnemo/preset can also succeed. */
static void presets_make(struct params *p)
{
    FUZZ_CHECK(mkdtemp(presets_dir) != NULL, "mkdtemp");
    snprintf(preset_path, sizeof preset_path, "%s/calm.cfg", presets_dir);
    FILE *f = fopen(preset_path, "w");
    FUZZ_CHECK(f != NULL, "cannot write %s", preset_path);
    fputs("perturb = { noise = 0.05; };\nloop = { blend = 0.5; };\n", f);
    fclose(f);
    snprintf(p->control.presets, sizeof p->control.presets, "%s", presets_dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    static struct params start;
    params_defaults(&start);
    start.osc.enabled = false;
    start.midi.enabled = false;
    presets_make(&start);
    struct error err;
    const struct control_options opts = {0};
    ctl = control_open(&opts, &start, &err);
    FUZZ_CHECK(ctl != NULL, "control_open: %s", err.msg);
    osc = osc_open("127.0.0.1", 0, &err);
    FUZZ_CHECK(osc != NULL, "osc_open: %s", err.msg);
    sink_open();
    atexit(cleanup);
    return 0;
}

/* Every reply waiting on the sink parses as an OSC message. */
static void replies_check(void)
{
    static unsigned char buf[65536];
    for (;;) {
        ssize_t n = recv(sink, buf, sizeof buf, 0);
        if (n < 0)
            return;
        int result = 0;
        lo_message m = lo_message_deserialise(buf, (size_t)n, &result);
        FUZZ_CHECK(m != NULL, "a reply of %zd bytes is not an OSC message (%d)", n, result);
        lo_message_free(m);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct osc_request rq;
    osc_decode(data, size, (const struct sockaddr *)&sink_addr, sizeof sink_addr, &rq);
    control_osc_request(ctl, osc, &rq);
    replies_check();
    fuzz_control_wanted_check(ctl);
    return 0;
}

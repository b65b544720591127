/* control_midi.c — MIDI input from the ALSA sequencer (control_internal.h).
 *
 * mnemo opens one input port ("mnemo:control"), connects every readable port there is, and
 * listens to the system announce port so that a controller plugged in later is connected
 * as it appears. No sequencer (no /dev/snd, a container, no ALSA in the build) is a normal
 * setup: midi_in_open says why and the control carries on without MIDI. */
#include "control_internal.h"
#include "log.h"

#include <stdlib.h>

#ifdef MNEMO_HAVE_ALSA
#include <alsa/asoundlib.h>

struct midi_in {
    snd_seq_t *seq;
    int port, client;
};

/* alsa-lib prints its own errors to stderr; ours say it once, with what it means. */
static void alsa_quiet(const char *file, int line, const char *function, int err, const char *fmt,
                       ...)
{
}

static void connect_from(struct midi_in *m, int client, int port, unsigned caps)
{
    unsigned want = SND_SEQ_PORT_CAP_READ | SND_SEQ_PORT_CAP_SUBS_READ;
    if (client == m->client || client == SND_SEQ_CLIENT_SYSTEM || (caps & want) != want)
        return;
    if (snd_seq_connect_from(m->seq, m->port, client, port) == 0)
        log_line(LOG_NOTICE, "live: midi: listening to %d:%d", client, port);
}

static void connect_all(struct midi_in *m)
{
    /* The _malloc forms: alloca is not declared in strict C11. */
    snd_seq_client_info_t *ci = NULL;
    snd_seq_port_info_t *pi = NULL;
    if (snd_seq_client_info_malloc(&ci) < 0 || snd_seq_port_info_malloc(&pi) < 0) {
        snd_seq_client_info_free(ci);
        return;
    }
    snd_seq_client_info_set_client(ci, -1);
    while (snd_seq_query_next_client(m->seq, ci) >= 0) {
        int client = snd_seq_client_info_get_client(ci);
        snd_seq_port_info_set_client(pi, client);
        snd_seq_port_info_set_port(pi, -1);
        while (snd_seq_query_next_port(m->seq, pi) >= 0)
            connect_from(m, client, snd_seq_port_info_get_port(pi),
                         snd_seq_port_info_get_capability(pi));
    }
    snd_seq_port_info_free(pi);
    snd_seq_client_info_free(ci);
}

struct midi_in *midi_in_open(struct error *err)
{
    snd_lib_error_set_handler(alsa_quiet);
    struct midi_in *m = calloc(1, sizeof *m);
    if (!m) {
        error_set(err, "out of memory");
        return NULL;
    }
    int rc = snd_seq_open(&m->seq, "default", SND_SEQ_OPEN_INPUT, SND_SEQ_NONBLOCK);
    if (rc < 0) {
        error_set(err, "no ALSA sequencer (%s)", snd_strerror(rc));
        free(m);
        return NULL;
    }
    snd_seq_set_client_name(m->seq, "mnemo");
    m->client = snd_seq_client_id(m->seq);
    m->port = snd_seq_create_simple_port(
        m->seq, "control", SND_SEQ_PORT_CAP_WRITE | SND_SEQ_PORT_CAP_SUBS_WRITE,
        SND_SEQ_PORT_TYPE_MIDI_GENERIC | SND_SEQ_PORT_TYPE_APPLICATION);
    if (m->port < 0) {
        error_set(err, "cannot create an ALSA sequencer port (%s)", snd_strerror(m->port));
        midi_in_close(m);
        return NULL;
    }
    snd_seq_connect_from(m->seq, m->port, SND_SEQ_CLIENT_SYSTEM, SND_SEQ_PORT_SYSTEM_ANNOUNCE);
    connect_all(m);
    log_line(LOG_NOTICE, "live: midi: sequencer port %d:%d open", m->client, m->port);
    return m;
}

void midi_in_close(struct midi_in *m)
{
    if (!m)
        return;
    snd_seq_close(m->seq);
    free(m);
}

int midi_in_pollfds(struct midi_in *m, struct pollfd *fds, int max)
{
    int n = snd_seq_poll_descriptors_count(m->seq, POLLIN);
    return snd_seq_poll_descriptors(m->seq, fds, (unsigned)(n < max ? n : max), POLLIN);
}

/* A new port somewhere: connect it when it is readable (a controller plugged in). */
static void port_started(struct midi_in *m, const snd_seq_addr_t *addr)
{
    snd_seq_port_info_t *pi = NULL;
    if (snd_seq_port_info_malloc(&pi) < 0)
        return;
    if (snd_seq_get_any_port_info(m->seq, addr->client, addr->port, pi) == 0)
        connect_from(m, addr->client, addr->port, snd_seq_port_info_get_capability(pi));
    snd_seq_port_info_free(pi);
}

int midi_in_read(struct midi_in *m, struct midi_cc *out, int max)
{
    int n = 0;
    snd_seq_event_t *ev;
    while (n < max && snd_seq_event_input(m->seq, &ev) >= 0) {
        if (ev->type == SND_SEQ_EVENT_CONTROLLER)
            out[n++] = (struct midi_cc){.channel = ev->data.control.channel + 1,
                                        .cc = (int)ev->data.control.param,
                                        .value = ev->data.control.value};
        else if (ev->type == SND_SEQ_EVENT_PORT_START)
            port_started(m, &ev->data.addr);
    }
    return n;
}

#else

struct midi_in {
    int unused;
};

struct midi_in *midi_in_open(struct error *err)
{
    error_set(err, "this build has no ALSA (install libasound2-dev and rebuild)");
    return NULL;
}

void midi_in_close(struct midi_in *m)
{
    free(m);
}

int midi_in_pollfds(struct midi_in *m, struct pollfd *fds, int max)
{
    return 0;
}

int midi_in_read(struct midi_in *m, struct midi_cc *out, int max)
{
    return 0;
}

#endif

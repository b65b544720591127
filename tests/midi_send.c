/* midi_send — sends one MIDI control change to mnemo's sequencer port, for cli_midi.sh:
 *
 *   midi_send --probe          exit 0 when an ALSA sequencer opens, else print why, exit 77
 *   midi_send CC VALUE         CC on channel 1 to the client named "mnemo" */
#include <alsa/asoundlib.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void quiet(const char *file, int line, const char *function, int err, const char *fmt, ...)
{
}

/* The client id of "mnemo", or -1. */
static int find_mnemo(snd_seq_t *seq)
{
    snd_seq_client_info_t *ci;
    if (snd_seq_client_info_malloc(&ci) < 0)
        return -1;
    snd_seq_client_info_set_client(ci, -1);
    int found = -1;
    while (found < 0 && snd_seq_query_next_client(seq, ci) >= 0)
        if (strcmp(snd_seq_client_info_get_name(ci), "mnemo") == 0)
            found = snd_seq_client_info_get_client(ci);
    snd_seq_client_info_free(ci);
    return found;
}

int main(int argc, char **argv)
{
    snd_lib_error_set_handler(quiet);
    snd_seq_t *seq;
    int rc = snd_seq_open(&seq, "default", SND_SEQ_OPEN_DUPLEX, 0);
    if (rc < 0) {
        printf("skip: no ALSA sequencer here (%s)\n", snd_strerror(rc));
        return 77;
    }
    if (argc == 2 && strcmp(argv[1], "--probe") == 0)
        return 0;
    if (argc != 3)
        return 2;
    int port = snd_seq_create_simple_port(seq, "test", SND_SEQ_PORT_CAP_READ,
                                          SND_SEQ_PORT_TYPE_MIDI_GENERIC);
    int client = find_mnemo(seq);
    if (port < 0 || client < 0 || snd_seq_connect_to(seq, port, client, 0) < 0) {
        fprintf(stderr, "midi_send: no mnemo client to send to\n");
        return 1;
    }
    snd_seq_event_t ev;
    snd_seq_ev_clear(&ev);
    snd_seq_ev_set_source(&ev, port);
    snd_seq_ev_set_subs(&ev);
    snd_seq_ev_set_direct(&ev);
    snd_seq_ev_set_controller(&ev, 0, atoi(argv[1]), atoi(argv[2]));
    snd_seq_event_output_direct(seq, &ev);
    snd_seq_close(seq);
    return 0;
}

/* control_internal.h — the control's sources that live in their own files: the config
 * watcher (control_watch.c) and the MIDI input (control_midi.c); the OSC endpoint has
 * osc.h. All run on the control's thread; they report what they read and never call
 * into control.c (it applies what they return). */
#ifndef MNEMO_CONTROL_INTERNAL_H
#define MNEMO_CONTROL_INTERNAL_H

#include "error.h"
#include "midi_map.h"

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>

/* ---- config watcher (control_watch.c): inotify on the directories of the config file and
 * its includes ---- */
#define WATCH_DIRS  16
#define WATCH_FILES 32

struct watch {
    int fd;
    size_t dir_count, file_count;
    struct {
        int wd;
        char path[4096];
    } dirs[WATCH_DIRS];
    struct {
        size_t dir;
        char name[256];
    } files[WATCH_FILES];
    bool broken; /* the last load failed: any *.cfg saved beside it may fix it */
};

int watch_open(struct watch *w, struct error *err);
void watch_close(struct watch *w);
/* Forgets the file list (the directories stay watched); then watch_add each file. */
void watch_reset_files(struct watch *w);
void watch_add(const char *path, void *watch);
/* Reads pending events; true when one concerns a watched file. Waits a little for the
 * rest of an editor's save sequence, so one save is one reload. */
bool watch_changed(struct watch *w);

/* ---- MIDI input (control_midi.c): ALSA sequencer, or nothing ---- */
struct midi_in;
struct midi_in *midi_in_open(struct error *err);
void midi_in_close(struct midi_in *m);
/* Poll descriptors, at most max; returns how many. */
int midi_in_pollfds(struct midi_in *m, struct pollfd *fds, int max);
/* Decoded control changes waiting, at most max; connects new controllers as they appear. */
int midi_in_read(struct midi_in *m, struct midi_cc *out, int max);

#endif

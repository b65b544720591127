/* exit.h — every exit code of the mnemo process, in one place (scripts and supervisors
 * rely on them: README "Running a show"). */
#ifndef MNEMO_EXIT_H
#define MNEMO_EXIT_H

enum mnemo_exit {
    MNEMO_EXIT_OK = 0,
    MNEMO_EXIT_FAILED = 1, /* the work failed; the message says why */
    MNEMO_EXIT_USAGE = 2,  /* the command line (or the config it names) was wrong */
    /* EX_IOERR: a recording could not be written (a full disk). Not restarted by
     * --supervise: a restart would record over what was saved. */
    MNEMO_EXIT_OUTPUT_FAILED = 74,
    /* EX_TEMPFAIL: the device hit a sticky error (backend.h, device_lost): nothing in this
     * process can use it again; a restart is expected to work. */
    MNEMO_EXIT_DEVICE_LOST = 75,
    /* EX_PROTOCOL: the X server went away under the presenter (output/present_xlost.c);
     * the state was saved. A restart waits for the display to come back. */
    MNEMO_EXIT_DISPLAY_LOST = 76,
};

#endif

/* supervise.c — `mnemo run --supervise ...`: the piece as a child process, restarted when
 * it dies or hangs, for machines without systemd (and for trying a show on a laptop).
 *
 * The child is this same binary with the same arguments, minus the supervisor's own. It
 * talks to us as it would to systemd (kiosk.h): $NOTIFY_SOCKET names an abstract socket
 * of ours, $WATCHDOG_USEC the ping interval. We restart it when it exits with anything
 * but 0 (done), 2 (a bad command line, which a restart cannot fix) or 74 (a recording
 * that could not be written: a restart would record over it), when it stops
 * pinging after READY, or when it is not READY within the start limit. A child we killed
 * is always restarted, whatever its exit: a stalled piece that recovers in time to handle
 * our SIGTERM exits 0, and that 0 means "stopped as asked", not "done". Restarts back
 * off (0.5 s doubling to 30 s) while the child keeps dying young, and start at 0.5 s
 * again once it has run for a minute. SIGTERM/SIGINT stop the child and us; SIGHUP is
 * passed on. Messages from any process but the child are ignored (as NotifyAccess=main).
 * When we ourselves run under systemd, READY, STATUS and the child's pings are relayed. */
#define _GNU_SOURCE /* struct ucred, SO_PASSCRED: who sent a notify message */
#include "clock.h"
#include "exit.h"
#include "kiosk.h"
#include "log.h"
#include "signals.h"
#include "supervise.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define BACKOFF_MIN_S      0.5
#define BACKOFF_MAX_S      30.0
#define HEALTHY_AFTER_S    60.0 /* a child that ran this long resets the backoff */
#define STOP_GRACE_S       5.0  /* SIGTERM to SIGKILL */
#define START_LIMIT_S      120.0
#define WATCHDOG_DEFAULT_S 20.0

struct supervisor {
    int sock;
    char name[64]; /* abstract socket name, without the leading NUL */
    double watchdog_s;
    char **child_argv;
};

struct child {
    pid_t pid;
    double started_s, last_ping_s;
    bool ready;
    const char *killed_for; /* why we ended it (the watchdog, the start limit); NULL: it ended */
};

static volatile sig_atomic_t sup_stop, sup_hup;

static void on_sup_stop(int sig)
{
    (void)sig;
    sup_stop = 1;
}

static void on_sup_hup(int sig)
{
    (void)sig;
    sup_hup = 1;
}

/* ---- the notify socket ------------------------------------------------------------- */

static int socket_bind(struct supervisor *S)
{
    snprintf(S->name, sizeof S->name, "mnemo-supervise-%ld", (long)getpid());
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    size_t len = strlen(S->name);
    memcpy(addr.sun_path + 1, S->name, len);
    S->sock = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    int on = 1;
    if (S->sock < 0 || setsockopt(S->sock, SOL_SOCKET, SO_PASSCRED, &on, sizeof on) ||
        bind(S->sock, (struct sockaddr *)&addr,
             (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + len))) {
        log_line(LOG_ERR, "supervise: cannot open the notify socket (%s)", strerror(errno));
        return -1;
    }
    return 0;
}

/* One datagram into buf; its sender's pid into *pid (0 when unknown). Length or -1. */
static ssize_t datagram_read(int sock, char *buf, size_t size, pid_t *pid)
{
    union {
        char buf[CMSG_SPACE(sizeof(struct ucred))];
        struct cmsghdr align;
    } control;
    struct iovec iov = {.iov_base = buf, .iov_len = size - 1};
    struct msghdr msg = {.msg_iov = &iov,
                         .msg_iovlen = 1,
                         .msg_control = control.buf,
                         .msg_controllen = sizeof control.buf};
    ssize_t n = recvmsg(sock, &msg, MSG_DONTWAIT);
    if (n < 0)
        return -1;
    buf[n] = '\0';
    *pid = 0;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c))
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS) {
            struct ucred cred;
            memcpy(&cred, CMSG_DATA(c), sizeof cred);
            *pid = cred.pid;
        }
    return n;
}

/* "READY=1\nSTATUS=...\nWATCHDOG=1": what the child says, relayed upward. */
static void message_take(struct child *c, char *text)
{
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        if (strcmp(line, "READY=1") == 0 && !c->ready) {
            c->ready = true;
            log_line(LOG_NOTICE, "supervise: the piece is running (pid %ld)", (long)c->pid);
        }
        if (strcmp(line, "READY=1") == 0 || strcmp(line, "WATCHDOG=1") == 0)
            c->last_ping_s = clock_now();
        if (strcmp(line, "READY=1") == 0 || strcmp(line, "WATCHDOG=1") == 0 ||
            strncmp(line, "STATUS=", 7) == 0)
            kiosk_notify(line);
    }
}

static void messages_read(struct supervisor *S, struct child *c)
{
    char buf[4096];
    pid_t from;
    while (datagram_read(S->sock, buf, sizeof buf, &from) >= 0)
        if (from == c->pid)
            message_take(c, buf);
}

/* ---- the child --------------------------------------------------------------------- */

static pid_t child_spawn(const struct supervisor *S)
{
    pid_t pid = fork();
    if (pid != 0)
        return pid;
    /* the child: our signal handlers and mask are not its */
    signal(SIGTERM, SIG_DFL);
    signal(SIGINT, SIG_DFL);
    signal(SIGHUP, SIG_DFL);
    char value[64];
    snprintf(value, sizeof value, "@%s", S->name);
    setenv("NOTIFY_SOCKET", value, 1);
    snprintf(value, sizeof value, "%lld", (long long)(S->watchdog_s * 1e6));
    setenv("WATCHDOG_USEC", value, 1);
    snprintf(value, sizeof value, "%ld", (long)getpid());
    setenv("WATCHDOG_PID", value, 1);
    execv("/proc/self/exe", S->child_argv);
    fprintf(stderr, "mnemo: supervise: cannot start %s (%s)\n", "/proc/self/exe", strerror(errno));
    _exit(127);
}

/* Why the child has to go, or NULL while it is fine. */
static const char *child_verdict(const struct supervisor *S, const struct child *c, double now)
{
    if (c->ready && now - c->last_ping_s > S->watchdog_s)
        return "no watchdog ping";
    if (!c->ready && now - c->started_s > START_LIMIT_S)
        return "not ready within the start limit";
    return NULL;
}

/* SIGTERM, then SIGKILL after the grace time; reaps it. The wait status. */
static int child_end(struct child *c, int sig)
{
    kill(c->pid, sig);
    int status = 0;
    for (double until = clock_now() + STOP_GRACE_S; waitpid(c->pid, &status, WNOHANG) == 0;) {
        if (clock_now() > until) {
            kill(c->pid, SIGKILL);
            waitpid(c->pid, &status, 0);
            break;
        }
        poll(NULL, 0, 20);
    }
    return status;
}

/* Runs the child until it exits or has to go. Its wait status; -1 when we were stopped. */
static int child_watch(struct supervisor *S, struct child *c)
{
    for (;;) {
        struct pollfd pfd = {.fd = S->sock, .events = POLLIN};
        poll(&pfd, 1, 100);
        messages_read(S, c);
        int status;
        if (waitpid(c->pid, &status, WNOHANG) == c->pid)
            return status;
        if (sup_stop) {
            child_end(c, SIGTERM);
            return -1;
        }
        if (sup_hup) {
            sup_hup = 0;
            kill(c->pid, SIGHUP);
        }
        const char *why = child_verdict(S, c, clock_now());
        if (why) {
            /* SIGTERM first: a piece that can still stop saves its state on the way out */
            log_line(LOG_ERR,
                     "supervise: %s for %.1f s from pid %ld: killing it (SIGTERM, SIGKILL "
                     "after %.0f s)",
                     why, clock_now() - (c->ready ? c->last_ping_s : c->started_s), (long)c->pid,
                     STOP_GRACE_S);
            c->killed_for = why;
            return child_end(c, SIGTERM);
        }
    }
}

static void status_describe(const struct child *c, int status, char *buf, size_t size)
{
    int used = c->killed_for ? snprintf(buf, size, "was killed (%s), then ", c->killed_for) : 0;
    buf += used;
    size -= (size_t)used;
    if (WIFSIGNALED(status))
        snprintf(buf, size, "killed by signal %d (%s)", WTERMSIG(status),
                 strsignal(WTERMSIG(status)));
    else if (WEXITSTATUS(status) == MNEMO_EXIT_DEVICE_LOST)
        snprintf(buf, size, "exited with %d (GPU lost)", WEXITSTATUS(status));
    else if (WEXITSTATUS(status) == MNEMO_EXIT_DISPLAY_LOST)
        snprintf(buf, size, "exited with %d (display lost)", WEXITSTATUS(status));
    else
        snprintf(buf, size, "exited with %d", WEXITSTATUS(status));
}

/* Sleeps the backoff unless stopped; false when stopped. */
static bool backoff_sleep(double s)
{
    for (double until = clock_now() + s; clock_now() < until;) {
        if (sup_stop)
            return false;
        poll(NULL, 0, 20);
    }
    return !sup_stop;
}

static bool exit_is_final(int status)
{
    int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    if (code == MNEMO_EXIT_OUTPUT_FAILED)
        log_line(LOG_ERR, "supervise: the recording could not be written; not restarting "
                          "(a restart would record over it)");
    return code == MNEMO_EXIT_OK || code == MNEMO_EXIT_USAGE || code == MNEMO_EXIT_OUTPUT_FAILED;
}

static int supervise_loop(struct supervisor *S)
{
    double backoff = BACKOFF_MIN_S;
    for (unsigned starts = 1;; starts++) {
        struct child c = {.started_s = clock_now()};
        c.last_ping_s = c.started_s;
        if ((c.pid = child_spawn(S)) < 0) {
            log_line(LOG_ERR, "supervise: fork failed (%s)", strerror(errno));
            return MNEMO_EXIT_FAILED;
        }
        int status = child_watch(S, &c);
        if (status < 0)
            return MNEMO_EXIT_OK; /* stopped by SIGTERM/SIGINT */
        if (!c.killed_for && exit_is_final(status))
            return WEXITSTATUS(status);
        double ran = clock_now() - c.started_s;
        backoff = ran >= HEALTHY_AFTER_S ? BACKOFF_MIN_S : backoff;
        char why[128];
        status_describe(&c, status, why, sizeof why);
        log_line(LOG_WARNING, "supervise: the piece %s after %.1f s; restart %u in %.1f s", why,
                 ran, starts, backoff);
        if (!backoff_sleep(backoff))
            return MNEMO_EXIT_OK;
        backoff = backoff * 2 > BACKOFF_MAX_S ? BACKOFF_MAX_S : backoff * 2;
    }
}

/* The child's command line: `mnemo run` and ours without --supervise / --watchdog S. */
static int args_split(struct supervisor *S, int argc, char **argv)
{
    S->watchdog_s = WATCHDOG_DEFAULT_S;
    S->child_argv = calloc((size_t)argc + 3, sizeof *S->child_argv);
    if (!S->child_argv)
        return MNEMO_EXIT_FAILED;
    int n = 0;
    S->child_argv[n++] = "mnemo";
    S->child_argv[n++] = "run";
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--supervise") == 0)
            continue;
        if (strcmp(argv[i], "--watchdog") == 0) {
            char *end = NULL;
            S->watchdog_s = i + 1 < argc ? strtod(argv[++i], &end) : 0;
            if (!end || *end || !(S->watchdog_s >= 0.2 && S->watchdog_s <= 3600)) {
                fprintf(stderr, "mnemo run: --watchdog takes seconds from 0.2 to 3600\n");
                return MNEMO_EXIT_USAGE;
            }
            continue;
        }
        S->child_argv[n++] = argv[i];
    }
    return MNEMO_EXIT_OK;
}

int supervise_run(int argc, char **argv)
{
    struct supervisor S = {.sock = -1};
    int rc = args_split(&S, argc, argv);
    struct error err;
    if (rc == MNEMO_EXIT_OK && (kiosk_start(0, &err) || socket_bind(&S)))
        rc = MNEMO_EXIT_FAILED;
    if (rc == MNEMO_EXIT_OK) {
        signal_catch(SIGTERM, on_sup_stop);
        signal_catch(SIGINT, on_sup_stop);
        signal_catch(SIGHUP, on_sup_hup);
        signal_catch(SIGPIPE, SIG_IGN);
        log_line(LOG_NOTICE, "supervise: starting the piece (watchdog %.1f s)", S.watchdog_s);
        rc = supervise_loop(&S);
    }
    kiosk_stop();
    if (S.sock >= 0)
        close(S.sock);
    free(S.child_argv);
    return rc;
}

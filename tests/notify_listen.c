/* notify_listen — a stand-in for systemd's end of the notify protocol (sd_notify(3)) in
 * tests: binds a unix datagram socket at PATH (or @NAME, abstract) and prints each message
 * it receives as one line, "<seconds since start> <message, newlines as |>", until
 * SECONDS have passed or it is sent SIGTERM.
 *
 *   notify_listen PATH SECONDS > log &  NOTIFY_SOCKET=PATH WATCHDOG_USEC=... mnemo run ... */
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t stop;

static void on_term(int sig)
{
    (void)sig;
    stop = 1;
}

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static int bind_at(const char *where)
{
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    size_t len = strlen(where);
    if (len >= sizeof addr.sun_path)
        return -1;
    memcpy(addr.sun_path, where, len);
    if (where[0] == '@')
        addr.sun_path[0] = '\0';
    else
        unlink(where);
    int fd = socket(AF_UNIX, SOCK_DGRAM, 0);
    socklen_t size = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len);
    if (fd < 0 || bind(fd, (struct sockaddr *)&addr, size) != 0)
        return -1;
    return fd;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: notify_listen PATH|@NAME SECONDS\n");
        return 2;
    }
    int fd = bind_at(argv[1]);
    if (fd < 0) {
        perror("notify_listen: bind");
        return 1;
    }
    signal(SIGTERM, on_term);
    double start = now_s(), until = start + strtod(argv[2], NULL);
    char buf[4096];
    while (!stop && now_s() < until) {
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        if (poll(&pfd, 1, 50) <= 0)
            continue;
        ssize_t n = recv(fd, buf, sizeof buf - 1, MSG_DONTWAIT);
        if (n <= 0)
            continue;
        buf[n] = '\0';
        for (char *c = buf; *c; c++)
            if (*c == '\n')
                *c = '|';
        printf("%.3f %s\n", now_s() - start, buf);
        fflush(stdout);
    }
    if (argv[1][0] != '@')
        unlink(argv[1]);
    return 0;
}

/* fuzz_web.c — the web page's server on arbitrary requests: each input is sent as raw bytes
 * over a TCP connection to a live control's web server on 127.0.0.1 (libmicrohttpd's
 * parser, then mnemo's routes, body parsing and parameter changes), exactly as a client on
 * the network would. The connection's answer must be a well-formed HTTP status line or a
 * closed connection, never a hang (the read is bounded by the server's own timeout). After
 * every input, every parameter the control now wants must format back to text that sets
 * the same value: no request can leave the piece with a value the registry would refuse.
 *
 * The server is a real one (control_open with web.enabled), with a presets folder holding
 * "calm", so recall and store can also succeed, and no token. */
#include "fuzz.h"
#include "fuzz_control.h"

#include "control.h"
#include "web.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static struct control *ctl;
static int port;
static char presets_dir[] = "/tmp/mnemo-fuzz-web-XXXXXX";
static char preset_path[sizeof presets_dir + 16];

/* The presets folder and what requests stored in it (names of letters, digits, - and _). */
static void cleanup(void)
{
    control_close(ctl);
    DIR *d = opendir(presets_dir);
    for (struct dirent *e; d && (e = readdir(d));) {
        char path[sizeof presets_dir + 300];
        snprintf(path, sizeof path, "%s/%s", presets_dir, e->d_name);
        if (e->d_name[0] != '.')
            unlink(path);
    }
    if (d)
        closedir(d);
    rmdir(presets_dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    static struct params start;
    params_defaults(&start);
    start.web.enabled = true;
    start.web.port = 0;
    FUZZ_CHECK(mkdtemp(presets_dir) != NULL, "mkdtemp");
    snprintf(preset_path, sizeof preset_path, "%s/calm.cfg", presets_dir);
    FILE *f = fopen(preset_path, "w");
    FUZZ_CHECK(f != NULL, "cannot write %s", preset_path);
    fputs("perturb = { noise = 0.05; };\n", f);
    fclose(f);
    snprintf(start.control.presets, sizeof start.control.presets, "%s", presets_dir);
    struct error err;
    const struct control_options opts = {0};
    ctl = control_open(&opts, &start, &err);
    FUZZ_CHECK(ctl != NULL, "control_open: %s", err.msg);
    port = control_web_port(ctl);
    static float portrait[3 * 16 * 16];
    control_post_frame(ctl, portrait, 16); /* so that /api/frame.jpg encodes one */
    control_post_status(ctl, "{\"t\":1}");
    atexit(cleanup);
    return 0;
}

/* A connection to the server. Closed with a reset (SO_LINGER 0), so that a thousand
 * inputs a second leave no TIME_WAIT behind to use up the ephemeral ports; a moment's
 * shortage of them is waited out (the target's limit, not the server's). */
static int connect_server(void)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    for (int attempt = 0; attempt < 500; attempt++) {
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        FUZZ_CHECK(fd >= 0, "socket");
        struct linger now = {.l_onoff = 1, .l_linger = 0};
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &now, sizeof now);
        if (connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0)
            return fd;
        int why = errno;
        close(fd);
        FUZZ_CHECK(why == EADDRNOTAVAIL || why == EAGAIN, "cannot connect to the web server: %s",
                   strerror(why));
        nanosleep(&(struct timespec){.tv_nsec = 10 * 1000 * 1000}, NULL);
    }
    FUZZ_CHECK(0, "no ephemeral port for 5 s");
    return -1;
}

/* The request, then the first bytes of the answer. A request that is not finished (no
 * blank line) is shut down for writing: the server then answers or closes. */
static void request_check(const uint8_t *data, size_t size)
{
    int fd = connect_server();
    size_t off = 0;
    while (off < size) {
        ssize_t n = send(fd, data + off, size - off, MSG_NOSIGNAL);
        if (n <= 0)
            break; /* the server closed early: a refused request */
        off += (size_t)n;
    }
    shutdown(fd, SHUT_WR);
    char head[16] = "";
    size_t got = 0;
    struct pollfd p = {.fd = fd, .events = POLLIN};
    while (got < 12 && poll(&p, 1, 15000) == 1) {
        ssize_t n = recv(fd, head + got, 12 - got, 0);
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    close(fd);
    FUZZ_CHECK(got == 0 || (got == 12 && memcmp(head, "HTTP/1.", 7) == 0 && head[8] == ' '),
               "the answer does not start with an HTTP status line: '%.12s'", head);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    request_check(data, size);
    fuzz_control_wanted_check(ctl);
    return 0;
}

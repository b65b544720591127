/* osc_client — a tiny OSC sender for the live-tuning shell test (no oscsend needed):
 *
 *   osc_client PORT PATH [TYPES [ARG...]]   send one message to 127.0.0.1:PORT; for
 *                                           /mnemo/get and /mnemo/list print the reply
 *   osc_client PORT --raw BYTES             send BYTES bytes that are no OSC at all
 *
 * TYPES is liblo's type string (i, f, s, T, F). The reply prints as "PATH arg arg...", and
 * the sizes of the request and the reply on stderr ("osc_client: 16 bytes sent, 52 back"). */
#include <lo/lo.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int add_arg(lo_message m, char type, const char *text)
{
    switch (type) {
    case 'i':
        return lo_message_add_int32(m, atoi(text));
    case 'f':
        return lo_message_add_float(m, strtof(text, NULL));
    case 's':
        return lo_message_add_string(m, text);
    case 'T':
        return lo_message_add_true(m);
    case 'F':
        return lo_message_add_false(m);
    }
    return -1;
}

static void print_reply(const unsigned char *buf, size_t n)
{
    int result;
    lo_message m = lo_message_deserialise((void *)buf, n, &result);
    if (!m) {
        printf("bad reply (%d)\n", result);
        return;
    }
    printf("%s", (const char *)buf);
    const char *types = lo_message_get_types(m);
    lo_arg **argv = lo_message_get_argv(m);
    for (int i = 0; i < lo_message_get_argc(m); i++) {
        /* Arguments are 4-byte aligned, the lo_arg union 8: copy out, never ->member. */
        int32_t iv;
        float fv;
        if (types[i] == 'i' && memcpy(&iv, argv[i], sizeof iv))
            printf(" %d", iv);
        else if (types[i] == 'f' && memcpy(&fv, argv[i], sizeof fv))
            printf(" %g", (double)fv);
        else if (types[i] == 's')
            printf(" %s", (const char *)(void *)argv[i]);
    }
    printf("\n");
    lo_message_free(m);
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: osc_client PORT PATH [TYPES [ARG...]] | PORT --raw BYTES\n");
        return 2;
    }
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[1]))};
    inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
    void *data;
    size_t len = 0;
    if (strcmp(argv[2], "--raw") == 0) {
        len = argc > 3 ? (size_t)atol(argv[3]) : 100;
        data = malloc(len);
        memset(data, 'x', len);
    } else {
        lo_message m = lo_message_new();
        const char *types = argc > 3 ? argv[3] : "";
        for (int i = 0; types[i]; i++)
            if (add_arg(m, types[i], 4 + i < argc ? argv[4 + i] : "") != 0)
                return 2;
        data = lo_message_serialise(m, argv[2], NULL, &len);
        lo_message_free(m);
    }
    if (sendto(fd, data, len, 0, (struct sockaddr *)&to, sizeof to) < 0) {
        perror("osc_client: sendto");
        return 1;
    }
    free(data);
    if (strstr(argv[2], "/get") || strstr(argv[2], "/list")) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        unsigned char buf[65536];
        if (poll(&p, 1, 2000) <= 0) {
            printf("no reply\n");
            return 1;
        }
        ssize_t n = recv(fd, buf, sizeof buf, 0);
        fprintf(stderr, "osc_client: %zu bytes sent, %zd back\n", len, n);
        print_reply(buf, n > 0 ? (size_t)n : 0);
    }
    close(fd);
    return 0;
}

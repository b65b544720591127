/* test_log — log.h: journal priority prefixes when stderr is systemd's stream, and the
 * rate limit that keeps a fault repeating every frame from filling a disk. */
#include "check.h"
#include "log.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static char *file_read(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    static char buf[1 << 16];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static int lines_starting(const char *text, const char *prefix)
{
    int n = 0;
    for (const char *line = text; line && *line;
         line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL)
        n += strncmp(line, prefix, strlen(prefix)) == 0;
    return n;
}

/* stderr into a file that systemd would have named in $JOURNAL_STREAM. */
static int stderr_to_journal_file(const char *path, int *saved)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    struct stat st;
    if (fd < 0 || fstat(fd, &st))
        return -1;
    char stream[64];
    snprintf(stream, sizeof stream, "%llu:%llu", (unsigned long long)st.st_dev,
             (unsigned long long)st.st_ino);
    setenv("JOURNAL_STREAM", stream, 1);
    fflush(stderr);
    *saved = dup(2);
    dup2(fd, 2);
    close(fd);
    return 0;
}

static void test_journal_and_rate_limit(void)
{
    char path[] = "/tmp/mnemo-test-log-XXXXXX";
    int tmp = mkstemp(path);
    CHECK(tmp >= 0);
    close(tmp);
    int saved = -1;
    CHECK(stderr_to_journal_file(path, &saved) == 0);
    for (int i = 0; i < 200; i++)
        log_line(LOG_WARNING, "the same fault again (%d)", i);
    struct timespec wait = {0, 600 * 1000 * 1000}; /* refills 3 lines at LOG_RATE 5/s */
    nanosleep(&wait, NULL);
    log_line(LOG_ERR, "a different fault");
    bool journal = log_to_journal();
    fflush(stderr);
    dup2(saved, 2);
    close(saved);

    const char *text = file_read(path);
    CHECK(text != NULL);
    CHECK(journal);
    int warnings = lines_starting(text, "<4>mnemo: warning: the same fault again");
    CHECK_MSG(warnings == LOG_BURST, "%d warnings got through, want the burst %d", warnings,
              LOG_BURST);
    CHECK_MSG(lines_starting(text, "<4>mnemo: warning: 160 log lines dropped") == 1,
              "no single line counting the 160 dropped: %s", text);
    CHECK(lines_starting(text, "<3>mnemo: a different fault") == 1);
    CHECK(log_dropped_total() == 160);
    unlink(path);
}

/* Outside text in a log line (an OSC address, a MIDI port's name, a config value, a file
 * name) cannot start a line of its own: under journald a newline and "<0>" would file a
 * forged line at emergency priority. Control characters and bytes that are not UTF-8 are
 * escaped; UTF-8 text stays as it is. */
static void test_outside_text_cannot_forge_lines(void)
{
    char path[] = "/tmp/mnemo-test-log-XXXXXX";
    int tmp = mkstemp(path);
    CHECK(tmp >= 0);
    close(tmp);
    int saved = -1;
    CHECK(stderr_to_journal_file(path, &saved) == 0);
    struct timespec wait = {1, 0}; /* the rate limit refills after the test before */
    nanosleep(&wait, NULL);
    log_warn("osc %s ignored", "/mnemo/x\n<0>mnemo: forged\r\x1b[2J\xff\xc3\xa9\xe2\x82");
    log_line(LOG_NOTICE, "midi: %s",
             "port \\ \t\xc2\x9b"
             "31m\xed\xa0\x80");
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    const char *text = file_read(path);
    CHECK(text != NULL);
    if (!text)
        return;
    CHECK_MSG(lines_starting(text, "<") == 2, "%s", text);
    CHECK_MSG(lines_starting(text, "<0>") == 0, "%s", text);
    CHECK_MSG(strstr(text, "<4>mnemo: warning: osc /mnemo/x\\n<0>mnemo: forged\\r\\x1b[2J"
                           "\\xff\xc3\xa9\\xe2\\x82 ignored\n"),
              "%s", text);
    CHECK_MSG(strstr(text, "<5>mnemo: midi: port \\\\ \\t\\xc2\\x9b31m\\xed\\xa0\\x80\n"), "%s",
              text);
    unlink(path);
}

int main(void)
{
    RUN(test_journal_and_rate_limit);
    RUN(test_outside_text_cannot_forge_lines);
    return check_report();
}

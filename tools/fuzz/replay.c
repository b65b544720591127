/* replay.c — runs a fuzz target over saved inputs without libFuzzer, with any compiler:
 *
 *   fuzz_replay_<target> PATH...   each PATH a file, or a folder whose files (not its
 *                                  subfolders) are replayed in name order
 *
 * Linked with one target (fuzz_onnx.c, ...). `make test` replays the committed corpora and
 * crashers this way (under ASan + UBSan in the SANITIZE=1 build), so an input that once
 * crashed mnemo stays a test. Exits 0 after every input ran, 1 when a path cannot be read
 * or holds no input at all (a corpus that went missing must not pass as an empty one); a
 * broken invariant aborts, naming the input on stderr first. */
#include "fuzz.h"

#include <dirent.h>
#include <stdbool.h>
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

static int file_replay(const char *path)
{
    FILE *f = fopen(path, "rb");
    long size = -1;
    if (f && fseek(f, 0, SEEK_END) == 0)
        size = ftell(f);
    /* Exactly `size` bytes, as libFuzzer hands them over: ASan sees a read past the end. */
    uint8_t *input = size >= 0 ? malloc(size ? (size_t)size : 1) : NULL;
    bool ok =
        input && fseek(f, 0, SEEK_SET) == 0 && fread(input, 1, (size_t)size, f) == (size_t)size;
    if (f)
        fclose(f);
    if (!ok) {
        fprintf(stderr, "replay: cannot read %s: %s\n", path, strerror(errno));
        free(input);
        return -1;
    }
    fprintf(stderr, "replay: %s (%ld bytes)\n", path, size);
    LLVMFuzzerTestOneInput(input, (size_t)size);
    free(input);
    return 0;
}

/* The folder's regular files, in name order; returns how many ran, -1 on error. */
static int dir_replay(const char *dir)
{
    struct dirent **entries = NULL;
    int n = scandir(dir, &entries, NULL, alphasort);
    if (n < 0) {
        fprintf(stderr, "replay: cannot list %s: %s\n", dir, strerror(errno));
        return -1;
    }
    int ran = 0;
    for (int i = 0; i < n; i++) {
        char path[4096];
        struct stat st;
        snprintf(path, sizeof path, "%s/%s", dir, entries[i]->d_name);
        /* Dot files (.gitkeep keeps an empty crashers/ in git) are no inputs. */
        if (ran >= 0 && entries[i]->d_name[0] != '.' && stat(path, &st) == 0 && S_ISREG(st.st_mode))
            ran = file_replay(path) == 0 ? ran + 1 : -1;
        free(entries[i]);
    }
    free(entries);
    return ran;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s FILE|DIR...\n", argv[0]);
        return 2;
    }
    LLVMFuzzerInitialize(&argc, &argv);
    int total = 0;
    for (int i = 1; i < argc; i++) {
        struct stat st;
        int ran = stat(argv[i], &st) != 0
                      ? (fprintf(stderr, "replay: %s: %s\n", argv[i], strerror(errno)), -1)
                  : S_ISDIR(st.st_mode) ? dir_replay(argv[i])
                                        : (file_replay(argv[i]) == 0 ? 1 : -1);
        if (ran < 0)
            return 1;
        total += ran;
    }
    if (total == 0) {
        fprintf(stderr, "replay: no input found in the paths given\n");
        return 1;
    }
    printf("replay: %d inputs ran cleanly\n", total);
    return 0;
}

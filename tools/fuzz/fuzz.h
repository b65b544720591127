/* fuzz.h — what every fuzz target in tools/fuzz/ defines and shares.
 *
 * A target is one file defining libFuzzer's two entry points. The same file links into a
 * libFuzzer binary (MNEMO_FUZZ=ON, clang: `make fuzz`) and into the replay driver
 * (replay.c, the normal compiler) that `make test` runs over the committed corpora and
 * crashers, so that every input that once broke something stays a regression test. */
#ifndef MNEMO_FUZZ_H
#define MNEMO_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* Called once before the first input (libFuzzer calls it when defined; replay.c always). */
int LLVMFuzzerInitialize(int *argc, char ***argv);
/* One input. Returns 0; anything wrong with the code under test aborts (a crash). */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* An invariant of the code under test that an input broke: a crash with a message, which
 * libFuzzer and the replay driver report with the input that caused it. */
#define FUZZ_CHECK(cond, ...)                                                                      \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fuzz check failed: %s (%s:%d): ", #cond, __FILE__, __LINE__);         \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fputc('\n', stderr);                                                                   \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

#endif

/* check.h — the smallest test harness that tells what failed and where.
 *
 *   static void test_something(void) { CHECK(x == 1); CHECK_NEAR(a, b, 1e-6); }
 *   int main(void) { RUN(test_something); return check_report(); }
 *
 * A failed CHECK prints file:line and the expression and marks the test failed, then
 * the test goes on (so one run shows every failure). SKIP("reason") ends a test as
 * skipped; a test binary whose tests all skipped exits 77, which ctest reports as skipped
 * (SKIP_RETURN_CODE). */
#ifndef MNEMO_CHECK_H
#define MNEMO_CHECK_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

static int check_failures_in_test;
static int check_tests_failed, check_tests_passed, check_tests_skipped;
static int check_skipping;

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);               \
            check_failures_in_test++;                                                              \
        }                                                                                          \
    } while (0)

#define CHECK_MSG(cond, ...)                                                                       \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: CHECK failed: %s: ", __FILE__, __LINE__, #cond);               \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fputc('\n', stderr);                                                                   \
            check_failures_in_test++;                                                              \
        }                                                                                          \
    } while (0)

#define CHECK_NEAR(a, b, tol)                                                                      \
    do {                                                                                           \
        double check_a_ = (a), check_b_ = (b);                                                     \
        if (!(fabs(check_a_ - check_b_) <= (tol))) {                                               \
            fprintf(stderr, "%s:%d: CHECK_NEAR failed: %s = %g, %s = %g (tol %g)\n", __FILE__,     \
                    __LINE__, #a, check_a_, #b, check_b_, (double)(tol));                          \
            check_failures_in_test++;                                                              \
        }                                                                                          \
    } while (0)

/* Ends the current test as skipped, with the reason printed. */
#define SKIP(...)                                                                                  \
    do {                                                                                           \
        printf("  skip: ");                                                                        \
        printf(__VA_ARGS__);                                                                       \
        printf("\n");                                                                              \
        check_skipping = 1;                                                                        \
        return;                                                                                    \
    } while (0)

#define RUN(test_fn)                                                                               \
    do {                                                                                           \
        check_failures_in_test = 0;                                                                \
        check_skipping = 0;                                                                        \
        test_fn();                                                                                 \
        if (check_failures_in_test) {                                                              \
            printf("FAIL %s\n", #test_fn);                                                         \
            check_tests_failed++;                                                                  \
        } else if (check_skipping) {                                                               \
            printf("skip %s\n", #test_fn);                                                         \
            check_tests_skipped++;                                                                 \
        } else {                                                                                   \
            printf("ok   %s\n", #test_fn);                                                         \
            check_tests_passed++;                                                                  \
        }                                                                                          \
        fflush(stdout);                                                                            \
    } while (0)

static inline int check_report(void)
{
    printf("%d passed, %d failed, %d skipped\n", check_tests_passed, check_tests_failed,
           check_tests_skipped);
    if (check_tests_failed)
        return 1;
    if (check_tests_passed == 0 && check_tests_skipped > 0)
        return 77;
    return 0;
}

/* Relative L2 error ||a - b|| / ||b|| (b is the truth). */
static inline double rel_l2(const float *a, const float *b, long n)
{
    double num = 0, den = 0;
    for (long i = 0; i < n; i++) {
        double d = (double)a[i] - (double)b[i];
        num += d * d;
        den += (double)b[i] * (double)b[i];
    }
    return den > 0 ? sqrt(num / den) : sqrt(num);
}

#endif

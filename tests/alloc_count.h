/* alloc_count.h — counts the heap allocations made by code linked into this test binary.
 *
 * Include it in exactly one file of a test whose CMake registration adds
 *   target_link_options(NAME PRIVATE "LINKER:--wrap=malloc,--wrap=calloc,--wrap=realloc")
 * and read `allocations` (all threads) or `thread_allocations` (this thread only: a worker
 * that may allocate while the thread under test must not) before and after the code that
 * must not allocate. Calls made
 * inside shared libraries (oneDNN, libc itself) go straight to libc and are not seen. */
#ifndef MNEMO_TEST_ALLOC_COUNT_H
#define MNEMO_TEST_ALLOC_COUNT_H

#include <stddef.h>

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t n);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_realloc(void *p, size_t n);

/* volatile: the compiler may otherwise assume malloc leaves our globals alone. */
static volatile long allocations;
static _Thread_local long thread_allocations;

void *__wrap_malloc(size_t n)
{
    allocations++;
    thread_allocations++;
    return __real_malloc(n);
}

void *__wrap_calloc(size_t n, size_t size)
{
    allocations++;
    thread_allocations++;
    return __real_calloc(n, size);
}

void *__wrap_realloc(void *p, size_t n)
{
    allocations++;
    thread_allocations++;
    return __real_realloc(p, n);
}

#endif

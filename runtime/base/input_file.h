/* input_file.h — opening a file that someone else named (a config and its @includes, a
 * preset, the seed image, the seed bank, the state file) so that it can neither hang nor
 * swamp the piece.
 *
 * Only a regular file is opened: a directory, a FIFO, a device (/dev/zero) or a socket is
 * refused with a sentence that says what it is. The open itself never blocks (O_NONBLOCK:
 * open(2) of a FIFO with no writer would wait forever, on the control thread or at start,
 * where SIGTERM cannot end it), and a file larger than the caller's cap is refused before
 * a byte is read, the message saying the cap. Messages start with the path. Not for the
 * hot path: these do file I/O. */
#ifndef MNEMO_INPUT_FILE_H
#define MNEMO_INPUT_FILE_H

#include "error.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* A descriptor for reading path (blocking reads, close-on-exec), or -1 with err. errno
 * tells why: the open's errno (ENOENT...), EINVAL for a file that is not regular, EFBIG for
 * one over max_bytes. */
int input_file_open(const char *path, int64_t max_bytes, struct error *err);

/* The same as a stdio stream ("rb"). */
FILE *input_file_fopen(const char *path, int64_t max_bytes, struct error *err);

/* The whole file, NUL-terminated, into a malloc'd *data (*len bytes, without the NUL).
 * 0, or -1 with err (errno as above). */
int input_file_read(const char *path, int64_t max_bytes, char **data, size_t *len,
                    struct error *err);

/* "1 MiB", "64 KiB" or "100 bytes": how the caps are said in messages. */
const char *input_file_size_text(int64_t bytes, char *buf, size_t size);

#endif

/* reshape.c — reference Reshape of a run-time tensor: its elements in the same order. */
#include "ref.h"

#include <string.h>

void ref_reshape(const struct node *n, const struct ref_io *io)
{
    memcpy(io->out, io->in[0], (size_t)shape_count(io->out_shape) * sizeof(float));
    ref_epilogue(n, io);
}

/* elementwise.c — reference Activation and Binary (numpy broadcasting up to rank 6). */
#include "ref.h"

/* The activation itself is the node's epilogue (act), so the op is a copy. */
void ref_activation(const struct node *n, const struct ref_io *io)
{
    int64_t count = shape_count(io->out_shape);
    for (int64_t i = 0; i < count; i++)
        io->out[i] = io->in[0][i];
    ref_epilogue(n, io);
}

/* Element strides of `s` seen from an output of rank `rank`: shapes align at the right,
 * and a dimension of 1 (or a missing one) is broadcast, so its stride is 0. */
static void broadcast_strides(const struct shape *s, int32_t rank, int64_t *strides)
{
    int64_t step = 1;
    for (int32_t d = rank - 1; d >= 0; d--) {
        int32_t sd = d - (rank - s->rank);
        int64_t size = sd >= 0 ? s->dim[sd] : 1;
        strides[d] = size == 1 ? 0 : step;
        step *= size;
    }
}

/* Walks the output in order with an odometer over its index, moving each operand's offset
 * by its broadcast stride. */
void ref_binary(const struct node *n, const struct ref_io *io)
{
    const struct shape *ys = io->out_shape;
    int64_t sa[SHAPE_MAX_RANK], sb[SHAPE_MAX_RANK], index[SHAPE_MAX_RANK] = {0};
    broadcast_strides(io->in_shape[0], ys->rank, sa);
    broadcast_strides(io->in_shape[1], ys->rank, sb);
    int64_t count = shape_count(ys), a = 0, b = 0;
    for (int64_t i = 0; i < count; i++) {
        io->out[i] = binary_apply(n->p.binary.kind, io->in[0][a], io->in[1][b]);
        for (int32_t d = ys->rank - 1; d >= 0; d--) {
            index[d]++;
            a += sa[d];
            b += sb[d];
            if (index[d] < ys->dim[d])
                break;
            a -= sa[d] * index[d];
            b -= sb[d] * index[d];
            index[d] = 0;
        }
    }
    ref_epilogue(n, io);
}

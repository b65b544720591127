/* pad.c — reference Pad: constant, reflect (mirror excluding the edge, as numpy and ONNX)
 * and edge, any rank up to 6; negative pads crop. */
#include "ref.h"

int64_t ref_pad_source(enum pad_mode mode, int64_t o, int64_t begin, int64_t size)
{
    int64_t i = o - begin;
    if (i >= 0 && i < size)
        return i;
    switch (mode) {
    case PAD_REFLECT:
        return i < 0 ? -i : 2 * (size - 1) - i;
    case PAD_EDGE:
        return i < 0 ? 0 : size - 1;
    case PAD_CONSTANT:
    case PAD_MODE_COUNT:
        break;
    }
    return -1;
}

void ref_pad(const struct node *n, const struct ref_io *io)
{
    const struct pad_params *p = &n->p.pad;
    const struct shape *xs = io->in_shape[0], *ys = io->out_shape;
    int32_t rank = ys->rank;
    int64_t index[SHAPE_MAX_RANK] = {0}, count = shape_count(ys);
    for (int64_t k = 0; k < count; k++) {
        int64_t offset = 0;
        bool outside = false;
        for (int32_t d = 0; d < rank; d++) {
            int64_t i = ref_pad_source(p->mode, index[d], p->pads[d], xs->dim[d]);
            outside = outside || i < 0;
            offset = offset * xs->dim[d] + (i < 0 ? 0 : i);
        }
        io->out[k] = outside ? p->value : io->in[0][offset];
        for (int32_t d = rank - 1; d >= 0; d--) {
            if (++index[d] < ys->dim[d])
                break;
            index[d] = 0;
        }
    }
    ref_epilogue(n, io);
}

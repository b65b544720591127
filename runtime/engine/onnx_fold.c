/* onnx_fold.c — evaluates at load the small constant subgraphs exporters emit.
 *
 * Owns the table of tensors known at load and the host-side evaluation of the shape-ish
 * ops that build them (Constant, ConstantOfShape, Shape, Gather, Concat, Reshape, Slice,
 * Transpose, Cast, Unsqueeze, Squeeze, Add/Sub/Mul/Div, Identity, Dropout, Range, Expand,
 * Tile, Floor, Ceil, MatMul).
 * PyTorch's ReflectionPad2d export computes its `pads` this way at every opset.
 *
 * Must never touch run-time tensors' data (there is none at load) nor add graph nodes:
 * a node is folded only when every input is known, or it is a Shape of a value whose
 * shape is known. Every tensor here is small; clarity beats speed. */
#include "onnx_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* The folder refuses to build anything bigger: constant subgraphs are shapes and pads,
 * and a runaway ConstantOfShape must be an error, not an out-of-memory. */
#define FOLD_MAX_ELEMENTS (64LL * 1024 * 1024)

const char *onnx_dtype_name(int32_t dtype)
{
    switch (dtype) {
    case DT_FLOAT:
        return "float32";
    case DT_INT32:
        return "int32";
    case DT_INT64:
        return "int64";
    case DT_BOOL:
        return "bool";
    default:
        return "an unsupported type";
    }
}

bool onnx_dtype_is_integer(int32_t dtype)
{
    return dtype == DT_INT32 || dtype == DT_INT64 || dtype == DT_BOOL;
}

static bool dtype_supported(int32_t dtype)
{
    return dtype == DT_FLOAT || onnx_dtype_is_integer(dtype);
}

void onnx_known_table_free(struct known_table *t)
{
    for (int32_t k = 0; k < t->n; k++) {
        free(t->items[k]->name);
        free(t->items[k]->f);
        free(t->items[k]->i);
        free(t->items[k]);
    }
    free(t->items);
    memset(t, 0, sizeof *t);
}

const struct known *onnx_known_find(const struct known_table *t, const char *name)
{
    for (int32_t k = t->n - 1; k >= 0; k--)
        if (strcmp(t->items[k]->name, name) == 0)
            return t->items[k];
    return NULL;
}

/* Element count of s, or -1 when a dimension is negative or the product passes the limit
 * (checked per step: dimensions come from the file and may be anything). */
static int64_t count_checked(const struct shape *s)
{
    int64_t n = 1;
    for (int32_t d = 0; d < s->rank; d++) {
        if (s->dim[d] < 0 || (s->dim[d] > 0 && n > FOLD_MAX_ELEMENTS / s->dim[d]))
            return -1;
        n *= s->dim[d];
    }
    return n;
}

int64_t onnx_float_to_i64(double v)
{
    if (!(v == v))
        return 0;
    if (v >= 9.2e18)
        return INT64_MAX;
    if (v <= -9.2e18)
        return INT64_MIN;
    return (int64_t)v;
}

struct known *onnx_known_add(struct known_table *t, const char *name, int32_t dtype,
                             const struct shape *shape, struct error *err)
{
    if (!dtype_supported(dtype)) {
        error_set(err,
                  "tensor '%s' has data type %d; only float32, int64, int32 and bool "
                  "constants are read",
                  name, dtype);
        return NULL;
    }
    int64_t count = count_checked(shape);
    if (count < 0) {
        char dims[128];
        error_set(err, "tensor '%s' would have shape %s, more elements than mnemo accepts", name,
                  shape_str(shape, dims, sizeof dims));
        return NULL;
    }
    if (t->n == t->cap) {
        int32_t cap = t->cap ? 2 * t->cap : 64;
        struct known **items = realloc(t->items, (size_t)cap * sizeof *items);
        if (!items) {
            error_set(err, "out of memory");
            return NULL;
        }
        t->items = items;
        t->cap = cap;
    }
    struct known *k = calloc(1, sizeof *k);
    if (!k) {
        error_set(err, "out of memory");
        return NULL;
    }
    k->dtype = dtype;
    k->shape = *shape;
    k->name = strdup(name);
    size_t n = (size_t)(count ? count : 1);
    if (dtype == DT_FLOAT)
        k->f = calloc(n, sizeof *k->f);
    else
        k->i = calloc(n, sizeof *k->i);
    if (!k->name || (!k->f && !k->i)) {
        free(k->name);
        free(k->f);
        free(k->i);
        free(k);
        error_set(err, "out of memory for tensor '%s'", name);
        return NULL;
    }
    t->items[t->n++] = k;
    return k;
}

double onnx_known_get_f(const struct known *k, int64_t index)
{
    return k->f ? (double)k->f[index] : (double)k->i[index];
}

int64_t onnx_known_get_i(const struct known *k, int64_t index)
{
    return k->f ? onnx_float_to_i64(k->f[index]) : k->i[index];
}

/* dst[di] = src[si], converting between float and integer storage. */
static void elem_copy(struct known *dst, int64_t di, const struct known *src, int64_t si)
{
    if (dst->f)
        dst->f[di] = src->f ? src->f[si] : (float)src->i[si];
    else
        dst->i[di] = src->i ? src->i[si] : onnx_float_to_i64(src->f[si]);
}

/* ---- small shape helpers ---- */

static void strides_of(const struct shape *s, int64_t *stride)
{
    int64_t acc = 1;
    for (int32_t d = s->rank - 1; d >= 0; d--) {
        stride[d] = acc;
        acc *= s->dim[d];
    }
}

/* Coordinates of flat index `flat` in shape s. */
static void coords_of(const struct shape *s, int64_t flat, int64_t *coord)
{
    for (int32_t d = s->rank - 1; d >= 0; d--) {
        int64_t extent = s->dim[d] ? s->dim[d] : 1;
        coord[d] = flat % extent;
        flat /= extent;
    }
}

/* Normalises a possibly negative axis into [0, rank). */
static int axis_normalise(int64_t axis, int32_t rank, const char *node, struct error *err,
                          int32_t *out)
{
    if (axis < -rank || axis >= rank)
        return error_set(err, "node '%s': axis %lld is out of range for a rank-%d tensor", node,
                         (long long)axis, rank);
    *out = (int32_t)(axis < 0 ? axis + rank : axis);
    return 0;
}

/* The known tensor behind input i, or an error naming the node. */
static const struct known *input_known(struct loader *L, const Onnx__NodeProto *n, size_t i,
                                       const char *node, struct error *err)
{
    const char *name = onnx_node_input(n, i);
    const struct known *k = name ? onnx_known_find(&L->known, name) : NULL;
    if (!k)
        error_set(err, "node '%s' (%s): input %zu%s%s%s is not a constant", node, n->op_type, i,
                  name ? " '" : "", name ? name : "", name ? "'" : "");
    return k;
}

/* Reads an integer 0-D or 1-D known tensor into list (at most `max`). */
static int int_list(const struct known *k, int64_t *list, int32_t max, int32_t *count,
                    const char *node, struct error *err)
{
    int64_t n = shape_count(&k->shape);
    if (!onnx_dtype_is_integer(k->dtype) || k->shape.rank > 1 || n > max)
        return error_set(err,
                         "node '%s': '%s' must be a list of at most %d integers (it is "
                         "%s with %lld elements)",
                         node, k->name, max, onnx_dtype_name(k->dtype), (long long)n);
    for (int64_t j = 0; j < n; j++)
        list[j] = k->i[j];
    *count = (int32_t)n;
    return 0;
}

static int shape_from_list(const int64_t *dims, int32_t count, struct shape *s, const char *node,
                           struct error *err)
{
    if (count > SHAPE_MAX_RANK)
        return error_set(err, "node '%s': rank %d is more than mnemo handles (%d)", node, count,
                         SHAPE_MAX_RANK);
    memset(s, 0, sizeof *s);
    s->rank = count;
    for (int32_t d = 0; d < count; d++) {
        if (dims[d] < 0)
            return error_set(err, "node '%s': negative dimension %lld", node, (long long)dims[d]);
        s->dim[d] = dims[d];
    }
    return 0;
}

/* A fold's output, charged to the load's fold room (FOLD_ROOM_BASE). */
static struct known *output_add(struct loader *L, const Onnx__NodeProto *n, const char *node,
                                int32_t dtype, const struct shape *s, struct error *err)
{
    int64_t count = count_checked(s);
    if (count > L->fold_room) {
        char dims[128];
        error_set(err,
                  "node '%s' (%s) would build a constant of shape %s; mnemo evaluates at load "
                  "only small constant subgraphs (shapes, pads, scales), at most %lld more "
                  "elements in this model: the file is damaged or its constants are not an "
                  "image model's",
                  node, n->op_type, shape_str(s, dims, sizeof dims), (long long)L->fold_room);
        return NULL;
    }
    struct known *k = onnx_known_add(&L->known, n->output[0], dtype, s, err);
    if (k)
        L->fold_room -= count;
    return k;
}

/* ---- the folds, one per op ---- */

static int fold_constant(struct loader *L, const Onnx__NodeProto *n, const char *node,
                         struct error *err)
{
    const Onnx__AttributeProto *a = NULL;
    struct shape scalar = {0};
    struct known *k = NULL;
    if ((a = onnx_attr_find(n, "value")) && a->t)
        return onnx_known_add_tensor(L, a->t, n->output[0], err);
    if ((a = onnx_attr_find(n, "value_float"))) {
        if ((k = output_add(L, n, node, DT_FLOAT, &scalar, err)))
            k->f[0] = a->f;
    } else if ((a = onnx_attr_find(n, "value_int"))) {
        if ((k = output_add(L, n, node, DT_INT64, &scalar, err)))
            k->i[0] = a->i;
    } else if ((a = onnx_attr_find(n, "value_floats"))) {
        struct shape list = {.rank = 1, .dim = {(int64_t)a->n_floats}};
        if ((k = output_add(L, n, node, DT_FLOAT, &list, err)) && a->n_floats)
            memcpy(k->f, a->floats, a->n_floats * sizeof *k->f);
    } else if ((a = onnx_attr_find(n, "value_ints"))) {
        struct shape list = {.rank = 1, .dim = {(int64_t)a->n_ints}};
        if ((k = output_add(L, n, node, DT_INT64, &list, err)) && a->n_ints)
            memcpy(k->i, a->ints, a->n_ints * sizeof *k->i);
    } else {
        return error_set(err,
                         "node '%s' (Constant) has no value mnemo reads (value, "
                         "value_float, value_floats, value_int, value_ints)",
                         node);
    }
    return k ? 0 : -1;
}

static int fold_constant_of_shape(struct loader *L, const Onnx__NodeProto *n, const char *node,
                                  struct error *err)
{
    const struct known *shape_in = input_known(L, n, 0, node, err);
    int64_t dims[SHAPE_MAX_RANK + 1];
    int32_t rank = 0;
    struct shape s;
    if (!shape_in || int_list(shape_in, dims, SHAPE_MAX_RANK, &rank, node, err) ||
        shape_from_list(dims, rank, &s, node, err))
        return -1;
    int32_t dtype = DT_FLOAT;
    double fill = 0.0;
    const Onnx__AttributeProto *a = onnx_attr_find(n, "value");
    if (a && a->t) {
        /* The fill value arrives as a one-element tensor; read it through the table. */
        if (onnx_known_add_tensor(L, a->t, "<ConstantOfShape value>", err))
            return -1;
        const struct known *v = L->known.items[L->known.n - 1];
        if (shape_count(&v->shape) != 1)
            return error_set(err, "node '%s' (ConstantOfShape): value must have one element", node);
        dtype = v->dtype;
        fill = onnx_known_get_f(v, 0);
    }
    struct known *k = output_add(L, n, node, dtype, &s, err);
    if (!k)
        return -1;
    for (int64_t j = 0; j < shape_count(&s); j++) {
        if (k->f)
            k->f[j] = (float)fill;
        else
            k->i[j] = onnx_float_to_i64(fill);
    }
    return 0;
}

static int fold_shape(struct loader *L, const Onnx__NodeProto *n, const char *node,
                      struct error *err)
{
    const char *name = onnx_node_input(n, 0);
    const struct known *k = name ? onnx_known_find(&L->known, name) : NULL;
    int32_t v = name ? onnx_loader_find_value(L, name) : -1;
    if (!k && v < 0)
        return error_set(err,
                         "node '%s' (Shape): input '%s' is not produced by any earlier "
                         "node",
                         node, name ? name : "");
    const struct shape *in = k ? &k->shape : &L->g->values[v].shape;
    int64_t start = onnx_attr_int(n, "start", 0), end = onnx_attr_int(n, "end", in->rank);
    start = start < 0 ? start + in->rank : start;
    end = end < 0 ? end + in->rank : end;
    start = start < 0 ? 0 : (start > in->rank ? in->rank : start);
    end = end < start ? start : (end > in->rank ? in->rank : end);
    struct shape s = {.rank = 1, .dim = {end - start}};
    struct known *out = output_add(L, n, node, DT_INT64, &s, err);
    if (!out)
        return -1;
    for (int64_t d = start; d < end; d++)
        out->i[d - start] = in->dim[d];
    return 0;
}

static int fold_gather(struct loader *L, const Onnx__NodeProto *n, const char *node,
                       struct error *err)
{
    const struct known *data = input_known(L, n, 0, node, err);
    const struct known *idx = data ? input_known(L, n, 1, node, err) : NULL;
    int32_t axis = 0;
    if (!idx || axis_normalise(onnx_attr_int(n, "axis", 0), data->shape.rank, node, err, &axis))
        return -1;
    if (!onnx_dtype_is_integer(idx->dtype))
        return error_set(err, "node '%s' (Gather): indices must be integers", node);
    if (data->shape.rank - 1 + idx->shape.rank > SHAPE_MAX_RANK)
        return error_set(err, "node '%s' (Gather): result rank too high", node);
    struct shape s = {0};
    for (int32_t d = 0; d < axis; d++)
        s.dim[s.rank++] = data->shape.dim[d];
    for (int32_t d = 0; d < idx->shape.rank; d++)
        s.dim[s.rank++] = idx->shape.dim[d];
    for (int32_t d = axis + 1; d < data->shape.rank; d++)
        s.dim[s.rank++] = data->shape.dim[d];
    struct known *out = output_add(L, n, node, data->dtype, &s, err);
    if (!out)
        return -1;
    int64_t extent = data->shape.dim[axis], inner = 1, outer = 1, n_idx = shape_count(&idx->shape);
    for (int32_t d = axis + 1; d < data->shape.rank; d++)
        inner *= data->shape.dim[d];
    for (int32_t d = 0; d < axis; d++)
        outer *= data->shape.dim[d];
    int64_t o = 0;
    for (int64_t a = 0; a < outer; a++)
        for (int64_t j = 0; j < n_idx; j++) {
            int64_t at = idx->i[j] < 0 ? idx->i[j] + extent : idx->i[j];
            if (at < 0 || at >= extent)
                return error_set(err, "node '%s' (Gather): index %lld is out of range [0, %lld)",
                                 node, (long long)idx->i[j], (long long)extent);
            for (int64_t b = 0; b < inner; b++)
                elem_copy(out, o++, data, (a * extent + at) * inner + b);
        }
    return 0;
}

static int fold_concat(struct loader *L, const Onnx__NodeProto *n, const char *node,
                       struct error *err)
{
    const struct known *first = input_known(L, n, 0, node, err);
    int32_t axis = 0;
    if (!first || axis_normalise(onnx_attr_int(n, "axis", 0), first->shape.rank, node, err, &axis))
        return -1;
    struct shape s = first->shape;
    s.dim[axis] = 0;
    for (size_t j = 0; j < n->n_input; j++) {
        const struct known *k = input_known(L, n, j, node, err);
        if (!k)
            return -1;
        bool same = k->shape.rank == s.rank && (k->dtype == DT_FLOAT) == (first->dtype == DT_FLOAT);
        for (int32_t d = 0; same && d < s.rank; d++)
            same = d == axis || k->shape.dim[d] == s.dim[d];
        if (!same)
            return error_set(err,
                             "node '%s' (Concat): input '%s' does not match the first "
                             "input's type or shape",
                             node, k->name);
        s.dim[axis] += k->shape.dim[axis];
    }
    struct known *out = output_add(L, n, node, first->dtype, &s, err);
    if (!out)
        return -1;
    int64_t outer = 1, inner = 1, o = 0;
    for (int32_t d = 0; d < axis; d++)
        outer *= s.dim[d];
    for (int32_t d = axis + 1; d < s.rank; d++)
        inner *= s.dim[d];
    for (int64_t a = 0; a < outer; a++)
        for (size_t j = 0; j < n->n_input; j++) {
            const struct known *k = onnx_known_find(&L->known, n->input[j]);
            int64_t chunk = k->shape.dim[axis] * inner;
            for (int64_t b = 0; b < chunk; b++)
                elem_copy(out, o++, k, a * chunk + b);
        }
    return 0;
}

static int fold_reshape(struct loader *L, const Onnx__NodeProto *n, const char *node,
                        struct error *err)
{
    const struct known *data = input_known(L, n, 0, node, err);
    const struct known *want = data ? input_known(L, n, 1, node, err) : NULL;
    int64_t dims[SHAPE_MAX_RANK + 1];
    int32_t rank = 0, infer_at = -1;
    if (!want || int_list(want, dims, SHAPE_MAX_RANK, &rank, node, err))
        return -1;
    bool allow_zero = onnx_attr_int(n, "allowzero", 0) != 0;
    int64_t known_part = 1;
    for (int32_t d = 0; d < rank; d++) {
        if (dims[d] == 0 && !allow_zero)
            dims[d] = d < data->shape.rank ? data->shape.dim[d] : 0;
        if (dims[d] == -1 && infer_at < 0)
            infer_at = d;
        else if (dims[d] < 0)
            return error_set(err, "node '%s' (Reshape): bad target dimension %lld", node,
                             (long long)dims[d]);
        else if (dims[d] > FOLD_MAX_ELEMENTS || known_part > FOLD_MAX_ELEMENTS)
            return error_set(err, "node '%s' (Reshape): target shape too large", node);
        else
            known_part *= dims[d];
    }
    int64_t count = shape_count(&data->shape);
    if (infer_at >= 0)
        dims[infer_at] = known_part ? count / known_part : 0;
    struct shape s;
    if (shape_from_list(dims, rank, &s, node, err))
        return -1;
    if (count_checked(&s) != count)
        return error_set(err,
                         "node '%s' (Reshape): cannot reshape %lld elements into that "
                         "shape",
                         node, (long long)count);
    struct known *out = output_add(L, n, node, data->dtype, &s, err);
    if (!out)
        return -1;
    for (int64_t j = 0; j < count; j++)
        elem_copy(out, j, data, j);
    return 0;
}

/* Slice parameters for one axis after ONNX's clamping rules. */
struct slice_axis {
    int64_t start, step, count;
};

static int64_t clamp64(int64_t v, int64_t lo, int64_t hi)
{
    return v < lo ? lo : (v > hi ? hi : v);
}

static struct slice_axis slice_axis_make(int64_t start, int64_t end, int64_t step, int64_t dim)
{
    struct slice_axis a = {.step = step};
    if (dim == 0)
        return a;
    start = start < 0 ? start + dim : start;
    end = end < 0 ? end + dim : end;
    if (step > 0) {
        start = clamp64(start, 0, dim);
        end = clamp64(end, 0, dim);
        a.count = end > start ? (end - start - 1) / step + 1 : 0;
    } else {
        start = clamp64(start, 0, dim - 1);
        end = clamp64(end, -1, dim - 1);
        /* -(step + 1) + 1 is |step| without overflowing at INT64_MIN. */
        uint64_t magnitude = (uint64_t)(-(step + 1)) + 1;
        a.count = start > end ? (int64_t)((uint64_t)(start - end - 1) / magnitude) + 1 : 0;
    }
    a.start = start;
    return a;
}

/* starts, ends, axes, steps: from attributes before opset 10, from inputs after. */
static int slice_lists(struct loader *L, const Onnx__NodeProto *n, const char *node,
                       int64_t lists[4][SHAPE_MAX_RANK], int32_t *count, struct error *err)
{
    const char *names[4] = {"starts", "ends", "axes", "steps"};
    int32_t counts[4] = {0, 0, -1, -1};
    for (int j = 0; j < 4; j++) {
        if (L->opset < 10) {
            const Onnx__AttributeProto *a = onnx_attr_find(n, names[j]);
            if (a && a->n_ints <= SHAPE_MAX_RANK) {
                memcpy(lists[j], a->ints, a->n_ints * sizeof a->ints[0]);
                counts[j] = (int32_t)a->n_ints;
            }
        } else if (onnx_node_input(n, 1 + (size_t)j)) {
            const struct known *k = input_known(L, n, 1 + (size_t)j, node, err);
            if (!k || int_list(k, lists[j], SHAPE_MAX_RANK, &counts[j], node, err))
                return -1;
        }
    }
    if (counts[0] != counts[1] || (counts[2] >= 0 && counts[2] != counts[0]) ||
        (counts[3] >= 0 && counts[3] != counts[0]))
        return error_set(err,
                         "node '%s' (Slice): starts, ends, axes and steps differ in "
                         "length",
                         node);
    for (int32_t j = 0; j < counts[0]; j++) {
        if (counts[2] < 0)
            lists[2][j] = j;
        if (counts[3] < 0)
            lists[3][j] = 1;
    }
    *count = counts[0];
    return 0;
}

static int fold_slice(struct loader *L, const Onnx__NodeProto *n, const char *node,
                      struct error *err)
{
    const struct known *data = input_known(L, n, 0, node, err);
    int64_t lists[4][SHAPE_MAX_RANK];
    int32_t count = 0;
    if (!data || slice_lists(L, n, node, lists, &count, err))
        return -1;
    struct slice_axis ax[SHAPE_MAX_RANK];
    for (int32_t d = 0; d < data->shape.rank; d++)
        ax[d] = (struct slice_axis){.start = 0, .step = 1, .count = data->shape.dim[d]};
    for (int32_t j = 0; j < count; j++) {
        int32_t axis = 0;
        if (axis_normalise(lists[2][j], data->shape.rank, node, err, &axis))
            return -1;
        if (lists[3][j] == 0)
            return error_set(err, "node '%s' (Slice): step 0", node);
        ax[axis] = slice_axis_make(lists[0][j], lists[1][j], lists[3][j], data->shape.dim[axis]);
    }
    struct shape s = data->shape;
    for (int32_t d = 0; d < s.rank; d++)
        s.dim[d] = ax[d].count;
    struct known *out = output_add(L, n, node, data->dtype, &s, err);
    if (!out)
        return -1;
    int64_t in_stride[SHAPE_MAX_RANK], coord[SHAPE_MAX_RANK];
    strides_of(&data->shape, in_stride);
    for (int64_t o = 0; o < shape_count(&s); o++) {
        coords_of(&s, o, coord);
        int64_t at = 0;
        for (int32_t d = 0; d < s.rank; d++)
            at += (ax[d].start + coord[d] * ax[d].step) * in_stride[d];
        elem_copy(out, o, data, at);
    }
    return 0;
}

static int fold_transpose(struct loader *L, const Onnx__NodeProto *n, const char *node,
                          struct error *err)
{
    const struct known *data = input_known(L, n, 0, node, err);
    if (!data)
        return -1;
    int32_t rank = data->shape.rank, perm[SHAPE_MAX_RANK];
    const Onnx__AttributeProto *a = onnx_attr_find(n, "perm");
    if (a && (int32_t)a->n_ints != rank)
        return error_set(err, "node '%s' (Transpose): perm has %zu entries for rank %d", node,
                         a->n_ints, rank);
    bool seen[SHAPE_MAX_RANK] = {false};
    for (int32_t d = 0; d < rank; d++) {
        int64_t p = a ? a->ints[d] : rank - 1 - d;
        if (p < 0 || p >= rank || seen[p])
            return error_set(err, "node '%s' (Transpose): perm is not a permutation", node);
        seen[p] = true;
        perm[d] = (int32_t)p;
    }
    struct shape s = data->shape;
    for (int32_t d = 0; d < rank; d++)
        s.dim[d] = data->shape.dim[perm[d]];
    struct known *out = output_add(L, n, node, data->dtype, &s, err);
    if (!out)
        return -1;
    int64_t in_stride[SHAPE_MAX_RANK], coord[SHAPE_MAX_RANK];
    strides_of(&data->shape, in_stride);
    for (int64_t o = 0; o < shape_count(&s); o++) {
        coords_of(&s, o, coord);
        int64_t at = 0;
        for (int32_t d = 0; d < rank; d++)
            at += coord[d] * in_stride[perm[d]];
        elem_copy(out, o, data, at);
    }
    return 0;
}

static int fold_cast(struct loader *L, const Onnx__NodeProto *n, const char *node,
                     struct error *err)
{
    const struct known *data = input_known(L, n, 0, node, err);
    if (!data)
        return -1;
    int64_t to = onnx_attr_int(n, "to", 0);
    if (to == ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE)
        to = DT_FLOAT; /* constants only: float is as good as double for shapes and pads */
    if (!dtype_supported((int32_t)to))
        return error_set(err, "node '%s' (Cast): cannot cast to data type %lld", node,
                         (long long)to);
    struct known *out = output_add(L, n, node, (int32_t)to, &data->shape, err);
    if (!out)
        return -1;
    for (int64_t j = 0; j < shape_count(&data->shape); j++) {
        elem_copy(out, j, data, j);
        if (to == DT_BOOL)
            out->i[j] = onnx_known_get_f(data, j) != 0.0;
        else if (to == DT_INT32)
            out->i[j] = (int32_t)out->i[j];
    }
    return 0;
}

/* Axes of Unsqueeze / Squeeze: an attribute before opset 13, an input from 13. */
static int axes_list(struct loader *L, const Onnx__NodeProto *n, const char *node, int64_t *axes,
                     int32_t *count, struct error *err)
{
    *count = -1;
    if (L->opset < 13) {
        const Onnx__AttributeProto *a = onnx_attr_find(n, "axes");
        if (a && a->n_ints > SHAPE_MAX_RANK)
            return error_set(err, "node '%s': too many axes", node);
        if (a) {
            memcpy(axes, a->ints, a->n_ints * sizeof *axes);
            *count = (int32_t)a->n_ints;
        }
        return 0;
    }
    if (!onnx_node_input(n, 1))
        return 0;
    const struct known *k = input_known(L, n, 1, node, err);
    return !k || int_list(k, axes, SHAPE_MAX_RANK, count, node, err) ? -1 : 0;
}

static int fold_copy_as(struct loader *L, const Onnx__NodeProto *n, const char *node,
                        const struct known *data, const struct shape *s, struct error *err)
{
    struct known *out = output_add(L, n, node, data->dtype, s, err);
    if (!out)
        return -1;
    for (int64_t j = 0; j < shape_count(s); j++)
        elem_copy(out, j, data, j);
    return 0;
}

static int fold_unsqueeze(struct loader *L, const Onnx__NodeProto *n, const char *node,
                          struct error *err)
{
    const struct known *data = input_known(L, n, 0, node, err);
    int64_t axes[SHAPE_MAX_RANK];
    int32_t count = 0;
    if (!data || axes_list(L, n, node, axes, &count, err))
        return -1;
    if (count < 0)
        return error_set(err, "node '%s' (Unsqueeze): no axes", node);
    int32_t rank = data->shape.rank + count;
    if (rank > SHAPE_MAX_RANK)
        return error_set(err, "node '%s' (Unsqueeze): result rank %d too high", node, rank);
    bool inserted[SHAPE_MAX_RANK] = {false};
    for (int32_t j = 0; j < count; j++) {
        int32_t axis = 0;
        if (axis_normalise(axes[j], rank, node, err, &axis))
            return -1;
        inserted[axis] = true;
    }
    struct shape s = {.rank = rank};
    for (int32_t d = 0, src = 0; d < rank; d++)
        s.dim[d] = inserted[d] ? 1 : data->shape.dim[src++];
    return fold_copy_as(L, n, node, data, &s, err);
}

static int fold_squeeze(struct loader *L, const Onnx__NodeProto *n, const char *node,
                        struct error *err)
{
    const struct known *data = input_known(L, n, 0, node, err);
    int64_t axes[SHAPE_MAX_RANK];
    int32_t count = 0;
    if (!data || axes_list(L, n, node, axes, &count, err))
        return -1;
    bool drop[SHAPE_MAX_RANK] = {false};
    for (int32_t d = 0; count < 0 && d < data->shape.rank; d++)
        drop[d] = data->shape.dim[d] == 1;
    for (int32_t j = 0; j < count; j++) {
        int32_t axis = 0;
        if (axis_normalise(axes[j], data->shape.rank, node, err, &axis))
            return -1;
        if (data->shape.dim[axis] != 1)
            return error_set(err, "node '%s' (Squeeze): axis %d has size %lld, not 1", node, axis,
                             (long long)data->shape.dim[axis]);
        drop[axis] = true;
    }
    struct shape s = {0};
    for (int32_t d = 0; d < data->shape.rank; d++)
        if (!drop[d])
            s.dim[s.rank++] = data->shape.dim[d];
    return fold_copy_as(L, n, node, data, &s, err);
}

static int fold_identity(struct loader *L, const Onnx__NodeProto *n, const char *node,
                         struct error *err)
{
    const struct known *data = input_known(L, n, 0, node, err);
    return data ? fold_copy_as(L, n, node, data, &data->shape, err) : -1;
}

/* Numpy broadcasting of a and b into s. */
static int broadcast_shape(const struct shape *a, const struct shape *b, struct shape *s)
{
    int32_t rank = a->rank > b->rank ? a->rank : b->rank;
    s->rank = rank;
    for (int32_t d = 0; d < rank; d++) {
        int32_t da = d - (rank - a->rank), db = d - (rank - b->rank);
        int64_t x = da >= 0 ? a->dim[da] : 1, y = db >= 0 ? b->dim[db] : 1;
        if (x != y && x != 1 && y != 1)
            return -1;
        s->dim[d] = x == 1 ? y : x;
    }
    return 0;
}

/* Flat index into `in` for output coordinates `coord` of a broadcast result of rank r. */
static int64_t broadcast_index(const struct shape *in, const int64_t *coord, int32_t r)
{
    int64_t at = 0;
    for (int32_t d = 0; d < in->rank; d++) {
        int64_t c = in->dim[d] == 1 ? 0 : coord[d + (r - in->rank)];
        at = at * in->dim[d] + c;
    }
    return at;
}

static double binary_apply_f(char op, double x, double y)
{
    return op == '+' ? x + y : op == '-' ? x - y : op == '*' ? x * y : x / y;
}

/* Integer arithmetic wraps (as the exporters' runtimes do) instead of being undefined. */
static int64_t binary_apply_i(char op, int64_t x, int64_t y)
{
    uint64_t ux = (uint64_t)x, uy = (uint64_t)y;
    if (op == '/')
        return (x == INT64_MIN && y == -1) ? INT64_MIN : x / y;
    return (int64_t)(op == '+' ? ux + uy : op == '-' ? ux - uy : ux * uy);
}

static int fold_binary(struct loader *L, const Onnx__NodeProto *n, const char *node,
                       struct error *err)
{
    const struct known *a = input_known(L, n, 0, node, err);
    const struct known *b = a ? input_known(L, n, 1, node, err) : NULL;
    if (!b)
        return -1;
    char op = strcmp(n->op_type, "Add") == 0   ? '+'
              : strcmp(n->op_type, "Sub") == 0 ? '-'
              : strcmp(n->op_type, "Mul") == 0 ? '*'
                                               : '/';
    struct shape s;
    if (broadcast_shape(&a->shape, &b->shape, &s))
        return error_set(err, "node '%s' (%s): shapes do not broadcast", node, n->op_type);
    bool is_float = a->dtype == DT_FLOAT || b->dtype == DT_FLOAT;
    struct known *out = output_add(L, n, node, is_float ? DT_FLOAT : a->dtype, &s, err);
    if (!out)
        return -1;
    int64_t coord[SHAPE_MAX_RANK];
    for (int64_t o = 0; o < shape_count(&s); o++) {
        coords_of(&s, o, coord);
        int64_t ia = broadcast_index(&a->shape, coord, s.rank);
        int64_t ib = broadcast_index(&b->shape, coord, s.rank);
        if (is_float) {
            out->f[o] = (float)binary_apply_f(op, onnx_known_get_f(a, ia), onnx_known_get_f(b, ib));
            continue;
        }
        if (op == '/' && b->i[ib] == 0)
            return error_set(err, "node '%s' (Div): integer division by zero", node);
        out->i[o] = binary_apply_i(op, a->i[ia], b->i[ib]);
    }
    return 0;
}

static int fold_range(struct loader *L, const Onnx__NodeProto *n, const char *node,
                      struct error *err)
{
    const struct known *in[3];
    for (size_t j = 0; j < 3; j++)
        if (!(in[j] = input_known(L, n, j, node, err)))
            return -1;
    double start = onnx_known_get_f(in[0], 0), limit = onnx_known_get_f(in[1], 0);
    double delta = onnx_known_get_f(in[2], 0);
    if (delta == 0.0)
        return error_set(err, "node '%s' (Range): delta is 0", node);
    double steps = ceil((limit - start) / delta);
    if (!(steps <= (double)FOLD_MAX_ELEMENTS))
        return error_set(err, "node '%s' (Range): too many elements", node);
    struct shape s = {.rank = 1, .dim = {steps > 0 ? (int64_t)steps : 0}};
    struct known *out = output_add(L, n, node, in[0]->dtype, &s, err);
    if (!out)
        return -1;
    for (int64_t j = 0; j < s.dim[0]; j++) {
        if (out->f)
            out->f[j] = (float)(start + (double)j * delta);
        else
            out->i[j] = (int64_t)((uint64_t)onnx_known_get_i(in[0], 0) +
                                  (uint64_t)j * (uint64_t)onnx_known_get_i(in[2], 0));
    }
    return 0;
}

/* Expand: numpy broadcasting of the data against the shape input, both ways (ONNX). The
 * exporters tile InstanceNorm2d's running statistics over the batch this way. */
static int fold_expand(struct loader *L, const Onnx__NodeProto *n, const char *node,
                       struct error *err)
{
    const struct known *data = input_known(L, n, 0, node, err);
    const struct known *to = data ? input_known(L, n, 1, node, err) : NULL;
    int64_t dims[SHAPE_MAX_RANK];
    int32_t count = 0;
    struct shape want, s;
    if (!to || int_list(to, dims, SHAPE_MAX_RANK, &count, node, err) ||
        shape_from_list(dims, count, &want, node, err))
        return -1;
    if (broadcast_shape(&data->shape, &want, &s))
        return error_set(err, "node '%s' (Expand): the shapes do not broadcast", node);
    struct known *out = output_add(L, n, node, data->dtype, &s, err);
    if (!out)
        return -1;
    int64_t coord[SHAPE_MAX_RANK];
    for (int64_t o = 0; o < shape_count(&s); o++) {
        coords_of(&s, o, coord);
        elem_copy(out, o, data, broadcast_index(&data->shape, coord, s.rank));
    }
    return 0;
}

/* Tile: each axis repeated `repeats` times. */
static int fold_tile(struct loader *L, const Onnx__NodeProto *n, const char *node,
                     struct error *err)
{
    const struct known *data = input_known(L, n, 0, node, err);
    const struct known *rep = data ? input_known(L, n, 1, node, err) : NULL;
    int64_t repeats[SHAPE_MAX_RANK];
    int32_t count = 0;
    if (!rep || int_list(rep, repeats, SHAPE_MAX_RANK, &count, node, err))
        return -1;
    if (count != data->shape.rank)
        return error_set(err, "node '%s' (Tile): %d repeats for a rank-%d tensor", node, count,
                         data->shape.rank);
    struct shape s = data->shape;
    for (int32_t d = 0; d < s.rank; d++) {
        if (repeats[d] < 0 || (s.dim[d] > 0 && repeats[d] > FOLD_MAX_ELEMENTS / s.dim[d]))
            return error_set(err, "node '%s' (Tile): repeat %lld is out of range", node,
                             (long long)repeats[d]);
        s.dim[d] *= repeats[d];
    }
    struct known *out = output_add(L, n, node, data->dtype, &s, err);
    if (!out)
        return -1;
    int64_t coord[SHAPE_MAX_RANK];
    for (int64_t o = 0; o < shape_count(&s); o++) {
        coords_of(&s, o, coord);
        int64_t at = 0;
        for (int32_t d = 0; d < s.rank; d++)
            at = at * data->shape.dim[d] + coord[d] % data->shape.dim[d];
        elem_copy(out, o, data, at);
    }
    return 0;
}

/* Floor and Ceil (recompute_scale_factor's output sizes); integers are already whole. */
static int fold_round(struct loader *L, const Onnx__NodeProto *n, const char *node,
                      struct error *err)
{
    const struct known *data = input_known(L, n, 0, node, err);
    struct known *out = data ? output_add(L, n, node, data->dtype, &data->shape, err) : NULL;
    if (!out)
        return -1;
    bool up = strcmp(n->op_type, "Ceil") == 0;
    for (int64_t j = 0; j < shape_count(&data->shape); j++) {
        elem_copy(out, j, data, j);
        if (out->f)
            out->f[j] = up ? ceilf(out->f[j]) : floorf(out->f[j]);
    }
    return 0;
}

/* One operand of MatMul as rows x cols: a vector is a row on the left, a column on the
 * right (numpy); -1 for a rank above 2. */
static int matmul_dims(const struct known *k, bool left, int64_t *rows, int64_t *cols)
{
    if (k->shape.rank < 1 || k->shape.rank > 2)
        return -1;
    bool vector = k->shape.rank == 1;
    *rows = vector ? (left ? 1 : k->shape.dim[0]) : k->shape.dim[0];
    *cols = vector ? (left ? k->shape.dim[0] : 1) : k->shape.dim[1];
    return 0;
}

/* MatMul of float matrices and vectors in double: spectral_norm's sigma = u . (W v). */
static int fold_matmul(struct loader *L, const Onnx__NodeProto *n, const char *node,
                       struct error *err)
{
    const struct known *a = input_known(L, n, 0, node, err);
    const struct known *b = a ? input_known(L, n, 1, node, err) : NULL;
    int64_t m, k, k2, cols;
    if (!b)
        return -1;
    if (matmul_dims(a, true, &m, &k) || matmul_dims(b, false, &k2, &cols) || k != k2 ||
        a->dtype != DT_FLOAT || b->dtype != DT_FLOAT)
        return error_set(err,
                         "node '%s' (MatMul): mnemo evaluates at load float matrices and "
                         "vectors whose inner sizes agree only",
                         node);
    struct shape s = {0};
    if (a->shape.rank == 2)
        s.dim[s.rank++] = m;
    if (b->shape.rank == 2)
        s.dim[s.rank++] = cols;
    struct known *out = output_add(L, n, node, DT_FLOAT, &s, err);
    if (!out)
        return -1;
    for (int64_t r = 0; r < m; r++)
        for (int64_t c = 0; c < cols; c++) {
            double sum = 0.0;
            for (int64_t j = 0; j < k; j++)
                sum += (double)a->f[r * k + j] * b->f[j * cols + c];
            out->f[r * cols + c] = (float)sum;
        }
    return 0;
}

typedef int (*fold_fn)(struct loader *L, const Onnx__NodeProto *n, const char *node,
                       struct error *err);

static const struct {
    const char *op_type;
    fold_fn fold;
} folds[] = {
    {"Constant", fold_constant}, {"ConstantOfShape", fold_constant_of_shape},
    {"Shape", fold_shape},       {"Gather", fold_gather},
    {"Concat", fold_concat},     {"Reshape", fold_reshape},
    {"Slice", fold_slice},       {"Transpose", fold_transpose},
    {"Cast", fold_cast},         {"Unsqueeze", fold_unsqueeze},
    {"Squeeze", fold_squeeze},   {"Add", fold_binary},
    {"Sub", fold_binary},        {"Mul", fold_binary},
    {"Div", fold_binary},        {"Identity", fold_identity},
    {"Dropout", fold_identity},  {"Range", fold_range},
    {"Expand", fold_expand},     {"Tile", fold_tile},
    {"Floor", fold_round},       {"Ceil", fold_round},
    {"MatMul", fold_matmul},
};

static fold_fn fold_find(const char *op_type)
{
    for (size_t j = 0; j < sizeof folds / sizeof folds[0]; j++)
        if (strcmp(folds[j].op_type, op_type) == 0)
            return folds[j].fold;
    return NULL;
}

bool onnx_fold_supports(const char *op_type)
{
    return fold_find(op_type) != NULL;
}

int onnx_fold_node(struct loader *L, const Onnx__NodeProto *n, const char *node_name,
                   struct error *err)
{
    fold_fn fold = fold_find(n->op_type);
    if (!fold)
        return error_set(err, "node '%s': op '%s' cannot be evaluated at load", node_name,
                         n->op_type);
    if (n->n_output < 1)
        return error_set(err, "node '%s' (%s) has no output", node_name, n->op_type);
    return fold(L, n, node_name, err);
}

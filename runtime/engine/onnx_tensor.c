/* onnx_tensor.c — reads ONNX TensorProtos (initializers, Constant values) into the table
 * of known tensors: inline typed fields, raw little-endian bytes, or external data in a
 * file next to the model.
 *
 * Must never read outside the model's folder (absolute paths and '..' are refused) and
 * never trust a size from the file without checking it against the tensor's shape. */
#include "onnx_internal.h"
#include "log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static size_t dtype_size(int32_t dtype)
{
    return dtype == DT_INT64 ? 8 : dtype == DT_BOOL ? 1 : 4;
}

/* External data may only name a file inside the model's folder. */
static int external_location_check(const struct loader *L, const char *tensor, const char *location,
                                   struct error *err)
{
    if (!location || !location[0])
        return error_set(err, "tensor '%s' has external data without a location", tensor);
    if (location[0] == '/')
        return error_set(err,
                         "tensor '%s' points at '%s', an absolute path; external data "
                         "must sit next to the model (a path relative to its folder)",
                         tensor, location);
    for (const char *p = location; *p;) {
        size_t len = strcspn(p, "/");
        if (len == 2 && p[0] == '.' && p[1] == '.')
            return error_set(err,
                             "tensor '%s' points at '%s', which leaves the model's "
                             "folder; external data must sit next to the model",
                             tensor, location);
        p += len + (p[len] == '/');
    }
    (void)L;
    return 0;
}

struct external_ref {
    const char *location;
    long long offset, length; /* length -1: not given */
};

static int external_ref_read(const Onnx__TensorProto *t, const char *tensor,
                             struct external_ref *ref, struct error *err)
{
    *ref = (struct external_ref){.length = -1};
    for (size_t j = 0; j < t->n_external_data; j++) {
        const Onnx__StringStringEntryProto *e = t->external_data[j];
        if (!e->key || !e->value)
            continue;
        char *end = NULL;
        if (strcmp(e->key, "location") == 0)
            ref->location = e->value;
        else if (strcmp(e->key, "offset") == 0)
            ref->offset = strtoll(e->value, &end, 10);
        else if (strcmp(e->key, "length") == 0)
            ref->length = strtoll(e->value, &end, 10);
        if (end && (*end || ref->offset < 0 || ref->length < -1))
            return error_set(err, "tensor '%s': external data %s '%s' is not a byte count", tensor,
                             e->key, e->value);
    }
    return 0;
}

static int external_read(const struct loader *L, const Onnx__TensorProto *t, const char *tensor,
                         void *dst, size_t bytes, struct error *err)
{
    struct external_ref ref;
    if (external_ref_read(t, tensor, &ref, err) ||
        external_location_check(L, tensor, ref.location, err))
        return -1;
    if (ref.length >= 0 && (size_t)ref.length != bytes)
        return error_set(err,
                         "tensor '%s': external data length %lld does not match its shape "
                         "(%zu bytes)",
                         tensor, ref.length, bytes);
    size_t plen = strlen(L->dir) + strlen(ref.location) + 2;
    char *path = malloc(plen);
    if (!path)
        return error_set(err, "out of memory");
    snprintf(path, plen, "%s/%s", L->dir, ref.location);
    FILE *f = fopen(path, "rb");
    int rc = 0;
    if (!f)
        rc = error_set(err, "tensor '%s': cannot open its external data '%s': %s", tensor, path,
                       strerror(errno));
    else if (fseeko(f, (off_t)ref.offset, SEEK_SET) != 0 || fread(dst, 1, bytes, f) != bytes)
        rc = error_set(err,
                       "tensor '%s': external data '%s' is shorter than offset %lld + %zu "
                       "bytes",
                       tensor, path, ref.offset, bytes);
    if (f)
        fclose(f);
    free(path);
    return rc;
}

/* Copies inline typed data (float_data, int64_data, int32_data) into k. */
static int typed_data_copy(const Onnx__TensorProto *t, struct known *k, int64_t count,
                           struct error *err)
{
    size_t n = k->dtype == DT_FLOAT   ? t->n_float_data
               : k->dtype == DT_INT64 ? t->n_int64_data
                                      : t->n_int32_data;
    if ((int64_t)n != count)
        return error_set(err, "tensor '%s' has %zu values for a shape of %lld elements", k->name, n,
                         (long long)count);
    for (size_t j = 0; j < n; j++) {
        if (k->dtype == DT_FLOAT)
            k->f[j] = t->float_data[j];
        else
            k->i[j] = k->dtype == DT_INT64 ? t->int64_data[j] : t->int32_data[j];
    }
    return 0;
}

/* Widens packed little-endian bytes (raw or external) into k. */
static void raw_data_copy(const uint8_t *bytes, struct known *k, int64_t count)
{
    for (int64_t j = 0; j < count; j++) {
        if (k->dtype == DT_FLOAT) {
            memcpy(&k->f[j], bytes + 4 * j, 4);
        } else if (k->dtype == DT_INT64) {
            memcpy(&k->i[j], bytes + 8 * j, 8);
        } else if (k->dtype == DT_INT32) {
            int32_t v;
            memcpy(&v, bytes + 4 * j, 4);
            k->i[j] = v;
        } else {
            k->i[j] = bytes[j] != 0;
        }
    }
}

static int tensor_bytes_copy(struct loader *L, const Onnx__TensorProto *t, struct known *k,
                             int64_t count, struct error *err)
{
    size_t bytes = (size_t)count * dtype_size(k->dtype);
    bool external =
        t->has_data_location && t->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL;
    if (!external && !t->has_raw_data)
        return typed_data_copy(t, k, count, err);
    if (!external && t->raw_data.len != bytes)
        return error_set(err,
                         "tensor '%s' has %zu bytes of data for shape %lld elements of %s "
                         "(%zu bytes expected)",
                         k->name, t->raw_data.len, (long long)count, onnx_dtype_name(k->dtype),
                         bytes);
    if (!external) {
        raw_data_copy(t->raw_data.data, k, count);
        return 0;
    }
    uint8_t *buf = malloc(bytes ? bytes : 1);
    if (!buf)
        return error_set(err, "out of memory for tensor '%s'", k->name);
    int rc = external_read(L, t, k->name, buf, bytes, err);
    if (!rc)
        raw_data_copy(buf, k, count);
    free(buf);
    return rc;
}

static void nonfinite_warn(const struct loader *L, const struct known *k)
{
    int64_t bad = 0, count = shape_count(&k->shape);
    for (int64_t j = 0; j < count; j++)
        bad += !isfinite(k->f[j]);
    if (bad)
        log_warn("'%s': weights '%s' hold %lld NaN/Inf values out of %lld; the output will likely "
                 "be NaN too (re-export the model from a healthy checkpoint)",
                 L->path, k->name, (long long)bad, (long long)count);
}

int onnx_known_add_tensor(struct loader *L, const Onnx__TensorProto *t, const char *name,
                          struct error *err)
{
    int32_t dtype = t->has_data_type ? t->data_type : 0;
    if (!onnx_dtype_is_integer(dtype) && dtype != DT_FLOAT)
        return error_set(err,
                         "tensor '%s' has ONNX data type %d; mnemo reads float32 weights "
                         "(and int64/int32/bool constants); re-export the model in float32",
                         name, dtype);
    if (t->n_dims > SHAPE_MAX_RANK)
        return error_set(err, "tensor '%s' has rank %zu; mnemo handles up to %d", name, t->n_dims,
                         SHAPE_MAX_RANK);
    struct shape s = {.rank = (int32_t)t->n_dims};
    for (size_t d = 0; d < t->n_dims; d++) {
        if (t->dims[d] < 0 || t->dims[d] > (1LL << 31))
            return error_set(err, "tensor '%s' has a bad dimension %lld", name,
                             (long long)t->dims[d]);
        s.dim[d] = t->dims[d];
    }
    struct known *k = onnx_known_add(&L->known, name, dtype, &s, err);
    if (!k)
        return -1;
    if (tensor_bytes_copy(L, t, k, shape_count(&s), err)) {
        /* Drop the half-filled entry so that nothing reads it. */
        L->known.n--;
        free(k->name);
        free(k->f);
        free(k->i);
        free(k);
        return -1;
    }
    if (k->f)
        nonfinite_warn(L, k);
    L->fold_room += shape_count(&s);
    return 0;
}

/* Puts the first node that reads `tensor` in front of err, so that a weight mnemo cannot
 * take is refused with the layer that uses it (named as onnx_ops.c names nodes). */
static int initializer_reader_prefix(const struct loader *L, const char *tensor, struct error *err)
{
    const Onnx__GraphProto *gp = L->model->graph;
    for (size_t j = 0; j < gp->n_node; j++) {
        const Onnx__NodeProto *n = gp->node[j];
        const char *op = n->op_type ? n->op_type : "node";
        for (size_t k = 0; k < n->n_input; k++) {
            if (!n->input[k] || strcmp(n->input[k], tensor) != 0)
                continue;
            if (n->name && n->name[0])
                return error_prefix(err, "node '%s' (%s) reads it", n->name, op);
            return error_prefix(err, "node '%s_%zu' (%s) reads it", op, j, op);
        }
    }
    return -1;
}

int onnx_initializers_read(struct loader *L, struct error *err)
{
    const Onnx__GraphProto *gp = L->model->graph;
    for (size_t j = 0; j < gp->n_initializer; j++) {
        const Onnx__TensorProto *t = gp->initializer[j];
        if (!t->name || !t->name[0])
            return error_set(err, "initializer %zu has no name", j);
        if (onnx_known_add_tensor(L, t, t->name, err))
            return initializer_reader_prefix(L, t->name, err);
    }
    return 0;
}

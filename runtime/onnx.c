/* onnx.c — reads an ONNX file into the internal graph (contract in onnx.h).
 *
 * Owns: reading and parsing the file, initializers (inline or external data next to the
 * model), the one input and the one output, and the mapping of each ONNX node onto a
 * graph node, an alias (Identity, Dropout) or a load-time evaluation (onnx_fold.c).
 *
 * Must never guess: an op, attribute or mode it does not run is a load-time error naming
 * the file, the node and the op, never a silently different result. Never prints except
 * through warn(); every protobuf message and every allocation is freed on every path. */
#include "onnx_internal.h"

#include <errno.h>
#include <float.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define OPSET_TESTED_MIN 11
#define OPSET_TESTED_MAX 17

/* ---- small helpers shared with onnx_fold.c ---- */

const Onnx__AttributeProto *attr_find(const Onnx__NodeProto *n, const char *name)
{
    for (size_t j = 0; j < n->n_attribute; j++)
        if (n->attribute[j]->name && strcmp(n->attribute[j]->name, name) == 0)
            return n->attribute[j];
    return NULL;
}

int64_t attr_int(const Onnx__NodeProto *n, const char *name, int64_t fallback)
{
    const Onnx__AttributeProto *a = attr_find(n, name);
    return a ? a->i : fallback;
}

float attr_float(const Onnx__NodeProto *n, const char *name, float fallback)
{
    const Onnx__AttributeProto *a = attr_find(n, name);
    return a ? a->f : fallback;
}

const char *attr_string(const Onnx__NodeProto *n, const char *name, const char *fallback, char *buf,
                        size_t size)
{
    const Onnx__AttributeProto *a = attr_find(n, name);
    if (!a || !a->has_s)
        snprintf(buf, size, "%s", fallback);
    else
        snprintf(buf, size, "%.*s", (int)(a->s.len < size ? a->s.len : size - 1),
                 (const char *)a->s.data);
    return buf;
}

const char *node_input(const Onnx__NodeProto *n, size_t i)
{
    return i < n->n_input && n->input[i] && n->input[i][0] ? n->input[i] : NULL;
}

int32_t loader_find_value(const struct loader *L, const char *name)
{
    for (int32_t j = L->n_aliases - 1; j >= 0; j--)
        if (strcmp(L->aliases[j].name, name) == 0)
            return L->aliases[j].value;
    return graph_find_value(L->g, name);
}

/* ---- reading the file ---- */

static int file_read(const char *path, uint8_t **data, size_t *size, struct error *err)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return error_set(err, "cannot open '%s': %s", path, strerror(errno));
    size_t cap = 1 << 16, used = 0;
    uint8_t *buf = malloc(cap);
    while (buf) {
        used += fread(buf + used, 1, cap - used, f);
        if (used < cap)
            break;
        uint8_t *bigger = realloc(buf, cap * 2);
        if (!bigger) {
            free(buf);
            buf = NULL;
            break;
        }
        buf = bigger;
        cap *= 2;
    }
    int failed = ferror(f);
    fclose(f);
    if (!buf)
        return error_set(err, "out of memory reading '%s'", path);
    if (failed) {
        free(buf);
        return error_set(err, "cannot read '%s'", path);
    }
    *data = buf;
    *size = used;
    return 0;
}

static char *dir_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        return strdup(".");
    size_t len = slash == path ? 1 : (size_t)(slash - path);
    char *dir = malloc(len + 1);
    if (dir) {
        memcpy(dir, path, len);
        dir[len] = '\0';
    }
    return dir;
}

static int model_parse(struct loader *L, struct error *err)
{
    uint8_t *data = NULL;
    size_t size = 0;
    if (file_read(L->path, &data, &size, err))
        return -1;
    /* protobuf-c copies what it keeps, so the file buffer can go at once. */
    L->model = size ? onnx__model_proto__unpack(NULL, size, data) : NULL;
    free(data);
    if (!L->model)
        return error_set(err,
                         "'%s' is not an ONNX model (protobuf parse failed%s); check "
                         "that the file is complete and was written by an ONNX exporter",
                         L->path, size ? "" : ": the file is empty");
    const Onnx__GraphProto *gp = L->model->graph;
    const char *missing = !gp             ? "graph"
                          : !gp->n_node   ? "nodes"
                          : !gp->n_input  ? "inputs"
                          : !gp->n_output ? "outputs"
                                          : NULL;
    if (missing)
        return error_set(err, "'%s' is not an ONNX model: it has no %s", L->path, missing);
    return 0;
}

static void model_read_opset(struct loader *L)
{
    L->opset = -1;
    for (size_t j = 0; j < L->model->n_opset_import; j++) {
        const Onnx__OperatorSetIdProto *o = L->model->opset_import[j];
        if (!o->domain || !o->domain[0] || strcmp(o->domain, "ai.onnx") == 0)
            L->opset = o->version;
    }
    if (L->opset < 0) {
        L->opset = 13;
        warn("'%s' declares no opset for the default ONNX domain; reading it as opset 13", L->path);
    } else if (L->opset < OPSET_TESTED_MIN || L->opset > OPSET_TESTED_MAX) {
        warn("'%s' uses opset %lld; mnemo is tested with opsets %d-%d and will try anyway", L->path,
             (long long)L->opset, OPSET_TESTED_MIN, OPSET_TESTED_MAX);
    }
}

/* ---- tensors: initializers and Constant values ---- */

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
                         k->name, t->raw_data.len, (long long)count, dtype_name(k->dtype), bytes);
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
        warn("'%s': weights '%s' hold %lld NaN/Inf values out of %lld; the output will likely "
             "be NaN too (re-export the model from a healthy checkpoint)",
             L->path, k->name, (long long)bad, (long long)count);
}

int known_add_tensor(struct loader *L, const Onnx__TensorProto *t, const char *name,
                     struct error *err)
{
    int32_t dtype = t->has_data_type ? t->data_type : 0;
    if (!dtype_is_integer(dtype) && dtype != DT_FLOAT)
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
    struct known *k = known_add(&L->known, name, dtype, &s, err);
    if (!k)
        return -1;
    if (tensor_bytes_copy(L, t, k, shape_count(&s), err)) {
        /* Drop the half-filled entry so that nothing reads it. */
        L->known.n--;
        free(k->name);
        free(k->f);
        free(k->i);
        return -1;
    }
    if (k->f)
        nonfinite_warn(L, k);
    return 0;
}

static int initializers_read(struct loader *L, struct error *err)
{
    const Onnx__GraphProto *gp = L->model->graph;
    for (size_t j = 0; j < gp->n_initializer; j++) {
        const Onnx__TensorProto *t = gp->initializer[j];
        if (!t->name || !t->name[0])
            return error_set(err, "initializer %zu has no name", j);
        if (known_add_tensor(L, t, t->name, err))
            return -1;
    }
    return 0;
}

/* ---- the input and the output ---- */

static bool is_initializer(const struct loader *L, const char *name)
{
    const Onnx__GraphProto *gp = L->model->graph;
    for (size_t j = 0; j < gp->n_initializer; j++)
        if (gp->initializer[j]->name && strcmp(gp->initializer[j]->name, name) == 0)
            return true;
    return false;
}

static int real_input_find(const struct loader *L, const Onnx__ValueInfoProto **found,
                           struct error *err)
{
    const Onnx__GraphProto *gp = L->model->graph;
    char names[256] = "";
    int count = 0;
    for (size_t j = 0; j < gp->n_input; j++) {
        const char *name = gp->input[j]->name ? gp->input[j]->name : "";
        if (is_initializer(L, name))
            continue;
        size_t used = strlen(names);
        snprintf(names + used, sizeof names - used, "%s'%s'", count ? ", " : "", name);
        *found = gp->input[j];
        count++;
    }
    if (count != 1)
        return error_set(err,
                         "'%s' has %d inputs (%s); mnemo runs models with exactly one "
                         "image input",
                         L->path, count, names);
    return 0;
}

/* One spatial dimension: fixed in the file, given by the caller, or both (must agree). */
static int input_dim_resolve(const struct loader *L, const char *input, const char *what,
                             int64_t file_dim, int64_t given, const char *dims_text, int64_t *out,
                             struct error *err)
{
    if (file_dim > 0 && given > 0 && file_dim != given)
        return error_set(err,
                         "input '%s' of '%s' has a fixed %s of %lld (%s); the requested "
                         "size %lld contradicts it",
                         input, L->path, what, (long long)file_dim, dims_text, (long long)given);
    if (file_dim <= 0 && given <= 0)
        return error_set(err, "input '%s' of '%s' has a dynamic size (%s); give --size HxW", input,
                         L->path, dims_text);
    *out = file_dim > 0 ? file_dim : given;
    return 0;
}

/* The dims as the file writes them, e.g. "N x 3 x H x W" with names for dynamic ones. */
static void dims_describe(const Onnx__TensorShapeProto *sp, char *buf, size_t size)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t d = 0; sp && d < sp->n_dim && used < size; d++) {
        const Onnx__TensorShapeProto__Dimension *dim = sp->dim[d];
        const char *sep = d ? "x" : "";
        int n;
        if (dim->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE)
            n = snprintf(buf + used, size - used, "%s%lld", sep, (long long)dim->dim_value);
        else if (dim->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM)
            n = snprintf(buf + used, size - used, "%s%s", sep, dim->dim_param);
        else
            n = snprintf(buf + used, size - used, "%s?", sep);
        used += n > 0 ? (size_t)n : 0;
    }
}

static int64_t dim_fixed(const Onnx__TensorShapeProto *sp, size_t d)
{
    const Onnx__TensorShapeProto__Dimension *dim = sp->dim[d];
    return dim->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE ? dim->dim_value
                                                                                   : 0;
}

static int input_add(struct loader *L, struct error *err)
{
    const Onnx__ValueInfoProto *vi = NULL;
    if (real_input_find(L, &vi, err))
        return -1;
    const char *name = vi->name;
    const Onnx__TypeProto__Tensor *tt =
        vi->type && vi->type->value_case == ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE
            ? vi->type->tensor_type
            : NULL;
    if (!tt || tt->elem_type != DT_FLOAT)
        return error_set(err, "input '%s' of '%s' is not a float32 tensor", name, L->path);
    const Onnx__TensorShapeProto *sp = tt->shape;
    char dims[160];
    dims_describe(sp, dims, sizeof dims);
    if (!sp || sp->n_dim != 4)
        return error_set(err,
                         "input '%s' of '%s' has the wrong input rank %zu (%s); mnemo "
                         "runs image models with an NxCxHxW input",
                         name, L->path, sp ? sp->n_dim : 0, sp ? dims : "no shape");
    if (dim_fixed(sp, 1) <= 0)
        return error_set(err,
                         "input '%s' of '%s' has a dynamic channel count (%s); "
                         "re-export it with a fixed number of channels",
                         name, L->path, dims);
    struct shape s =
        shape_make4(dim_fixed(sp, 0) > 0 ? dim_fixed(sp, 0) : 1, dim_fixed(sp, 1), 0, 0);
    int64_t want_h = L->opt ? L->opt->height : 0, want_w = L->opt ? L->opt->width : 0;
    if (input_dim_resolve(L, name, "height", dim_fixed(sp, 2), want_h, dims, &s.dim[2], err) ||
        input_dim_resolve(L, name, "width", dim_fixed(sp, 3), want_w, dims, &s.dim[3], err))
        return -1;
    int32_t id = graph_add_value(L->g, name, VALUE_INPUT, &s, err);
    if (id < 0)
        return -1;
    L->g->input = id;
    return 0;
}

static int outputs_check(const struct loader *L, struct error *err)
{
    const Onnx__GraphProto *gp = L->model->graph;
    if (gp->n_output != 1)
        return error_set(err,
                         "'%s' has %zu outputs; mnemo runs models with exactly one "
                         "image output",
                         L->path, gp->n_output);
    return 0;
}

/* After the nodes: the output must be computed from the input. Messages get the file name
 * in front from onnx_load. */
static int output_set(struct loader *L, struct error *err)
{
    const char *name = L->model->graph->output[0]->name;
    name = name ? name : "";
    int32_t id = loader_find_value(L, name);
    if (id < 0 && known_find(&L->known, name))
        return error_set(err,
                         "the output '%s' is a constant: the model computes nothing from "
                         "its input",
                         name);
    if (id < 0)
        return error_set(err, "no node produces the output '%s'", name);
    if (id == L->g->input || L->g->n_nodes == 0)
        return error_set(err, "no operation to run: the output is the input");
    L->g->output = id;
    return 0;
}

/* ---- nodes ---- */

struct node_ctx {
    const Onnx__NodeProto *n;
    const char *name; /* the node's name, or "<OpType>_<index>" */
};

/* The graph value for input i, copying a known float constant into the graph on first
 * use. */
static int32_t input_value(struct loader *L, const struct node_ctx *c, size_t i, struct error *err)
{
    const char *name = node_input(c->n, i);
    if (!name)
        return -1;
    int32_t id = loader_find_value(L, name);
    if (id >= 0)
        return id;
    const struct known *k = known_find(&L->known, name);
    if (!k)
        return error_set(err,
                         "node '%s' (%s) reads '%s', which no earlier node produces "
                         "(the graph must be in topological order)",
                         c->name, c->n->op_type, name);
    if (k->dtype != DT_FLOAT)
        return error_set(err,
                         "node '%s' (%s) reads the %s constant '%s'; mnemo runs float32 "
                         "tensors only",
                         c->name, c->n->op_type, dtype_name(k->dtype), name);
    return graph_add_const(L->g, name, &k->shape, k->f, err);
}

/* Adds a graph node of `op` whose first `n_tensors` ONNX inputs are graph values and whose
 * first output is a new computed value. Parameters are the caller's to fill. */
static struct node *node_begin(struct loader *L, const struct node_ctx *c, enum op op,
                               size_t n_tensors, struct error *err)
{
    int32_t inputs[NODE_MAX_INPUTS];
    size_t count = c->n->n_input < n_tensors ? c->n->n_input : n_tensors;
    if (count > NODE_MAX_INPUTS || !node_input(c->n, 0)) {
        error_set(err, "node '%s' (%s) has %zu inputs; mnemo handles 1 to %d", c->name,
                  c->n->op_type, c->n->n_input, NODE_MAX_INPUTS);
        return NULL;
    }
    for (size_t j = 0; j < count; j++) {
        inputs[j] = input_value(L, c, j, err);
        if (inputs[j] < 0 && node_input(c->n, j))
            return NULL;
    }
    int32_t out = graph_add_value(L->g, c->n->output[0], VALUE_COMPUTED, NULL, err);
    struct node *node = out < 0 ? NULL : graph_add_node(L->g, op, c->name, c->n->op_type, err);
    if (!node)
        return NULL;
    node->n_inputs = (int32_t)count;
    memcpy(node->input, inputs, count * sizeof inputs[0]);
    node->output = out;
    return node;
}

static const struct shape *input_shape(const struct loader *L, const struct node *node, int i)
{
    return &L->g->values[node->input[i]].shape;
}

static int ints_to_i32(const Onnx__AttributeProto *a, int32_t *dst, size_t want, int64_t lo,
                       const struct node_ctx *c, struct error *err)
{
    if (!a)
        return 0;
    if (a->n_ints != want)
        return error_set(err, "node '%s' (%s): attribute '%s' has %zu values, expected %zu",
                         c->name, c->n->op_type, a->name, a->n_ints, want);
    for (size_t j = 0; j < want; j++) {
        if (a->ints[j] < lo || a->ints[j] > (1 << 20))
            return error_set(err, "node '%s' (%s): attribute '%s' value %lld is out of range",
                             c->name, c->n->op_type, a->name, (long long)a->ints[j]);
        dst[j] = (int32_t)a->ints[j];
    }
    return 0;
}

/* Splits a total padding between begin and end as ONNX's auto_pad says. */
static void pad_split(int64_t total, bool upper, int32_t *begin, int32_t *end)
{
    *begin = (int32_t)(upper ? total / 2 : total - total / 2);
    *end = (int32_t)(total - *begin);
}

static int conv_common(struct loader *L, const struct node_ctx *c, struct node *node,
                       struct error *err)
{
    struct conv_params *p = &node->p.conv;
    const struct shape *w = input_shape(L, node, 1);
    if (node->input[1] < 0 || w->rank != 4)
        return error_set(err, "node '%s' (%s): weights must be a 4-D constant", c->name,
                         c->n->op_type);
    p->kernel[0] = (int32_t)w->dim[2];
    p->kernel[1] = (int32_t)w->dim[3];
    p->stride[0] = p->stride[1] = p->dilation[0] = p->dilation[1] = 1;
    p->group = (int32_t)attr_int(c->n, "group", 1);
    if (p->group != 1)
        return error_set(err,
                         "node '%s' (%s) has group %d; mnemo runs only group 1 "
                         "(no grouped or depthwise convolutions)",
                         c->name, c->n->op_type, p->group);
    int32_t kernel[2] = {p->kernel[0], p->kernel[1]};
    if (ints_to_i32(attr_find(c->n, "kernel_shape"), kernel, 2, 1, c, err) ||
        ints_to_i32(attr_find(c->n, "strides"), p->stride, 2, 1, c, err) ||
        ints_to_i32(attr_find(c->n, "dilations"), p->dilation, 2, 1, c, err) ||
        ints_to_i32(attr_find(c->n, "pads"), p->pad, 4, 0, c, err) ||
        ints_to_i32(attr_find(c->n, "output_padding"), p->output_padding, 2, 0, c, err))
        return -1;
    if (kernel[0] != p->kernel[0] || kernel[1] != p->kernel[1])
        return error_set(err, "node '%s' (%s): kernel_shape %dx%d does not match the weights",
                         c->name, c->n->op_type, kernel[0], kernel[1]);
    return 0;
}

/* auto_pad for Conv: SAME_* keeps ceil(in / stride) outputs. */
static int conv_auto_pad(const struct loader *L, const struct node_ctx *c, struct node *node,
                         struct error *err)
{
    char mode[32];
    attr_string(c->n, "auto_pad", "NOTSET", mode, sizeof mode);
    struct conv_params *p = &node->p.conv;
    bool same_upper = strcmp(mode, "SAME_UPPER") == 0;
    if (strcmp(mode, "NOTSET") == 0)
        return 0;
    if (strcmp(mode, "VALID") == 0) {
        memset(p->pad, 0, sizeof p->pad);
        return 0;
    }
    if (!same_upper && strcmp(mode, "SAME_LOWER") != 0)
        return error_set(err, "node '%s' (%s): auto_pad '%s' is not an ONNX mode", c->name,
                         c->n->op_type, mode);
    const struct shape *x = input_shape(L, node, 0);
    for (int d = 0; d < 2; d++) {
        int64_t in = x->dim[2 + d], s = p->stride[d];
        int64_t out = node->op == OP_CONV ? (in + s - 1) / s : in * s;
        int64_t span = (int64_t)(p->kernel[d] - 1) * p->dilation[d] + 1;
        int64_t total = node->op == OP_CONV ? (out - 1) * s + span - in
                                            : s * (in - 1) + p->output_padding[d] + span - out;
        pad_split(total > 0 ? total : 0, same_upper, &p->pad[d], &p->pad[2 + d]);
    }
    return 0;
}

/* ConvTranspose output_shape: the pads follow from the wanted spatial size. */
static int conv_transpose_output_shape(const struct loader *L, const struct node_ctx *c,
                                       struct node *node, struct error *err)
{
    const Onnx__AttributeProto *a = attr_find(c->n, "output_shape");
    if (!a)
        return 0;
    if (a->n_ints != 2 && a->n_ints != 4)
        return error_set(err, "node '%s' (ConvTranspose): output_shape needs 2 values", c->name);
    char mode[32];
    attr_string(c->n, "auto_pad", "NOTSET", mode, sizeof mode);
    struct conv_params *p = &node->p.conv;
    const struct shape *x = input_shape(L, node, 0);
    for (int d = 0; d < 2; d++) {
        int64_t want = a->ints[a->n_ints - 2 + d];
        int64_t span = (int64_t)(p->kernel[d] - 1) * p->dilation[d] + 1;
        int64_t total = p->stride[d] * (x->dim[2 + d] - 1) + p->output_padding[d] + span - want;
        if (total < 0)
            return error_set(err,
                             "node '%s' (ConvTranspose): output_shape %lld is larger "
                             "than the layer makes; mnemo cannot pad it",
                             c->name, (long long)want);
        pad_split(total, strcmp(mode, "SAME_UPPER") == 0, &p->pad[d], &p->pad[2 + d]);
    }
    return 0;
}

static int node_finish(struct loader *L, struct node *node, struct error *err)
{
    return graph_infer_shape(L->g, node, err);
}

static int build_conv(struct loader *L, const struct node_ctx *c, struct error *err)
{
    bool transpose = strcmp(c->n->op_type, "ConvTranspose") == 0;
    struct node *node = node_begin(L, c, transpose ? OP_CONV_TRANSPOSE : OP_CONV, 3, err);
    if (!node || conv_common(L, c, node, err))
        return -1;
    if (transpose && attr_find(c->n, "output_shape"))
        return conv_transpose_output_shape(L, c, node, err) || node_finish(L, node, err);
    return conv_auto_pad(L, c, node, err) || node_finish(L, node, err);
}

static int build_batch_norm(struct loader *L, const struct node_ctx *c, struct error *err)
{
    if (attr_int(c->n, "training_mode", 0) != 0 || attr_int(c->n, "spatial", 1) != 1)
        return error_set(err,
                         "node '%s' (BatchNormalization) is in training mode or not "
                         "spatial; mnemo runs inference-mode spatial BatchNorm only "
                         "(export with model.eval())",
                         c->name);
    struct node *node = node_begin(L, c, OP_BATCH_NORM, 5, err);
    if (!node)
        return -1;
    node->p.norm.epsilon = attr_float(c->n, "epsilon", 1e-5f);
    return node_finish(L, node, err);
}

static int build_instance_norm(struct loader *L, const struct node_ctx *c, struct error *err)
{
    struct node *node = node_begin(L, c, OP_INSTANCE_NORM, 3, err);
    if (!node)
        return -1;
    node->p.norm.epsilon = attr_float(c->n, "epsilon", 1e-5f);
    return node_finish(L, node, err);
}

/* A scalar float constant from input i (Clip min/max, Pad constant_value). */
static int scalar_input(struct loader *L, const struct node_ctx *c, size_t i, float *value,
                        struct error *err)
{
    const char *name = node_input(c->n, i);
    if (!name)
        return 0;
    const struct known *k = known_find(&L->known, name);
    if (!k || shape_count(&k->shape) != 1)
        return error_set(err,
                         "node '%s' (%s): input '%s' must be a one-value constant; mnemo "
                         "does not compute it at run time",
                         c->name, c->n->op_type, name);
    *value = (float)known_get_f(k, 0);
    return 0;
}

static int build_activation(struct loader *L, const struct node_ctx *c, struct error *err)
{
    const char *op = c->n->op_type;
    struct act a = {.kind = ACT_RELU};
    if (strcmp(op, "LeakyRelu") == 0)
        a = (struct act){.kind = ACT_LEAKY_RELU, .alpha = attr_float(c->n, "alpha", 0.01f)};
    else if (strcmp(op, "Tanh") == 0)
        a.kind = ACT_TANH;
    else if (strcmp(op, "Sigmoid") == 0)
        a.kind = ACT_SIGMOID;
    else if (strcmp(op, "Clip") == 0) {
        a = (struct act){.kind = ACT_CLIP, .alpha = -FLT_MAX, .beta = FLT_MAX};
        if (L->opset < 11) {
            a.alpha = attr_float(c->n, "min", -FLT_MAX);
            a.beta = attr_float(c->n, "max", FLT_MAX);
        } else if (scalar_input(L, c, 1, &a.alpha, err) || scalar_input(L, c, 2, &a.beta, err)) {
            return -1;
        }
    }
    struct node *node = node_begin(L, c, OP_ACTIVATION, 1, err);
    if (!node)
        return -1;
    node->act = a;
    return node_finish(L, node, err);
}

static int build_binary(struct loader *L, const struct node_ctx *c, struct error *err)
{
    static const char *const kinds[BINARY_COUNT] = {"Add", "Sub", "Mul", "Div"};
    struct node *node = node_begin(L, c, OP_BINARY, 2, err);
    if (!node)
        return -1;
    for (int k = 0; k < BINARY_COUNT; k++)
        if (strcmp(kinds[k], c->n->op_type) == 0)
            node->p.binary.kind = (enum binary_kind)k;
    return node_finish(L, node, err);
}

static int build_concat(struct loader *L, const struct node_ctx *c, struct error *err)
{
    struct node *node = node_begin(L, c, OP_CONCAT, NODE_MAX_INPUTS, err);
    if (!node)
        return -1;
    if (c->n->n_input > NODE_MAX_INPUTS)
        return error_set(err, "node '%s' (Concat) joins %zu tensors; mnemo handles up to %d",
                         c->name, c->n->n_input, NODE_MAX_INPUTS);
    int32_t rank = input_shape(L, node, 0)->rank;
    int64_t axis = attr_int(c->n, "axis", 1);
    if (axis < -rank || axis >= rank)
        return error_set(err, "node '%s' (Concat): axis %lld is out of range for rank %d", c->name,
                         (long long)axis, rank);
    node->p.concat.axis = (int32_t)(axis < 0 ? axis + rank : axis);
    return node_finish(L, node, err);
}

static int pad_mode_parse(const struct node_ctx *c, enum pad_mode *mode, struct error *err)
{
    char text[32];
    attr_string(c->n, "mode", "constant", text, sizeof text);
    static const char *const names[PAD_MODE_COUNT] = {"constant", "reflect", "edge"};
    for (int m = 0; m < PAD_MODE_COUNT; m++)
        if (strcmp(text, names[m]) == 0) {
            *mode = (enum pad_mode)m;
            return 0;
        }
    return error_set(err,
                     "node '%s' (Pad): mode '%s' is not supported (constant, reflect, "
                     "edge)",
                     c->name, text);
}

/* Pads from the attribute (opset < 11) or from the constant input 1 (with the optional
 * axes input of opset 18), into ONNX order for a tensor of `rank`. */
static int pad_amounts(struct loader *L, const struct node_ctx *c, int32_t rank, int64_t *pads,
                       struct error *err)
{
    const Onnx__AttributeProto *a = L->opset < 11 ? attr_find(c->n, "pads") : NULL;
    const char *name = L->opset < 11 ? NULL : node_input(c->n, 1);
    const struct known *k = name ? known_find(&L->known, name) : NULL;
    if (!a && !k)
        return error_set(err,
                         "node '%s' (Pad): pads%s%s%s is not a constant; mnemo needs pads "
                         "known at load",
                         c->name, name ? " '" : "", name ? name : "", name ? "'" : "");
    int64_t count = a ? (int64_t)a->n_ints : shape_count(&k->shape);
    const char *axes_name = L->opset < 11 ? NULL : node_input(c->n, 3);
    if (axes_name)
        return error_set(err, "node '%s' (Pad): the 'axes' input is not supported", c->name);
    if (count != 2 * rank || (k && !dtype_is_integer(k->dtype)))
        return error_set(err,
                         "node '%s' (Pad): pads has %lld values for a rank-%d input "
                         "(expected %d integers)",
                         c->name, (long long)count, rank, 2 * rank);
    for (int64_t j = 0; j < count; j++) {
        pads[j] = a ? a->ints[j] : k->i[j];
        if (pads[j] < 0)
            return error_set(err, "node '%s' (Pad): negative pads (cropping) are not supported",
                             c->name);
    }
    return 0;
}

static int build_pad(struct loader *L, const struct node_ctx *c, struct error *err)
{
    struct node *node = node_begin(L, c, OP_PAD, 1, err);
    if (!node)
        return -1;
    struct pad_params *p = &node->p.pad;
    if (pad_mode_parse(c, &p->mode, err) ||
        pad_amounts(L, c, input_shape(L, node, 0)->rank, p->pads, err))
        return -1;
    p->value = attr_float(c->n, "value", 0.0f);
    if (L->opset >= 11 && scalar_input(L, c, 2, &p->value, err))
        return -1;
    return node_finish(L, node, err);
}

/* Resize/Upsample modes; opsets before 11 had only asymmetric coordinates and floor. */
/* Index of `text` in names[count], or -1. */
static int name_index(const char *text, const char *const *names, int count)
{
    for (int j = 0; j < count; j++)
        if (strcmp(text, names[j]) == 0)
            return j;
    return -1;
}

static int resize_modes(const struct loader *L, const struct node_ctx *c, struct resize_params *p,
                        struct error *err)
{
    static const char *const modes[] = {"nearest", "linear", "bilinear"};
    static const char *const coords[RESIZE_COORD_COUNT] = {"half_pixel", "pytorch_half_pixel",
                                                           "align_corners", "asymmetric"};
    static const char *const nearest[RESIZE_NEAREST_COUNT] = {"round_prefer_floor",
                                                              "round_prefer_ceil", "floor", "ceil"};
    bool old = L->opset < 11 || strcmp(c->n->op_type, "Upsample") == 0;
    char mode[32], coord[32], near[32], policy[32];
    attr_string(c->n, "mode", "nearest", mode, sizeof mode);
    attr_string(c->n, "coordinate_transformation_mode", old ? "asymmetric" : "half_pixel", coord,
                sizeof coord);
    attr_string(c->n, "nearest_mode", old ? "floor" : "round_prefer_floor", near, sizeof near);
    attr_string(c->n, "keep_aspect_ratio_policy", "stretch", policy, sizeof policy);
    int m = name_index(mode, modes, 3), k = name_index(coord, coords, RESIZE_COORD_COUNT);
    int r = name_index(near, nearest, RESIZE_NEAREST_COUNT);
    const char *bad = m < 0                                  ? "mode"
                      : k < 0                                ? "coordinate_transformation_mode"
                      : r < 0                                ? "nearest_mode"
                      : attr_int(c->n, "exclude_outside", 0) ? "exclude_outside"
                      : attr_int(c->n, "antialias", 0)       ? "antialias"
                      : attr_find(c->n, "axes")              ? "axes"
                      : strcmp(policy, "stretch") != 0       ? "keep_aspect_ratio_policy"
                                                             : NULL;
    if (bad)
        return error_set(err,
                         "node '%s' (%s): this %s is not supported (mode '%s', coordinates "
                         "'%s', nearest '%s'); mnemo runs nearest or linear with half_pixel, "
                         "pytorch_half_pixel, align_corners or asymmetric coordinates",
                         c->name, c->n->op_type, bad, mode, coord, near);
    p->mode = m == 0 ? RESIZE_NEAREST : RESIZE_LINEAR;
    p->coord = (enum resize_coord)k;
    p->nearest = (enum resize_nearest)r;
    return 0;
}

/* Where the scales or sizes are: input index by op and opset, or the Upsample attribute. */
static int resize_factors(struct loader *L, const struct node_ctx *c, double *scale, int64_t *sizes,
                          bool *by_size, struct error *err)
{
    bool upsample = strcmp(c->n->op_type, "Upsample") == 0;
    const Onnx__AttributeProto *a = upsample ? attr_find(c->n, "scales") : NULL;
    if (a && a->n_floats == 4) {
        for (int d = 0; d < 4; d++)
            scale[d] = a->floats[d];
        return 0;
    }
    size_t scales_at = (upsample || L->opset < 11) ? 1 : 2;
    const char *names[2] = {node_input(c->n, scales_at), upsample ? NULL : node_input(c->n, 3)};
    for (int j = 0; j < 2; j++) {
        const struct known *k = names[j] ? known_find(&L->known, names[j]) : NULL;
        if (names[j] && !k)
            return error_set(err,
                             "node '%s' (%s): %s '%s' is not a constant; mnemo needs it "
                             "known at load",
                             c->name, c->n->op_type, j ? "sizes" : "scales", names[j]);
        if (!k || shape_count(&k->shape) == 0)
            continue; /* an empty tensor stands for "not given" */
        if (shape_count(&k->shape) != 4)
            return error_set(err, "node '%s' (%s): %s needs 4 values (N, C, H, W)", c->name,
                             c->n->op_type, j ? "sizes" : "scales");
        for (int d = 0; d < 4; d++) {
            scale[d] = known_get_f(k, d);
            sizes[d] = known_get_i(k, d);
        }
        *by_size = j == 1;
        return 0;
    }
    return error_set(err, "node '%s' (%s) gives neither scales nor sizes", c->name, c->n->op_type);
}

static int build_resize(struct loader *L, const struct node_ctx *c, struct error *err)
{
    struct node *node = node_begin(L, c, OP_RESIZE, 1, err);
    double scale[4] = {1, 1, 1, 1};
    int64_t sizes[4] = {0};
    bool by_size = false;
    if (!node || resize_modes(L, c, &node->p.resize, err) ||
        resize_factors(L, c, scale, sizes, &by_size, err))
        return -1;
    const struct shape *x = input_shape(L, node, 0);
    if (x->rank != 4)
        return error_set(err, "node '%s' (%s): input must be NCHW", c->name, c->n->op_type);
    for (int d = 0; by_size && d < 4; d++)
        scale[d] = x->dim[d] ? (double)sizes[d] / (double)x->dim[d] : 0.0;
    if (scale[0] != 1.0 || scale[1] != 1.0 || !(scale[2] > 0.0) || !(scale[3] > 0.0))
        return error_set(err, "node '%s' (%s): only H and W may be resized (scales %gx%gx%gx%g)",
                         c->name, c->n->op_type, scale[0], scale[1], scale[2], scale[3]);
    node->p.resize.scale[0] = (float)scale[2];
    node->p.resize.scale[1] = (float)scale[3];
    if (node_finish(L, node, err))
        return -1;
    /* Sizes are exact; a float scale times the input size may round one pixel short. */
    if (by_size) {
        L->g->values[node->output].shape.dim[2] = sizes[2];
        L->g->values[node->output].shape.dim[3] = sizes[3];
    }
    return 0;
}

/* Identity and Dropout at run time: the output name stands for the input value. */
static int build_alias(struct loader *L, const struct node_ctx *c, struct error *err)
{
    int32_t id = input_value(L, c, 0, err);
    if (id < 0)
        return -1;
    struct alias *a = realloc(L->aliases, (size_t)(L->n_aliases + 1) * sizeof *a);
    if (!a)
        return error_set(err, "out of memory");
    L->aliases = a;
    a[L->n_aliases].name = strdup(c->n->output[0]);
    a[L->n_aliases].value = id;
    if (!a[L->n_aliases].name)
        return error_set(err, "out of memory");
    L->n_aliases++;
    return 0;
}

typedef int (*build_fn)(struct loader *L, const struct node_ctx *c, struct error *err);

/* Every op mnemo reads: its attributes (any other is an error, since ignoring it could
 * change the result) and how it runs. build NULL: evaluated at load only. */
static const struct op_entry {
    const char *op_type;
    build_fn build;
    const char *attrs[10];
} op_table[] = {
    {"Conv", build_conv, {"auto_pad", "dilations", "group", "kernel_shape", "pads", "strides"}},
    {"ConvTranspose",
     build_conv,
     {"auto_pad", "dilations", "group", "kernel_shape", "pads", "strides", "output_padding",
      "output_shape"}},
    {"BatchNormalization", build_batch_norm, {"epsilon", "momentum", "spatial", "training_mode"}},
    {"InstanceNormalization", build_instance_norm, {"epsilon"}},
    {"Relu", build_activation, {0}},
    {"LeakyRelu", build_activation, {"alpha"}},
    {"Tanh", build_activation, {0}},
    {"Sigmoid", build_activation, {0}},
    {"Clip", build_activation, {"min", "max"}},
    {"Add", build_binary, {0}},
    {"Sub", build_binary, {0}},
    {"Mul", build_binary, {0}},
    {"Div", build_binary, {0}},
    {"Concat", build_concat, {"axis"}},
    {"Pad", build_pad, {"mode", "pads", "value"}},
    {"Resize",
     build_resize,
     {"mode", "coordinate_transformation_mode", "nearest_mode", "cubic_coeff_a", "exclude_outside",
      "extrapolation_value", "antialias", "axes", "keep_aspect_ratio_policy"}},
    {"Upsample", build_resize, {"mode", "scales"}},
    {"Identity", build_alias, {0}},
    {"Dropout", build_alias, {"ratio", "seed", "is_test"}},
    {"Constant", NULL, {"value", "value_float", "value_floats", "value_int", "value_ints"}},
    {"ConstantOfShape", NULL, {"value"}},
    {"Shape", NULL, {"start", "end"}},
    {"Gather", NULL, {"axis"}},
    {"Reshape", NULL, {"allowzero"}},
    {"Slice", NULL, {"starts", "ends", "axes"}},
    {"Transpose", NULL, {"perm"}},
    {"Cast", NULL, {"to"}},
    {"Unsqueeze", NULL, {"axes"}},
    {"Squeeze", NULL, {"axes"}},
    {"Range", NULL, {0}},
};

static const struct op_entry *op_entry_find(const Onnx__NodeProto *n)
{
    bool default_domain = !n->domain || !n->domain[0] || strcmp(n->domain, "ai.onnx") == 0;
    for (size_t j = 0; default_domain && j < sizeof op_table / sizeof op_table[0]; j++)
        if (strcmp(op_table[j].op_type, n->op_type) == 0)
            return &op_table[j];
    return NULL;
}

static int op_unsupported(const struct node_ctx *c, struct error *err)
{
    char list[600] = "";
    size_t used = 0;
    for (size_t j = 0; j < sizeof op_table / sizeof op_table[0] && used < sizeof list; j++) {
        int n =
            snprintf(list + used, sizeof list - used, "%s%s", j ? ", " : "", op_table[j].op_type);
        used += n > 0 ? (size_t)n : 0;
    }
    bool domain = c->n->domain && c->n->domain[0];
    return error_set(err,
                     "node '%s' uses op '%s%s%s', which mnemo does not support "
                     "(supported: %s; the shape ops only on constants)",
                     c->name, domain ? c->n->domain : "", domain ? "." : "", c->n->op_type, list);
}

static int attrs_check(const struct op_entry *e, const struct node_ctx *c, struct error *err)
{
    for (size_t j = 0; j < c->n->n_attribute; j++) {
        const char *name = c->n->attribute[j]->name ? c->n->attribute[j]->name : "";
        bool known = false;
        for (size_t k = 0; k < sizeof e->attrs / sizeof e->attrs[0] && e->attrs[k]; k++)
            known = known || strcmp(e->attrs[k], name) == 0;
        if (!known)
            return error_set(err,
                             "node '%s' (%s) has attribute '%s', which mnemo does not "
                             "implement; refusing rather than computing something else",
                             c->name, c->n->op_type, name);
    }
    return 0;
}

/* Foldable when every present input is a known constant; a Shape needs only a shape. */
static bool inputs_all_known(const struct loader *L, const Onnx__NodeProto *n)
{
    for (size_t j = 0; j < n->n_input; j++) {
        const char *name = node_input(n, j);
        if (!name || known_find(&L->known, name))
            continue;
        if (strcmp(n->op_type, "Shape") == 0 && loader_find_value(L, name) >= 0)
            continue;
        return false;
    }
    return true;
}

static int node_import(struct loader *L, const Onnx__NodeProto *n, size_t index, struct error *err)
{
    char fallback[96];
    snprintf(fallback, sizeof fallback, "%s_%zu", n->op_type ? n->op_type : "node", index);
    struct node_ctx c = {.n = n, .name = n->name && n->name[0] ? n->name : fallback};
    if (!n->op_type || !n->op_type[0] || n->n_output < 1 || !n->output[0][0])
        return error_set(err, "node '%s' has no op type or no output", c.name);
    const struct op_entry *e = op_entry_find(n);
    if (!e)
        return op_unsupported(&c, err);
    if (attrs_check(e, &c, err))
        return -1;
    bool fold = fold_supports(n->op_type) && inputs_all_known(L, n);
    if (fold && fold_node(L, n, c.name, err))
        return -1;
    if (!fold && !e->build)
        return error_set(err,
                         "node '%s' (%s) works on a tensor computed at run time; mnemo "
                         "evaluates %s only on constants at load",
                         c.name, n->op_type, n->op_type);
    if (!fold && e->build(L, &c, err))
        return -1;
    return graph_count_onnx_op(L->g, n->op_type, fold || e->build == build_alias, err);
}

static int nodes_import(struct loader *L, struct error *err)
{
    const Onnx__GraphProto *gp = L->model->graph;
    for (size_t j = 0; j < gp->n_node; j++)
        if (node_import(L, gp->node[j], j, err))
            return -1;
    return 0;
}

/* ---- metadata and the whole load ---- */

static int metadata_copy(struct loader *L, struct error *err)
{
    const Onnx__ModelProto *m = L->model;
    struct graph *g = L->g;
    for (size_t j = 0; j < m->n_metadata_props; j++) {
        const Onnx__StringStringEntryProto *e = m->metadata_props[j];
        if (graph_add_meta(g, e->key ? e->key : "", e->value ? e->value : "", err))
            return -1;
    }
    char producer[256];
    snprintf(producer, sizeof producer, "%s%s%s", m->producer_name ? m->producer_name : "",
             m->producer_version && m->producer_version[0] ? " " : "",
             m->producer_version ? m->producer_version : "");
    g->opset = L->opset;
    g->producer = strdup(producer);
    g->source_path = strdup(L->path);
    if (!g->producer || !g->source_path)
        return error_set(err, "out of memory");
    return 0;
}

static void loader_free(struct loader *L)
{
    known_table_free(&L->known);
    for (int32_t j = 0; j < L->n_aliases; j++)
        free(L->aliases[j].name);
    free(L->aliases);
    free(L->dir);
    if (L->model)
        onnx__model_proto__free_unpacked(L->model, NULL);
}

int onnx_load(struct graph *g, const char *path, const struct onnx_options *opt, struct error *err)
{
    struct loader L = {.path = path, .opt = opt, .g = g};
    graph_init(g);
    L.dir = dir_of(path);
    int rc = L.dir ? 0 : error_set(err, "out of memory");
    if (!rc)
        rc = model_parse(&L, err);
    if (!rc) {
        model_read_opset(&L);
        rc = input_add(&L, err) || outputs_check(&L, err);
    }
    if (!rc && (initializers_read(&L, err) || nodes_import(&L, err) || output_set(&L, err) ||
                metadata_copy(&L, err) || graph_finalize(g, err)))
        rc = error_prefix(err, "%s", path);
    loader_free(&L);
    if (rc)
        graph_free(g);
    return rc;
}

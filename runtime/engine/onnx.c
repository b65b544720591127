/* onnx.c — reads an ONNX file into the internal graph (contract in onnx.h).
 *
 * Owns: reading and parsing the file, the opset, the one input (with its size) and the one
 * output, metadata, and the order of the whole load. Tensors are read by onnx_tensor.c,
 * nodes mapped by onnx_ops.c, constant subgraphs evaluated by onnx_fold.c.
 *
 * Never prints except through log_warn(); every protobuf message and every allocation is freed
 * on every path, and a failed load leaves the graph empty. */
#include "onnx_internal.h"
#include "log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define OPSET_TESTED_MIN 11
#define OPSET_TESTED_MAX 17
/* Bigger than any image mnemo shows; keeps every size computation far from overflow. */
#define INPUT_DIM_MAX 32768

/* ---- small helpers the importer's files share ---- */

const Onnx__AttributeProto *onnx_attr_find(const Onnx__NodeProto *n, const char *name)
{
    for (size_t j = 0; j < n->n_attribute; j++)
        if (n->attribute[j]->name && strcmp(n->attribute[j]->name, name) == 0)
            return n->attribute[j];
    return NULL;
}

int64_t onnx_attr_int(const Onnx__NodeProto *n, const char *name, int64_t fallback)
{
    const Onnx__AttributeProto *a = onnx_attr_find(n, name);
    return a ? a->i : fallback;
}

float onnx_attr_float(const Onnx__NodeProto *n, const char *name, float fallback)
{
    const Onnx__AttributeProto *a = onnx_attr_find(n, name);
    return a ? a->f : fallback;
}

const char *onnx_attr_string(const Onnx__NodeProto *n, const char *name, const char *fallback,
                             char *buf, size_t size)
{
    const Onnx__AttributeProto *a = onnx_attr_find(n, name);
    if (!a || !a->has_s)
        snprintf(buf, size, "%s", fallback);
    else
        snprintf(buf, size, "%.*s", (int)(a->s.len < size ? a->s.len : size - 1),
                 (const char *)a->s.data);
    return buf;
}

const char *onnx_node_input(const Onnx__NodeProto *n, size_t i)
{
    return i < n->n_input && n->input[i] && n->input[i][0] ? n->input[i] : NULL;
}

int32_t onnx_loader_find_value(const struct loader *L, const char *name)
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

/* protobuf-c copies what it keeps, so the caller's bytes may go as soon as this returns. */
static int model_unpack(struct loader *L, const uint8_t *data, size_t size, struct error *err)
{
    L->model = size ? onnx__model_proto__unpack(NULL, size, data) : NULL;
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

static int model_parse(struct loader *L, struct error *err)
{
    uint8_t *data = NULL;
    size_t size = 0;
    if (file_read(L->path, &data, &size, err))
        return -1;
    int rc = model_unpack(L, data, size, err);
    free(data);
    return rc;
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
        log_warn("'%s' declares no opset for the default ONNX domain; reading it as opset 13",
                 L->path);
    } else if (L->opset < OPSET_TESTED_MIN || L->opset > OPSET_TESTED_MAX) {
        log_warn("'%s' uses opset %lld; mnemo is tested with opsets %d-%d and will try anyway",
                 L->path, (long long)L->opset, OPSET_TESTED_MIN, OPSET_TESTED_MAX);
    }
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
    if (file_dim > 0 && given > 0 && file_dim != given && !(L->opt && L->opt->size_is_hint))
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
    const char *name = vi->name ? vi->name : "";
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
    char used[96];
    for (int d = 0; d < 4; d++)
        if (s.dim[d] > INPUT_DIM_MAX)
            return error_set(err,
                             "input '%s' of '%s' would be %s; mnemo takes at most %d per "
                             "dimension",
                             name, L->path, shape_str(&s, used, sizeof used), INPUT_DIM_MAX);
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
    int32_t id = onnx_loader_find_value(L, name);
    if (id < 0 && onnx_known_find(&L->known, name))
        return error_set(err,
                         "the output '%s' is a constant: the model computes nothing from "
                         "its input",
                         name);
    if (id < 0)
        return error_set(err, "no node produces the output '%s'", name);
    if (id == L->g->input || L->g->n_nodes == 0)
        return error_set(err,
                         "no operation to run: the output '%s' is the input '%s' (only "
                         "Identity or Dropout between them)",
                         name, L->g->values[L->g->input].name);
    L->g->output = id;
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
    onnx_known_table_free(&L->known);
    for (int32_t j = 0; j < L->n_aliases; j++)
        free(L->aliases[j].name);
    free(L->aliases);
    free(L->dir);
    if (L->model)
        onnx__model_proto__free_unpacked(L->model, NULL);
}

/* Everything after the protobuf parse: L->model is set (or rc already failed). */
static int loader_finish(struct loader *L, int rc, struct error *err)
{
    struct graph *g = L->g;
    if (!rc) {
        model_read_opset(L);
        rc = input_add(L, err) || outputs_check(L, err);
    }
    if (!rc && (onnx_initializers_read(L, err) || onnx_nodes_import(L, err) || output_set(L, err) ||
                metadata_copy(L, err) || graph_finalize(g, err)))
        rc = error_prefix(err, "%s", L->path);
    loader_free(L);
    if (rc)
        graph_free(g);
    return rc;
}

int onnx_load(struct graph *g, const char *path, const struct onnx_options *opt, struct error *err)
{
    struct loader L = {.path = path, .opt = opt, .g = g, .fold_room = FOLD_ROOM_BASE};
    graph_init(g);
    L.dir = dir_of(path);
    int rc = L.dir ? 0 : error_set(err, "out of memory");
    if (!rc)
        rc = model_parse(&L, err);
    return loader_finish(&L, rc, err);
}

int onnx_load_memory(struct graph *g, const void *data, size_t size, const char *name,
                     const struct onnx_options *opt, struct error *err)
{
    struct loader L = {.path = name, .opt = opt, .g = g, .fold_room = FOLD_ROOM_BASE};
    graph_init(g);
    L.dir = dir_of(name);
    int rc = L.dir ? 0 : error_set(err, "out of memory");
    if (!rc)
        rc = model_unpack(&L, data, size, err);
    return loader_finish(&L, rc, err);
}

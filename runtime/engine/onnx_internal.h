/* onnx_internal.h — what the importer's files share: onnx.c (file, input, output, the
 * whole load), onnx_tensor.c (TensorProtos), onnx_ops.c (nodes onto the graph) and
 * onnx_fold.c (constant folding). Private to the importer: nothing outside runtime/onnx*.c includes
 * it.
 *
 * The importer keeps two name spaces while it walks the nodes:
 *   - known constants: tensors whose contents are known at load (initializers, Constant
 *     outputs, folded results), any dtype the folder handles, any rank up to 6;
 *   - graph values: tensors that exist at run time (the input and every node output),
 *     plus float constants copied into the graph when a run-time node reads them. */
#ifndef MNEMO_ONNX_INTERNAL_H
#define MNEMO_ONNX_INTERNAL_H

#include "graph.h"
#include "onnx.h"
#include "onnx.pb-c.h"

#include <stdbool.h>
#include <stdint.h>

/* ONNX TensorProto.DataType codes the folder handles. */
enum {
    DT_FLOAT = ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT,
    DT_INT32 = ONNX__TENSOR_PROTO__DATA_TYPE__INT32,
    DT_INT64 = ONNX__TENSOR_PROTO__DATA_TYPE__INT64,
    DT_BOOL = ONNX__TENSOR_PROTO__DATA_TYPE__BOOL,
};

/* A tensor known at load. Floats live in f; int32, int64 and bool all live in i (widened),
 * dtype remembers which they were so that Cast and messages stay truthful. */
struct known {
    char *name;
    int32_t dtype;
    struct shape shape;
    float *f;
    int64_t *i;
};

/* Each entry is allocated on its own so that a pointer to one stays valid while later
 * folds add more (a fold holds its inputs while it adds its output). */
struct known_table {
    struct known **items;
    int32_t n, cap;
};

/* An ONNX name that stands for an existing graph value (Identity, Dropout outputs). */
struct alias {
    char *name;
    int32_t value;
};

/* Elements the constant folder may create in one load beyond the tensors the file holds:
 * what exporters fold (shapes, pads, scales) needs a few hundred; a few KB of file must
 * not make mnemo build gigabytes (a ConstantOfShape of 16M, concatenated, reshaped...). */
#define FOLD_ROOM_BASE (4LL * 1024 * 1024)

struct loader {
    const char *path; /* the model file, as given: every message starts with it */
    char *dir;        /* its folder, for external data */
    const struct onnx_options *opt;
    Onnx__ModelProto *model;
    int64_t opset;
    struct graph *g;
    struct known_table known;
    struct alias *aliases;
    int32_t n_aliases;
    /* Elements folds may still create: FOLD_ROOM_BASE plus every element the file itself
     * holds (so that folds over weights, e.g. an Identity or Cast per weight, still fit). */
    int64_t fold_room;
};

/* ---- known constants (onnx_fold.c) ---- */
const char *onnx_dtype_name(int32_t dtype);
bool onnx_dtype_is_integer(int32_t dtype);
void onnx_known_table_free(struct known_table *t);
/* Last entry named `name`, or NULL. */
const struct known *onnx_known_find(const struct known_table *t, const char *name);
/* Adds an entry with room for shape_count(shape) elements of dtype (zeroed); name copied.
 * Returns NULL with err set on failure. */
struct known *onnx_known_add(struct known_table *t, const char *name, int32_t dtype,
                             const struct shape *shape, struct error *err);
/* Float to integer without undefined behaviour: saturates, NaN gives 0. */
int64_t onnx_float_to_i64(double v);
/* Element k as a double / an int64, whatever the dtype. */
double onnx_known_get_f(const struct known *k, int64_t index);
int64_t onnx_known_get_i(const struct known *k, int64_t index);

/* True when `op_type` is a node the folder can evaluate at load. */
bool onnx_fold_supports(const char *op_type);
/* Evaluates node n (all of whose inputs are known, or a Shape of a graph value) and adds
 * its outputs to the known table. Errors name the node. */
int onnx_fold_node(struct loader *L, const Onnx__NodeProto *n, const char *node_name,
                   struct error *err);

/* ---- tensors from the file (onnx_tensor.c) ---- */
/* Every initializer into the known table. */
int onnx_initializers_read(struct loader *L, struct error *err);
/* Reads a TensorProto (inline or external data) into a new known entry called `name`. */
int onnx_known_add_tensor(struct loader *L, const Onnx__TensorProto *t, const char *name,
                          struct error *err);

/* ---- nodes (onnx_ops.c) ---- */
/* Every node in file order: folded, aliased or added to the graph. */
int onnx_nodes_import(struct loader *L, struct error *err);

/* ---- shared helpers (onnx.c) ---- */
const Onnx__AttributeProto *onnx_attr_find(const Onnx__NodeProto *n, const char *name);
int64_t onnx_attr_int(const Onnx__NodeProto *n, const char *name, int64_t fallback);
float onnx_attr_float(const Onnx__NodeProto *n, const char *name, float fallback);
/* The attribute's string into buf (fallback when absent). */
const char *onnx_attr_string(const Onnx__NodeProto *n, const char *name, const char *fallback,
                             char *buf, size_t size);
/* Input i's name, or NULL when absent or empty (an omitted optional input). */
const char *onnx_node_input(const Onnx__NodeProto *n, size_t i);
/* The graph value id an ONNX name stands for (graph value or alias), or -1. */
int32_t onnx_loader_find_value(const struct loader *L, const char *name);

#endif

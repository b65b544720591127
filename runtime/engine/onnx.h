/* onnx.h — reads an ONNX model file into the internal graph.
 *
 * Owns: parsing (protobuf-c, our subset of onnx.proto), initializers inline or as external
 * data next to the file, the op set of DESIGN.md at opsets 11-17, and constant folding of
 * the small subgraphs exporters emit (e.g. the `pads` of a ReflectionPad2d). Everything
 * that cannot run is a load-time error naming the file, the node and its op. */
#ifndef MNEMO_ONNX_H
#define MNEMO_ONNX_H

#include "error.h"
#include "graph.h"

struct onnx_options {
    /* Input height and width to use. 0 = take them from the file; required when the
     * file declares them dynamic, and an error when they contradict a fixed size. */
    int64_t height;
    int64_t width;
    /* When set, height/width only fill in dynamic dimensions: a file with a fixed size
     * keeps it (the loop's `loop.size` is such a hint; the loop converts between sizes). */
    bool size_is_hint;
};

/* Loads `path` into g (initialised here) and finalises it (graph_finalize). On failure g
 * is left empty (graph_free'd) and err says what and where. */
int onnx_load(struct graph *g, const char *path, const struct onnx_options *opt, struct error *err);

/* The same for a model already in memory (`size` bytes at `data`, which the call does not
 * keep): `name` stands for the file in messages, and external data is looked for in its
 * folder. What the fuzzer (tools/fuzz/) drives. */
int onnx_load_memory(struct graph *g, const void *data, size_t size, const char *name,
                     const struct onnx_options *opt, struct error *err);

/* How mnemo claims an ONNX op of the default domain, read off the importer's own op table
 * (so that a test selecting "every op mnemo claims" cannot drift from what it loads). */
enum onnx_op_claim {
    ONNX_OP_NOT_CLAIMED,
    ONNX_OP_LOAD_TIME,  /* evaluated at load, on constants only (Shape, Gather, ...) */
    ONNX_OP_RUNS,       /* runs on tensors computed at run time */
    ONNX_OP_ELEMENTWISE /* element by element (with broadcasting), or passes its input on:
                         * any rank */
};
enum onnx_op_claim onnx_op_claimed(const char *op_type);

#endif

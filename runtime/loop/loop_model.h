/* loop_model.h — one network of the loop (painter or sketcher), loaded and ready to run.
 *
 * Owns the graph, its backend, and the float buffers the backend reads and writes, all
 * allocated at open. It also owns the conversion at its borders: the loop keeps its
 * images in one canonical form (planar float, [-1,1], -1 black, +1 white; sketches one
 * channel, portraits three, at the loop's size) and each model converts from and to its
 * own channel count, size and value range, explicitly, so that any pair of
 * image-to-image models can be chained. Nothing here allocates after open.
 *
 * An open model may be moved by value (struct assignment): everything it points to is on
 * the heap and nothing points back into it. */
#ifndef MNEMO_LOOP_MODEL_H
#define MNEMO_LOOP_MODEL_H

#include "backend.h"
#include "image.h"
#include "loop_ops.h"

#include <stdbool.h>
#include <stdint.h>

struct loop_model {
    const char *role; /* "painter" or "sketcher", for messages */
    char path[4096];
    /* On the heap, not inline: the backend keeps a pointer to it, and a live swap moves
     * the struct loop_model by value (loop_swap_model). */
    struct graph *graph;
    struct backend *backend;
    int32_t in_c, in_h, in_w, out_c, out_h, out_w;
    struct value_range in_range, out_range;
    int32_t size;          /* the loop's canonical images are size x size */
    float *input, *output; /* the backend's input and output tensors */
    float *work;           /* 3 x size x size, for conversions */
    int64_t nonfinite;     /* values of the last output that were NaN or infinite */
    bool nonfinite_said;   /* the log line about them has gone out (once a model) */
};

/* Loads `path` (dynamic sizes resolved to size x size), checks it takes and gives one
 * image (1x1xHxW or 1x3xHxW), opens `backend` on it. Errors name the role and file. */
int loop_model_open(struct loop_model *m, const char *role, const char *path, int32_t size,
                    const char *backend, const struct backend_options *opt, struct error *err);
void loop_model_close(struct loop_model *m);

/* A canonical image (channels x size x size, [-1,1]) into the model's input: channel
 * conversion (Rec.601 luma, or gray repeated), bilinear resize, range mapping. */
void loop_model_feed(struct loop_model *m, const float *image, int32_t channels);
/* Runs the network on what feed left in m->input. No allocation. */
int loop_model_run(struct loop_model *m, struct error *err);
/* The model's output into a canonical image of channels x size x size, clamped to
 * [-1,1]. Values that are not numbers (NaN; infinities clamp, but count too) are counted in
 * m->nonfinite, and the pixels they reach take the value `previous` (an image of the same
 * layout: what the loop had there before; NULL: mid grey) holds, so a NaN never enters
 * the loop. */
void loop_model_take(struct loop_model *m, float *image, int32_t channels, const float *previous);

#endif

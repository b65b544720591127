/* image.h — files in and out of the engine: PNG images and NumPy .npy tensors, and the
 * conversions between an 8-bit image and a model's float NCHW input.
 *
 * Owns: file formats, resizing an image to a model's input size (aspect kept, edges
 * replicated into the margin), RGB <-> gray, value-range normalisation.
 * Never used on the loop's hot path: these functions allocate and do I/O. */
#ifndef MNEMO_IMAGE_H
#define MNEMO_IMAGE_H

#include "error.h"
#include "graph.h"

#include <stdint.h>

/* 8-bit interleaved pixels, 1 (gray) or 3 (RGB) channels, rows top to bottom. */
struct image {
    int32_t width, height, channels;
    uint8_t *pixels;
};

/* What reading a PNG may cost: the file's size, and the decoded pixels (width x height,
 * read from the header before anything is decoded: a 1.5 MB file can claim 20000x20000
 * pixels, gigabytes and half a minute to decode). */
struct png_caps {
    int64_t file_bytes, pixels;
    const char *hint; /* what fits and what to do, for the message: "4096 x 4096; scale it down" */
};
#define PNG_CAPS_DEFAULT                                                                           \
    ((struct png_caps){(int64_t)1 << 30, (int64_t)1 << 28, "16384 x 16384; scale it down"})

/* Reads a PNG as gray if `channels` is 1 or RGB if 3 (libpng converts; alpha is
 * composited on white). Only a regular file (input_file.h), within PNG_CAPS_DEFAULT. */
int image_read_png(struct image *img, const char *path, int32_t channels, struct error *err);
/* The same within `caps`; over them is an error that says the cap. */
int image_read_png_capped(struct image *img, const char *path, int32_t channels,
                          struct png_caps caps, struct error *err);
/* Writes img as an 8-bit gray or RGB PNG. */
int image_write_png(const struct image *img, const char *path, struct error *err);
void image_free(struct image *img);

/* A float32 C-order tensor as stored in .npy. */
struct tensor {
    struct shape shape;
    float *data;
};
/* Reads a little-endian float32 ('<f4') C-order .npy (format versions 1-3). */
int tensor_read_npy(struct tensor *t, const char *path, struct error *err);
int tensor_write_npy(const struct tensor *t, const char *path, struct error *err);
void tensor_free(struct tensor *t);

/* Value range of a model's input/output pixels: black maps to lo, white to hi. */
struct value_range {
    float lo, hi;
};
/* Parses "[-1,1]" style text; returns 0 on success. */
int value_range_parse(const char *text, struct value_range *range);
/* The range a model declares in its metadata under `key` ("input_range",
 * "output_range"), or [-1,1], the pix2pix / CycleGAN convention. */
struct value_range graph_value_range(const struct graph *g, const char *key);

/* Where the image content sits inside a model-sized frame after fitting it. */
struct fit_box {
    int32_t x, y, width, height;
};

/* Fits img into a 1 x C x H x W float tensor `out` (caller-allocated, shape given):
 * scales with aspect kept (area-averaged when shrinking, bilinear when growing),
 * replicates the edge into the margin, converts gray <-> RGB to C channels, and maps
 * [0,255] to range. Returns the content box. */
struct fit_box image_to_tensor(const struct image *img, const struct shape *shape, float *out,
                               struct value_range range);

/* The inverse for a 1 x C x H x W tensor (C = 1 or 3): the box's content, mapped from
 * range to [0,255] with clamping, into a new image of box size. */
int image_from_tensor(struct image *img, const struct shape *shape, const float *data,
                      struct fit_box box, struct value_range range, struct error *err);

#endif

/* image.c — PNG and .npy files, and fitting images to a model's input (see image.h). */
#include "image.h"
#include "input_file.h"
#include "log.h"

#include <errno.h>
#include <math.h>
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- PNG ---------------------------------------------------------------------------- */

/* The header's size within caps: checked before a pixel is decoded. */
static int pixels_check(const png_image *png, const char *path, const struct png_caps *caps,
                        struct error *err)
{
    int64_t pixels = (int64_t)png->width * (int64_t)png->height;
    if (pixels <= caps->pixels)
        return 0;
    return error_set(err, "'%s' is %ux%u pixels; at most %lld pixels are read (%s)", path,
                     (unsigned)png->width, (unsigned)png->height, (long long)caps->pixels,
                     caps->hint);
}

int image_read_png_capped(struct image *img, const char *path, int32_t channels,
                          struct png_caps caps, struct error *err)
{
    memset(img, 0, sizeof *img);
    FILE *f = input_file_fopen(path, caps.file_bytes, err);
    if (!f)
        return -1;
    png_image png;
    memset(&png, 0, sizeof png);
    png.version = PNG_IMAGE_VERSION;
    int rc = 0;
    if (!png_image_begin_read_from_stdio(&png, f))
        rc = error_set(err, "'%s' is not a readable PNG image (%s)", path, png.message);
    else if (pixels_check(&png, path, &caps, err))
        rc = -1;
    png.format = channels == 1 ? PNG_FORMAT_GRAY : PNG_FORMAT_RGB;
    if (rc == 0 && !(img->pixels = malloc(PNG_IMAGE_SIZE(png))))
        rc = error_set(err, "out of memory reading '%s'", path);
    png_color white = {255, 255, 255};
    if (rc == 0 && !png_image_finish_read(&png, &white, img->pixels, 0, NULL))
        rc = error_set(err, "'%s' is a damaged PNG image (%s)", path, png.message);
    png_image_free(&png); /* a no-op after a finished or failed read */
    fclose(f);
    if (rc) {
        image_free(img);
        return -1;
    }
    img->width = (int32_t)png.width;
    img->height = (int32_t)png.height;
    img->channels = channels;
    return 0;
}

int image_read_png(struct image *img, const char *path, int32_t channels, struct error *err)
{
    return image_read_png_capped(img, path, channels, PNG_CAPS_DEFAULT, err);
}

int image_write_png(const struct image *img, const char *path, struct error *err)
{
    png_image png;
    memset(&png, 0, sizeof png);
    png.version = PNG_IMAGE_VERSION;
    png.width = (png_uint_32)img->width;
    png.height = (png_uint_32)img->height;
    png.format = img->channels == 1 ? PNG_FORMAT_GRAY : PNG_FORMAT_RGB;
    FILE *f = fopen(path, "wb");
    if (!f)
        return error_set(err, "cannot write '%s': %s", path, strerror(errno));
    errno = 0;
    bool ok = png_image_write_to_stdio(&png, f, 0, img->pixels, 0, NULL);
    int saved = errno;
    /* A full disk often shows only at the flush in fclose. */
    if (fclose(f) != 0 && ok) {
        ok = false;
        saved = errno;
    }
    if (!ok) {
        /* Leave nothing half-written behind. */
        remove(path);
        return error_set(err, "cannot write '%s': %s", path, saved ? strerror(saved) : png.message);
    }
    return 0;
}

void image_free(struct image *img)
{
    free(img->pixels);
    memset(img, 0, sizeof *img);
}

/* ---- .npy --------------------------------------------------------------------------- */

void tensor_free(struct tensor *t)
{
    free(t->data);
    memset(t, 0, sizeof *t);
}

/* Finds `'key':` in the header dict and returns the text after the colon. */
static const char *npy_header_field(const char *header, const char *key)
{
    char quoted[32];
    snprintf(quoted, sizeof quoted, "'%s'", key);
    const char *p = strstr(header, quoted);
    if (!p)
        return NULL;
    p = strchr(p + strlen(quoted), ':');
    if (!p)
        return NULL;
    p++;
    while (*p == ' ')
        p++;
    return p;
}

static int npy_parse_shape(const char *p, struct shape *shape)
{
    if (*p != '(')
        return -1;
    p++;
    shape->rank = 0;
    for (;;) {
        while (*p == ' ' || *p == ',')
            p++;
        if (*p == ')')
            return 0;
        char *end;
        long long d = strtoll(p, &end, 10);
        if (end == p || d < 0 || shape->rank == SHAPE_MAX_RANK)
            return -1;
        shape->dim[shape->rank++] = d;
        p = end;
    }
}

static int npy_parse_header(const char *header, struct shape *shape, const char *path,
                            struct error *err)
{
    const char *descr = npy_header_field(header, "descr");
    if (!descr || strncmp(descr, "'<f4'", 5) != 0)
        return error_set(err,
                         "'%s' holds %.6s data; mnemo reads float32 .npy files "
                         "(numpy: a.astype(np.float32))",
                         path, descr ? descr : "unknown");
    const char *fortran = npy_header_field(header, "fortran_order");
    if (!fortran || strncmp(fortran, "False", 5) != 0)
        return error_set(err,
                         "'%s' is in Fortran order; save it C-ordered "
                         "(np.ascontiguousarray)",
                         path);
    const char *shape_text = npy_header_field(header, "shape");
    if (!shape_text || npy_parse_shape(shape_text, shape))
        return error_set(err, "'%s' has an unreadable shape in its .npy header", path);
    return 0;
}

static int npy_read_header(FILE *f, struct shape *shape, const char *path, struct error *err)
{
    unsigned char magic[8];
    if (fread(magic, 1, 8, f) != 8 || memcmp(magic, "\x93NUMPY", 6) != 0)
        return error_set(err, "'%s' is not a .npy file (bad magic)", path);
    uint32_t header_len = 0;
    unsigned char len_bytes[4] = {0};
    size_t len_size = magic[6] == 1 ? 2 : 4;
    if (magic[6] < 1 || magic[6] > 3 || fread(len_bytes, 1, len_size, f) != len_size)
        return error_set(err, "'%s' has an unsupported .npy version %d", path, magic[6]);
    header_len = len_bytes[0] | (uint32_t)len_bytes[1] << 8 | (uint32_t)len_bytes[2] << 16 |
                 (uint32_t)len_bytes[3] << 24;
    if (header_len > 65536)
        return error_set(err, "'%s' has an implausible .npy header (%u bytes)", path, header_len);
    char *header = calloc(1, header_len + 1);
    if (!header)
        return error_set(err, "out of memory");
    int rc = 0;
    if (fread(header, 1, header_len, f) != header_len)
        rc = error_set(err, "'%s' is truncated inside its .npy header", path);
    else
        rc = npy_parse_header(header, shape, path, err);
    free(header);
    return rc;
}

int tensor_read_npy(struct tensor *t, const char *path, struct error *err)
{
    memset(t, 0, sizeof *t);
    FILE *f = fopen(path, "rb");
    if (!f)
        return error_set(err, "cannot open '%s': %s", path, strerror(errno));
    int rc = npy_read_header(f, &t->shape, path, err);
    int64_t count = rc ? 0 : shape_count(&t->shape);
    if (!rc && (count <= 0 || count > ((int64_t)1 << 32)))
        rc = error_set(err, "'%s' holds %lld values; expected a non-empty tensor", path,
                       (long long)count);
    if (!rc && !(t->data = malloc((size_t)count * sizeof(float))))
        rc = error_set(err, "out of memory reading '%s'", path);
    if (!rc && fread(t->data, sizeof(float), (size_t)count, f) != (size_t)count)
        rc = error_set(err, "'%s' is truncated: its header promises %lld floats", path,
                       (long long)count);
    fclose(f);
    if (rc)
        tensor_free(t);
    return rc;
}

int tensor_write_npy(const struct tensor *t, const char *path, struct error *err)
{
    char dict[256];
    int used = snprintf(dict, sizeof dict, "{'descr': '<f4', 'fortran_order': False, 'shape': (");
    /* Python's tuple syntax, as numpy writes it: "(2,)", "(1, 3, 64, 64)". */
    for (int32_t i = 0; i < t->shape.rank; i++)
        used += snprintf(dict + used, sizeof dict - (size_t)used, "%s%lld", i ? ", " : "",
                         (long long)t->shape.dim[i]);
    used +=
        snprintf(dict + used, sizeof dict - (size_t)used, "%s), }", t->shape.rank == 1 ? "," : "");
    /* Version 1.0: magic(6) + version(2) + length(2) + dict, padded with spaces to a
     * multiple of 64 and ended by a newline, as numpy writes it. */
    size_t total = 10 + (size_t)used + 1;
    size_t padded = (total + 63) / 64 * 64;
    char header[512];
    memcpy(header, "\x93NUMPY\x01\x00", 8);
    uint16_t dict_len = (uint16_t)(padded - 10);
    header[8] = (char)(dict_len & 0xff);
    header[9] = (char)(dict_len >> 8);
    memset(header + 10, ' ', padded - 10);
    memcpy(header + 10, dict, (size_t)used);
    header[padded - 1] = '\n';

    FILE *f = fopen(path, "wb");
    if (!f)
        return error_set(err, "cannot write '%s': %s", path, strerror(errno));
    size_t count = (size_t)shape_count(&t->shape);
    bool ok =
        fwrite(header, 1, padded, f) == padded && fwrite(t->data, sizeof(float), count, f) == count;
    ok = (fclose(f) == 0) && ok;
    if (!ok) {
        int saved = errno;
        remove(path);
        return error_set(err, "cannot write '%s': %s", path, strerror(saved));
    }
    return 0;
}

/* ---- fitting images to tensors ------------------------------------------------------ */

int value_range_parse(const char *text, struct value_range *range)
{
    float lo, hi;
    if (sscanf(text, " [ %f , %f ]", &lo, &hi) != 2 || !(hi > lo))
        return -1;
    range->lo = lo;
    range->hi = hi;
    return 0;
}

struct value_range graph_value_range(const struct graph *g, const char *key)
{
    struct value_range range = {-1.0f, 1.0f};
    for (int32_t i = 0; i < g->n_meta; i++)
        if (strcmp(g->meta[i].key, key) == 0 && value_range_parse(g->meta[i].value, &range))
            log_warn("'%s': metadata %s = '%s' is not a range like [-1,1]; using [-1,1]",
                     g->source_path ? g->source_path : "model", key, g->meta[i].value);
    return range;
}

/* Sample of img at pixel (x, y) channel c in [0,1], converted to `want` channels. */
static float pixel_at(const struct image *img, int32_t x, int32_t y, int32_t c, int32_t want)
{
    const uint8_t *p = img->pixels + ((size_t)y * img->width + x) * img->channels;
    if (img->channels == want)
        return p[c] / 255.0f;
    if (img->channels == 1)
        return p[0] / 255.0f;
    return (0.299f * p[0] + 0.587f * p[1] + 0.114f * p[2]) / 255.0f; /* Rec. 601 luma */
}

/* Weight of source pixel center `src` for an output pixel centered at `center` (in
 * source coordinates) with a triangle filter of half-width `support`. */
static float triangle(float src, float center, float support)
{
    float d = fabsf(src - center) / support;
    return d < 1.0f ? 1.0f - d : 0.0f;
}

/* One output sample of a separable triangle filter: bilinear when growing, an area-like
 * average when shrinking (the filter widens with the scale so no source pixel is
 * skipped). */
static float resample_at(const struct image *img, float cx, float cy, float sx, float sy, int32_t c,
                         int32_t want)
{
    float sum = 0.0f, weight_sum = 0.0f;
    int32_t x0 = (int32_t)floorf(cx - sx), x1 = (int32_t)ceilf(cx + sx);
    int32_t y0 = (int32_t)floorf(cy - sy), y1 = (int32_t)ceilf(cy + sy);
    for (int32_t y = y0; y <= y1; y++) {
        float wy = triangle((float)y, cy, sy);
        if (wy <= 0.0f)
            continue;
        int32_t yy = y < 0 ? 0 : (y >= img->height ? img->height - 1 : y);
        for (int32_t x = x0; x <= x1; x++) {
            float w = wy * triangle((float)x, cx, sx);
            if (w <= 0.0f)
                continue;
            int32_t xx = x < 0 ? 0 : (x >= img->width ? img->width - 1 : x);
            sum += w * pixel_at(img, xx, yy, c, want);
            weight_sum += w;
        }
    }
    return weight_sum > 0.0f ? sum / weight_sum : 0.0f;
}

static struct fit_box fit_box_compute(int32_t src_w, int32_t src_h, int64_t dst_w, int64_t dst_h)
{
    double scale = fmin((double)dst_w / src_w, (double)dst_h / src_h);
    struct fit_box box;
    box.width = (int32_t)fmax(1.0, round(src_w * scale));
    box.height = (int32_t)fmax(1.0, round(src_h * scale));
    box.x = (int32_t)((dst_w - box.width) / 2);
    box.y = (int32_t)((dst_h - box.height) / 2);
    return box;
}

struct fit_box image_to_tensor(const struct image *img, const struct shape *shape, float *out,
                               struct value_range range)
{
    int64_t channels = shape->dim[1], height = shape->dim[2], width = shape->dim[3];
    struct fit_box box = fit_box_compute(img->width, img->height, width, height);
    float sx = (float)img->width / box.width, sy = (float)img->height / box.height;
    float support_x = sx > 1.0f ? sx : 1.0f, support_y = sy > 1.0f ? sy : 1.0f;
    for (int64_t c = 0; c < channels; c++)
        for (int64_t y = 0; y < height; y++)
            for (int64_t x = 0; x < width; x++) {
                /* Margin pixels repeat the nearest content pixel (edge replication). */
                int64_t bx = x - box.x, by = y - box.y;
                bx = bx < 0 ? 0 : (bx >= box.width ? box.width - 1 : bx);
                by = by < 0 ? 0 : (by >= box.height ? box.height - 1 : by);
                float cx = ((float)bx + 0.5f) * sx - 0.5f, cy = ((float)by + 0.5f) * sy - 0.5f;
                float v =
                    resample_at(img, cx, cy, support_x, support_y, (int32_t)c, (int32_t)channels);
                out[(c * height + y) * width + x] = range.lo + v * (range.hi - range.lo);
            }
    return box;
}

int image_from_tensor(struct image *img, const struct shape *shape, const float *data,
                      struct fit_box box, struct value_range range, struct error *err)
{
    int64_t channels = shape->dim[1], height = shape->dim[2], width = shape->dim[3];
    if (shape->rank != 4 || (channels != 1 && channels != 3))
        return error_set(err,
                         "an output of shape %lldx%lldx%lldx%lld is not an image "
                         "(want 1 or 3 channels); write it as .npy instead",
                         (long long)shape->dim[0], (long long)channels, (long long)height,
                         (long long)width);
    img->width = box.width;
    img->height = box.height;
    img->channels = (int32_t)channels;
    img->pixels = malloc((size_t)box.width * box.height * channels);
    if (!img->pixels)
        return error_set(err, "out of memory");
    for (int32_t y = 0; y < box.height; y++)
        for (int32_t x = 0; x < box.width; x++)
            for (int64_t c = 0; c < channels; c++) {
                float v = data[(c * height + y + box.y) * width + x + box.x];
                float unit = (v - range.lo) / (range.hi - range.lo);
                /* Written so that NaN becomes black instead of undefined behaviour. */
                unit = unit > 0.0f ? (unit < 1.0f ? unit : 1.0f) : 0.0f;
                img->pixels[((size_t)y * box.width + x) * channels + c] =
                    (uint8_t)lrintf(unit * 255.0f);
            }
    return 0;
}

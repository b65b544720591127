/* png_tool: PNG checks for the display tests, which must not need Python.
 *   png_tool diff A.png B.png    "MEAN MAX": mean and largest absolute difference of the
 *                                RGB bytes (same size required; exit 1 otherwise)
 *   png_tool pixel F.png X Y     "R G B" of one pixel (X from the left, Y from the top)
 *   png_tool stats F.png         "MEAN STDDEV" of all RGB bytes
 *   png_tool claim W H F.png     a gray PNG whose header says W x H but that holds only its
 *                                first 128 KiB of pixels: what a reader must refuse before
 *                                decoding (a small file claiming a huge image) */
#include "image.h"

#include <math.h>
#include <png.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int load(struct image *img, const char *path)
{
    struct error err;
    if (image_read_png(img, path, 3, &err)) {
        fprintf(stderr, "%s\n", err.msg);
        return -1;
    }
    return 0;
}

static int diff(const char *a_path, const char *b_path)
{
    struct image a, b;
    if (load(&a, a_path))
        return 1;
    if (load(&b, b_path)) {
        image_free(&a);
        return 1;
    }
    if (a.width != b.width || a.height != b.height) {
        fprintf(stderr, "sizes differ: %dx%d vs %dx%d\n", a.width, a.height, b.width, b.height);
        image_free(&a);
        image_free(&b);
        return 1;
    }
    size_t n = (size_t)a.width * a.height * 3;
    double sum = 0;
    int max = 0;
    for (size_t i = 0; i < n; i++) {
        int d = abs((int)a.pixels[i] - (int)b.pixels[i]);
        sum += d;
        max = d > max ? d : max;
    }
    printf("%.3f %d\n", sum / (double)n, max);
    image_free(&a);
    image_free(&b);
    return 0;
}

static int pixel(const char *path, int x, int y)
{
    struct image a;
    if (load(&a, path))
        return 1;
    if (x < 0 || y < 0 || x >= a.width || y >= a.height) {
        fprintf(stderr, "%d,%d is outside %dx%d\n", x, y, a.width, a.height);
        image_free(&a);
        return 1;
    }
    const uint8_t *p = a.pixels + ((size_t)y * a.width + x) * 3;
    printf("%d %d %d\n", p[0], p[1], p[2]);
    image_free(&a);
    return 0;
}

static int stats(const char *path)
{
    struct image a;
    if (load(&a, path))
        return 1;
    size_t n = (size_t)a.width * a.height * 3;
    double sum = 0, sq = 0;
    for (size_t i = 0; i < n; i++) {
        sum += a.pixels[i];
        sq += (double)a.pixels[i] * a.pixels[i];
    }
    double mean = sum / (double)n;
    printf("%.3f %.3f\n", mean, sqrt(fmax(0, sq / (double)n - mean * mean)));
    image_free(&a);
    return 0;
}

static int claim(unsigned width, unsigned height, const char *path)
{
    FILE *f = fopen(path, "wb");
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    png_bytep row = calloc(width, 1);
    if (!f || !info || !row || setjmp(png_jmpbuf(png))) {
        fprintf(stderr, "cannot write %s\n", path);
        return 1;
    }
    png_init_io(png, f);
    png_set_IHDR(png, info, width, height, 8, PNG_COLOR_TYPE_GRAY, PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    /* Noise does not compress: 128 KiB of it fill libpng's buffer, so an IDAT chunk is
     * written (a flush alone keeps it). The file simply ends there. */
    uint32_t noise = 1;
    for (unsigned y = 0; y < height && y * width < 131072; y++) {
        for (unsigned x = 0; x < width; x++)
            row[x] = (png_byte)((noise = noise * 1664525u + 1013904223u) >> 24);
        png_write_row(png, row);
    }
    png_destroy_write_struct(&png, &info);
    free(row);
    return fclose(f) ? 1 : 0;
}

int main(int argc, char **argv)
{
    if (argc == 5 && strcmp(argv[1], "claim") == 0)
        return claim((unsigned)atoi(argv[2]), (unsigned)atoi(argv[3]), argv[4]);
    if (argc == 4 && strcmp(argv[1], "diff") == 0)
        return diff(argv[2], argv[3]);
    if (argc == 5 && strcmp(argv[1], "pixel") == 0)
        return pixel(argv[2], atoi(argv[3]), atoi(argv[4]));
    if (argc == 3 && strcmp(argv[1], "stats") == 0)
        return stats(argv[2]);
    fprintf(stderr, "usage: png_tool diff A B | pixel F X Y | stats F | claim W H F\n");
    return 2;
}

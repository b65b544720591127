/* png_tool: PNG checks for the display tests, which must not need Python.
 *   png_tool diff A.png B.png    "MEAN MAX": mean and largest absolute difference of the
 *                                RGB bytes (same size required; exit 1 otherwise)
 *   png_tool pixel F.png X Y     "R G B" of one pixel (X from the left, Y from the top)
 *   png_tool stats F.png         "MEAN STDDEV" of all RGB bytes */
#include "image.h"

#include <math.h>
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

int main(int argc, char **argv)
{
    if (argc == 4 && strcmp(argv[1], "diff") == 0)
        return diff(argv[2], argv[3]);
    if (argc == 5 && strcmp(argv[1], "pixel") == 0)
        return pixel(argv[2], atoi(argv[3]), atoi(argv[4]));
    if (argc == 3 && strcmp(argv[1], "stats") == 0)
        return stats(argv[2]);
    fprintf(stderr, "usage: png_tool diff A B | pixel F X Y | stats F\n");
    return 2;
}

/* png_info FILE.png...: for each file, one line "WIDTH HEIGHT MIN MAX" of its RGB bytes;
 * exit 1 when a file does not decode. For shell tests that must not need Python. */
#include "image.h"

#include <stdio.h>

int main(int argc, char **argv)
{
    int rc = 0;
    for (int i = 1; i < argc; i++) {
        struct image img;
        struct error err;
        if (image_read_png(&img, argv[i], 3, &err)) {
            fprintf(stderr, "%s\n", err.msg);
            rc = 1;
            continue;
        }
        int lo = 255, hi = 0;
        size_t n = (size_t)img.width * img.height * 3;
        for (size_t k = 0; k < n; k++) {
            lo = img.pixels[k] < lo ? img.pixels[k] : lo;
            hi = img.pixels[k] > hi ? img.pixels[k] : hi;
        }
        printf("%d %d %d %d\n", img.width, img.height, lo, hi);
        image_free(&img);
    }
    return rc;
}

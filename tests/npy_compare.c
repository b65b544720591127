/* npy_compare A.npy B.npy BOUND: exit 0 when the shapes match and the relative L2 error
 * of A against B is below BOUND. For shell tests that must not need Python. */
#include "check.h"
#include "image.h"

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: npy_compare A.npy B.npy BOUND\n");
        return 2;
    }
    struct tensor a, b;
    struct error err;
    if (tensor_read_npy(&a, argv[1], &err) || tensor_read_npy(&b, argv[2], &err)) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    int rc = 0;
    if (!shape_equal(&a.shape, &b.shape)) {
        fprintf(stderr, "shapes differ\n");
        rc = 1;
    } else {
        double e = rel_l2(a.data, b.data, (long)shape_count(&a.shape));
        printf("rel L2 %.3e\n", e);
        rc = !(e < atof(argv[3]));
    }
    tensor_free(&a);
    tensor_free(&b);
    return rc;
}

/* The committed fixtures (tests/data, made by tools/make-fixtures.py) are all there and
 * say what tests/data/README.md says: .npy tensors parse without Python, have the
 * documented shapes, inputs lie in [-1,1], outputs are finite tanh images that are not
 * flat, and the face sketch is a mostly white gray image with dark lines. A parity test
 * that fails because a fixture went missing or stale should fail here first, by name. */
#include "check.h"
#include "image.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

static const char *data_path(const char *name)
{
    static char path[512];
    snprintf(path, sizeof path, "%s/%s", MNEMO_TEST_DATA, name);
    return path;
}

struct stats {
    float lo, hi;
    double mean, std;
    long nonfinite;
};

static struct stats tensor_stats(const struct tensor *t)
{
    struct stats s = {.lo = INFINITY, .hi = -INFINITY};
    int64_t n = shape_count(&t->shape);
    double sum = 0, sum2 = 0;
    for (int64_t i = 0; i < n; i++) {
        float v = t->data[i];
        if (!isfinite(v)) {
            s.nonfinite++;
            continue;
        }
        s.lo = v < s.lo ? v : s.lo;
        s.hi = v > s.hi ? v : s.hi;
        sum += v;
        sum2 += (double)v * v;
    }
    s.mean = sum / (double)n;
    s.std = sqrt(fmax(0.0, sum2 / (double)n - s.mean * s.mean));
    return s;
}

/* Reads one fixture tensor and checks its shape and value range. */
static void check_tensor(const char *name, int64_t c, int64_t h, int64_t w, bool is_output)
{
    struct tensor t;
    struct error err;
    if (tensor_read_npy(&t, data_path(name), &err) != 0) {
        CHECK_MSG(0, "%s: %s", name, err.msg);
        return;
    }
    struct shape want = shape_make4(1, c, h, w);
    char a[64], b[64];
    CHECK_MSG(shape_equal(&t.shape, &want), "%s is %s, want %s", name,
              shape_str(&t.shape, a, sizeof a), shape_str(&want, b, sizeof b));
    if (shape_equal(&t.shape, &want)) {
        struct stats s = tensor_stats(&t);
        CHECK_MSG(s.nonfinite == 0, "%s has %ld NaN/Inf", name, s.nonfinite);
        CHECK_MSG(s.lo >= -1.0f && s.hi <= 1.0f, "%s spans [%g, %g], want within [-1,1]", name,
                  s.lo, s.hi);
        /* Inputs are uniform in [-1,1] (std ~0.58); outputs must not be a flat field. */
        CHECK_MSG(s.std > (is_output ? 0.05 : 0.4), "%s: std %g is too small", name, s.std);
    }
    tensor_free(&t);
}

static void test_tensors(void)
{
    check_tensor("unet_bn_in_64.npy", 1, 64, 64, false);
    check_tensor("unet_bn_out_64.npy", 3, 64, 64, true);
    check_tensor("unet_bn_in_128.npy", 1, 128, 128, false);
    check_tensor("unet_bn_out_128.npy", 3, 128, 128, true);
    check_tensor("resnet_in_in_64.npy", 3, 64, 64, false);
    check_tensor("resnet_in_out_64.npy", 1, 64, 64, true);
    check_tensor("resnet_in_in_128.npy", 3, 128, 128, false);
    check_tensor("resnet_in_out_128.npy", 1, 128, 128, true);
}

static void test_models_present(void)
{
    static const char *const models[] = {
        "unet_bn.onnx",
        "unet_bn_op13.onnx",
        "unet_bn_dynamic.onnx",
        "resnet_in_op11.onnx",
        "resnet_in_op13.onnx",
        "resnet_in_op17.onnx",
        "resnet_in_op13_128.onnx",
        "resnet_in_dynamic.onnx",
        "chain_a.onnx",
        "chain_b_convert.onnx",
        "chain_b_mismatch.onnx",
        "resize_size_op13.onnx",
        "resize_size_nearest_op9.onnx",
        "resize_size_nearest_op10.onnx",
        "clip_inverted_op13.onnx",
        "bn_train_op9.onnx",
        "bn_train_op13.onnx",
        "bn_train_op15.onnx",
        "dropout_train_op13.onnx",
        "activations_op13.onnx",
        "activations_op17.onnx",
        "subpixel_op11.onnx",
        "subpixel_op13.onnx",
        "pools_op11.onnx",
        "pools_op13.onnx",
        "grouped_op11.onnx",
        "grouped_op13.onnx",
        "groupnorm_op11.onnx",
        "groupnorm_op13.onnx",
        "layernorm_op13.onnx",
        "layernorm_op17.onnx",
        "instnorm_running_op11.onnx",
        "instnorm_running_op13.onnx",
        "folded_op11.onnx",
        "folded_op13.onnx",
        "grouped_up_op11.onnx",
        "grouped_up_op13.onnx",
        "bicubic_op11.onnx",
        "bicubic_op13.onnx",
    };
    for (size_t i = 0; i < sizeof models / sizeof models[0]; i++) {
        struct stat st;
        bool there = stat(data_path(models[i]), &st) == 0;
        CHECK_MSG(there && st.st_size > 1000, "%s is missing or empty (tools/make-fixtures.py)",
                  models[i]);
    }
}

static void test_face_sketch(void)
{
    struct image img;
    struct error err;
    if (image_read_png(&img, data_path("face_sketch.png"), 1, &err) != 0) {
        CHECK_MSG(0, "face_sketch.png: %s", err.msg);
        return;
    }
    CHECK(img.width == 256 && img.height == 256 && img.channels == 1);
    long white = 0, dark = 0, n = (long)img.width * img.height;
    for (long i = 0; i < n; i++) {
        white += img.pixels[i] >= 250;
        dark += img.pixels[i] < 96;
    }
    /* Lines on paper: most of it white, a few percent ink. */
    CHECK_MSG(white > n * 8 / 10, "only %ld of %ld pixels are white", white, n);
    CHECK_MSG(dark > n / 100 && dark < n / 5, "%ld of %ld pixels are dark", dark, n);
    image_free(&img);
}

int main(void)
{
    RUN(test_models_present);
    RUN(test_tensors);
    RUN(test_face_sketch);
    return check_report();
}

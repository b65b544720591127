/* test_onnx_conformance.c — the ONNX project's own node tests (Debian libonnx-testdata,
 * onnx 1.12) of every op mnemo claims, run on ref and (when built) cpu.
 *
 * Which tests: every test whose nodes all use ops of the importer's op table
 * (onnx_op_claimed), at least one of them run at run time; the others are counted as "not
 * claimed" and not run. Each is converted in memory so that mnemo can take it: mnemo's
 * models have one run-time input image, so inputs after the first become initializers
 * (with test_data_set_0's values), outputs after the first are dropped (output_0 is
 * compared), and a graph of element-wise ops only gets its input lifted to rank 4 with
 * leading 1s (which changes no value of an element-wise op with numpy broadcasting).
 *
 * Per backend each test passes (matches output_0), fails (a wrong result, or a refusal
 * whose message names neither the node nor the input), or is refused; a refusal must name
 * the node and its op (or, for a model whose input is no NCHW float image, that input).
 * Known divergences of the 1.12 data from the ONNX spec are listed below with the reason;
 * any other failure fails the test.
 *
 * MNEMO_ONNX_NODE_TESTS overrides where the tests are read from; absent, the test skips. */
#include "backend.h"
#include "check.h"
#include "onnx.h"
#include "onnx.pb-c.h"

#include <dirent.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#define NODE_TESTS_DEFAULT "/usr/include/onnx/backend/test/data/node"
#define TEST_INPUTS_MAX    8

/* Float results: relative L2 within 1e-4 (the bound mnemo holds its fixtures to against
 * PyTorch; ref and oneDNN sum in other orders than numpy, and erf/tanh/exp are libm's) and
 * no element further than 1e-4 of the tensor's scale, so that one wrong element cannot hide
 * in a small L2. Ops that only select or copy values must match exactly. */
#define FLOAT_REL_L2  1e-4
#define FLOAT_MAX_ABS 1e-4

/* Cases where the ONNX 1.12 test data disagrees with the ONNX spec (and with PyTorch), so
 * mnemo, which follows the spec, cannot match them. A listed case that passes fails the
 * test, so the list stays true. */
static const struct divergence {
    const char *test;
    const char *reason;
} divergences[] = {
    {"test_resize_downsample_scales_linear_align_corners",
     "the 1.12 reference maps align_corners coordinates by (in-1)/(in*scale-1) = 3/1.4 with "
     "the float scale, where the spec and PyTorch's interpolate(align_corners=True) use the "
     "integer sizes, (in-1)/(out-1) = 3/1: mnemo gives 4 (input column 3), the data "
     "3.142857"},
};

/* Ops whose result only selects or moves input values: no rounding, so no tolerance. */
static const char *const exact_ops[] = {
    "Relu",    "Neg",     "Identity",      "Dropout", "Pad",          "Concat",
    "MaxPool", "Reshape", "GlobalMaxPool", "Clip",    "DepthToSpace", "SpaceToDepth",
};

struct counts {
    int pass, fail, refused, refused_input, divergent;
};

struct tensor {
    int32_t rank;
    int64_t dims[SHAPE_MAX_RANK + 2];
    int64_t count;
    float *data;
};

static const char *tests_dir;
static int tests_not_claimed, tests_load_time_only, tests_claimed;
static struct counts ref_counts, cpu_counts;

/* ---- reading the test's files ---- */

static uint8_t *file_slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *data = size > 0 ? malloc((size_t)size) : NULL;
    if (data && fread(data, 1, (size_t)size, f) != (size_t)size) {
        free(data);
        data = NULL;
    }
    fclose(f);
    *len = data ? (size_t)size : 0;
    return data;
}

static Onnx__TensorProto *tensor_proto_read(const char *test, const char *kind, int index)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s/test_data_set_0/%s_%d.pb", tests_dir, test, kind, index);
    size_t len = 0;
    uint8_t *bytes = file_slurp(path, &len);
    Onnx__TensorProto *t = bytes ? onnx__tensor_proto__unpack(NULL, len, bytes) : NULL;
    free(bytes);
    return t;
}

/* A float TensorProto's values (raw little-endian bytes or float_data). */
static int tensor_from_proto(const Onnx__TensorProto *t, struct tensor *out)
{
    *out = (struct tensor){.rank = (int32_t)t->n_dims, .count = 1};
    if (t->data_type != ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT || t->n_dims > SHAPE_MAX_RANK + 2)
        return -1;
    for (size_t d = 0; d < t->n_dims; d++) {
        out->dims[d] = t->dims[d];
        out->count *= t->dims[d];
    }
    size_t bytes = (size_t)out->count * sizeof(float);
    const void *src =
        t->has_raw_data ? (const void *)t->raw_data.data : (const void *)t->float_data;
    size_t have = t->has_raw_data ? t->raw_data.len : t->n_float_data * sizeof(float);
    if (have != bytes)
        return -1;
    out->data = malloc(bytes ? bytes : 1);
    if (!out->data)
        return -1;
    memcpy(out->data, src, bytes);
    return 0;
}

static int tensor_read(const char *test, const char *kind, int index, struct tensor *out)
{
    Onnx__TensorProto *t = tensor_proto_read(test, kind, index);
    int rc = t ? tensor_from_proto(t, out) : -1;
    if (t)
        onnx__tensor_proto__free_unpacked(t, NULL);
    return rc;
}

static Onnx__ModelProto *model_read(const char *test)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s/model.onnx", tests_dir, test);
    size_t len = 0;
    uint8_t *bytes = file_slurp(path, &len);
    Onnx__ModelProto *m = bytes ? onnx__model_proto__unpack(NULL, len, bytes) : NULL;
    free(bytes);
    return m;
}

/* ---- which tests mnemo claims ---- */

static bool domain_is_default(const char *domain)
{
    return !domain || !domain[0] || strcmp(domain, "ai.onnx") == 0;
}

/* The weakest claim over the graph's nodes: NOT_CLAIMED if any op is not in the table,
 * LOAD_TIME if none runs, ELEMENTWISE if every run-time op is, else RUNS. */
static enum onnx_op_claim graph_claim(const Onnx__GraphProto *gp)
{
    bool runs = false, elementwise = true;
    for (size_t j = 0; j < gp->n_node; j++) {
        const Onnx__NodeProto *n = gp->node[j];
        enum onnx_op_claim c =
            domain_is_default(n->domain) ? onnx_op_claimed(n->op_type) : ONNX_OP_NOT_CLAIMED;
        if (c == ONNX_OP_NOT_CLAIMED)
            return ONNX_OP_NOT_CLAIMED;
        runs = runs || c != ONNX_OP_LOAD_TIME;
        elementwise = elementwise && c != ONNX_OP_RUNS;
    }
    if (!runs || !gp->n_input) /* no input: everything is known at load */
        return ONNX_OP_LOAD_TIME;
    return elementwise ? ONNX_OP_ELEMENTWISE : ONNX_OP_RUNS;
}

static bool node_is_exact(const Onnx__NodeProto *n)
{
    for (size_t k = 0; k < sizeof exact_ops / sizeof exact_ops[0]; k++)
        if (strcmp(n->op_type, exact_ops[k]) == 0)
            return true;
    if (strcmp(n->op_type, "Resize") != 0 && strcmp(n->op_type, "Upsample") != 0)
        return false;
    for (size_t a = 0; a < n->n_attribute; a++)
        if (strcmp(n->attribute[a]->name, "mode") == 0)
            return n->attribute[a]->s.len == 7 &&
                   memcmp(n->attribute[a]->s.data, "nearest", 7) == 0;
    return true; /* nearest is the default mode */
}

static bool graph_is_exact(const Onnx__GraphProto *gp)
{
    for (size_t j = 0; j < gp->n_node; j++)
        if (!node_is_exact(gp->node[j]))
            return false;
    return true;
}

static const struct divergence *divergence_find(const char *test)
{
    for (size_t j = 0; j < sizeof divergences / sizeof divergences[0]; j++)
        if (strcmp(divergences[j].test, test) == 0)
            return &divergences[j];
    return NULL;
}

/* ---- the conversion: what mnemo can take ---- */

/* What the conversion swapped into the model, to be swapped back before it is freed (the
 * model's own allocations stay where protobuf-c put them). */
struct conversion {
    Onnx__TensorProto *inits[TEST_INPUTS_MAX];
    size_t n_inits;
    Onnx__TensorProto **saved_init;
    size_t saved_n_init, saved_n_output;
    bool swapped;
    Onnx__TensorShapeProto lifted;
    Onnx__TensorShapeProto__Dimension dims[4], *dim_ptrs[4];
    Onnx__TensorShapeProto *saved_shape;
    Onnx__TypeProto__Tensor *input_type;
    bool lift;
};

/* Inputs 1.. of the test become initializers named as the graph's inputs. */
static int inputs_to_initializers(const char *test, Onnx__GraphProto *gp, struct conversion *cv)
{
    for (size_t j = 1; j < gp->n_input && j <= TEST_INPUTS_MAX; j++) {
        Onnx__TensorProto *t = tensor_proto_read(test, "input", (int)j);
        if (!t)
            return -1;
        free(t->name);
        t->name = strdup(gp->input[j]->name);
        cv->inits[cv->n_inits++] = t;
    }
    cv->saved_init = gp->initializer;
    cv->saved_n_init = gp->n_initializer;
    gp->initializer = cv->inits;
    gp->n_initializer = cv->n_inits;
    cv->swapped = true;
    return 0;
}

static Onnx__TypeProto__Tensor *input_tensor_type(const Onnx__GraphProto *gp)
{
    const Onnx__ValueInfoProto *vi = gp->input[0];
    return vi->type && vi->type->value_case == ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE
               ? vi->type->tensor_type
               : NULL;
}

/* Leading 1s up to rank 4 on the input's declared shape (element-wise graphs only). */
static void input_lift(Onnx__GraphProto *gp, struct conversion *cv)
{
    Onnx__TypeProto__Tensor *tt = input_tensor_type(gp);
    if (!tt || !tt->shape || tt->shape->n_dim >= 4)
        return;
    size_t lead = 4 - tt->shape->n_dim;
    onnx__tensor_shape_proto__init(&cv->lifted);
    for (size_t d = 0; d < 4; d++) {
        onnx__tensor_shape_proto__dimension__init(&cv->dims[d]);
        cv->dims[d].value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
        cv->dims[d].dim_value = d < lead ? 1 : tt->shape->dim[d - lead]->dim_value;
        cv->dim_ptrs[d] = &cv->dims[d];
    }
    cv->lifted.n_dim = 4;
    cv->lifted.dim = cv->dim_ptrs;
    cv->input_type = tt;
    cv->saved_shape = tt->shape;
    tt->shape = &cv->lifted;
    cv->lift = true;
}

static int convert(const char *test, Onnx__ModelProto *m, bool elementwise, struct conversion *cv)
{
    Onnx__GraphProto *gp = m->graph;
    *cv = (struct conversion){.saved_n_output = gp->n_output};
    if (gp->n_input > TEST_INPUTS_MAX + 1 || inputs_to_initializers(test, gp, cv))
        return -1;
    if (gp->n_output > 1)
        gp->n_output = 1;
    if (elementwise)
        input_lift(gp, cv);
    return 0;
}

static void unconvert(Onnx__ModelProto *m, struct conversion *cv)
{
    Onnx__GraphProto *gp = m->graph;
    if (cv->swapped) {
        gp->initializer = cv->saved_init;
        gp->n_initializer = cv->saved_n_init;
    }
    gp->n_output = cv->saved_n_output;
    if (cv->lift)
        cv->input_type->shape = cv->saved_shape;
    for (size_t j = 0; j < cv->n_inits; j++)
        onnx__tensor_proto__free_unpacked(cv->inits[j], NULL);
}

/* ---- refusals: they must say where ---- */

static bool message_names_a_node(const Onnx__GraphProto *gp, const char *msg)
{
    for (size_t j = 0; j < gp->n_node; j++) {
        const Onnx__NodeProto *n = gp->node[j];
        char name[160];
        if (n->name && n->name[0])
            snprintf(name, sizeof name, "node '%s'", n->name);
        else
            snprintf(name, sizeof name, "node '%s_%zu'", n->op_type, j);
        if (strstr(msg, name) && strstr(msg, n->op_type))
            return true;
    }
    return false;
}

/* A model whose input is no NCHW float image, or whose output is its input, is refused for
 * the model's form (naming its input), not for a node. */
static bool message_names_the_input(const Onnx__GraphProto *gp, const char *msg)
{
    char name[160];
    snprintf(name, sizeof name, "input '%s'", gp->input[0]->name);
    return strstr(msg, name) != NULL;
}

static void refusal_count(const char *test, const char *backend, const Onnx__GraphProto *gp,
                          const char *msg, struct counts *c)
{
    if (message_names_a_node(gp, msg)) {
        c->refused++;
        printf("  refused %-52s %s: %s\n", test, backend, msg);
    } else if (message_names_the_input(gp, msg)) {
        c->refused_input++;
        printf("  refused for its form %-41s %s: %s\n", test, backend, msg);
    } else {
        c->fail++;
        CHECK_MSG(false, "%s on %s: the refusal names neither a node nor the input: %s", test,
                  backend, msg);
    }
}

/* ---- running and comparing ---- */

/* Shapes agree, ignoring the leading 1s a lift added. */
static bool shape_matches(const struct shape *got, const struct tensor *want, bool lifted)
{
    int32_t skip = lifted ? got->rank - want->rank : 0;
    if (skip < 0 || got->rank - skip != want->rank)
        return false;
    for (int32_t d = 0; d < skip; d++)
        if (got->dim[d] != 1)
            return false;
    for (int32_t d = 0; d < want->rank; d++)
        if (got->dim[d + skip] != want->dims[d])
            return false;
    return true;
}

struct diff {
    double rel_l2, max_abs, scale;
    int64_t worst;
    bool nan_mismatch;
};

static struct diff diff_compute(const float *got, const struct tensor *want)
{
    struct diff d = {.scale = 1.0, .worst = -1};
    double err2 = 0, ref2 = 0;
    for (int64_t i = 0; i < want->count; i++) {
        double e = want->data[i], y = got[i];
        if (isnan(e) || isnan(y)) {
            d.nan_mismatch = d.nan_mismatch || isnan(e) != isnan(y);
            continue;
        }
        double a = e == y ? 0.0 : fabs(y - e); /* equal infinities differ by 0 */
        if (a > d.max_abs || d.worst < 0) {
            d.max_abs = a;
            d.worst = i;
        }
        err2 += a * a;
        ref2 += isinf(e) ? 0.0 : e * e;
        d.scale = isinf(e) || fabs(e) < d.scale ? d.scale : fabs(e);
    }
    d.rel_l2 = ref2 > 0 ? sqrt(err2 / ref2) : sqrt(err2);
    return d;
}

static bool diff_ok(const struct diff *d, bool exact)
{
    if (d->nan_mismatch || !isfinite(d->max_abs))
        return false;
    if (exact)
        return d->max_abs == 0.0;
    return d->rel_l2 <= FLOAT_REL_L2 && d->max_abs <= FLOAT_MAX_ABS * d->scale;
}

struct test_case {
    const char *name;
    const Onnx__GraphProto *gp;
    struct tensor input, expected;
    bool lifted, exact;
    const struct divergence *divergence;
};

static void result_count(const struct test_case *tc, const char *backend, bool ok, const char *why,
                         struct counts *c)
{
    if (ok && !tc->divergence) {
        c->pass++;
        return;
    }
    if (!ok && tc->divergence) {
        c->divergent++;
        printf("  known divergence %s on %s (%s): %s\n", tc->name, backend, why,
               tc->divergence->reason);
        return;
    }
    c->fail++;
    if (ok)
        CHECK_MSG(false, "%s on %s passes but is listed as a divergence: remove it", tc->name,
                  backend);
    else
        CHECK_MSG(false, "%s on %s: %s", tc->name, backend, why);
}

static void run_on(const struct test_case *tc, const struct graph *g, const char *backend,
                   struct counts *c)
{
    struct error err = {{0}};
    struct backend *b = backend_open(g, backend, NULL, &err);
    if (!b) {
        refusal_count(tc->name, backend, tc->gp, err.msg, c);
        return;
    }
    const struct shape *out_shape = &g->values[g->output].shape;
    float *out = calloc((size_t)shape_count(out_shape) + 1, sizeof *out);
    char why[ERROR_MSG_MAX + 64] = "";
    if (!tc->input.data || !tc->expected.data) {
        snprintf(why, sizeof why, "loaded, but its input_0 or output_0 is no float tensor");
    } else if (!shape_matches(out_shape, &tc->expected, tc->lifted)) {
        char s[96];
        snprintf(why, sizeof why, "output shape %s, expected rank %d",
                 shape_str(out_shape, s, sizeof s), tc->expected.rank);
    } else if (backend_run(b, tc->input.data, out, &err)) {
        snprintf(why, sizeof why, "run failed: %s", err.msg);
    } else {
        struct diff d = diff_compute(out, &tc->expected);
        if (!diff_ok(&d, tc->exact))
            snprintf(why, sizeof why,
                     "relative L2 %.3g, max abs %.3g (element %lld: %.9g, expected %.9g)%s%s",
                     d.rel_l2, d.max_abs, (long long)d.worst, d.worst >= 0 ? out[d.worst] : 0.0,
                     d.worst >= 0 ? tc->expected.data[d.worst] : 0.0,
                     d.nan_mismatch ? ", NaN where not expected (or not where expected)" : "",
                     tc->exact ? ", must be exact" : "");
    }
    result_count(tc, backend, why[0] == '\0', why, c);
    free(out);
    backend_close(b);
}

/* ---- one test ---- */

static void run_loaded(struct test_case *tc, const struct graph *g)
{
    run_on(tc, g, "ref", &ref_counts);
    if (backend_find("cpu"))
        run_on(tc, g, "cpu", &cpu_counts);
}

static void load_and_run(struct test_case *tc, Onnx__ModelProto *m)
{
    size_t size = onnx__model_proto__get_packed_size(m);
    uint8_t *bytes = malloc(size ? size : 1);
    if (!bytes)
        return;
    onnx__model_proto__pack(m, bytes);
    char name[1024];
    snprintf(name, sizeof name, "%s/%s/model.onnx", tests_dir, tc->name);
    struct graph g;
    struct error err = {{0}};
    if (onnx_load_memory(&g, bytes, size, name, NULL, &err)) {
        refusal_count(tc->name, "ref load", tc->gp, err.msg, &ref_counts);
        if (backend_find("cpu"))
            refusal_count(tc->name, "cpu load", tc->gp, err.msg, &cpu_counts);
    } else {
        run_loaded(tc, &g);
        graph_free(&g);
    }
    free(bytes);
}

static void claimed_case(const char *name, Onnx__ModelProto *m, enum onnx_op_claim claim)
{
    struct test_case tc = {.name = name,
                           .gp = m->graph,
                           .exact = graph_is_exact(m->graph),
                           .divergence = divergence_find(name)};
    /* Data that is no float tensor stays NULL: mnemo must then refuse the model. */
    tensor_read(name, "input", 0, &tc.input);
    tensor_read(name, "output", 0, &tc.expected);
    struct conversion cv;
    bool converted = convert(name, m, claim == ONNX_OP_ELEMENTWISE, &cv) == 0;
    CHECK_MSG(converted, "%s: cannot read its test_data_set_0", name);
    tc.lifted = cv.lift;
    if (converted)
        load_and_run(&tc, m);
    unconvert(m, &cv);
    free(tc.input.data);
    free(tc.expected.data);
}

/* Reads, classifies, converts and runs the test `name`. */
static void conformance_case(const char *name)
{
    Onnx__ModelProto *m = model_read(name);
    bool readable = m && m->graph && m->graph->n_output;
    CHECK_MSG(readable, "%s: its model.onnx is unreadable", name);
    enum onnx_op_claim claim = readable ? graph_claim(m->graph) : ONNX_OP_NOT_CLAIMED;
    tests_not_claimed += readable && claim == ONNX_OP_NOT_CLAIMED;
    tests_load_time_only += claim == ONNX_OP_LOAD_TIME;
    if (claim == ONNX_OP_ELEMENTWISE || claim == ONNX_OP_RUNS) {
        tests_claimed++;
        claimed_case(name, m, claim);
    }
    if (m)
        onnx__model_proto__free_unpacked(m, NULL);
}

/* ---- the suite ---- */

static int name_compare(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The test folders, sorted so that the printout is stable. */
static char **test_names(int *count)
{
    DIR *d = opendir(tests_dir);
    char **names = NULL;
    int n = 0, cap = 0;
    for (struct dirent *e; d && (e = readdir(d));) {
        if (strncmp(e->d_name, "test_", 5) != 0)
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 256;
            names = realloc(names, (size_t)cap * sizeof *names);
        }
        names[n++] = strdup(e->d_name);
    }
    if (d)
        closedir(d);
    if (n)
        qsort(names, (size_t)n, sizeof *names, name_compare);
    *count = n;
    return names;
}

static void counts_print(const char *backend, const struct counts *c)
{
    printf("%s: %d pass, %d fail, %d refused (naming the node), %d refused for the model's "
           "form (input no NCHW float image, or nothing computed), %d known divergences\n",
           backend, c->pass, c->fail, c->refused, c->refused_input, c->divergent);
}

static void test_node_tests(void)
{
    int count = 0;
    char **names = test_names(&count);
    if (!count)
        SKIP("no ONNX node tests in %s (install libonnx-testdata)", tests_dir);
    for (int j = 0; j < count; j++) {
        conformance_case(names[j]);
        free(names[j]);
    }
    free(names);
    printf("%d node tests: %d claimed, %d not claimed, %d of load-time ops only (not run)\n", count,
           tests_claimed, tests_not_claimed, tests_load_time_only);
    counts_print("ref", &ref_counts);
    if (backend_find("cpu"))
        counts_print("cpu", &cpu_counts);
    else
        printf("cpu: not built (no oneDNN)\n");
    CHECK(tests_claimed > 0);
}

int main(void)
{
    tests_dir = getenv("MNEMO_ONNX_NODE_TESTS");
    tests_dir = tests_dir && tests_dir[0] ? tests_dir : NODE_TESTS_DEFAULT;
    RUN(test_node_tests);
    return check_report();
}

/* loop_seed.c — seed sketches: a face drawn by code, and smooth noise (see loop_ops.h).
 *
 * The face is drawn in unit coordinates (0..1 across the shorter image side, y down) as
 * polylines stamped with an antialiased round pen, so it looks the same at any size. */
#include "loop_ops.h"

#include <math.h>

#define TWO_PI 6.283185307179586f
#define PI     3.141592653589793f

struct pen {
    struct planar *im;
    float scale, ox, oy; /* unit -> pixel */
    float width;         /* stroke width, pixels */
};

/* Darkens every pixel within the pen's reach of segment (x0,y0)-(x1,y1) (pixels):
 * coverage 1 inside width/2, falling to 0 over one pixel at the edge. */
static void stamp_segment(const struct pen *pen, float x0, float y0, float x1, float y1)
{
    struct planar *im = pen->im;
    float reach = pen->width * 0.5f + 1;
    int32_t xa = (int32_t)floorf(fminf(x0, x1) - reach), xb = (int32_t)ceilf(fmaxf(x0, x1) + reach);
    int32_t ya = (int32_t)floorf(fminf(y0, y1) - reach), yb = (int32_t)ceilf(fmaxf(y0, y1) + reach);
    xa = xa < 0 ? 0 : xa;
    ya = ya < 0 ? 0 : ya;
    xb = xb > im->width - 1 ? im->width - 1 : xb;
    yb = yb > im->height - 1 ? im->height - 1 : yb;
    float vx = x1 - x0, vy = y1 - y0, len2 = vx * vx + vy * vy;
    size_t plane = (size_t)im->width * (size_t)im->height;
    for (int32_t y = ya; y <= yb; y++) {
        for (int32_t x = xa; x <= xb; x++) {
            float px = (float)x - x0, py = (float)y - y0;
            float t = len2 > 0 ? (px * vx + py * vy) / len2 : 0;
            t = t < 0 ? 0 : (t > 1 ? 1 : t);
            float d = hypotf(px - t * vx, py - t * vy);
            float cover = fminf(1, fmaxf(0, pen->width * 0.5f + 0.5f - d));
            float v = LO_PAPER - 2 * cover;
            for (int32_t ch = 0; ch < im->channels; ch++) {
                float *p = im->data + (size_t)ch * plane + (size_t)y * (size_t)im->width + x;
                *p = fminf(*p, v);
            }
        }
    }
}

static void line(const struct pen *pen, float u0, float v0, float u1, float v1)
{
    stamp_segment(pen, pen->ox + u0 * pen->scale, pen->oy + v0 * pen->scale,
                  pen->ox + u1 * pen->scale, pen->oy + v1 * pen->scale);
}

/* Segments for a curve of about `length` units: one per ~2 pixels, at least 8. */
static int segments(const struct pen *pen, float length)
{
    int n = (int)(length * pen->scale / 2);
    return n < 8 ? 8 : (n > 400 ? 400 : n);
}

/* Elliptic arc from angle t0 to t1 (y down: pi..2pi is the upper half). `taper` narrows
 * the lower half (a jaw): x offsets shrink by taper * sin(t) where sin(t) > 0. */
static void arc(const struct pen *pen, float cx, float cy, float rx, float ry, float t0, float t1,
                float taper)
{
    int n = segments(pen, fabsf(t1 - t0) * fmaxf(rx, ry));
    float pu = 0, pv = 0;
    for (int i = 0; i <= n; i++) {
        float t = t0 + (t1 - t0) * (float)i / (float)n, s = sinf(t);
        float u = cx + rx * cosf(t) * (1 - taper * fmaxf(s, 0)), v = cy + ry * s;
        if (i > 0)
            line(pen, pu, pv, u, v);
        pu = u;
        pv = v;
    }
}

/* Quadratic Bezier from (u0,v0) through control (uc,vc) to (u1,v1). */
static void bezier(const struct pen *pen, float u0, float v0, float uc, float vc, float u1,
                   float v1)
{
    int n = segments(pen, hypotf(uc - u0, vc - v0) + hypotf(u1 - uc, v1 - vc));
    float pu = u0, pv = v0;
    for (int i = 1; i <= n; i++) {
        float t = (float)i / (float)n, s = 1 - t;
        float u = s * s * u0 + 2 * s * t * uc + t * t * u1;
        float v = s * s * v0 + 2 * s * t * vc + t * t * v1;
        line(pen, pu, pv, u, v);
        pu = u;
        pv = v;
    }
}

/* rng-varied proportions of one face, unit coordinates. */
struct face {
    float cx, cy, rx, ry, taper;
    float eye_y, eye_dx, eye_w, eye_h, brow_lift, brow_tilt;
    float nose_len, nose_dx, mouth_y, mouth_w, smile;
    float hair_lift, part;
};

static float jitter(struct rng *r, float centre, float spread)
{
    return centre + spread * rng_range(r, -1, 1);
}

static struct face face_draw_params(struct rng *r)
{
    struct face f;
    f.cx = jitter(r, 0.5f, 0.015f);
    f.cy = jitter(r, 0.52f, 0.015f);
    f.rx = jitter(r, 0.25f, 0.025f);
    f.ry = jitter(r, 0.32f, 0.025f);
    f.taper = jitter(r, 0.25f, 0.1f);
    f.eye_y = f.cy + jitter(r, -0.03f, 0.02f);
    f.eye_dx = jitter(r, 0.1f, 0.012f);
    f.eye_w = jitter(r, 0.04f, 0.008f);
    f.eye_h = jitter(r, 0.016f, 0.006f);
    f.brow_lift = jitter(r, 0.05f, 0.012f);
    f.brow_tilt = jitter(r, 0, 0.012f);
    f.nose_len = jitter(r, 0.11f, 0.02f);
    f.nose_dx = jitter(r, 0.01f, 0.012f);
    f.mouth_y = f.cy + jitter(r, 0.16f, 0.02f);
    f.mouth_w = jitter(r, 0.065f, 0.015f);
    f.smile = jitter(r, 0.01f, 0.02f);
    f.hair_lift = jitter(r, 0.05f, 0.025f);
    f.part = jitter(r, 0, 0.08f);
    return f;
}

static void draw_eyes_and_brows(const struct pen *pen, const struct face *f)
{
    for (int side = -1; side <= 1; side += 2) {
        float ex = f->cx + (float)side * f->eye_dx;
        arc(pen, ex, f->eye_y, f->eye_w, f->eye_h, PI, TWO_PI, 0);
        arc(pen, ex, f->eye_y, f->eye_w, f->eye_h * 0.6f, 0, PI, 0);
        arc(pen, ex, f->eye_y, f->eye_h * 0.45f, f->eye_h * 0.45f, 0, TWO_PI, 0);
        float by = f->eye_y - f->brow_lift, tilt = (float)side * f->brow_tilt;
        bezier(pen, ex - f->eye_w * 1.2f, by + tilt, ex, by - 0.02f, ex + f->eye_w * 1.2f,
               by - tilt);
    }
}

static void draw_nose_and_mouth(const struct pen *pen, const struct face *f)
{
    float top = f->eye_y + 0.02f, tip = f->eye_y + f->nose_len;
    bezier(pen, f->cx - 0.01f, top, f->cx + f->nose_dx + 0.015f, (top + tip) * 0.5f,
           f->cx + f->nose_dx, tip);
    bezier(pen, f->cx + f->nose_dx, tip, f->cx - 0.01f, tip + 0.02f, f->cx - 0.035f, tip - 0.005f);
    float my = f->mouth_y, mw = f->mouth_w;
    bezier(pen, f->cx - mw, my, f->cx, my + 2 * f->smile, f->cx + mw, my);
    bezier(pen, f->cx - mw * 0.6f, my + 0.035f, f->cx, my + 0.05f, f->cx + mw * 0.6f, my + 0.035f);
}

static void draw_head(const struct pen *pen, const struct face *f)
{
    arc(pen, f->cx, f->cy, f->rx, f->ry, 0, TWO_PI, f->taper);
    float hair_rx = f->rx * 1.12f, hair_ry = f->ry + f->hair_lift;
    arc(pen, f->cx, f->cy, hair_rx, hair_ry, PI - 0.35f, TWO_PI + 0.35f, 0);
    float crown_v = f->cy - hair_ry, brow_v = f->eye_y - f->brow_lift - 0.04f;
    float part_u = f->cx + f->part;
    bezier(pen, part_u, crown_v, f->cx - f->rx * 0.6f, crown_v + 0.04f, f->cx - f->rx * 0.95f,
           brow_v);
    bezier(pen, part_u, crown_v, f->cx + f->rx * 0.6f, crown_v + 0.04f, f->cx + f->rx * 0.95f,
           brow_v);
    for (int side = -1; side <= 1; side += 2) {
        float ear_u = f->cx + (float)side * f->rx;
        float t0 = side > 0 ? -PI / 2 : PI / 2, t1 = side > 0 ? PI / 2 : 3 * PI / 2;
        arc(pen, ear_u, f->eye_y + 0.04f, 0.03f, 0.055f, t0, t1, 0);
        float neck_u = f->cx + (float)side * f->rx * 0.45f;
        line(pen, neck_u, f->cy + f->ry * 0.9f, neck_u + (float)side * 0.02f, 1.05f);
    }
}

void lo_seed_face(struct planar *sketch, struct rng *rng)
{
    size_t n = lo_size(sketch);
    for (size_t i = 0; i < n; i++)
        sketch->data[i] = LO_PAPER;
    float scale = (float)(sketch->width < sketch->height ? sketch->width : sketch->height);
    struct pen pen = {
        .im = sketch,
        .scale = scale,
        .ox = ((float)sketch->width - scale) * 0.5f - 0.5f,
        .oy = ((float)sketch->height - scale) * 0.5f - 0.5f,
        .width = fmaxf(1.2f, scale * 0.011f),
    };
    struct face f = face_draw_params(rng);
    draw_head(&pen, &f);
    draw_eyes_and_brows(&pen, &f);
    draw_nose_and_mouth(&pen, &f);
}

/* ---- noise -------------------------------------------------------------------------- */

#define GRID_MAX 9

/* Value noise on a g x g grid of random values, smoothstep-interpolated at (u, v). */
static float grid_sample(const float *grid, int g, float u, float v)
{
    float gu = u * (float)(g - 1), gv = v * (float)(g - 1);
    int i = (int)gu, j = (int)gv;
    i = i > g - 2 ? g - 2 : i;
    j = j > g - 2 ? g - 2 : j;
    float fu = gu - (float)i, fv = gv - (float)j;
    fu = fu * fu * (3 - 2 * fu);
    fv = fv * fv * (3 - 2 * fv);
    const float *r0 = grid + j * g, *r1 = r0 + g;
    float top = r0[i] + (r0[i + 1] - r0[i]) * fu;
    float bottom = r1[i] + (r1[i + 1] - r1[i]) * fu;
    return top + (bottom - top) * fv;
}

void lo_seed_noise(struct planar *sketch, struct rng *rng)
{
    float coarse[5 * 5], fine[GRID_MAX * GRID_MAX];
    for (int i = 0; i < 5 * 5; i++)
        coarse[i] = rng_range(rng, -1, 1);
    for (int i = 0; i < GRID_MAX * GRID_MAX; i++)
        fine[i] = rng_range(rng, -1, 1);
    size_t plane = (size_t)sketch->width * (size_t)sketch->height;
    float du = sketch->width > 1 ? 1.0f / (float)(sketch->width - 1) : 0;
    float dv = sketch->height > 1 ? 1.0f / (float)(sketch->height - 1) : 0;
    for (int32_t y = 0; y < sketch->height; y++) {
        for (int32_t x = 0; x < sketch->width; x++) {
            float u = (float)x * du, v = (float)y * dv;
            float s =
                0.7f * grid_sample(coarse, 5, u, v) + 0.5f * grid_sample(fine, GRID_MAX, u, v);
            s = s < -1 ? -1 : (s > 1 ? 1 : s);
            for (int32_t ch = 0; ch < sketch->channels; ch++)
                sketch->data[(size_t)ch * plane + (size_t)y * (size_t)sketch->width + x] = s;
        }
    }
}

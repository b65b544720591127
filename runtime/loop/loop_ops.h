/* loop_ops.h — the per-iteration image operations of the feedback loop.
 *
 * Image convention (every function here):
 *   - float planar images, C x H x W: plane after plane (R, G, B for portraits; one plane
 *     for sketches), rows top to bottom, pixels left to right;
 *   - values in [-1, 1], the pix2pix/CycleGAN range: -1 is black (a sketch's ink, the
 *     darkest paint), +1 is white (the paper, the brightest light). LO_INK / LO_PAPER.
 *   - pixel (x, y) has its centre at (x, y); the image spans [-0.5, W-0.5] x [-0.5, H-0.5];
 *     geometric operations turn about the centre ((W-1)/2, (H-1)/2).
 * Sketches are 1-channel dark lines on white; portraits are 3-channel RGB.
 *
 * These run every iteration forever, so none of them allocates, locks or does I/O:
 * outputs and scratch space are caller-provided (sizes are stated per function), and all
 * randomness comes from the caller's struct rng, so a seed gives the same frames.
 * Inputs and outputs must not overlap unless a function says it works in place. */
#ifndef MNEMO_LOOP_OPS_H
#define MNEMO_LOOP_OPS_H

#include "image.h"
#include "params.h"
#include "rng.h"

#include <stddef.h>
#include <stdint.h>

#define LO_INK   (-1.0f)
#define LO_PAPER 1.0f

struct planar {
    int32_t channels, height, width;
    float *data; /* channels * height * width floats, not owned */
};

/* channels * height * width. */
size_t lo_size(const struct planar *im);

/* ---- geometry and perturbation ------------------------------------------------------ */

/* A similarity transform of the content about the image centre: scaled by `zoom` (> 1
 * enlarges), turned `angle_deg` counterclockwise as seen on screen, then moved by
 * (shift_x, shift_y) pixels (+x right, +y down). */
struct warp {
    float zoom, angle_deg, shift_x, shift_y;
};

/* out = in under w, bilinear; samples from outside in read `background` (LO_PAPER for a
 * sketch). The identity warp returns in exactly. in and out have the same size. */
void lo_warp(const struct planar *in, struct planar *out, const struct warp *w, float background);

/* Strength of one iteration's perturbation (perturb.* params times the guard's boost). */
struct perturb_strength {
    float zoom;   /* largest |zoom - 1| */
    float rotate; /* largest |angle|, degrees */
    float drift;  /* largest |shift| per axis, pixels */
    float noise;  /* std of additive gaussian noise */
    int32_t erase_count;
    float erase_size; /* patch side, fraction of the shorter image side */
};
struct perturb_strength lo_perturb_strength(const struct params *p, float boost);

/* out = in warped by a random warp within s, plus gaussian noise, with s->erase_count
 * random square patches erased to paper. Values stay in [-1, 1]. Same size in and out. */
void lo_perturb(const struct planar *in, struct planar *out, const struct perturb_strength *s,
                struct rng *rng);
/* In place: adds N(0, std^2) noise to every value, clamped to [-1, 1]. Takes two draws
 * from rng, which seed one stream per block of pixels: the same noise for any thread count. */
void lo_add_noise(struct planar *im, float std, struct rng *rng);
/* In place: fills `count` random squares of side `size` x the shorter side with paper. */
void lo_erase(struct planar *im, int32_t count, float size, struct rng *rng);

/* ---- mixing and conversion ---------------------------------------------------------- */

/* out = (1 - a) * fresh + a * prev over n values; out may be fresh or prev. */
void lo_blend(const float *fresh, const float *prev, float a, float *out, size_t n);
/* Rec.601 luma: gray = 0.299 R + 0.587 G + 0.114 B (the weights sum to 1, so the [-1, 1]
 * range maps to itself). Same H x W; rgb has 3 channels, gray 1. */
void lo_rgb_to_gray(const struct planar *rgb, struct planar *gray);
void lo_gray_to_rgb(const struct planar *gray, struct planar *rgb);
/* out = in at out's size (same channel count): area average along an axis that shrinks,
 * bilinear (edge replicated) along one that grows, a copy when sizes match. */
void lo_resize(const struct planar *in, struct planar *out);
/* In place: maps `from` linearly onto `to` (e.g. a model's [0, 1] output to [-1, 1]). */
void lo_map_range(float *data, size_t n, struct value_range from, struct value_range to);

/* ---- simplify: keep the sketch a clean, simple line drawing ------------------------- */

struct simplify_opts {
    float blur;      /* gaussian sigma, pixels; 0 = none */
    float threshold; /* level below which a pixel is ink */
    float softness;  /* half-width of the threshold ramp; 0 = hard (only -1 and +1 out) */
    int32_t thin;    /* line-thinning passes; 0 = none */
};
struct simplify_opts lo_simplify_opts(const struct params *p);

/* In place, each plane: separable gaussian blur (mirrored edges, so the mean is kept).
 * scratch: height * width floats. Sigma is capped at 8. */
void lo_blur(struct planar *im, float sigma, float *scratch);
/* In place: values below threshold - softness become ink, above threshold + softness
 * paper, a smooth ramp between; softness 0 gives a binary image. */
void lo_threshold(struct planar *im, float threshold, float softness);
/* In place, each plane: `passes` rounds of Zhang-Suen thinning of the ink (values < 0);
 * removed ink becomes paper, kept pixels keep their value. scratch: height * width. */
void lo_thin(struct planar *im, int32_t passes, float *scratch);
/* blur, threshold, thin. scratch: height * width floats. */
void lo_simplify(struct planar *sketch, const struct simplify_opts *o, float *scratch);

/* ---- seed sketches ------------------------------------------------------------------ */

/* A simple face drawn by code: head oval, hair outline and fringe, brows, eyes, nose,
 * mouth, ears and neck, as antialiased ink lines on paper, at any size (every channel
 * the same). The rng varies proportions and placement: each seed, a different face. */
void lo_seed_face(struct planar *sketch, struct rng *rng);
/* Smooth value noise in [-1, 1] (two octaves of random grids, smoothly interpolated). */
void lo_seed_noise(struct planar *sketch, struct rng *rng);

/* ---- metrics ------------------------------------------------------------------------ */

/* Mean |a - b| over n values: how much the stream moved in one iteration. */
float lo_mean_abs_change(const float *a, const float *b, size_t n);
/* Spatial variance, averaged over the planes: ~0 for a flat field. */
float lo_variance(const struct planar *im);
/* High-frequency energy: mean squared difference between each pixel and its 4
 * neighbours' mean, over the variance (averaged over planes). Smooth pictures ~0.01-0.1,
 * white noise ~1.25, a checkerboard 4; 0 for a flat field. Scale-free. */
float lo_hf_ratio(const struct planar *im);
/* Saturation: 2 x the smaller of the shares of values >= level and <= -level. An exploded
 * network posterizes to both black and white (1 when half is each); a picture on a white
 * background, or a sketch, has only one extreme and stays near 0. */
float lo_saturation(const struct planar *im, float level);
/* Share of pixels of the first plane darker than threshold: how much ink a sketch has. */
float lo_ink_fraction(const struct planar *sketch, float threshold);
/* 64-bit DCT perceptual hash (pHash): luma area-downscaled to 32x32, 2-D DCT-II, the 8x8
 * lowest frequencies but the DC term (brightness), one bit each for being above their
 * median (bit 0, the DC, is always 0: 63 bits carry information). Near for pictures that
 * look alike (a small shift or blur), far for different ones. */
uint64_t lo_phash(const struct planar *im);
/* Differing bits, 0..64. */
int lo_hamming(uint64_t a, uint64_t b);

/* Everything the guard needs about one iteration. */
struct lo_metrics {
    float change;     /* lo_mean_abs_change to the previous portrait; 1 when there is none */
    float variance;   /* of the portrait */
    float hf_ratio;   /* of the portrait */
    float saturation; /* lo_saturation of the portrait at LO_EXTREME_LEVEL */
    float ink;        /* lo_ink_fraction of the sketch at 0 (mid gray); 1 when no sketch */
    /* Where the sketch's ink lies: standard deviation of the ink pixels' x and y, as a
     * share of the image's width and height (a drawn face: about 0.17 and 0.23). A loop
     * that loses the face collapses its ink into a strip or a knot first. 0 without ink,
     * 1 when there is no sketch. */
    float ink_spread_x, ink_spread_y;
    uint64_t hash; /* lo_phash of the portrait */
};
#define LO_EXTREME_LEVEL 0.95f

/* Floats from which a pass over an image runs on all OpenMP threads: below, waking them
 * costs more than it saves (a 64x64 test image stays on one). */
#define LO_PARALLEL_MIN 32768

/* Spread of the ink (pixels below 0) of a sketch: see struct lo_metrics. */
void lo_ink_spread(const struct planar *sketch, float *spread_x, float *spread_y);

/* Measures portrait (and prev, sketch: either may be NULL). */
void lo_measure(const struct planar *portrait, const struct planar *prev,
                const struct planar *sketch, struct lo_metrics *m);

#endif

#version 330 core
// present.frag — the picture as the room sees it: upscaled from the loop's resolution
// with a real filter, then calibrated for the screen and the room (brightness, contrast,
// gamma, saturation), with a little film grain and a vignette so it reads as an image,
// not a computer display.
uniform sampler2D u_src; // the crossfaded frame, RGB in [0,1], S x S
// FILTER (0 Catmull-Rom, 1 Lanczos-3, 2 bilinear) is #defined by the presenter, one
// program per filter: a uniform branch would make llvmpipe run every filter per pixel.
#ifndef FILTER
#define FILTER 0
#endif
uniform float u_brightness;
uniform float u_contrast;
uniform float u_gamma;
uniform float u_saturation;
uniform float u_grain;
uniform float u_vignette;
uniform float u_frame; // changes the grain every frame

in vec2 v_uv;
in vec2 v_view;
out vec4 o_color;

const float PI = 3.14159265358979;

vec3 texel(ivec2 p, ivec2 size)
{
    return texelFetch(u_src, clamp(p, ivec2(0), size - 1), 0).rgb;
}

// Catmull-Rom in 9 bilinear fetches instead of 16 point fetches: the two middle taps of
// each axis have weights of the same sign, so one linear fetch between them reads both.
vec3 bicubic(vec2 pos, ivec2 size)
{
    vec2 inv = 1.0 / vec2(size);
    vec2 base = floor(pos);
    vec2 f = pos - base;
    vec2 w0 = f * (-0.5 + f * (1.0 - 0.5 * f));
    vec2 w1 = 1.0 + f * f * (-2.5 + 1.5 * f);
    vec2 w2 = f * (0.5 + f * (2.0 - 1.5 * f));
    vec2 w3 = f * f * (-0.5 + 0.5 * f);
    vec2 w12 = w1 + w2;
    vec2 t0 = (base - 0.5) * inv;            // centre of texel base-1
    vec2 t12 = (base + 0.5 + w2 / w12) * inv; // between texels base and base+1
    vec2 t3 = (base + 2.5) * inv;            // centre of texel base+2
    vec3 c = (texture(u_src, vec2(t0.x, t0.y)).rgb * w0.x +
              texture(u_src, vec2(t12.x, t0.y)).rgb * w12.x +
              texture(u_src, vec2(t3.x, t0.y)).rgb * w3.x) * w0.y;
    c += (texture(u_src, vec2(t0.x, t12.y)).rgb * w0.x +
          texture(u_src, vec2(t12.x, t12.y)).rgb * w12.x +
          texture(u_src, vec2(t3.x, t12.y)).rgb * w3.x) * w12.y;
    c += (texture(u_src, vec2(t0.x, t3.y)).rgb * w0.x +
          texture(u_src, vec2(t12.x, t3.y)).rgb * w12.x +
          texture(u_src, vec2(t3.x, t3.y)).rgb * w3.x) * w3.y;
    return c;
}

float lanczos3(float x)
{
    if (abs(x) < 1e-5)
        return 1.0;
    if (abs(x) >= 3.0)
        return 0.0;
    float px = PI * x;
    return 3.0 * sin(px) * sin(px / 3.0) / (px * px);
}

vec3 lanczos(vec2 pos, ivec2 size)
{
    ivec2 base = ivec2(floor(pos));
    vec2 f = pos - vec2(base);
    vec3 sum = vec3(0.0);
    float total = 0.0;
    for (int j = -2; j <= 3; j++) {
        float wy = lanczos3(float(j) - f.y);
        for (int i = -2; i <= 3; i++) {
            float w = wy * lanczos3(float(i) - f.x);
            sum += w * texel(base + ivec2(i, j), size);
            total += w;
        }
    }
    return sum / total;
}

vec3 sample_source()
{
    ivec2 size = textureSize(u_src, 0);
    vec2 pos = v_uv * vec2(size) - 0.5; // texel centres at integer positions
#if FILTER == 0
    return bicubic(pos, size);
#elif FILTER == 1
    return lanczos(pos, size);
#else
    return texture(u_src, v_uv).rgb;
#endif
}

vec3 calibrate(vec3 c)
{
    c = (c - 0.5) * u_contrast + 0.5 + u_brightness;
    float luma = dot(c, vec3(0.2126, 0.7152, 0.0722));
    c = mix(vec3(luma), c, u_saturation);
    return pow(clamp(c, 0.0, 1.0), vec3(1.0 / u_gamma));
}

float hash(vec2 p)
{
    vec3 q = fract(vec3(p.xyx) * 0.1031);
    q += dot(q, q.yzx + 33.33);
    return fract((q.x + q.y) * q.z);
}

void main()
{
    vec3 c = calibrate(sample_source());
    c *= 1.0 - u_vignette * smoothstep(0.5, 1.5, length(v_view));
    c += u_grain * (hash(gl_FragCoord.xy + u_frame * 17.0) - 0.5);
    o_color = vec4(clamp(c, 0.0, 1.0), 1.0);
}

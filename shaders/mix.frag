#version 330 core
// mix.frag — the crossfade, at the loop's resolution: from the previous image to the
// newest by u_t, and from the loop's planar [-1,1] layout (planes stacked vertically in
// one single-channel texture) to displayable RGB in [0,1]. Done once per frame at S x S
// so the expensive upscaling filter reads one texture, not two (a crossfade commutes with
// any linear filter, so the result is the same).
uniform sampler2D u_from;
uniform sampler2D u_to;
uniform float u_t;
uniform int u_channels; // 3: portrait (R, G, B planes), 1: sketch (grey)
uniform int u_size;

out vec4 o_color;

vec3 planar(sampler2D tex, ivec2 p)
{
    if (u_channels == 1)
        return vec3(texelFetch(tex, p, 0).r);
    return vec3(texelFetch(tex, p, 0).r, texelFetch(tex, p + ivec2(0, u_size), 0).r,
                texelFetch(tex, p + ivec2(0, 2 * u_size), 0).r);
}

void main()
{
    // Row y of the output is row y of the loop's image (row 0 = the top); the present
    // pass maps texture v = 0 to the top of the screen.
    ivec2 p = ivec2(gl_FragCoord.xy);
    vec3 c = mix(planar(u_from, p), planar(u_to, p), u_t);
    o_color = vec4(clamp(c * 0.5 + 0.5, 0.0, 1.0), 1.0);
}

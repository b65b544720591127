#version 330 core
// quad.vert — one rectangle per draw, from gl_VertexID (no vertex buffer): 0 BL, 1 BR,
// 2 TL, 3 TR as a triangle strip. u_center/u_half place it in the viewport's NDC (a
// rectangle larger than the viewport is clipped, which is how "fill" crops); u_uv gives
// each corner's texture coordinate, so rotation is a permutation of the corners.
uniform vec2 u_center;
uniform vec2 u_half;
uniform vec2 u_uv[4];

out vec2 v_uv;
out vec2 v_view; // position in the viewport, -1..1 both ways (vignette, grain)

void main()
{
    vec2 corner = vec2(float(gl_VertexID & 1) * 2.0 - 1.0, float(gl_VertexID >> 1) * 2.0 - 1.0);
    vec2 pos = u_center + corner * u_half;
    v_uv = u_uv[gl_VertexID];
    v_view = pos;
    gl_Position = vec4(pos, 0.0, 1.0);
}

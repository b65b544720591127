#version 330 core
// hud.frag — the tuning overlay: text from a one-channel coverage texture, light on a
// translucent dark box (blended over the picture).
uniform sampler2D u_text;

in vec2 v_uv;
out vec4 o_color;

void main()
{
    float ink = texture(u_text, v_uv).r;
    o_color = vec4(mix(vec3(0.0), vec3(0.92, 0.9, 0.85), ink), 0.55 + 0.45 * ink);
}

# cmake -DOUT=file.c -DDIR=shaders -P embed_shaders.cmake
# Writes the shaders as C strings, so an installed binary works without the shaders/
# folder: { "name", "text" } rows of present_shaders_embedded[] (present_gl.h).
file(GLOB SOURCES ${DIR}/*.vert ${DIR}/*.frag)
list(SORT SOURCES)
set(body "/* Generated from shaders/ by cmake/embed_shaders.cmake; do not edit. */\n")
string(APPEND body "#include \"present_internal.h\"\n\n")
string(APPEND body "const struct shader_text present_shaders_embedded[] = {\n")
foreach(src ${SOURCES})
  get_filename_component(name ${src} NAME)
  file(READ ${src} text)
  string(REPLACE "\\" "\\\\" text "${text}")
  string(REPLACE "\"" "\\\"" text "${text}")
  string(REPLACE "\n" "\\n\"\n    \"" text "${text}")
  string(APPEND body "    {\"${name}\",\n    \"${text}\"},\n")
endforeach()
string(APPEND body "    {0, 0},\n};\n")
file(WRITE ${OUT}.tmp "${body}")
file(COPY_FILE ${OUT}.tmp ${OUT} ONLY_IF_DIFFERENT)

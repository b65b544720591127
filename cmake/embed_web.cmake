# cmake -DOUT=file.c -DDIR=web -P embed_web.cmake
# Writes the web page's files as NUL-terminated byte arrays, so the binary serves its page
# from anywhere, installed or not: { "name", text } rows of web_files_embedded[]
# (runtime/control/web_internal.h).
file(GLOB SOURCES ${DIR}/*.html ${DIR}/*.js ${DIR}/*.css)
list(SORT SOURCES)
set(body "/* Generated from web/ by cmake/embed_web.cmake; do not edit. */\n")
string(APPEND body "#include \"web_internal.h\"\n\n")
set(rows "")
set(i 0)
foreach(src ${SOURCES})
  get_filename_component(name ${src} NAME)
  file(READ ${src} hex HEX)
  string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
  string(REGEX REPLACE "((0x[0-9a-f][0-9a-f],){16})" "\\1\n    " bytes "${bytes}")
  string(APPEND body "static const char file_${i}[] = {\n    ${bytes}0x00};\n")
  string(APPEND rows "    {\"${name}\", file_${i}},\n")
  math(EXPR i "${i} + 1")
endforeach()
string(APPEND body "\nconst struct web_file web_files_embedded[] = {\n${rows}    {0, 0},\n};\n")
file(WRITE ${OUT}.tmp "${body}")
file(COPY_FILE ${OUT}.tmp ${OUT} ONLY_IF_DIFFERENT)

# The presenter. Unit: the loop thread's hand-over, embedded shaders, geometry, font.
# Display: the real window under Xvfb (the script starts its own; skips without Xvfb/GL).
mnemo_c_test(test_present test_present.c unit)
target_compile_definitions(test_present PRIVATE MNEMO_SOURCE_DIR="${CMAKE_SOURCE_DIR}")
# PNG comparisons for the display tests (no Python in tests).
add_executable(png_tool png_tool.c)
target_link_libraries(png_tool PRIVATE mnemo_core m)
mnemo_cli_test(present_display present_display.sh display)
set_tests_properties(present_display PROPERTIES TIMEOUT 300)

mnemo_cli_test(cli_bad_input cli_bad_input.sh unit)
mnemo_cli_test(cli_infer cli_infer.sh e2e)
# A tiny .npy comparer so shell tests need no Python.
add_executable(npy_compare npy_compare.c)
target_link_libraries(npy_compare PRIVATE mnemo_core)
# Decodes PNGs and prints their size and value range, for the loop's shell tests.
add_executable(png_info png_info.c)
target_link_libraries(png_info PRIVATE mnemo_core)
mnemo_cli_test(cli_loop cli_loop.sh e2e)

# cli/: the command line end to end — bad input, infer, the loop headless, the shipped
# default painter and sketcher (models/: load, metadata, chain, shapes).
mnemo_cli_test(cli_bad_input cli_bad_input.sh unit)
mnemo_cli_test(cli_infer cli_infer.sh e2e)
# A tiny .npy comparer so shell tests need no Python.
add_executable(npy_compare npy_compare.c)
target_link_libraries(npy_compare PRIVATE mnemo_engine)
# Decodes PNGs and prints their size and value range, for the loop's shell tests.
add_executable(png_info png_info.c)
target_link_libraries(png_info PRIVATE mnemo_engine)
mnemo_cli_test(cli_loop cli_loop.sh e2e)
mnemo_cli_test(models_shipped models_shipped.sh e2e)

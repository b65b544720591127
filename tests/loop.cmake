# The feedback loop's building blocks: rng, parameter registry, config files, image ops.
mnemo_c_test(test_params test_params.c unit)
mnemo_c_test(test_config test_config.c unit)
target_compile_definitions(test_config PRIVATE MNEMO_SOURCE_DIR="${CMAKE_SOURCE_DIR}")
mnemo_c_test(test_loop_ops test_loop_ops.c unit)
# Counts allocations: the per-iteration ops must make none.
target_link_options(test_loop_ops PRIVATE "LINKER:--wrap=malloc,--wrap=calloc,--wrap=realloc")
# The loop driver: steady state allocates nothing, same seed = same images.
mnemo_c_test(test_loop test_loop.c unit)
target_link_options(test_loop PRIVATE "LINKER:--wrap=malloc,--wrap=calloc,--wrap=realloc")

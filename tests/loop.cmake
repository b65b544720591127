# The feedback loop's building blocks: rng, parameter registry, config files, image ops.
mnemo_c_test(test_params test_params.c unit)
mnemo_c_test(test_config test_config.c unit)
target_compile_definitions(test_config PRIVATE MNEMO_SOURCE_DIR="${CMAKE_SOURCE_DIR}")

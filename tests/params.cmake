# params/: the registry (with the loop's rng it seeds), config files.
mnemo_c_test(test_params test_params.c mnemo_loop unit)
mnemo_c_test(test_config test_config.c mnemo_params unit)
target_compile_definitions(test_config PRIVATE MNEMO_SOURCE_DIR="${CMAKE_SOURCE_DIR}")

# params/: the registry (with the loop's rng it seeds), config files.
mnemo_c_test(test_params test_params.c mnemo_loop unit)
mnemo_c_test(test_config test_config.c mnemo_params unit)
target_compile_definitions(test_config PRIVATE MNEMO_SOURCE_DIR="${CMAKE_SOURCE_DIR}")
# The config through the binary: includes that are no file (a directory, a FIFO, a device,
# a huge file) at start and live, absolute includes, includes watched from anywhere, a
# symlinked config, and what the start compares (StateDirectory, --windowed, a
# checkpoint's live values).
mnemo_cli_test(cli_config cli_config.sh e2e)

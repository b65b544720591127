# The cuda backend's CPU-side checks (device choice, the no-device error, the conv plan):
# they run everywhere, with or without CUDA in the build or a GPU in the machine.
mnemo_c_test(test_backend_cuda test_backend_cuda.c unit)
mnemo_cli_test(cli_cuda cli_cuda.sh unit)

mnemo_c_test(test_parity_models test_parity_models.c parity)
mnemo_c_test(test_parity_ops test_parity_ops.c parity)
# The same suites on the cuda backend: label gpu, skipped (exit 77, reason printed) in a
# build without CUDA or on a machine without a device.
mnemo_c_test(test_parity_models_cuda test_parity_models.c gpu parity)
target_compile_definitions(test_parity_models_cuda PRIVATE PARITY_BACKEND="cuda")
mnemo_c_test(test_parity_ops_cuda test_parity_ops.c gpu parity)
target_compile_definitions(test_parity_ops_cuda PRIVATE PARITY_BACKEND="cuda" PARITY_BOUND=1e-4)

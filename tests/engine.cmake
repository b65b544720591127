# engine/ and the backends: the graph (shape inference, passes, memory plan), backend
# selection, the ref kernels, image files, the ONNX importer (bad files in tests/data/bad/
# from tools/make-bad-models.py, constant folding, external data, real exports), parity of
# every backend against ref and PyTorch. None of these links the piece, SDL or liblo.
mnemo_c_test(test_graph test_graph.c "mnemo_backends;mnemo_backend_ref" unit)
mnemo_c_test(test_ref_ops test_ref_ops.c mnemo_backend_ref unit)
mnemo_c_test(test_image test_image.c mnemo_engine unit)
mnemo_c_test(test_fixtures test_fixtures.c mnemo_engine unit)
mnemo_c_test(test_onnx test_onnx.c mnemo_engine unit)
mnemo_c_test(test_parity_models test_parity_models.c mnemo_backends parity)
mnemo_c_test(test_parity_ops test_parity_ops.c mnemo_backends parity)
# The same suites on the cuda backend: label gpu, skipped (exit 77, reason printed) in a
# build without CUDA or on a machine without a device.
mnemo_c_test(test_parity_models_cuda test_parity_models.c mnemo_backends gpu parity)
target_compile_definitions(test_parity_models_cuda PRIVATE PARITY_BACKEND="cuda")
mnemo_c_test(test_parity_ops_cuda test_parity_ops.c mnemo_backends gpu parity)
target_compile_definitions(test_parity_ops_cuda PRIVATE PARITY_BACKEND="cuda" PARITY_BOUND=1e-4
                           PARITY_LARGE=1)
# The cuda backend's CPU-side checks (device choice, the no-device error, the conv plan):
# they run everywhere, with or without CUDA in the build or a GPU in the machine.
mnemo_c_test(test_backend_cuda test_backend_cuda.c "mnemo_backends;mnemo_backend_ref" unit)
target_include_directories(test_backend_cuda PRIVATE ${PROJECT_SOURCE_DIR}/kernels)
if(TARGET mnemo_backend_cuda)
  target_link_libraries(test_backend_cuda PRIVATE mnemo_backend_cuda)
endif()
mnemo_cli_test(cli_cuda cli_cuda.sh unit)
mnemo_cli_test(cli_cuda_fallback cli_cuda_fallback.sh gpu)
# The ONNX loader's internals export only onnx_-prefixed names (read off the library).
add_test(NAME onnx_symbols COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/onnx_symbols.sh
         $<TARGET_FILE:mnemo_engine>)
set_tests_properties(onnx_symbols PROPERTIES LABELS unit SKIP_RETURN_CODE 77)
# The ONNX project's node tests (Debian libonnx-testdata) of every op the importer's table
# claims, on ref and cpu; skipped (exit 77, reason printed) where the package is absent.
mnemo_c_test(test_onnx_conformance test_onnx_conformance.c mnemo_backends parity)

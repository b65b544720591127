# The training tools (tools/train/): a fast smoke test that runs in CI. It skips (77)
# with a reason when Debian's python3-torch / onnx / pil / scipy are not installed.
# (Under a minute on a quiet machine; the timeout leaves room for a loaded one.)
add_test(NAME train_smoke
         COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/train_smoke.sh $<TARGET_FILE:mnemo>)
set_tests_properties(train_smoke PROPERTIES LABELS "e2e" SKIP_RETURN_CODE 77 TIMEOUT 600
                     ENVIRONMENT "OMP_NUM_THREADS=1")

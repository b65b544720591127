# mnemo under valgrind's memcheck (tools/valgrind.sh): a short headless run, a short PNG
# recording, check and inspect, with --leak-check=full --error-exitcode=1. Minutes long:
# label `slow`, outside the default `make test` (make test CTEST_FLAGS="-L valgrind", or
# make valgrind). Skips (77) in the ASan build and where valgrind is not installed.
add_test(NAME valgrind_memcheck
         COMMAND bash ${PROJECT_SOURCE_DIR}/tools/valgrind.sh --mnemo $<TARGET_FILE:mnemo>)
set_tests_properties(valgrind_memcheck PROPERTIES LABELS "slow;valgrind" SKIP_RETURN_CODE 77
                     TIMEOUT 3600)

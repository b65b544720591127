# Fuzz replays: every input a fuzz target keeps (tools/fuzz/corpus/<target>, minimised by
# `make fuzz`), the hand-made seeds (tools/fuzz/seeds/<target>) and every input that once
# crashed mnemo (tools/fuzz/crashers/<target>, kept after the fix) run again through the
# same target code, without libFuzzer. Under ASan + UBSan in the SANITIZE=1 build.
set(MNEMO_FUZZ_DIR ${PROJECT_SOURCE_DIR}/tools/fuzz)
foreach(target onnx config osc web)
  set(inputs ${MNEMO_FUZZ_DIR}/seeds/${target} ${MNEMO_FUZZ_DIR}/corpus/${target}
             ${MNEMO_FUZZ_DIR}/crashers/${target})
  if(target STREQUAL "onnx")
    list(APPEND inputs ${MNEMO_TEST_DATA}/bad) # the importer's own bad-input models
  endif()
  add_test(NAME fuzz_replay_${target} COMMAND fuzz_replay_${target} ${inputs})
  set_tests_properties(fuzz_replay_${target} PROPERTIES LABELS "unit;fuzz" TIMEOUT 300
                       ENVIRONMENT "OMP_NUM_THREADS=1;LSAN_OPTIONS=suppressions=${MNEMO_FUZZ_DIR}/lsan.supp")
endforeach()
# A replay that finds no input fails: a corpus that went missing must not pass as empty.
add_test(NAME fuzz_replay_needs_inputs COMMAND fuzz_replay_osc ${MNEMO_FUZZ_DIR}/corpus/none)
set_tests_properties(fuzz_replay_needs_inputs PROPERTIES LABELS "unit;fuzz" WILL_FAIL TRUE)

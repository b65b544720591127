# The loop's state on disk and the backend fault seam: in-process (bit-identical resume,
# bad files, atomic writes, faults) and through the binary (resume, SIGTERM, exit 75).
mnemo_c_test(test_checkpoint test_checkpoint.c unit)
target_link_options(test_checkpoint PRIVATE "LINKER:--wrap=malloc,--wrap=calloc,--wrap=realloc")
mnemo_cli_test(cli_checkpoint cli_checkpoint.sh e2e)
set_tests_properties(cli_checkpoint PROPERTIES TIMEOUT 300)
# Presenter mode (the loop thread of piece.c) under Xvfb: SIGTERM saves, exit 75 on a lost
# device.
mnemo_cli_test(cli_checkpoint_display cli_checkpoint_display.sh display)
set_tests_properties(cli_checkpoint_display PROPERTIES TIMEOUT 300)
# The same fault seam on the cuda backend (skipped where no GPU is usable).
mnemo_cli_test(cli_checkpoint_cuda cli_checkpoint_cuda.sh gpu)

# The kiosk (issue 8): the notify protocol and watchdog against a fake NOTIFY_SOCKET,
# --supervise restarting a dead or hung piece, SIGHUP reload, SIGTERM, and the faults a
# show must survive (config deleted, models removed after start, log on a full disk, out
# of memory at load). The presenter's half (a frozen presenter stops the pings, the
# display going away and coming back) needs a display: kiosk_display.
add_executable(notify_listen notify_listen.c)
mnemo_cli_test(cli_kiosk cli_kiosk.sh e2e)
mnemo_cli_test(kiosk_display kiosk_display.sh display)
# Hours long: `cd build && ctest -L slow` (make test leaves it out; see the Makefile).
add_test(NAME soak COMMAND bash ${CMAKE_SOURCE_DIR}/tools/bench/soak.sh --no-write)
set_tests_properties(soak PROPERTIES LABELS slow TIMEOUT 9000
                     ENVIRONMENT "MNEMO=$<TARGET_FILE:mnemo>;LISTEN=$<TARGET_FILE:notify_listen>")
# The loop's state on disk and the backend fault seam: in-process (bit-identical resume,
# bad files, atomic writes, faults) and through the binary (resume, SIGTERM, exit 75).
mnemo_c_test(test_checkpoint test_checkpoint.c mnemo_piece unit)
target_link_options(test_checkpoint PRIVATE "LINKER:--wrap=malloc,--wrap=calloc,--wrap=realloc")
mnemo_cli_test(cli_checkpoint cli_checkpoint.sh e2e)
set_tests_properties(cli_checkpoint PROPERTIES TIMEOUT 300)
# Presenter mode (the loop thread of piece.c) under Xvfb: SIGTERM saves, exit 75 on a lost
# device, exit 76 with the state saved when the X server is killed.
mnemo_cli_test(cli_checkpoint_display cli_checkpoint_display.sh display)
set_tests_properties(cli_checkpoint_display PROPERTIES TIMEOUT 300)
# The same fault seam on the cuda backend (skipped where no GPU is usable).
mnemo_cli_test(cli_checkpoint_cuda cli_checkpoint_cuda.sh gpu)

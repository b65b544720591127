# The kiosk (issue 8): the notify protocol and watchdog against a fake NOTIFY_SOCKET,
# --supervise restarting a dead or hung piece, SIGHUP reload, SIGTERM, and the faults a
# show must survive (config deleted, models removed after start, log on a full disk, out
# of memory at load). The presenter's half (a frozen presenter stops the pings, the
# display going away and coming back) needs a display: kiosk_display.
add_executable(notify_listen notify_listen.c)
mnemo_cli_test(cli_kiosk cli_kiosk.sh e2e)
mnemo_cli_test(kiosk_display kiosk_display.sh display)
mnemo_c_test(test_log test_log.c unit)
# Hours long: `cd build && ctest -L slow` (make test leaves it out; see the Makefile).
add_test(NAME soak COMMAND bash ${CMAKE_SOURCE_DIR}/tools/bench/soak.sh --no-write)
set_tests_properties(soak PROPERTIES LABELS slow TIMEOUT 9000
                     ENVIRONMENT "MNEMO=$<TARGET_FILE:mnemo>;LISTEN=$<TARGET_FILE:notify_listen>")

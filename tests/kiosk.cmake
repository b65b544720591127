# The kiosk (issue 8): the notify protocol and watchdog against a fake NOTIFY_SOCKET,
# --supervise restarting a dead or hung piece, SIGHUP reload, SIGTERM, and the faults a
# show must survive (config deleted, models removed after start, log on a full disk, out
# of memory at load). The presenter's half (a frozen presenter stops the pings, the
# display going away and coming back) needs a display: kiosk_display.
add_executable(notify_listen notify_listen.c)
mnemo_cli_test(cli_kiosk cli_kiosk.sh e2e)
mnemo_cli_test(kiosk_display kiosk_display.sh display)
mnemo_c_test(test_log test_log.c unit)

# Opening hours (kiosk.hours). Unit: parsing, the week, daylight saving in Berlin and New
# York, the test clock, the loop thread's pause. Display: the presenter under Xvfb with the
# test clock just before closing time (the script starts its own Xvfb; skips without one).
mnemo_c_test(test_schedule test_schedule.c unit)
mnemo_cli_test(schedule_display schedule_display.sh display)
set_tests_properties(schedule_display PROPERTIES TIMEOUT 300)

# control/: live tuning — glide, midi.map, presets, OSC values, the control's mailbox and
# config reload in-process; then the binary with a config edited while it runs, and OSC.
mnemo_c_test(test_control test_control.c "mnemo_control;mnemo_kiosk" unit)
# the web page's server on loopback sockets: endpoints, token, limits, live events
mnemo_c_test(test_web test_web.c "mnemo_control;mnemo_kiosk" unit)
add_executable(osc_client osc_client.c)
target_link_libraries(osc_client PRIVATE PkgConfig::LIBLO)
mnemo_cli_test(cli_live cli_live.sh e2e)
if(ALSA_FOUND)
  add_executable(midi_send midi_send.c)
  target_link_libraries(midi_send PRIVATE PkgConfig::ALSA)
endif()
mnemo_cli_test(cli_midi cli_midi.sh e2e)
# The page in Debian's chromium (chromium-driver's WebDriver), against a running piece;
# screenshots at phone and desktop size land in build/tests/web-shots/.
add_test(NAME web_browser
         COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/web_browser.sh $<TARGET_FILE:mnemo>
                 ${CMAKE_CURRENT_BINARY_DIR}/web-shots)
set_tests_properties(web_browser PROPERTIES LABELS "browser;e2e" SKIP_RETURN_CODE 77
                     ENVIRONMENT "OMP_NUM_THREADS=2" TIMEOUT 600)
mnemo_cli_test(cli_web cli_web.sh e2e)
# Live model swap end to end (piece/swap.h): config save and OSC, a broken and a
# non-chaining model, --stats and the log.
mnemo_cli_test(cli_swap cli_swap.sh e2e)

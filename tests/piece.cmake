# piece/: the piece on screen. Unit: the loop thread's hand-over, embedded shaders,
# geometry, font. Display: the real window under Xvfb (the script starts its own; skips
# without Xvfb/GL).
mnemo_c_test(test_present test_present.c mnemo_piece unit)
target_compile_definitions(test_present PRIVATE MNEMO_SOURCE_DIR="${CMAKE_SOURCE_DIR}")
mnemo_cli_test(present_display present_display.sh display)
set_tests_properties(present_display PROPERTIES TIMEOUT 300)
# Opening hours (kiosk.hours). Unit: parsing, the week, daylight saving in Berlin and New
# York, the test clock, the loop thread's pause. Display: the presenter under Xvfb with the
# test clock just before closing time (the script starts its own Xvfb; skips without one).
mnemo_c_test(test_schedule test_schedule.c mnemo_piece unit)
mnemo_cli_test(schedule_display schedule_display.sh display)
set_tests_properties(schedule_display PROPERTIES TIMEOUT 300)
# Live model swap (swap.h): good, bad and non-chaining models, a load that hangs while the
# loop thread runs on, nothing allocated on the driver's thread, memory flat over 200 swaps.
# The gpu copy runs the same on cuda and counts device memory too.
mnemo_c_test(test_swap test_swap.c mnemo_piece unit)
target_link_options(test_swap PRIVATE "LINKER:--wrap=malloc,--wrap=calloc,--wrap=realloc")
set_tests_properties(test_swap PROPERTIES TIMEOUT 300)
if(TARGET mnemo_backend_cuda)
  mnemo_c_test(test_swap_cuda test_swap.c mnemo_piece gpu)
  target_link_options(test_swap_cuda PRIVATE "LINKER:--wrap=malloc,--wrap=calloc,--wrap=realloc")
  target_compile_definitions(test_swap_cuda PRIVATE SWAP_BACKEND="cuda" SWAP_CUDART=1)
  target_link_libraries(test_swap_cuda PRIVATE CUDA::cudart)
endif()
# Recording what the screen shows while presenting (capture.out, --record): segments that
# play, frames that match the screen, a stream to a listener on 127.0.0.1, and the ways a
# recording dies (a lost peer, a stuck or killed ffmpeg, a full disk) with the piece going
# on. Starts its own Xvfb; skips without Xvfb, GL or ffmpeg.
mnemo_cli_test(record_display record_display.sh display)
set_tests_properties(record_display PROPERTIES TIMEOUT 600)

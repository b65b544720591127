# output/: headless capture (PNG sequences, video through ffmpeg — skipped when ffmpeg is
# missing —, the recording upscaler, the progress bar) and the presenter's GL parts.
mnemo_c_test(test_capture_png test_capture_png.c mnemo_output unit)
mnemo_c_test(test_capture_scale test_capture_scale.c mnemo_output unit)
mnemo_c_test(test_capture_video test_capture_video.c mnemo_output e2e)
# Recording the screen, its queue and encoder thread fed as the GL readback feeds them: every
# frame in the file, drops counted without waiting, a stuck ffmpeg given up on, segment
# names; the presenter's side allocates nothing.
mnemo_c_test(test_screen_record test_screen_record.c mnemo_output e2e)
target_link_options(test_screen_record PRIVATE "LINKER:--wrap=malloc,--wrap=calloc,--wrap=realloc")
# PNG comparisons for the display tests (no Python in tests).
add_executable(png_tool png_tool.c)
target_link_libraries(png_tool PRIVATE mnemo_engine m)
# Recording through the binary when ffmpeg misbehaves: SIGTERM still ends it within
# seconds (a fake ffmpeg on PATH that takes nothing), the recording reported as cut; a
# recording cut by a kill plays up to the cut in every container.
mnemo_cli_test(cli_record cli_record.sh e2e)

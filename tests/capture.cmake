# Headless capture (runtime/capture*.c): PNG sequences, video through ffmpeg (skipped when
# ffmpeg is missing), the recording upscaler and the progress bar.
mnemo_c_test(test_capture_png test_capture_png.c unit)
mnemo_c_test(test_capture_scale test_capture_scale.c unit)
mnemo_c_test(test_capture_video test_capture_video.c e2e)

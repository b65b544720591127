mnemo_c_test(test_image test_image.c unit)

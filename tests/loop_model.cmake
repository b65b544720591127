mnemo_c_test(test_loop_model test_loop_model.c unit)

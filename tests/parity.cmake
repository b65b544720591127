mnemo_c_test(test_parity_models test_parity_models.c parity)
mnemo_c_test(test_parity_ops test_parity_ops.c parity)

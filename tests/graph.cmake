# The graph (shape inference, passes, memory plan), backend selection and the ref kernels.
mnemo_c_test(test_graph test_graph.c unit)
mnemo_c_test(test_ref_ops test_ref_ops.c unit)

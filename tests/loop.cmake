# loop/: the image ops, the model border, the loop itself (steady state allocates nothing,
# same seed = same images, loop.backend).
mnemo_c_test(test_loop_ops test_loop_ops.c mnemo_loop unit)
# Counts allocations: the per-iteration ops must make none.
target_link_options(test_loop_ops PRIVATE "LINKER:--wrap=malloc,--wrap=calloc,--wrap=realloc")
mnemo_c_test(test_loop test_loop.c mnemo_loop unit)
target_link_options(test_loop PRIVATE "LINKER:--wrap=malloc,--wrap=calloc,--wrap=realloc")
mnemo_c_test(test_loop_model test_loop_model.c mnemo_loop unit)
mnemo_c_test(test_memory test_memory.c mnemo_loop unit)

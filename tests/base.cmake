# base/: the log (journal priorities, rate limit).
mnemo_c_test(test_log test_log.c mnemo_base unit)

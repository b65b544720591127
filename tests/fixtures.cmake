mnemo_c_test(test_fixtures test_fixtures.c unit)

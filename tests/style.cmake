# The repo's own C is clang-formatted; CI catches a file that is not.
add_test(NAME clang_format COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/style_check.sh
         WORKING_DIRECTORY ${CMAKE_SOURCE_DIR})
set_tests_properties(clang_format PROPERTIES LABELS unit SKIP_RETURN_CODE 77)

# Install, systemd units, Debian package (cmake/install.cmake, tools/systemd, tools/deb).
add_test(NAME install_tree
         COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/install_tree.sh $<TARGET_FILE:mnemo>
                 ${MNEMO_TEST_DATA} ${CMAKE_BINARY_DIR} ${CMAKE_INSTALL_PREFIX}
                 ${CMAKE_INSTALL_FULL_SYSCONFDIR})
set_tests_properties(install_tree PROPERTIES LABELS e2e ENVIRONMENT "OMP_NUM_THREADS=2")
add_test(NAME install_units
         COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/install_units.sh $<TARGET_FILE:mnemo>
                 ${CMAKE_SOURCE_DIR})
set_tests_properties(install_units PROPERTIES LABELS unit SKIP_RETURN_CODE 77)
# Builds the package from scratch in its own folder (about 20 s of compiling on 2 cores).
add_test(NAME install_deb COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/install_deb.sh
                                  ${CMAKE_SOURCE_DIR} ${CMAKE_CURRENT_BINARY_DIR}/deb)
set_tests_properties(install_deb PROPERTIES LABELS e2e SKIP_RETURN_CODE 77 TIMEOUT 900)

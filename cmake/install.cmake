# What `make install` / `cmake --install` puts where (FHS through GNUInstallDirs), and the
# Debian package built from the same rules (`make deb`, CPack's DEB generator).
#
#   <prefix>/bin/mnemo
#   <prefix>/share/mnemo/{models,shaders,configs}     found by runtime/base/datapath.h's rule
#   <prefix>/share/doc/mnemo/README.md
#   <sysconf>/mnemo/kiosk.cfg                        /etc for prefix /usr; the deb's conffile
#   <prefix>/lib/systemd/system/mnemo.service        KMS/DRM, no desktop (system unit)
#   <prefix>/lib/systemd/user/mnemo.service          desktop + autologin (user unit)
#   <prefix>/lib/sysusers.d/mnemo.conf               the user `mnemo` the system unit runs as
#
# The units in tools/systemd/ are written for the deb's paths (/usr/bin, /etc); another
# prefix gets copies with its own paths.

set(MNEMO_DATA_SUBDIR ${CMAKE_INSTALL_DATADIR}/mnemo)
set(MNEMO_KIOSK_CFG ${CMAKE_INSTALL_FULL_SYSCONFDIR}/mnemo/kiosk.cfg)

install(TARGETS mnemo RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
file(GLOB MNEMO_SHIPPED_MODELS CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/models/*.onnx
     ${PROJECT_SOURCE_DIR}/models/*.md ${PROJECT_SOURCE_DIR}/models/*.jpg
     ${PROJECT_SOURCE_DIR}/models/*.png ${PROJECT_SOURCE_DIR}/models/*.txt)
install(FILES ${MNEMO_SHIPPED_MODELS} DESTINATION ${MNEMO_DATA_SUBDIR}/models)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/shaders/ DESTINATION ${MNEMO_DATA_SUBDIR}/shaders
        FILES_MATCHING PATTERN "*.vert" PATTERN "*.frag")
install(FILES ${PROJECT_SOURCE_DIR}/configs/default.cfg ${PROJECT_SOURCE_DIR}/configs/kiosk.cfg
        DESTINATION ${MNEMO_DATA_SUBDIR}/configs)
install(FILES ${PROJECT_SOURCE_DIR}/README.md DESTINATION ${CMAKE_INSTALL_DOCDIR})
# kiosk.cfg names its models relatively, so the same file works from /etc: they are found
# in <prefix>/share/mnemo (datapath.h).
install(FILES ${PROJECT_SOURCE_DIR}/configs/kiosk.cfg
        DESTINATION ${CMAKE_INSTALL_FULL_SYSCONFDIR}/mnemo)

# The units and sysusers file with this prefix's paths.
function(mnemo_install_configured source destination name)
  file(READ ${PROJECT_SOURCE_DIR}/${source} text)
  string(REPLACE "/usr/bin/mnemo" "${CMAKE_INSTALL_FULL_BINDIR}/mnemo" text "${text}")
  string(REPLACE "/etc/mnemo/kiosk.cfg" "${MNEMO_KIOSK_CFG}" text "${text}")
  string(REPLACE "/usr/share/doc/mnemo" "${CMAKE_INSTALL_FULL_DOCDIR}" text "${text}")
  set(out ${PROJECT_BINARY_DIR}/install/${destination}/${name})
  file(WRITE ${out} "${text}") # as text: "getty@tty1" must not read as a CMake @variable@
  install(FILES ${out} DESTINATION ${destination})
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/${source})
endfunction()
mnemo_install_configured(tools/systemd/mnemo.service lib/systemd/system mnemo.service)
mnemo_install_configured(tools/systemd/mnemo-user.service lib/systemd/user mnemo.service)
mnemo_install_configured(tools/systemd/mnemo.sysusers lib/sysusers.d mnemo.conf)

# ---- the Debian package (make deb) ---------------------------------------------------
set(MNEMO_DEB_MAINTAINER "mnemo maintainers <mnemo@localhost>"
    CACHE STRING "Maintainer field of the Debian package")
set(MNEMO_DEB_EXTRA_DEPENDS ""
    CACHE STRING "Depends added by hand, e.g. the CUDA runtime and cuDNN packages of a CUDA build")

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME mnemo)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "real-time generative installation runtime")
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION
    "Two image-to-image networks, a painter (sketch to portrait) and a sketcher (portrait\n\
to sketch), feed each other in a closed loop; mnemo shows the endless stream of\n\
portraits full screen, unattended, for the length of a show. Ships the default models,\n\
the presenter's shaders, a kiosk configuration in /etc/mnemo and systemd units for a\n\
machine with or without a desktop.")
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "${MNEMO_DEB_MAINTAINER}")
set(CPACK_DEBIAN_PACKAGE_SECTION graphics)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_STRIP_FILES ON)
# Depends from the libraries the binary links (dpkg-shlibdeps: Debian's package names).
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "${MNEMO_DEB_EXTRA_DEPENDS}")
# GL and GBM/EGL drivers for Intel/AMD screens and llvmpipe; ffmpeg only for recordings.
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "libgl1-mesa-dri, libegl-mesa0, libgbm1, systemd")
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "ffmpeg")
set(MNEMO_DEB_CONTROL ${PROJECT_BINARY_DIR}/install/deb)
file(CONFIGURE OUTPUT ${MNEMO_DEB_CONTROL}/conffiles CONTENT "${MNEMO_KIOSK_CFG}\n")
foreach(script postinst prerm postrm)
  configure_file(${PROJECT_SOURCE_DIR}/tools/deb/${script} ${MNEMO_DEB_CONTROL}/${script}
                 @ONLY FILE_PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ
                 GROUP_EXECUTE WORLD_READ WORLD_EXECUTE)
endforeach()
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA ${MNEMO_DEB_CONTROL}/conffiles
    ${MNEMO_DEB_CONTROL}/postinst ${MNEMO_DEB_CONTROL}/prerm ${MNEMO_DEB_CONTROL}/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
set(CPACK_OUTPUT_FILE_PREFIX ${PROJECT_BINARY_DIR}/package)
include(CPack)

# vcpkg overlay port for quorum (header-only). Use it from a consumer with
#   vcpkg install quorum --overlay-ports=<quorum checkout>/ports
# or VCPKG_OVERLAY_PORTS=<quorum checkout>/ports in manifest mode.
#
# There is no release tarball yet, so the source is the checkout this port
# lives in: two levels above this file. Once releases exist, replace this with
# vcpkg_from_github(OUT_SOURCE_PATH SOURCE_PATH REPO ... REF v${VERSION} SHA512 ...).
get_filename_component(SOURCE_PATH "${CMAKE_CURRENT_LIST_DIR}/../.." ABSOLUTE)
if(NOT EXISTS "${SOURCE_PATH}/include/quorum/quorum.hpp")
  message(FATAL_ERROR "quorum's overlay port expects the quorum checkout at ${SOURCE_PATH}")
endif()

# Headers only: one (release) configuration is all there is to install.
set(VCPKG_BUILD_TYPE release)

vcpkg_cmake_configure(
  SOURCE_PATH "${SOURCE_PATH}"
  OPTIONS
    -DQUORUM_BUILD_TESTS=OFF
    -DQUORUM_BUILD_BENCH=OFF
    -DQUORUM_BUILD_EXAMPLES=OFF
    -DQUORUM_INSTALL=ON
)
vcpkg_cmake_install()

# quorum installs its CMake package into ${datadir}/cmake/quorum; vcpkg wants share/quorum.
vcpkg_cmake_config_fixup(CONFIG_PATH share/cmake/quorum)

# Nothing arch-specific and no debug tree; share/cmake is empty after the
# fixup, and the license copy under share/doc gives way to vcpkg's copyright file.
file(REMOVE_RECURSE
  "${CURRENT_PACKAGES_DIR}/debug"
  "${CURRENT_PACKAGES_DIR}/lib"
  "${CURRENT_PACKAGES_DIR}/share/cmake"
  "${CURRENT_PACKAGES_DIR}/share/doc")

vcpkg_install_copyright(FILE_LIST "${SOURCE_PATH}/LICENSE")

# Conan 2 recipe for quorum, a header-only library. From the repository root:
#   conan create . --build=missing
# The package is installed with quorum's own CMake install rules (tests,
# benchmarks and examples off), then exposed to consumers through CMakeDeps as
# find_package(quorum) and the target quorum::quorum. See docs/packaging.md.
import os

from conan import ConanFile
from conan.tools.build import check_min_cppstd
from conan.tools.cmake import CMake, CMakeToolchain, cmake_layout
from conan.tools.files import copy, rmdir


class QuorumConan(ConanFile):
    name = "quorum"
    version = "0.1.0"
    description = ("Raft, Multi-Paxos, two-phase commit and consistent hashing as "
                   "header-only, sans-I/O C++20 state machines")
    license = "MIT"
    topics = ("raft", "paxos", "two-phase-commit", "consistent-hashing", "consensus",
              "header-only")
    package_type = "header-library"
    settings = "os", "arch", "compiler", "build_type"
    exports_sources = "include/*", "CMakeLists.txt", "cmake/*", "LICENSE"
    no_copy_source = True

    def validate(self):
        check_min_cppstd(self, 20)

    def layout(self):
        cmake_layout(self)

    def generate(self):
        toolchain = CMakeToolchain(self)
        toolchain.cache_variables["QUORUM_BUILD_TESTS"] = False
        toolchain.cache_variables["QUORUM_BUILD_BENCH"] = False
        toolchain.cache_variables["QUORUM_BUILD_EXAMPLES"] = False
        toolchain.cache_variables["QUORUM_INSTALL"] = True
        toolchain.generate()

    def build(self):
        # Nothing to compile; configuring produces the install rules.
        cmake = CMake(self)
        cmake.configure()

    def package(self):
        cmake = CMake(self)
        cmake.install()
        copy(self, "LICENSE", src=self.source_folder,
             dst=os.path.join(self.package_folder, "licenses"))
        # CMakeDeps writes the consumer's config from package_info(); the
        # package's own CMake config and doc copy would only shadow it.
        rmdir(self, os.path.join(self.package_folder, "share"))

    def package_id(self):
        # Headers only: one package serves every setting.
        self.info.clear()

    def package_info(self):
        self.cpp_info.set_property("cmake_file_name", "quorum")
        self.cpp_info.set_property("cmake_target_name", "quorum::quorum")
        self.cpp_info.bindirs = []
        self.cpp_info.libdirs = []

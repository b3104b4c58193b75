// The library's version, kept equal to the CMake project version.
#pragma once

#define QUORUM_VERSION_MAJOR 0
#define QUORUM_VERSION_MINOR 1
#define QUORUM_VERSION_PATCH 0
#define QUORUM_VERSION_STRING "0.1.0"

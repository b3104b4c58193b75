// The codec: little-endian fixed-width and varint primitives, the reader and
// writer built on them, CRC32C and the length+CRC frame of wire and disk.
// Every decoder here is total: any byte string gives a value or an error.
#pragma once

#include "quorum/codec/crc32c.hpp"
#include "quorum/codec/endian.hpp"
#include "quorum/codec/frame.hpp"
#include "quorum/codec/reader.hpp"
#include "quorum/codec/varint.hpp"
#include "quorum/codec/writer.hpp"

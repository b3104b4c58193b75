// Storage: the two models of the Log concept that quorum ships. memory_log
// for tests and simulation; file_log, durable and crash-consistent, for servers.
#pragma once

#include "quorum/storage/file_log.hpp"
#include "quorum/storage/memory_log.hpp"
#include "quorum/storage/memory_snapshot_store.hpp"

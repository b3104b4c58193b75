// Storage: the models of the Log and SnapshotStore concepts that quorum ships.
// memory_log and memory_snapshot_store for tests and simulation; file_log and
// file_snapshot_store, durable and crash-consistent, for servers.
#pragma once

#include "quorum/storage/file_log.hpp"
#include "quorum/storage/file_snapshot_store.hpp"
#include "quorum/storage/memory_log.hpp"
#include "quorum/storage/memory_snapshot_store.hpp"

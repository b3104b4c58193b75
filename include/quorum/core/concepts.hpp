// Every policy concept of quorum in one include: Clock, Transport, Log, SnapshotStore.
#pragma once

#include "quorum/core/clock.hpp"
#include "quorum/core/log.hpp"
#include "quorum/core/snapshot_store.hpp"
#include "quorum/core/transport.hpp"

#include "sync/report.h"

namespace mf::sync {

uint64_t MigrationReport::totalCopied() const {
  uint64_t n = 0;
  for (const auto& f : folders) n += f.copied;
  return n;
}
uint64_t MigrationReport::totalFailed() const {
  uint64_t n = 0;
  for (const auto& f : folders) n += f.failed;
  return n;
}
uint64_t MigrationReport::foldersFailed() const {
  uint64_t n = 0;
  for (const auto& f : folders) n += f.error.empty() ? 0 : 1;
  return n;
}
uint64_t MigrationReport::totalBytes() const {
  uint64_t n = 0;
  for (const auto& f : folders) n += f.bytes;
  return n;
}

}  // namespace mf::sync

#include "sync/migrator.h"

#include <chrono>

#include "sync/folder_copier.h"

namespace mf::sync {

Migrator::Migrator(access::MailSource& source, access::MailDestination& destination,
                   access::MailSource& destinationReader, store::Store& store,
                   MigrateOptions options, ProgressSink& progress)
    : source_(source),
      destination_(destination),
      destinationReader_(destinationReader),
      store_(store),
      options_(std::move(options)),
      progress_(progress) {}

Result<MigrationReport> Migrator::run() {
  const auto started = std::chrono::steady_clock::now();
  MigrationReport report;
  report.dryRun = options_.dryRun;

  MF_ASSIGN_OR_RETURN(auto sourceFolders, source_.listFolders());
  MF_ASSIGN_OR_RETURN(auto destinationFolders, destination_.listFolders());
  FolderPlan plan = planFolders(sourceFolders, destinationFolders, destination_.separator(),
                                options_.plan);
  report.excluded = plan.excluded;

  if (!options_.dryRun) {
    uint64_t estimate = 0;
    for (const auto& m : plan.folders) {
      auto st = source_.folderStatus(m.source);
      if (st) estimate += st->messages;
    }
    progress_.onStart(estimate);
  }

  FolderCopier copier(source_, destination_, destinationReader_, store_, options_, progress_);
  for (const auto& mapping : plan.folders) {
    access::Folder destinationFolder;
    if (mapping.existingDestination) {
      destinationFolder = *mapping.existingDestination;
    } else if (!options_.dryRun) {
      auto created = destination_.createFolder(mapping.destinationPath);
      if (!created) {
        FolderReport failed;
        failed.source = mapping.source.displayName();
        failed.destination = joinPath(mapping.destinationPath);
        failed.error = created.status().message();
        failed.errorCode = std::string(errcName(created.status().code()));
        progress_.onFolderDone(failed);
        report.folders.push_back(std::move(failed));
        continue;
      }
      destinationFolder = *created;
    }
    if (!options_.dryRun && mapping.source.subscribed &&
        !(mapping.existingDestination && mapping.existingDestination->subscribed)) {
      Status s = destination_.subscribe(destinationFolder);
      if (!s) report.notices.push_back("could not subscribe '" + destinationFolder.displayName() +
                                       "': " + s.message());
    }
    report.folders.push_back(copier.run(mapping, destinationFolder));
  }
  report.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return report;
}

}  // namespace mf::sync

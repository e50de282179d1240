#include "sync/migrator.h"

#include <algorithm>
#include <chrono>
#include <functional>
#include <future>
#include <mutex>
#include <optional>
#include <thread>

#include "sync/folder_copier.h"
#include "sync/folder_naming.h"
#include "sync/locked.h"

namespace mf::sync {
namespace {

using std::chrono::milliseconds;

FolderReport folderFailure(const FolderMapping& m, const Status& s) {
  FolderReport r;
  r.source = m.source.displayName();
  r.destination = joinPath(m.destinationPath);
  r.notes = m.notes;
  r.error = s.message();
  r.errorCode = std::string(errcName(s.code()));
  r.errorRetryable = isRetryable(s);
  if (s.retryAfter()) r.retryAfterMs = s.retryAfter()->count();
  return r;
}

// Folds a later attempt's report into the earlier one's. The later attempt sees the messages
// the earlier one copied as "already copied", so they move back to "copied".
void mergeAttempt(FolderReport& total, const FolderReport& next) {
  FolderReport merged = next;
  merged.copied += total.copied;
  merged.alreadyCopied -= std::min(merged.alreadyCopied, total.copied);
  merged.bytes += total.bytes;
  merged.seconds += total.seconds;
  merged.attempts = total.attempts + 1;
  std::vector<std::string> notes = total.notes;
  for (const auto& n : next.notes) {
    if (std::find(notes.begin(), notes.end(), n) == notes.end()) notes.push_back(n);
  }
  merged.notes = std::move(notes);
  total = std::move(merged);
}

}  // namespace

bool isRetryable(const Status& s) {
  if (s.isOk()) return false;
  switch (s.code()) {
    case Errc::kClosed:
    case Errc::kTimeout:
    case Errc::kIo:
    case Errc::kTls:       // after a successful handshake: a broken record, not a bad certificate
    case Errc::kProtocol:  // garbage on the wire; a new session usually reads fine
    case Errc::kThrottled:
      return true;
    case Errc::kRefused:
    case Errc::kUnreachable:
      return true;  // only reached when reconnecting: the server may be restarting
    default:
      return s.errorClass() == ErrorClass::kRetry && s.code() != Errc::kStore &&
             s.code() != Errc::kInternal;
  }
}

Migrator::Migrator(access::SourceFactory openSource, access::AccountFactory openDestination,
                   store::Store& store, MigrateOptions options, ProgressSink& progress,
                   WorkerSlots* slots)
    : openSource_(std::move(openSource)),
      openDestination_(std::move(openDestination)),
      baseStore_(store),
      baseProgress_(progress),
      store_(&store),
      options_(std::move(options)),
      progress_(&progress),
      slots_(slots) {}

milliseconds Migrator::backoff(uint32_t attempt) const {
  milliseconds wait = options_.retryBackoff;
  for (uint32_t i = 1; i < attempt && wait < options_.retryBackoffCap; ++i) wait *= 2;
  return std::min(wait, options_.retryBackoffCap);
}

void Migrator::wait(milliseconds how_long, const std::string& why) {
  progress_->onNotice(why);
  std::this_thread::sleep_for(how_long);
}

Status Migrator::connect(Worker& worker) {
  // The destination logs in on its own thread while the source does: a new or reconnecting
  // worker waits for one login, not two in a row.
  std::future<Result<std::unique_ptr<access::MailAccount>>> destination;
  if (!worker.destination) {
    destination = std::async(std::launch::async, [this] { return openDestination_(); });
  }
  Status status;
  if (!worker.source) {
    auto opened = openSource_();
    if (opened)
      worker.source = std::move(opened).value();
    else
      status = opened.status();
  }
  if (destination.valid()) {
    auto opened = destination.get();
    if (opened)
      worker.destination = std::move(opened).value();
    else if (status)
      status = opened.status();
  }
  return status;
}

Status Migrator::reconnectWithBackoff(Worker& worker, uint32_t& failures) {
  for (;;) {
    Status s = connect(worker);
    if (s) {
      failures = 0;
      return s;
    }
    if (!isRetryable(s) || ++failures > options_.retries) return s;
    auto w = s.retryAfter() ? *s.retryAfter() : backoff(failures);
    wait(w, "cannot reconnect: " + s.message() + "; retrying in " + std::to_string(w.count()) +
                " ms (attempt " + std::to_string(failures) + "/" +
                std::to_string(options_.retries) + ")");
  }
}

FolderReport Migrator::migrateFolderWithRetries(
    Worker& worker, const FolderMapping& mapping, const access::FolderStatus* plannedStatus,
    const access::FolderStatus* plannedDestinationStatus, ShareBoard::Ticket* shareTicket) {
  FolderReport total;
  bool first = true;
  std::optional<access::Folder> created;  // made by an earlier attempt of this run
  uint32_t connectFailures = 0;
  for (uint32_t attempt = 1;; ++attempt) {
    Status connected = reconnectWithBackoff(worker, connectFailures);
    if (!connected) {
      gaveUp_ = true;
      FolderReport failed = folderFailure(
          mapping, connected.withContext("gave up after " + std::to_string(options_.retries) +
                                         " attempts to reconnect"));
      if (!first) {
        mergeAttempt(total, failed);
        return total;
      }
      return failed;
    }

    FolderReport report;
    access::Folder destinationFolder;
    Status ready;
    FolderMapping actual = mapping;
    // An earlier run copied this folder under another name (a numbered one, or what the
    // folder rules said then): go on with that folder, even when the planned name exists by
    // now, or the folder's mail would end up split over two folders. Planned as that folder
    // from here on, so an unchanged folder costs no listing and a dry run shows it.
    if (const access::Folder* used = renamedByAnEarlierRun(mapping)) {
      destinationFolder = *used;
      actual.existingDestination = used;
      actual.destinationPath = used->path;
      if (first) report.notes.push_back(earlierDestinationNote(used->path, mapping));
    } else if (mapping.existingDestination) {
      destinationFolder = *mapping.existingDestination;
    } else if (created) {
      destinationFolder = *created;
    } else if (!options_.dryRun) {
      auto made = createDestinationFolder(worker, mapping, report.notes);
      if (made) {
        destinationFolder = *made;
        created = *made;
      } else {
        ready = made.status();
      }
    }
    if (ready) {
      FolderCopier copier(*worker.source, *worker.destination, *worker.destination, *store_,
                          options_, *progress_);
      if (mapping.onlyWhatNoOtherFolderHolds) copier.copyOnlyWhatIsNotIn(&storedElsewhere_);
      // The subscription goes out with the copier's SELECT (one round trip for both).
      copier.subscribeOnOpen(
          !options_.dryRun && mapping.source.subscribed &&
          !(actual.existingDestination && actual.existingDestination->subscribed));
      if (!options_.dryRun) actual.destinationPath = destinationFolder.path;
      // The plan's STATUS serves the first attempt; a retry asks again.
      FolderReport copied = copier.run(actual, destinationFolder, /*resuming=*/!first,
                                       first ? plannedStatus : nullptr,
                                       first ? plannedDestinationStatus : nullptr, shareTicket);
      copied.notes.insert(copied.notes.end(), report.notes.begin(), report.notes.end());
      report = std::move(copied);
    } else {
      report = folderFailure(mapping, ready);
    }
    if (first) {
      total = std::move(report);
      first = false;
    } else {
      mergeAttempt(total, report);
    }
    if (total.error.empty() || !total.errorRetryable || attempt > options_.retries) return total;

    // The connections are in an unknown state: drop both and resume from the state store.
    worker.source.reset();
    worker.destination.reset();
    milliseconds w = total.retryAfterMs >= 0 ? milliseconds(total.retryAfterMs) : backoff(attempt);
    wait(w, "folder '" + total.source + "': " + total.error + "; reconnecting in " +
                std::to_string(w.count()) + " ms (attempt " + std::to_string(attempt) + "/" +
                std::to_string(options_.retries) + ")");
    total.error.clear();
  }
}

void Migrator::helpWithBigFolders(Worker& worker, ShareBoard& board) {
  while (!gaveUp_) {
    // Counted before it connects (the parts handed out meanwhile leave room for it), and
    // connected before it takes a part: a part waits for no login, and a worker that cannot
    // connect takes none.
    board.expectHelper();
    if (!worker.source || !worker.destination) {
      if (!connect(worker)) {
        board.helperLeft();
        return;
      }
    }
    auto share = board.awaitShare();
    if (!share) return;
    auto& [shares, range] = *share;
    FolderCopier helper(*worker.source, *worker.destination, *worker.destination, *store_, options_,
                        *progress_);
    ShareOutcome outcome = helper.copyShare(*shares, range);
    outcome.helper = &worker;
    const bool failed = !outcome.status.isOk();
    shares->finish(std::move(outcome));
    if (failed) {
      // The folder's own worker reports the error and retries the folder, recovering what
      // this part left pending; these connections are in an unknown state.
      worker.source.reset();
      worker.destination.reset();
      return;
    }
  }
}

std::string Migrator::earlierDestinationNote(const std::vector<std::string>& used,
                                             const FolderMapping& mapping) {
  const std::string usedName = joinPath(used);
  const std::string planned = joinPath(mapping.destinationPath);
  if (isRenamingOf(used, mapping.destinationPath)) {
    return "going on in '" + usedName + "', where earlier runs copied this folder because the " +
           "destination did not take '" + planned + "' then: its mail stays in one folder";
  }
  // Not a name of ours: the folder rules (--map, a preset) named it differently back then.
  return "earlier runs copied this folder to '" + usedName + "'; the folder rules now give '" +
         planned + "'. Going on in '" + usedName +
         "' so its mail stays in one folder and nothing is copied twice. To switch, rename '" +
         usedName + "' to '" + planned + "' on the destination before the next run: it goes on " +
         "there without copying anything again";
}

const access::Folder* Migrator::renamedByAnEarlierRun(const FolderMapping& mapping) {
  auto saved = store_->loadFolder(options_.mailboxKey, mapping.source.displayName());
  return saved && *saved ? renamedByAnEarlierRun(mapping, **saved) : nullptr;
}

const access::Folder* Migrator::renamedByAnEarlierRun(const FolderMapping& mapping,
                                                      const store::FolderPairState& saved) const {
  return earlierRunDestination(mapping, saved.destinationFolder, destinationFolders_);
}

Status Migrator::readStoredElsewhere(access::MailSource& source, const FolderPlan& plan) {
  for (const access::Folder& folder : plan.storedElsewhere) {
    auto listed = source.openForReadAndList(folder, 1, /*withMessageId=*/true);
    if (!listed) {
      if (isRetryable(listed.status())) return listed.status();
      // Its messages are then copied from the folder that shows all mail as well: a
      // duplicate at worst, never a message left behind.
      progress_->onNotice("could not list '" + folder.displayName() +
                          "' to tell archived mail apart (" + listed.status().message() +
                          "): what it holds is copied to the archive too");
      continue;
    }
    // \Deleted ones are not held there (Gmail keeps them in All Mail once the label is
    // expunged).
    addMessageKeys(listed->metas, !options_.includeDeleted, storedElsewhere_);
  }
  return Status::ok();
}

Result<access::Folder> Migrator::createDestinationFolder(Worker& worker,
                                                         const FolderMapping& mapping,
                                                         std::vector<std::string>& notes) {
  access::MailDestination& destination = *worker.destination;
  std::vector<std::string> path = mapping.destinationPath;
  // One CREATE at a time per run, whatever the workers: Dovecot 2.3 (2.3.19 seen) can panic
  // when sessions of one user create folders at the same moment (two fcntl locks taken in
  // opposite order, EDEADLK on dovecot.list.index.log), and the folder is then missing from
  // its LIST or reported as existing while not listed. A folder is created once per
  // mailbox, so the wait costs next to nothing; it also keeps a parent's CREATE from racing
  // its child's.
  std::lock_guard<std::mutex> oneCreateAtATime(createMutex_);
  auto created = destination.createFolder(path);
  if (created) return created;
  if (created.status().code() == Errc::kAlreadyExists) {
    // Made meanwhile (by another run, or by us before a reconnect)? Then it is simply ours.
    // Listed \Noselect, it may still be in the making (Dovecot lists a folder whose
    // directory exists before its mail files do, e.g. while the session of a run killed
    // right after its CREATE finishes it): look again a few times before taking it for a
    // mere container of other folders.
    // A \Noselect name may also be the parent a child folder's CREATE made a moment ago on
    // another connection (worker B's "Work" while worker A creates "Work/Projects"): once
    // that is done, CREATE makes it a folder, so it is asked again too.
    bool onlyContainer = false;
    for (int look = 0; look < 5; ++look) {
      if (look > 0) std::this_thread::sleep_for(std::chrono::milliseconds(200));
      onlyContainer = false;
      auto listed = destination.listFolders();
      if (!listed) break;
      for (const auto& f : *listed) {
        if (f.path != path) continue;
        if (f.selectable) return f;
        onlyContainer = true;
      }
      if (!onlyContainer) break;  // not listed at all: the name is held in another case
      auto again = destination.createFolder(path);
      if (again) return again;
      if (again.status().code() != Errc::kAlreadyExists) return again.status();
    }
    // Not in our LIST, yet "exists": another folder holds the name under another case (a
    // case-folding server such as Exchange). Merging two folders would mix their mail: keep
    // them apart under a numbered name. The same for a name the server keeps as a container
    // of other folders only.
    for (int n = 2; n <= kLastNumber; ++n) {
      std::vector<std::string> alt = path;
      alt.back() = numberedName(path.back(), n);
      auto again = destination.createFolder(alt);
      if (again) {
        notes.push_back(
            onlyContainer ? "the destination has '" + joinPath(path) +
                                "' only as a container of other folders (\\Noselect) and will not "
                                "make it a folder: copied to '" +
                                joinPath(alt) + "' instead"
                          : "the destination already has a folder named '" + joinPath(path) +
                                "' in another case (it ignores case): copied to '" + joinPath(alt) +
                                "' instead, so the two folders stay apart");
        return again;
      }
      if (again.status().code() != Errc::kAlreadyExists) return again.status();
    }
    return created.status();
  }
  if (isRetryable(created.status())) return created.status();
  // Refused: rename by the stated rule (sync/folder_naming.h) until the server accepts it.
  for (const auto& candidate : renameCandidates(path.back())) {
    std::vector<std::string> alt = path;
    alt.back() = candidate;
    auto again = destination.createFolder(alt);
    if (again || again.status().code() == Errc::kAlreadyExists) {
      notes.push_back("the destination refused the folder name '" + joinPath(path) + "' (" +
                      created.status().message() + "): created as '" + joinPath(alt) + "'");
      if (again) return again;
      auto listed = destination.listFolders();
      if (listed) {
        for (const auto& f : *listed) {
          if (f.path == alt) return f;
        }
      }
    }
    if (again.status().code() != Errc::kServerNo && !again.isOk()) return again.status();
  }
  return created.status();
}

Result<MigrationReport> Migrator::run() {
  const auto started = std::chrono::steady_clock::now();
  MigrationReport report;
  report.dryRun = options_.dryRun;
  gaveUp_ = false;

  // Listing folders is retried like any folder: a throttled or dropped listing is common.
  std::vector<Worker> workers(1);
  Worker& first = workers[0];
  std::vector<access::Folder> sourceFolders, destinationFolders;
  char separator = '/';
  for (uint32_t attempt = 1;; ++attempt) {
    uint32_t failures = 0;
    MF_RETURN_IF_ERROR(reconnectWithBackoff(first, failures));
    // Both sides at once, each on its own connection: a far pair of servers costs one round
    // trip here, not two.
    auto listing =
        std::async(std::launch::async, [&first] { return first.destination->listFolders(); });
    auto s = first.source->listFolders();
    auto d = listing.get();
    if (s && d) {
      sourceFolders = std::move(s).value();
      destinationFolders = std::move(d).value();
      destinationFolders_ = destinationFolders;
      separator = first.destination->separator();
      break;
    }
    Status failed = s ? d.status() : s.status();
    if (!isRetryable(failed) || attempt > options_.retries) return failed;
    first.source.reset();
    first.destination.reset();
    auto w = failed.retryAfter() ? *failed.retryAfter() : backoff(attempt);
    wait(w, "listing folders: " + failed.message() + "; reconnecting in " +
                std::to_string(w.count()) + " ms");
  }
  FolderPlan plan = planFolders(sourceFolders, destinationFolders, separator, options_.plan);
  report.excluded = plan.excluded;

  // One STATUS per folder on each side, on the first connections, pipelined and both
  // servers at once: folders unchanged since the last run (the source's UIDNEXT, the
  // destination folder's UIDVALIDITY) are settled here (work per folder, not per message)
  // and never cost a worker connection.
  std::vector<FolderReport> results(plan.folders.size());
  std::vector<size_t> pending;
  std::vector<uint64_t> newMessages(plan.folders.size(), 0);  // at most this many to copy
  std::vector<std::optional<access::FolderStatus>> plannedStatus(plan.folders.size());
  std::vector<std::optional<access::FolderStatus>> plannedDestinationStatus(plan.folders.size());
  uint64_t estimate = 0;
  std::vector<access::Folder> planned;
  planned.reserve(plan.folders.size());
  for (const FolderMapping& m : plan.folders) planned.push_back(m.source);
  // Each folder's record from the last run (read once here), and where its mail goes if
  // that folder exists: an earlier run's destination (renamedByAnEarlierRun) or the planned one.
  std::vector<Result<std::optional<store::FolderPairState>>> savedStates;
  savedStates.reserve(plan.folders.size());
  for (const FolderMapping& m : plan.folders) {
    savedStates.push_back(store_->loadFolder(options_.mailboxKey, m.source.displayName()));
  }
  std::vector<const access::Folder*> destinationOf(plan.folders.size(), nullptr);
  std::vector<access::Folder> destinationsToAsk;
  std::vector<size_t> askedFor;
  if (!options_.dryRun && !options_.retryErrors) {
    for (size_t i = 0; i < plan.folders.size(); ++i) {
      const FolderMapping& m = plan.folders[i];
      const auto& saved = savedStates[i];
      const access::Folder* used = saved && *saved ? renamedByAnEarlierRun(m, **saved) : nullptr;
      destinationOf[i] = used ? used : m.existingDestination;
      if (!destinationOf[i]) continue;
      destinationsToAsk.push_back(*destinationOf[i]);
      askedFor.push_back(i);
    }
  }
  auto destinationAsked = std::async(std::launch::async, [&first, &destinationsToAsk] {
    return destinationsToAsk.empty() ? std::vector<Result<access::FolderStatus>>{}
                                     : first.destination->folderStatuses(destinationsToAsk);
  });
  std::vector<Result<access::FolderStatus>> statuses = first.source->folderStatuses(planned);
  std::vector<Result<access::FolderStatus>> destinationStatuses = destinationAsked.get();
  for (size_t k = 0; k < askedFor.size() && k < destinationStatuses.size(); ++k) {
    if (destinationStatuses[k]) plannedDestinationStatus[askedFor[k]] = *destinationStatuses[k];
  }
  for (size_t i = 0; i < plan.folders.size(); ++i) {
    const FolderMapping& m = plan.folders[i];
    const Result<access::FolderStatus>& st = statuses[i];
    if (st) {
      plannedStatus[i] = *st;
      estimate += st->messages;
    }
    const auto& saved = savedStates[i];
    newMessages[i] = st ? st->messages : kMessagesPerWorker;
    if (st && saved && *saved && (*saved)->sourceUidValidity == st->uidValidity &&
        st->uidNext >= (*saved)->sourceUidNext && st->uidNext != 0) {
      // UIDs are handed out in ascending order: no more than this many arrived since.
      newMessages[i] = std::min<uint64_t>(st->messages, st->uidNext - (*saved)->sourceUidNext);
    }
    const access::Folder* destination = destinationOf[i];
    const auto& destinationStatus = plannedDestinationStatus[i];
    if (st && saved && *saved && destination && destinationStatus &&
        !FolderCopier::isDestinationReplaced(**saved, *destinationStatus) &&
        FolderCopier::isUpToDate(**saved, *st, joinPath(destination->path))) {
      FolderReport& r = results[i];
      r.source = m.source.displayName();
      r.destination = joinPath(destination->path);
      r.notes = m.notes;
      if (destination != m.existingDestination) {
        r.notes.push_back(earlierDestinationNote(destination->path, m));
      }
      r.upToDate = true;
      continue;
    }
    pending.push_back(i);
  }
  if (!options_.dryRun) progress_->onStart(estimate);
  for (size_t i = 0; i < plan.folders.size(); ++i) {
    if (results[i].upToDate) progress_->onFolderDone(results[i]);
  }

  if (std::any_of(pending.begin(), pending.end(),
                  [&](size_t i) { return plan.folders[i].onlyWhatNoOtherFolderHolds; })) {
    MF_RETURN_IF_ERROR(readStoredElsewhere(*first.source, plan));
  }

  // Workers take folders from a shared queue, each on its own connections; the store and the
  // progress sink are shared through locking decorators while more than one runs. Biggest
  // folders first, so no big one starts last and runs on alone. A worker costs both servers a
  // login (and a session) before it copies anything: one per kMessagesPerWorker new messages,
  // so a small increment runs on the first connections only.
  std::stable_sort(pending.begin(), pending.end(),
                   [&](size_t a, size_t b) { return newMessages[a] > newMessages[b]; });
  uint64_t newTotal = 0;
  for (size_t i : pending) newTotal += newMessages[i];
  // Without splitting, a folder keeps one worker busy at most; with it, a big folder can keep
  // one per kMessagesPerWorker new messages busy.
  size_t usefulWorkers = pending.size();
  if (options_.splitFolders && !options_.dryRun) {
    usefulWorkers = 0;
    for (size_t i : pending) {
      usefulWorkers += std::max<size_t>(1, newMessages[i] / kMessagesPerWorker);
    }
  }
  // A far server makes folders, not messages, the cost: each folder pays about six round
  // trips of its own (create, subscribe, select and examine, list, fetch, the last append's
  // answer), a few seconds for a mailbox of a few dozen folders over a WAN, while the logins
  // of more workers are paid once and side by side. Then every folder with new mail is worth
  // a worker (bench/run --rtt-ms measures it). Near (loopback, LAN), the count of new
  // messages decides: there a login costs more than a small folder.
  const bool far =
      std::max(first.source->roundTrip(), first.destination->roundTrip()) >= kFarRoundTrip;
  const size_t byMessages =
      far ? usefulWorkers
          : static_cast<size_t>((newTotal + kMessagesPerWorker - 1) / kMessagesPerWorker);
  const size_t workerCount =
      std::max<size_t>(1, std::min({options_.parallelFolders, usefulWorkers, byMessages}));
  const bool splitting = options_.splitFolders && !options_.dryRun && workerCount > 1;
  ShareBoard shareBoard;
  LockedStore lockedStore(baseStore_);
  LockedProgress lockedProgress(baseProgress_);
  if (workerCount > 1) {
    store_ = &lockedStore;
    progress_ = &lockedProgress;
  }
  // Workers beyond the first start with a lease on the servers' shared connections (none
  // needed without `slots_`); one that finds none now is tried again whenever a worker
  // finishes a folder and folders are still waiting, so a run speeds up as others end.
  std::atomic<size_t> next{0};
  std::mutex startMutex;
  std::vector<std::thread> threads;
  size_t startedWorkers = 1;
  std::function<void(Worker&)> work;
  // At the start: workers up to workerCount. Later (a worker between folders, about to take
  // one of the waiting folders itself): one more only while the waiting folders hold another
  // kMessagesPerWorker new messages for each worker then running, the same measure as at
  // the start, so the tail of a run does not pay two logins for a few small folders.
  // Set once a server refused an extra worker's connections: no more are tried this run.
  std::atomic<bool> extraRefused{false};
  auto startWorkers = [&](bool atStart) {
    std::lock_guard lock(startMutex);
    const size_t before = startedWorkers;
    auto worthAnother = [&] {
      if (atStart) return true;
      if (extraRefused) return false;
      // A big folder being copied has a part to hand out and nobody is coming for it: one
      // more worker (per call: the next batch boundary looks again once it took its part).
      if (splitting && startedWorkers == before && shareBoard.wantsHelper()) return true;
      uint64_t waitingMessages = 0;
      size_t waitingFolders = 0;
      for (size_t k = next.load(); k < pending.size(); ++k, ++waitingFolders) {
        waitingMessages += newMessages[pending[k]];
      }
      // The worker asking takes one waiting folder itself, and each worker started in this
      // call another: no more workers than that leaves folders for.
      return waitingFolders >= (startedWorkers - before) + 2 &&
             (far || waitingMessages >= kMessagesPerWorker * (startedWorkers + 1));
    };
    while (startedWorkers < workerCount && worthAnother()) {
      std::unique_ptr<WorkerSlots::Lease> lease;
      if (slots_ && !(lease = slots_->tryClaim())) break;
      Worker& worker = workers[startedWorkers++];
      worker.lease = std::move(lease);
      threads.emplace_back(work, std::ref(worker));
      if (!atStart) {
        progress_->onNotice("connections to these servers freed up: now copying over " +
                            std::to_string(startedWorkers) + " connections to each");
      }
    }
    return startedWorkers;
  };
  // Connections freed by other runs help a big folder too, not only the folders waiting.
  if (splitting && slots_)
    shareBoard.setOnBatch([&] {
      if (!gaveUp_) startWorkers(/*atStart=*/false);
    });
  work = [&](Worker& worker) {
    // A worker beyond the first opens its connections before it takes a folder (retrying
    // what may pass, as any reconnect). A server that refuses them (a cap on sessions per
    // user, which the user's own mail apps share) costs the run that worker, not the
    // folders it would have taken: the others go on.
    if (&worker != &workers[0] && (!worker.source || !worker.destination) &&
        next.load() < pending.size()) {
      uint32_t failures = 0;
      if (Status opened = reconnectWithBackoff(worker, failures); !opened) {
        if (!extraRefused.exchange(true)) {
          progress_->onNotice("could not open another connection pair (" + opened.message() +
                              "); going on over the connections already open");
        }
        worker.source.reset();
        worker.destination.reset();
        worker.lease.reset();
        return;
      }
    }
    for (;;) {
      // Expected before it is taken, so a worker that finds the queue empty meanwhile waits
      // for this folder's parts instead of leaving.
      std::unique_ptr<ShareBoard::Ticket> ticket;
      if (splitting) ticket = shareBoard.expectFolder();
      const size_t k = next++;
      if (k >= pending.size()) break;
      const size_t i = pending[k];
      const FolderMapping& mapping = plan.folders[i];
      if (gaveUp_) {
        results[i] = folderFailure(
            mapping, Status(Errc::kCancelled, ErrorClass::kRetry,
                            "not attempted: the connection could not be reopened; run again"));
        progress_->onFolderDone(results[i]);
        continue;
      }
      results[i] = migrateFolderWithRetries(
          worker, mapping, plannedStatus[i] ? &*plannedStatus[i] : nullptr,
          plannedDestinationStatus[i] ? &*plannedDestinationStatus[i] : nullptr, ticket.get());
      ticket.reset();
      if (slots_ && !gaveUp_) startWorkers(/*atStart=*/false);
    }
    if (splitting) helpWithBigFolders(worker, shareBoard);
    // Nothing left for this worker: its connections and its lease go back to the servers
    // and to the other runs.
    worker.source.reset();
    worker.destination.reset();
    worker.lease.reset();
  };
  workers.resize(workerCount);
  if (size_t now = startWorkers(/*atStart=*/true); now < workerCount) {
    report.notices.push_back(
        "other mailferry runs on this machine are using the connections to these servers: "
        "copying over " +
        std::to_string(now) + " of " + std::to_string(workerCount) +
        " connections to each for now, more as they finish");
    progress_->onNotice(report.notices.back());
  }
  work(workers[0]);
  for (;;) {
    std::vector<std::thread> running;
    {
      std::lock_guard lock(startMutex);
      running.swap(threads);
    }
    if (running.empty()) break;
    for (auto& t : running) t.join();
  }
  store_ = &baseStore_;
  progress_ = &baseProgress_;
  report.folders = std::move(results);
  report.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return report;
}

}  // namespace mf::sync

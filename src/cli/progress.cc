#include "cli/progress.h"

#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>

namespace mf::cli {
namespace {

using SteadyClock = std::chrono::steady_clock;

std::string humanBytes(double bytes) {
  const char* units[] = {"B", "KB", "MB", "GB", "TB"};
  int u = 0;
  while (bytes >= 1000 && u < 4) {
    bytes /= 1000;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, u ? "%.1f %s" : "%.0f %s", bytes, units[u]);
  return buf;
}

std::string clock(double seconds) {
  if (seconds < 0 || seconds > 99 * 3600) return "--:--";
  int s = static_cast<int>(seconds);
  char buf[32];
  if (s >= 3600)
    std::snprintf(buf, sizeof buf, "%d:%02d:%02d", s / 3600, (s / 60) % 60, s % 60);
  else
    std::snprintf(buf, sizeof buf, "%02d:%02d", s / 60, s % 60);
  return buf;
}

class Counting : public sync::ProgressSink {
 protected:
  void onStart(uint64_t estimate) override {
    estimate_ = estimate;
    started_ = SteadyClock::now();
  }
  void onMessage(uint64_t bytes, bool) override {
    ++done_;
    bytes_ += bytes;
  }
  void onFolderDone(const sync::FolderReport& r) override {
    // Messages already copied or skipped are part of the estimate too.
    done_ += r.alreadyCopied + r.skippedDeleted;
  }
  double elapsed() const {
    return std::chrono::duration<double>(SteadyClock::now() - started_).count();
  }
  uint64_t estimate_ = 0, done_ = 0, bytes_ = 0;
  SteadyClock::time_point started_ = SteadyClock::now();
};

class BarProgress : public Counting {
 public:
  ~BarProgress() override { std::fprintf(stderr, "\n"); }

 private:
  void onFolderStart(const std::string& source, const std::string&, uint64_t, uint64_t) override {
    folder_ = source;
    draw(true);
  }
  void onMessage(uint64_t bytes, bool ok) override {
    Counting::onMessage(bytes, ok);
    draw(false);
  }
  void onFolderDone(const sync::FolderReport& r) override {
    Counting::onFolderDone(r);
    draw(true);
  }
  void onNotice(const std::string& text) override {
    std::fprintf(stderr, "\r\033[K%s\n", text.c_str());
    draw(true);
  }
  void draw(bool force) {
    auto now = SteadyClock::now();
    if (!force && now - lastDraw_ < std::chrono::milliseconds(100)) return;
    lastDraw_ = now;
    double t = elapsed();
    double rate = t > 0 ? done_ / t : 0;
    double frac = estimate_ ? std::min(1.0, double(done_) / estimate_) : 0;
    double eta = rate > 0 && estimate_ > done_ ? (estimate_ - done_) / rate : 0;
    const int width = 28;
    int filled = static_cast<int>(frac * width);
    std::string bar(filled, '#');
    bar += std::string(width - filled, '-');
    std::string name = folder_.size() > 24 ? folder_.substr(0, 23) + "~" : folder_;
    std::fprintf(stderr, "\r\033[K[%s] %3d%% %llu/%llu msgs %s %.0f msg/s %s/s ETA %s  %s",
                 bar.c_str(), static_cast<int>(frac * 100), static_cast<unsigned long long>(done_),
                 static_cast<unsigned long long>(estimate_), humanBytes(double(bytes_)).c_str(),
                 rate, humanBytes(t > 0 ? bytes_ / t : 0).c_str(), clock(eta).c_str(),
                 name.c_str());
    std::fflush(stderr);
  }
  std::string folder_;
  SteadyClock::time_point lastDraw_{};
};

class PlainProgress : public Counting {
  void onFolderStart(const std::string& source, const std::string& destination, uint64_t toCopy,
                     uint64_t bytes) override {
    std::fprintf(stderr, "folder %s -> %s: %llu message(s), %s to copy\n", source.c_str(),
                 destination.c_str(), static_cast<unsigned long long>(toCopy),
                 humanBytes(double(bytes)).c_str());
  }
  void onMessage(uint64_t bytes, bool ok) override {
    Counting::onMessage(bytes, ok);
    auto now = SteadyClock::now();
    if (now - lastLine_ < std::chrono::seconds(5)) return;
    lastLine_ = now;
    std::fprintf(stderr, "progress: %llu/%llu messages, %s, %s elapsed\n",
                 static_cast<unsigned long long>(done_), static_cast<unsigned long long>(estimate_),
                 humanBytes(double(bytes_)).c_str(), clock(elapsed()).c_str());
  }
  void onNotice(const std::string& text) override { std::fprintf(stderr, "%s\n", text.c_str()); }
  SteadyClock::time_point lastLine_ = SteadyClock::now();
};

class JsonProgress : public Counting {
  void emit(const nlohmann::json& j) { std::printf("%s\n", j.dump().c_str()), std::fflush(stdout); }
  void onStart(uint64_t estimate) override {
    Counting::onStart(estimate);
    emit({{"event", "start"}, {"estimated_messages", estimate}});
  }
  void onFolderStart(const std::string& source, const std::string& destination, uint64_t toCopy,
                     uint64_t bytes) override {
    emit({{"event", "folder_start"},
          {"source", source},
          {"destination", destination},
          {"to_copy", toCopy},
          {"bytes_to_copy", bytes}});
  }
  void onMessage(uint64_t bytes, bool ok) override {
    Counting::onMessage(bytes, ok);
    auto now = SteadyClock::now();
    if (now - lastLine_ < std::chrono::seconds(1)) return;
    lastLine_ = now;
    emit({{"event", "progress"},
          {"messages", done_},
          {"estimated_messages", estimate_},
          {"bytes", bytes_},
          {"elapsed_s", elapsed()}});
  }
  void onFolderDone(const sync::FolderReport& r) override {
    Counting::onFolderDone(r);
    emit({{"event", "folder_done"},
          {"source", r.source},
          {"destination", r.destination},
          {"copied", r.copied},
          {"failed", r.failed},
          {"bytes", r.bytes}});
  }
  void onNotice(const std::string& text) override { emit({{"event", "notice"}, {"text", text}}); }
  SteadyClock::time_point lastLine_ = SteadyClock::now();
};

class NoProgress : public sync::ProgressSink {};

}  // namespace

std::unique_ptr<sync::ProgressSink> makeProgress(ProgressMode mode) {
  switch (mode) {
    case ProgressMode::kBar:
      return std::make_unique<BarProgress>();
    case ProgressMode::kPlain:
      return std::make_unique<PlainProgress>();
    case ProgressMode::kJson:
      return std::make_unique<JsonProgress>();
    case ProgressMode::kNone:
      break;
  }
  return std::make_unique<NoProgress>();
}

}  // namespace mf::cli

// Notices of migrate and verify: things the user should know that are not errors (which
// settings worked after probing and should be saved, that the source keeps contacts and
// calendars IMAP does not carry, which preset rules were applied, what the POP3 source had
// to guess). Each is said once: on stderr as it happens, as a JSON event with --json, and in
// the summary's "notices".
#pragma once

#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>

namespace mf::cli {

struct Notice {
  std::string kind;  // "settings", "server", "preset", "source", "compression", "connections"
  std::string side;  // "source", "destination", or "" for both
  std::string text;  // self-contained: "source: imaps://... failed (...); ..."
  std::string url;   // kind "settings": the URL to pass next time
};

inline void printNotice(const Notice& n) {
  std::fprintf(stderr, "mailferry: %s\n", n.text.c_str());
}

// {"event": "notice", "kind": ..., "side": ..., "text": ... [, "url": ...]}
inline nlohmann::json noticeJson(const Notice& n) {
  nlohmann::json out = {{"event", "notice"}, {"kind", n.kind}, {"side", n.side}, {"text", n.text}};
  if (!n.url.empty()) out["url"] = n.url;
  return out;
}

}  // namespace mf::cli

// What to try when the destination refuses to create a folder name (SPEC.md 4: "names the
// destination refuses are renamed by a stated rule and reported, never dropped").
//
// The rule, applied step by step to the last path component, each step on top of the
// previous one, until the destination accepts the name:
//   1. an ideographic space U+3000 becomes a plain space (kept where accepted: other tools
//      lose such folders entirely);
//   2. leading and trailing blanks are removed and runs of blanks become one space (Gmail:
//      "Folder contains excess whitespace");
//   3. characters that servers commonly refuse in names are replaced by '_':
//      control characters and  ^ & % * " \ ~ # [ ] { } | < > ?
//   4. every non-ASCII character is replaced by '_' (a last resort for servers without
//      UTF-7/UTF-8 names).
// Pure functions; no I/O.
#pragma once

#include <string>
#include <vector>

namespace mf::sync {

// The successive candidate names for `component`, each different from the one before;
// empty if no step changes anything.
std::vector<std::string> renameCandidates(const std::string& component);

// "Name (2)", "Name (3)", ... "Name (kLastNumber)": a name for a folder whose name is
// taken under another case.
std::string numberedName(const std::string& component, int n);
constexpr int kLastNumber = 99;

// Where migrate may have put a folder planned as `planned` when the destination would not
// take that name, in the order it tries them: each rename candidate of the last component
// (refused names), then "Name (2)" to "Name (kLastNumber)" (a name held in another case, or only
// as a container). For verify, which looks for the folder without the state.
std::vector<std::vector<std::string>> renamedDestinations(const std::vector<std::string>& planned);

// `used` is a name these rules (a candidate, a numbered name, or a numbered candidate, for
// any component; ASCII case ignored) can make of `planned`: a folder an earlier run had to rename,
// as opposed to one the user's folder rules named differently back then.
bool isRenamingOf(const std::vector<std::string>& used, const std::vector<std::string>& planned);

}  // namespace mf::sync

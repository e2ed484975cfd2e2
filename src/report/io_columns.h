// The provenance columns and notes of the tables and the report page (from StageResult::io).
#pragma once

#include <string>
#include <vector>

#include "report/results.h"

namespace tb::report {

// Column heads for the selected columns, and a stage's cells ("—" where not measured).
std::vector<std::string> IoColumnHeads(const IoColumns& columns);
std::vector<std::string> IoColumnCells(const StageResult& stage, const IoColumns& columns);
// One line per stage whose cold read was not honoured or that read mostly from the cache
// (only stages that ran), each starting with `prefix`.
std::string IoNotes(const RunResult& run, const std::string& prefix);
// The report page's table of where each stage's bytes came from ("" when no stage has io).
std::string IoTableHtml(const RunResult& run);

}  // namespace tb::report

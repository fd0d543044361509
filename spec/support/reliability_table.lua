-- The table of spec/README.md ("Reliability on both transports"): every
-- shared case (spec/support/both.lua's lists) and how each transport holds
-- it. Made from the case lists themselves, and checked against the spec
-- files that run them, so it cannot drift: spec/unit/reliability_table_spec.lua
-- compares it with the README, scripts/reliability-table prints it.
local mock = require "spec.support.mock"

local M = {}

-- Each list of shared cases and the spec files that run it on each transport.
M.SUITES = {
  { module = "spec.support.reliability_cases",
    curl = "spec/integration/reliability_spec.lua", ngx = "spec/integration/ngx_reliability_spec.lua",
    socket = "spec/integration/socket_reliability_spec.lua" },
  { module = "spec.support.recover_cases", curl = "spec/integration/recover_spec.lua", ngx = "spec/integration/recover_spec.lua",
    socket = "spec/integration/recover_spec.lua" },
}

M.BEGIN = "<!-- reliability-table: made by scripts/reliability-table, checked by spec/unit/reliability_table_spec.lua -->"
M.END = "<!-- /reliability-table -->"

-- Whether `file` runs `module`'s cases on `transport` through both.run.
function M.runs(file, module, transport)
  local text = mock.read_file(mock.root .. "/" .. file) or ""
  if not text:find(('both").run("%s"'):format(module), 1, true)
     and not text:find(('both.run("%s"'):format(module), 1, true) then
    return false
  end
  return text:find(('"%s",'):format(transport), 1, true) ~= nil or text:find("both.TRANSPORTS", 1, true) ~= nil
end

local function cell(suite, case, transport)
  if not M.runs(suite[transport], suite.module, transport) then
    error(("%s does not run %s on %s"):format(suite[transport], suite.module, transport), 0)
  end
  if case[transport] then return "holds the documented difference: " .. case[transport] end
  return case.via and ("passes, with %s"):format(case.via[transport]) or "passes"
end

function M.markdown()
  local rows = { M.BEGIN, "| case | libcurl | ngx (in nginx) | LuaSocket (test transport) |", "|---|---|---|---|" }
  for _, suite in ipairs(M.SUITES) do
    local cases = require(suite.module)
    local files, seen = {}, {}
    for _, transport in ipairs({ "curl", "ngx", "socket" }) do
      if not seen[suite[transport]] then
        seen[suite[transport]] = true
        files[#files + 1] = ("`%s`"):format(suite[transport])
      end
    end
    rows[#rows + 1] = ("| **%s** (%s) | | | |"):format(cases.title, table.concat(files, ", "))
    for _, case in ipairs(cases) do
      rows[#rows + 1] = ("| %s | %s | %s | %s |"):format(case.name:gsub("|", "\\|"), cell(suite, case, "curl"),
        cell(suite, case, "ngx"), cell(suite, case, "socket"))
    end
  end
  rows[#rows + 1] = M.END
  return table.concat(rows, "\n") .. "\n"
end

-- The table as spec/README.md has it now (nil when missing).
function M.current()
  local text = mock.read_file(mock.root .. "/spec/README.md") or ""
  local b = text:find(M.BEGIN, 1, true)
  local _, e = text:find(M.END, b or 1, true)
  if not b or not e then return nil end
  return text:sub(b, e) .. "\n"
end

return M

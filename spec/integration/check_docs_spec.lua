-- scripts/check-docs, run by `make docs` after LDoc: on a small project of
-- its own (a module, a type, a topic) built by the real LDoc, it passes when
-- all is documented and linked, and names each undocumented public
-- function, stale INTERNAL entry, broken link and missing anchor otherwise.
local mock = require "spec.support.mock"

local sh, shq = mock.sh, mock.shq

local MODULE = [[
--- A module for the check.
-- @module homie.errors
local M = {}
local Error = {}

--- Documented.
-- @treturn Error an error
function M.is_error() return Error end

%s

--- The type.
-- @type Error

--- A field.
-- @tfield string kind

-- Internal (INTERNAL lists these for homie.errors).
function M.new() end
function M.redact() end
function M.kind_of_status() end
function M.from_response() end

return M
]]

local function project(extra, topic)
  local dir = sh("mktemp -d /tmp/homie-docs.XXXXXX")
  sh("mkdir -p " .. dir .. "/lua/homie " .. dir .. "/doc")
  local function put(path, text)
    local f = assert(io.open(dir .. "/" .. path, "w"))
    f:write(text)
    f:close()
  end
  put("config.ld", 'file = { "lua/homie/errors.lua", "lua/homie/chat.lua" }\ndir = "build/doc"\nformat = "discount"\n'
    .. 'readme = { "doc/a.md" }\nnot_luadoc = true\n')
  put("lua/homie/errors.lua", MODULE:format(extra or ""))
  put("lua/homie/chat.lua", "--- Another module (one alone would be the index page).\n-- @module homie.chat\n"
    .. "local M = {}\n--- Documented.\nfunction M.ask() end\n-- Internal.\nfunction M.new() end\nreturn M\n")
  put("doc/a.md", "# A\n\nSee @{homie.errors}." .. (topic or "") .. "\n")
  return dir
end

local function check(dir)
  local out = sh("cd " .. shq(dir) .. " && ldoc . >/dev/null 2>&1 && lua5.4 " .. shq(mock.root .. "/scripts/check-docs")
    .. " 2>&1; echo \"exit $?\"")
  sh("rm -rf " .. shq(dir))
  return out
end

describe("scripts/check-docs", function()
  it("passes a project whose functions are documented and links resolve, linking types to their section", function()
    local out = check(project())
    assert.truthy(out:find("every public function documented", 1, true), out)
    assert.truthy(out:find("exit 0", 1, true), out)
  end)

  it("names an undocumented public function", function()
    local out = check(project("function M.forgotten() end"))
    assert.truthy(out:find("homie.errors: public function forgotten is not in the reference", 1, true), out)
    assert.truthy(out:find("exit 1", 1, true), out)
  end)

  it("names a broken link, a missing anchor and an unresolved reference", function()
    local out = check(project(nil, " [gone](../nowhere.html) [bad](../modules/homie.errors.html#nothing) @{no.such}"))
    assert.truthy(out:find('link "../nowhere.html": no file', 1, true), out)
    assert.truthy(out:find('has no anchor "nothing"', 1, true), out)
    assert.truthy(out:find("a.md.html: an unresolved reference (LDoc wrote ???)", 1, true), out)
    assert.truthy(out:find("exit 1", 1, true), out)
  end)
end)

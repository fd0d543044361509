-- Picks a client's transport (doc/transport.md): "curl", "ngx", or an
-- object that implements the interface. The default follows the runtime.
local util = require "homie.util"

local M = {}

local METHODS = { "now", "sleep", "gather", "request", "open", "close" }

-- Inside nginx's Lua module, cosockets; elsewhere libcurl.
function M.default()
  if type(ngx) == "table" and type(ngx.get_phase) == "function" then return "ngx" end
  return "curl"
end

function M.resolve(choice, level)
  level = (level or 1) + 1
  choice = choice == nil and M.default() or choice
  if choice == "curl" or choice == "ngx" then
    return require("homie.transport." .. choice).new()
  end
  if type(choice) ~= "table" then
    util.fail(("transport must be \"curl\", \"ngx\" or a transport object, got %s")
      :format(type(choice) == "string" and ("%q"):format(choice) or type(choice)), level)
  end
  for _, m in ipairs(METHODS) do
    if type(choice[m]) ~= "function" then
      util.fail(("transport object lacks method '%s' (see doc/transport.md)"):format(m), level)
    end
  end
  if type(choice.version) ~= "string" then util.fail("transport object lacks a version string", level) end
  return choice
end

return M

-- Command-line parsing for bin/homie: flags (--name VALUE, --name=VALUE,
-- --switch) anywhere among the positional arguments, `--` ends flags.
-- A mistake raises a usage error (see M.usage_error), which the CLI turns
-- into one line and exit status 2.
local util = require "homie.util"

local M = {}

local Usage = {}
Usage.__index = Usage
Usage.__tostring = function(e) return e.message end

-- Raised for anything the user typed wrong; `command` names the subcommand
-- whose --help to suggest.
function M.usage_error(message, command)
  error(setmetatable({ message = message, command = command }, Usage), 0)
end

function M.is_usage_error(v) return getmetatable(v) == Usage end

-- flags maps a flag name ("base-url") to "value" or "switch". Returns
-- opts (keys with "_" for "-": opts.base_url) and the positionals.
function M.parse(argv, first, flags, command)
  local opts, rest = {}, {}
  local i, flags_done = first, false
  while argv[i] ~= nil do
    local a = argv[i]
    if flags_done or a == "-" or a:sub(1, 1) ~= "-" then
      rest[#rest + 1] = a
    elseif a == "--" then
      flags_done = true
    else
      local name, value = a:match("^%-%-([^=]+)=(.*)$")
      name = name or a:match("^%-%-(.+)$")
      if a == "-h" then name = "help" end
      local kind = name and flags[name]
      if not kind then
        local shown = name and ("--" .. name) or a
        local msg = ("unknown option '%s' for homie %s"):format(shown, command)
        local near = name and util.nearest(name, flags)
        if near then msg = msg .. ("; did you mean '--%s'?"):format(near) end
        M.usage_error(msg, command)
      end
      local key = name:gsub("%-", "_")
      if kind == "switch" then
        if value ~= nil then M.usage_error("--" .. name .. " takes no value", command) end
        opts[key] = true
      else
        if value == nil then
          i = i + 1
          value = argv[i]
          if value == nil then M.usage_error("--" .. name .. " needs a value", command) end
        end
        opts[key] = value
      end
    end
    i = i + 1
  end
  return opts, rest
end

return M

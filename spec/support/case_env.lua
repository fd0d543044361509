-- The env a shared case gets (spec/support/reliability_cases.lua), from the
-- parts each side supplies (spec/support/both.lua): the transport's name,
-- the emulator's control, the https emulator, the clock. Adds the parts
-- that are the same everywhere: the key, the log lines, new_client.
-- Loaded in busted and inside nginx (Lua 5.4 and LuaJIT).
local homie = require "homie"

return function(parts)
  local env = { key = "homie-test-key", lines = {} }
  for k, v in pairs(parts) do env[k] = v end
  -- homie.new on the emulator with the case's options; unless `bare`, with
  -- the test key and a logger into env.lines.
  function env.new_client(opts, bare)
    local o = {}
    for k, v in pairs(opts or {}) do o[k] = v end
    o.base_url = o.base_url or env.server.url
    o.transport = o.transport or env.transport
    if not bare then
      o.api_key = o.api_key or env.key
      o.logger = o.logger or function(line) env.lines[#env.lines + 1] = line end
    end
    return homie.new(o)
  end
  return env
end

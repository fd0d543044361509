-- The test servers' exit guard: a script that dies at its top level (no
-- busted around it to call stop) stops the servers it started and exits,
-- instead of waiting in pclose for launchers that outlive it (this hung 10
-- minutes before the guard ran ahead of the popen handles' own finalizers).
local mock = require "spec.support.mock"

local function run_dying(body)
  local path = os.tmpname()
  local f = assert(io.open(path, "w"))
  f:write('package.path = "./?.lua;./?/init.lua;./lua/?.lua;./lua/?/init.lua;" .. package.path\n',
    'package.cpath = "./?.so;" .. package.cpath\n', body,
    '\nio.stdout:write(s.pid, "\\n"); io.stdout:flush(); error("dies here")\n')
  f:close()
  -- `timeout` bounds the hang this guards against; 124 would be its mark.
  local p = io.popen("timeout 60 lua5.4 " .. path .. " 2>/dev/null; echo rc=$?")
  local out = p:read("a")
  p:close()
  os.remove(path)
  return tonumber(out:match("^(%d+)\n")), out:match("rc=(%d+)")
end

describe("a script that dies with test servers running", function()
  for _, server in ipairs({ "mock", "nginx" }) do
    it("stops its " .. server .. " and exits with the error", function()
      local pid, rc = run_dying('local s = require("spec.support.' .. server .. '").start{}')
      assert.equal("1", rc)
      assert.is_number(pid)
      assert.is_false(mock.alive(pid))
    end)
  end
end)

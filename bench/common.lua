-- Shared by the benchmarks and the soak: paths, the emulator, process facts.
package.path = "./lua/?.lua;./lua/?/init.lua;./?.lua;" .. package.path
package.cpath = "./?.so;" .. package.cpath

local M = {}

M.BOT = "5e9c1a2b-3d4e-4f60-b2f2-9f4b1c2d3e4f"
M.PAGE = "https://store.com/products/blue-hoodie"

local function status_kb(field)
  local f = io.open("/proc/self/status")
  if not f then return nil end
  local s = f:read("a")
  f:close()
  return tonumber(s:match(field .. ":%s*(%d+)"))
end

-- A shell command's output (nil, output when it fails), and a word quoted
-- for the shell.
function M.sh(cmd)
  local p = assert(io.popen(cmd))
  local out = p:read("a")
  local ok = p:close()
  return ok and out or nil, out
end
function M.q(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end

function M.rss_kb() return status_kb("VmRSS") end
function M.peak_rss_kb() return status_kb("VmHWM") end

function M.open_fds()
  local p = io.popen("ls /proc/" .. M.pid() .. "/fd | wc -l")
  local n = tonumber(p:read("a"))
  p:close()
  return n
end

-- This Lua process's pid (the parent of the shell io.popen starts).
function M.pid()
  if not M._pid then
    local f = io.open("/proc/self/stat")
    M._pid = f:read("a"):match("^(%d+)")
    f:close()
  end
  return M._pid
end

-- Idle event streams for `client`, one gather task each: each opens its
-- stream (chat ids made up; the bench nginx keeps any silent), waits for
-- the one event a release sends, and returns its type. Task n + 1 waits
-- until all are open, calls measure(), then releases them (the bench
-- nginx's /__release at `url`, trusting `ca_file` when given).
function M.idle_tasks(client, url, n, limit, measure, ca_file)
  local now = require("homie.sse").now
  local opened, tasks = 0, {}
  for i = 1, n do
    tasks[i] = function()
      local s = client:events(("%08x-0000-4000-8000-%012x"):format(i, i), { idle_timeout = 600, max_reconnects = 0 })
      local ok, err = s:open(limit)
      assert(ok, "idle stream did not open: " .. tostring(err and (err.message or err)))
      opened = opened + 1
      local ev = s:next_event(limit) -- silent until released
      s:close()
      return ev and ev.type
    end
  end
  tasks[n + 1] = function()
    local give_up = now() + limit
    while opened < n do
      assert(now() < give_up, ("only %d of %d idle streams opened"):format(opened, n))
      client.transport:sleep(0.05)
    end
    measure()
    local resp = client.transport:request{ method = "GET", url = url .. "/__release?n=" .. n, headers = {},
      ca_file = ca_file, deadline_at = now() + 10, max_body = 65536 }
    assert(resp and resp.status == 200, "release failed")
  end
  return tasks
end

-- The tasks' results: every idle stream ended as released.
function M.check_released(results, n)
  for i = 1, n do assert(results[i][1] == "bye", "idle stream " .. i .. " did not end as released") end
end

return M

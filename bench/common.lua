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

return M

-- make contract: LaunchDarkly's SSE contract suite against homie's streams,
-- on both transports: the plain-Lua test service (curl) and the one inside
-- a real nginx (ngx). The harness is not part of the repository: it is
-- looked for at ../shared/tools/sse-contract-harness (or $SSE_HARNESS), next
-- to the main checkout when this is a git worktree elsewhere; when it is
-- absent the target says so and exits 0.
--   lua5.4 spec/contract/run.lua [curl|ngx ...]
local mock = require "spec.support.mock"
local nginx = require "spec.support.nginx"

local root = mock.root
local HARNESS = "/../shared/tools/sse-contract-harness"

-- The main checkout of a git worktree: the parent of the common .git.
local function main_checkout()
  local p = io.popen(("git -C %s rev-parse --path-format=absolute --git-common-dir 2>/dev/null")
    :format(mock.shq(root)))
  local dir = p and p:read("*l")
  if p then p:close() end
  return dir and dir:match("^(.+)/%.git$")
end

local harness = os.getenv("SSE_HARNESS") or (root .. HARNESS)
if not os.getenv("SSE_HARNESS") and not io.open(harness, "rb") and main_checkout() then
  harness = main_checkout() .. HARNESS
end
if not io.open(harness, "rb") then
  print("contract: " .. harness .. " not found: the SSE contract suite is not part of the repository; skipped")
  os.exit(0)
end

local function run_harness(name, port)
  local log = os.tmpname()
  local cmd = ("timeout -k 5 600 %s --url http://127.0.0.1:%d --host 127.0.0.1 --port %d >%s 2>&1")
    :format(mock.shq(harness), port, mock.free_port(), mock.shq(log))
  local ok = os.execute(cmd)
  local out = mock.read_file(log) or ""
  os.remove(log)
  local failed = {}
  for line in out:gmatch("[^\n]+") do
    local case = line:match("^%s*FAILED: (.+)$")
    if case then failed[#failed + 1] = case end
  end
  local ran = 0
  for _ in out:gmatch("\n%[[^\n]-/[^\n]-%]") do ran = ran + 1 end
  local skipped = out:match("following capabilities:%s*\n%s*([^\n]+)") or "none"
  print(("contract (%s): %d cases, %d failed; capabilities not declared: %s"):format(name, ran, #failed, skipped))
  for _, f in ipairs(failed) do print("  FAILED: " .. f) end
  if not (ok == true or ok == 0) and #failed == 0 then io.write(out, "\n") end
  return (ok == true or ok == 0) and #failed == 0
end

local want = {}
for _, a in ipairs(arg) do want[a] = true end
if not next(want) then want = { curl = true, ngx = true } end
local all = true

if want.curl then
  local port = mock.free_port()
  local svc = assert(io.popen(("cd %s && exec lua5.4 -e %s spec/contract/service.lua %d 2>/dev/null"):format(
    mock.shq(root), mock.shq('package.path="./lua/?.lua;./lua/?/init.lua;./?.lua;"..package.path;'
      .. 'package.cpath="./?.so;"..package.cpath'), port), "r"))
  os.execute("sleep 0.5")
  all = run_harness("curl", port) and all
  os.execute(("pkill -f %s"):format(mock.shq("spec/contract/service.lua " .. port)))
  svc:close()
end

if want.ngx then
  nginx.build()
  local app = nginx.start{
    locations = { ["/"] = 'require("spec.contract.ngx_service").root()' },
    server = 'location ~ ^/streams/(\\d+)$ { content_by_lua_block { require("spec.contract.ngx_service").stream(ngx.var[1]) } }',
  }
  all = run_harness("ngx", app.port) and all
  app:stop()
end

os.exit(all and 0 or 1)

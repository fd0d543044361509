-- Test helper: a real nginx with its Lua module running code of the spec's
-- choosing, beside the emulator. Lua 5.4 + luasocket.
--   local app = nginx.start{
--     locations = { ["/t/x"] = "ngx.say('hi')",    -- content_by_lua_block bodies, or
--                   ["/t/y"] = { lua = "...", conf = "lua_ssl_trusted_certificate f;" } },
--     http = "lua_shared_dict d 1m;",             -- extra http{} lines
--     server = "location = /y { ... }",           -- extra server{} lines
--     env = { MOCK_URL = server.url },            -- seen by os.getenv inside nginx
--     workers = 2,                                -- worker_processes (default 1); with more than
--   }                                             -- one, `reuseport` spreads connections over them
--   app.url, app.port, app:request(method, path, body, headers) -> status, headers, body,
--   app:json(path) -> decoded body of a 200, app:error_log(), app:stop()
-- The config goes into a fresh temporary prefix; spec/support/run-nginx
-- runs nginx and stops it when this Lua process goes away.
local socket = require "socket"
local cjson = require "cjson"
local mock = require "spec.support.mock"

local M = {}

local shq, sh, read_file = mock.shq, mock.sh, mock.read_file

local function write_file(path, s)
  local f = assert(io.open(path, "wb"))
  f:write(s)
  f:close()
end

M.root = mock.root
-- Where LuaJIT builds of homie's C modules go (see mk/ngx.mk).
M.cpath_dir = M.root .. "/build/luajit"

-- Builds homie.sse for LuaJIT, the Lua of nginx's module (a no-op when current).
function M.build()
  local out = sh("make -s -C " .. shq(M.root) .. " ngx-build 2>&1; echo \"rc=$?\"")
  if not out:find("rc=0$") then error("building homie for LuaJIT failed:\n" .. out, 2) end
end

-- The Lua module search paths every generated config uses: the repo's Lua
-- code, its LuaJIT C modules, Debian's Lua 5.1 packages (cjson).
function M.package_paths()
  local lpath = table.concat({ M.root .. "/lua/?.lua", M.root .. "/lua/?/init.lua", M.root .. "/?.lua",
    "/usr/share/lua/5.1/?.lua", "/usr/share/lua/5.1/?/init.lua" }, ";")
  local cpath = { M.cpath_dir .. "/?.so" }
  for dir in sh("ls -d /usr/lib/*/lua/5.1 /usr/local/lib/lua/5.1 2>/dev/null"):gmatch("[^\n]+") do
    cpath[#cpath + 1] = dir .. "/?.so"
  end
  return lpath, table.concat(cpath, ";")
end

-- The text of nginx.conf for a prefix, a port and the spec's options.
function M.config(prefix, port, opts)
  local lpath, cpath = M.package_paths()
  local env = {}
  for k, v in pairs(opts.env or {}) do env[#env + 1] = ("env %q;"):format(k .. "=" .. v) end
  table.sort(env)
  local locations = {}
  for path, code in pairs(opts.locations or {}) do
    if type(code) == "string" then code = { lua = code } end
    locations[#locations + 1] = ("location = %s {\n %s\n content_by_lua_block {\n%s\n }\n}")
      :format(path, code.conf or "", code.lua)
  end
  table.sort(locations)
  return table.concat({
    "load_module /usr/share/nginx/modules/ndk_http_module.so;",
    "load_module /usr/share/nginx/modules/ngx_http_lua_module.so;",
    sh("id -u") == "0" and "user root;" or "",
    "worker_processes " .. (opts.workers or 1) .. ";",
    "pid " .. prefix .. "/nginx.pid;",
    "error_log " .. prefix .. "/error.log " .. (opts.log_level or "warn") .. ";",
    "worker_shutdown_timeout 2s;",
    table.concat(env, "\n"),
    "events { worker_connections " .. (opts.worker_connections or 1000) .. "; }",
    "http {",
    " access_log off;",
    " client_body_temp_path " .. prefix .. "/tmp/body;",
    " proxy_temp_path " .. prefix .. "/tmp/proxy;",
    " fastcgi_temp_path " .. prefix .. "/tmp/fastcgi;",
    " uwsgi_temp_path " .. prefix .. "/tmp/uwsgi;",
    " scgi_temp_path " .. prefix .. "/tmp/scgi;",
    (" lua_package_path %q;"):format(lpath .. ";;"),
    (" lua_package_cpath %q;"):format(cpath .. ";;"),
    " lua_socket_log_errors off;",
    " default_type text/plain;",
    opts.http or "",
    " server {",
    "  listen 127.0.0.1:" .. port .. ((opts.workers or 1) > 1 and " reuseport;" or ";"),
    opts.server or "",
    table.concat(locations, "\n"),
    " }",
    "}",
  }, "\n") .. "\n"
end

local App = {}
App.__index = App

-- Apps not yet stopped, held until stop() or the exit guard runs.
local running = {}  -- luacheck: ignore 241

function M.start(opts)
  opts = opts or {}
  local port = opts.port or mock.free_port()
  local prefix = sh("mktemp -d /tmp/homie-nginx-spec.XXXXXX")
  assert(prefix ~= "", "mktemp failed")
  sh("mkdir -p " .. shq(prefix .. "/tmp"))
  write_file(prefix .. "/nginx.conf", M.config(prefix, port, opts))
  local log = prefix .. "/launcher.log"
  -- As in mock.lua: the shell records its pid and execs the launcher, which
  -- stays our child; $PPID (this Lua process) is watched.
  local handle = assert(io.popen("echo $$ >" .. shq(prefix .. "/launcher.pid") .. "; exec "
    .. shq(M.root .. "/spec/support/run-nginx") .. " " .. shq(prefix) .. " $PPID >" .. shq(log) .. " 2>&1 </dev/null", "r"))
  local self = setmetatable({ port = port, prefix = prefix, handle = handle,
                              url = "http://127.0.0.1:" .. port }, App)
  running[self] = true
  -- Stopped when the Lua state closes, if nobody did (an error at a
  -- script's top level). Made after the popen handle, so it runs first:
  -- finalizers run in reverse order of creation, and the handle's (pclose)
  -- would wait for a launcher that only stops once this process is gone.
  self.guard = setmetatable({}, { __gc = function() pcall(App.stop, self) end })
  local deadline = socket.gettime() + 10
  while socket.gettime() < deadline do
    self.pid = self.pid or tonumber(read_file(prefix .. "/launcher.pid") or "")
    -- nginx writes its pid file after binding: the port is ours then.
    if read_file(prefix .. "/nginx.pid") then
      local c = socket.tcp()
      c:settimeout(0.2)
      local ok = c:connect("127.0.0.1", port)
      c:close()
      if ok then return self end
    end
    if self.pid and not mock.alive(self.pid) then break end
    socket.sleep(0.02)
  end
  local why = (read_file(log) or "") .. (read_file(prefix .. "/error.log") or "")
  self:stop()
  error("nginx did not start on port " .. port .. ":\n" .. why, 2)
end

function App:error_log()
  return read_file(self.prefix .. "/error.log") or ""
end

function App:stop()
  if self.stopped then return end
  self.stopped = true
  running[self] = nil
  if self.pid and mock.alive(self.pid) then
    os.execute("kill -TERM " .. self.pid .. " 2>/dev/null")
    local deadline = socket.gettime() + 10
    while mock.alive(self.pid) and socket.gettime() < deadline do socket.sleep(0.02) end
  end
  if self.handle then self.handle:close() end
  if not os.getenv("HOMIE_KEEP_PREFIX") then sh("rm -rf " .. shq(self.prefix)) end
end

-- One request on a fresh connection: status, headers (lower-case), body.
function App:request(method, path, body, headers)
  return mock.request("127.0.0.1", self.port, false, method, path, body, headers)
end

-- The decoded JSON body of a GET that must answer 200 (raises otherwise,
-- with nginx's error log, so a failing spec shows why).
function App:json(path, method, body)
  local status, _, data = self:request(method or "GET", path, body)
  if status ~= 200 then
    error(("%s -> %s: %s\n--- error.log:\n%s"):format(path, tostring(status), tostring(data),
      self:error_log():sub(-3000)), 2)
  end
  local ok, value = pcall(cjson.decode, data)
  if not ok then error(("%s: not JSON: %s"):format(path, data), 2) end
  return value
end

return M

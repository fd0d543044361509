-- TLS handshakes per 100 sends, counted by the server (`make bench`, row
-- "TLS handshakes per 100 sends"): spec/support/tls_handshakes.lua's
-- nginx, one listener TLS 1.2 only and one TLS 1.3 only, 100 sends in a
-- row (a fresh connection each, by design) through the ngx transport
-- (inside that nginx) and the curl transport (this process). Each round
-- starts a new nginx, so no session survives from the round before.
-- The server keeps a session cache, as most HTTPS servers do; a last row
-- shows the curl transport against a TLS 1.2 server that offers tickets
-- only (nginx's default: no ssl_session_cache), which it never resumes.
-- Prints rows (bench/row.lua). Usage: lua5.4 bench/tls_bench.lua [--rounds 3] [--sends 100]
require "bench.common"  -- package paths
local hs = require "spec.support.tls_handshakes"
local row = require "bench.row"

local opts = { rounds = 3, sends = 100 }
for i = 1, #arg, 2 do
  local k = arg[i]:match("^%-%-(.+)$")
  assert(k and opts[k] and tonumber(arg[i + 1]), "unknown or incomplete argument " .. tostring(arg[i]))
  opts[k] = tonumber(arg[i + 1])
end

local CASES = {
  { "ngx", "v12", "TLS 1.2" }, { "ngx", "v13", "TLS 1.3" },
  { "curl", "v12", "TLS 1.2" }, { "curl", "v13", "TLS 1.3" },
}

-- full[i], resumed[i]: per case, one figure per round (per 100 sends).
local full, resumed = {}, {}
local function run(lab, i, case)
  local f, r = lab[case[1] .. "_sends"](lab, lab[case[2]], opts.sends)
  full[i], resumed[i] = full[i] or {}, resumed[i] or {}
  table.insert(full[i], f * 100 / opts.sends)
  table.insert(resumed[i], r * 100 / opts.sends)
end

local tickets_only = #CASES + 1
for _ = 1, opts.rounds do
  local lab = hs.start{ client_protocols = "TLSv1.2 TLSv1.3", session_cache = "shared:hs:1m" }
  local ok, err = pcall(function() for i, case in ipairs(CASES) do run(lab, i, case) end end)
  lab:stop()
  if not ok then error(err, 0) end
  lab = hs.start{ client_protocols = "TLSv1.2 TLSv1.3" }
  ok, err = pcall(run, lab, tickets_only, { "curl", "v12" })
  lab:stop()
  if not ok then error(err, 0) end
end

for i, case in ipairs(CASES) do
  row{ name = ("TLS handshakes per 100 sends, %s, %s"):format(case[1], case[3]), unit = "full",
    rounds = full[i], better = "lower", target = 1,
    note = ("resumed %g, counted by the server ($ssl_session_reused)"):format(row.median(resumed[i])) }
end
row{ name = "  curl, TLS 1.2, server with tickets only", unit = "full", rounds = full[tickets_only],
  better = "lower", note = ("resumed %g: no session cache on the server, and libcurl resumed no ticket")
    :format(row.median(resumed[tickets_only])) }

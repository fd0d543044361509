-- Prometheus metrics from homie's observation records, for a shop's nginx.
--
--   lua_shared_dict homie_metrics 1m;   # http{}: shared by every worker
--   local metrics = require "metrics"
--   homie.new{ ..., observe = metrics.observe }   -- API calls, streams, ask, relays
--   location = /metrics { content_by_lua_block { require("metrics").serve() } }
--
-- Every number lives in the shared dict and changes by its atomic incr, so
-- all workers add to the same counters and a scrape sees them all. A
-- histogram is one counter per bucket, cumulative as Prometheus wants it
-- (an observation adds 1 to every bucket whose bound it does not exceed),
-- plus _sum and _count. doc/openresty.md ("Metrics") lists the series.
local M = {}

M.DICT = "homie_metrics"

-- Bucket bounds in seconds: API calls and the time to a first event or
-- chunk run from tens of milliseconds to tens of seconds.
local SECONDS = { 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30 }

-- The series, in the order /metrics shows them.
local FAMILIES = {
  { "homie_requests_total", "counter", "API call attempts by route template and status (or error kind)" },
  { "homie_request_duration_seconds", "histogram", "Seconds per API call attempt, by route template" },
  { "homie_stream_reconnects_total", "counter", "Event stream reconnects, by reason" },
  { "homie_asks_total", "counter", "ask calls, by outcome" },
  { "homie_ask_first_chunk_seconds", "histogram", "Seconds from an ask's start to the first answer chunk" },
  { "homie_active_relays", "gauge", "Relays open now, in all workers" },
  { "homie_relays_total", "counter", "Relays ended, by reason" },
  { "homie_relay_events_total", "counter", "Events relayed to browsers" },
  { "homie_relay_bytes_total", "counter", "Bytes relayed to browsers" },
  { "homie_relay_first_event_seconds", "histogram", "Seconds from a relay's start to its first event" },
}

local function dict()
  local d = ngx.shared[M.DICT]
  if not d then error("metrics: add `lua_shared_dict " .. M.DICT .. " 1m;` to http{} in nginx.conf", 2) end
  return d
end

-- A label value as the text format writes it: \, " and newline escaped.
local function label(v)
  return (tostring(v):gsub('[\\"\n]', { ["\\"] = "\\\\", ['"'] = '\\"', ["\n"] = "\\n" }))
end

-- `name{k="v",...}` from a list of label pairs (in the given order).
local function series(name, labels)
  if not labels then return name end
  local parts = {}
  for i = 1, #labels, 2 do parts[#parts + 1] = labels[i] .. '="' .. label(labels[i + 1]) .. '"' end
  return name .. "{" .. table.concat(parts, ",") .. "}"
end

local function add(name, labels, by)
  local ok, err = dict():incr(series(name, labels), by or 1, 0)
  if not ok then ngx.log(ngx.WARN, "metrics: ", name, ": ", err) end  -- e.g. the dict is full
end

local function observe_seconds(name, labels, v)
  if type(v) ~= "number" then return end
  local with_le = {}
  for i = 1, #(labels or {}) do with_le[i] = labels[i] end
  local at = #with_le + 2
  with_le[at - 1] = "le"
  for _, bound in ipairs(SECONDS) do
    if v <= bound then
      with_le[at] = bound
      add(name .. "_bucket", with_le)
    end
  end
  with_le[at] = "+Inf"
  add(name .. "_bucket", with_le)
  add(name .. "_sum", labels, v)
  add(name .. "_count", labels)
end

local ON = {}

function ON.attempt(r)
  local route = r.route or "?"
  add("homie_requests_total", { "route", route, "status", r.status or r.kind or "?" })
  observe_seconds("homie_request_duration_seconds", { "route", route }, r.duration)
end

function ON.stream(r)
  if r.phase == "reconnect" then add("homie_stream_reconnects_total", { "reason", r.reason or "?" }) end
end

function ON.ask(r)
  add("homie_asks_total", { "outcome", r.outcome or "?" })
  observe_seconds("homie_ask_first_chunk_seconds", nil, r.first_chunk)
end

function ON.relay(r)
  if r.phase == "start" then
    add("homie_active_relays", nil, 1)
    return
  end
  add("homie_active_relays", nil, -1)
  add("homie_relays_total", { "reason", r.reason or "?" })
  add("homie_relay_events_total", nil, r.events or 0)
  add("homie_relay_bytes_total", nil, r.bytes or 0)
  observe_seconds("homie_relay_first_event_seconds", nil, r.first_event)
end

--- The observe hook: give it to homie.new (and so to relay_events).
function M.observe(record)
  local on = ON[record.type]
  if on then on(record) end
end

-- Sorts a histogram's lines as the format wants: by labels, then buckets
-- by bound, then _sum, _count.
local SUFFIX_ORDER = { _bucket = 1, _sum = 2, _count = 3 }
local function sort_key(key)
  local name, labels = key:match("^([^{]+)(.*)$")
  local le = labels:match('le="([^"]*)"')
  local rest = labels:gsub(',?le="[^"]*"', ""):gsub("^{}$", "")
  local suffix = name:match("_bucket$") and "_bucket" or name:match("_sum$") and "_sum"
    or name:match("_count$") and "_count" or ""
  return rest, SUFFIX_ORDER[suffix] or 0, le == "+Inf" and math.huge or tonumber(le) or 0
end

local function before(a, b)
  local ra, sa, la = sort_key(a)
  local rb, sb, lb = sort_key(b)
  if ra ~= rb then return ra < rb end
  if sa ~= sb then return sa < sb end
  return la < lb
end

--- The text exposition of every series (Prometheus text format 0.0.4).
function M.render()
  local d = dict()
  local by_family = {}
  for _, key in ipairs(d:get_keys(0)) do
    local name = key:match("^[^{]+")
    local family = name:gsub("_bucket$", ""):gsub("_sum$", ""):gsub("_count$", "")
    by_family[family] = by_family[family] or {}
    table.insert(by_family[family], key)
  end
  local out = {}
  for _, f in ipairs(FAMILIES) do
    local name, kind, help = f[1], f[2], f[3]
    out[#out + 1] = "# HELP " .. name .. " " .. help
    out[#out + 1] = "# TYPE " .. name .. " " .. kind
    local keys = by_family[name] or {}
    if kind == "gauge" and #keys == 0 then keys = { name } end
    table.sort(keys, before)
    for _, key in ipairs(keys) do
      local v = d:get(key) or 0
      out[#out + 1] = key .. " " .. (v == math.floor(v) and ("%d"):format(v) or ("%.10g"):format(v))
    end
  end
  return table.concat(out, "\n") .. "\n"
end

--- The /metrics content handler.
function M.serve()
  ngx.header["Content-Type"] = "text/plain; version=0.0.4"
  ngx.print(M.render())
end

return M

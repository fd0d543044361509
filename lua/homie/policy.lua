--- When to try again, and how long to wait first: one policy per client,
-- for calls, stream reconnects and reconcile polling alike. The module
-- keeps no state: two clients with different policies never meet.
-- @module homie.policy
local util = require "homie.util"

local M = {}

--- The defaults of the `retry` option (`homie.new{ retry = {...} }`, or per
-- call): `base` 0.5 s, the first backoff of a call, doubled per attempt up
-- to `cap` 8 s; `server_cap` 60 s, the longest `Retry-After` honoured;
-- `stream_base` 1 s, a stream's first reconnect wait when the server named
-- no `retry:`, doubled per consecutive failure up to `stream_cap` 30 s;
-- `reconcile_wait` 10 s, how long reconcile keeps reading the history for
-- an answer whose question is already stored, polling from `poll` 0.5 s
-- doubling. Every wait but a server's is jittered (up to a quarter shorter).
-- @table DEFAULTS
M.DEFAULTS = { base = 0.5, cap = 8, server_cap = 60, stream_base = 1, stream_cap = 30,
  reconcile_wait = 10, poll = 0.5 }

local RETRY_STATUS = { [408] = true, [409] = true, [429] = true, [500] = true,
  [502] = true, [503] = true, [504] = true }
-- Statuses that say the application did not act on the request.
local NOT_PROCESSED = { [429] = true, [503] = true }

local MONTHS = { Jan = 1, Feb = 2, Mar = 3, Apr = 4, May = 5, Jun = 6, Jul = 7,
  Aug = 8, Sep = 9, Oct = 10, Nov = 11, Dec = 12 }

local Policy = {}
Policy.__index = Policy
Policy.__name = "homie.Policy"

-- Checks a `retry` option table; raises naming the field.
function M.check(t)
  t = util.check_opts("retry", t, M.DEFAULTS)
  for k, v in pairs(t) do util.check_span("retry." .. k, v) end
  return t
end

-- A policy from a checked `retry` table over `base` (a policy or nil: the
-- defaults). `random` replaces math.random (tests).
function M.new(t, base, random)
  local p = setmetatable({ random = random or (base and base.random) or math.random }, Policy)
  for k, v in pairs(M.DEFAULTS) do p[k] = base and base[k] or v end
  for k, v in pairs(t or {}) do p[k] = v end
  return p
end

-- Seconds until an IMF-fixdate ("Wed, 21 Oct 2015 07:28:00 GMT"), or nil.
local function seconds_until(date, now)
  local d, mon, y, h, mi, s = date:match("^%a+, (%d+) (%a+) (%d+) (%d+):(%d+):(%d+) GMT$")
  if not d or not MONTHS[mon] then return nil end
  local t = util.utc_seconds(tonumber(y), MONTHS[mon], tonumber(d), tonumber(h), tonumber(mi), tonumber(s))
  return math.max(0, t - (now or os.time()))
end

-- The wait the server asked for (Retry-After-Ms, Retry-After in seconds or
-- as a date), capped at `server_cap`; nil when it asked for none.
function Policy:server_wait(headers, now)
  if not headers then return nil end
  local ms = tonumber(headers["retry-after-ms"] or "")
  local wait
  if ms and ms >= 0 then wait = ms / 1000 end
  local ra = headers["retry-after"]
  if not wait and ra then
    wait = tonumber(ra:match("^%s*(%d+%.?%d*)%s*$") or "") or seconds_until(ra, now)
  end
  if wait then return math.min(wait, self.server_cap) end
  return nil
end

-- Jitter: up to a quarter shorter, never longer, so clients that failed
-- together do not come back together.
function Policy:jitter(w)
  return w * (1 - 0.25 * self.random())
end

-- A call's backoff before attempt `attempt + 1`.
function Policy:backoff(attempt)
  return self:jitter(math.min(self.base * 2 ^ (attempt - 1), self.cap))
end

-- A stream's wait before reconnecting after `failures` consecutive
-- failures: the server's last `retry:` (ms) or `stream_base`, doubled per
-- failure, capped.
function Policy:reconnect_wait(failures, retry_ms)
  local base = retry_ms and retry_ms / 1000 or self.stream_base
  return self:jitter(math.min(base * 2 ^ failures, self.stream_cap))
end

-- Statuses worth another try of a request the server may run again
-- (a read, a stream).
function M.status_retryable(status) return RETRY_STATUS[status] == true end

-- Whether the server may have acted on (stored) a request that ended with
-- this answer (`resp`, any status, or nil) or transport failure (`fail`).
-- False only when it provably did not: nothing was sent, a 429 or 503 (the
-- application never ran), or another 4xx (it refused the request). A 2xx
-- whose body could not be read, any other 5xx, and a connection that broke
-- after bytes went out may all have been stored.
function M.maybe_acted(resp, fail)
  local status = resp and resp.status
  if status then
    if NOT_PROCESSED[status] then return false end
    return status >= 500 or (status >= 200 and status <= 299)
  end
  return not fail or fail.sent ~= false
end

-- Seconds to wait before the next attempt, or nil when this failure must
-- not be retried. `resp` is the answer (any status) or nil; `fail` the
-- transport's failure (doc/transport.md). A non-idempotent call (a message
-- send, a chat creation) is retried only when the server provably did not
-- act on it.
function Policy:decide(attempt, resp, fail, idempotent)
  local status = resp and resp.status
  if status then
    if not RETRY_STATUS[status] then return nil end
    if not idempotent and not NOT_PROCESSED[status] then return nil end
    return self:server_wait(resp.headers) or self:backoff(attempt)
  end
  if not fail or (fail.kind ~= "connection" and fail.kind ~= "timeout") then return nil end
  if fail.retryable == false then return nil end  -- a bad certificate stays bad
  if not idempotent and M.maybe_acted(nil, fail) then return nil end
  return self:backoff(attempt)
end

return M

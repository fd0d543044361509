-- When to try a call again, and how long to wait first.
local util = require "homie.util"

local M = {}

M.BASE, M.CAP, M.SERVER_CAP = 0.5, 8, 60

local RETRY_STATUS = { [408] = true, [409] = true, [429] = true, [500] = true,
  [502] = true, [503] = true, [504] = true }
-- Statuses that say the application did not act on the request.
local NOT_PROCESSED = { [429] = true, [503] = true }

local MONTHS = { Jan = 1, Feb = 2, Mar = 3, Apr = 4, May = 5, Jun = 6, Jul = 7,
  Aug = 8, Sep = 9, Oct = 10, Nov = 11, Dec = 12 }

-- Seconds until an IMF-fixdate ("Wed, 21 Oct 2015 07:28:00 GMT"), or nil.
local function seconds_until(date, now)
  local d, mon, y, h, mi, s = date:match("^%a+, (%d+) (%a+) (%d+) (%d+):(%d+):(%d+) GMT$")
  if not d or not MONTHS[mon] then return nil end
  local t = util.utc_seconds(tonumber(y), MONTHS[mon], tonumber(d), tonumber(h), tonumber(mi), tonumber(s))
  return math.max(0, t - (now or os.time()))
end

-- The wait the server asked for, capped; nil when it asked for none.
function M.server_wait(headers, now)
  if not headers then return nil end
  local ms = tonumber(headers["retry-after-ms"] or "")
  local wait
  if ms and ms >= 0 then wait = ms / 1000 end
  local ra = headers["retry-after"]
  if not wait and ra then
    wait = tonumber(ra:match("^%s*(%d+%.?%d*)%s*$") or "") or seconds_until(ra, now)
  end
  if wait then return math.min(wait, M.SERVER_CAP) end
  return nil
end

-- Jitter: up to a quarter shorter, never longer, so clients that failed
-- together do not come back together.
function M.jitter(w, random)
  return w * (1 - 0.25 * (random or math.random)())
end

-- Exponential backoff with jitter: the one backoff of every call.
function M.backoff(attempt, random)
  return M.jitter(math.min(M.BASE * 2 ^ (attempt - 1), M.CAP), random)
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
function M.decide(attempt, resp, fail, idempotent)
  local status = resp and resp.status
  if status then
    if not RETRY_STATUS[status] then return nil end
    if not idempotent and not NOT_PROCESSED[status] then return nil end
    return M.server_wait(resp.headers) or M.backoff(attempt)
  end
  if not fail or (fail.kind ~= "connection" and fail.kind ~= "timeout") then return nil end
  if fail.retryable == false then return nil end  -- a bad certificate stays bad
  if not idempotent and M.maybe_acted(nil, fail) then return nil end
  return M.backoff(attempt)
end

return M

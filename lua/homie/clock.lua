-- One call's bounds on the session's clock. The caller's relative spans
-- (`timeout` per attempt, `deadline` for the whole call) become absolute
-- deadlines here, once, and every wait of the call is computed from them:
-- attempts, backoff sleeps, stream opens and reads, ask's final wait,
-- reconcile's reads and polls. Nothing else adds seconds to `now()`.
local M = {}

local Bounds = {}
Bounds.__index = Bounds

local function earliest(a, b)
  if a and b then return a < b and a or b end
  return a or b
end
M.earliest = earliest

-- `transport` gives now() and sleep(); `timeout` seconds per attempt (0 or
-- nil: none); `span` seconds for the whole call (nil: none).
function M.bounds(transport, timeout, span)
  local now = transport:now()
  return setmetatable({ t = transport, timeout = (timeout and timeout > 0) and timeout or nil,
    started_at = now, deadline_at = span and now + span or nil }, Bounds)
end

function Bounds:now() return self.t:now() end

-- When an attempt starting now must end: its timeout or the call's
-- deadline, whichever comes first.
function Bounds:attempt_at()
  return earliest(self.timeout and self.t:now() + self.timeout, self.deadline_at)
end

-- `span` seconds from now, never past the call's deadline (nil span: the
-- deadline alone).
function Bounds:within(span)
  return earliest(span and self.t:now() + span, self.deadline_at)
end

-- An absolute time, never past the call's deadline.
function Bounds:cap(at) return earliest(at, self.deadline_at) end

-- Seconds left before the deadline (nil: no deadline).
function Bounds:left()
  return self.deadline_at and math.max(0, self.deadline_at - self.t:now()) or nil
end

function Bounds:expired() return self.deadline_at ~= nil and self.t:now() >= self.deadline_at end

-- Whether a wait of `seconds` ends before the deadline, leaving time for
-- another try.
function Bounds:allows(seconds)
  return not self.deadline_at or self.t:now() + seconds < self.deadline_at
end

-- Sleeps `seconds`, never past the deadline.
function Bounds:sleep(seconds)
  local left = self:left()
  if left and left < seconds then seconds = left end
  if seconds > 0 then self.t:sleep(seconds) end
end

-- The same deadline with another per-attempt timeout (a sub-call: ask's
-- send, reconcile's reads).
function Bounds:derive(timeout)
  return setmetatable({ t = self.t, timeout = (timeout and timeout > 0) and timeout or nil,
    started_at = self.started_at, deadline_at = self.deadline_at }, Bounds)
end

return M

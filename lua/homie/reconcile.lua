-- After a message send failed in a way the server may have acted on (err.
-- maybe_stored), look in the chat's history for what it stored: the
-- shopper's question with the same text, stored since the send began, and
-- the answer after it. Homie has no idempotency keys, so the history is the
-- only record of whether a send went through. Called by send_message when
-- `reconcile` is on; it installs nothing.
--
-- The shape relied on is the emulator's (server/lua/homie_mock/messages.lua),
-- the only one published: a send stores the shopper's message as
-- { type = "question", content = the text, createdAt = whole-second UTC }
-- and then the reply (type "answer"), listed oldest first.
local message = require "homie.message"

local M = {}

-- Constants, not settings: how long to poll is the policy's (reconcile_wait,
-- poll), and the call's bounds cap every read and wait.
local PAGE_SIZE = 50    -- messages per read; the newest two pages are searched
local MAX_PAGES = 4     -- reads per look, however fast the chat grows meanwhile

-- The chat's newest messages, oldest first (the API's order): the last page
-- and the one before it, since a question and its answer may straddle two.
-- Or nil, err.
local function newest(read)
  local function page(n) return read(n, PAGE_SIZE) end
  local first, err = page(1)
  if not first then return nil, err end
  local last = math.max(1, math.floor(tonumber(first.totalPages) or 1))
  if last == 1 and not first.hasNextPage then return first.items or {} end
  local items, n = {}, math.max(1, last - 1)
  for _ = 1, MAX_PAGES do
    local p = n == 1 and first or nil
    if not p then
      p, err = page(n)
      if not p then return nil, err end
    end
    for _, m in ipairs(p.items or {}) do items[#items + 1] = m end
    if not p.hasNextPage then break end  -- messages arrived meanwhile: read on
    n = n + 1
  end
  return items
end

-- The answer stored for `text` by a send that began at `since` (os.time
-- seconds), in `items` (oldest first): the newest question with that text
-- inside the skew window (message.stored_since), then the first answer
-- after it, unless another question comes first. Returns answer, question;
-- either may be nil (a question without its answer yet).
function M.match(items, text, since, now)
  for i = #items, 1, -1 do
    local q = items[i]
    if type(q) == "table" and q.type == "question" and q.content == text
        and message.stored_since(q, since, now) then
      for j = i + 1, #items do
        local m = items[j]
        if type(m) == "table" and m.type == "question" then return nil, q end
        if message.is_answer(m) then return m, q end
      end
      return nil, q
    end
  end
  return nil, nil
end

-- The answer the server stored for a send of `text` to `chat_id` that began
-- at `since` (os.time seconds), or nil. `read(n, size)` reads page n of the
-- chat's history (bounded by the caller). When the question is stored but
-- its answer not yet (the server was still writing it when the connection
-- broke), it reads again, polling from the policy's `poll` doubling, for up
-- to its `reconcile_wait` seconds (policy `pol`), never past the bounds `b`.
function M.find_answer(session, read, chat_id, text, since, b, pol)
  local give_up_at = b:cap(session:now() + pol.reconcile_wait)
  local wait = pol.poll
  while true do
    local items, err
    if b:expired() then err = "the call's deadline passed" else items, err = newest(read) end
    if not items then
      session:log("homie: reconcile in chat %s: history unreadable (%s)", chat_id, tostring(err))
      return nil
    end
    local answer, question = M.match(items, text, since)
    if answer then
      session:log("homie: reconcile in chat %s: the failed send was stored; answer %s", chat_id, answer.id)
      return answer
    end
    if not question or session:now() + wait > give_up_at then
      session:log("homie: reconcile in chat %s: %s", chat_id,
        question and "question stored, no answer in time" or "the failed send was not stored")
      return nil
    end
    b:sleep(wait)
    wait = wait * 2
  end
end

return M

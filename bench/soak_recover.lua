-- The soak's recovery phase: sends through chat:ask and through
-- send_message{ reconcile = true } while a fifth of them meet a fault on
-- the POST, then every chat's history is read back. Each send has its own
-- text, so the history tells exactly which sends the server stored and how
-- often. Counted per way of sending: sends, messages the server stored,
-- replies the caller got, replies recovered, and "stored but lost to the
-- caller" (stored, yet the caller got an error); the target for the last
-- is 0, and no message may be stored twice. A reply must be the answer
-- stored after its question. Raises when a target is missed.
--   require("bench.soak_recover")(server, client, { sends = 200, batch = 50 })
local common = require "bench.common"

-- Faults on POST …/messages: ones the server answers instead of the
-- application (nothing stored), and ones it sends after storing.
local SEND_FAULTS = {
  { status = 503, headers = { ["retry-after-ms"] = "5" } },
  { status = 500 },
  { status = 429, headers = { ["Retry-After"] = "0" } },
  { reset = "before_headers" },
  { reset = "mid_body" },
  { truncate = true },
  { malformed = true },
  { delay_ms = 20 },
}

local WAYS = {
  { name = "ask", send = function(chat, text)
      return chat:ask(text, { currentUrl = common.PAGE, final_wait = 2 })
    end },
  { name = "send_message{reconcile}", send = function(chat, text)
      return chat:send(text, { currentUrl = common.PAGE, reconcile = true })
    end },
}

-- text -> { count = times stored, answer = the answer after it } over the
-- histories of `chats`.
local function stored_texts(chats)
  local by_text = {}
  for _, chat in ipairs(chats) do
    local items = {}
    for m, err in chat:messages{ size = 100 } do
      if not m then error("soak: history unreadable: " .. tostring(err)) end
      items[#items + 1] = m
    end
    for i, m in ipairs(items) do
      if m.type == "question" then
        local s = by_text[m.content] or { count = 0 }
        s.count = s.count + 1
        local nxt = items[i + 1]
        s.answer = nxt and nxt.type == "answer" and nxt or nil
        by_text[m.content] = s
      end
    end
  end
  return by_text
end

local function run_way(server, client, way, sends, batch)
  local chats = {}
  for i = 1, batch do chats[i] = assert(client:create_chat{ chatbotId = common.BOT }) end
  local outcomes, kinds = {}, {}
  local done = 0
  while done < sends do
    local n = math.min(batch, sends - done)
    for _ = 1, math.floor(n / 5) do
      server:fault{ method = "POST", path = "^/v1/chats/[^/]+/messages$",
        fault = SEND_FAULTS[math.random(#SEND_FAULTS)] }
    end
    local tasks = {}
    for i = 1, n do
      -- One send per chat at a time: ask's stream tells only the chat's answers apart.
      local text = ("blue hoodie in L? (%s send %d)"):format(way.name, done + i)
      tasks[i] = function() return text, way.send(chats[i], text) end
    end
    for _, r in ipairs(client:gather(tasks)) do
      outcomes[#outcomes + 1] = { text = r[1], reply = r[2], err = r[3] }
      if not r[2] then kinds[r[3].kind] = (kinds[r[3].kind] or 0) + 1 end
    end
    server:reset()  -- faults a batch left unused do not spill into the next
    done = done + n
  end

  local by_text = stored_texts(chats)
  local c = { sends = sends, stored = 0, replies = 0, recovered = 0, lost = 0, twice = 0 }
  for _, o in ipairs(outcomes) do
    local s = by_text[o.text]
    if s then
      c.stored = c.stored + 1
      if s.count > 1 then c.twice = c.twice + 1 end
    end
    if o.reply then
      c.replies = c.replies + 1
      if o.reply.recovered then c.recovered = c.recovered + 1 end
      if not (s and s.answer and s.answer.id == o.reply.id) then
        error(("soak: %s: the reply to %q is not the answer stored after it"):format(way.name, o.text))
      end
    elseif s then
      c.lost = c.lost + 1
    end
  end
  local ks = {}
  for k, v in pairs(kinds) do ks[#ks + 1] = k .. "=" .. v end
  table.sort(ks)
  print(("soak: via %s: %d sends, %d stored by the server, %d replies to the caller (%d recovered), "
    .. "%d stored but lost to the caller, %d stored twice; errors: %s")
    :format(way.name, c.sends, c.stored, c.replies, c.recovered, c.lost, c.twice,
      #ks > 0 and table.concat(ks, " ") or "none"))
  return c
end

return function(server, client, opts)
  local counts = {}
  for _, way in ipairs(WAYS) do
    local c = run_way(server, client, way, opts.sends, opts.batch)
    counts[way.name] = c
    assert(c.lost == 0, "soak: " .. way.name .. ": a stored message's reply was lost to the caller")
    assert(c.twice == 0, "soak: " .. way.name .. ": a message was stored twice")
  end
  return counts
end
